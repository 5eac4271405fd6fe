// A Socket is the application's handle on one namespace: emit/on, acks (with timeouts),
// buffering while disconnected, and the connect / disconnect lifecycle.
//
// Events: "connect", "connect_error" (Error with .data), "disconnect" (reason, details),
// "transport" (name), and every event the server emits.

import { Emitter, dict, invoke } from "./emitter.js";
import { RESERVED } from "./parser/socket.js";

/** `list` without `fn` (empty when `fn` is not given). */
const remove = (list, fn) => (fn ? list.filter((f) => f != fn) : []);

// Packet types: 0 CONNECT, 1 DISCONNECT, 2 EVENT, 3 ACK, 4 CONNECT_ERROR, and 5 and 6, the
// binary forms of EVENT and ACK.

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
    // `id`: the socket id, while connected.
    this.connected = false;
    /** Whether the last reconnection recovered the session state (server's opt-in). */
    this.recovered = false;
    /** Sent with each CONNECT: an object, or a function that calls back with one. */
    this.auth = opts.auth;
    /** Packets emitted while disconnected, sent on connect. */
    this.sendBuffer = [];
    /** The dispatches of events received before the CONNECT reply, run with it. */
    this._receiveBuffer = [];
    /** The options of the socket: the Manager's, then those given for this namespace. */
    this._opts = { ...io._options, ...opts };
    /** Ack callbacks by ack id. */
    this._acks = dict();
    this._nextAckId = 0;
    /**
     * With `retries`: the emits not acked yet, in order, the first one out (see `_drain`).
     * Kept across reconnections and transport changes.
     */
    this._queue = [];
    /** The last acknowledgements sent for the server's events, sent again after a recovery. */
    this._sentAcks = [];
    /** Flags for the next emit: {timeout?, volatile?}. */
    this._flags = {};
    this._anyListeners = [];
    this._anyOutgoingListeners = [];
    // `_subscriptions`: the disposers of the Manager subscriptions, while the socket is active.
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
   * `timeout(ms)` (or with the `ackTimeout` option), or with `retries`, it is called as
   * `(err, ...response)`.
   *
   * With the `retries` option (but volatile emits), emits wait in a queue and go out one at a
   * time, each once the one before it is acked: a try not acked within its timeout is sent
   * again, `retries` times at most, then its callback gets the timeout error; a try lost with
   * the connection is sent again after the reconnection. Every try carries the same ack id,
   * so a ferrio server runs the handler once and answers a repeat with its first answer.
   */
  emit(event, ...args) {
    if (RESERVED.includes(event)) throw new Error(`"${event}" is a reserved event name`);
    const flags = this._flags;
    this._flags = {};
    const packet = { type: 2 /* EVENT */, data: [event, ...args] };
    const fn = typeof args[args.length - 1] == "function" && packet.data.pop();
    const retried = this._opts.retries > 0 && !flags.volatile;
    if (fn || retried) packet.id = this._nextAckId++;
    if (retried) {
      this._queue.push([packet, fn, flags.timeout ?? this._opts.ackTimeout, 0]);
      this._drain();
    } else {
      if (fn) this._ack(packet.id, fn, flags.timeout);
      if (this.connected) this._send(packet);
      else if (!flags.volatile) this.sendBuffer.push(packet);
    }
    return this;
  }

  /**
   * Sends the first emit of the retry queue ([packet, fn, timeout, timeouts so far]), unless
   * it is out already; `again`: it is sent again (a reconnection, or its timeout), with the
   * same ack id.
   */
  _drain(again) {
    const head = this._queue[0];
    if (!this.connected || !head || (head._out && !again)) return;
    const [packet, fn, timeout] = head;
    head._out = true;
    this._ack(
      packet.id,
      (err, ...res) => {
        // Lost with the connection: sent again once reconnected. Timed out: sent again, or
        // given up after `retries` timeouts.
        if (err && (!this.connected || ++head[3] <= this._opts.retries)) return this._drain(true);
        this._queue.shift();
        if (fn) invoke(fn, this, [err, ...res]);
        this._drain();
      },
      timeout,
      true,
    );
    this._send(packet);
  }

  /** Sends an EVENT packet, after telling the onAnyOutgoing listeners. */
  _send(packet) {
    for (const fn of this._anyOutgoingListeners.slice()) invoke(fn, this, packet.data);
    this._packet(packet);
  }

  /**
   * Emits `event` and resolves with the server's first acknowledgement argument; rejects on a
   * timeout, or when the connection is lost first (as socket.io-client). (Only where `Promise`
   * exists; ack callbacks work everywhere.)
   */
  emitWithAck(event, ...args) {
    return new Promise((resolve, reject) => {
      const fn = (err, res) => (err ? reject(err) : resolve(res));
      fn._withError = true;
      this.emit(event, ...args, fn);
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
    if (this.connected) this._packet({ type: 1 /* DISCONNECT */ });
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

  /**
   * Registers `fn`, the ack callback of packet `id`, as `_acks[id](err, response)`: `fn` gets
   * the response; `withError` (with a timeout, or `fn._withError`), as `(err, ...response)`,
   * and also "operation has timed out" after `timeout` ms, or "socket has been disconnected".
   */
  _ack(id, fn, timeout = this._opts.ackTimeout, withError = fn._withError || timeout !== undefined) {
    const timer = timeout !== undefined && setTimeout(() => acked(new Error("operation has timed out")), timeout);
    const acked = (this._acks[id] = (err, res) => {
      clearTimeout(timer);
      delete this._acks[id];
      this.sendBuffer = this.sendBuffer.filter((queued) => queued.id !== id);
      if (withError) invoke(fn, this, err ? [err] : [null, ...res]);
      else if (!err) invoke(fn, this, res);
    });
  }

  _onopen() {
    const send = (data) =>
      this._packet({
        type: 0 /* CONNECT */,
        data: this._pid ? { pid: this._pid, offset: this._offset, ...data } : data,
      });
    typeof this.auth == "function" ? this.auth(send) : send(this.auth);
  }

  _onpacket(packet) {
    const { type, data } = packet;
    if (type == 0) {
      // CONNECT
      if (!data?.sid) {
        return this._emit("connect_error", new Error("invalid CONNECT packet"));
      }
      this.id = data.sid;
      this.recovered = !!data.pid && data.pid == this._pid;
      this._pid = data.pid;
      this.connected = true;
      // The acknowledgements lost with the connection would leave the server waiting: they go
      // again (the server ignores those it got). A new socket never asked for them.
      if (this.recovered) this._sentAcks.forEach((ack) => this._packet(ack));
      else this._sentAcks = [];
      this._receiveBuffer.splice(0).forEach((dispatch) => dispatch());
      this.sendBuffer.splice(0).forEach((queued) => this._send(queued));
      this._drain(true);
      this._transport();
      this._emit("connect");
    } else if (type == 2 || type == 5) {
      // EVENT, BINARY_EVENT
      const args = data.slice();
      // With connection state recovery, the offset of the event comes last (after the name).
      const offset = args.length > 1 && args[args.length - 1];
      if (packet.id != null) {
        let sent = false;
        args.push((...res) => {
          if (sent) return;
          sent = true;
          const ack = { type: 3 /* ACK */, id: packet.id, data: res };
          this._packet(ack);
          if (this._sentAcks.push(ack) > 32) this._sentAcks.shift();
        });
      }
      // The onAny listeners, then those of the event.
      const dispatch = () => {
        for (const fn of this._anyListeners.slice()) invoke(fn, this, args);
        this._emit(...args);
        if (this._pid && typeof offset == "string") this._offset = offset;
      };
      this.connected ? dispatch() : this._receiveBuffer.push(dispatch);
    } else if (type == 3 || type == 6) {
      // ACK, BINARY_ACK
      this._acks[packet.id]?.(null, data);
    } else if (type == 1) {
      // DISCONNECT
      this._destroy();
      this._onclose("io server disconnect");
    } else if (type == 4) {
      // CONNECT_ERROR
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
      if (!this.sendBuffer.some((queued) => queued.id == id)) this._acks[id](new Error("socket has been disconnected"));
    }
  }
}

// emitWithAck exists only where Promise does (the classic build runs without it).
if (typeof Promise == "undefined") Socket.prototype.emitWithAck = undefined;
