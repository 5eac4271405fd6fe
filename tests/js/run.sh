#!/usr/bin/env bash
# Runs the JS end-to-end tests (tests/js/*.test.js, node --test) against ferrio's conformance
# server, or against another server command given in FERRIO_SERVER_CMD, e.g. the reference:
#   FERRIO_SERVER_CMD="node tests/js/reference/engine-server.js" \
#     FERRIO_JS_TESTS=tests/js/engine-client.test.js bash tests/js/run.sh
# reference/socketio-server.js serves both /engine.io/ and /socket.io/, like the conformance
# server, so it stands in for it in every test file:
#   FERRIO_SERVER_CMD="node tests/js/reference/socketio-server.js" bash tests/js/run.sh
# The server is started on PORT (default: the first free port from 3111) and stopped on exit.
# wire-edges.test.js also runs against reference/socketio-server.js when ferrio is under test.
# The tests get its URL as FERRIO_URL; the Socket.IO tests use FERRIO_SIO_URL instead when it is
# set (to point them at a server of your own while the rest runs against this one).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# PORT if given, else the first free port from 3111 on.
if [ -n "${PORT:-}" ]; then
  port="$PORT"
else
  port=3111
  while port_busy "$port" && [ "$port" -lt 3160 ]; do port=$((port + 1)); done
fi

bash "$root/scripts/npm-ci.sh" "$here"

if [ -z "${FERRIO_SERVER_CMD:-}" ]; then
  (cd "$root" && cargo build -p ferrio-tests --bin conformance)
  server_cmd="$root/target/debug/conformance"
else
  server_cmd="$FERRIO_SERVER_CMD"
fi

if port_busy "$port"; then
  echo "run.sh: port $port is already in use" >&2
  exit 1
fi

cd "$root"
pids=()
trap 'for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done' EXIT

# Starts `$1` (a command) with PORT=$2 and waits until it listens; its PID goes to `pids`.
start_server() {
  PORT="$2" bash -c "exec $1" &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 1 100); do
    if port_busy "$2"; then
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "run.sh: the server ($1) exited before listening" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "run.sh: nothing listens on 127.0.0.1:$2 after 10 s" >&2
  exit 1
}

start_server "$server_cmd" "$port"

# FERRIO_JS_TESTS narrows the run (paths relative to the repository root), e.g. to the
# engine.io-client tests alone when the server is the engine.io reference.
if [ -n "${FERRIO_JS_TESTS:-}" ]; then
  read -r -a test_files <<<"$FERRIO_JS_TESTS"
else
  test_files=("$here"/*.test.js)
fi

status=0
# One file at a time: the load tests (hundreds of clients against a 300 ms heartbeat) must not
# compete for the CPU with another file's tests.
FERRIO_URL="http://127.0.0.1:$port" node --test --test-concurrency=1 "${test_files[@]}" || status=$?

# The wire edges (wire-edges.test.js) must hold on the reference Node server as they do on
# ferrio, so that the two cannot drift apart: when ferrio is under test and the file is in the
# run, it runs against reference/socketio-server.js too, on the next free port.
if [ -z "${FERRIO_SERVER_CMD:-}" ]; then
  for file in "${test_files[@]}"; do
    if [ "$(basename "$file")" = wire-edges.test.js ]; then
      ref_port=$((port + 1))
      while port_busy "$ref_port" && [ "$ref_port" -lt $((port + 50)) ]; do ref_port=$((ref_port + 1)); done
      start_server "node $here/reference/socketio-server.js" "$ref_port"
      echo "run.sh: wire-edges.test.js against the reference server (port $ref_port)"
      FERRIO_URL="http://127.0.0.1:$ref_port" node --test "$file" || status=$?
    fi
  done
fi
exit "$status"
