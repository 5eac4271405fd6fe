// The browser side of ferrio's browser tests. Loaded by contract.html as a module.
//
// Query string:
//   client=<url>        module to import `io` from (default /socket.io/ferrio.js)
//   no=A,B,…            globals deleted BEFORE the client is imported (WebSocket, EventSource,
//                       ReadableStream), so the client sees a browser without them
//   transports=a,b      passed as the `transports` option (absent: the client's own ladder)
//   run=contract|drop   the whole Socket.IO contract, or "the server drops the session" (default
//                       contract)
//   keep=1              keep localStorage (default: cleared before the client is imported, so
//                       the client does not start from a remembered transport)
//
// Everything the test needs ends up on `window.__result`; `done` turns true at the end, whatever
// happened. Every wait here is bounded.

const startMs = performance.now();
const params = new URLSearchParams(location.search);
const list = (key) => (params.get(key) || "").split(",").map((s) => s.trim()).filter(Boolean);

const clientUrl = params.get("client") || "/socket.io/ferrio.js";
const mode = params.get("run") || "contract";
const transports = list("transports");
const CONNECT_MS = Number(params.get("connectTimeout") || 10000);
const STEP_MS = 4000;

const result = {
  done: false,
  ok: false,
  mode,
  client: clientUrl,
  transportsOption: transports.length ? transports : null,
  removed: [],
  storageAtStart: {},
  startMs,
  connectMs: null,
  transport: null,
  finalTransport: null,
  socketId: null,
  transportEvents: [],
  connectErrors: [],
  disconnects: [],
  managerEvents: [],
  negotiationHistory: [],
  ferrioClient: null,
  negotiation: null,
  steps: [],
  drop: null,
  error: null,
};
window.__result = result;

const now = () => Math.round(performance.now() * 10) / 10;

// ---- plain-data helpers -------------------------------------------------------------------

/** Binary (ArrayBuffer or any view) becomes {$bin:[bytes]}, so sent and received compare. */
function norm(value) {
  if (value instanceof ArrayBuffer) return { $bin: Array.from(new Uint8Array(value)) };
  if (ArrayBuffer.isView(value)) {
    return { $bin: Array.from(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)) };
  }
  if (Array.isArray(value)) return value.map(norm);
  if (value instanceof Error) return { $error: value.message, data: norm(value.data ?? null) };
  if (value && typeof value === "object") {
    const out = {};
    for (const key of Object.keys(value).sort()) out[key] = norm(value[key]);
    return out;
  }
  if (typeof value === "function") return "[function]";
  return value;
}

/** Constructor names of every binary leaf of a received value. */
function binaryKinds(value, out = []) {
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) out.push(value.constructor.name);
  else if (Array.isArray(value)) value.forEach((v) => binaryKinds(v, out));
  else if (value && typeof value === "object") Object.values(value).forEach((v) => binaryKinds(v, out));
  return out;
}

function short(value) {
  const text = JSON.stringify(norm(value));
  return text && text.length > 300 ? `${text.slice(0, 300)}… (${text.length} chars)` : text;
}

function expectEqual(actual, expected, what) {
  const a = JSON.stringify(norm(actual));
  const e = JSON.stringify(norm(expected));
  if (a !== e) throw new Error(`${what}: expected ${short(expected)}, got ${short(actual)}`);
}

function expectTrue(cond, what) {
  if (!cond) throw new Error(what);
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms: ${what}`)), ms);
    }),
  ]);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Records every arrival of `events` on `socket`; `next` takes the first unconsumed match. */
function inbox(socket, events) {
  const items = [];
  const waiters = [];
  const offer = (item) => {
    for (const w of waiters) {
      if (!w.done && w.ev === item.ev && w.pred(item.args)) {
        w.done = true;
        item.taken = true;
        w.resolve(item.args);
        return;
      }
    }
  };
  for (const ev of events) {
    socket.on(ev, (...args) => {
      const item = { ev, args, ms: now(), taken: false };
      items.push(item);
      offer(item);
    });
  }
  return {
    items,
    count: (ev) => items.filter((i) => i.ev === ev).length,
    next(ev, pred = () => true, ms = STEP_MS) {
      const ready = items.find((i) => !i.taken && i.ev === ev && pred(i.args));
      if (ready) {
        ready.taken = true;
        return Promise.resolve(ready.args);
      }
      const w = { ev, pred, done: false };
      const p = new Promise((resolve) => {
        w.resolve = resolve;
      });
      waiters.push(w);
      return withTimeout(p, ms, `event "${ev}"`).finally(() => {
        w.done = true;
      });
    },
  };
}

async function step(name, fn) {
  const t = performance.now();
  const entry = { name, ok: false, ms: 0, detail: null };
  try {
    const detail = await fn();
    entry.ok = true;
    entry.detail = detail === undefined ? null : detail;
  } catch (err) {
    entry.detail = String(err && err.message ? err.message : err);
  }
  entry.ms = Math.round(performance.now() - t);
  result.steps.push(entry);
  return entry.ok;
}

function transportName(socket) {
  if (typeof socket.transport === "string") return socket.transport;
  return socket.io?.engine?.transport?.name ?? null;
}

function plain(value) {
  try {
    return JSON.parse(
      JSON.stringify(value ?? null, (_k, v) => (v instanceof Error ? { error: v.message } : v)),
    );
  } catch (err) {
    return { unserializable: String(err) };
  }
}

function waitConnect(socket, ms, what) {
  if (socket.connected) return Promise.resolve();
  return withTimeout(
    new Promise((resolve) => {
      const on = () => {
        socket.off("connect", on);
        resolve();
      };
      socket.on("connect", on);
    }),
    ms,
    what,
  );
}

function waitConnectError(socket, ms, what) {
  return withTimeout(
    new Promise((resolve) => {
      const on = (err) => {
        socket.off("connect_error", on);
        resolve(err);
      };
      socket.on("connect_error", on);
    }),
    ms,
    what,
  );
}

// ---- the page -----------------------------------------------------------------------------

function render() {
  const summary = document.getElementById("summary");
  const passed = result.steps.filter((s) => s.ok).length;
  summary.textContent =
    `${result.ok ? "PASS" : "FAIL"} · ${passed}/${result.steps.length} steps · ` +
    `transport ${result.transport ?? "-"} → ${result.finalTransport ?? "-"} · ` +
    `connect at ${result.connectMs ?? "-"} ms · client ${result.client}` +
    (result.removed.length ? ` · removed ${result.removed.map((r) => r.name).join(", ")}` : "") +
    (result.error ? ` · ${result.error}` : "");
  summary.className = result.ok ? "ok" : "fail";
  const body = document.querySelector("#steps tbody");
  body.textContent = "";
  for (const s of result.steps) {
    const tr = document.createElement("tr");
    const cells = [s.name, s.ok ? "ok" : "FAIL", String(s.ms), s.detail == null ? "" : short(s.detail)];
    cells.forEach((text, i) => {
      const td = document.createElement("td");
      td.textContent = text;
      if (i === 1) td.className = s.ok ? "ok" : "fail";
      if (i === 3) td.className = "detail";
      tr.append(td);
    });
    body.append(tr);
  }
  document.getElementById("negotiation").textContent = JSON.stringify(
    { negotiation: result.negotiation, transportEvents: result.transportEvents },
    null,
    1,
  );
}

async function main() {
  for (let i = 0; i < localStorage.length; i++) {
    const key = localStorage.key(i);
    result.storageAtStart[key] = localStorage.getItem(key);
  }
  if (params.get("keep") !== "1") localStorage.clear();

  for (const name of list("no")) {
    try {
      delete globalThis[name];
    } catch {
      // not configurable: fall through to the assignment
    }
    if (typeof globalThis[name] !== "undefined") {
      try {
        globalThis[name] = undefined;
      } catch {
        // read-only: reported below
      }
    }
    result.removed.push({ name, gone: typeof globalThis[name] === "undefined" });
  }

  const mod = await import(clientUrl);
  const io = mod.io ?? mod.default;
  if (typeof io !== "function") throw new Error(`${clientUrl} exports no io()`);

  const base = location.origin;
  const opts = (extra = {}) => ({ ...(transports.length ? { transports } : {}), ...extra });
  const AUTH = { user: "page", n: 1, emoji: "🦀" };
  const socket = io(base, opts({ auth: AUTH }));
  window.__socket = socket;

  let connects = 0;
  socket.on("transport", (...args) => {
    result.transportEvents.push({ args: plain(args), ms: now(), current: transportName(socket) });
  });
  socket.on("connect", () => {
    window.__snapshot?.();
    connects += 1;
    if (connects === 1) {
      result.connectMs = now();
      result.transport = transportName(socket);
      result.socketId = socket.id;
    }
  });
  socket.on("disconnect", (reason) => {
    result.disconnects.push({ reason: String(reason), ms: now(), transport: transportName(socket) });
  });
  socket.on("connect_error", (err) => {
    result.connectErrors.push({ message: String(err && err.message), ms: now() });
  });
  // Manager-level events (socket.io-client's names), for the diagnostics of a failed run. The
  // client replaces socket.io.negotiation on every (re)connection attempt, so each of these
  // moments also snapshots it into negotiationHistory: the whole story of the ladder.
  const snapshot = () => {
    const steps = plain(socket.io?.negotiation ?? null);
    const last = result.negotiationHistory[result.negotiationHistory.length - 1];
    if (Array.isArray(steps) && steps.length && JSON.stringify(steps) !== JSON.stringify(last)) {
      result.negotiationHistory.push(steps);
    }
  };
  window.__snapshot = snapshot;
  if (socket.io && typeof socket.io.on === "function") {
    const record = (ev, reason) => {
      result.managerEvents.push({ ev, reason, ms: now() });
      snapshot();
    };
    socket.io.on("open", () => record("open", null));
    socket.io.on("close", (reason) => record("close", String(reason)));
    socket.io.on("error", (err) => record("error", String(err && err.message)));
    socket.io.on("reconnect_attempt", (n) => record("reconnect_attempt", n));
  }
  // The official client has no "transport" event nor negotiation record: record its engine
  // opens and upgrades instead, so the harness can be validated with it.
  result.ferrioClient = Array.isArray(socket.io?.negotiation);
  if (!result.ferrioClient && socket.io && typeof socket.io.on === "function") {
    socket.io.on("open", () => {
      const engine = socket.io.engine;
      result.transportEvents.push({ args: [engine.transport.name], ms: now(), current: engine.transport.name, engine: "open" });
      engine.on("upgrade", (t) => {
        result.transportEvents.push({ args: [t.name], ms: now(), current: t.name, engine: "upgrade" });
      });
    });
  }

  const box = inbox(socket, ["auth", "echo", "answer-received", "room-message"]);

  const connected = await step("connect", async () => {
    await waitConnect(socket, CONNECT_MS, "connect");
    return { transport: result.transport, ms: result.connectMs };
  });
  if (!connected) return;

  if (mode === "drop") await dropScenario(io, socket, box, opts);
  else await contract(io, socket, box, opts, base, AUTH);

  result.finalTransport = transportName(socket);
  result.negotiation = plain(socket.io?.negotiation ?? null);
  window.__snapshot?.();
  if (mode !== "drop") {
    await step("server disconnect (bye)", async () => {
      const reason = new Promise((resolve) => socket.on("disconnect", resolve));
      socket.emit("bye");
      const r = await withTimeout(reason, STEP_MS, "disconnect after bye");
      expectEqual(r, "io server disconnect", "disconnect reason");
      await sleep(100);
      expectTrue(!socket.connected, "still disconnected (no automatic reconnect after a server disconnect)");
    });
  } else {
    socket.disconnect();
  }
}

async function echo(box, socket, tag, ...args) {
  socket.emit("echo", tag, ...args);
  const got = await box.next("echo", (a) => a[0] === tag);
  expectEqual(got, [tag, ...args], `echo ${tag}`);
  return got;
}

async function contract(io, socket, box, opts, base, AUTH) {
  await step("auth payload echoed on connect", async () => {
    const [auth] = await box.next("auth");
    expectEqual(auth, AUTH, "auth");
  });

  await step("echo text", () => echo(box, socket, "text", "hello", 42, true, null, [1, "two"], { k: "v" }).then(() => null));

  await step("echo unicode", async () => {
    const s = "héllo wörld · 日本語 · emoji 🦀🚀👩‍👩‍👧 · \u2028\u2029 · \"quotes\" \\ \n\r\t · \u0000";
    await echo(box, socket, "unicode", s, { [s]: s });
  });

  await step("echo binary nested", async () => {
    const bytes = new Uint8Array(256).map((_, i) => i);
    const payload = {
      name: "blob",
      data: bytes,
      nested: { list: [new Uint8Array([1, 2, 3]).buffer, "x", { deep: new Uint8Array([0xff, 0]) }] },
    };
    socket.emit("echo", "binary", payload, new Uint8Array([7]).buffer);
    const got = await box.next("echo", (a) => a[0] === "binary");
    expectEqual(got, ["binary", payload, new Uint8Array([7]).buffer], "binary echo");
    const kinds = binaryKinds(got);
    expectEqual(kinds, ["ArrayBuffer", "ArrayBuffer", "ArrayBuffer", "ArrayBuffer"], "received binary types");
    return { kinds };
  });

  await step("echo 300 KB (several stream budgets)", async () => {
    const big = "0123456789abcdef".repeat(300 * 64); // 307 200 chars
    await echo(box, socket, "large", big);
    await echo(box, socket, "after-large", "still in order");
    return { chars: big.length };
  });

  await step("ordering: 50 echoes arrive in order", async () => {
    for (let i = 0; i < 50; i++) socket.emit("echo", "seq", i);
    const seen = [];
    for (let i = 0; i < 50; i++) seen.push((await box.next("echo", (a) => a[0] === "seq"))[1]);
    expectEqual(seen, [...Array(50).keys()], "sequence");
  });

  await step("echo-ack (callback, several args)", async () => {
    const args = ["x", 2, { y: [1, null] }, new Uint8Array([4, 5]).buffer];
    const got = await withTimeout(
      new Promise((resolve) => socket.emit("echo-ack", ...args, (...reply) => resolve(reply))),
      STEP_MS,
      "ack",
    );
    expectEqual(got, args, "ack args");
  });

  await step("echo-ack (emitWithAck)", async () => {
    const got = await withTimeout(socket.emitWithAck("echo-ack", "single 🦀"), STEP_MS, "emitWithAck");
    expectEqual(got, "single 🦀", "emitWithAck");
  });

  await step("echo-ack (timeout().emitWithAck)", async () => {
    const got = await socket.timeout(STEP_MS).emitWithAck("echo-ack", { t: 1 });
    expectEqual(got, { t: 1 }, "timeout().emitWithAck");
  });

  await step("server-ask → question with ack → answer-received", async () => {
    const asked = new Promise((resolve) => {
      socket.on("question", (...args) => {
        const ack = args.pop();
        resolve(args);
        ack("answer 🦀", { n: 42 });
      });
    });
    socket.emit("server-ask", "what?", 7);
    const question = await withTimeout(asked, STEP_MS, "question");
    expectEqual(question, ["what?", 7], "question args");
    const answer = await box.next("answer-received");
    expectEqual(answer, ["answer 🦀", { n: 42 }], "answer-received args");
  });

  await step("rooms with a second socket (forceNew)", async () => {
    const other = io(base, opts({ forceNew: true, auth: { user: "other" } }));
    try {
      const otherBox = inbox(other, ["room-message"]);
      await waitConnect(other, CONNECT_MS, "second socket connect");
      expectTrue(other.id && other.id !== socket.id, "second socket has its own id");
      expectEqual(await withTimeout(socket.emitWithAck("join", "room-1"), STEP_MS, "join"), "room-1", "join ack");
      expectEqual(await withTimeout(other.emitWithAck("join", "room-1"), STEP_MS, "join"), "room-1", "join ack (other)");

      await withTimeout(socket.emitWithAck("room-broadcast", "room-1", "hi", { n: 1 }), STEP_MS, "broadcast ack");
      expectEqual(await otherBox.next("room-message"), ["room-1", "hi", { n: 1 }], "room-message at other");

      await withTimeout(other.emitWithAck("room-broadcast", "room-1", "back"), STEP_MS, "broadcast ack (other)");
      expectEqual(await box.next("room-message"), ["room-1", "back"], "room-message at page");

      await sleep(200);
      expectEqual(box.count("room-message"), 1, "page got its own broadcast? room-message count at page");
      expectEqual(otherBox.count("room-message"), 1, "other got its own broadcast? room-message count at other");

      expectEqual(await withTimeout(other.emitWithAck("leave", "room-1"), STEP_MS, "leave"), "room-1", "leave ack");
      await withTimeout(socket.emitWithAck("room-broadcast", "room-1", "after leave"), STEP_MS, "broadcast ack");
      await sleep(300);
      expectEqual(otherBox.count("room-message"), 1, "room-message count at other after leave");
      return { other: transportName(other) };
    } finally {
      other.disconnect();
    }
  });

  await step("namespace /custom", async () => {
    const custom = io(`${base}/custom`, opts({ auth: { ns: "custom" } }));
    try {
      const cbox = inbox(custom, ["auth", "echo"]);
      await waitConnect(custom, CONNECT_MS, "/custom connect");
      expectEqual((await cbox.next("auth"))[0], { ns: "custom" }, "/custom auth");
      custom.emit("echo", "custom", "ns");
      expectEqual(await cbox.next("echo"), ["custom", "ns"], "/custom echo");
      await sleep(50);
      expectTrue(!box.items.some((i) => i.ev === "echo" && i.args[0] === "custom"), "/custom echo leaked into /");
      return { id: custom.id };
    } finally {
      custom.disconnect();
    }
  });

  await step("namespace /admin rejects a wrong token", async () => {
    const admin = io(`${base}/admin`, opts({ auth: { token: "wrong" } }));
    try {
      const err = await waitConnectError(admin, CONNECT_MS, "/admin connect_error");
      expectEqual(err.message, "unauthorized", "connect_error message");
      expectEqual(err.data, { code: "E_UNAUTHORIZED" }, "connect_error data");
      expectTrue(!admin.connected, "not connected");
    } finally {
      admin.disconnect();
    }
  });

  await step("namespace /admin accepts the token", async () => {
    const admin = io(`${base}/admin`, opts({ auth: { token: "secret" }, forceNew: true }));
    try {
      const abox = inbox(admin, ["auth"]);
      await waitConnect(admin, CONNECT_MS, "/admin connect");
      expectEqual((await abox.next("auth"))[0], { token: "secret" }, "/admin auth");
    } finally {
      admin.disconnect();
    }
  });

  await step("unknown namespace → connect_error", async () => {
    const nope = io(`${base}/nope`, opts());
    try {
      const err = await waitConnectError(nope, CONNECT_MS, "/nope connect_error");
      expectEqual(err.message, "Invalid namespace", "connect_error message");
    } finally {
      nope.disconnect();
    }
  });

  await step("main socket still works after the side sockets", async () => {
    await echo(box, socket, "final", "ok");
    expectTrue(socket.connected, "connected");
  });
}

async function dropScenario(io, socket, box, opts) {
  const drop = { before: null, reason: null, connectedInHandler: null, disconnectMs: null, reconnectMs: null, after: null };
  result.drop = drop;

  await step("echo before drop", () => echo(box, socket, "before", 1).then(() => null));
  drop.before = { id: socket.id, transport: transportName(socket) };

  let ackWhileDown = null;
  const disconnected = new Promise((resolve) => {
    const on = (reason) => {
      socket.off("disconnect", on);
      drop.reason = String(reason);
      drop.disconnectMs = now();
      drop.connectedInHandler = socket.connected;
      // Sent while disconnected: the client must buffer them and deliver after reconnecting.
      socket.emit("echo", "queued", "sent while disconnected", new Uint8Array([1, 2]).buffer);
      ackWhileDown = socket.emitWithAck("echo-ack", "queued ack");
      resolve();
    };
    socket.on("disconnect", on);
  });
  const reconnected = new Promise((resolve) => {
    const on = () => {
      if (drop.disconnectMs == null) return;
      socket.off("connect", on);
      drop.reconnectMs = now();
      drop.after = { id: socket.id, transport: transportName(socket) };
      resolve();
    };
    socket.on("connect", on);
  });

  socket.emit("drop");
  await step("server closes the session (drop)", async () => {
    await withTimeout(disconnected, STEP_MS, "disconnect after drop");
    expectTrue(drop.connectedInHandler === false, "socket.connected is false inside the disconnect handler");
    return { reason: drop.reason };
  });
  await step("reconnects", async () => {
    await withTimeout(reconnected, CONNECT_MS, "reconnect");
    return { after: drop.after, ms: Math.round(drop.reconnectMs - drop.disconnectMs) };
  });
  await step("message sent while disconnected is delivered", async () => {
    const got = await box.next("echo", (a) => a[0] === "queued", STEP_MS);
    expectEqual(got, ["queued", "sent while disconnected", new Uint8Array([1, 2]).buffer], "queued echo");
  });
  await step("ack sent while disconnected is answered", async () => {
    expectEqual(await withTimeout(ackWhileDown, STEP_MS, "queued ack"), "queued ack", "queued ack");
  });
  await step("echo after reconnect", () => echo(box, socket, "after", 2).then(() => null));
}

main()
  .catch((err) => {
    result.error = String(err && err.stack ? err.stack : err);
  })
  .finally(() => {
    const socket = window.__socket;
    window.__snapshot?.();
    if (socket && result.negotiation == null) {
      // also when the page gave up early: what the client tried is the diagnosis
      result.negotiation = plain(socket.io?.negotiation ?? null);
      result.finalTransport = result.finalTransport ?? transportName(socket);
    }
    result.ok = !result.error && result.steps.length > 0 && result.steps.every((s) => s.ok);
    result.done = true;
    try {
      render();
    } catch (err) {
      result.error = result.error || `render: ${err}`;
    }
  });
