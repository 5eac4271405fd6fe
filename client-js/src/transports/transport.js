// The shape every transport shares (as engine.io-client's transport.ts). The engine builds a
// transport with everything it needs (TransportOptions, below) and drives it through
//   open()            start (a handshake when `sid` is null, else attach to the session)
//   send(packets)     queue Engine.IO packets, in order
//   pause(done)       stop receiving and sending new data, call `done` once drained (upgrade)
//   resume()          undo a pause (the upgrade failed)
//   close(bye)        stop; `bye` also tells the server (the session ends)
//   probing           a flag the engine sets while it probes websocket next to this transport
// and listens through the callbacks below. After close() or after `onclose` nothing more is
// reported. A transport knows nothing of the engine: no back-reference, no engine fields.
//
// A received packet that cannot be decoded is dropped and given to `oninvalid`; an exception
// thrown while `onpacket` handles a packet is reported (see emitter.js `report`). Neither stops
// the transport nor the packets after it.

import { invoke } from "../emitter.js";

/**
 * What the engine builds each transport with.
 * @typedef {object} TransportOptions
 * @property {string} url the endpoint: the server's origin and mount path,
 *   e.g. "https://example.com/socket.io/"
 * @property {string} query extra query parameters, encoded ("a=1&b=2"), or ""
 * @property {string | null} sid the session to attach to; null to open one (a handshake)
 * @property {number} [maxPayload] the largest POST body the server takes, in bytes (from the
 *   handshake; until it is known, 1e6)
 * @property {{fetch?: typeof fetch, WebSocket?: typeof WebSocket,
 *   EventSource?: typeof EventSource, withCredentials?: boolean}} options the connection
 *   options: the implementations to use instead of the globals, and whether cross-origin
 *   requests carry cookies
 */

const noop = () => {};

/** The response header of a polling answer that numbers its last packet. */
const EVENT_ID = "X-Ferrio-Event-Id";

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
   * @param {TransportOptions} options
   * @param {string} name "websocket" | "streaming" | "polling"
   */
  constructor({ url, query, sid, maxPayload, options }, name) {
    this.name = name;
    /** The session id: given, or from the open packet this transport carries. */
    this.sid = sid;
    /** Set by the engine while an upgrade probe runs next to this transport. */
    this.probing = false;
    this._endpoint = url;
    this._query = query;
    this._maxPayload = maxPayload || 1e6;
    this._options = options;
    // `_closed`: unset until closed.
    /** A packet arrived. */
    this.onpacket = noop;
    /**
     * The transport died on its own: "transport close" or "transport error"; the second
     * argument tells whether the server ended it cleanly (a close frame), rather than the
     * connection breaking.
     */
    this.onclose = noop;
    /** (websocket) the connection is open. */
    this.onopen = noop;
    /** A received packet could not be decoded (an Error named after the decode error). */
    this.oninvalid = noop;
  }

  /** The URL of this transport for the session, with `extra` parameters ("&a=1"). */
  _url(extra = "") {
    const sid = this.sid ? "&sid=" + this.sid : "";
    return `${this._endpoint}?EIO=4&transport=${this.name}${sid}${extra}${this._query ? "&" + this._query : ""}`;
  }

  /** A received item: a packet, or the Error its decoding threw. */
  _packet(packet) {
    if (this._closed) return;
    if (packet instanceof Error) return this.oninvalid(packet);
    if (packet.type == "open") {
      this.sid = packet.data.sid;
      this._maxPayload = packet.data.maxPayload;
    }
    invoke(this.onpacket, this, [packet]);
  }

  _close(reason, clean) {
    if (this._closed) return;
    this.close();
    this.onclose(reason, clean);
  }

  close() {
    this._closed = true;
  }

  pause(done) {
    done();
  }

  resume() {}

  /** fetch() of `url`, with the credentials the options ask for. */
  _fetch(url, init) {
    const fetch = this._options.fetch || globalThis.fetch;
    const credentials = this._options.withCredentials ? "include" : "same-origin";
    return fetch(url, { credentials, cache: "no-store", ...init });
  }

  /**
   * An HTTP request to `url` with fetch, or XMLHttpRequest where fetch is missing. Resolves
   * with the response text of a 200 and its `X-Ferrio-Event-Id` header (the number of the
   * last packet of a polling answer; null without); rejects otherwise, with an Error whose
   * message is the HTTP status when the server answered.
   */
  _request(method, body, signal, url = this._url()) {
    if (this._options.fetch || globalThis.fetch) {
      return this._fetch(url, { method, body, signal }).then((response) => {
        if (!response.ok) throw new Error(response.status);
        return response.text().then((text) => [text, response.headers.get(EVENT_ID)]);
      });
    }
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(method, url);
      xhr.withCredentials = !!this._options.withCredentials;
      // A string body goes as text/plain;charset=UTF-8.
      xhr.onload = () =>
        xhr.status == 200
          ? resolve([xhr.responseText, xhr.getResponseHeader(EVENT_ID)])
          : reject(new Error(xhr.status));
      xhr.onerror = xhr.onabort = reject;
      signal?.addEventListener("abort", () => xhr.abort());
      xhr.send(body);
    });
  }
}
