// The official Socket.IO Admin UI (the @socket.io/admin-ui npm package's ui/dist, unchanged)
// against ferrio, in headless Chromium: the UI logs in to the admin namespace of the admin UI
// test server (tests/src/admin_ui.rs: `io.admin_ui(...)` with user "admin" and a password
// given at start-up), lists ferrio's test clients — one per transport (websocket, polling,
// ferrio's streaming) on `/`, one on `/chat` — with their transports and rooms, and
// disconnects one of them with its button; the test checks that the client was told ("io
// server disconnect"), that the server no longer has its socket, and that the UI dropped it.
// Screenshots: tests/output/browser/admin-ui-sockets.png (the list, before),
// admin-ui-rooms.png, admin-ui-socket.png (the polling client's page), and
// admin-ui-after-disconnect.png.
//
// The test builds the server (`cargo build -p ferrio-tests --bin admin-ui`, debug), starts it on
// a free 127.0.0.1 port and stops it by PID. FERRIO_ADMIN_UI_BIN=<binary> skips the build.
// The UI asks for fonts and icons from CDNs: every request off 127.0.0.1 is answered from
// the @mdi/font package (the icons) or refused (the text font), so nothing leaves the machine.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { CLIENT, ROOT, freePort, freshPage, launchBrowser, screenshot, startChild } from "./lib.js";

const BUILD_MS = 240_000;
const START_MS = 15_000;
const WAIT_MS = 15_000;
const VIEWPORT = { width: 1440, height: 900 };
const UI_DIST = path.join(ROOT, "tests/browser/node_modules/@socket.io/admin-ui/ui/dist");
const MDI = path.join(ROOT, "tests/browser/node_modules/@mdi/font");
// The labels of the UI's transport chips (its Transport.vue; other names are shown as is).
const LABELS = { websocket: "WebSocket", polling: "HTTP long-polling", streaming: "streaming" };

/** Runs `cmd args` in the repository, bounded by `ms`; rejects with its output on failure. */
function run(cmd, args, ms) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), ms);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`${cmd} ${args.join(" ")} failed (${code ?? signal}, bound ${ms} ms):\n${output}`));
    });
  });
}

/** Builds `build` (cargo arguments) unless `bin` is given, and starts it with `env` on a free
 * port; resolves once it printed `pattern` (whose first group is the URL). */
async function start({ bin, build, built, env, pattern }) {
  if (!bin) {
    await run("cargo", ["build", "-q", ...build], BUILD_MS);
    bin = path.join(process.env.CARGO_TARGET_DIR || path.join(ROOT, "target"), built);
  }
  const port = await freePort();
  const proc = startChild(bin, [], { cwd: ROOT, env: { ...process.env, ...env, PORT: String(port) } });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${bin} printed no URL within ${START_MS} ms:\n${proc.output}`)), START_MS);
    proc.child.stdout.on("data", () => {
      const m = pattern.exec(proc.output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.exit.then((e) => {
      clearTimeout(timer);
      reject(new Error(`${bin} exited (${JSON.stringify(e)}) before listening:\n${proc.output}`));
    });
  }).catch(async (err) => {
    await proc.stop();
    throw err;
  });
  assert.equal(url, `http://127.0.0.1:${port}`);
  return { url, stop: proc.stop, output: () => proc.output };
}

/** Builds (unless FERRIO_ADMIN_UI_BIN) and starts the admin UI test server. */
function startServer(password) {
  return start({
    bin: process.env.FERRIO_ADMIN_UI_BIN,
    build: ["-p", "ferrio-tests", "--bin", "admin-ui"],
    built: "debug/admin-ui",
    env: { ADMIN_PASSWORD: password, ADMIN_UI_DIST: UI_DIST },
    pattern: /listening on (http:\/\/127\.0\.0\.1:\d+)/,
  });
}

/** Builds (unless FERRIO_CHAT_BIN) and starts the chat demo with ADMIN_UI=1. */
function startDemo() {
  return start({
    bin: process.env.FERRIO_CHAT_BIN,
    build: ["-p", "ferrio", "--example", "chat"],
    built: "debug/examples/chat",
    env: { ADMIN_UI: "1", ADMIN_PASSWORD: "", ADMIN_UI_DIST: UI_DIST },
    pattern: /ferrio chat demo: open (http:\/\/127\.0\.0\.1:\d+)/,
  });
}

/** Logs the UI of `page` in to `server` (the connection modal's fields). */
async function logIn(page, server, password) {
  const dialog = page.locator(".v-dialog--active"); // Vuetify's dialog has no ARIA role
  await dialog.getByLabel("Server URL").fill(server, { timeout: WAIT_MS });
  await dialog.getByLabel("Username").fill("admin");
  await dialog.getByLabel("Password").fill(password);
  await dialog.getByRole("button", { name: "Connect" }).click();
  return dialog;
}

/** Serves the CDN requests of the UI from @mdi/font, refuses every other non-local one. */
async function keepLocal(context) {
  await context.route(
    (url) => url.hostname !== "127.0.0.1",
    async (route) => {
      const url = new URL(route.request().url());
      const mdi = /\/@mdi\/font@[^/]+\/(css|fonts)\/([\w.-]+)$/.exec(url.pathname);
      const file = mdi && path.join(MDI, mdi[1], mdi[2]);
      if (file && fs.existsSync(file)) {
        const type = { css: "text/css", woff2: "font/woff2", woff: "font/woff", ttf: "font/ttf", eot: "application/vnd.ms-fontobject" };
        await route.fulfill({ body: fs.readFileSync(file), contentType: type[path.extname(file).slice(1)] });
      } else {
        await route.abort("blockedbyclient");
      }
    },
  );
}

/** Waits until the page's CSS transitions and animations (the UI slides pages in) are over. */
async function settled(page) {
  await page.waitForFunction(() => document.getAnimations().every((a) => a.playState !== "running"), null, {
    timeout: WAIT_MS,
    polling: 50,
  });
}

describe("the official Socket.IO Admin UI against ferrio", { timeout: BUILD_MS + 120_000 }, () => {
  const password = randomBytes(9).toString("base64url");
  let server;
  let browser;

  before(async () => {
    assert.ok(fs.existsSync(path.join(UI_DIST, "index.html")), `no admin UI in ${UI_DIST} (npm ci in tests/browser)`);
    server = await startServer(password);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("logs in, lists the clients with their transports and rooms, disconnects one", async () => {
    const sockets = async () => (await fetch(`${server.url}/admin-test/sockets`)).json();

    // The test clients, in a page of their own.
    const clients = await freshPage(browser);
    await clients.page.goto(`${server.url}/pages/admin-clients.html?client=${encodeURIComponent(CLIENT)}`, { timeout: 10_000 });
    await clients.page
      .waitForFunction(
        () => window.__clientsError || (Object.keys(window.__clients).length === 4 && Object.values(window.__clients).every((c) => c.connected)),
        null,
        { timeout: WAIT_MS, polling: 50 },
      )
      .catch((err) => assert.fail(`the test clients did not connect: ${err.message}\n${clients.logs.join("\n")}`));
    const state = await clients.page.evaluate(() => ({ clients: window.__clients, error: window.__clientsError }));
    assert.equal(state.error, undefined, state.error);
    const expected = { ws: "websocket", polling: "polling", streaming: "streaming", chat: "websocket" };
    for (const [name, c] of Object.entries(state.clients)) assert.equal(c.transport, expected[name], `${name}'s transport`);
    const ids = Object.fromEntries(Object.entries(state.clients).map(([name, c]) => [name, c.id]));
    const listed = await sockets();
    for (const name of ["ws", "polling", "streaming"]) assert.ok(listed["/"].includes(ids[name]), `${name} on the server`);
    assert.ok(listed["/chat"].includes(ids.chat));

    // The UI: the login modal asks for the server URL and the credentials.
    const ui = await freshPage(browser, { viewport: VIEWPORT });
    await keepLocal(ui.context);
    await ui.page.goto(`${server.url}/admin-ui/index.html`, { timeout: 10_000 });
    const dialog = await logIn(ui.page, server.url, `${password}-wrong`);
    await dialog.getByText("Invalid credentials").waitFor({ timeout: WAIT_MS });
    await dialog.getByLabel("Password").fill(password);
    await dialog.getByRole("button", { name: "Connect" }).click();
    await dialog.waitFor({ state: "detached", timeout: WAIT_MS });

    // The servers page: this server's `server_stats` (its id, its clients).
    await ui.page.goto(`${server.url}/admin-ui/index.html#/servers/`, { timeout: 10_000 });
    await settled(ui.page);
    await ui.page.locator("tbody tr", { hasText: "ferrio-admin-test" }).waitFor({ timeout: WAIT_MS });

    // The sockets of `/`: each test client with its transport.
    await ui.page.goto(`${server.url}/admin-ui/index.html#/sockets/`, { timeout: 10_000 });
    await settled(ui.page);
    const row = (id) => ui.page.locator("tbody tr", { hasText: id });
    for (const name of ["ws", "polling", "streaming"]) {
      const c = state.clients[name];
      await row(c.id).waitFor({ timeout: WAIT_MS });
      const text = await row(c.id).innerText();
      assert.ok(text.includes(LABELS[c.transport]), `${name}'s row shows ${LABELS[c.transport]}: ${text}`);
    }
    await settled(ui.page);
    await screenshot(ui.page, "admin-ui-sockets.png");

    // The rooms the server put them in.
    await ui.page.goto(`${server.url}/admin-ui/index.html#/rooms/`, { timeout: 10_000 });
    await settled(ui.page);
    for (const room of ["lobby", "rust", "random"]) {
      await ui.page.locator("tbody tr", { hasText: room }).first().waitFor({ timeout: WAIT_MS });
    }
    const lobby = await ui.page.locator("tbody tr", { hasText: "lobby" }).first().innerText();
    assert.match(lobby, /\b2\b/, `two sockets in lobby: ${lobby}`);
    await settled(ui.page);
    await screenshot(ui.page, "admin-ui-rooms.png");

    // And a socket's own page: its rooms and the initial request.
    await ui.page.goto(`${server.url}/admin-ui/index.html#/sockets/`, { timeout: 10_000 });
    await settled(ui.page);
    await row(ids.polling).click();
    await ui.page.getByText("Initial HTTP request").waitFor({ timeout: WAIT_MS });
    for (const room of ["lobby", "rust"]) await ui.page.getByRole("cell", { name: room, exact: true }).first().waitFor({ timeout: WAIT_MS });
    await ui.page.getByRole("cell", { name: "polling", exact: true }).first().waitFor({ timeout: WAIT_MS });
    await settled(ui.page);
    await screenshot(ui.page, "admin-ui-socket.png");

    // Disconnect the polling client from the list.
    await ui.page.goto(`${server.url}/admin-ui/index.html#/sockets/`, { timeout: 10_000 });
    await settled(ui.page);
    await row(ids.polling).getByRole("button").click();
    await clients.page
      .waitForFunction(() => window.__clients.polling.disconnects.length > 0, null, { timeout: WAIT_MS, polling: 50 })
      .catch((err) => assert.fail(`the polling client was not disconnected: ${err.message}\n${clients.logs.join("\n")}`));
    const after = await clients.page.evaluate(() => window.__clients);
    assert.deepEqual(after.polling.disconnects, ["io server disconnect"]);
    for (const name of ["ws", "streaming", "chat"]) assert.ok(after[name].connected, `${name} still connected`);
    const left = await sockets();
    assert.ok(!left["/"].includes(ids.polling), "the server dropped the socket");
    assert.ok(left["/"].includes(ids.ws) && left["/"].includes(ids.streaming));
    // The click also reached the row, which opens the socket's page: back to the list.
    await ui.page.goto(`${server.url}/admin-ui/index.html#/sockets/`, { timeout: 10_000 });
    await settled(ui.page);
    await row(ids.polling).waitFor({ state: "detached", timeout: WAIT_MS });
    await row(ids.ws).waitFor({ timeout: WAIT_MS });
    await settled(ui.page);
    await screenshot(ui.page, "admin-ui-after-disconnect.png");

    await ui.context.close();
    await clients.context.close();
  });
  test("the chat demo serves the UI and the admin namespace with ADMIN_UI=1", async () => {
    // ADMIN_PASSWORD empty: the demo makes up a password and prints it.
    const demo = await startDemo();
    try {
      const printed = /log in to server (\S+) as admin, password ([0-9a-f]{16})/.exec(demo.output());
      assert.ok(printed, `the demo printed how to log in:\n${demo.output()}`);
      assert.equal(printed[1], demo.url);
      const ui = await freshPage(browser, { viewport: VIEWPORT });
      await keepLocal(ui.context);
      await ui.page.goto(`${demo.url}/admin-ui/`, { timeout: 10_000 });
      const dialog = await logIn(ui.page, demo.url, printed[2]);
      await dialog.waitFor({ state: "detached", timeout: WAIT_MS });
      await ui.page.goto(`${demo.url}/admin-ui/index.html#/sockets/`, { timeout: 10_000 });
      await settled(ui.page);
      // A chat visitor shows up.
      const visitor = await freshPage(browser);
      await visitor.page.goto(`${demo.url}/`, { timeout: 10_000 });
      await ui.page.locator("tbody tr", { hasText: "127.0.0.1" }).first().waitFor({ timeout: WAIT_MS });
      await visitor.context.close();
      await ui.context.close();
    } finally {
      await demo.stop();
    }
  });
});
