// Socket and Manager over a fake WebSocket: the test plays the server, frame by frame.

import { describe, it, afterEach } from "node:test";
import assert from "node:assert/strict";
import { io, Manager } from "../src/index.js";

const WAIT_MS = 2000;
const HANDSHAKE = { sid: "sid1", upgrades: [], pingInterval: 10000, pingTimeout: 5000, maxPayload: 1e6 };

/** An in-memory server: a WebSocket class whose instances the test drives. */
function fakeServer({ handshake = HANDSHAKE, autoConnect = true, refuse = false } = {}) {
  const server = { sockets: [], frames: [], waiters: [] };
  server.WebSocket = class {
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      server.sockets.push(this);
      setImmediate(() => {
        if (this.readyState != 0) return;
        if (refuse) return this.onerror?.({});
        this.readyState = 1;
        this.onopen?.();
        this.push("0" + JSON.stringify(handshake));
      });
    }
    /** A frame from the server. */
    push(data) {
      if (this.readyState == 1) this.onmessage?.({ data });
    }
    send(data) {
      server.frames.push(data);
      if (autoConnect && typeof data == "string" && data.startsWith("40")) {
        const nsp = data.match(/^40(\/[^,]*),/)?.[1];
        setImmediate(() => this.push(`40${nsp ? nsp + "," : ""}{"sid":"id-${nsp || "/"}"}`));
      }
      for (const w of server.waiters.splice(0)) w();
    }
    close() {
      this.readyState = 3;
    }
    /** The server drops the connection. */
    drop(error) {
      this.readyState = 3;
      error ? this.onerror?.({}) : this.onclose?.({});
    }
  };
  /** The latest connection. */
  server.ws = () => server.sockets[server.sockets.length - 1];
  /** Resolves once the client sent `n` frames in total. */
  server.frameCount = (n) =>
    until(() => server.frames.length >= n, `${n} frames (got ${JSON.stringify(server.frames)})`);
  return server;
}

/** Polls `cond` until true; rejects after WAIT_MS. */
async function until(cond, what) {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > WAIT_MS) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** The arguments of the next `event`; rejects after `ms`. */
function next(emitter, event, ms = WAIT_MS) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for "${event}"`)), ms);
    emitter.once(event, (...args) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const text = (frames) => frames.filter((f) => typeof f == "string");

const opened = [];
afterEach(() => {
  for (const s of opened.splice(0)) s.disconnect();
});

/** A socket on the fake server (own Manager). */
function connect(server, nsp = "/", opts = {}) {
  const s = io("http://fake.test" + nsp, {
    forceNew: true,
    WebSocket: server.WebSocket,
    transports: ["websocket"],
    reconnectionDelay: 10,
    reconnectionDelayMax: 20,
    rememberTransport: false,
    ...opts,
  });
  opened.push(s);
  return s;
}

describe("socket over a fake transport", () => {
  it("connects: handshake, CONNECT, id, transport event, negotiation", async () => {
    const server = fakeServer();
    const s = connect(server);
    const transports = [];
    s.on("transport", (t) => transports.push(t));
    await next(s, "connect");
    assert.equal(s.id, "id-/");
    assert.equal(s.connected, true);
    assert.equal(s.disconnected, false);
    assert.equal(s.transport, "websocket");
    assert.deepEqual(transports, ["websocket"]);
    assert.deepEqual(server.frames, ["40"]);
    assert.match(server.ws().url, /^ws:\/\/fake\.test\/socket\.io\/\?EIO=4&transport=websocket$/);
    assert.equal(s.io.negotiation.length, 1);
    assert.deepEqual({ ...s.io.negotiation[0], ms: 0 }, { transport: "websocket", ok: true, ms: 0 });
  });

  it("sends auth (object or callback) and the query", async () => {
    const server = fakeServer();
    const a = connect(server, "/", { auth: { token: "t" }, query: { v: "1" } });
    await next(a, "connect");
    assert.equal(server.frames[0], '40{"token":"t"}');
    assert.match(server.ws().url, /transport=websocket&v=1$/);
    const b = connect(server, "/admin", { auth: (cb) => setTimeout(() => cb({ n: 2 }), 5) });
    await next(b, "connect");
    assert.equal(server.frames[1], '40/admin,{"n":2}');
    assert.equal(b.id, "id-/admin");
  });

  it("buffers emits until connected, in order; volatile ones are dropped", async () => {
    const server = fakeServer();
    const s = connect(server);
    s.emit("a", 1);
    s.volatile.emit("lost");
    s.emit("b", { x: [2] });
    await next(s, "connect");
    s.volatile.emit("kept");
    assert.deepEqual(server.frames, ["40", '42["a",1]', '42["b",{"x":[2]}]', '42["kept"]']);
  });

  it("acks: callback, emitWithAck, and acks of server events", async () => {
    const server = fakeServer();
    const s = connect(server);
    await next(s, "connect");
    const got = new Promise((resolve) => s.emit("ask", 1, (...res) => resolve(res)));
    assert.equal(server.frames[1], '420["ask",1]');
    server.ws().push('430["yes",2]');
    assert.deepEqual(await got, ["yes", 2]);

    const p = s.emitWithAck("ask2");
    assert.equal(server.frames[2], '421["ask2"]');
    server.ws().push('431[{"ok":true}]');
    assert.deepEqual(await p, { ok: true });

    s.on("question", (q, ack) => {
      ack("answer", q);
      ack("twice");
    });
    server.ws().push('427["question",5]');
    await server.frameCount(4);
    assert.equal(server.frames[3], '437["answer",5]');
    await sleep(10);
    assert.equal(server.frames.length, 4);
  });

  it("ack timeouts: timeout(ms).emit, timeout(ms).emitWithAck, ackTimeout", async () => {
    const server = fakeServer();
    const s = connect(server, "/", { ackTimeout: 40 });
    await next(s, "connect");
    const [err] = await new Promise((resolve) => s.timeout(20).emit("slow", (...a) => resolve(a)));
    assert.equal(err.message, "operation has timed out");
    await assert.rejects(s.timeout(20).emitWithAck("slow"), /operation has timed out/);
    // A late answer is ignored.
    server.ws().push('430["late"]');

    // With ackTimeout, callbacks are error-first.
    const res = new Promise((resolve) => s.emit("fast", (...a) => resolve(a)));
    server.ws().push('432["ok"]');
    assert.deepEqual(await res, [null, "ok"]);
    const value = s.emitWithAck("fast");
    server.ws().push('433["v"]');
    assert.equal(await value, "v");
    await assert.rejects(s.emitWithAck("never"), /operation has timed out/);
  });

  it("binary: placeholders and attachments out, ArrayBuffers in", async () => {
    const server = fakeServer();
    const s = connect(server);
    await next(s, "connect");
    const bytes = new Uint8Array([1, 2, 3]);
    s.emit("up", { file: bytes, name: "f" });
    assert.equal(server.frames[1], '451-["up",{"file":{"_placeholder":true,"num":0},"name":"f"}]');
    assert.deepEqual(new Uint8Array(server.frames[2]), bytes);

    const got = next(s, "down");
    server.ws().push('451-["down",{"_placeholder":true,"num":0},"x"]');
    server.ws().push(new Uint8Array([9, 8]).buffer);
    const [data, x] = await got;
    assert.ok(data instanceof ArrayBuffer);
    assert.deepEqual([...new Uint8Array(data)], [9, 8]);
    assert.equal(x, "x");

    // A binary ack.
    s.on("need", (ack) => ack(new Uint8Array([7]).buffer));
    server.ws().push('423["need"]');
    await server.frameCount(5);
    assert.equal(server.frames[3], '461-3[{"_placeholder":true,"num":0}]');
  });

  it("reads Blobs before sending and keeps the order of later emits", async () => {
    const server = fakeServer();
    const s = connect(server);
    await next(s, "connect");
    s.emit("blob", new Blob([new Uint8Array([5, 6])]));
    s.emit("after");
    await server.frameCount(4);
    assert.equal(server.frames[1], '451-["blob",{"_placeholder":true,"num":0}]');
    assert.deepEqual([...new Uint8Array(server.frames[2])], [5, 6]);
    assert.equal(server.frames[3], '42["after"]');
  });

  it("answers pings and closes with \"ping timeout\" when they stop", async () => {
    const server = fakeServer({ handshake: { ...HANDSHAKE, pingInterval: 60, pingTimeout: 40 } });
    const s = connect(server, "/", { reconnection: false });
    await next(s, "connect");
    for (let i = 0; i < 4; i++) {
      await sleep(50);
      server.ws().push("2");
    }
    assert.equal(text(server.frames).filter((f) => f == "3").length, 4);
    assert.equal(s.connected, true);
    const [reason] = await next(s, "disconnect");
    assert.equal(reason, "ping timeout");
  });

  it("server disconnect (41): \"io server disconnect\", no reconnection", async () => {
    const server = fakeServer();
    const s = connect(server);
    await next(s, "connect");
    const disconnected = next(s, "disconnect");
    server.ws().push("41");
    // socket.io-client's second argument, `details`, is undefined for this reason.
    assert.deepEqual(await disconnected, ["io server disconnect", undefined]);
    assert.equal(s.active, false);
    await sleep(60);
    assert.equal(server.sockets.length, 1);
    assert.equal(server.ws().readyState, 3, "the engine connection is closed");
  });

  it("client disconnect: sends 41, \"io client disconnect\", no reconnection", async () => {
    const server = fakeServer();
    const s = connect(server);
    await next(s, "connect");
    const reason = next(s, "disconnect");
    s.disconnect();
    assert.deepEqual(await reason, ["io client disconnect", undefined]);
    assert.deepEqual(server.frames, ["40", "41"]);
    await sleep(60);
    assert.equal(server.sockets.length, 1);
  });

  // The `details` of each, as socket.io-client gives them.
  for (const [name, act, reason, check] of [
    ["transport close", (ws) => ws.drop(), "transport close", (d) => assert.equal(d.description, "websocket connection closed") || assert.ok(d.context)],
    ["transport error", (ws) => ws.drop(true), "transport error", (d) => {
      assert.ok(d instanceof Error);
      assert.equal(d.message, "websocket error");
      assert.equal(d.type, "TransportError");
      assert.ok(d.description && d.context);
    }],
    ["engine close packet", (ws) => ws.push("1"), "transport close", (d) => assert.deepEqual(d, { description: "transport closed by the server" })],
  ]) {
    it(`${name}: "${reason}", then reconnects and resends CONNECT`, async () => {
      const server = fakeServer();
      const s = connect(server);
      await next(s, "connect");
      const attempts = [];
      s.io.on("reconnect_attempt", (n) => attempts.push(n));
      const disconnected = next(s, "disconnect");
      const reconnected = next(s.io, "reconnect");
      act(server.ws());
      const [why, details] = await disconnected;
      assert.equal(why, reason);
      check(details);
      assert.equal(s.connected, false);
      await next(s, "connect");
      assert.deepEqual(await reconnected, [1]);
      assert.deepEqual(attempts, [1]);
      assert.equal(server.sockets.length, 2);
      assert.deepEqual(server.frames, ["40", "40"]);
    });
  }

  it("undecodable packets are dropped and reported; the connection carries on", async () => {
    const reported = [];
    globalThis.reportError = (err) => reported.push(err);
    try {
      const server = fakeServer();
      const s = connect(server);
      await next(s, "connect");
      const got = [];
      s.on("n", (i) => got.push(i));
      const done = next(s, "done");
      const ws = server.ws();
      ws.push("9"); // no such Engine.IO packet type
      ws.push("4x"); // no such Socket.IO packet type
      // A binary packet whose attachment never comes: the next text drops it.
      ws.push('451-["n",{"_placeholder":true,"num":0}]');
      ws.push('42["n",1]');
      ws.push(new Uint8Array([1]).buffer); // an attachment nobody waits for
      ws.push('42["n",2]');
      ws.push('42["done"]');
      await done;
      assert.deepEqual(got, [2]);
      assert.deepEqual(
        reported.map((e) => e.message),
        ["UnknownPacketType", "UnknownPacketType", "UnexpectedText", "UnexpectedBinary"],
      );
      assert.equal(s.connected, true);
      assert.equal(server.sockets.length, 1);
    } finally {
      delete globalThis.reportError;
    }
  });

  it("connect_error with the server's message and data; the socket stays down", async () => {
    const server = fakeServer({ autoConnect: false });
    const s = connect(server, "/admin");
    await server.frameCount(1);
    const failed = next(s, "connect_error");
    server.ws().push('44/admin,{"message":"unauthorized","data":{"code":"E"}}');
    const [err] = await failed;
    assert.ok(err instanceof Error);
    assert.equal(err.message, "unauthorized");
    assert.deepEqual(err.data, { code: "E" });
    assert.equal(s.active, false);
    assert.equal(s.connected, false);
  });

  it("connect_error when the server cannot be reached, then reconnect_failed", async () => {
    const server = fakeServer({ refuse: true });
    const s = connect(server, "/", { reconnectionAttempts: 2 });
    const errors = [];
    s.on("connect_error", (e) => errors.push(e.message));
    await next(s.io, "reconnect_failed");
    assert.deepEqual(errors, ["websocket transport error", "websocket transport error", "websocket transport error"]);
    assert.equal(server.sockets.length, 3);
    assert.deepEqual(s.io.negotiation.map((n) => [n.transport, n.ok, n.reason]), [["websocket", false, "transport error"]]);
  });

  it("multiplexes namespaces over one connection and routes packets by namespace", async () => {
    const server = fakeServer();
    const a = io("http://mux.test/", { WebSocket: server.WebSocket, transports: ["websocket"] });
    const b = io("http://mux.test/chat", { WebSocket: server.WebSocket, transports: ["websocket"] });
    opened.push(a, b);
    assert.equal(a.io, b.io);
    await Promise.all([next(a, "connect"), next(b, "connect")]);
    assert.equal(server.sockets.length, 1);
    const gotA = next(a, "m");
    const gotB = next(b, "m");
    server.ws().push('42["m","to-a"]');
    server.ws().push('42/chat,["m","to-b"]');
    assert.deepEqual(await gotA, ["to-a"]);
    assert.deepEqual(await gotB, ["to-b"]);
    b.emit("hi");
    assert.equal(server.frames.at(-1), '42/chat,["hi"]');
    // A second socket for a namespace that already has one gets its own connection.
    const c = io("http://mux.test/chat", { WebSocket: server.WebSocket, transports: ["websocket"] });
    opened.push(c);
    assert.notEqual(c.io, b.io);
    // Closing one namespace keeps the connection of the other.
    b.disconnect();
    await sleep(20);
    assert.equal(server.sockets[0].readyState, 1);
    assert.equal(a.connected, true);
  });

  it("onAny sees every event; reserved names cannot be emitted", async () => {
    const server = fakeServer();
    const s = connect(server);
    await next(s, "connect");
    const any = [];
    s.onAny((...args) => any.push(args));
    server.ws().push('42["x",1]');
    server.ws().push('42["y"]');
    assert.deepEqual(any, [["x", 1], ["y"]]);
    assert.throws(() => s.emit("connect"), /reserved event name/);
    assert.throws(() => s.emit("disconnect"), /reserved/);
  });

  it("a socket joining an open connection is told the transport before connect", async () => {
    const server = fakeServer();
    const a = connect(server);
    await next(a, "connect");
    const b = a.io.socket("/late");
    opened.push(b);
    const order = [];
    b.on("transport", (t) => order.push(t));
    b.on("connect", () => order.push("connect"));
    await next(b, "connect");
    assert.deepEqual(order, ["websocket", "connect"]);
  });

  it("polling batches queued packets into POSTs of at most maxPayload bytes, in order", async () => {
    const handshake = { ...HANDSHAKE, upgrades: ["websocket"], maxPayload: 100 };
    const posts = [];
    const gets = [];
    const fetch = async (url, init = {}) => {
      const sid = new URL(url).searchParams.get("sid");
      if ((init.method || "GET") == "POST") {
        posts.push(init.body);
        await sleep(5);
        return new Response("ok");
      }
      if (!sid) return new Response("0" + JSON.stringify(handshake));
      return new Promise((resolve, reject) => {
        gets.push((body) => resolve(new Response(body)));
        init.signal?.addEventListener("abort", () => reject(new Error("aborted")));
      });
    };
    const s = io("http://batch.test", { forceNew: true, fetch, transports: ["polling"], rememberTransport: false });
    opened.push(s);
    await until(() => posts.length == 1 && gets.length == 1, "CONNECT and a GET");
    assert.equal(posts[0], "40");
    gets.shift()('40{"sid":"x"}');
    await next(s, "connect");
    const messages = Array.from({ length: 20 }, (_, i) => `m${String(i).padStart(2, "0")}`);
    for (const m of messages) s.emit("e", m, "é".repeat(5));
    await until(() => posts.join("\x1e").split("\x1e").length == 21, "every message posted");
    for (const body of posts) assert.ok(Buffer.byteLength(body) <= 100, `POST of ${Buffer.byteLength(body)} bytes`);
    assert.ok(posts.length > 3);
    const sent = posts.slice(1).join("\x1e").split("\x1e");
    assert.deepEqual(sent, messages.map((m) => `42["e","${m}","${"é".repeat(5)}"]`));
    // The server's ping comes down a GET; the pong goes up a POST.
    await until(() => gets.length == 1, "the next GET");
    gets.shift()("2");
    await until(() => posts.at(-1) == "3", "the pong");
  });

  it("an upgrade probe that dies during the pause resumes polling, never two GETs at once", async () => {
    const handshake = { ...HANDSHAKE, upgrades: ["websocket"] };
    const posts = [];
    const gets = [];
    let out = 0;
    let most = 0;
    const fetch = async (url, init = {}) => {
      const sid = new URL(url).searchParams.get("sid");
      if ((init.method || "GET") == "POST") {
        posts.push(init.body);
        return new Response("ok");
      }
      if (!sid) return new Response("0" + JSON.stringify(handshake));
      most = Math.max(most, ++out);
      return new Promise((resolve, reject) => {
        gets.push((body) => (out--, resolve(new Response(body))));
        init.signal?.addEventListener("abort", () => (out--, reject(new Error("aborted"))));
      });
    };
    const probes = [];
    class ProbeSocket {
      constructor(url) {
        this.url = url;
        probes.push(this);
        setImmediate(() => this.onopen());
      }
      send(data) {
        this.sent = data;
      }
      close() {}
    }
    const s = io("http://probe.test", {
      forceNew: true,
      fetch,
      WebSocket: ProbeSocket,
      transports: ["polling", "websocket"],
      rememberTransport: false,
    });
    opened.push(s);
    await until(() => posts.length == 1 && gets.length == 1, "CONNECT and a GET");
    gets.shift()('40{"sid":"x"}');
    await next(s, "connect");
    await until(() => gets.length == 1 && probes[0]?.sent == "2probe", "the next GET and the probe");
    assert.match(probes[0].url, /transport=websocket&sid=sid1/);
    // The probe is answered: polling pauses, its GET still out; then the websocket dies.
    probes[0].onmessage({ data: "3probe" });
    await sleep(20);
    assert.equal(s.transport, "polling");
    probes[0].onclose();
    await sleep(20);
    assert.equal(gets.length, 1, "no second GET while the first is out");
    s.emit("still", "polling");
    await until(() => posts.includes('42["still","polling"]'), "the emit after the failed upgrade");
    gets.shift()('42["m"]');
    await next(s, "m");
    await until(() => gets.length == 1, "polling goes on");
    assert.equal(most, 1);
    assert.deepEqual(
      s.io.negotiation.map((n) => [n.transport, n.ok, n.reason ?? null]),
      [
        ["polling", true, null],
        ["websocket", false, "transport close"],
      ],
    );
  });

  it("a manual Manager: socket(), open callback, no autoConnect", async () => {
    const server = fakeServer();
    const m = new Manager("http://manual.test", {
      WebSocket: server.WebSocket,
      transports: ["websocket"],
      autoConnect: false,
    });
    const s = m.socket("/");
    opened.push(s);
    assert.equal(server.sockets.length, 0);
    await new Promise((resolve, reject) => m.open((err) => (err ? reject(err) : resolve())));
    s.connect();
    await next(s, "connect");
    assert.equal(m.socket("/"), s);
  });
});

describe("socket.io-client's habits", () => {
  it("on, once, off, onAny, prependAny, offAny return the socket; subscribe returns the unsubscribe", async () => {
    const server = fakeServer();
    const s = connect(server);
    await next(s, "connect");
    const got = [];
    const a = (x) => got.push(["a", x]);
    const any = (e, x) => got.push(["any", e, x]);
    const first = (e) => got.push(["first", e]);
    assert.equal(s.on("x", a).once("x", (x) => got.push(["once", x])).onAny(any).prependAny(first), s);
    const off = s.subscribe("x", (x) => got.push(["sub", x]));
    server.ws().push('42["x",1]');
    off();
    assert.equal(s.off("x", a), s);
    server.ws().push('42["x",2]');
    assert.equal(s.offAny(any), s);
    server.ws().push('42["x",3]');
    assert.deepEqual(got, [
      ["first", "x"], ["any", "x", 1], ["a", 1], ["once", 1], ["sub", 1],
      ["first", "x"], ["any", "x", 2],
      ["first", "x"],
    ]);
    assert.deepEqual(s.listenersAny(), [first]);
    assert.equal(s.offAny(), s);
    assert.deepEqual(s.listenersAny(), []);
  });

  it("removeListener, removeAllListeners, hasListeners, listeners", () => {
    const server = fakeServer();
    const s = connect(server, "/", { autoConnect: false });
    const a = () => {};
    const b = () => {};
    s.on("x", a).on("x", b).once("y", a);
    assert.equal(s.hasListeners("x"), true);
    assert.deepEqual(s.listeners("x"), [a, b]);
    assert.equal(s.removeListener("x", a), s);
    assert.deepEqual(s.listeners("x"), [b]);
    assert.equal(s.removeListener("y", a).hasListeners("y"), false, "a once listener is removed by its function");
    assert.equal(s.removeAllListeners("x").hasListeners("x"), false);
    s.on("x", a).on("z", b);
    assert.equal(s.removeAllListeners(), s);
    assert.equal(s.hasListeners("x") || s.hasListeners("z"), false);
  });

  it("onAnyOutgoing sees each event when it is sent (buffered ones on connect), without the ack", async () => {
    const server = fakeServer();
    const s = connect(server, "/", { autoConnect: false });
    const out = [];
    const all = (...args) => out.push(args);
    const first = (event) => out.push(["first", event]);
    assert.equal(s.onAnyOutgoing(all).prependAnyOutgoing(first), s);
    s.emit("buffered", 1, () => {});
    assert.deepEqual(out, [], "not sent yet");
    s.connect();
    await next(s, "connect");
    s.emit("live", { a: 1 });
    assert.deepEqual(out, [["first", "buffered"], ["buffered", 1], ["first", "live"], ["live", { a: 1 }]]);
    assert.deepEqual(s.listenersAnyOutgoing(), [first, all]);
    s.offAnyOutgoing(first).emit("after");
    assert.deepEqual(out.slice(4), [["after"]]);
    s.offAnyOutgoing().emit("none");
    assert.equal(out.length, 5);
  });

  it("io.opts, rememberUpgrade, addTrailingSlash", async () => {
    const server = fakeServer();
    const s = connect(server, "/", { path: "/rt", addTrailingSlash: false, rememberTransport: undefined, rememberUpgrade: false });
    await next(s, "connect");
    assert.match(server.ws().url, /^ws:\/\/fake\.test\/rt\?EIO=4&transport=websocket$/);
    assert.equal(s.io.opts.path, "/rt");
    assert.equal(s.io.opts.rememberTransport, false, "rememberUpgrade: false turns the remembered transport off");
    const t = connect(server, "/", { path: "/rt", rememberTransport: undefined });
    await next(t, "connect");
    assert.match(server.ws().url, /^ws:\/\/fake\.test\/rt\/\?EIO=4/);
    assert.equal(t.io.opts.rememberTransport, true);
  });

  it("closeOnBeforeunload closes the connection silently when the page unloads", async () => {
    const target = new EventTarget();
    globalThis.addEventListener = target.addEventListener.bind(target);
    globalThis.removeEventListener = target.removeEventListener.bind(target);
    try {
      const server = fakeServer();
      const kept = connect(server);
      await next(kept, "connect");
      const s = connect(server, "/", { closeOnBeforeunload: true });
      await next(s, "connect");
      const events = [];
      s.on("disconnect", () => events.push("disconnect"));
      s.io.on("close", () => events.push("close"));
      target.dispatchEvent(new Event("beforeunload"));
      assert.equal(server.ws().readyState, 3, "closed");
      assert.notEqual(server.sockets[0].readyState, 3, "the socket without the option stays");
      await sleep(30);
      assert.deepEqual(events, [], "no event while the page unloads");
    } finally {
      delete globalThis.addEventListener;
      delete globalThis.removeEventListener;
    }
  });
});

describe("a websocket that opens and stays silent (a proxy answered 101, forwards nothing)", () => {
  /** A WebSocket that opens after `openMs` and sends the open packet `packetMs` later (never if null). */
  const slowWebSocket = (openMs, packetMs) =>
    class {
      constructor(url) {
        this.url = url;
        this.readyState = 0;
        setTimeout(() => {
          if (this.readyState != 0) return;
          this.readyState = 1;
          this.onopen?.();
          if (packetMs != null) {
            setTimeout(() => this.readyState == 1 && this.onmessage?.({ data: "0" + JSON.stringify(HANDSHAKE) }), packetMs);
          }
        }, openMs);
      }
      send(data) {
        if (typeof data == "string" && data.startsWith("40")) {
          setImmediate(() => this.readyState == 1 && this.onmessage?.({ data: '40{"sid":"ws"}' }));
        }
      }
      close() {
        this.readyState = 3;
      }
    };
  /** Polling that answers the handshake and CONNECT at once. */
  const fetch = async (url, init = {}) => {
    if ((init.method || "GET") == "POST") return new Response("ok");
    if (!new URL(url).searchParams.get("sid")) return new Response("0" + JSON.stringify({ ...HANDSHAKE, sid: "p" }));
    if (!fetch.connected) return (fetch.connected = true), new Response('40{"sid":"polling"}');
    return new Promise((_, reject) => init.signal?.addEventListener("abort", () => reject(new Error("aborted"))));
  };
  const open = (WebSocket) => {
    fetch.connected = false;
    const s = io("http://silent.test", { forceNew: true, WebSocket, fetch, transports: ["websocket", "polling"], rememberTransport: false });
    opened.push(s);
    return s;
  };

  it("moves down the ladder 500 ms after the websocket opened, not at the 3 s deadline", async () => {
    const s = open(slowWebSocket(5, null));
    const t0 = Date.now();
    await next(s, "connect", 2500);
    assert.equal(s.transport, "polling");
    const [ws] = s.io.negotiation;
    assert.equal(ws.reason, "silent");
    assert.ok(ws.ms >= 490 && ws.ms < 1500, `websocket given up after ${ws.ms} ms`);
    assert.ok(Date.now() - t0 < 1600);
  });

  it("keeps websocket on a slow network: the budget is twice the time the connection took to open", async () => {
    // Opens after 1.2 s (a slow connect) and answers 1 s later: within 2 × 1.2 s.
    const s = open(slowWebSocket(1200, 1000));
    await next(s, "connect", 4000);
    assert.equal(s.transport, "websocket");
    assert.deepEqual(s.io.negotiation.map((n) => [n.transport, n.ok]), [["websocket", true]]);
  });
});
