// Wire codecs: Engine.IO v4 packets and payloads, Socket.IO v5 packets (with binary
// attachments), and the streaming transport's Server-Sent Events. Mirrors the Rust crate
// ferrio-protocol; both are checked against tests/vectors/*.json.
//
// A decode error is an Error whose message is the name of the Rust DecodeError variant
// ("Empty", "UnknownPacketType", "InvalidJson", …).

const TYPES = ["open", "close", "ping", "pong", "message", "upgrade", "noop"];

/** Event names an application may neither emit nor receive. */
export const RESERVED = [
  "connect",
  "connect_error",
  "disconnect",
  "disconnecting",
  "newListener",
  "removeListener",
];

const fail = (code) => {
  throw new Error(code);
};

const utf8 = (bytes) => {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    fail("InvalidUtf8");
  }
};

const view = (b) =>
  ArrayBuffer.isView(b) ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : new Uint8Array(b);

/** Whether `x` is sent as a binary attachment. */
export const isBinary = (x) =>
  x instanceof ArrayBuffer ||
  ArrayBuffer.isView(x) ||
  (typeof Blob != "undefined" && x instanceof Blob);

// ===== base64 =====

/** Standard base64 (padded) of an ArrayBuffer or a view. */
export function toBase64(b) {
  const u = view(b);
  let s = "";
  for (let i = 0; i < u.length; i += 0x8000) {
    s += String.fromCharCode.apply(null, u.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/** Decodes standard base64 (padding optional) into an ArrayBuffer. */
export function fromBase64(s) {
  let bin;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s)) fail("InvalidBase64");
  try {
    bin = atob(s);
  } catch {
    fail("InvalidBase64");
  }
  const u = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) u[i] = bin.charCodeAt(i);
  return u.buffer;
}

// ===== Engine.IO =====
// A packet is {type, data?}: `type` one of TYPES; `data` is the handshake object of an open,
// "probe" on probe pings/pongs, and a string or an ArrayBuffer on a message.

/** Decodes a text packet (a WebSocket text frame, or an item of a payload without `b`). */
export function decodeText(s) {
  if (!s) fail("Empty");
  const type = TYPES[s[0]];
  const data = s.slice(1);
  if (!type) fail("UnknownPacketType");
  if (type == "message") return { type, data };
  if (type == "open") {
    let h;
    if (!data) fail("Truncated");
    try {
      h = JSON.parse(data);
    } catch {
      fail("InvalidJson");
    }
    if (
      !h ||
      typeof h.sid != "string" ||
      !Array.isArray(h.upgrades) ||
      [h.pingInterval, h.pingTimeout, h.maxPayload].some((n) => typeof n != "number")
    ) {
      fail("InvalidJson");
    }
    return { type, data: h };
  }
  if (!data) return { type };
  if (data != "probe" || (type != "ping" && type != "pong")) fail("UnexpectedData");
  return { type, data };
}

/** Decodes one item of a polling payload or of an SSE event: `b<base64>` is binary. */
export const decodeItem = (s) =>
  s[0] == "b" ? { type: "message", data: fromBase64(s.slice(1)) } : decodeText(s);

/** Decodes a WebSocket frame: a string, or an ArrayBuffer (a binary message). */
export const decodeFrame = (x) =>
  typeof x == "string" ? decodeText(x) : { type: "message", data: x };

/** Encodes a packet as a WebSocket frame: a string, or binary data. */
export function encodeFrame(p) {
  const d = p.data;
  if (d != null && typeof d == "object" && p.type == "message") return d;
  return TYPES.indexOf(p.type) + (p.type == "open" ? JSON.stringify(d) : d ?? "");
}

/** Encodes a packet as an item of a polling payload (binary as `b<base64>`). */
export const encodeItem = (p) => {
  const f = encodeFrame(p);
  return typeof f == "string" ? f : "b" + toBase64(f);
};

/** Encodes packets as a polling payload: items joined by the record separator. */
export const encodePayload = (packets) => packets.map(encodeItem).join("\x1e");

/** Decodes a polling payload (a string, or bytes that must be UTF-8). */
export function decodePayload(body, maxPackets = Infinity) {
  if (typeof body != "string") body = utf8(body);
  const items = body.split("\x1e");
  if (items.length > maxPackets) fail("TooManyPackets");
  return items.map(decodeItem);
}

// ===== Socket.IO =====
// A packet is {type, nsp, id?, data?, attachments?}: `type` 0 CONNECT … 6 BINARY_ACK.

/**
 * Encodes a packet into its text and its binary attachments. Binary values found in `data`
 * become placeholders (an EVENT becomes a BINARY_EVENT, an ACK a BINARY_ACK), unless the packet
 * already lists its `attachments`, in which case `data` is written as it is.
 */
export function encode(p) {
  const given = p.attachments;
  const atts = given || [];
  let type = p.type;
  let s = "";
  const json =
    p.data === undefined
      ? ""
      : JSON.stringify(
          p.data,
          given
            ? undefined
            : function (k, v) {
                const o = this[k];
                return isBinary(o) ? { _placeholder: true, num: atts.push(o) - 1 } : v;
              },
        );
  if (!given && atts.length && (type == 2 || type == 3)) type += 3;
  s += type;
  if (type > 4) s += atts.length + "-";
  if (p.nsp && p.nsp != "/") s += p.nsp + ",";
  if (p.id != null) s += p.id;
  return [s + json, ...atts];
}

const DIGITS = /\d*/y;
const digits = (s, i) => ((DIGITS.lastIndex = i), DIGITS.exec(s)?.[0] || "");

// Placeholders `{"_placeholder":true,"num":N}` found in `data`; `fn` may replace them.
function walk(x, fn) {
  if (x && typeof x == "object") {
    if (x._placeholder === true) return fn(x);
    for (const k in x) x[k] = walk(x[k], fn);
  }
  return x;
}

// `"num": 1.0` parses as 1; a placeholder number must be written as an integer.
const FLOAT_NUM = /("(?:[^"\\]|\\.)*")(\s*:\s*)(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)?/g;

function checkPlaceholders(data, n) {
  const seen = new Set();
  let count = 0;
  walk(data, (ph) => {
    const num = ph.num;
    if (!Number.isInteger(num) || num < 0 || num >= n) fail("InvalidPlaceholder");
    seen.add(num);
    count++;
    return ph;
  });
  if (count != n || seen.size != n) fail("AttachmentMismatch");
}

/** Replaces the placeholders of a decoded binary packet by its attachments. */
export const hydrate = (p) => walk(p.data, (ph) => p.attachments[ph.num]);

/**
 * Socket.IO decoder: feed it text and binary frames in order; `add` returns a complete packet
 * (binary data still as placeholders, the attachments in `attachments`), or undefined while
 * attachments are missing. Throws on invalid input, and stays usable after that.
 */
export class Decoder {
  constructor({ maxAttachments = 1000, maxPacketLen = Infinity } = {}) {
    this._max = maxAttachments;
    this._len = maxPacketLen;
    this._p = null;
  }

  add(x) {
    const p = this._p;
    if (typeof x == "string") {
      if (p) {
        // The packet waiting for attachments is dropped; the decoder stays usable.
        this._p = null;
        fail("UnexpectedText");
      }
      const q = this._decode(x);
      if (q._n) {
        this._p = q;
        return;
      }
      delete q._n;
      return q;
    }
    if (!p) fail("UnexpectedBinary");
    if (p.attachments.push(x) == p._n) {
      this._p = null;
      delete p._n;
      return p;
    }
  }

  _decode(s) {
    if (!s) fail("Empty");
    if (s.length > this._len) fail("PacketTooLarge");
    if (!(s[0] >= "0" && s[0] <= "6")) fail("UnknownPacketType");
    const type = +s[0];
    const p = { type, nsp: "/" };
    let i = 1;
    let n = 0;
    if (type > 4) {
      const m = digits(s, i);
      i += m.length;
      if (i >= s.length) fail("Truncated");
      if (!m || s[i] != "-") fail("InvalidAttachmentCount");
      n = +m;
      if (n > this._max) fail("TooManyAttachments");
      i++;
    }
    if (s[i] == "/") {
      let j = s.indexOf(",", i);
      if (j < 0) j = s.length;
      p.nsp = s.slice(i, j);
      i = j + 1;
      if (/[\0-\x1f\x7f]/.test(p.nsp)) fail("InvalidNamespace");
    }
    const id = digits(s, i);
    const acked = type == 3 || type == 6;
    if (id) {
      p.id = +id;
      i += id.length;
      if (p.id > Number.MAX_SAFE_INTEGER || !(type == 2 || type == 5 || acked)) fail("InvalidAckId");
    } else if (acked) fail("InvalidAckId");
    const rest = s.slice(i);
    let data;
    if (rest) {
      try {
        data = JSON.parse(rest);
      } catch {
        fail("InvalidJson");
      }
    }
    const array = Array.isArray(data);
    const object = data && typeof data == "object" && !array;
    const bad =
      type == 0
        ? data !== undefined && !object
        : type == 1
          ? data !== undefined
          : type == 4
            ? !object && typeof data != "string"
            : // an ACK carries an array; an EVENT a non-empty one named by a string or a number
              !array || (!acked && !(data.length && /^[sn]/.test(typeof data[0])));
    if (bad) fail("InvalidData");
    if (array && !acked && RESERVED.includes(data[0])) fail("ReservedEvent");
    if (type > 4) {
      checkPlaceholders(data, n);
      if (/"num"\s*:\s*-?\d+[.eE]/.test(rest)) {
        // Parse a copy in which such numbers are strings, which the check refuses.
        const marked = rest.replace(FLOAT_NUM, (all, key, colon, num) =>
          key == '"num"' && /[.eE]/.test(num) ? key + colon + '"."' : all,
        );
        checkPlaceholders(JSON.parse(marked), n);
      }
      p.attachments = [];
    }
    if (data !== undefined) p.data = data;
    p._n = n;
    return p;
  }
}

// ===== Server-Sent Events (the streaming transport's downstream) =====

const LF = 10;
const CR = 13;
const COLON = 58;
const BOM = [0xef, 0xbb, 0xbf];
const ascii = (u) => String.fromCharCode.apply(null, u);

/**
 * Incremental SSE reader for the streaming transport, used where EventSource is missing. Feed
 * it the response bytes with `push(chunk)`, which returns what the complete events yield in
 * order (packets, or Errors for undecodable events); call `end()` when the stream ends: it
 * returns an Error when the stream stopped inside an event. An event longer than `maxEventLen`
 * bytes stops the reader.
 */
export class SseReader {
  constructor(maxEventLen = Infinity) {
    this._max = maxEventLen;
    /** The bytes of the unfinished line, as received (a comment keeps only its colon). */
    this._parts = [];
    this._pending = 0;
    this._start = true;
    this._cr = false;
    this._reset();
  }

  _reset() {
    this._data = null;
    this._len = 0;
    this._event = "";
    this._bad = false;
  }

  /** The unfinished line followed by `tail`, in one array. */
  _take(tail) {
    const parts = this._parts;
    if (!parts.length) return tail;
    const u = new Uint8Array(this._pending + tail.length);
    let n = 0;
    for (const p of [...parts, tail]) u.set(p, (n += p.length) - p.length);
    this._parts = [];
    this._pending = 0;
    return u;
  }

  push(chunk) {
    const out = [];
    if (this._dead) return out;
    if (this._start) {
      // A byte order mark may open the stream, possibly split over chunks.
      chunk = this._take(chunk);
      const k = Math.min(3, chunk.length);
      if (BOM.slice(0, k).every((c, j) => chunk[j] == c)) {
        if (k < 3) {
          this._parts = [chunk];
          this._pending = k;
          return out;
        }
        chunk = chunk.subarray(3);
      }
      this._start = false;
    }
    let line = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      if (c == LF && this._cr) {
        // The LF of a CRLF: the CR ended the line.
        this._cr = false;
        line = i + 1;
        continue;
      }
      this._cr = c == CR;
      if (c == CR || c == LF) {
        this._line(this._take(chunk.subarray(line, i)), out);
        if (this._dead) return out;
        line = i + 1;
      }
    }
    if (line < chunk.length) {
      const rest = chunk.subarray(line);
      const first = this._parts[0] || rest;
      if (first[0] != COLON || !this._parts.length) {
        this._parts.push(first[0] == COLON ? rest.subarray(0, 1) : rest);
        this._pending += this._parts[this._parts.length - 1].length;
      }
      if (this._pending > this._max + 7) this._tooLarge(out);
    }
    return out;
  }

  end() {
    if (this._dead) return new Error("PayloadTooLarge");
    if (this._pending || this._data || this._event) return new Error("Truncated");
  }

  _tooLarge(out) {
    this._dead = true;
    out.push(new Error("PayloadTooLarge"));
  }

  _line(u, out) {
    if (!u.length) return this._dispatch(out);
    if (u[0] == COLON) return;
    let c = u.indexOf(COLON);
    if (c < 0) c = u.length;
    const field = ascii(u.subarray(0, Math.min(c, 6)));
    let value = u.subarray(c + 1);
    if (value[0] == 32) value = value.subarray(1);
    if (c == 4 && field == "data") {
      this._len += (this._data ? 1 : 0) + value.length;
      if (this._len > this._max) return this._tooLarge(out);
      try {
        (this._data ||= []).push(utf8(value));
      } catch {
        this._data ||= [];
        this._bad = true;
      }
    } else if (c == 5 && field == "event") {
      this._event = new TextDecoder().decode(value);
    }
  }

  _dispatch(out) {
    const { _data: data, _event: event, _bad: bad } = this;
    this._reset();
    if (!data || (event && event != "message" && event != "b64")) return;
    try {
      if (bad) fail("InvalidUtf8");
      const s = data.join("\n");
      out.push(event == "b64" ? decodeB64Event(s) : decodeItem(s));
    } catch (e) {
      out.push(e);
    }
  }
}

/** Decodes the data of a `b64` SSE event: base64 of the UTF-8 text of a text packet. */
export const decodeB64Event = (s) => decodeText(utf8(fromBase64(s)));
