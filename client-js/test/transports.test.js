// Transports on their own: built from TransportOptions alone (no engine), over fake fetch and
// WebSocket implementations given in `options`.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Polling } from "../src/transports/polling.js";
import { Streaming } from "../src/transports/streaming.js";
import { WebSocketTransport } from "../src/transports/websocket.js";

const HANDSHAKE = { sid: "s1", upgrades: [], pingInterval: 10000, pingTimeout: 5000, maxPayload: 30 };

/**
 * A fetch that records each request and answers it when the test says: `requests` holds
 * {url, method, body, respond(text | Response)}; `next(ms)` resolves with the next request,
 * or rejects when none comes within `ms`.
 */
function fakeFetch() {
  const fake = { requests: [], waiters: [] };
  fake.fetch = (url, init) =>
    new Promise((resolve, reject) => {
      const request = { url, method: init.method || "GET", body: init.body, init };
      request.respond = (body, init) => resolve(body instanceof Response ? body : new Response(body, init));
      /** The connection fails, as fetch reports it. */
      request.fail = () => reject(new TypeError("fetch failed"));
      fake.requests.push(request);
      fake.waiters.shift()?.(request);
    });
  fake.next = (ms = 2000) =>
    new Promise((resolve, reject) => {
      const waiter = (request) => (clearTimeout(timer), resolve(request));
      const timer = setTimeout(() => {
        fake.waiters.splice(fake.waiters.indexOf(waiter), 1);
        reject(new Error("no request"));
      }, ms);
      fake.waiters.push(waiter);
    });
  return fake;
}

/** Resolves with the next packet the transport reports. */
const nextPacket = (transport) => new Promise((resolve) => (transport.onpacket = resolve));

describe("transports built from their options", () => {
  it("polling: URL, query and sid from the options and the open packet; POSTs capped at its maxPayload", async () => {
    const fake = fakeFetch();
    const transport = new Polling({
      url: "http://h.test/io/",
      query: "v=1",
      sid: null,
      options: { fetch: fake.fetch, withCredentials: true },
    });
    let request = fake.next();
    transport.open();
    const handshake = await request;
    assert.equal(handshake.url, "http://h.test/io/?EIO=4&transport=polling&lastEventId=0&v=1");
    assert.equal(handshake.init.credentials, "include");
    const open = nextPacket(transport);
    request = fake.next();
    handshake.respond("0" + JSON.stringify(HANDSHAKE));
    assert.deepEqual(await open, { type: "open", data: HANDSHAKE });
    assert.equal(transport.sid, "s1");
    const poll = await request;
    assert.equal(poll.url, "http://h.test/io/?EIO=4&transport=polling&sid=s1&lastEventId=0&v=1");

    // maxPayload 30 (the handshake's): 3 items of 11 bytes (+1 separator) need 2 POSTs.
    request = fake.next();
    transport.send(["a", "b", "c"].map((c) => ({ type: "message", data: c.repeat(10) })));
    const first = await request;
    assert.equal(first.method, "POST");
    assert.equal(first.body, "4aaaaaaaaaa\x1e4bbbbbbbbbb");
    request = fake.next();
    first.respond("ok");
    assert.equal((await request).body, "4cccccccccc");
    transport.close();
  });

  it("websocket: attaches to the given sid with the given WebSocket", () => {
    const made = [];
    const transport = new WebSocketTransport({
      url: "https://h.test/socket.io/",
      query: "",
      sid: "s9",
      maxPayload: 1e6,
      options: { WebSocket: class { constructor(url) { made.push(url); } } },
    });
    transport.open();
    assert.deepEqual(made, ["wss://h.test/socket.io/?EIO=4&transport=websocket&sid=s9"]);
    transport.close();
  });

  it("streaming: while `probing`, a noop ends the stream and it waits; resume() re-attaches", async () => {
    const fake = fakeFetch();
    const transport = new Streaming({ url: "http://h.test/socket.io/", query: "", sid: null, options: { fetch: fake.fetch } });
    let request = fake.next();
    transport.open();
    const stream = new TransformStream();
    const writer = stream.writable.getWriter();
    const write = (text) => writer.write(new TextEncoder().encode(text));
    (await request).respond(new Response(stream.readable, { headers: { "content-type": "text/event-stream" } }));
    const open = nextPacket(transport);
    await write(`data: 0${JSON.stringify(HANDSHAKE)}\n\n`);
    await open;
    transport.probing = true;
    const seen = [];
    transport.onpacket = (packet) => seen.push(packet);
    let closed = false;
    transport.onclose = () => (closed = true);
    request = fake.next(300);
    await write("data: 6\n\n");
    await writer.close();
    // The stream ended on the noop: no re-attach while probing...
    await assert.rejects(request, /no request/);
    assert.deepEqual(seen, []);
    assert.equal(closed, false);
    // ...until the probe fails and the engine resumes the transport.
    request = fake.next();
    transport.probing = false;
    transport.resume();
    assert.equal((await request).url, "http://h.test/socket.io/?EIO=4&transport=streaming&sid=s1&lastEventId=0");
    transport.close();
  });
});
