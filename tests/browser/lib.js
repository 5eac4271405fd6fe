// Shared harness of the browser tests: Debian Chromium through playwright-core, the contract
// page, real nginx reverse proxies, and the one-line timing report of every scenario.
//
// Environment (run.sh sets the first one):
//   FERRIO_URL             the conformance server, e.g. http://127.0.0.1:3111 (required)
//   FERRIO_BROWSER_CLIENT  "ferrio" (default): the bundled client at /socket.io/ferrio.js;
//                          "official": socket.io-client's browser build, copied from tests/js, to
//                          validate the harness itself (websocket and polling scenarios only)
//   CHROMIUM               the browser binary (default /usr/bin/chromium)
//   NGINX                  the nginx binary (default /usr/sbin/nginx, else nginx on PATH)

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import fsp from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, "../..");
export const OUT = path.join(ROOT, "tests/output/browser");

export const BASE = (process.env.FERRIO_URL || "").replace(/\/+$/, "");
if (!BASE) throw new Error("FERRIO_URL is not set: run tests/browser/run.sh");

export const OFFICIAL = process.env.FERRIO_BROWSER_CLIENT === "official";
const OFFICIAL_BUILD = path.join(ROOT, "tests/js/node_modules/socket.io-client/dist/socket.io.esm.min.js");
const OFFICIAL_PAGE_COPY = path.join(here, "pages/socket.io.esm.min.js");
export const CLIENT = OFFICIAL ? "/pages/socket.io.esm.min.js" : "/socket.io/ferrio.js";
/** Reason to skip a scenario that only ferrio's client can pass (false with ferrio.js). */
export const NEEDS_FERRIO = OFFICIAL && "needs ferrio's client (FERRIO_BROWSER_CLIENT=official)";

if (OFFICIAL && !fs.existsSync(OFFICIAL_PAGE_COPY)) {
  // Not committed (tests/browser/.gitignore): the official build only validates the harness.
  fs.copyFileSync(OFFICIAL_BUILD, OFFICIAL_PAGE_COPY);
}

// playwright adds --headless and a fresh temporary --user-data-dir itself.
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

/** One Chromium per test file; playwright gives it a fresh temporary --user-data-dir. */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 30_000,
  });
}

/** The contract page URL on `origin` with the query options of pages/contract.js. */
export function pageUrl(origin, { no = [], transports = [], run = "contract", keep = false } = {}) {
  const q = new URLSearchParams({ client: CLIENT, run });
  if (no.length) q.set("no", no.join(","));
  if (transports.length) q.set("transports", transports.join(","));
  if (keep) q.set("keep", "1");
  return `${origin}/pages/contract.html?${q}`;
}

/**
 * Opens a fresh context (empty storage) and page, with the page's console collected.
 * `contextOptions` go to playwright's `browser.newContext` (e.g. `{ viewport }`).
 */
export async function freshPage(browser, contextOptions = {}) {
  const context = await browser.newContext(contextOptions);
  const page = await context.newPage();
  const logs = [];
  page.on("console", (m) => logs.push(`[console.${m.type()}] ${m.text()}`));
  page.on("pageerror", (e) => logs.push(`[pageerror] ${e.message}`));
  page.on("requestfailed", (r) => logs.push(`[requestfailed] ${r.method()} ${r.url()} ${r.failure()?.errorText}`));
  page.on("websocket", (ws) => {
    ws.on("close", () => logs.push(`[websocket closed] ${ws.url()}`));
    ws.on("socketerror", (e) => logs.push(`[websocket error] ${ws.url()} ${e}`));
  });
  return { context, page, logs };
}

/** Loads `url` (or reloads when `reload`) and waits, bounded, for `window.__result.done`. */
export async function runPage(page, logs, url, { timeout = 30_000, reload = false } = {}) {
  if (reload) await page.reload({ waitUntil: "domcontentloaded", timeout: 10_000 });
  else await page.goto(url, { waitUntil: "domcontentloaded", timeout: 10_000 });
  try {
    await page.waitForFunction(() => window.__result && window.__result.done, null, { timeout, polling: 50 });
  } catch (err) {
    const partial = await page.evaluate(() => window.__result ?? null).catch(() => null);
    throw new Error(
      `the page did not finish within ${timeout} ms (${err.message.split("\n")[0]})\n` +
        `partial result: ${JSON.stringify(partial, null, 1)}\n${logs.slice(-30).join("\n")}`,
    );
  }
  return page.evaluate(() => window.__result);
}

/** Human-readable failure text: failed steps, the page error, the tail of the console. */
export function explain(result, logs) {
  const failed = (result.steps || []).filter((s) => !s.ok).map((s) => `  ✗ ${s.name}: ${s.detail}`);
  return [
    `transport ${result.transport} → ${result.finalTransport}, connect at ${result.connectMs} ms`,
    ...failed,
    result.error ? `  page error: ${result.error}` : null,
    `  negotiation: ${JSON.stringify(result.negotiation)}`,
    `  negotiation history: ${JSON.stringify(result.negotiationHistory)}`,
    `  transport events: ${JSON.stringify(result.transportEvents)}`,
    `  connect errors: ${JSON.stringify(result.connectErrors)}`,
    `  disconnects: ${JSON.stringify(result.disconnects)}`,
    `  manager events: ${JSON.stringify((result.managerEvents || []).slice(0, 20))}`,
    ...logs.slice(-20).map((l) => `  ${l}`),
  ]
    .filter(Boolean)
    .join("\n");
}

/** Every ladder step the client recorded, over all its (re)connection attempts. */
export function allSteps(result) {
  return [...(result.negotiationHistory || []).flat(), ...(result.negotiation || [])];
}

export function assertAllSteps(result, logs) {
  assert.ok(result.ok, `contract failed:\n${explain(result, logs)}`);
}

export function assertLanded(result, logs, transport) {
  assert.equal(result.transport, transport, `landed on ${result.transport}, expected ${transport}:\n${explain(result, logs)}`);
}

/** Prints `fallback <scenario> <transport> <ms>` and appends it to tests/output/browser. */
export function report(scenario, result, extra = {}) {
  const ms = result.connectMs == null ? null : Math.round(result.connectMs);
  const line = ["fallback", scenario, result.transport, ms];
  if (result.finalTransport && result.finalTransport !== result.transport) line.push(`final=${result.finalTransport}`);
  for (const [k, v] of Object.entries(extra)) line.push(`${k}=${v}`);
  console.log(...line);
  try {
    fs.mkdirSync(OUT, { recursive: true });
    fs.appendFileSync(
      path.join(OUT, "fallback.jsonl"),
      `${JSON.stringify({ at: new Date().toISOString(), client: CLIENT, scenario, transport: result.transport, finalTransport: result.finalTransport, connectMs: ms, negotiation: result.negotiation, negotiationHistory: result.negotiationHistory, ...extra })}\n`,
    );
  } catch {
    // the report line above is what matters
  }
}

/** Saves a PNG of `page` as tests/output/browser/`name`; `fullPage: false` keeps the viewport. */
export async function screenshot(page, name, { fullPage = true } = {}) {
  await fsp.mkdir(OUT, { recursive: true });
  const file = path.join(OUT, name);
  await page.screenshot({ path: file, fullPage, timeout: 10_000 });
  return file;
}

// ---- nginx --------------------------------------------------------------------------------

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

function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

function nginxBinary() {
  if (process.env.NGINX) return process.env.NGINX;
  return fs.existsSync("/usr/sbin/nginx") ? "/usr/sbin/nginx" : "nginx";
}

/** The proxy profiles of the scenarios: the body of each `location /`. */
/**
 * Starts a child process that the tests stop by PID: `stop()` sends SIGTERM (SIGKILL after 3 s);
 * if this test process exits first, the child gets SIGKILL. Its output is collected in `output`.
 */
export function startChild(bin, args, options = {}) {
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"], ...options });
  const proc = { child, output: "", exited: null };
  const collect = (d) => (proc.output += d);
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);
  proc.exit = new Promise((resolve) => child.on("exit", (code, signal) => resolve((proc.exited = { code, signal }))));
  const killOnExit = () => {
    if (!proc.exited) process.kill(child.pid, "SIGKILL");
  };
  process.once("exit", killOnExit);
  proc.stop = async () => {
    process.removeListener("exit", killOnExit);
    if (!proc.exited) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => !proc.exited && child.kill("SIGKILL"), 3000);
      await proc.exit;
      clearTimeout(timer);
    }
  };
  return proc;
}

export const PROXIES = {
  // nginx's defaults (HTTP/1.0 to the upstream, proxy_buffering on but X-Accel-Buffering
  // honoured) and no Upgrade/Connection headers: a WebSocket handshake arrives as a plain GET.
  noUpgrade: "",
  // The same, and it buffers whatever the server asks: SSE bytes stay in nginx.
  buffering: "proxy_buffering on;\n      proxy_ignore_headers X-Accel-Buffering;",
  // The textbook WebSocket proxy: control scenario, websocket works through it.
  websocket:
    'proxy_http_version 1.1;\n      proxy_set_header Upgrade $http_upgrade;\n      proxy_set_header Connection "upgrade";',
};

/**
 * Starts one real nginx (`daemon off;`, its own prefix, pid, logs and temp paths under a new
 * temporary directory) with one 127.0.0.1 server per entry of `profiles`, each proxying to
 * `upstream`. Returns `{ urls: {name: origin}, stop(), errorLog() }`; stop() ends it by PID.
 */
export async function startNginx(upstream, profiles) {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), "ferrio-nginx-"));
  const up = new URL(upstream);
  const urls = {};
  const servers = [];
  for (const [name, body] of Object.entries(profiles)) {
    const port = await freePort();
    urls[name] = `http://127.0.0.1:${port}`;
    servers.push(`  # ${name}
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://${up.host};
      proxy_read_timeout 60s;
      ${body}
    }
  }`);
  }
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  const conf = `# generated by tests/browser/lib.js
daemon off;
master_process on;
worker_processes 1;
${isRoot ? "user root;" : ""}
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 512; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  types { text/html html; text/javascript js; text/css css; }
${servers.join("\n")}
}
`;
  await fsp.writeFile(path.join(dir, "nginx.conf"), conf);
  const proc = startChild(nginxBinary(), ["-p", `${dir}/`, "-e", `${dir}/error.log`, "-c", `${dir}/nginx.conf`]);
  const errorLog = () => {
    try {
      return fs.readFileSync(path.join(dir, "error.log"), "utf8");
    } catch {
      return "";
    }
  };
  const stop = async () => {
    await proc.stop(); // SIGTERM: nginx's fast shutdown of the master and its worker
    await fsp.rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 5000;
  for (;;) {
    const ready = await Promise.all(Object.values(urls).map((u) => canConnect(Number(new URL(u).port))));
    if (ready.every(Boolean)) break;
    if (proc.exited || Date.now() > deadline) {
      const log = errorLog();
      await stop();
      throw new Error(`nginx did not start (${JSON.stringify(proc.exited)}):\n${proc.output}\n${log}\n${conf}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { urls, stop, errorLog, dir, pid: proc.child.pid };
}
