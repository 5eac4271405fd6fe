// Emitter, backoff and ladder units.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Emitter } from "../src/emitter.js";
import { Backoff } from "../src/backoff.js";
import { LADDER, available, deadline, plan, recall, remember, silence } from "../src/ladder.js";

describe("emitter", () => {
  it("on, once and off return the emitter (chainable, as socket.io-client)", () => {
    const e = new Emitter();
    const got = [];
    const fn = (a) => got.push(a);
    assert.equal(e.on("x", fn).once("x", fn).off("y"), e);
    e.emit("x", 1).emit("x", 2);
    assert.deepEqual(got, [1, 1, 2]);
  });

  it("subscribe returns the unsubscribe function", () => {
    const e = new Emitter();
    const got = [];
    const off = e.subscribe("x", (a, b) => got.push([a, b]));
    e.emit("x", 1, 2);
    off();
    e.emit("x", 3, 4);
    assert.deepEqual(got, [[1, 2]]);
  });

  it("once fires once and can be removed by the original function", () => {
    const e = new Emitter();
    let n = 0;
    const fn = () => n++;
    e.once("x", fn);
    e.emit("x");
    e.emit("x");
    assert.equal(n, 1);
    e.once("y", fn);
    e.off("y", fn);
    e.emit("y");
    assert.equal(n, 1);
  });

  it("off removes one listener, all of an event, or all", () => {
    const e = new Emitter();
    const got = [];
    const a = () => got.push("a");
    const b = () => got.push("b");
    e.on("x", a);
    e.on("x", b);
    e.on("y", a);
    e.off("x", a);
    e.emit("x");
    e.off("x");
    e.emit("x");
    e.emit("y");
    e.off();
    e.emit("y");
    assert.deepEqual(got, ["b", "a"]);
    assert.deepEqual(e.listeners("y"), []);
  });

  it("a listener removed while emitting does not change that emit", () => {
    const e = new Emitter();
    const got = [];
    let offB;
    e.on("x", () => {
      got.push("a");
      offB();
    });
    offB = e.subscribe("x", () => got.push("b"));
    e.emit("x");
    e.emit("x");
    assert.deepEqual(got, ["a", "b", "a"]);
  });
});

describe("backoff", () => {
  it("grows exponentially up to max without jitter", () => {
    const b = new Backoff({ min: 100, max: 1000, jitter: 0 });
    assert.deepEqual(
      Array.from({ length: 6 }, () => b.duration()),
      [100, 200, 400, 800, 1000, 1000],
    );
    assert.equal(b.attempts, 6);
    b.reset();
    assert.equal(b.duration(), 100);
  });

  it("spreads each delay by ±jitter with the injected random", () => {
    const seq = [0, 1, 0.5, 0.25];
    const b = new Backoff({ min: 1000, max: 5000, jitter: 0.5, random: () => seq.shift() });
    // 1000 * (1 - 0.5), 2000 * (1 + 0.5), 4000 * 1, min(8000 → 5000) * 0.75
    assert.deepEqual([b.duration(), b.duration(), b.duration(), b.duration()], [500, 3000, 4000, 3750]);
  });

  it("never exceeds max and survives many attempts", () => {
    const b = new Backoff({ min: 1000, max: 5000, jitter: 0.5, random: () => 1 });
    for (let i = 0; i < 2000; i++) assert.ok(b.duration() <= 5000);
  });
});

describe("ladder", () => {
  const WebSocket = class {};
  const store = new Map();
  const fakeStorage = {
    getItem: (k) => (store.has(k) ? store.get(k) : null),
    setItem: (k, v) => store.set(k, String(v)),
  };

  it("keeps the ladder order, restricted by transports", () => {
    assert.deepEqual(LADDER, ["websocket", "streaming", "polling"]);
    assert.deepEqual(plan({ WebSocket }, "k").order, LADDER);
    assert.deepEqual(plan({ WebSocket, transports: ["polling", "websocket"] }, "k").order, ["polling", "websocket"]);
    assert.deepEqual(plan({ WebSocket, transports: ["streaming", "bogus"] }, "k").order, ["streaming"]);
  });

  it("skips a rung whose browser feature is missing", () => {
    // Node 20 has fetch and ReadableStream but no WebSocket or EventSource.
    assert.equal(available("websocket", {}), typeof globalThis.WebSocket == "function");
    assert.equal(available("streaming", {}), true);
    assert.equal(available("streaming", { fetch: null, EventSource: class {} }), true);
    assert.deepEqual(plan({ WebSocket: null, transports: LADDER }, "k").order.includes("websocket"), !!globalThis.WebSocket);
  });

  it("starts from the remembered transport and survives broken storage", () => {
    globalThis.localStorage = fakeStorage;
    try {
      remember("k", "streaming", 42);
      assert.deepEqual(recall("k"), { transport: "streaming", rtt: 42 });
      const p = plan({ WebSocket, rememberTransport: true }, "k");
      assert.deepEqual(p, { order: ["streaming", "polling", "websocket"], rtt: 42 });
      assert.deepEqual(plan({ WebSocket, rememberTransport: false }, "k").order, LADDER);
      store.set("k", "{not json");
      assert.deepEqual(plan({ WebSocket, rememberTransport: true }, "k").order, LADDER);
      store.set("k", '{"transport":"nope","rtt":"x"}');
      assert.deepEqual(plan({ WebSocket, rememberTransport: true }, "k"), { order: LADDER, rtt: undefined });
      store.set("k", "null");
      assert.deepEqual(plan({ WebSocket, rememberTransport: true }, "k").order, LADDER);
      globalThis.localStorage = {
        getItem() {
          throw new Error("SecurityError");
        },
        setItem() {
          throw new Error("QuotaExceeded");
        },
      };
      remember("k", "polling", 1);
      assert.deepEqual(recall("k"), {});
    } finally {
      delete globalThis.localStorage;
    }
  });

  it("derives each deadline from the round trip, with a floor and the timeout as cap", () => {
    assert.equal(deadline(undefined, 20000), 3000);
    assert.equal(deadline(10, 20000), 1000);
    assert.equal(deadline(800, 20000), 3200);
    assert.equal(deadline(800, 2000), 2000);
    assert.equal(deadline(10, 20000, 2), 4000);
    assert.equal(deadline(10, 20000, 0, true), 20000);
  });

  it("a websocket that opened gets twice its opening time (at least 500 ms) for the open packet", () => {
    assert.equal(silence(5, 20000), 500);
    assert.equal(silence(1200, 20000), 2400);
    assert.equal(silence(15000, 20000), 20000);
  });
});

describe("emitter: hostile names and throwing listeners", () => {
  const NAMES = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"];

  it("events named after Object.prototype members: on, once, emit, listeners, off", () => {
    const e = new Emitter();
    for (const name of NAMES) assert.deepEqual(e.listeners(name), [], name);
    e.emit("toString", "nobody listens");
    const got = [];
    for (const name of NAMES) {
      e.on(name, (v) => got.push([name, v]));
      e.once(name, (v) => got.push(["once " + name, v]));
    }
    for (const name of NAMES) e.emit(name, 1);
    for (const name of NAMES) e.emit(name, 2);
    assert.deepEqual(got, [
      ...NAMES.flatMap((name) => [[name, 1], ["once " + name, 1]]),
      ...NAMES.map((name) => [name, 2]),
    ]);
    e.off("__proto__");
    assert.deepEqual(e.listeners("__proto__"), []);
    assert.equal(e.listeners("constructor").length, 1);
    assert.equal(Object.getPrototypeOf(e), Emitter.prototype);
  });

  it("a throwing listener: the next ones still run, emit returns, the error is reported", () => {
    const reported = [];
    globalThis.reportError = (err) => reported.push(err);
    try {
      const e = new Emitter();
      const boom = new Error("boom");
      const got = [];
      e.on("x", () => {
        throw boom;
      });
      e.on("x", (v) => got.push(v));
      assert.equal(e.emit("x", 1), e);
      assert.deepEqual(got, [1]);
      assert.deepEqual(reported, [boom]);
    } finally {
      delete globalThis.reportError;
    }
  });
});
