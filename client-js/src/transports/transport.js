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
/**
 * socket.io-client's `details` of a "transport error": an Error (`type` "TransportError") with
 * the `description` (an HTTP status, an event) and `context` (the request, the socket).
 */
export const details = (message, description, context) =>
  Object.assign(new Error(message), { type: "TransportError", description, context });

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
  }

  /**
   * The URL of this transport for the session; on the HTTP transports, it says the highest
   * packet number received (`lastEventId`, see polling.js).
   */
  _url() {
    const sid = this.sid ? "&sid=" + this.sid : "";
    const received = this._received >= 0 ? "&lastEventId=" + this._received : "";
    return `${this._endpoint}?EIO=4&transport=${this.name}${sid}${received}${this._query ? "&" + this._query : ""}`;
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

  _close(reason, clean, details) {
    if (this._closed) return;
    this.close();
    this.onclose(reason, clean, details);
  }

  close() {
    this._closed = true;
  }

  pause(done) {
    done();
  }

  resume() {}

  /** fetch() of this transport's URL, with the credentials the options ask for. */
  _fetch(init) {
    const fetch = this._options.fetch || globalThis.fetch;
    const credentials = this._options.withCredentials ? "include" : "same-origin";
    return fetch(this._url(), { credentials, cache: "no-store", ...init });
  }

  /**
   * An HTTP request to this transport's URL with fetch, or XMLHttpRequest where fetch is
   * missing (no Promise nor AbortController needed then). Calls `ok` with the response text of
   * a 200 and its `X-Ferrio-Event-Id` header (the number of the last packet of a polling
   * answer; null without), else `fail` with socket.io-client's `details` of the error, whose
   * `description` is the HTTP status when the server answered. Returns what aborts it:
   * `{abort()}`.
   */
  _request(method, body, ok, fail) {
    const error = (status, context) => fail(details(method + " error", status, context));
    if (this._options.fetch || globalThis.fetch) {
      const controller = new AbortController();
      let last;
      this._fetch({ method, body, signal: controller.signal })
        .then((response) => {
          last = response.headers.get(EVENT_ID);
          return response.ok ? response.text() : Promise.reject(response.status);
        })
        .then((text) => ok(text, last), error);
      return controller;
    }
    const xhr = new XMLHttpRequest();
    xhr.open(method, this._url());
    xhr.withCredentials = !!this._options.withCredentials;
    // A string body goes as text/plain;charset=UTF-8 (as with fetch): no header to set.
    // readystatechange, which every XMLHttpRequest has: DONE after a response, an error or abort.
    xhr.onreadystatechange = () =>
      xhr.readyState == 4 &&
      (xhr.status == 200 ? ok(xhr.responseText, xhr.getResponseHeader(EVENT_ID)) : error(xhr.status, xhr));
    xhr.send(body);
    return xhr;
  }
}

// The callbacks the engine sets (nothing, until it does):
// - onpacket(packet): a packet arrived;
// - onclose(reason, clean, details): the transport died on its own: "transport close" or
//   "transport error"; `clean` tells whether the server ended it cleanly (a close frame) rather
//   than the connection breaking; `details` is socket.io-client's (see `details` above);
// - onopen(): (websocket) the connection is open;
// - oninvalid(error): a received packet could not be decoded (an Error named after the error).
Transport.prototype.onpacket = Transport.prototype.onclose = Transport.prototype.onopen = Transport.prototype.oninvalid = noop;
