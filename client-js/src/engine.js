// One Engine.IO v4 session: negotiates the transport down the ladder, answers the heartbeat,
// buffers what is sent while no transport can take it, and upgrades to websocket with the
// probe (2probe / 3probe, pause the old transport, 5).
//
// Events: "open" (handshake), "data" (a message: string or ArrayBuffer), "ping",
// "transport" (name, on open and on upgrade), "upgrade" (name), "close" (reason, once opened),
// "error" (Error, when no rung of the ladder could open).

import { Emitter, report } from "./emitter.js";
import { deadline, plan, remember } from "./ladder.js";
import { Polling } from "./transports/polling.js";
import { Streaming } from "./transports/streaming.js";
import { WebSocketTransport } from "./transports/websocket.js";

const TRANSPORTS = { websocket: WebSocketTransport, streaming: Streaming, polling: Polling };

export class Engine extends Emitter {
  /**
   * @param {URL} uri the server origin
   * @param {object} opts the manager's options
   * @param {number} attempt reconnection attempts so far (lengthens the deadlines)
   * @param {string} [below] the transport lost mid-session: start on the rung under it
   */
  constructor(uri, opts, attempt = 0, below) {
    super();
    this._uri = uri;
    this._opts = opts;
    this._path = opts.path;
    this._qs = new URLSearchParams(opts.query || "").toString();
    this._key = `ferrio:transport:${uri.origin}${opts.path}`;
    this._attempt = attempt;
    this._below = below;
    /** The session id, once open. */
    this.id = null;
    /** Every rung tried and every upgrade probe: {transport, ok, ms, reason?, upgrade?}. */
    this.negotiation = [];
    this._buf = [];
    this._closed = false;
  }

  /** The transport in use ({name, …}), once open. */
  get transport() {
    return this.id ? this._t : undefined;
  }

  open() {
    const { order, rtt } = plan(this._opts, this._key, this._below);
    this._order = order;
    this._rtt = rtt;
    this._try(0);
  }

  _deadline(last) {
    return deadline(this._rtt, this._opts.timeout, this._attempt, last);
  }

  _step(transport, t0, reason, upgrade) {
    const step = { transport, ok: !reason, ms: Date.now() - t0 };
    if (reason) step.reason = reason;
    if (upgrade) step.upgrade = true;
    this.negotiation.push(step);
  }

  /** Tries rung `i` of the ladder; on failure or deadline, the next one at once. */
  _try(i) {
    if (this._closed) return;
    const name = this._order[i];
    if (!name) {
      this._closed = true;
      return this._emit("error", this._err || new Error("no transport available"));
    }
    const t = (this._t = new TRANSPORTS[name](this));
    const t0 = Date.now();
    const fail = (reason) => {
      clearTimeout(this._timer);
      t.close();
      this._step(name, t0, reason);
      this._err = new Error(`${name} ${reason}`);
      this._try(i + 1);
    };
    this._timer = setTimeout(fail, this._deadline(i == this._order.length - 1), "timeout");
    t.onclose = fail;
    t.oninvalid = () => fail("parse error");
    t.onpacket = (p) => {
      if (p.type != "open") return fail("unexpected packet");
      // A handshake that arrives after the server would already have timed the session out
      // was held back by a buffering proxy (released only when the response ended).
      const { pingInterval, pingTimeout } = p.data;
      if (Date.now() - t0 >= pingInterval + pingTimeout) return fail("buffered by a proxy");
      clearTimeout(this._timer);
      this._rtt = Date.now() - t0;
      this._step(name, t0);
      this._onopen(t, p.data);
    };
    t.open();
  }

  _onopen(t, handshake) {
    this.id = handshake.sid;
    this._hs = handshake;
    this._maxPayload = handshake.maxPayload;
    this._use(t);
    this._heartbeat();
    this._remember();
    this._emit("open", handshake);
    if (this._closed) return;
    this._emit("transport", t.name);
    if (t.name != "websocket" && handshake.upgrades.includes("websocket") && this._order.includes("websocket")) {
      this._probe();
    }
    this._flush();
  }

  _remember() {
    if (this._opts.rememberTransport) remember(this._key, this._t.name, this._rtt);
  }

  _use(t) {
    this._t = t;
    t.onpacket = (p) => this._onpacket(p);
    t.onclose = (reason, clean) => this._onclose(reason, clean);
    // Once open, an undecodable packet is dropped: reported, and the session goes on.
    t.oninvalid = report;
  }

  /** Closes the session when nothing arrives for pingInterval + pingTimeout. */
  _heartbeat() {
    clearTimeout(this._ping);
    this._ping = setTimeout(
      () => this._onclose("ping timeout"),
      this._hs.pingInterval + this._hs.pingTimeout,
    );
  }

  _onpacket(p) {
    this._heartbeat();
    if (p.type == "ping") {
      this._send({ type: "pong" });
      this._emit("ping");
    } else if (p.type == "message") this._emit("data", p.data);
    else if (p.type == "close") this._onclose("transport close", true);
  }

  /** Sends a message: a string or binary data. */
  send(data) {
    this._send({ type: "message", data });
  }

  _send(p) {
    this._buf.push(p);
    this._flush();
  }

  _flush() {
    if (this.id && !this._upgrading && !this._closed && this._buf.length) {
      const packets = this._buf;
      this._buf = [];
      this._t.send(packets);
    }
  }

  /** Probes websocket next to the current transport and switches to it when it answers. */
  _probe() {
    const ws = (this._p = new WebSocketTransport(this));
    const t0 = Date.now();
    const fail = (reason) => {
      if (this._p != ws) return;
      this._p = null;
      clearTimeout(timer);
      ws.close();
      this._step("websocket", t0, reason, true);
      this._upgrading = false;
      // Carry on where the old transport is: it may have paused, or (streaming) ended its
      // stream for an upgrade that did not happen.
      if (!this._closed) {
        this._t.resume();
        this._flush();
      }
    };
    const timer = setTimeout(fail, this._deadline(), "timeout");
    ws.onclose = fail;
    ws.oninvalid = () => fail("parse error");
    ws.onopen = () => ws.send([{ type: "ping", data: "probe" }]);
    ws.onpacket = (p) => {
      if (p.type != "pong" || p.data != "probe" || this._upgrading) return fail("probe failed");
      // New packets wait in the buffer while the old transport drains.
      this._upgrading = true;
      this._t.pause(() => {
        if (this._p != ws || this._closed) return;
        this._p = null;
        clearTimeout(timer);
        ws.send([{ type: "upgrade" }]);
        this._t.close();
        this._use(ws);
        this._upgrading = false;
        this._step("websocket", t0, null, true);
        this._remember();
        this._emit("upgrade", "websocket");
        this._emit("transport", "websocket");
        this._flush();
      });
    };
    ws.open();
  }

  /**
   * The transport died or the heartbeat stopped; `clean` when the server ended the session
   * on purpose (a close packet or frame) rather than the connection failing.
   */
  _onclose(reason, clean = false) {
    if (this._closed) return;
    this._stop();
    this._emit("close", reason, clean);
  }

  _stop(bye) {
    this._closed = true;
    clearTimeout(this._timer);
    clearTimeout(this._ping);
    const p = this._p;
    this._p = null;
    p?.close();
    this._t?.close(bye);
  }

  /**
   * Closes the session: what is buffered goes out first, then the server is told. Emits
   * "close" with `reason` when the session was open.
   */
  close(reason = "forced close") {
    if (this._closed) return;
    const open = !!this.id;
    if (open && this._buf.length) this._t.send(this._buf.splice(0));
    this._stop(true);
    if (open) this._emit("close", reason);
  }
}
