// The HTTP transports lose nothing with a connection: they say what they received
// (`lastEventId`), re-attach at once after a failure, and skip what the server sends again.
// Transports on their own, over a fake fetch and a fake EventSource the test drives.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Polling } from "../src/transports/polling.js";
import { Streaming } from "../src/transports/streaming.js";

const HANDSHAKE = { sid: "s1", upgrades: ["websocket"], pingInterval: 10000, pingTimeout: 5000, maxPayload: 1e6 };
const OPEN = "0" + JSON.stringify(HANDSHAKE);
const WAIT_MS = 2000;

/**
 * A fetch whose requests the test answers: `next()` resolves with the next request
 * {url, method, body, respond(body | Response, init?), fail()}; rejects when none comes within
 * `ms`.
 */
function fakeFetch() {
  const fake = { requests: [], waiters: [] };
  fake.fetch = (url, init) =>
    new Promise((resolve, reject) => {
      const request = { url, method: init.method || "GET", body: init.body, init };
      request.respond = (body, init) => resolve(body instanceof Response ? body : new Response(body, init));
      request.fail = () => reject(new TypeError("fetch failed"));
      init.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
      const waiter = fake.waiters.shift();
      waiter ? waiter(request) : fake.requests.push(request);
    });
  fake.next = (ms = WAIT_MS) =>
    fake.requests.length
      ? Promise.resolve(fake.requests.shift())
      : new Promise((resolve, reject) => {
          const waiter = (request) => (clearTimeout(timer), resolve(request));
          const timer = setTimeout(() => {
            fake.waiters.splice(fake.waiters.indexOf(waiter), 1);
            reject(new Error("no request"));
          }, ms);
          fake.waiters.push(waiter);
        });
  return fake;
}

/** A streamed response body the test writes SSE text into, then ends or breaks. */
function eventStream() {
  let controller;
  const body = new ReadableStream({ start: (c) => (controller = c) });
  return {
    response: new Response(body, { headers: { "content-type": "text/event-stream" } }),
    write: (text) => controller.enqueue(new TextEncoder().encode(text)),
    end: () => controller.close(),
    break: () => controller.error(new TypeError("terminated")),
  };
}

/** What the transport reports: packets (as "type" or "4data") and its close. */
function watch(transport) {
  const seen = { packets: [], closed: null, waiters: [] };
  const changed = () => seen.waiters.slice().forEach((w) => w());
  transport.onpacket = (p) => {
    seen.packets.push(p.type == "message" ? "4" + p.data : p.type);
    changed();
  };
  transport.onclose = (reason) => {
    seen.closed = reason;
    changed();
  };
  /** Resolves once `cond()` holds (checked on each report); rejects after WAIT_MS. */
  seen.until = (cond, what) =>
    new Promise((resolve, reject) => {
      const check = () => {
        if (!cond()) return;
        seen.waiters.splice(seen.waiters.indexOf(check), 1);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}: ${JSON.stringify(seen)}`)), WAIT_MS);
      seen.waiters.push(check);
      check();
    });
  return seen;
}

/** `promise`, or a rejection after WAIT_MS. */
const within = (promise, what) =>
  Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(`no ${what}`)), WAIT_MS).unref())]);

const numbered = (last) => ({ headers: { "X-Ferrio-Event-Id": String(last) } });
const query = (url, name) => new URL(url).searchParams.get(name);

describe("polling, lossless", () => {
  it("says what it received, skips what comes again, and re-attaches at once after a failed GET", async () => {
    const fake = fakeFetch();
    const transport = new Polling({ url: "http://h.test/x/", query: "", sid: null, options: { fetch: fake.fetch } });
    const seen = watch(transport);
    transport.open();
    const handshake = await fake.next();
    assert.equal(query(handshake.url, "lastEventId"), "0");
    handshake.respond(OPEN, numbered(1));
    let get = await fake.next();
    assert.equal(query(get.url, "sid"), "s1");
    assert.equal(query(get.url, "lastEventId"), "1");
    get.respond("4a\x1e4b", numbered(3));
    get = await fake.next();
    assert.equal(query(get.url, "lastEventId"), "3");
    // This GET fails: the next one follows at once, same sid, same lastEventId.
    get.fail();
    get = await fake.next();
    assert.equal(query(get.url, "sid"), "s1");
    assert.equal(query(get.url, "lastEventId"), "3");
    // The server had sent 4 and 5 on the failed one: it sends them again, with 6.
    get.respond("4b\x1e4c\x1e4d\x1e4e", numbered(6));
    get = await fake.next();
    assert.equal(query(get.url, "lastEventId"), "6");
    // An answer without a number (a noop ending a poll) is taken as it is.
    get.respond("6");
    get = await fake.next();
    assert.equal(query(get.url, "lastEventId"), "6");
    assert.deepEqual(seen.packets, ["open", "4a", "4b", "4c", "4d", "4e", "noop"]);
    assert.equal(seen.closed, null);
    transport.close();
  });

  it("is lost after 4 failed GETs in a row, or at once when the server refuses", async () => {
    const fake = fakeFetch();
    const transport = new Polling({ url: "http://h.test/x/", query: "", sid: "s1", options: { fetch: fake.fetch } });
    const seen = watch(transport);
    transport.open();
    (await fake.next()).fail();
    (await fake.next()).respond("4a", numbered(1));
    // A success resets the count: 3 failures are re-attached, the 4th loses the transport.
    for (let i = 0; i < 4; i++) (await fake.next()).fail();
    await seen.until(() => seen.closed, "the close");
    assert.equal(seen.closed, "transport error");
    await assert.rejects(fake.next(100), /no request/);

    const refused = new Polling({ url: "http://h.test/x/", query: "", sid: "s1", options: { fetch: fake.fetch } });
    const seen2 = watch(refused);
    refused.open();
    (await fake.next()).respond('{"code":1,"message":"Session ID unknown"}', { status: 400 });
    await seen2.until(() => seen2.closed, "the close");
    await assert.rejects(fake.next(100), /no request/);
  });

  it("a GET failing while paused for an upgrade is re-attached (what it carried may come again)", async () => {
    const fake = fakeFetch();
    const transport = new Polling({ url: "http://h.test/x/", query: "", sid: "s1", options: { fetch: fake.fetch } });
    const seen = watch(transport);
    transport.open();
    (await fake.next()).respond("4a", numbered(1));
    const get = await fake.next();
    let drained = false;
    const pause = new Promise((resolve) => transport.pause(() => resolve((drained = true))));
    get.fail();
    const again = await fake.next();
    assert.equal(query(again.url, "lastEventId"), "1");
    assert.equal(drained, false);
    again.respond("4b\x1e6", numbered(3));
    await within(pause, "drained pause");
    assert.deepEqual(seen.packets, ["4a", "4b", "noop"]);
    await assert.rejects(fake.next(100), /no request/);
  });
});

describe("streaming, lossless", () => {
  it("fetch reader: reads the ids, re-attaches a broken stream at once, skips what comes again", async () => {
    const fake = fakeFetch();
    const transport = new Streaming({ url: "http://h.test/x/", query: "", sid: null, options: { fetch: fake.fetch } });
    const seen = watch(transport);
    transport.open();
    let request = await fake.next();
    assert.equal(query(request.url, "lastEventId"), "0");
    let stream = eventStream();
    request.respond(stream.response);
    stream.write(`:${" ".repeat(2048)}\n\nid: 1\ndata: ${OPEN}\n\nid: 2\ndata: 4a\n\nid: 3\ndata: 4b\n\n`);
    await seen.until(() => seen.packets.length == 3, "3 packets");
    // The stream breaks inside an event.
    stream.write("id: 4\ndata: 4c");
    stream.break();
    request = await fake.next();
    assert.equal(query(request.url, "sid"), "s1");
    assert.equal(query(request.url, "lastEventId"), "3");
    stream = eventStream();
    request.respond(stream.response);
    // The server sends again from 3 (it did not know 3 arrived), then new ones.
    stream.write(`:${" ".repeat(2048)}\n\nid: 3\ndata: 4b\n\nid: 4\ndata: 4c\n\nid: 5\ndata: 2\n\n`);
    await seen.until(() => seen.packets.length == 5, "5 packets");
    // Ended without a close packet (a proxy, the byte budget): re-attached.
    stream.end();
    request = await fake.next();
    assert.equal(query(request.url, "lastEventId"), "5");
    stream = eventStream();
    request.respond(stream.response);
    // An event without an id after a numbered one (the noop or close that ends a stream)
    // is not taken for a repeat.
    stream.write("id: 6\ndata: 4d\n\ndata: 1\n\n");
    await seen.until(() => seen.packets.length == 7, "7 packets");
    assert.deepEqual(seen.packets, ["open", "4a", "4b", "4c", "ping", "4d", "close"]);
    assert.equal(seen.closed, null);
    transport.close();
  });

  it("fetch reader: a refused re-attach loses the transport; so do 4 failures in a row", async () => {
    const fake = fakeFetch();
    const transport = new Streaming({ url: "http://h.test/x/", query: "", sid: "s1", options: { fetch: fake.fetch } });
    const seen = watch(transport);
    transport.open();
    for (let i = 0; i < 3; i++) (await fake.next()).fail();
    // A stream that delivers resets the count.
    const stream = eventStream();
    (await fake.next()).respond(stream.response);
    stream.write("id: 1\ndata: 4a\n\n");
    await seen.until(() => seen.packets.length == 1, "a packet");
    stream.break();
    (await fake.next()).respond('{"code":1,"message":"Session ID unknown"}', { status: 400 });
    await seen.until(() => seen.closed, "the close");
    assert.equal(seen.closed, "transport error");
    await assert.rejects(fake.next(100), /no request/);

    const again = new Streaming({ url: "http://h.test/x/", query: "", sid: "s1", options: { fetch: fake.fetch } });
    const seen2 = watch(again);
    again.open();
    for (let i = 0; i < 4; i++) (await fake.next()).fail();
    await seen2.until(() => seen2.closed, "the close");
    await assert.rejects(fake.next(100), /no request/);
  });

  it("a stream breaking while websocket is probed is re-attached; one ended by the upgrade's noop waits", async () => {
    const fake = fakeFetch();
    const transport = new Streaming({ url: "http://h.test/x/", query: "", sid: "s1", options: { fetch: fake.fetch } });
    const seen = watch(transport);
    transport.open();
    let stream = eventStream();
    (await fake.next()).respond(stream.response);
    stream.write("id: 1\ndata: 4a\n\n");
    await seen.until(() => seen.packets.length == 1, "a packet");
    transport.probing = true;
    stream.break();
    const request = await fake.next();
    assert.equal(query(request.url, "lastEventId"), "1");
    stream = eventStream();
    request.respond(stream.response);
    const pause = new Promise((resolve) => transport.pause(resolve));
    stream.write("id: 2\ndata: 4b\n\ndata: 6\n\n");
    await within(pause, "drained pause");
    assert.deepEqual(seen.packets, ["4a", "4b"]);
    await assert.rejects(fake.next(100), /no request/);
  });

  it("EventSource: lastEventId of the events; a broken stream re-attached, a refused one lost", async () => {
    // EventSource connects synchronously here: the transport makes the next one at once.
    const sources = [];
    class FakeEventSource {
      constructor(url) {
        this.url = url;
        this.readyState = 0;
        this.listeners = {};
        sources.push(this);
      }
      addEventListener(type, fn) {
        this.listeners[type] = fn;
      }
      /** An event as EventSource dispatches it. */
      event(data, lastEventId, type = "message") {
        (type == "message" ? this.onmessage : this.listeners[type])({ data, lastEventId });
      }
      close() {
        this.readyState = 2;
      }
    }
    const transport = new Streaming({ url: "http://h.test/x/", query: "", sid: null, options: { EventSource: FakeEventSource } });
    const seen = watch(transport);
    transport.open();
    let source = sources.at(-1);
    assert.equal(query(source.url, "lastEventId"), "0");
    source.event(OPEN, "1");
    source.event("4a", "2");
    source.event("NGENYg==", "3", "b64");
    // The connection breaks: EventSource would reconnect by itself (CONNECTING); the
    // transport re-attaches instead, with what it received.
    source.readyState = 0;
    source.onerror();
    assert.equal(source.readyState, 2, "the broken EventSource is closed");
    source = sources.at(-1);
    assert.equal(query(source.url, "sid"), "s1");
    assert.equal(query(source.url, "lastEventId"), "3");
    source.event("4a", "2");
    source.event("4c", "4");
    // A stale id on a noop (an event without an id keeps the last one) is no repeat.
    source.event("6", "4");
    assert.deepEqual(seen.packets, ["open", "4a", "4a\rb", "4c", "noop"]);
    // Refused (not a 200 event stream): CLOSED.
    source.readyState = 2;
    source.onerror();
    assert.equal(seen.closed, "transport error");
    assert.equal(sources.length, 2);
  });
});
