// `retries` and `ackTimeout` (socket.io-client's options), every try of an emit with the same
// ack id; and what a recovered socket owes the server: the offset of events asked with an ack,
// and the acknowledgements lost with the connection. Over a fake WebSocket server the test
// drives frame by frame; waits are on frames and events, never on sleeps.

import { describe, it, afterEach } from "node:test";
import assert from "node:assert/strict";
import { io } from "../src/index.js";

const WAIT_MS = 2000;
const HANDSHAKE = { sid: "sid1", upgrades: [], pingInterval: 10000, pingTimeout: 5000, maxPayload: 1e6 };

/**
 * A WebSocket server in memory. Answers each CONNECT with `connectReply(frame, n)` (n: how
 * many CONNECTs so far), by default `40{"sid":"id"}`. `frames` holds what the client sent;
 * `frame(match)` resolves with the next frame that matches (a string or a RegExp), searching
 * from the one after the last frame it returned, waiting for it if it has not come yet.
 */
function fakeServer({ connectReply = () => '40{"sid":"id"}' } = {}) {
  const server = { sockets: [], frames: [], cursor: 0, waiter: null, connects: 0 };
  server.WebSocket = class {
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      server.sockets.push(this);
      setImmediate(() => {
        this.readyState = 1;
        this.onopen?.();
        this.push("0" + JSON.stringify(HANDSHAKE));
      });
    }
    push(data) {
      if (this.readyState == 1) this.onmessage?.({ data });
    }
    send(data) {
      if (this.readyState != 1) return;
      server.frames.push(data);
      if (data.startsWith("40")) {
        const reply = connectReply(data, ++server.connects);
        setImmediate(() => this.push(reply));
      }
      server.waiter?.();
    }
    close() {
      this.readyState = 3;
    }
    /** The connection breaks (no close frame). */
    drop() {
      this.readyState = 3;
      this.onclose?.({ code: 1006, wasClean: false });
    }
  };
  const matches = (match, data) => (typeof match == "string" ? data == match : match.test(data));
  server.frame = (match, ms = WAIT_MS) =>
    new Promise((resolve, reject) => {
      const look = () => {
        const i = server.frames.findIndex((data, i) => i >= server.cursor && matches(match, data));
        if (i < 0) return;
        server.cursor = i + 1;
        server.waiter = null;
        clearTimeout(timer);
        resolve(server.frames[i]);
      };
      const timer = setTimeout(() => {
        server.waiter = null;
        reject(new Error(`no frame ${match} (got ${JSON.stringify(server.frames)})`));
      }, ms);
      server.waiter = look;
      look();
    });
  server.ws = () => server.sockets[server.sockets.length - 1];
  return server;
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

/** Resolves with the arguments of the callback passed to `start`. */
const called = (start) => new Promise((resolve) => start((...args) => resolve(args)));

const opened = [];
afterEach(() => {
  for (const s of opened.splice(0)) s.disconnect();
});

function connect(server, opts = {}) {
  const s = io("http://fake.test", {
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

describe("retries", () => {
  it("one emit out at a time, each try with the same ack id, until acked or out of retries", async () => {
    const server = fakeServer();
    const s = connect(server, { retries: 2, ackTimeout: 30 });
    await next(s, "connect");
    const first = called((cb) => s.emit("a", 1, cb));
    const second = s.emitWithAck("b", 2);
    s.emit("c", 3);
    // The first try, then a second after its timeout: same packet, same id; "b" waits.
    await server.frame('420["a",1]');
    await server.frame('420["a",1]');
    server.ws().push('430["ok-a"]');
    assert.deepEqual(await first, [null, "ok-a"]);
    // A late answer to an earlier try of the same emit is ignored.
    server.ws().push('430["again"]');
    await server.frame('421["b",2]');
    server.ws().push('431["ok-b"]');
    assert.equal(await second, "ok-b");
    // Never acked: 1 try + 2 retries, then the timeout error.
    for (let i = 0; i < 3; i++) await server.frame('422["c",3]');
    const late = s.emitWithAck("d");
    await server.frame('423["d"]');
    server.ws().push('433[4]');
    assert.equal(await late, 4);
    assert.equal(server.frames.filter((f) => f == '422["c",3]').length, 3);
    assert.equal(server.frames.filter((f) => f == '420["a",1]').length, 2);
  });

  it("gives up with \"operation has timed out\" after `retries` timeouts", async () => {
    const server = fakeServer();
    const s = connect(server, { retries: 1 });
    await next(s, "connect");
    const [err] = await called((cb) => s.timeout(20).emit("never", cb));
    assert.equal(err.message, "operation has timed out");
    await assert.rejects(s.timeout(20).emitWithAck("never"), /operation has timed out/);
    assert.deepEqual(server.frames.slice(1), ['420["never"]', '420["never"]', '421["never"]', '421["never"]']);
  });

  it("an emit out when the connection breaks goes again, same id, after the reconnection; order kept", async () => {
    const server = fakeServer();
    const s = connect(server, { retries: 3 });
    await next(s, "connect");
    const disconnected = [];
    s.on("disconnect", (reason) => disconnected.push(reason));
    const a = s.emitWithAck("a");
    const b = s.emitWithAck("b");
    await server.frame('420["a"]');
    server.ws().drop();
    // Emitted while disconnected: queued behind "b".
    const c = s.emitWithAck("c");
    await server.frame("40");
    await server.frame('420["a"]');
    server.ws().push('430["A"]');
    assert.equal(await a, "A");
    await server.frame('421["b"]');
    server.ws().push('431["B"]');
    await server.frame('422["c"]');
    server.ws().push('432["C"]');
    assert.deepEqual([await b, await c], ["B", "C"]);
    assert.deepEqual(disconnected, ["transport close"]);
    assert.deepEqual(server.frames, ["40", '420["a"]', "40", '420["a"]', '421["b"]', '422["c"]']);
  });

  it("without retries, an ack out when the connection breaks fails (as socket.io-client)", async () => {
    const server = fakeServer();
    const s = connect(server, { ackTimeout: 1000 });
    await next(s, "connect");
    const lost = s.emitWithAck("a");
    await server.frame('420["a"]');
    server.ws().drop();
    await assert.rejects(lost, /socket has been disconnected/);
  });

  it("without a timeout, emitWithAck rejects when the connection breaks; a plain ack callback is dropped", async () => {
    const server = fakeServer();
    const s = connect(server);
    await next(s, "connect");
    const lost = s.emitWithAck("a");
    let called = false;
    s.emit("b", () => (called = true));
    await server.frame('421["b"]');
    server.ws().drop();
    await assert.rejects(lost, /socket has been disconnected/);
    await next(s, "connect");
    // A late answer for the dropped callback is ignored.
    const after = next(s, "after");
    server.ws().push('431["late"]');
    server.ws().push('42["after"]');
    await after;
    assert.equal(called, false);
  });

  it("volatile emits skip the queue", async () => {
    const server = fakeServer();
    const s = connect(server, { retries: 3 });
    await next(s, "connect");
    s.emit("queued", () => {});
    s.volatile.emit("now");
    await server.frame('42["now"]');
    assert.deepEqual(server.frames, ["40", '420["queued"]', '42["now"]']);
  });
});

describe("recovery", () => {
  // With recovery, the CONNECT reply has a pid; a reconnection recovers when it sends it back.
  const recovering = () => fakeServer({ connectReply: () => '40{"sid":"id","pid":"p"}' });

  it("the offset of an event asked with an ack is sent back on reconnection", async () => {
    const server = recovering();
    const s = connect(server);
    await next(s, "connect");
    const got = next(s, "ask");
    server.ws().push('425["ask",1,"17"]');
    const [n, offset, ack] = await got;
    assert.deepEqual([n, offset, typeof ack], [1, "17", "function"]);
    server.ws().drop();
    assert.equal(await server.frame(/^40\{/), '40{"pid":"p","offset":"17"}');
  });

  it("acks lost with the connection go again when the socket is recovered, and only then", async () => {
    const server = recovering();
    const s = connect(server);
    await next(s, "connect");
    s.on("ask", (n, _offset, ack) => ack(n * 10));
    server.ws().push('425["ask",1,"1"]');
    server.ws().push('426["ask",2,"2"]');
    await server.frame("436[20]");
    server.ws().drop();
    await server.frame(/^40\{/);
    await next(s, "connect");
    assert.equal(s.recovered, true);
    // Sent again, in order, before anything else of the new connection.
    assert.deepEqual(server.frames.slice(-2), ["435[10]", "436[20]"]);
    server.ws().push('42["x"]');

    // Not recovered (a new socket): nothing owed any more.
    const fresh = fakeServer({ connectReply: (_, n) => `40{"sid":"id${n}","pid":"p${n}"}` });
    const t = connect(fresh);
    await next(t, "connect");
    t.on("ask", (ack) => ack("yes"));
    fresh.ws().push('427["ask"]');
    await fresh.frame('437["yes"]');
    fresh.ws().drop();
    await next(t, "connect");
    assert.equal(t.recovered, false);
    t.emit("after");
    await fresh.frame('42["after"]');
    assert.deepEqual(fresh.frames, ["40", '437["yes"]', '40{"pid":"p1"}', '42["after"]']);
  });
});
