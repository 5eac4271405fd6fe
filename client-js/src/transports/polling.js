// HTTP long-polling: a loop of GETs brings packets down; POSTs (one at a time, each carrying
// everything queued up to maxPayload bytes, packets joined by \x1e) take them up. The
// streaming transport reuses the upstream half, and the lossless re-attach below.
//
// Nothing received is lost with a connection: a ferrio server numbers the packets its HTTP
// transports hand out (1, 2, 3…; a polling answer names its last one in `X-Ferrio-Event-Id`,
// an SSE event in its `id`), every request says the highest number received (`lastEventId`,
// 0 on the handshake; see Transport._url), and the server keeps what it handed out until a
// later request (or a pong) confirms it. A GET or stream that fails is re-attached at once
// with the same sid: the server ends the one it still believes attached and sends again what
// followed, in order; packets received already are skipped. After 3 failures in a row, or
// when the server refuses (the session is gone), the transport is lost ("transport error").
// A failed POST loses the transport at once: it may or may not have been applied, and sending
// it again could apply it twice.

import { Transport } from "./transport.js";
import { attempt } from "../parser/bytes.js";
import { decodeItem, encodeItem } from "../parser/engine.js";

/**
 * UTF-8 length of a string: URI-encoded (each byte of a character one %XX), then unescaped
 * (each %XX one character). (A lone surrogate cannot be encoded: then 3 bytes a code unit,
 * more than it takes.)
 */
const utf8Length = (text) => {
  try {
    return unescape(encodeURIComponent(text)).length;
  } catch {
    return 3 * text.length;
  }
};

export class Polling extends Transport {
  /** @param {import("./transport.js").TransportOptions} options */
  constructor(options, name = "polling") {
    super(options, name);
    /** Packets waiting for a POST. */
    this._queue = [];
    // Unset until then: `_receiving` (a GET or a stream is out), `_sending` (a POST is out),
    // `_paused`, `_ondrained` (called once a pause has drained everything), `_receiver` (stops
    // what receives, the GET or the stream: `abort()`).
    /** The highest packet number received. */
    this._received = 0;
    /** Receives that failed in a row. */
    this._failures = 0;
    this._fail = (details) => this._close("transport error", false, details);
  }

  open() {
    this._receive();
  }

  /**
   * Receives: a GET (`_get`), or the stream (streaming). `again`: re-attaching after a
   * failure, even while paused (what was lost may still have to come).
   */
  _receive(again) {
    if (this._closed || (this._paused && !again)) return;
    this._receiving = true;
    this._get();
  }

  /** One long-poll GET; the next one follows as soon as it is answered. */
  _get() {
    this._receiver = this._request(
      "GET",
      null,
      (body, last) => {
        this._receiving = false;
        // Each packet on its own: an undecodable one does not cost the others.
        const items = body.split("\x1e");
        items.forEach((item, i) => this._take(attempt(decodeItem, item), last && last - items.length + 1 + i));
        this._paused ? this._checkDrained() : this._receive();
      },
      (details) => {
        this._receiving = false;
        this._reattach(details);
      },
    );
  }

  /**
   * A received packet (or the Error of an undecodable one) numbered `seq` (unnumbered: not a
   * positive number): receiving works again (no failure in a row). One received already is
   * skipped, but for a noop or a close: they end a response or a stream unnumbered, and an SSE
   * event without an id carries the one before.
   */
  _take(item, seq) {
    this._failures = 0;
    if (seq > this._received) this._received = seq;
    else if (seq > 0 && item.type != "noop" && item.type != "close") return;
    this._packet(item);
  }

  /**
   * The GET (or the stream) failed or ended (socket.io-client's `details` of why): re-attach
   * at once, at most 3 times in a row; the transport is lost when the server `refused` (by
   * default: answered with an error status), or when this was the handshake.
   */
  _reattach(details, refused = details.description > 0) {
    if (this._closed) return;
    if (refused || !this.sid || ++this._failures > 3) this._fail(details);
    else this._receive(true);
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
