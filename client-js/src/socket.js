// A Socket is the application's handle on one namespace: emit/on, acks (with timeouts),
// buffering while disconnected, and the connect / disconnect lifecycle.
//
// Events: "connect", "connect_error" (Error with .data), "disconnect" (reason, details),
// "transport" (name), and every event the server emits.

import { Emitter, dict, invoke } from "./emitter.js";
import { RESERVED } from "./parser/socket.js";

/** `list` without `fn` (empty when `fn` is not given). */
const remove = (list, fn) => (fn ? list.filter((f) => f != fn) : []);

const CONNECT = 0;
const DISCONNECT = 1;
const EVENT = 2;
const ACK = 3;
const CONNECT_ERROR = 4;

export class Socket extends Emitter {
  /**
   * @param {import("./manager.js").Manager} io
   * @param {string} nsp
   * @param {{auth?: object | ((cb: (data: object) => void) => void)}} [opts]
   */
  constructor(io, nsp, opts = {}) {
    super();
    /** The Manager (the shared connection). */
    this.io = io;
    this.nsp = nsp;
    /** The socket id, while connected. */
    this.id = undefined;
    this.connected = false;
    /** Whether the last reconnection recovered the session state (server's opt-in). */
    this.recovered = false;
    /** Sent with each CONNECT: an object, or a function that calls back with one. */
    this.auth = opts.auth;
    /** Packets emitted while disconnected, sent on connect. */
    this.sendBuffer = [];
    /** Events received before the CONNECT reply, dispatched with it. */
    this._receiveBuffer = [];
    /** Ack callbacks by ack id. */
    this._acks = dict();
    this._nextAckId = 0;
    /** Flags for the next emit: {timeout?, volatile?}. */
    this._flags = {};
    this._anyListeners = [];
    this._anyOutgoingListeners = [];
    /** The disposers of the Manager subscriptions, while the socket is active. */
    this._subscriptions = null;
    // Connection state recovery: the session id and the offset of the last event received
    // (`_pid`, `_offset`), sent back with the next CONNECT.
    if (io._options.autoConnect) this.open();
  }

  get disconnected() {
    return !this.connected;
  }

  /** Whether the socket tries to be connected (reconnects after a connection loss). */
  get active() {
    return !!this._subscriptions;
  }

  /** The transport in use: "websocket" | "streaming" | "polling". */
  get transport() {
    return this.io.transport;
  }

  /** Connects (does nothing when connected). */
  connect() {
    const io = this.io;
    if (this.connected) return this;
    this._subscriptions ||= [
      io.subscribe("open", () => this._onopen()),
      io.subscribe("error", (err) => this.connected || this._emit("connect_error", err)),
      io.subscribe("close", (reason, details) => this._onclose(reason, details)),
      io.subscribe("transport", () => this._transport()),
    ];
    if (!io._reconnecting) io.open();
    if (io._state == "open") this._onopen();
    return this;
  }

  open() {
    return this.connect();
  }

  /**
   * Emits `event` to the server. A function as last argument is the ack callback; after
   * `timeout(ms)` (or with the `ackTimeout` option) it is called as `(err, ...response)`.
   */
  emit(event, ...args) {
    if (RESERVED.includes(event)) throw new Error(`"${event}" is a reserved event name`);
    const flags = this._flags;
    this._flags = {};
    const packet = { type: EVENT, data: [event, ...args] };
    if (typeof args[args.length - 1] == "function") {
      const id = this._nextAckId++;
      this._ack(id, packet.data.pop(), flags.timeout);
      packet.id = id;
    }
    if (this.connected) this._send(packet);
    else if (!flags.volatile) this.sendBuffer.push(packet);
    return this;
  }

  /** Sends an EVENT packet, after telling the onAnyOutgoing listeners. */
  _send(packet) {
    for (const fn of this._anyOutgoingListeners.slice()) invoke(fn, this, packet.data);
    this._packet(packet);
  }

  /**
   * Emits `event` and resolves with the server's first acknowledgement argument. (Only where
   * `Promise` exists; ack callbacks work everywhere.)
   */
  emitWithAck(event, ...args) {
    const timed = (this._flags.timeout ?? this.io._options.ackTimeout) !== undefined;
    return new Promise((resolve, reject) => {
      args.push((a, b) => (timed ? (a ? reject(a) : resolve(b)) : resolve(a)));
      this.emit(event, ...args);
    });
  }

  /** `emit("message", ...args)`. */
  send(...args) {
    return this.emit("message", ...args);
  }

  /** The next emit's ack fails with "operation has timed out" after `ms`. */
  timeout(ms) {
    this._flags.timeout = ms;
    return this;
  }

  /** The next emit is dropped unless the socket is connected. */
  get volatile() {
    this._flags.volatile = true;
    return this;
  }

  /** Adds a listener of every incoming event: `fn(event, ...args)`. */
  onAny(fn) {
    this._anyListeners.push(fn);
    return this;
  }

  /** Adds a listener of every incoming event, before the others. */
  prependAny(fn) {
    this._anyListeners.unshift(fn);
    return this;
  }

  offAny(fn) {
    this._anyListeners = remove(this._anyListeners, fn);
    return this;
  }

  listenersAny() {
    return this._anyListeners.slice();
  }

  /** Adds a listener of every event sent: `fn(event, ...args)` (without the ack callback). */
  onAnyOutgoing(fn) {
    this._anyOutgoingListeners.push(fn);
    return this;
  }

  prependAnyOutgoing(fn) {
    this._anyOutgoingListeners.unshift(fn);
    return this;
  }

  offAnyOutgoing(fn) {
    this._anyOutgoingListeners = remove(this._anyOutgoingListeners, fn);
    return this;
  }

  listenersAnyOutgoing() {
    return this._anyOutgoingListeners.slice();
  }

  /** Disconnects from the namespace; does not reconnect. */
  disconnect() {
    if (this.connected) this._packet({ type: DISCONNECT });
    this._destroy();
    this._onclose("io client disconnect");
    return this;
  }

  close() {
    return this.disconnect();
  }

  _packet(packet) {
    packet.nsp = this.nsp;
    this.io._packet(packet);
  }

  _ack(id, fn, timeout = this.io._options.ackTimeout) {
    if (timeout === undefined) return (this._acks[id] = fn);
    const timer = setTimeout(() => {
      delete this._acks[id];
      this.sendBuffer = this.sendBuffer.filter((queued) => queued.id !== id);
      invoke(fn, this, [new Error("operation has timed out")]);
    }, timeout);
    const acked = (...args) => {
      clearTimeout(timer);
      fn.apply(this, args);
    };
    acked._withError = true;
    this._acks[id] = acked;
  }

  _onopen() {
    const send = (data) =>
      this._packet({
        type: CONNECT,
        data: this._pid ? { pid: this._pid, offset: this._offset, ...data } : data,
      });
    typeof this.auth == "function" ? this.auth(send) : send(this.auth);
  }

  _onpacket(packet) {
    const { type, data } = packet;
    if (type == CONNECT) {
      if (!data?.sid) {
        return this._emit("connect_error", new Error("invalid CONNECT packet"));
      }
      this.id = data.sid;
      this.recovered = !!data.pid && data.pid == this._pid;
      this._pid = data.pid;
      this.connected = true;
      this._receiveBuffer.splice(0).forEach((args) => this._dispatch(args));
      this.sendBuffer.splice(0).forEach((queued) => this._send(queued));
      this._transport();
      this._emit("connect");
    } else if (type == EVENT || type == EVENT + 3) {
      const args = data.slice();
      if (packet.id != null) {
        let sent = false;
        args.push((...res) => {
          if (!sent) this._packet({ type: ACK, id: packet.id, data: res });
          sent = true;
        });
      }
      this.connected ? this._dispatch(args) : this._receiveBuffer.push(args);
    } else if (type == ACK || type == ACK + 3) {
      const fn = this._acks[packet.id];
      if (typeof fn != "function") return;
      delete this._acks[packet.id];
      invoke(fn, this, fn._withError ? [null, ...data] : data);
    } else if (type == DISCONNECT) {
      this._destroy();
      this._onclose("io server disconnect");
    } else if (type == CONNECT_ERROR) {
      this._destroy();
      const err = new Error(data.message ?? data);
      err.data = data.data;
      this._emit("connect_error", err);
    }
  }

  /** Emits "transport" when the transport differs from the one last announced. */
  _transport() {
    const name = this.io.transport;
    if (name && name != this._announcedTransport) this._emit("transport", (this._announcedTransport = name));
  }

  _dispatch(args) {
    const last = args[args.length - 1];
    for (const fn of this._anyListeners.slice()) invoke(fn, this, args);
    this._emit(...args);
    if (this._pid && typeof last == "string") this._offset = last;
  }

  /** Stops following the Manager (no reconnection). */
  _destroy() {
    this._subscriptions?.forEach((off) => off());
    this._subscriptions = null;
    this.io._destroy(this);
  }

  _onclose(reason, details) {
    if (!this.connected) return;
    this.connected = false;
    this.id = undefined;
    this._emit("disconnect", reason, details);
    // Acks of packets already sent will never come; those waiting in the buffer may.
    for (const id in this._acks) {
      const fn = this._acks[id];
      if (this.sendBuffer.some((queued) => queued.id == id)) continue;
      delete this._acks[id];
      if (fn._withError) invoke(fn, this, [new Error("socket has been disconnected")]);
    }
  }
}

// emitWithAck exists only where Promise does (the classic build runs without it).
if (typeof Promise == "undefined") Socket.prototype.emitWithAck = undefined;
