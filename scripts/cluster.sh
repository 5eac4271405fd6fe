#!/usr/bin/env bash
# Three chat nodes as one: starts redis-server, three nodes of the chat demo joined to it and
# nginx with plain round-robin in front (no sticky sessions), all on 127.0.0.1, then prints
# the URL to open. Kill a node (its PID is printed) and watch its clients move to the others
# without losing a message. Ctrl-C stops everything (by PID).
#
#   bash scripts/cluster.sh            # http://127.0.0.1:3000 (PORT to choose)
#
# Needs Debian's redis-server and nginx (installed when missing, as root).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

port="${PORT:-3000}"
missing=()
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"

cargo build --release -p ferrio --features redis --example chat
dir="$(mktemp -d /tmp/ferrio-cluster.XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM

redis_port=$((port + 379))
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >"$dir/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$redis_port") 2>/dev/null && break; sleep 0.1; done

upstream=""
for i in 1 2 3; do
  node_port=$((port + i))
  PORT="$node_port" REDIS_URL="redis://127.0.0.1:$redis_port/" \
    ./target/release/examples/chat >"$dir/node$i.log" 2>&1 &
  pids+=($!)
  echo "node $i: http://127.0.0.1:$node_port (pid $!)"
  upstream+="    server 127.0.0.1:$node_port max_fails=0;"$'\n'
done

mkdir -p "$dir/nginx"
cat >"$dir/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  # Bodies up to the payload limit stay in memory (the worker may not write the temp dir).
  client_body_buffer_size 2m;
  client_max_body_size 2m;
  client_body_temp_path $dir/nginx/body;
  proxy_temp_path $dir/nginx/proxy;
  fastcgi_temp_path $dir/nginx/fastcgi;
  uwsgi_temp_path $dir/nginx/uwsgi;
  scgi_temp_path $dir/nginx/scgi;
  map \$http_upgrade \$connection_upgrade { default upgrade; '' close; }
  upstream chat {
$upstream  }
  server {
    listen 127.0.0.1:$port;
    location / {
      proxy_pass http://chat;
      proxy_http_version 1.1;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Connection \$connection_upgrade;
      proxy_set_header Host \$host;
      proxy_buffering off;
      proxy_read_timeout 120s;
      proxy_connect_timeout 1s;
      proxy_next_upstream error timeout;
    }
  }
}
CONF
"$nginx_bin" -p "$dir/" -e "$dir/nginx-error.log" -c "$dir/nginx.conf" &
pids+=($!)
echo
echo "open http://127.0.0.1:$port (round-robin over the three nodes; logs in $dir)"
echo "kill a node with: kill -9 <pid above>; Ctrl-C stops everything"
wait
