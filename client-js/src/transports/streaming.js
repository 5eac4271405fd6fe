// ferrio's streaming transport: one Server-Sent Events response carries packets down (one
// `data:` event per packet, binary as `b<base64>`, an event of type `b64` for text packets
// holding a CR), POSTs carry them up exactly as in polling. Read with EventSource, or with
// fetch and a ReadableStream where EventSource is missing (Node, workers).
//
// The server ends a stream after a byte budget; the client then re-attaches at once with its
// sid (never letting EventSource reconnect by itself to the handshake URL). A stream that ends
// before it delivered anything, or that is refused, means the session is gone.

import { Polling } from "./polling.js";
import { attempt, details } from "./transport.js";
import { decodeItem } from "../parser/engine.js";
import { SseReader, decodeB64Event } from "../parser/sse.js";

export class Streaming extends Polling {
  /** @param {import("./transport.js").TransportOptions} options */
  constructor(options) {
    super(options, "streaming");
  }

  _receive() {
    if (this._closed || this._paused) return;
    const EventSourceImpl = this._options.EventSource || globalThis.EventSource;
    let delivered = false;
    let live = true;
    let receiver;
    this._receiving = true;
    // The end of this stream: re-attach, finish a pause, or fail.
    const end = (reason) => {
      if (!live) return;
      live = this._receiving = false;
      receiver.abort();
      if (this._closed) return;
      // While websocket is probed, an ended stream waits: the upgrade either completes (the
      // pause is then already done) or fails, and resume() re-attaches.
      if (this._paused || this.probing) return this._checkDrained();
      if (reason || !delivered || !this.sid) return this._close("transport error", false, details(reason || "stream ended"));
      this._receive();
    };
    // A packet, or the Error of an undecodable event (dropped; the stream goes on).
    const take = (item) => {
      if (!live) return;
      delivered = true;
      // Once the probe is answered the server ends the stream with a noop, which may arrive
      // before the client itself has seen the answer.
      if ((this._paused || this.probing) && item.type == "noop") return end();
      this._packet(item);
    };
    const decode = (fn) => (message) => take(attempt(fn, message.data));
    if (EventSourceImpl) {
      const source = new EventSourceImpl(this._url(), { withCredentials: !!this._options.withCredentials });
      source.onmessage = decode(decodeItem);
      source.addEventListener("b64", decode(decodeB64Event));
      // CLOSED: refused (not a 200 event stream); CONNECTING: the stream ended or broke.
      source.onerror = () => end(source.readyState == 2 && "stream refused");
      receiver = this._receiver = { abort: () => source.close() };
    } else {
      receiver = this._receiver = new AbortController();
      this._fetch({ headers: { Accept: "text/event-stream" }, signal: receiver.signal })
        .then((response) => {
          if (!response.ok || !response.body) throw 0;
          const reader = response.body.getReader();
          const sse = new SseReader();
          const pump = () =>
            reader.read().then(({ done, value }) => {
              if (done) return end(sse.end() && "stream truncated");
              for (const item of sse.push(value)) take(item);
              if (live) return pump();
            });
          return pump();
        })
        .catch(() => end("stream error"));
    }
  }
}
