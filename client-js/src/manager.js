// The Manager owns one Engine.IO connection to a server, multiplexes the namespace sockets
// over it, encodes and decodes Socket.IO packets, and reconnects with backoff.
//
// Events: "open", "close" (reason, details), "error" (Error), "ping", "transport" (name),
// "reconnect_attempt" (n), "reconnect" (n), "reconnect_error" (Error), "reconnect_failed".

import { Backoff } from "./backoff.js";
import { Emitter, dict, report } from "./emitter.js";
import { Engine } from "./engine.js";
import { Decoder, encode, hydrate, isBlob } from "./parser/socket.js";
import { Socket } from "./socket.js";

const DEFAULTS = {
  path: "/socket.io/",
  addTrailingSlash: true,
  reconnection: true,
  reconnectionAttempts: Infinity,
  reconnectionDelay: 1000,
  reconnectionDelayMax: 5000,
  randomizationFactor: 0.5,
  timeout: 20000,
  autoConnect: true,
};

export class Manager extends Emitter {
  /**
   * @param {string | URL} [uri] the server (its origin is used; default: the page's)
   * @param {object} [opts] see index.d.ts `ManagerOptions`
   */
  constructor(uri, opts) {
    super();
    /** The options (socket.io-client's `io.opts`). */
    const options = (this.opts = this._options = { ...DEFAULTS, ...opts });
    // rememberUpgrade is socket.io-client's name of the option.
    options.rememberTransport ??= options.rememberUpgrade ?? true;
    if (options.addTrailingSlash) options.path = options.path.replace(/\/?$/, "/");
    this._uri = new URL(uri ?? "", globalThis.location?.href);
    /** The sockets by namespace. */
    this.nsps = dict();
    this._backoff = new Backoff({
      min: options.reconnectionDelay,
      max: options.reconnectionDelayMax,
      jitter: options.randomizationFactor,
      random: options.random,
    });
    /** "closed" | "opening" | "open" */
    this._state = "closed";
    // Unset until then: `_stopped` (closed on purpose, no socket active any more: no
    // reconnection), `_reconnecting`.
    /** How the transport of the current connection was chosen: [{transport, ok, ms, reason?}]. */
    this.negotiation = [];
    if (options.autoConnect) this.open();
  }

  /** The transport in use: "websocket" | "streaming" | "polling", or undefined. */
  get transport() {
    return this.engine?.transport?.name;
  }

  /** Opens the connection (if closed); `fn(err?)` is called once it is open or failed. */
  open(fn, lostTransport) {
    if (this._state != "closed") return this;
    this._state = "opening";
    this._stopped = false;
    const engine = (this.engine = new Engine(this._uri, this._options, this._backoff.attempts, lostTransport));
    this.negotiation = engine.negotiation;
    // Each connection decodes its own packets (a binary one waits for its attachments).
    const decoder = new Decoder();
    engine.on("open", () => {
      this._state = "open";
      this._emit("open");
      fn?.();
    });
    engine.on("error", (err) => {
      this._state = "closed";
      this._emit("error", err);
      if (fn) fn(err);
      else if (this._options.reconnection) this._retry();
    });
    engine.on("data", (data) => {
      let packet;
      try {
        packet = decoder.add(data);
      } catch (err) {
        // An invalid packet is dropped; the connection and the packets after it carry on.
        return report(err);
      }
      if (!packet) return;
      if (packet.attachments) hydrate(packet);
      this.nsps[packet.nsp]?._onpacket(packet);
    });
    engine.on("ping", () => this._emit("ping"));
    engine.on("transport", (name) => this._emit("transport", name));
    engine.on("close", (reason, details, clean) => {
      // The transport of a session that was open, lost mid-session: reconnect at once, on the
      // rung below it (the engine probes back up to websocket afterwards). A session the server
      // ended on purpose says nothing against its transport: reconnect at once on the same rung.
      const lost = clean ? undefined : this.transport;
      this._state = "closed";
      this._backoff.reset();
      this._emit("close", reason, details);
      if (this._options.reconnection && !this._stopped) this._retry(lost, true);
    });
    engine.open();
    return this;
  }

  connect(fn) {
    return this.open(fn);
  }

  /** The socket of namespace `nsp` (created once per namespace). */
  socket(nsp, opts) {
    let socket = this.nsps[nsp];
    if (!socket) socket = this.nsps[nsp] = new Socket(this, nsp, opts);
    else if (this._options.autoConnect && !socket.active) socket.connect();
    return socket;
  }

  /** A socket became inactive: closes the connection when no socket is active any more. */
  _destroy() {
    for (const nsp in this.nsps) if (this.nsps[nsp].active) return;
    this._stopped = true;
    this._reconnecting = false;
    clearTimeout(this._reconnectTimer);
    this._state = "closed";
    this.engine?.close();
  }

  /** Sends a Socket.IO packet; binary attachments follow the text. Order is kept. */
  _packet(packet) {
    const parts = encode(packet);
    const send = (parts) => parts.forEach((part) => this.engine.send(part));
    // Blobs are read first; later packets wait for them.
    if (this._blobChain || parts.some(isBlob)) {
      const chain = (this._blobChain = (this._blobChain || Promise.resolve())
        .then(() => Promise.all(parts.map((part) => (isBlob(part) ? part.arrayBuffer() : part))))
        .then(send, () => {})
        .then(() => {
          if (this._blobChain == chain) this._blobChain = null;
        }));
    } else send(parts);
  }

  /**
   * Schedules the next reconnection attempt: at once (`now`) after a session ended, else after
   * the backoff delay; after a mid-session loss of transport `lost`, on the rung below it.
   */
  _retry(lost, now = false) {
    const backoff = this._backoff;
    if (this._reconnecting || this._stopped) return;
    if (backoff.attempts >= this._options.reconnectionAttempts) {
      backoff.reset();
      return this._emit("reconnect_failed");
    }
    this._reconnecting = true;
    const delay = backoff.duration();
    this._reconnectTimer = setTimeout(() => {
      if (this._stopped) return;
      this._emit("reconnect_attempt", backoff.attempts);
      if (this._stopped) return;
      const done = (err) => {
        this._reconnecting = false;
        if (err) {
          this._retry();
          this._emit("reconnect_error", err);
        } else {
          const attempts = backoff.attempts;
          backoff.reset();
          this._emit("reconnect", attempts);
        }
      };
      this.open(done, lost);
    }, now ? 0 : delay);
  }
}
