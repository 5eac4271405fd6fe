// One Engine.IO v4 session: negotiates the transport down the ladder, answers the heartbeat,
// buffers what is sent while no transport can take it, and upgrades to websocket with the
// probe (2probe / 3probe, pause the old transport, 5).
//
// Transports are built with what they need (transports/transport.js `TransportOptions`) and
// never see the engine; the engine tells them what they must know (`probing`, `pause()`).
//
// Events: "open" (handshake), "data" (a message: string or ArrayBuffer), "ping",
// "transport" (name, on open and on upgrade), "upgrade" (the new transport object, as
// socket.io-client's engine), "close" (reason, details, clean; once opened),
// "error" (Error, when no rung of the ladder could open).

import { Emitter, report } from "./emitter.js";
import { deadline, plan, remember, silence } from "./ladder.js";
import { Polling } from "./transports/polling.js";
import { Streaming } from "./transports/streaming.js";
import { WebSocketTransport } from "./transports/websocket.js";

const TRANSPORTS = { websocket: WebSocketTransport, streaming: Streaming, polling: Polling };

export class Engine extends Emitter {
  /**
   * @param {URL} uri the server origin
   * @param {object} options the manager's options
   * @param {number} attempt reconnection attempts so far (lengthens the deadlines)
   * @param {string} [lostTransport] the transport lost mid-session: start on the rung under it
   */
  constructor(uri, options, attempt = 0, lostTransport) {
    super();
    this._options = options;
    /** What every transport is built with, but the session's sid and maxPayload. */
    this._transportOptions = {
      url: new URL(options.path, uri).href,
      query: new URLSearchParams(options.query || "").toString(),
      options,
    };
    this._storageKey = `ferrio:transport:${uri.origin}${options.path}`;
    this._attempt = attempt;
    this._lostTransport = lostTransport;
    /** The session id, once open. */
    this.id = null;
    /** Every rung tried and every upgrade probe: {transport, ok, ms, reason?, upgrade?}. */
    this.negotiation = [];
    /** Packets sent while no transport can take them. */
    this._buffer = [];
    // Unset until then: `_transport` (the transport tried, then in use), `_probe` (the
    // websocket transport of an upgrade probe, while it runs), `_upgrading`, `_closed`.
  }

  /** The transport in use ({name, …}), once open. */
  get transport() {
    return this.id ? this._transport : undefined;
  }

  open() {
    const { order, rtt } = plan(this._options, this._storageKey, this._lostTransport);
    // socket.io-client's closeOnBeforeunload: the page goes away without a "close" event.
    if (this._options.closeOnBeforeunload && globalThis.addEventListener) {
      addEventListener("beforeunload", (this._unload = () => this._stop()));
    }
    this._order = order;
    this._rtt = rtt;
    this._tryRung(0);
  }

  /** A transport `name` for this session (a handshake while it has no sid). */
  _createTransport(name) {
    return new TRANSPORTS[name]({
      ...this._transportOptions,
      sid: this.id,
      maxPayload: this._handshake?.maxPayload,
    });
  }

  _deadline(last) {
    return deadline(this._rtt, this._options.timeout, this._attempt, last);
  }

  _record(transport, start, reason, upgrade) {
    const step = { transport, ok: !reason, ms: Date.now() - start };
    if (reason) step.reason = reason;
    if (upgrade) step.upgrade = true;
    this.negotiation.push(step);
  }

  /** Tries rung `i` of the ladder; on failure or deadline, the next one at once. */
  _tryRung(i) {
    if (this._closed) return;
    const name = this._order[i];
    if (!name) {
      this._closed = true;
      return this._emit("error", this._lastError || new Error("no transport available"));
    }
    const transport = (this._transport = this._createTransport(name));
    const start = Date.now();
    const fail = (reason) => {
      clearTimeout(this._attemptTimer);
      transport.close();
      this._record(name, start, reason);
      this._lastError = new Error(`${name} ${reason}`);
      this._tryRung(i + 1);
    };
    const last = i == this._order.length - 1;
    this._attemptTimer = setTimeout(fail, this._deadline(last), "timeout");
    transport.onclose = fail;
    transport.oninvalid = () => fail("parse error");
    // A websocket that opened (the 101 came back: the network is fine) must bring the open
    // packet, which the server sends at once, within a budget measured from then on (ladder.js
    // `silence`): a proxy that answered 101 and forwards nothing fails here, long before the
    // attempt's deadline. The last rung, with nothing to fall back to, keeps its whole timeout.
    if (!last) {
      transport.onopen = () => {
        clearTimeout(this._attemptTimer);
        this._attemptTimer = setTimeout(fail, silence(Date.now() - start, this._options.timeout), "silent");
      };
    }
    transport.onpacket = (packet) => {
      if (packet.type != "open") return fail("unexpected packet");
      // A handshake that arrives after the server would already have timed the session out
      // was held back by a buffering proxy (released only when the response ended).
      const { pingInterval, pingTimeout } = packet.data;
      if (Date.now() - start >= pingInterval + pingTimeout) return fail("buffered by a proxy");
      clearTimeout(this._attemptTimer);
      this._rtt = Date.now() - start;
      this._record(name, start);
      this._onopen(transport, packet.data);
    };
    transport.open();
  }

  _onopen(transport, handshake) {
    this.id = handshake.sid;
    this._handshake = handshake;
    this._use(transport);
    this._heartbeat();
    this._remember();
    this._emit("open", handshake);
    if (this._closed) return;
    this._emit("transport", transport.name);
    if (
      transport.name != "websocket" &&
      handshake.upgrades.includes("websocket") &&
      this._order.includes("websocket")
    ) {
      this._upgrade();
    }
    this._flush();
  }

  _remember() {
    if (this._options.rememberTransport) remember(this._storageKey, this._transport.name, this._rtt);
  }

  _use(transport) {
    this._transport = transport;
    transport.onpacket = (packet) => this._onpacket(packet);
    transport.onclose = (reason, clean, details) => this._onclose(reason, clean, details);
    // Once open, an undecodable packet is dropped: reported, and the session goes on.
    transport.oninvalid = report;
  }

  /** Closes the session when nothing arrives for pingInterval + pingTimeout. */
  _heartbeat() {
    clearTimeout(this._pingTimer);
    this._pingTimer = setTimeout(
      () => this._onclose("ping timeout"),
      this._handshake.pingInterval + this._handshake.pingTimeout,
    );
  }

  _onpacket(packet) {
    this._heartbeat();
    if (packet.type == "ping") {
      this._send({ type: "pong" });
      this._emit("ping");
    } else if (packet.type == "message") this._emit("data", packet.data);
    else if (packet.type == "close") this._onclose("transport close", true, { description: "transport closed by the server" });
  }

  /** Sends a message: a string or binary data. */
  send(data) {
    this._send({ type: "message", data });
  }

  _send(packet) {
    this._buffer.push(packet);
    this._flush();
  }

  _flush() {
    if (this.id && !this._upgrading && !this._closed && this._buffer.length) {
      const packets = this._buffer;
      this._buffer = [];
      this._transport.send(packets);
    }
  }

  /** Probes websocket next to the current transport and switches to it when it answers. */
  _upgrade() {
    const probe = (this._probe = this._createTransport("websocket"));
    const current = this._transport;
    const start = Date.now();
    current.probing = true;
    const fail = (reason) => {
      if (this._probe != probe) return;
      this._probe = null;
      clearTimeout(timer);
      probe.close();
      this._record("websocket", start, reason, true);
      this._upgrading = false;
      current.probing = false;
      // Carry on where the old transport is: it may have paused, or (streaming) ended its
      // stream for an upgrade that did not happen.
      if (!this._closed) {
        current.resume();
        this._flush();
      }
    };
    const timer = setTimeout(fail, this._deadline(), "timeout");
    probe.onclose = fail;
    probe.oninvalid = () => fail("parse error");
    probe.onopen = () => probe.send([{ type: "ping", data: "probe" }]);
    probe.onpacket = (packet) => {
      if (packet.type != "pong" || packet.data != "probe" || this._upgrading) return fail("probe failed");
      // New packets wait in the buffer while the old transport drains.
      this._upgrading = true;
      current.pause(() => {
        if (this._probe != probe || this._closed) return;
        this._probe = null;
        clearTimeout(timer);
        probe.send([{ type: "upgrade" }]);
        current.close();
        this._use(probe);
        this._upgrading = false;
        this._record("websocket", start, null, true);
        this._remember();
        this._emit("upgrade", probe);
        this._emit("transport", "websocket");
        this._flush();
      });
    };
    probe.open();
  }

  /**
   * The transport died or the heartbeat stopped; `clean` when the server ended the session
   * on purpose (a close packet or frame) rather than the connection failing.
   */
  _onclose(reason, clean, details) {
    if (this._closed) return;
    this._stop();
    this._emit("close", reason, details, clean);
  }

  _stop(bye) {
    this._closed = true;
    if (this._unload) removeEventListener("beforeunload", this._unload);
    clearTimeout(this._attemptTimer);
    clearTimeout(this._pingTimer);
    const probe = this._probe;
    this._probe = null;
    probe?.close();
    this._transport?.close(bye);
  }

  /**
   * Closes the session: what is buffered goes out first, then the server is told. Emits
   * "close" with `reason` when the session was open.
   */
  close(reason = "forced close") {
    if (this._closed) return;
    const open = !!this.id;
    if (open && this._buffer.length) this._transport.send(this._buffer.splice(0));
    this._stop(true);
    if (open) this._emit("close", reason);
  }
}
