// ferrio-client against ferrio's conformance server (tests/src/conformance.rs): every transport
// alone, upgrades, fallback down the ladder, reconnection, the remembered transport.
//
// Uses FERRIO_URL when set; otherwise builds and starts target/debug/conformance on a free
// 127.0.0.1 port and stops it (by PID) at the end.

import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import http from "node:http";
import net from "node:net";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { bundle } from "../scripts/bundle.js";
import { Manager, io } from "../src/index.js";
import { Engine } from "../src/engine.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** Upper bound of every wait for something that must happen. */
const WAIT_MS = 5000;
/** How long to watch for something that must not happen. */
const ABSENCE_MS = 800;

let URL_ = process.env.FERRIO_URL;
let server;

const freePort = () =>
  new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

const canConnect = (port) =>
  new Promise((resolve) => {
    const c = net.connect(port, "127.0.0.1");
    c.on("connect", () => (c.destroy(), resolve(true)));
    c.on("error", () => resolve(false));
  });

before(async () => {
  if (URL_) return;
  const built = spawnSync("cargo", ["build", "-q", "-p", "ferrio-tests", "--bin", "conformance"], {
    cwd: ROOT,
    stdio: ["ignore", "inherit", "inherit"],
    timeout: 600_000,
  });
  if (built.status !== 0) throw new Error("cargo build of the conformance server failed");
  const port = await freePort();
  server = spawn(`${ROOT}target/debug/conformance`, [], {
    env: { ...process.env, PORT: String(port) },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const t0 = Date.now();
  while (!(await canConnect(port))) {
    if (server.exitCode !== null) throw new Error("the conformance server exited");
    if (Date.now() - t0 > 10_000) throw new Error("the conformance server does not listen");
    await sleep(50);
  }
  URL_ = `http://127.0.0.1:${port}`;
});

after(() => {
  if (server && server.exitCode === null) process.kill(server.pid);
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The arguments of the next `event`; rejects after `ms` or on one of `failOn`. */
function next(emitter, event, { ms = WAIT_MS, failOn = ["connect_error"] } = {}) {
  return new Promise((resolve, reject) => {
    const offs = [];
    const done = (fn, v) => {
      clearTimeout(timer);
      offs.forEach((off) => off());
      fn(v);
    };
    const timer = setTimeout(() => done(reject, new Error(`timed out waiting for "${event}"`)), ms);
    offs.push(emitter.subscribe(event, (...args) => done(resolve, args)));
    for (const name of failOn.filter((n) => n != event)) {
      offs.push(emitter.subscribe(name, (e) => done(reject, new Error(`"${name}" (${e?.message}) while waiting for "${event}"`))));
    }
  });
}

/** Waits until `cond()` holds; rejects after `ms`. */
async function until(cond, what, ms = WAIT_MS) {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Resolves true if `event` happens within `ms`. */
const happens = (emitter, event, ms = ABSENCE_MS) =>
  new Promise((resolve) => {
    const timer = setTimeout(() => (off(), resolve(false)), ms);
    const off = emitter.subscribe(event, () => (clearTimeout(timer), off(), resolve(true)));
  });

const BASE = {
  forceNew: true,
  WebSocket,
  reconnectionDelay: 50,
  reconnectionDelayMax: 100,
  rememberTransport: false,
};

const opened = new Set();
afterEach(() => {
  for (const s of opened) s.disconnect();
  opened.clear();
});

/** A socket on namespace `nsp` of the conformance server, disconnected after the test. */
function connect(nsp = "/", opts = {}, factory = io) {
  const s = factory(URL_ + nsp, { ...BASE, ...opts });
  opened.add(s);
  return s;
}

const bytes = (...b) => new Uint8Array(b);
const arr = (buf) => (buf instanceof ArrayBuffer ? [...new Uint8Array(buf)] : buf);

const MODES = [["websocket"], ["streaming"], ["polling"]];

for (const transports of MODES) {
  const name = transports[0];
  describe(`${name} only`, () => {
    const open = (nsp, opts) => connect(nsp, { transports, ...opts });

    it("connects, gets the auth payload back, and uses only this transport", async () => {
      const s = open("/", { auth: { user: "ann" } });
      const seen = [];
      s.on("transport", (t) => seen.push(t));
      const auth = next(s, "auth");
      await next(s, "connect");
      assert.deepEqual(await auth, [{ user: "ann" }]);
      assert.equal(typeof s.id, "string");
      assert.equal(s.transport, name);
      await sleep(100);
      assert.deepEqual(seen, [name]);
      assert.deepEqual(
        s.io.negotiation.map((n) => [n.transport, n.ok]),
        [[name, true]],
      );
    });

    it("echo: mixed arguments and binary anywhere", async () => {
      const s = open();
      await next(s, "connect");
      const echoed = next(s, "echo");
      s.emit("echo", "text", 42, null, { nested: { buf: bytes(1, 2, 3) } }, [bytes(), bytes(255)]);
      const args = await echoed;
      assert.deepEqual(args.slice(0, 3), ["text", 42, null]);
      assert.deepEqual(arr(args[3].nested.buf), [1, 2, 3]);
      assert.deepEqual(args[4].map(arr), [[], [255]]);
      assert.ok(args[3].nested.buf instanceof ArrayBuffer);
    });

    it("acks: emit with a callback, emitWithAck, timeout().emitWithAck, with binary", async () => {
      const s = open();
      await next(s, "connect");
      const res = await new Promise((resolve) => s.emit("echo-ack", "a", 1, (...r) => resolve(r)));
      assert.deepEqual(res, ["a", 1]);
      assert.deepEqual(await s.emitWithAck("echo-ack", { k: "v" }), { k: "v" });
      assert.deepEqual(arr(await s.timeout(WAIT_MS).emitWithAck("echo-ack", bytes(7, 8).buffer)), [7, 8]);
      assert.deepEqual(await s.emitWithAck("message-with-ack", "m", 2), "m");
      // Nothing answers "unknown": the ack times out.
      await assert.rejects(s.timeout(100).emitWithAck("unknown"), /operation has timed out/);
    });

    it("message -> message-back (send)", async () => {
      const s = open();
      await next(s, "connect");
      const back = next(s, "message-back");
      s.send("hello", { n: 1 });
      assert.deepEqual(await back, ["hello", { n: 1 }]);
    });

    it("server-ask: answers the server's question through its ack", async () => {
      const s = open();
      await next(s, "connect");
      s.on("question", (...args) => {
        const ack = args.pop();
        ack("answer-to", ...args);
      });
      const answer = next(s, "answer-received");
      s.emit("server-ask", "q", bytes(3));
      const got = await answer;
      assert.deepEqual(got.map(arr), ["answer-to", "q", [3]]);
    });

    it("rooms: join, room-broadcast to the others, leave", async () => {
      const a = open();
      const b = open();
      await Promise.all([next(a, "connect"), next(b, "connect")]);
      assert.equal(await a.emitWithAck("join", "r1"), "r1");
      assert.equal(await b.emitWithAck("join", "r1"), "r1");
      let aGot = 0;
      a.on("room-message", () => aGot++);
      const bGot = next(b, "room-message");
      await a.emitWithAck("room-broadcast", "r1", "hi", bytes(5));
      assert.deepEqual((await bGot).map(arr), ["r1", "hi", [5]]);
      assert.equal(await b.emitWithAck("leave", "r1"), "r1");
      const again = happens(b, "room-message", 300);
      await a.emitWithAck("room-broadcast", "r1", "gone");
      assert.equal(await again, false);
      assert.equal(aGot, 0);
    });

    it("namespaces: /custom and / over one connection; /admin needs the token", async () => {
      const manager = new Manager(URL_, { ...BASE, transports });
      const custom = manager.socket("/custom");
      const main = manager.socket("/");
      opened.add(custom).add(main);
      await Promise.all([next(custom, "connect"), next(main, "connect")]);
      const echoed = next(custom, "echo");
      custom.emit("echo", "from-custom");
      assert.deepEqual(await echoed, ["from-custom"]);

      const denied = open("/admin", { auth: { token: "nope" } });
      const [err] = await next(denied, "connect_error", { failOn: [] });
      assert.equal(err.message, "unauthorized");
      assert.deepEqual(err.data, { code: "E_UNAUTHORIZED" });
      assert.equal(denied.active, false);

      const admin = open("/admin", { auth: (cb) => cb({ token: "secret" }) });
      const auth = next(admin, "auth");
      await next(admin, "connect");
      assert.deepEqual(await auth, [{ token: "secret" }]);
    });

    it("bye: \"io server disconnect\" and no reconnection", async () => {
      const s = open();
      await next(s, "connect");
      const gone = next(s, "disconnect");
      s.emit("bye");
      assert.deepEqual(await gone, ["io server disconnect", undefined]);
      assert.equal(await happens(s, "connect"), false);
      assert.equal(s.connected, false);
      assert.equal(s.active, false);
    });

    it("drop: \"transport close\", then reconnects with a new session", async () => {
      const s = open();
      await next(s, "connect");
      const firstSid = s.io.engine.id;
      const gone = next(s, "disconnect");
      const back = next(s.io, "reconnect");
      s.emit("drop");
      assert.equal((await gone)[0], "transport close");
      await next(s, "connect");
      assert.deepEqual(await back, [1]);
      assert.notEqual(s.io.engine.id, firstSid);
      assert.equal(s.transport, name);
      const echoed = next(s, "echo");
      s.emit("echo", "after-reconnect");
      assert.deepEqual(await echoed, ["after-reconnect"]);
    });

    it("buffers emits made while disconnected and sends them on connect", async () => {
      const s = open("/", { autoConnect: false });
      s.emit("echo", 1);
      s.emit("echo", 2);
      s.volatile.emit("echo", "volatile");
      const got = [];
      s.on("echo", (v) => got.push(v));
      s.connect();
      await until(() => got.length >= 2, "two echoes");
      await sleep(100);
      assert.deepEqual(got, [1, 2]);
    });

    it("survives heartbeats and carries large binary (several stream budgets)", async () => {
      const s = open();
      await next(s, "connect");
      await sleep(800); // pingInterval 300 ms, pingTimeout 200 ms: several pings answered
      assert.equal(s.connected, true);
      const big = new Uint8Array(96 * 1024).map((_, i) => (i * 7) & 255);
      const got = [];
      s.on("echo", (i, data) => got.push([i, data]));
      for (let i = 0; i < 5; i++) s.emit("echo", i, big);
      await until(() => got.length == 5, "5 large echoes");
      assert.deepEqual(got.map(([i]) => i), [0, 1, 2, 3, 4]);
      for (const [, data] of got) assert.deepEqual(new Uint8Array(data), big);
      assert.equal(s.io.engine.id != null, true);
    });
  });
}

describe("connection state recovery (the conformance server's /recovery/ path)", () => {
  for (const transports of MODES) {
    it(`over ${transports[0]}: a dropped client gets its id, rooms and missed events back`, async () => {
      const opts = { transports, path: "/recovery/" };
      const a = connect("/", opts);
      const b = connect("/", opts);
      await Promise.all([next(a, "auth"), next(b, "auth")]);
      assert.equal(a.recovered, false);
      const id = a.id;
      assert.equal(await a.timeout(WAIT_MS).emitWithAck("join", "r"), "r");
      const gone = next(a, "disconnect");
      a.emit("drop");
      assert.equal((await gone)[0], "transport close");
      await b.timeout(WAIT_MS).emitWithAck("room-broadcast", "r", "while away");
      const missed = next(a, "room-message");
      await next(a, "connect");
      assert.equal(a.recovered, true);
      assert.equal(a.id, id);
      assert.deepEqual((await missed).slice(0, 2), ["r", "while away"]);
    });
  }
});

describe("upgrade to websocket", () => {
  for (const first of ["polling", "streaming"]) {
    it(`from ${first}: transport events, 500 messages sent during the upgrade arrive in order`, async () => {
      const s = connect("/", { transports: [first, "websocket"] });
      const seen = [];
      const got = [];
      let sent = 0;
      let sentAtUpgrade = -1;
      s.on("echo", (i) => got.push(i));
      // socket.io-client's engine "upgrade" event, with the new transport object.
      const upgrades = [];
      s.io.engine.on("upgrade", (transport) => upgrades.push(transport.name));
      s.on("transport", (t) => {
        seen.push(t);
        if (t == "websocket") sentAtUpgrade = sent;
      });
      // Start sending when the first transport opens, a few messages every millisecond.
      await next(s, "transport");
      while (sent < 500) {
        // Keep the last messages for after the switch, however slow the upgrade.
        if (sent == 480 && sentAtUpgrade < 0) await until(() => sentAtUpgrade >= 0, "the upgrade");
        for (let k = 0; k < 4 && sent < 500; k++) s.emit("echo", sent++);
        await sleep(1);
      }
      await until(() => got.length >= 500, `500 echoes (got ${got.length})`);
      await sleep(100);
      assert.deepEqual(got, Array.from({ length: 500 }, (_, i) => i));
      assert.deepEqual(seen, [first, "websocket"]);
      assert.deepEqual(upgrades, ["websocket"]);
      assert.ok(sentAtUpgrade > 0 && sentAtUpgrade < 500, `upgraded after ${sentAtUpgrade} messages`);
      assert.equal(s.transport, "websocket");
      assert.deepEqual(
        s.io.negotiation.map((n) => [n.transport, n.ok, !!n.upgrade]),
        [
          [first, true, false],
          ["websocket", true, true],
        ],
      );
    });
  }
});

/** A fake localStorage installed on globalThis for the duration of `fn`. */
async function withStorage(initial, fn) {
  const map = new Map(Object.entries(initial));
  globalThis.localStorage = {
    getItem: (k) => (map.has(k) ? map.get(k) : null),
    setItem: (k, v) => map.set(k, String(v)),
  };
  try {
    return await fn(map);
  } finally {
    delete globalThis.localStorage;
  }
}

describe("negotiation", () => {
  it("the default ladder starts with websocket", async () => {
    const s = connect("/", { transports: undefined });
    const [t] = await next(s, "transport");
    assert.equal(t, "websocket");
    await next(s, "connect");
  });

  it("without WebSocket (Node 20) the ladder starts at streaming, then stays there", async () => {
    const saved = globalThis.WebSocket;
    delete globalThis.WebSocket;
    try {
      const s = connect("/", { WebSocket: undefined });
      const seen = [];
      s.on("transport", (t) => seen.push(t));
      await next(s, "connect");
      await sleep(200);
      assert.deepEqual(seen, ["streaming"]);
    } finally {
      if (saved) globalThis.WebSocket = saved;
    }
  });

  it("remembers the transport that connected and starts from it next time", async () => {
    await withStorage({}, async (map) => {
      const key = `ferrio:transport:${URL_}/socket.io/`;
      const a = connect("/", { rememberTransport: true, transports: ["websocket", "streaming", "polling"] });
      await next(a, "connect");
      const stored = JSON.parse(map.get(key));
      assert.equal(stored.transport, "websocket");
      assert.equal(typeof stored.rtt, "number");
      a.disconnect();

      // A page that last connected with streaming starts there, then upgrades.
      map.set(key, JSON.stringify({ transport: "streaming", rtt: 3 }));
      const b = connect("/", { rememberTransport: true });
      const seen = [];
      b.on("transport", (t) => seen.push(t));
      await next(b, "connect");
      await until(() => seen.length == 2, "the upgrade");
      assert.deepEqual(seen, ["streaming", "websocket"]);
      assert.equal(JSON.parse(map.get(key)).transport, "websocket");
    });
  });

  it("falls down the ladder past a proxy that refuses websocket and buffers streams", async () => {
    const upstream = new globalThis.URL(URL_);
    const held = new Set();
    const proxy = http.createServer((req, res) => {
      if (req.method == "GET" && req.url.includes("transport=streaming")) {
        // A buffering proxy: the stream never gets through.
        held.add(res);
        return;
      }
      const out = http.request(
        { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode, up.headers);
          up.pipe(res);
        },
      );
      out.on("error", () => res.destroy());
      req.pipe(out);
    });
    proxy.on("upgrade", (req, socket) => socket.destroy());
    await new Promise((r) => proxy.listen(0, "127.0.0.1", r));
    const proxyUrl = `http://127.0.0.1:${proxy.address().port}`;
    try {
      await withStorage({ [`ferrio:transport:${proxyUrl}/socket.io/`]: '{"rtt":5}' }, async (map) => {
        const s = io(proxyUrl, { ...BASE, rememberTransport: true });
        opened.add(s);
        const seen = [];
        s.on("transport", (t) => seen.push(t));
        await next(s, "connect");
        const echoed = next(s, "echo");
        s.emit("echo", "through the proxy");
        assert.deepEqual(await echoed, ["through the proxy"]);
        await until(() => s.io.negotiation.length == 4, "the upgrade probe");
        assert.deepEqual(seen, ["polling"]);
        assert.deepEqual(
          s.io.negotiation.map((n) => [n.transport, n.ok, n.reason ?? null, !!n.upgrade]),
          [
            ["websocket", false, "transport error", false],
            ["streaming", false, "timeout", false],
            ["polling", true, null, false],
            ["websocket", false, "transport error", true],
          ],
        );
        const streamingStep = s.io.negotiation[1];
        assert.ok(streamingStep.ms >= 900 && streamingStep.ms < 2500, `streaming waited ${streamingStep.ms} ms`);
        assert.equal(JSON.parse(map.get(`ferrio:transport:${proxyUrl}/socket.io/`)).transport, "polling");
        s.disconnect();
      });
    } finally {
      for (const res of held) res.destroy();
      proxy.closeAllConnections();
      await new Promise((r) => proxy.close(r));
    }
  });
});

describe("the minified bundle (mangled internals)", () => {
  let bundled;
  before(async () => {
    const src = Buffer.from(await bundle()).toString("base64");
    bundled = await import(`data:text/javascript;base64,${src}`);
  });

  for (const transports of MODES) {
    it(`echoes binary over ${transports[0]}`, async () => {
      const s = connect("/", { transports }, bundled.io);
      await next(s, "connect");
      const echoed = next(s, "echo");
      s.emit("echo", "min", bytes(1, 2));
      const [t, b] = await echoed;
      assert.equal(t, "min");
      assert.deepEqual(arr(b), [1, 2]);
      assert.equal(await s.emitWithAck("echo-ack", "x"), "x");
    });
  }
});

describe("raw Engine.IO (the conformance echo on /engine.io/)", () => {
  for (const transports of MODES) {
    it(`${transports[0]}: text with CR, LF and unicode, binary, empty`, async () => {
      const e = new Engine(new globalThis.URL(URL_), { path: "/engine.io/", transports, timeout: WAIT_MS, WebSocket });
      const got = [];
      e.on("data", (d) => got.push(d));
      try {
        await new Promise((resolve, reject) => {
          e.on("open", resolve);
          e.on("error", reject);
          e.open();
        });
        e.send("a\rb\r\nc\nd\u2603");
        e.send(new Uint8Array([0, 13, 10, 30, 255]).buffer);
        e.send("");
        await until(() => got.length == 3, "3 echoes");
        assert.deepEqual(got.map(arr), ["a\rb\r\nc\nd\u2603", [0, 13, 10, 30, 255], ""]);
        assert.equal(e.transport.name, transports[0]);
      } finally {
        e.close();
      }
    });
  }
});

// ===== in a real browser =====

/** The browser's binary: $CHROMIUM, else chromium / chromium-browser / google-chrome on PATH. */
const chromium =
  process.env.CHROMIUM ||
  spawnSync("sh", ["-c", "command -v chromium || command -v chromium-browser || command -v google-chrome"], {
    encoding: "utf8",
  }).stdout.trim();

/**
 * Runs in the page (serialized): the scenarios a browser alone can check (EventSource, the
 * browser's WebSocket, XMLHttpRequest, localStorage). Returns a JSON-able report.
 */
async function browserScenarios(io, server) {
  const out = {};
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const wait = (s, ev, ms = 5000) =>
    new Promise((res, rej) => {
      const t = setTimeout(() => rej(new Error("timeout " + ev)), ms);
      s.once(ev, (...a) => (clearTimeout(t), res(a)));
    });
  const until = async (cond) => {
    for (const t0 = Date.now(); !cond() && Date.now() - t0 < 8000; ) await sleep(10);
  };
  const run = async (name, fn) => {
    try {
      out[name] = await fn();
    } catch (e) {
      out[name] = "ERROR " + e.message;
    }
  };
  const base = { forceNew: true, rememberTransport: false, reconnectionDelay: 50, reconnectionDelayMax: 100 };
  const echo = async (transports) => {
    const s = io(server, { ...base, transports });
    const seen = [];
    s.on("transport", (x) => seen.push(x));
    await wait(s, "connect");
    const e = wait(s, "echo");
    s.emit("echo", "hi", new Uint8Array([1, 2, 3]), new Blob(["blob"]));
    const [a, b, c] = await e;
    const ack = await s.timeout(3000).emitWithAck("echo-ack", "x");
    await sleep(700); // heartbeats
    s.disconnect();
    return { seen, a, b: [...new Uint8Array(b)], c: new TextDecoder().decode(c), ack, transport: s.transport };
  };
  for (const t of ["websocket", "streaming", "polling"]) await run(t, () => echo([t]));
  await run("polling over XMLHttpRequest", async () => {
    const fetch = window.fetch;
    window.fetch = undefined;
    try {
      return await echo(["polling"]);
    } finally {
      window.fetch = fetch;
    }
  });
  await run("streaming: large binary over several streams", async () => {
    const s = io(server, { ...base, transports: ["streaming"] });
    await wait(s, "connect");
    const big = new Uint8Array(96 * 1024).map((_, i) => (i * 7) & 255);
    const got = [];
    s.on("echo", (i, d) => got.push(d.byteLength == big.length && new Uint8Array(d).every((v, j) => v == big[j]) && i));
    for (let i = 0; i < 5; i++) s.emit("echo", i, big);
    await until(() => got.length == 5);
    s.disconnect();
    return got;
  });
  await run("streaming: text with CR and LF", async () => {
    const s = io(server, { ...base, transports: ["streaming"] });
    await wait(s, "connect");
    const e = wait(s, "echo");
    s.emit("echo", "a\rb\r\nc\nd\u2603");
    const [a] = await e;
    s.disconnect();
    return a;
  });
  await run("upgrade from streaming", async () => {
    const s = io(server, { ...base, transports: ["streaming", "websocket"] });
    const seen = [];
    const got = [];
    s.on("transport", (x) => seen.push(x));
    s.on("echo", (i) => got.push(i));
    await wait(s, "transport");
    for (let i = 0; i < 500; i++) {
      s.emit("echo", i);
      if (i % 4 == 0) await sleep(1);
    }
    await until(() => got.length >= 500);
    s.disconnect();
    return { seen, ordered: got.length == 500 && got.every((v, i) => v === i) };
  });
  await run("drop over streaming", async () => {
    const s = io(server, { ...base, transports: ["streaming"] });
    await wait(s, "connect");
    const d = wait(s, "disconnect");
    s.emit("drop");
    const [reason] = await d;
    await wait(s, "connect");
    s.disconnect();
    return reason;
  });
  await run("raw engine over streaming: CR as a b64 event", async () => {
    const { Engine } = await import("/src/engine.js");
    const e = new Engine(new URL(server), { path: "/engine.io/", transports: ["streaming"], timeout: 5000 });
    const got = [];
    e.on("data", (d) => got.push(typeof d == "string" ? d : [...new Uint8Array(d)]));
    await new Promise((resolve, reject) => (e.on("open", resolve), e.on("error", reject), e.open()));
    e.send("a\rb\r\nc\u2603");
    e.send(new Uint8Array([13, 10]).buffer);
    await until(() => got.length == 2);
    e.close();
    return got;
  });
  await run("default ladder, remembered in localStorage", async () => {
    localStorage.clear();
    const s = io(server, { forceNew: true });
    const [first] = await wait(s, "transport");
    await wait(s, "connect");
    s.disconnect();
    return { first, stored: JSON.parse(localStorage.getItem(`ferrio:transport:${server}/socket.io/`)).transport };
  });
  return out;
}

describe("in headless Chromium", { skip: !chromium && "no chromium on this machine" }, () => {
  it("every transport, EventSource streaming, XHR polling, upgrade, localStorage", async () => {
    let report;
    const done = new Promise((resolve) => (report = resolve));
    const page = `<!doctype html><meta charset="utf-8"><script type="module">
      import { io } from "/src/index.js";
      const report = await (${browserScenarios})(io, ${JSON.stringify(URL_)});
      await fetch("/report", { method: "POST", body: JSON.stringify(report) });
    </script>`;
    const files = http.createServer((req, res) => {
      if (req.url == "/report") {
        let body = "";
        req.on("data", (c) => (body += c));
        req.on("end", () => (res.end(), report(JSON.parse(body))));
        return;
      }
      try {
        const js = req.url.startsWith("/src/") && readFileSync(fileURLToPath(new URL(".." + req.url, import.meta.url)));
        res.writeHead(200, { "content-type": js ? "text/javascript" : "text/html" });
        res.end(js || page);
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise((r) => files.listen(0, "127.0.0.1", r));
    const profile = mkdtempSync(join(tmpdir(), "ferrio-chromium-"));
    const browser = spawn(
      chromium,
      [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        `--user-data-dir=${profile}`,
        `http://127.0.0.1:${files.address().port}/`,
      ],
      { stdio: "ignore", detached: true },
    );
    let timer;
    try {
      const result = await Promise.race([
        done,
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error("no report from the browser in 40 s")), 40_000))),
      ]);
      const echo = (t) => ({ seen: [t], a: "hi", b: [1, 2, 3], c: "blob", ack: "x", transport: t });
      assert.deepEqual(result, {
        websocket: echo("websocket"),
        streaming: echo("streaming"),
        polling: echo("polling"),
        "polling over XMLHttpRequest": echo("polling"),
        "streaming: large binary over several streams": [0, 1, 2, 3, 4],
        "streaming: text with CR and LF": "a\rb\r\nc\nd\u2603",
        "upgrade from streaming": { seen: ["streaming", "websocket"], ordered: true },
        "drop over streaming": "transport close",
        "raw engine over streaming: CR as a b64 event": ["a\rb\r\nc\u2603", [13, 10]],
        "default ladder, remembered in localStorage": { first: "websocket", stored: "websocket" },
      });
    } finally {
      clearTimeout(timer);
      // The browser and its helper processes share its process group.
      const exited = new Promise((r) => (browser.exitCode !== null ? r() : browser.once("exit", r)));
      try {
        process.kill(-browser.pid);
      } catch {}
      await Promise.race([exited, sleep(5000)]);
      files.closeAllConnections();
      await new Promise((r) => files.close(r));
      rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    }
  });
});
