#!/usr/bin/env bash
# The RFC 6455 framing suite (the Autobahn|Testsuite's cases, run by kosoku from PyPI) against
# the raw WebSocket echo `GET /autobahn` of the conformance server. A step of scripts/test.sh.
#
#   bash scripts/autobahn.sh            run, check, write target/autobahn/results.md
#   bash scripts/autobahn.sh --record   the same, then copy the summary to tests/autobahn/results.md
#
# Installs the pinned suite (tests/autobahn/requirements.txt, with its hash) into
# target/autobahn/site with pip --target (nothing system-wide), builds and starts the conformance
# server on a free port, runs every case (about 10-20 s; at most 240 s, then it fails) and fails
# on any outcome that is not OK unless tests/autobahn/allowed.json explains it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

record=0
if [ "${1:-}" = "--record" ]; then record=1; fi

command -v python3 >/dev/null || { echo "python3 (3.10+) is required"; exit 1; }
start=$(date +%s)
out=target/autobahn
site="$out/site"
mkdir -p "$out"
if ! cmp -s tests/autobahn/requirements.txt "$site/.requirements.txt" 2>/dev/null; then
  rm -rf "$site"
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-input --no-deps \
    --target "$site" --require-hashes -r tests/autobahn/requirements.txt
  cp tests/autobahn/requirements.txt "$site/.requirements.txt"
fi
echo "suite: $(sed -n 's/^\(kosoku==[^ ]*\).*/\1/p' tests/autobahn/requirements.txt), installed in $site"

cargo build --quiet -p ferrio-tests --bin conformance
PORT=0 target/debug/conformance >"$out/server.log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true' EXIT
address=""
for _ in $(seq 1 100); do
  address=$(sed -n 's|^conformance server listening on http://||p' "$out/server.log")
  if [ -n "$address" ]; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "the conformance server exited:"; cat "$out/server.log"; exit 1
  fi
  sleep 0.1
done
[ -n "$address" ] || { echo "the conformance server did not listen within 10 s"; exit 1; }

status=0
PYTHONPATH="$site" timeout 300 python3 -B tests/autobahn/run.py "ws://$address/autobahn" \
  --results "$out/results.md" --timeout 240 || status=$?

if [ "$status" -eq 0 ] && [ "$record" -eq 1 ]; then
  cp "$out/results.md" tests/autobahn/results.md
  echo "recorded in tests/autobahn/results.md"
elif [ "$status" -eq 0 ]; then
  outcomes() { sed -n '/^## Outcomes/,/^## By category/p' "$1"; }
  if [ "$(outcomes "$out/results.md")" != "$(outcomes tests/autobahn/results.md 2>/dev/null)" ]; then
    echo "note: the outcome counts differ from tests/autobahn/results.md (all of them explained);"
    echo "      bash scripts/autobahn.sh --record updates it"
  fi
fi
echo "autobahn step: $(($(date +%s) - start)) s"
exit "$status"
