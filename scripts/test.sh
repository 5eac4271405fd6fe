#!/usr/bin/env bash
# Runs every check and test of ferrio: formatting, lints, Rust tests (unit, doc, end-to-end),
# docs, the sans-I/O guard of ferrio-protocol, and the JS tests with the official clients.
# Installs what the tests need (npm packages) when missing. Used as is by .ci/run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*"; }

command -v cargo >/dev/null || { echo "cargo is required (Rust toolchain)"; exit 1; }
command -v node >/dev/null || { echo "node (20+) is required"; exit 1; }

step "npm packages for the JS tests"
if [ ! -d tests/js/node_modules ]; then
  (cd tests/js && npm ci --no-audit --no-fund)
fi

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "ferrio-protocol stays sans-I/O"
if cargo tree -p ferrio-protocol -e normal --prefix none | grep -iE '^(tokio|hyper|http|http-body|tower|tower-service|axum) '; then
  echo "ferrio-protocol depends on an I/O crate (listed above)"
  exit 1
fi
echo "no tokio/hyper/http/tower/axum in ferrio-protocol's dependency tree"

step "cargo doc -D warnings"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps

step "cargo test --workspace"
cargo test --workspace 2>&1 | tee target/cargo-test.log

step "JS tests (official engine.io-client / socket.io-client against the conformance server)"
bash tests/js/run.sh 2>&1 | tee target/js-test.log

step "summary"
grep -E '^test result:' target/cargo-test.log | awk '{p+=$4; f+=$6} END {printf "rust: %d passed, %d failed\n", p, f}'
grep -E '^# (pass|fail) ' target/js-test.log | tr '\n' ' '; echo
