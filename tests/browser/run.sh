#!/usr/bin/env bash
# Runs ferrio's browser tests (tests/browser/*.test.js, node --test + playwright-core) in
# headless Debian Chromium against the conformance server, directly and behind real nginx
# reverse proxies that the tests start themselves on 127.0.0.1.
#
#   bash tests/browser/run.sh                     # the bundled client, /socket.io/ferrio.js
#   FERRIO_BROWSER_CLIENT=official bash tests/browser/run.sh
#                                                 # validate the harness with socket.io-client's
#                                                 # browser build (needs tests/js/node_modules)
#   FERRIO_BROWSER_TESTS="tests/browser/proxy.test.js" bash tests/browser/run.sh
#
# Installs Debian's chromium and nginx when missing, runs `npm ci` when node_modules is missing or stale,
# builds and starts the conformance server on a free port (PORT to choose it) and stops it by
# PID on exit. Every step is bounded in time. Output (screenshots, fallback timings):
# tests/output/browser/.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi
}

# --- system packages: Debian's Chromium and nginx ------------------------------------------
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "run.sh: installing ${missing[*]} (Debian packages)" >&2
  as_root timeout 300 apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive timeout 900 \
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# --- playwright-core (no browser download: it drives /usr/bin/chromium) --------------------
bash "$root/scripts/npm-ci.sh" "$here"

if [ "${FERRIO_BROWSER_CLIENT:-ferrio}" = "official" ] &&
  [ ! -f "$root/tests/js/node_modules/socket.io-client/dist/socket.io.esm.min.js" ]; then
  (cd "$root/tests/js" && timeout 300 npm ci --no-audit --no-fund)
fi

# --- the conformance server ----------------------------------------------------------------
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if [ -n "${PORT:-}" ]; then
  port="$PORT"
else
  port=3211
  while port_busy "$port" && [ "$port" -lt 3299 ]; do port=$((port + 1)); done
fi
if port_busy "$port"; then
  echo "run.sh: port $port is already in use" >&2
  exit 1
fi

(cd "$root" && timeout 900 cargo build -q -p ferrio-tests --bin conformance)

cd "$root"
PORT="$port" "$root/target/debug/conformance" >"${TMPDIR:-/tmp}/ferrio-browser-server.$$.log" 2>&1 &
server_pid=$!
cleanup() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  rm -f "${TMPDIR:-/tmp}/ferrio-browser-server.$$.log"
}
trap cleanup EXIT

for _ in $(seq 1 100); do
  port_busy "$port" && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "run.sh: the conformance server exited before listening:" >&2
    cat "${TMPDIR:-/tmp}/ferrio-browser-server.$$.log" >&2
    exit 1
  fi
  sleep 0.1
done
if ! port_busy "$port"; then
  echo "run.sh: nothing listens on 127.0.0.1:$port after 10 s" >&2
  exit 1
fi

url="http://127.0.0.1:$port"
if [ "${FERRIO_BROWSER_CLIENT:-ferrio}" != "official" ]; then
  code="$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$url/socket.io/ferrio.js" || true)"
  if [ "$code" != "200" ]; then
    echo "run.sh: $url/socket.io/ferrio.js answers $code: the bundled client (client-js/src/index.js) is missing." >&2
    echo "run.sh: FERRIO_BROWSER_CLIENT=official validates the harness with socket.io-client meanwhile." >&2
    exit 1
  fi
fi

if [ -n "${FERRIO_BROWSER_TESTS:-}" ]; then
  read -r -a test_files <<<"$FERRIO_BROWSER_TESTS"
else
  test_files=("$here"/*.test.js)
fi

mkdir -p "$root/tests/output/browser"
rm -f "$root/tests/output/browser/fallback.jsonl"

# One test file at a time: each launches its own Chromium, and the machine has 2 cores.
status=0
FERRIO_URL="$url" timeout 300 node --test --test-concurrency=1 "${test_files[@]}" || status=$?
exit "$status"
