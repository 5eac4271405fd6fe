// Server-Sent Events, the downstream of ferrio's streaming transport (the Rust crate
// ferrio-protocol's engine/sse.rs): one event per Engine.IO packet, its data the packet's
// payload item (`b<base64>` for binary); an event of type `b64` carries base64 of a text
// packet holding a CR. EventSource parses the stream by itself; SseReader does it where
// EventSource is missing (Node, workers).

import { fail, fromBase64, utf8 } from "./bytes.js";
import { decodeItem, decodeText } from "./engine.js";

const LF = 10;
const CR = 13;
const COLON = 58;
/**
 * UTF-8 text of a field name or value (a byte order mark there is kept, as in any field); a
 * line that is not UTF-8 outside `data` stops the stream (read as a cut).
 */
const text = utf8;

/** Decodes the data of a `b64` SSE event: base64 of the UTF-8 text of a text packet. */
export const decodeB64Event = (data) => decodeText(utf8(fromBase64(data)));

/**
 * Incremental SSE reader for the streaming transport. Feed it the response bytes with
 * `push(chunk)`, which returns what the complete events yield in order, each as
 * `[item, id]`: the packet (or the Error of an undecodable event) and the event's last event
 * id (the string of the last `id` field of the stream, as EventSource's `lastEventId`; ferrio
 * numbers its packets so). An event longer than `maxEventLen` bytes stops the reader. A stream
 * that ends inside an event is taken for a cut (see `endOfStream`).
 */
export class SseReader {
  constructor(maxEventLen = Infinity) {
    this._maxEventLength = maxEventLen;
    /** The bytes of the unfinished line, as received (a comment keeps only its colon). */
    this._lineParts = [];
    this._lineLength = 0;
    // Unset until then: `_started` (a line was read: a byte order mark may open the first
    // one), `_afterCR` (the last byte was a CR), `_failed` (a limit was exceeded).
    /** The last event id: kept from event to event, as EventSource does. */
    this._lastId = "";
    this._resetEvent();
  }

  _resetEvent() {
    /** The `data` lines of the event so far (null for one that is not UTF-8), or null. */
    this._data = null;
    this._dataLength = 0;
    this._eventType = "";
  }

  push(chunk) {
    const out = [];
    let lineStart = 0;
    for (let i = 0; i < chunk.length && !this._failed; i++) {
      const c = chunk[i];
      // The LF of a CRLF: the CR ended the line.
      if (c == LF && this._afterCR) lineStart = i + 1;
      else if (c == CR || c == LF) {
        // The line in one array.
        const line = new Uint8Array(this._lineLength + i - lineStart);
        let at = 0;
        for (const part of [...this._lineParts, chunk.subarray(lineStart, i)]) line.set(part, at), (at += part.length);
        this._lineParts = [];
        this._lineLength = 0;
        this._line(line, out);
        lineStart = i + 1;
      }
      this._afterCR = c == CR;
    }
    const parts = this._lineParts;
    if (!this._failed && lineStart < chunk.length) {
      const rest = chunk.subarray(lineStart);
      if (parts[0]?.[0] != COLON) {
        parts.push(!parts.length && rest[0] == COLON ? rest.subarray(0, 1) : rest);
        this._lineLength += parts[parts.length - 1].length;
      }
      if (this._lineLength > this._maxEventLength + 7) this._tooLarge(out);
    }
    return out;
  }

  _tooLarge(out) {
    this._failed = true;
    out.push([new Error("PayloadTooLarge"), this._lastId]);
  }

  _line(line, out) {
    // A byte order mark may open the stream.
    if (!this._started && line[0] == 0xef && line[1] == 0xbb && line[2] == 0xbf) line = line.subarray(3);
    this._started = true;
    if (!line.length) return this._dispatch(out);
    if (line[0] == COLON) return;
    let colon = line.indexOf(COLON);
    if (colon < 0) colon = line.length;
    const field = text(line.subarray(0, colon));
    let value = line.subarray(colon + 1);
    if (value[0] == 32) value = value.subarray(1);
    if (field == "data") {
      this._dataLength += (this._data ? 1 : 0) + value.length;
      if (this._dataLength > this._maxEventLength) return this._tooLarge(out);
      const data = (this._data ||= []);
      try {
        data.push(utf8(value));
      } catch {
        data.push(null);
      }
    } else if (field == "event") this._eventType = text(value);
    else if (field == "id" && !value.includes(0)) this._lastId = text(value);
  }

  _dispatch(out) {
    const { _data: data, _eventType: type } = this;
    this._resetEvent();
    if (!data || (type && type != "message" && type != "b64")) return;
    let item;
    try {
      if (data.includes(null)) fail("InvalidUtf8");
      const text = data.join("\n");
      item = type == "b64" ? decodeB64Event(text) : decodeItem(text);
    } catch (err) {
      item = err;
    }
    out.push([item, this._lastId]);
  }
}

/**
 * What the end of the stream `reader` has read means: an Error when the stream stopped inside
 * an event ("Truncated") or the reader had stopped ("PayloadTooLarge"), else undefined. (The
 * streaming transport re-attaches either way; the vectors shared with the Rust parser check it.)
 */
export function endOfStream(reader) {
  if (reader._failed) return new Error("PayloadTooLarge");
  if (reader._lineLength || reader._data || reader._eventType) return new Error("Truncated");
}
