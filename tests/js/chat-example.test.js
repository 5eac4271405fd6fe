// Socket.IO's chat tutorial, its server ported to ferrio (server/examples/socketio-chat, served
// by the conformance server on /chat/), driven by the official socket.io-client exactly as the
// tutorial's page drives it. FERRIO_CHAT_URL, else FERRIO_URL, default http://127.0.0.1:3000.
// reference/socketio-server.js serves the same contract with Node's socket.io, so
//   FERRIO_SERVER_CMD="node tests/js/reference/socketio-server.js" \
//     FERRIO_JS_TESTS=tests/js/chat-example.test.js bash tests/js/run.sh
// checks the test itself against the original. Each test runs once per transport mode.
// Run through ./run.sh.

"use strict";

const { describe, it, before, after, afterEach } = require("node:test");
const assert = require("node:assert/strict");
const { io } = require("socket.io-client");

const URL = process.env.FERRIO_CHAT_URL || process.env.FERRIO_URL || "http://127.0.0.1:3000";
const WAIT_MS = 5000;

const MODES = [
  { name: "websocket only", opts: { transports: ["websocket"] } },
  { name: "polling only", opts: { transports: ["polling"] } },
  { name: "default (polling, then upgrade)", opts: {} },
];

const BASE = { path: "/chat/", forceNew: true, reconnection: false, timeout: WAIT_MS };

/** The sockets of the current test, and the names they logged in with. */
const opened = new Set();
const loggedIn = new Set();
let sequence = 0;

/** A user name no other test uses. */
const unique = (name) => `${name}-${++sequence}`;

// The user count is the server's: an observer stays logged in for the whole file and sees every
// other user leave, so each test starts once the previous one's users are gone.
let observer;
const gone = new Set();
let onGone = () => {};

before(async () => {
  observer = io(URL, BASE);
  observer.received = [];
  await next(observer, "connect");
  await logIn(observer, unique("observer"));
  observer.on("user left", ({ username }) => {
    gone.add(username);
    onGone();
  });
});

after(() => observer.disconnect());

afterEach(async () => {
  const leaving = [...loggedIn];
  for (const socket of opened) socket.disconnect();
  opened.clear();
  loggedIn.clear();
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`users never left: ${leaving}`)), WAIT_MS);
    onGone = () => {
      if (leaving.every((name) => gone.has(name))) {
        clearTimeout(timer);
        resolve();
      }
    };
    onGone();
  });
});

/** A connected client of the chat, recording every event it receives in `socket.received`. */
async function user(mode) {
  const socket = io(URL, { ...BASE, ...mode.opts });
  opened.add(socket);
  socket.received = [];
  socket.onAny((event, ...args) => socket.received.push([event, ...args]));
  await next(socket, "connect");
  return socket;
}

/** Resolves with the first argument of the next `event` on `socket`; rejects after WAIT_MS. */
function next(socket, event) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, on);
      reject(new Error(`timed out waiting for "${event}"; received ${JSON.stringify(socket.received)}`));
    }, WAIT_MS);
    const on = (arg) => {
      clearTimeout(timer);
      resolve(arg);
    };
    socket.once(event, on);
  });
}

/** Logs `socket` in as `name`; resolves with the user count of its `login`. */
async function logIn(socket, name) {
  const login = next(socket, "login");
  socket.emit("add user", name);
  const { numUsers } = await login;
  if (socket !== observer) loggedIn.add(name);
  return numUsers;
}

for (const mode of MODES) {
  describe(`chat tutorial example with the official client (${mode.name})`, () => {
    it("logs users in and announces them, with the user count", async () => {
      const [adaName, bobName] = [unique("ada"), unique("bob")];
      const ada = await user(mode);
      const joinedAda = next(observer, "user joined");
      // The observer, and ada.
      assert.equal(await logIn(ada, adaName), 2);
      assert.deepEqual(await joinedAda, { username: adaName, numUsers: 2 });

      const bob = await user(mode);
      const joined = next(ada, "user joined");
      assert.equal(await logIn(bob, bobName), 3);
      assert.deepEqual(await joined, { username: bobName, numUsers: 3 });
      assert.ok(!bob.received.some(([event]) => event === "user joined"), "not to the newcomer");
    });

    it("relays typing, stop typing and messages to the others, with the sender's name", async () => {
      const [adaName, bobName] = [unique("ada"), unique("bob")];
      const ada = await user(mode);
      const bob = await user(mode);
      await logIn(ada, adaName);
      const joined = next(ada, "user joined");
      await logIn(bob, bobName);
      await joined;

      const typing = next(bob, "typing");
      ada.emit("typing");
      assert.deepEqual(await typing, { username: adaName });
      const stop = next(bob, "stop typing");
      ada.emit("stop typing");
      assert.deepEqual(await stop, { username: adaName });
      const message = next(bob, "new message");
      ada.emit("new message", "hello bob");
      assert.deepEqual(await message, { username: adaName, message: "hello bob" });

      // Bob answers; by the time ada has it, her own message would have reached her first.
      const answer = next(ada, "new message");
      bob.emit("new message", "hi ada");
      assert.deepEqual(await answer, { username: bobName, message: "hi ada" });
      const toAda = ada.received.filter(([event]) => event === "new message");
      assert.deepEqual(toAda, [["new message", { username: bobName, message: "hi ada" }]]);
    });

    it("ignores a client that did not log in, and a second login", async () => {
      const [adaName, bobName] = [unique("ada"), unique("bob")];
      const ada = await user(mode);
      await logIn(ada, adaName);
      const bob = await user(mode);
      // Not logged in yet: nothing is relayed. Then one login only.
      bob.emit("typing");
      bob.emit("new message", "anonymous");
      const joined = next(ada, "user joined");
      assert.equal(await logIn(bob, bobName), 3);
      bob.emit("add user", "bob again");
      const typing = next(ada, "typing");
      bob.emit("typing");
      assert.deepEqual(await joined, { username: bobName, numUsers: 3 });
      assert.deepEqual(await typing, { username: bobName });
      // Ada got exactly these, in this order: bob's packets are handled in order, so anything
      // relayed before his login, or for the second one, would be in between.
      assert.deepEqual(ada.received, [
        ["login", { numUsers: 2 }],
        ["user joined", { username: bobName, numUsers: 3 }],
        ["typing", { username: bobName }],
      ]);
    });

    it("announces a user who leaves, with the count without them", async () => {
      const [adaName, bobName] = [unique("ada"), unique("bob")];
      const ada = await user(mode);
      await logIn(ada, adaName);
      const bob = await user(mode);
      const joined = next(ada, "user joined");
      assert.equal(await logIn(bob, bobName), 3);
      await joined;
      const left = next(ada, "user left");
      bob.disconnect();
      assert.deepEqual(await left, { username: bobName, numUsers: 2 });
    });
  });
}
