// Server-Sent Events, the downstream of ferrio's streaming transport (the Rust crate
// ferrio-protocol's engine/sse.rs): one event per Engine.IO packet, its data the packet's
// payload item (`b<base64>` for binary); an event of type `b64` carries base64 of a text
// packet holding a CR. EventSource parses the stream by itself; SseReader does it where
// EventSource is missing (Node, workers).

import { attempt, byteString, unbase64, utf8 } from "./bytes.js";
import { decodeItem, decodeText } from "./engine.js";

/** Decodes the data of a `b64` SSE event: base64 of the UTF-8 text of a text packet. */
export const decodeB64Event = (data) => decodeText(utf8(unbase64(data)));

/**
 * Incremental SSE reader for the streaming transport. Feed it the response bytes with
 * `push(chunk)`, which returns what the complete events yield in order, each as
 * `[item, id]`: the packet (or the Error of an undecodable event) and the event's last event
 * id (the string of the last `id` field of the stream, as EventSource's `lastEventId`; ferrio
 * numbers its packets so). An event longer than `maxEventLen` bytes stops the reader. A stream
 * that ends inside an event is taken for a cut (see `endOfStream`).
 *
 * Lines are cut and parsed as byte strings (bytes.js), so that a chunk may end anywhere, even
 * inside a character; field values are decoded as UTF-8 (a field name or value outside `data`
 * that is not UTF-8 throws: the stream stops, read as a cut).
 */
export class SseReader {
  constructor(maxEventLen = Infinity) {
    this._maxEventLength = maxEventLen;
    /** The unfinished line, as a byte string (a comment keeps only its colon). */
    this._line = "";
    /** The last event id: kept from event to event, as EventSource does. */
    this._lastId = "";
    // Unset until then: `_started` (a line was read: a byte order mark may open the first
    // one), `_afterCR` (the last byte was a CR), `_failed` (a limit was exceeded), `_data` (the
    // `data` lines of the event so far, joined by LFs), `_eventType`.
  }

  push(chunk) {
    const out = [];
    if (this._failed || !chunk.length) return out;
    // The LF of a CRLF cut between two chunks: the CR ended the line.
    const lines = byteString(this._afterCR && chunk[0] == 10 ? chunk.subarray(1) : chunk).split(/\r\n?|\n/);
    this._afterCR = chunk[chunk.length - 1] == 13;
    lines[0] = this._line + lines[0];
    const rest = lines.pop();
    for (const line of lines) if (!this._failed) this._read(line, out);
    if (!this._failed) {
      const line = (this._line = rest[0] == ":" ? ":" : rest);
      if (line.length > this._maxEventLength + 7) this._tooLarge(out);
    }
    return out;
  }

  _tooLarge(out) {
    this._failed = true;
    out.push([new Error("PayloadTooLarge"), this._lastId]);
  }

  /** Reads a line: a field, a comment, or (empty) the end of an event. */
  _read(line, out) {
    // A byte order mark may open the stream.
    if (!this._started && line.startsWith("\xef\xbb\xbf")) line = line.slice(3);
    this._started = true;
    if (!line) {
      // The end of an event: dispatched (if it has data and is a message or b64).
      const { _data: data, _eventType: type } = this;
      this._data = this._eventType = undefined;
      if (data == null || (type && type != "message" && type != "b64")) return;
      const decode = type == "b64" ? decodeB64Event : decodeItem;
      return out.push([attempt((data) => decode(utf8(data)), data), this._lastId]);
    }
    if (line[0] == ":") return;
    // A field without a colon has an empty value; one space after the colon is dropped.
    let [, field, value] = /^([^:]*):? ?(.*)/.exec(line);
    field = utf8(field);
    if (field == "data") {
      const data = (this._data = this._data == null ? value : this._data + "\n" + value);
      if (data.length > this._maxEventLength) this._tooLarge(out);
    } else if (field == "event") this._eventType = utf8(value);
    else if (field == "id" && !value.includes("\0")) this._lastId = utf8(value);
  }

}

/**
 * What the end of the stream `reader` has read means: an Error when the stream stopped inside
 * an event ("Truncated") or the reader had stopped ("PayloadTooLarge"), else undefined. (The
 * streaming transport re-attaches either way; the vectors shared with the Rust parser check it.)
 */
export function endOfStream(reader) {
  if (reader._failed) return new Error("PayloadTooLarge");
  if (reader._line || reader._data != null || reader._eventType) return new Error("Truncated");
}
