#!/usr/bin/env bash
# Runs the cluster tests (tests/cluster/*.test.js, node --test): redis-server, 3 conformance
# servers joined to it and nginx with plain round-robin in front, all started by the tests
# as child processes on free 127.0.0.1 ports and stopped by PID. Installs Debian's
# redis-server and nginx when missing and the npm packages the clients need.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi
}

missing=()
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "run.sh: installing ${missing[*]} (Debian packages)" >&2
  as_root timeout 300 apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive timeout 900 \
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The Debian package starts a system redis-server on 6379; the tests use their own.

for dir in tests/js client-js; do
  if [ ! -d "$root/$dir/node_modules" ]; then
    (cd "$root/$dir" && timeout 300 npm ci --no-audit --no-fund)
  fi
done

(cd "$root" && cargo build -p ferrio-tests --bin conformance)

cd "$root"
timeout 300 node --test --test-concurrency=1 "${FERRIO_CLUSTER_TESTS:-$here/cluster.test.js}"
