// Wire edges where ferrio must do what the reference Node server (socket.io 4.8 / engine.io 6.6)
// does, checked with raw HTTP and WebSocket requests. run.sh runs this file against ferrio's
// conformance server AND against reference/socketio-server.js, so the two cannot drift apart:
//   (a) a close packet POSTed while a polling GET is pending: that GET is answered with a noop
//       `6` alone, and the session is gone;
//   (b) a websocket upgrade for a sid that has already upgraded: accepted (101), that new
//       websocket closed at once, the session's own websocket carries on;
//   (c) an EVENT or an ACK for a namespace the client has not joined: the connection is
//       closed (other clients are unaffected).
// FERRIO_URL: the server (default http://127.0.0.1:3000), serving the raw Engine.IO echo on
// /engine.io/ and the Socket.IO contract on /socket.io/.

import { describe, it, afterEach } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import WebSocket from "ws";

const URL_ = process.env.FERRIO_URL || "http://127.0.0.1:3000";
const WAIT_MS = 5000;

/** One HTTP request on its own connection: resolves with {status, body}. */
function request(method, path, body, onSent) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${URL_}${path}`, { method, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode, body: text }));
    });
    req.setTimeout(WAIT_MS, () => req.destroy(new Error(`${method} ${path}: no answer within ${WAIT_MS} ms`)));
    req.on("error", reject);
    if (onSent) req.on("finish", onSent);
    req.end(body);
  });
}

/** A polling handshake on `path`: the session id. */
async function handshake(path) {
  const { status, body } = await request("GET", `${path}?EIO=4&transport=polling`);
  assert.equal(status, 200, body);
  assert.equal(body[0], "0", body);
  return JSON.parse(body.slice(1)).sid;
}

/**
 * A raw Engine.IO websocket that answers the server's pings by itself: `next()` resolves with
 * its next other message (text), `closed` once it closes (with the close code).
 */
function websocket(url) {
  const ws = new WebSocket(url);
  const inbox = [];
  const waiters = [];
  ws.seen = [];
  ws.on("message", (data, binary) => {
    const text = binary ? data : data.toString();
    ws.seen.push(text);
    if (text == "2") return ws.send("3");
    waiters.length ? waiters.shift()(text) : inbox.push(text);
  });
  ws.closed = new Promise((resolve) => ws.on("close", (code) => resolve(code)));
  ws.opened = new Promise((resolve, reject) => {
    ws.on("open", resolve);
    ws.on("unexpected-response", (_, res) => reject(new Error(`websocket refused: HTTP ${res.statusCode}`)));
    ws.on("error", reject);
  });
  ws.next = () =>
    inbox.length
      ? Promise.resolve(inbox.shift())
      : within(new Promise((resolve) => waiters.push(resolve)), `a websocket message after ${JSON.stringify(ws.seen)}`);
  sockets.push(ws);
  return ws;
}

/** `promise`, or a rejection naming `what` after WAIT_MS. */
function within(promise, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out (${WAIT_MS} ms) waiting for ${what}`)), WAIT_MS))),
  ]);
}

const wsUrl = (path, query) => `${URL_.replace(/^http/, "ws")}${path}?EIO=4&transport=websocket${query}`;

const sockets = [];
afterEach(() => {
  for (const ws of sockets.splice(0)) ws.terminate();
});

describe("wire edges, as the reference server", () => {
  it("(a) a close packet POSTed while a GET is pending: the GET gets a noop alone; the session is gone", async () => {
    // The POST leaves once the GET is written, but on its own connection it can still reach the
    // server first (then the GET finds no session: the other legal order). Nothing on the wire
    // says the GET is held, so the pair is repeated until the server saw them in the order under
    // test; each outcome is checked either way.
    let heldGets = 0;
    for (let attempt = 0; attempt < 10 && heldGets == 0; attempt++) {
      const sid = await handshake("/engine.io/");
      const path = `/engine.io/?EIO=4&transport=polling&sid=${sid}`;
      let posted;
      const get = request("GET", path, undefined, () => (posted = request("POST", path, "1")));
      const answer = await get;
      assert.equal((await posted).status, 200);
      if (answer.status == 400) {
        assert.deepEqual(JSON.parse(answer.body), { code: 1, message: "Session ID unknown" });
        continue;
      }
      heldGets++;
      assert.deepEqual(answer, { status: 200, body: "6" });
      const after = await request("GET", path);
      assert.equal(after.status, 400);
      assert.deepEqual(JSON.parse(after.body), { code: 1, message: "Session ID unknown" });
    }
    assert.equal(heldGets, 1, "in 10 attempts, the POST always overtook the GET");
  });

  it("(b) a websocket for a sid that has upgraded already: accepted, closed at once; the first carries on", async () => {
    const sid = await handshake("/engine.io/");
    const first = websocket(wsUrl("/engine.io/", `&sid=${sid}`));
    await within(first.opened, "websocket open");
    first.send("2probe");
    assert.equal(await first.next(), "3probe");
    first.send("5");
    // The session runs on `first` now: it echoes.
    first.send("4one");
    assert.equal(await first.next(), "4one");

    const second = websocket(wsUrl("/engine.io/", `&sid=${sid}`));
    await within(second.opened, "the second websocket's 101");
    await within(second.closed, "the close of the second websocket");

    first.send("4two");
    assert.equal(await first.next(), "4two");
    assert.equal(first.readyState, WebSocket.OPEN);
  });

  for (const [name, packet] of [
    ["EVENT", '42/custom,["echo","x"]'],
    ["ACK", "43/custom,0[]"],
  ]) {
    it(`(c) an ${name} for a namespace the client has not joined closes the connection; others carry on`, async () => {
      const open = async () => {
        const ws = websocket(wsUrl("/socket.io/", ""));
        assert.equal((await ws.next())[0], "0");
        ws.send("40");
        assert.match(await ws.next(), /^40\{"sid":/);
        assert.equal(await ws.next(), '42["auth",{}]');
        return ws;
      };
      const [ws, other] = await Promise.all([open(), open()]);
      // Joined: answered.
      ws.send('42["echo","in /"]');
      assert.equal(await ws.next(), '42["echo","in /"]');
      ws.send(packet);
      await within(ws.closed, "the close of the connection");
      // Another client's connection is unaffected.
      other.send('42["echo","still here"]');
      assert.equal(await other.next(), '42["echo","still here"]');
    });
  }
});
