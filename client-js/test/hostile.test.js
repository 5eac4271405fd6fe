// The client survives hostile input (issue 10, item 9): events named after Object.prototype
// members, listeners that throw, and undecodable packets in the middle of a polling payload or
// an SSE stream. The test plays the server over real HTTP (node:http), so a payload holds
// exactly the packets the test puts in it.

import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { io } from "../src/index.js";

const WAIT_MS = 3000;
const HANDSHAKE = { sid: "s1", upgrades: [], pingInterval: 10000, pingTimeout: 5000, maxPayload: 1e6 };
const PROTO_NAMES = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"];

// Errors the client reports (it calls reportError where the platform has one), and promise
// rejections nobody handled: both collected for the whole file.
const reported = [];
const unhandled = [];
const onUnhandled = (err) => unhandled.push(err);
before(() => {
  globalThis.reportError = (err) => reported.push(err);
  process.on("unhandledRejection", onUnhandled);
});
after(() => {
  delete globalThis.reportError;
  process.off("unhandledRejection", onUnhandled);
});

/**
 * An Engine.IO server on 127.0.0.1 speaking polling and streaming for one session. `push`
 * queues Engine.IO packets (as text) and delivers them together: one polling response, or one
 * SSE event each, written in one chunk.
 */
async function fakeServer() {
  const server = { queue: [], gets: 0, posts: [], waiting: null, stream: null };
  const flush = () => {
    if (!server.queue.length) return;
    if (server.stream) {
      server.stream.write(server.queue.splice(0).map((p) => `data: ${p}\n\n`).join(""));
    } else if (server.waiting) {
      const res = server.waiting;
      server.waiting = null;
      res.end(server.queue.splice(0).join("\x1e"));
    }
  };
  server.push = (...packets) => {
    server.queue.push(...packets);
    flush();
  };
  /** Resolves with the next body POSTed by the client. */
  server.nextPost = () => new Promise((resolve) => (server.onpost = resolve));
  server.http = http.createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    const sid = url.searchParams.get("sid");
    if (req.method == "POST") {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        res.end("ok");
        server.posts.push(body);
        // The CONNECT to "/" is accepted.
        if (body.split("\x1e").includes("40")) server.push('40{"sid":"socket-1"}');
        server.onpost?.(body);
      });
      return;
    }
    const open = "0" + JSON.stringify(HANDSHAKE);
    if (url.searchParams.get("transport") == "streaming") {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(`:${" ".repeat(2048)}\n\ndata: ${open}\n\n`);
      server.stream = res;
      return flush();
    }
    server.gets++;
    if (!sid) return res.end(open);
    server.waiting = res;
    flush();
  });
  await new Promise((resolve) => server.http.listen(0, "127.0.0.1", resolve));
  server.url = `http://127.0.0.1:${server.http.address().port}`;
  server.close = () => {
    server.stream?.end();
    server.waiting?.end("6");
    server.http.closeAllConnections();
    return new Promise((resolve) => server.http.close(resolve));
  };
  return server;
}

/**
 * The arguments of the next `event` (whose arguments pass `accept`); rejects after WAIT_MS,
 * or when the socket disconnects first (no test here expects a disconnection).
 */
function next(socket, event, accept = () => true) {
  return new Promise((resolve, reject) => {
    const offs = [];
    const done = (fn, value) => {
      clearTimeout(timer);
      offs.forEach((off) => off());
      fn(value);
    };
    const timer = setTimeout(() => done(reject, new Error(`timed out waiting for "${event}"`)), WAIT_MS);
    offs.push(socket.subscribe(event, (...args) => accept(...args) && done(resolve, args)));
    offs.push(socket.subscribe("disconnect", (reason) => done(reject, new Error(`disconnected (${reason}) before "${event}"`))));
  });
}

const cleanups = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
  reported.length = 0;
});

/** A connected socket on a fresh fake server, over `transport`. */
async function connected(transport) {
  const server = await fakeServer();
  cleanups.push(() => server.close());
  const socket = io(server.url, {
    forceNew: true,
    transports: [transport],
    reconnection: false,
    rememberTransport: false,
  });
  cleanups.push(() => socket.disconnect());
  await next(socket, "connect");
  return { server, socket };
}

describe("event names that are Object.prototype members", () => {
  for (const transport of ["polling", "streaming"]) {
    it(`${transport}: the server emits them, the client's listeners get them`, async () => {
      const { server, socket } = await connected(transport);
      const got = [];
      for (const name of PROTO_NAMES) socket.on(name, (arg) => got.push([name, arg]));
      const last = next(socket, "last");
      server.push(...PROTO_NAMES.map((name, i) => `42${JSON.stringify([name, i])}`), '42["last"]');
      await last;
      assert.deepEqual(got, PROTO_NAMES.map((name, i) => [name, i]));
      // An event without a listener is no listener either.
      const after = next(socket, "after");
      server.push('42["isPrototypeOf",1]', '42["after"]');
      await after;
      assert.deepEqual(reported, []);
    });
  }

  it("the client emits them, and once/off work on them", async () => {
    const { server, socket } = await connected("polling");
    const posted = server.nextPost();
    socket.emit("constructor", 1);
    assert.equal(await posted, '42["constructor",1]');
    let n = 0;
    socket.once("__proto__", () => n++);
    socket.off("toString");
    const done = next(socket, "done");
    server.push('42["__proto__"]', '42["__proto__"]', '42["toString"]', '42["done"]');
    await done;
    assert.equal(n, 1);
    assert.deepEqual(socket.listeners("__proto__"), []);
    assert.deepEqual(socket.listeners("hasOwnProperty"), []);
  });
});

describe("a throwing listener or an undecodable packet loses nothing else", () => {
  for (const transport of ["polling", "streaming"]) {
    it(`${transport}: a listener throws on the 1st of 3 packets; the others arrive, reception goes on`, async () => {
      const { server, socket } = await connected(transport);
      const got = [];
      const boom = new Error("listener failure");
      socket.on("n", (i) => {
        got.push(i);
        if (i == 1) throw boom;
      });
      const gets = server.gets;
      const third = next(socket, "n", (i) => i == 3);
      server.push('42["n",1]', '42["n",2]', '42["n",3]');
      await third;
      // A later payload (or SSE event) still comes through.
      const later = next(socket, "later");
      server.push('42["later"]');
      await later;
      assert.deepEqual(got, [1, 2, 3]);
      assert.deepEqual(reported, [boom]);
      if (transport == "polling") assert.ok(server.gets >= gets + 2, "the GET loop went on");
      assert.equal(socket.connected, true);
      assert.deepEqual(unhandled, []);
    });

    it(`${transport}: undecodable packets amid good ones are dropped and reported; the rest arrive`, async () => {
      const { server, socket } = await connected(transport);
      const got = [];
      socket.on("n", (i) => got.push(i));
      const done = next(socket, "done");
      server.push(
        '42["n",1]',
        "9", // no such Engine.IO packet type
        "b!!", // bad base64
        '42["connect"]', // a reserved event name
        '42{"not":"an array"}',
        '42["n",2]',
        '42["done"]',
      );
      await done;
      assert.deepEqual(got, [1, 2]);
      assert.deepEqual(
        reported.map((e) => e.message),
        ["UnknownPacketType", "InvalidBase64", "ReservedEvent", "InvalidData"],
      );
      const later = next(socket, "later");
      server.push('42["later"]');
      await later;
      assert.equal(socket.connected, true);
      assert.deepEqual(unhandled, []);
    });
  }
});
