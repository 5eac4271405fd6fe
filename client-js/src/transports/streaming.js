// ferrio's streaming transport: one Server-Sent Events response carries packets down (one
// `data:` event per packet, binary as `b<base64>`, an event of type `b64` for text packets
// holding a CR), POSTs carry them up exactly as in polling. Read with EventSource, or with
// fetch and a ReadableStream where EventSource is missing (Node, workers).
//
// The server ends a stream after a byte budget; the client then re-attaches at once with its
// sid (never letting EventSource reconnect by itself to the handshake URL). A stream that ends
// before it delivered anything, or that is refused, means the session is gone.

import { Polling } from "./polling.js";
import { attempt } from "./transport.js";
import { decodeItem } from "../parser/engine.js";
import { SseReader, decodeB64Event } from "../parser/sse.js";

export class Streaming extends Polling {
  constructor(engine) {
    super(engine, "streaming");
  }

  _receive() {
    if (this._done || this._paused) return;
    const o = this._e._opts;
    const ES = o.EventSource || globalThis.EventSource;
    let got = false;
    let live = true;
    let stop;
    this._down = true;
    // The end of this stream: re-attach, finish a pause, or fail.
    const end = (reason) => {
      if (!live) return;
      live = this._down = false;
      stop.abort();
      if (this._done) return;
      // While websocket is probed, an ended stream waits: the upgrade either completes (the
      // pause is then already done) or fails, and resume() re-attaches.
      if (this._paused || this._e._p) return this._idle();
      if (reason || !got || !this.sid) return this._close(reason || "transport error");
      this._receive();
    };
    // A packet, or the Error of an undecodable event (dropped, the stream goes on).
    const take = (item) => {
      if (!live) return;
      got = true;
      // Once the probe is answered the server ends the stream with a noop, which may arrive
      // before the client itself has seen the answer.
      if ((this._paused || this._e._p) && item.type == "noop") return end();
      this._packet(item);
    };
    const decode = (fn) => (m) => take(attempt(fn, m.data));
    if (ES) {
      const es = new ES(this._url(), { withCredentials: !!o.withCredentials });
      es.onmessage = decode(decodeItem);
      es.addEventListener("b64", decode(decodeB64Event));
      // CLOSED: refused (not a 200 event stream); CONNECTING: the stream ended or broke.
      es.onerror = () => end(es.readyState == 2 && "transport error");
      stop = this._abort = { abort: () => es.close() };
    } else {
      const abort = (stop = this._abort = new AbortController());
      const fetch = o.fetch || globalThis.fetch;
      const credentials = o.withCredentials ? "include" : "same-origin";
      fetch(this._url(), {
        headers: { Accept: "text/event-stream" },
        cache: "no-store",
        credentials,
        signal: abort.signal,
      })
        .then((res) => {
          if (!res.ok || !res.body) throw 0;
          const reader = res.body.getReader();
          const sse = new SseReader();
          const pump = () =>
            reader.read().then(({ done, value }) => {
              if (done) return end(sse.end() && "transport error");
              for (const item of sse.push(value)) take(item);
              if (live) return pump();
            });
          return pump();
        })
        .catch(() => end("transport error"));
    }
  }
}
