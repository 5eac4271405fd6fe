// The cluster of the tests: one redis-server, N conformance servers joined to it
// (REDIS_URL), and one nginx in front of them with plain round-robin (no ip_hash, no sticky
// cookie). Every service is a child process on a free 127.0.0.1 port, stopped by PID.
//
// Environment: CONFORMANCE (the binary, default target/debug/conformance), REDIS_SERVER
// (default redis-server on PATH), NGINX (default /usr/sbin/nginx, else nginx on PATH).

import { spawn } from "node:child_process";
import fs from "node:fs";
import fsp from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, "../..");

/** A free TCP port on 127.0.0.1 (bound, then released). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function listening(port) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: "127.0.0.1", port });
    sock.once("connect", () => (sock.destroy(), resolve(true)));
    sock.once("error", () => resolve(false));
  });
}

/** Waits until `cond()` (maybe async) holds; throws after `ms`. */
export async function until(cond, what, ms = 10_000, step = 10) {
  const t0 = Date.now();
  for (;;) {
    if (await cond()) return Date.now() - t0;
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, step));
  }
}

/** A child process with its output kept, stopped by PID. */
function child(cmd, args, env = {}) {
  const proc = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const out = [];
  const log = process.env.CLUSTER_LOG ? fs.createWriteStream(process.env.CLUSTER_LOG, { flags: "a" }) : null;
  const keep = (d) => {
    log?.write(`[${path.basename(cmd)} ${proc.pid}] ${d}`);
    out.push(d.toString());
    if (out.length > 400) out.splice(0, 100);
  };
  proc.stdout.on("data", keep);
  proc.stderr.on("data", keep);
  const exited = new Promise((resolve) => proc.once("exit", (code, signal) => resolve({ code, signal })));
  return {
    proc,
    pid: proc.pid,
    exited,
    output: () => out.join(""),
    signal: (sig) => {
      try {
        process.kill(proc.pid, sig);
      } catch {}
    },
    async stop(sig = "SIGTERM") {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      try {
        process.kill(proc.pid, "SIGCONT");
      } catch {}
      try {
        process.kill(proc.pid, sig);
      } catch {}
      const done = await Promise.race([exited, new Promise((r) => setTimeout(() => r(null), 3000))]);
      if (!done) {
        try {
          process.kill(proc.pid, "SIGKILL");
        } catch {}
        await exited;
      }
    },
  };
}

function which(name, fallbacks) {
  for (const f of fallbacks) if (fs.existsSync(f)) return f;
  return name;
}

/** Starts redis-server on `port` (no persistence): `{ port, url, stop(), kill() }`. */
export async function startRedis(port) {
  port ??= await freePort();
  const bin = process.env.REDIS_SERVER || which("redis-server", ["/usr/bin/redis-server"]);
  const proc = child(bin, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no"]);
  await until(() => listening(port), `redis-server on ${port}\n${proc.output()}`, 10_000);
  return { port, url: `redis://127.0.0.1:${port}/`, proc, stop: () => proc.stop(), kill: () => proc.stop("SIGKILL") };
}

/** Sends one command to redis-server on `port`; resolves to the first line of its reply. */
export function redisCommand(port, ...args) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: "127.0.0.1", port });
    const body = `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join("");
    let reply = "";
    sock.once("error", reject);
    sock.on("data", (d) => {
      reply += d.toString();
      if (reply.includes("\r\n")) {
        sock.destroy();
        resolve(reply.split("\r\n")[0]);
      }
    });
    sock.write(body);
  });
}

/** Starts one conformance node on `port` joined to `redisUrl`. */
export async function startNode(redisUrl, port, prefix) {
  port ??= await freePort();
  const bin = process.env.CONFORMANCE || path.join(ROOT, "target/debug/conformance");
  const proc = child(bin, [], { PORT: String(port), REDIS_URL: redisUrl, CLUSTER_PREFIX: prefix, RUST_LOG: "warn" });
  await until(async () => (await listening(port)) || proc.proc.exitCode !== null, `node on ${port}`, 20_000);
  if (proc.proc.exitCode !== null) throw new Error(`node on ${port} exited:\n${proc.output()}`);
  return { port, url: `http://127.0.0.1:${port}`, proc };
}

/** Starts nginx with round-robin over `ports`: `{ port, url, stop() }`. */
export async function startNginx(ports, port) {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), "ferrio-cluster-nginx-"));
  port ??= await freePort();
  const servers = ports.map((p) => `    server 127.0.0.1:${p} max_fails=0;`).join("\n");
  const conf = `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 2048; }
http {
  access_log off;
  # Bodies up to the payload limit stay in memory (the worker may not write the temp dir).
  client_body_buffer_size 2m;
  client_max_body_size 2m;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  upstream ferrio {
${servers}
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://ferrio;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_buffering off;
      proxy_read_timeout 60s;
      proxy_connect_timeout 1s;
      proxy_next_upstream error timeout;
    }
  }
}
`;
  await fsp.writeFile(path.join(dir, "nginx.conf"), conf);
  const bin = process.env.NGINX || which("nginx", ["/usr/sbin/nginx"]);
  const proc = child(bin, ["-p", `${dir}/`, "-e", `${dir}/error.log`, "-c", `${dir}/nginx.conf`]);
  await until(async () => (await listening(port)) || proc.proc.exitCode !== null, "nginx", 10_000);
  if (proc.proc.exitCode !== null) throw new Error(`nginx exited:\n${proc.output()}`);
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      await proc.stop();
      await fsp.rm(dir, { recursive: true, force: true });
    },
  };
}

/** redis-server, `n` nodes and nginx (on `port`, else a free one). `stop()` ends them all by PID. */
export async function startCluster(n = 3, port = undefined) {
  const prefix = `t${process.pid}`;
  const redis = await startRedis();
  const nodes = [];
  for (let i = 0; i < n; i++) nodes.push(await startNode(redis.url, undefined, prefix));
  const nginx = await startNginx(nodes.map((x) => x.port), port);
  const cluster = {
    redis,
    nodes,
    nginx,
    url: nginx.url,
    prefix,
    /** Starts node `i` again on its port (after a kill). */
    async restartNode(i) {
      await nodes[i].proc.stop("SIGKILL");
      nodes[i] = await startNode(cluster.redis.url, nodes[i].port, prefix);
    },
    /** Kills redis-server (SIGKILL) and starts it again on the same port once `between` ran. */
    async restartRedis(between = async () => {}) {
      await cluster.redis.kill();
      await between();
      cluster.redis = await startRedis(cluster.redis.port);
    },
    async stop() {
      await nginx.stop();
      for (const node of nodes) await node.proc.stop();
      await cluster.redis.stop();
    },
  };
  return cluster;
}
