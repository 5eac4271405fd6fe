// The official engine.io-client (v6) against a server that serves the raw Engine.IO echo on
// /engine.io/ (ferrio's conformance server, or the Node reference): FERRIO_URL, default
// http://127.0.0.1:3000. Run through ./run.sh.

"use strict";

const { describe, it, afterEach } = require("node:test");
const assert = require("node:assert/strict");
const { Socket } = require("engine.io-client");

const URL = process.env.FERRIO_URL || "http://127.0.0.1:3000";
const WAIT_MS = 5000;

const sockets = new Set();

function open(opts) {
  const socket = new Socket(URL, { path: "/engine.io/", ...opts });
  sockets.add(socket);
  return socket;
}

afterEach(() => {
  for (const socket of sockets) socket.close();
  sockets.clear();
});

/** Resolves with the first emission of `event`; rejects on timeout, error or close. */
function once(socket, event, ms = WAIT_MS) {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      socket.off(event, onEvent);
      socket.off("error", onError);
      socket.off("close", onClose);
    };
    const onEvent = (value) => {
      cleanup();
      resolve(value);
    };
    const onError = (err) => {
      cleanup();
      reject(new Error(`error while waiting for "${event}": ${err && err.message ? err.message : err}`));
    };
    const onClose = (reason) => {
      cleanup();
      reject(new Error(`closed (${reason}) while waiting for "${event}"`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${ms} ms waiting for "${event}"`));
    }, ms);
    socket.on(event, onEvent);
    socket.on("error", onError);
    if (event !== "close") socket.on("close", onClose);
  });
}

/** Collects the next `count` messages. */
function messages(socket, count, ms = WAIT_MS) {
  return new Promise((resolve, reject) => {
    const received = [];
    const timer = setTimeout(() => {
      socket.off("message", onMessage);
      reject(new Error(`timed out after ${ms} ms with ${received.length}/${count} messages`));
    }, ms);
    const onMessage = (data) => {
      received.push(data);
      if (received.length === count) {
        clearTimeout(timer);
        socket.off("message", onMessage);
        resolve(received);
      }
    };
    socket.on("message", onMessage);
  });
}

function toBytes(data) {
  if (typeof data === "string") return null;
  if (data instanceof ArrayBuffer) return Buffer.from(new Uint8Array(data));
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

async function assertEcho(socket) {
  const binary = Uint8Array.from([0, 1, 2, 3, 254, 255]);
  const pending = messages(socket, 3);
  socket.send("hello");
  socket.send(binary);
  socket.send("héllo wörld €𝄞");
  const [text, bytes, utf8] = await pending;
  assert.equal(text, "hello");
  assert.deepEqual(toBytes(bytes), Buffer.from(binary));
  assert.equal(utf8, "héllo wörld €𝄞");
}

describe("engine.io-client against /engine.io/", () => {
  it("connects with polling only and echoes text and binary", async () => {
    const socket = open({ transports: ["polling"], upgrade: false });
    await once(socket, "open");
    assert.equal(socket.transport.name, "polling");
    await assertEcho(socket);
    assert.equal(socket.transport.name, "polling");
  });

  it("connects with websocket only and echoes text and binary", async () => {
    const socket = open({ transports: ["websocket"] });
    await once(socket, "open");
    assert.equal(socket.transport.name, "websocket");
    await assertEcho(socket);
  });

  it("upgrades from polling to websocket and keeps echoing", async () => {
    const socket = open({ transports: ["polling", "websocket"] });
    const upgraded = once(socket, "upgrade");
    await once(socket, "open");
    assert.equal(socket.transport.name, "polling");
    // Messages sent before and during the upgrade all come back, in order.
    const early = messages(socket, 20);
    for (let i = 0; i < 20; i++) socket.send(`early ${i}`);
    const transport = await upgraded;
    assert.equal(transport.name, "websocket");
    assert.equal(socket.transport.name, "websocket");
    assert.deepEqual(await early, Array.from({ length: 20 }, (_, i) => `early ${i}`));
    await assertEcho(socket);
  });

  it("stays connected across several heartbeats", async () => {
    for (const transports of [["polling"], ["websocket"]]) {
      const socket = open({ transports, upgrade: false });
      await once(socket, "open");
      // pingInterval 300 + pingTimeout 200: 1.2 s spans several pings; the client answers them.
      let pings = 0;
      let closedWith = null;
      socket.on("ping", () => pings++);
      socket.on("close", (reason) => (closedWith = reason));
      await new Promise((resolve) => setTimeout(resolve, 1200));
      assert.equal(closedWith, null, `${transports} session closed`);
      assert.ok(pings >= 2, `${transports}: ${pings} pings in 1.2 s`);
      await assertEcho(socket);
    }
  });
});
