// The Manager owns one Engine.IO connection to a server, multiplexes the namespace sockets
// over it, encodes and decodes Socket.IO packets, and reconnects with backoff.
//
// Events: "open", "close" (reason), "error" (Error), "ping", "transport" (name),
// "reconnect_attempt" (n), "reconnect" (n), "reconnect_error" (Error), "reconnect_failed".

import { Backoff } from "./backoff.js";
import { Emitter, dict, report } from "./emitter.js";
import { Engine } from "./engine.js";
import { Decoder, encode, hydrate } from "./parser/socket.js";
import { Socket } from "./socket.js";

const DEFAULTS = {
  path: "/socket.io/",
  reconnection: true,
  reconnectionAttempts: Infinity,
  reconnectionDelay: 1000,
  reconnectionDelayMax: 5000,
  randomizationFactor: 0.5,
  timeout: 20000,
  autoConnect: true,
  rememberTransport: true,
};

const isBlob = (x) => typeof Blob != "undefined" && x instanceof Blob;

export class Manager extends Emitter {
  /**
   * @param {string | URL} [uri] the server (its origin is used; default: the page's)
   * @param {object} [opts] see index.d.ts `ManagerOptions`
   */
  constructor(uri, opts) {
    super();
    const o = (this._opts = { ...DEFAULTS, ...opts });
    o.path = o.path.replace(/\/?$/, "/");
    this._uri = new URL(uri ?? "", globalThis.location?.href);
    /** The sockets by namespace. */
    this.nsps = dict();
    this._backoff = new Backoff({
      min: o.reconnectionDelay,
      max: o.reconnectionDelayMax,
      jitter: o.randomizationFactor,
      random: o.random,
    });
    this._state = "closed";
    /** How the transport of the current connection was chosen: [{transport, ok, ms, reason?}]. */
    this.negotiation = [];
    if (o.autoConnect) this.open();
  }

  /** The transport in use: "websocket" | "streaming" | "polling", or undefined. */
  get transport() {
    return this.engine?.transport?.name;
  }

  /** Opens the connection (if closed); `fn(err?)` is called once it is open or failed. */
  open(fn, below) {
    if (this._state != "closed") return this;
    this._state = "opening";
    this._skip = false;
    const e = (this.engine = new Engine(this._uri, this._opts, this._backoff.attempts, below));
    this.negotiation = e.negotiation;
    this._decoder = new Decoder();
    e.on("open", () => {
      this._state = "open";
      this._emit("open");
      fn?.();
    });
    e.on("error", (err) => {
      this._state = "closed";
      this._emit("error", err);
      if (fn) fn(err);
      else if (this._opts.reconnection) this._retry();
    });
    e.on("data", (d) => this._ondata(d));
    e.on("ping", () => this._emit("ping"));
    e.on("transport", (name) => this._emit("transport", name));
    e.on("close", (reason, clean) => this._onclose(reason, clean));
    e.open();
    return this;
  }

  connect(fn) {
    return this.open(fn);
  }

  /** The socket of namespace `nsp` (created once per namespace). */
  socket(nsp, opts) {
    let s = this.nsps[nsp];
    if (!s) s = this.nsps[nsp] = new Socket(this, nsp, opts);
    else if (this._opts.autoConnect && !s.active) s.connect();
    return s;
  }

  /** A socket became inactive: closes the connection when no socket is active any more. */
  _destroy() {
    for (const nsp in this.nsps) if (this.nsps[nsp].active) return;
    this._close();
  }

  _close() {
    this._skip = true;
    this._reconnecting = false;
    clearTimeout(this._timer);
    this._state = "closed";
    this.engine?.close();
  }

  /** Sends a Socket.IO packet; binary attachments follow the text. Order is kept. */
  _packet(p) {
    const parts = encode(p);
    const send = (parts) => parts.forEach((x) => this.engine.send(x));
    // Blobs are read first; later packets wait for them.
    if (this._chain || parts.some(isBlob)) {
      const c = (this._chain = (this._chain || Promise.resolve())
        .then(() => Promise.all(parts.map((x) => (isBlob(x) ? x.arrayBuffer() : x))))
        .then(send, () => {})
        .then(() => {
          if (this._chain == c) this._chain = null;
        }));
    } else send(parts);
  }

  _ondata(d) {
    let p;
    try {
      p = this._decoder.add(d);
    } catch (err) {
      // An invalid packet is dropped; the connection and the packets after it carry on.
      return report(err);
    }
    if (!p) return;
    if (p.attachments) hydrate(p);
    this.nsps[p.nsp]?._onpacket(p);
  }

  _onclose(reason, clean) {
    // The transport of a session that was open, lost mid-session: reconnect at once, on the
    // rung below it (the engine probes back up to websocket afterwards). A session the server
    // ended on purpose says nothing against its transport: reconnect at once on the same rung.
    const lost = clean ? undefined : this.transport;
    this._state = "closed";
    this._backoff.reset();
    this._emit("close", reason);
    if (this._opts.reconnection && !this._skip) this._retry(lost, true);
  }

  /**
   * Schedules the next reconnection attempt: at once (`now`) after a session ended, else after
   * the backoff delay; after a mid-session loss of transport `lost`, on the rung below it.
   */
  _retry(lost, now = false) {
    const b = this._backoff;
    if (this._reconnecting || this._skip) return;
    if (b.attempts >= this._opts.reconnectionAttempts) {
      b.reset();
      return this._emit("reconnect_failed");
    }
    this._reconnecting = true;
    const delay = b.duration();
    this._timer = setTimeout(() => {
      if (this._skip) return;
      this._emit("reconnect_attempt", b.attempts);
      if (this._skip) return;
      const done = (err) => {
        this._reconnecting = false;
        if (err) {
          this._retry();
          this._emit("reconnect_error", err);
        } else {
          const n = b.attempts;
          b.reset();
          this._emit("reconnect", n);
        }
      };
      this.open(done, lost);
    }, now ? 0 : delay);
  }
}
