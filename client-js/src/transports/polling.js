// HTTP long-polling: a loop of GETs brings packets down; POSTs (one at a time, each carrying
// everything queued up to maxPayload bytes, packets joined by \x1e) take them up. The
// streaming transport reuses the upstream half.

import { Transport, attempt } from "./transport.js";
import { decodeItem, encodeItem } from "../parser/engine.js";

/** UTF-8 length of a string. */
const utf8Length = (s) => {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // 2 bytes below U+0800, 3 above; a surrogate pair (2 units) makes 4.
    if (c > 0x7f) n += c < 0x800 || (c >= 0xd800 && c < 0xe000) ? 1 : 2;
  }
  return n;
};

export class Polling extends Transport {
  constructor(engine, name = "polling") {
    super(engine, name);
    /** Packets waiting for a POST. */
    this._q = [];
    /** A GET (or a stream) is out. */
    this._down = false;
    /** A POST is out. */
    this._up = false;
    this._paused = false;
  }

  open() {
    this._receive();
  }

  /** One long-poll GET; the next one follows as soon as it is answered. */
  _receive() {
    if (this._done || this._paused) return;
    this._down = true;
    this._abort = new AbortController();
    this._request("GET", undefined, this._abort.signal).then(
      (body) => {
        this._down = false;
        // Each packet on its own: an undecodable one does not cost the others.
        for (const item of body.split("\x1e")) this._packet(attempt(decodeItem, item));
        this._paused ? this._idle() : this._receive();
      },
      () => this._close("transport error"),
    );
  }

  send(packets) {
    this._q.push(...packets);
    this._post();
  }

  /** POSTs what is queued, up to maxPayload bytes per request, one request at a time. */
  _post() {
    const q = this._q;
    if (this._up || !q.length || !this.sid) return;
    const max = this._e._maxPayload || 1e6;
    const items = [];
    let size = 0;
    while (items.length < q.length) {
      const item = encodeItem(q[items.length]);
      size += utf8Length(item) + 1;
      if (items.length && size > max) break;
      items.push(item);
    }
    q.splice(0, items.length);
    this._up = true;
    this._request("POST", items.join("\x1e")).then(
      () => {
        this._up = false;
        this._post();
        this._idle();
      },
      () => this._close("transport error"),
    );
  }

  pause(done) {
    this._paused = true;
    this._onidle = done;
    this._idle();
  }

  /** Calls the pause callback once nothing is out any more. */
  _idle() {
    const done = this._onidle;
    if (this._paused && done && !this._down && !this._up && !this._q.length) {
      this._onidle = null;
      done();
    }
  }

  resume() {
    this._paused = false;
    this._onidle = null;
    // A request still out carries on (never two GETs or two streams at once).
    if (!this._down) this._receive();
    this._post();
  }

  close(bye) {
    if (this._done) return;
    super.close();
    this._abort?.abort();
    // Whatever is still queued goes first, then the close packet (after the POST that is out).
    if (bye && this.sid) this.send([{ type: "close" }]);
  }
}
