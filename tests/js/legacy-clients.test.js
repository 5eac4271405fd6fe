// Socket.IO v2 and v3 clients (the official socket.io-client 2.5 over Engine.IO v3, and 3.1
// over Engine.IO v4) against the conformance server's Socket.IO contract, over websocket and
// polling: connect, events, acks, rooms, binary, reconnect. The v2 client needs the server to
// allow Engine.IO v3: this file starts its own conformance server with ALLOW_EIO3=1
// (FERRIO_LEGACY_SERVER_CMD to run another one, e.g. the Node reference with allowEIO3), and
// checks that without it (the server run.sh started, FERRIO_URL) a v2 client is refused.
// Run through ./run.sh.

"use strict";

const { describe, it, before, after } = require("node:test");
const assert = require("node:assert/strict");
const { spawn } = require("node:child_process");
const path = require("node:path");
const readline = require("node:readline");

const clients = {
  "socket.io-client 2.5 (Engine.IO v3)": require("socket.io-client-v2"),
  "socket.io-client 3.1 (Engine.IO v4)": require("socket.io-client-v3"),
};

const ROOT = path.resolve(__dirname, "../..");
const DEFAULT_URL = process.env.FERRIO_URL || "http://127.0.0.1:3000";
const WAIT_MS = 5000;
const MODES = [
  { name: "websocket", opts: { transports: ["websocket"] } },
  { name: "polling", opts: { transports: ["polling"] } },
  { name: "polling then websocket", opts: {} },
];

let server;
let url;

/** Starts the conformance server with Engine.IO v3 allowed on a free port; resolves its URL. */
function startServer() {
  const cmd = process.env.FERRIO_LEGACY_SERVER_CMD || path.join(ROOT, "target/debug/conformance");
  server = spawn("bash", ["-c", `exec ${cmd}`], {
    cwd: ROOT,
    env: { ...process.env, PORT: "0", ALLOW_EIO3: "1" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the server did not print its address")), 10_000);
    server.once("exit", (code) => reject(new Error(`the server exited (${code})`)));
    readline.createInterface({ input: server.stdout }).once("line", (line) => {
      clearTimeout(timer);
      const match = line.match(/http:\/\/[0-9.:]+/);
      match ? resolve(match[0]) : reject(new Error(`no address in ${JSON.stringify(line)}`));
    });
  });
}

before(async () => {
  url = await startServer();
});

after(() => {
  server?.kill();
});

const opened = new Set();

function connect(io, mode, nsp = "/", opts = {}) {
  const socket = io(url + nsp, {
    forceNew: true,
    reconnectionDelay: 100,
    reconnectionDelayMax: 200,
    timeout: WAIT_MS,
    ...mode.opts,
    ...opts,
  });
  opened.add(socket);
  return socket;
}

/** Resolves with the event's arguments, rejects after WAIT_MS. */
function once(emitter, event, what = event) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), WAIT_MS);
    emitter.once(event, (...args) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

/** Emits with an ack callback; resolves with the ack's arguments. */
function ask(socket, event, ...args) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ack for ${event}`)), WAIT_MS);
    socket.emit(event, ...args, (...answer) => {
      clearTimeout(timer);
      resolve(answer);
    });
  });
}

function closeAll() {
  for (const socket of opened) socket.close();
  opened.clear();
}

for (const [name, io] of Object.entries(clients)) {
  describe(name, () => {
    for (const mode of MODES) {
      describe(mode.name, () => {
        it("connects, echoes events and acks, with binary", async () => {
          try {
            const socket = connect(io, mode);
            await once(socket, "connect");
            assert.ok(socket.id, "a socket id");
            socket.emit("echo", "hi", { n: 1 });
            assert.deepEqual(await once(socket, "echo"), ["hi", { n: 1 }]);
            assert.deepEqual(await ask(socket, "echo-ack", 1, "two"), [1, "two"]);
            const bytes = Buffer.from([1, 2, 3, 255]);
            socket.emit("echo", { file: bytes });
            const [back] = await once(socket, "echo");
            assert.deepEqual(Buffer.from(back.file), bytes);
          } finally {
            closeAll();
          }
        });

        it("joins rooms and receives what another client sends there", async () => {
          try {
            const room = `room-${Math.random()}`;
            const a = connect(io, mode);
            const b = connect(io, mode);
            await Promise.all([once(a, "connect"), once(b, "connect")]);
            assert.deepEqual(await ask(a, "join", room), [room]);
            const received = once(a, "room-message");
            await ask(b, "room-broadcast", room, "hello room");
            assert.deepEqual(await received, [room, "hello room"]);
          } finally {
            closeAll();
          }
        });

        it("joins a namespace with its auth, and is refused with the middleware's error", async () => {
          try {
            // v2 clients pass the auth as the namespace's query; v3 as `auth`.
            const v2 = name.includes("2.5");
            const admin = connect(io, mode, "/admin", v2 ? { query: { token: "secret" } } : { auth: { token: "secret" } });
            await once(admin, "connect", "the admin connection");
            const refused = connect(io, mode, "/admin", v2 ? { query: { token: "nope" } } : { auth: { token: "nope" } });
            const [err] = await once(refused, v2 ? "error" : "connect_error", "the refusal");
            if (v2) assert.deepEqual(err, { code: "E_UNAUTHORIZED" });
            else assert.equal(err.message, "unauthorized");
          } finally {
            closeAll();
          }
        });

        it("reconnects after the server drops the connection", async () => {
          try {
            const socket = connect(io, mode);
            await once(socket, "connect");
            const reconnected = once(socket, "connect", "the reconnection");
            socket.emit("drop");
            await reconnected;
            assert.deepEqual(await ask(socket, "echo-ack", "again"), ["again"]);
          } finally {
            closeAll();
          }
        });
      });
    }
  });
}

it("a v2 client is refused by a server that does not allow Engine.IO v3", async () => {
  const io = clients["socket.io-client 2.5 (Engine.IO v3)"];
  const socket = io(DEFAULT_URL, { forceNew: true, reconnection: false, transports: ["polling"], timeout: WAIT_MS });
  try {
    const [err] = await once(socket, "connect_error");
    assert.ok(err, "a connection error");
  } finally {
    socket.close();
  }
});

it("JSONP polling answers a clear error", async () => {
  const res = await fetch(`${url}/socket.io/?EIO=3&transport=polling&j=0`);
  assert.equal(res.status, 400);
  assert.deepEqual(await res.json(), { code: 3, message: "JSONP polling is not supported" });
});
