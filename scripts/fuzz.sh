#!/usr/bin/env bash
# Runs the fuzz targets of ferrio-protocol (protocol/fuzz/) for a bounded time.
#
#   bash scripts/fuzz.sh [SECONDS]              the test command's step (stable Rust)
#   bash scripts/fuzz.sh --libfuzzer [SECONDS]  cargo fuzz, coverage guided (long runs by hand)
#
# Default: the stable runner (protocol/tests/fuzz/), which feeds the SAME target bodies
# (protocol/fuzz/src/lib.rs) with the seed corpus, mutations of it and generated inputs. All
# targets run at once, one thread each, for SECONDS of wall time (default: $FERRIO_FUZZ_SECONDS,
# else 10); it fails on the first panic, with the shrunk input. It is built like cargo fuzz
# builds (optimized, with debug assertions and overflow checks) in a profile of its own, so
# nothing else gets rebuilt. Set FERRIO_FUZZ_SEED to replay a run.
#
# --libfuzzer: `cargo fuzz run` on each target in turn for SECONDS each (default 60), starting
# from protocol/fuzz/corpus/<target> (git-ignored, grows) and the seeds. Needs cargo-fuzz
# (`cargo install cargo-fuzz`) and a nightly toolchain; without nightly it tries
# RUSTC_BOOTSTRAP=1 on stable. Not part of the test command: the install and the sanitizer
# build take minutes, and CI has no nightly.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ "${1:-}" = "--libfuzzer" ]; then
  seconds="${2:-60}"
  cargo fuzz --version >/dev/null 2>&1 || { echo "cargo-fuzz is not installed (cargo install cargo-fuzz)"; exit 1; }
  if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    fuzz=(cargo +nightly fuzz)
  else
    echo "no nightly toolchain: trying RUSTC_BOOTSTRAP=1 on stable"
    export RUSTC_BOOTSTRAP=1
    fuzz=(cargo fuzz)
  fi
  cd protocol/fuzz
  for target in $(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v '^ferrio-protocol-fuzz$'); do
    mkdir -p "corpus/$target"
    "${fuzz[@]}" run "$target" "corpus/$target" "seeds/$target" -- -max_total_time="$seconds"
  done
  exit 0
fi

export FERRIO_FUZZ_SECONDS="${1:-${FERRIO_FUZZ_SECONDS:-10}}"
start=$(date +%s)
cargo \
  --config 'profile.fuzz.inherits="release"' \
  --config 'profile.fuzz.debug-assertions=true' \
  --config 'profile.fuzz.overflow-checks=true' \
  test --profile fuzz -p ferrio-protocol --test fuzz -- --nocapture
echo "fuzz step: $(($(date +%s) - start)) s (build included), ${FERRIO_FUZZ_SECONDS} s of fuzzing"
