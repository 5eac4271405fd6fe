// ferrio's streaming transport: one Server-Sent Events response carries packets down (one
// `data:` event per packet, binary as `b<base64>`, an event of type `b64` for text packets
// holding a CR), POSTs carry them up exactly as in polling. Read with EventSource, or with
// fetch and a ReadableStream where EventSource is missing (Node, workers).
//
// The server ends a stream after a byte budget; the client then re-attaches at once with its
// sid (never letting EventSource reconnect by itself to the handshake URL). A stream that
// breaks is re-attached the same way, losing nothing (see polling.js); one that is refused
// means the session is gone.

import { Polling } from "./polling.js";
import { details } from "./transport.js";
import { attempt } from "../parser/bytes.js";
import { decodeItem } from "../parser/engine.js";
import { SseReader, decodeB64Event } from "../parser/sse.js";

export class Streaming extends Polling {
  /** @param {import("./transport.js").TransportOptions} options */
  constructor(options) {
    super(options, "streaming");
  }

  /** Opens the stream. */
  _get() {
    const EventSourceImpl = this._options.EventSource || globalThis.EventSource;
    let live = true;
    let receiver;
    // The end of this stream, and why (`details` of socket.io-client; `refused` by the server),
    // or `upgraded` (ended by the noop of an upgrade); else it ended or broke, and is
    // re-attached.
    const end = (why, refused, upgraded) => {
      if (!live) return;
      live = this._receiving = false;
      receiver.abort();
      if (this._closed) return;
      // The upgrade either completes (the pause is then already done) or fails, and resume()
      // re-attaches.
      if (upgraded) return this._checkDrained();
      this._reattach(why, refused);
    };
    // A packet (or the Error of an undecodable event: dropped, the stream goes on) numbered `seq`.
    const take = (item, seq) => {
      if (!live) return;
      // Once the probe is answered the server ends the stream with a noop, which may arrive
      // before the client itself has seen the answer.
      if ((this._paused || this.probing) && item.type == "noop") return end(0, 0, true);
      this._take(item, seq);
    };
    const decode = (fn) => (message) => take(attempt(fn, message.data), +message.lastEventId);
    if (EventSourceImpl) {
      const source = new EventSourceImpl(this._url(), { withCredentials: !!this._options.withCredentials });
      source.onmessage = decode(decodeItem);
      source.addEventListener("b64", decode(decodeB64Event));
      // CLOSED: refused (not a 200 event stream); CONNECTING: the stream ended or broke.
      source.onerror = (event) => end(details("stream error", event, source), source.readyState == 2);
      receiver = this._receiver = { abort: () => source.close() };
    } else {
      receiver = this._receiver = new AbortController();
      this._fetch({ headers: { Accept: "text/event-stream" }, signal: receiver.signal })
        .then((response) => {
          if (!response.ok || !response.body) return end(details("stream error", response.status, response), true);
          const reader = response.body.getReader();
          const sse = new SseReader();
          const pump = () =>
            reader.read().then(({ done, value }) => {
              if (done) return end(details("stream error", "ended"));
              for (const [item, id] of sse.push(value)) take(item, +id);
              if (live) return pump();
            });
          return pump();
        })
        .catch((err) => end(details("stream error", err)));
    }
  }
}
