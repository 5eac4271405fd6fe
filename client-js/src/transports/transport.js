// The shape every transport shares. The engine drives a transport through
//   open()            start (a handshake when `sid` is null, else attach to the session)
//   send(packets)     queue Engine.IO packets, in order
//   pause(done)       stop receiving and sending new data, call `done` once drained (upgrade)
//   resume()          undo a pause (the upgrade failed)
//   close(bye)        stop; `bye` also tells the server (the session ends)
// and listens through the callbacks below. After close() or after `onclose` nothing more is
// reported.
//
// A received packet that cannot be decoded is dropped and given to `oninvalid`; an exception
// thrown while `onpacket` handles a packet is reported (see emitter.js `report`). Neither stops
// the transport nor the packets after it.

import { report } from "../emitter.js";

const noop = () => {};

/** What `decode(x)` returns, or the Error it throws. */
export const attempt = (decode, x) => {
  try {
    return decode(x);
  } catch (err) {
    return err;
  }
};

export class Transport {
  /**
   * @param {import("../engine.js").Engine} engine
   * @param {string} name "websocket" | "streaming" | "polling"
   */
  constructor(engine, name) {
    this._e = engine;
    this.name = name;
    /** The session id, once known. */
    this.sid = engine.id;
    this._done = false;
    /** A packet arrived. */
    this.onpacket = noop;
    /**
     * The transport died on its own: "transport close" or "transport error";
     * the second argument tells whether the server ended it cleanly (a close frame), rather
     * than the connection breaking.
     */
    this.onclose = noop;
    /** (websocket) the connection is open. */
    this.onopen = noop;
    /** A received packet could not be decoded (an Error named after the decode error). */
    this.oninvalid = noop;
  }

  /** The URL of this transport for the session. */
  _url() {
    const e = this._e;
    const q = `EIO=4&transport=${this.name}${this.sid ? "&sid=" + this.sid : ""}${e._qs ? "&" + e._qs : ""}`;
    return `${new URL(e._path, e._uri).href}?${q}`;
  }

  /** A received item: a packet, or the Error its decoding threw. */
  _packet(p) {
    if (this._done) return;
    if (p instanceof Error) return this.oninvalid(p);
    if (p.type == "open") this.sid = p.data.sid;
    try {
      this.onpacket(p);
    } catch (err) {
      report(err);
    }
  }

  _close(reason, clean = false) {
    if (this._done) return;
    this.close();
    this.onclose(reason, clean);
  }

  close() {
    this._done = true;
  }

  pause(done) {
    done();
  }

  resume() {}

  /**
   * An HTTP request with fetch, or XMLHttpRequest where fetch is missing. Resolves with the
   * response text of a 200, rejects otherwise.
   */
  _request(method, body, signal) {
    const o = this._e._opts;
    const fetch = o.fetch || globalThis.fetch;
    const url = this._url();
    const credentials = o.withCredentials ? "include" : "same-origin";
    if (fetch) {
      return fetch(url, { method, body, signal, credentials, cache: "no-store" }).then((r) => {
        if (!r.ok) throw new Error(r.status);
        return r.text();
      });
    }
    return new Promise((resolve, reject) => {
      const x = new XMLHttpRequest();
      x.open(method, url);
      x.withCredentials = credentials == "include";
      if (body) x.setRequestHeader("Content-Type", "text/plain;charset=UTF-8");
      x.onload = () => (x.status == 200 ? resolve(x.responseText) : reject(new Error(x.status)));
      x.onerror = x.onabort = reject;
      signal?.addEventListener("abort", () => x.abort());
      x.send(body);
    });
  }
}
