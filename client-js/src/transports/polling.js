// HTTP long-polling: a loop of GETs brings packets down; POSTs (one at a time, each carrying
// everything queued up to maxPayload bytes, packets joined by \x1e) take them up. The
// streaming transport reuses the upstream half.

import { Transport, attempt } from "./transport.js";
import { decodeItem, encodeItem } from "../parser/engine.js";

/** UTF-8 length of a string. */
const utf8Length = (text) => {
  let length = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // 2 bytes below U+0800, 3 above; a surrogate pair (2 units) makes 4.
    if (c > 0x7f) length += c < 0x800 || (c >= 0xd800 && c < 0xe000) ? 1 : 2;
  }
  return length;
};

export class Polling extends Transport {
  /** @param {import("./transport.js").TransportOptions} options */
  constructor(options, name = "polling") {
    super(options, name);
    /** Packets waiting for a POST. */
    this._queue = [];
    /** A GET (or a stream) is out. */
    this._receiving = false;
    /** A POST is out. */
    this._sending = false;
    this._paused = false;
    /** Called once a pause has drained everything. */
    this._ondrained = null;
    /** Stops what receives: the GET or the stream (`abort()`). */
    this._receiver = null;
    this._fail = (details) => this._close("transport error", false, details);
  }

  open() {
    this._receive();
  }

  /** One long-poll GET; the next one follows as soon as it is answered. */
  _receive() {
    if (this._closed || this._paused) return;
    this._receiving = true;
    this._receiver = this._request(
      "GET",
      null,
      (body) => {
        this._receiving = false;
        // Each packet on its own: an undecodable one does not cost the others.
        for (const item of body.split("\x1e")) this._packet(attempt(decodeItem, item));
        this._paused ? this._checkDrained() : this._receive();
      },
      this._fail,
    );
  }

  send(packets) {
    this._queue.push(...packets);
    this._post();
  }

  /** POSTs what is queued, up to maxPayload bytes per request, one request at a time. */
  _post() {
    const queue = this._queue;
    if (this._sending || !queue.length || !this.sid) return;
    const items = [];
    let size = 0;
    while (items.length < queue.length) {
      const item = encodeItem(queue[items.length]);
      size += utf8Length(item) + 1;
      if (items.length && size > this._maxPayload) break;
      items.push(item);
    }
    queue.splice(0, items.length);
    this._sending = true;
    this._request(
      "POST",
      items.join("\x1e"),
      () => {
        this._sending = false;
        this._post();
        this._checkDrained();
      },
      this._fail,
    );
  }

  pause(done) {
    this._paused = true;
    this._ondrained = done;
    this._checkDrained();
  }

  /** Calls the pause callback once nothing is out any more. */
  _checkDrained() {
    const done = this._ondrained;
    if (this._paused && done && !this._receiving && !this._sending && !this._queue.length) {
      this._ondrained = null;
      done();
    }
  }

  resume() {
    this._paused = false;
    this._ondrained = null;
    // A request still out carries on (never two GETs or two streams at once).
    if (!this._receiving) this._receive();
    this._post();
  }

  close(bye) {
    if (this._closed) return;
    super.close();
    this._receiver?.abort();
    // Whatever is still queued goes first, then the close packet (after the POST that is out).
    if (bye && this.sid) this.send([{ type: "close" }]);
  }
}
