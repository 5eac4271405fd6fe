#!/usr/bin/env bash
# Runs every check and test of ferrio: formatting, lints, Rust tests (unit, doc, end-to-end),
# docs, the sans-I/O guard of ferrio-protocol, and the JS tests with the official clients.
# Installs what the tests need (npm packages) when missing. Used as is by .ci/run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*"; }

command -v cargo >/dev/null || { echo "cargo is required (Rust toolchain)"; exit 1; }
command -v node >/dev/null || { echo "node (20+) is required"; exit 1; }

step "Debian packages for the browser and cluster tests (chromium, nginx, redis-server)"
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v redis-server >/dev/null || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "chromium: $(command -v chromium); nginx: $(command -v nginx || echo /usr/sbin/nginx); redis-server: $(command -v redis-server || echo /usr/bin/redis-server)"

step "npm packages for the JS tests"
bash scripts/npm-ci.sh tests/js client-js tests/browser

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --all-features -- -D warnings

step "layering: ferrio-protocol sans-I/O, the engine free of the Socket.IO layer"
bash scripts/check-layers.sh

step "cargo doc -D warnings"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --all-features

step "cargo test --workspace"
cargo test --workspace --all-features 2>&1 | tee target/cargo-test.log

step "fuzz targets of ferrio-protocol on stable Rust, bounded (scripts/fuzz.sh)"
bash scripts/fuzz.sh 2>&1 | tee target/fuzz.log

step "RFC 6455 framing suite (Autobahn|Testsuite cases) against the raw echo (scripts/autobahn.sh)"
bash scripts/autobahn.sh 2>&1 | tee target/autobahn.log

step "JS tests (official engine.io-client / socket.io-client against the conformance server)"
bash tests/js/run.sh 2>&1 | tee target/js-test.log

step "cluster tests (redis-server, 3 nodes, round-robin nginx; tests/cluster/run.sh)"
bash tests/cluster/run.sh 2>&1 | tee target/cluster-test.log

step "JS tests again, against 3 conformance servers joined through Redis behind round-robin nginx"
# Not chaos.test.js: its server-side bookkeeping (a per-socket log, the task sending `down`)
# lives in one process, and a client cut there comes back through any node. Not
# chat-example.test.js: Socket.IO's chat tutorial counts its users in a process-wide counter
# (as Node's does), which each node keeps for itself.
FERRIO_SERVER_CMD="node tests/cluster/serve.js" \
  FERRIO_JS_TESTS="$(ls tests/js/*.test.js | grep -v -e chaos.test.js -e chat-example.test.js | tr '\n' ' ')" \
  bash tests/js/run.sh 2>&1 | tee target/js-cluster-test.log

step "browser client: unit, vector and integration tests (node --test)"
(cd client-js && npm test) 2>&1 | tee target/client-test.log

step "browser client: bundle size"
(cd client-js && npm run --silent size) 2>&1 | tee target/client-size.log

step "browser tests (headless Chromium, nginx fallback scenarios)"
bash tests/browser/run.sh 2>&1 | tee target/browser-test.log

step "summary"
rust=$(grep -E '^test result:' target/cargo-test.log | awk '{p+=$4; f+=$6} END {printf "%d %d", p, f}')
read -r rust_pass rust_fail <<<"$rust"
echo "rust (cargo test): $rust_pass passed, $rust_fail failed"
total_pass=$rust_pass
total_fail=$rust_fail
for log in js-test cluster-test js-cluster-test client-test browser-test; do
  pass=$(grep -E '^# pass ' "target/$log.log" | awk '{s+=$3} END {print s+0}')
  fail=$(grep -E '^# fail ' "target/$log.log" | awk '{s+=$3} END {print s+0}')
  echo "$log (node --test): $pass passed, $fail failed"
  total_pass=$((total_pass + pass))
  total_fail=$((total_fail + fail))
done
cat target/client-size.log
echo "total: $total_pass passed, $total_fail failed"
