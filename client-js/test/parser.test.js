// The codecs (src/parser/) against the golden wire vectors shared with the Rust codec (tests/vectors/*.json).

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fromBase64, toBase64 } from "../src/parser/bytes.js";
import {
  decodeFrame,
  decodeItem,
  decodePayload,
  decodeText,
  encodeFrame,
  encodePayload,
} from "../src/parser/engine.js";
import { Decoder, encode, hydrate } from "../src/parser/socket.js";
import { SseReader, decodeB64Event, endOfStream } from "../src/parser/sse.js";

const vectors = (name) =>
  JSON.parse(readFileSync(new URL(`../../tests/vectors/${name}.json`, import.meta.url), "utf8"));
const engine = vectors("engine");
const socket = vectors("socket");
const sse = vectors("sse");

const bytes = (b64) => Buffer.from(b64, "base64");
const ab = (b64) => {
  const b = bytes(b64);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
};
const b64 = (x) => Buffer.from(ArrayBuffer.isView(x) ? x : new Uint8Array(x)).toString("base64");

// ===== Engine.IO packets: vector object <-> parser packet =====

const toPacket = (v) => (v.binary !== undefined ? { type: v.type, data: ab(v.binary) } : v);
const fromPacket = (p) =>
  p.data instanceof ArrayBuffer ? { type: p.type, binary: b64(p.data) } : p;

/** The error code a throwing call fails with. */
function errorOf(fn) {
  try {
    fn();
  } catch (e) {
    return e.message;
  }
  return "(no error)";
}

describe("engine.io packets (engine.json)", () => {
  for (const v of engine.packets) {
    it(`${v.name}: encode`, () => {
      const frame = encodeFrame(toPacket(v.packet));
      if (v.text !== undefined) assert.equal(frame, v.text);
      else assert.equal(b64(frame), v.binary);
    });
    it(`${v.name}: decode`, () => {
      const frame = v.text !== undefined ? v.text : ab(v.binary);
      assert.deepEqual(fromPacket(decodeFrame(frame)), v.packet);
    });
  }

  for (const v of engine.payloads) {
    it(`payload ${v.name}: encode`, () => {
      assert.equal(encodePayload(v.packets.map(toPacket)), v.body);
    });
    it(`payload ${v.name}: decode`, () => {
      assert.deepEqual(decodePayload(v.body).map(fromPacket), v.packets);
      // The same body as bytes (how a strict reader gets it).
      assert.deepEqual(decodePayload(Buffer.from(v.body)).map(fromPacket), v.packets);
    });
  }

  for (const v of engine.decodeOnlyPayloads) {
    it(`lenient payload ${v.name}`, () => {
      assert.deepEqual(decodePayload(v.body).map(fromPacket), v.packets);
    });
  }

  for (const v of engine.invalidTexts) {
    it(`invalid text frame ${v.name} -> ${v.error}`, () => {
      assert.equal(errorOf(() => decodeText(v.text)), v.error);
    });
  }

  for (const v of engine.invalidPayloads) {
    it(`invalid payload ${v.name} -> ${v.error}`, () => {
      const body = v.bodyBase64 !== undefined ? bytes(v.bodyBase64) : v.body;
      assert.equal(errorOf(() => decodePayload(body, v.maxPackets ?? 16)), v.error);
    });
  }

  it("base64 round trip of every length", () => {
    for (let n = 0; n < 70; n++) {
      const u = Uint8Array.from({ length: n }, (_, i) => (i * 37) & 255);
      assert.deepEqual(new Uint8Array(fromBase64(toBase64(u))), u);
    }
    const big = new Uint8Array(200_000).map((_, i) => i & 255);
    assert.equal(toBase64(big), Buffer.from(big).toString("base64"));
  });
});

// ===== Socket.IO packets =====

/** Vector packet -> what encode takes (attachments as ArrayBuffers). */
const toSio = (v) => {
  const p = { ...v };
  if (v.attachments) p.attachments = v.attachments.map(ab);
  return p;
};
/** Decoded packet -> vector shape. */
const fromSio = (p) => {
  const v = { ...p };
  if (p.attachments?.length) v.attachments = p.attachments.map(b64);
  else delete v.attachments;
  return v;
};

/** Feeds frames ({text}|{binary}) to a decoder; returns the packets it completed. */
function feed(decoder, frames) {
  const out = [];
  for (const f of frames) {
    const p = decoder.add(f.text !== undefined ? f.text : ab(f.binary));
    if (p) out.push(p);
  }
  return out;
}

const framesOf = (v) =>
  v.frames || [{ text: v.text }, ...(v.packet?.attachments || []).map((binary) => ({ binary }))];

describe("socket.io packets (socket.json)", () => {
  for (const v of socket.packets) {
    it(`${v.name}: encode`, () => {
      const [text, ...atts] = encode(toSio(v.packet));
      assert.equal(text, v.text);
      assert.deepEqual(atts.map(b64), v.packet.attachments || []);
    });
    it(`${v.name}: decode`, () => {
      const out = feed(new Decoder({ maxAttachments: 10, maxPacketLen: 1e6 }), framesOf(v));
      assert.equal(out.length, 1);
      assert.deepEqual(fromSio(out[0]), v.packet);
    });
  }

  for (const v of socket.decodeOnly) {
    it(`decode only: ${v.name}`, () => {
      const out = feed(new Decoder({ maxAttachments: 10 }), framesOf(v));
      assert.equal(out.length, 1);
      assert.deepEqual(fromSio(out[0]), v.packet);
      assert.equal(encode(toSio(v.packet))[0], v.canonical);
    });
  }

  for (const v of socket.invalid) {
    it(`invalid: ${v.name} -> ${v.error}`, () => {
      const decoder = new Decoder({ maxAttachments: 10, maxPacketLen: 1e6, ...v.limits });
      const frames = v.frames || [{ text: v.text }];
      // Every frame but the last is accepted.
      feed(decoder, frames.slice(0, -1));
      assert.equal(errorOf(() => feed(decoder, frames.slice(-1))), v.error);
    });
  }

  it("encodes binary arguments found anywhere as placeholders", () => {
    const u8 = new Uint8Array([1, 2, 3]);
    const buf = new Uint8Array([9, 8]).buffer;
    const dv = new DataView(new Uint8Array([7]).buffer);
    const [text, ...atts] = encode({
      type: 2,
      nsp: "/admin",
      id: 4,
      data: ["up", { a: [u8], b: { c: buf } }, dv, new Date(0)],
    });
    assert.equal(
      text,
      '53-/admin,4["up",{"a":[{"_placeholder":true,"num":0}],"b":{"c":{"_placeholder":true,"num":1}}},' +
        '{"_placeholder":true,"num":2},"1970-01-01T00:00:00.000Z"]',
    );
    assert.deepEqual(atts, [u8, buf, dv]);
    assert.equal(encode({ type: 3, nsp: "/", id: 1, data: [buf] })[0], '61-1[{"_placeholder":true,"num":0}]');
  });

  it("hydrates placeholders with the attachments", () => {
    const d = new Decoder();
    assert.equal(d.add('52-["x",{"a":{"_placeholder":true,"num":1}},{"_placeholder":true,"num":0}]'), undefined);
    assert.equal(d.add(ab("AQ==")), undefined);
    const p = d.add(ab("Ag=="));
    const data = hydrate(p);
    assert.equal(b64(data[1].a), "Ag==");
    assert.equal(b64(data[2]), "AQ==");
    assert.ok(data[2] instanceof ArrayBuffer);
  });

  it("stays usable after an error: unexpected text drops the packet waiting for attachments", () => {
    const d = new Decoder();
    assert.equal(d.add('51-["x",{"_placeholder":true,"num":0}]'), undefined);
    assert.equal(errorOf(() => d.add('2["y"]')), "UnexpectedText");
    assert.deepEqual(d.add('2["z"]'), { type: 2, nsp: "/", data: ["z"] });
    assert.equal(errorOf(() => d.add(ab("AQ=="))), "UnexpectedBinary");
    assert.equal(errorOf(() => d.add("9")), "UnknownPacketType");
    assert.deepEqual(d.add('2["w"]'), { type: 2, nsp: "/", data: ["w"] });
  });

  it("keeps a placeholder number written as 1.0 in ordinary data", () => {
    const p = new Decoder().add('2["x",{"num":1.0,"_placeholder":false}]');
    assert.deepEqual(p.data, ["x", { num: 1, _placeholder: false }]);
  });
});

// ===== SSE (streaming transport) =====

const ssePacket = (item) => (item instanceof Error ? { error: item.message } : { packet: fromPacket(item) });

/** Reads a stream in chunks of `size` bytes; returns {results, finish}. */
function readStream(buf, size, max) {
  const reader = new SseReader(max);
  const results = [];
  for (let i = 0; i < buf.length; i += size) {
    results.push(...reader.push(new Uint8Array(buf.subarray(i, i + size))).map(([item]) => ssePacket(item)));
  }
  const end = endOfStream(reader);
  return { results, finish: end?.message };
}

describe("server-sent events (sse.json)", () => {
  const padding = sse.padding.prefix + " ".repeat(sse.padding.spaces) + sse.padding.suffix;

  for (const v of sse.events) {
    it(`event ${v.name}`, () => {
      const out = readStream(Buffer.from(padding + v.event), 1 << 20);
      assert.deepEqual(out, { results: [{ packet: v.packet }], finish: undefined });
      // As EventSource hands it over: the joined data, and the event type.
      const data = v.event
        .split("\n")
        .filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(6))
        .join("\n");
      const packet = v.event.startsWith("event: b64") ? decodeB64Event(data) : decodeItem(data);
      assert.deepEqual(fromPacket(packet), v.packet);
    });
  }

  for (const v of [...sse.streams, ...sse.invalid]) {
    it(`stream ${v.name}`, () => {
      const buf = v.streamBase64 !== undefined ? bytes(v.streamBase64) : Buffer.from(v.stream);
      const max = v.maxEventLen ?? 65536;
      for (const size of [1, 2, 3, 7, buf.length || 1]) {
        assert.deepEqual(readStream(buf, size, max), { results: v.results, finish: v.finish }, `chunks of ${size}`);
      }
    });
  }

  it("does not limit a comment cut between chunks", () => {
    const reader = new SseReader(4);
    assert.deepEqual(reader.push(new Uint8Array(Buffer.from(`:${"x".repeat(100)}`))), []);
    assert.deepEqual(reader.push(new Uint8Array(Buffer.from(`${"x".repeat(100)}\ndata: 2\n\n`))), [[{ type: "ping" }, ""]]);
    assert.equal(endOfStream(reader), undefined);
  });

  it("reads a large event spread over many chunks in linear time", () => {
    const big = new Uint8Array(1 << 20).map((_, i) => i & 255);
    const stream = Buffer.from(`:${" ".repeat(2048)}\n\ndata: b${toBase64(big)}\n\ndata: 2\n\n`);
    const reader = new SseReader();
    const items = [];
    const t0 = Date.now();
    for (let i = 0; i < stream.length; i += 1000) {
      items.push(...reader.push(new Uint8Array(stream.subarray(i, i + 1000))).map(([item]) => item));
    }
    assert.ok(Date.now() - t0 < 2000);
    assert.equal(items.length, 2);
    assert.deepEqual(new Uint8Array(items[0].data), big);
    assert.deepEqual(items[1], { type: "ping" });
    assert.equal(endOfStream(reader), undefined);
  });

  it("gives each event the last event id, kept from event to event as EventSource does", () => {
    const stream = Buffer.from(
      `:${" ".repeat(2048)}\n\ndata: 40\n\nid: 1\ndata: 4a\n\nid:2\nevent: b64\ndata: NGENYg==\n\n` +
        `data: 6\n\nid: 3\r\ndata: 2\r\n\r\nid\ndata: 4b\n\nid: 9\ndata: 4c\0\n\nid: 7\0\ndata: 4d\n\n`,
    );
    for (const size of [1, 5, stream.length]) {
      const reader = new SseReader();
      const out = [];
      for (let i = 0; i < stream.length; i += size) out.push(...reader.push(new Uint8Array(stream.subarray(i, i + size))));
      assert.deepEqual(
        out.map(([item, id]) => [item.type == "message" ? item.data : item.type, id]),
        [
          ["0", ""],
          ["a", "1"],
          ["a\rb", "2"],
          // An event without an id field carries the last one.
          ["noop", "2"],
          ["ping", "3"],
          // An empty id field resets it.
          ["b", ""],
          ["c\0", "9"],
          // An id holding a NUL is ignored.
          ["d", "9"],
        ],
        `chunks of ${size}`,
      );
    }
  });
});
