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
    /** The rungs to try, and the remembered round trip (ladder.js `plan`). */
    ({ order: this._order, rtt: this._rtt } = plan(options, this._storageKey, lostTransport));
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
    // socket.io-client's closeOnBeforeunload: the page goes away without a "close" event.
    if (this._options.closeOnBeforeunload && globalThis.addEventListener) {
      addEventListener("beforeunload", (this._unload = () => this._stop()));
    }
    this._tryRung(0);
  }

  /**
   * Starts an attempt of transport `name` for this session (a handshake while it has no sid),
   * an upgrade probe when `upgrade`, which has until its deadline (ladder.js `deadline`; the
   * `last` rung's is longer) to succeed. `end(reason)` ends it (a success without a reason)
   * and records it in `negotiation`; a failure (the transport closed, an undecodable packet,
   * the deadline, or a reason given) also closes the transport. Then `then(reason)`. Returns
   * [transport, end, start]; the caller sets the transport's other callbacks and opens it.
   */
  _start(name, upgrade, then, last) {
    const transport = new TRANSPORTS[name]({
      ...this._transportOptions,
      sid: this.id,
      maxPayload: this._handshake?.maxPayload,
    });
    const start = Date.now();
    const end = (reason) => {
      clearTimeout(this._attemptTimer);
      const step = { transport: name, ok: !reason, ms: Date.now() - start };
      if (reason) {
        step.reason = reason;
        transport.close();
      }
      if (upgrade) step.upgrade = true;
      this.negotiation.push(step);
      then(reason);
    };
    this._attemptTimer = setTimeout(end, deadline(this._rtt, this._options.timeout, this._attempt, last), "timeout");
    transport.onclose = end;
    transport.oninvalid = () => end("parse error");
    return [transport, end, start];
  }

  /** Tries rung `i` of the ladder; on failure or deadline, the next one at once. */
  _tryRung(i) {
    if (this._closed) return;
    const name = this._order[i];
    if (!name) {
      this._closed = true;
      return this._emit("error", this._lastError || new Error("no transport available"));
    }
    const last = i == this._order.length - 1;
    let handshake;
    const [transport, end, start] = this._start(
      name,
      false,
      (reason) => {
        if (!reason) return this._onopen(transport, handshake);
        this._lastError = new Error(`${name} ${reason}`);
        this._tryRung(i + 1);
      },
      last,
    );
    this._transport = transport;
    // A websocket that opened (the 101 came back: the network is fine) must bring the open
    // packet, which the server sends at once, within a budget measured from then on (ladder.js
    // `silence`): a proxy that answered 101 and forwards nothing fails here, long before the
    // attempt's deadline. The last rung, with nothing to fall back to, keeps its whole timeout.
    if (!last) {
      transport.onopen = () => {
        clearTimeout(this._attemptTimer);
        this._attemptTimer = setTimeout(end, silence(Date.now() - start, this._options.timeout), "silent");
      };
    }
    transport.onpacket = (packet) => {
      if (packet.type != "open") return end("unexpected packet");
      // A handshake that arrives after the server would already have timed the session out
      // was held back by a buffering proxy (released only when the response ended).
      handshake = packet.data;
      const rtt = Date.now() - start;
      if (rtt >= handshake.pingInterval + handshake.pingTimeout) return end("buffered by a proxy");
      this._rtt = rtt;
      end();
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
    transport.onpacket = (packet) => {
      this._heartbeat();
      if (packet.type == "ping") {
        this._send({ type: "pong" });
        this._emit("ping");
      } else if (packet.type == "message") this._emit("data", packet.data);
      else if (packet.type == "close") this._onclose("transport close", true, { description: "transport closed by the server" });
    };
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
    const current = this._transport;
    current.probing = true;
    const [probe, end] = this._start("websocket", true, (reason) => {
      this._probe = null;
      this._upgrading = current.probing = false;
      if (reason) {
        // Carry on where the old transport is: it may have paused, or (streaming) ended its
        // stream for an upgrade that did not happen.
        current.resume();
      } else {
        this._use(probe);
        this._remember();
        this._emit("upgrade", probe);
        this._emit("transport", "websocket");
      }
      this._flush();
    });
    this._probe = probe;
    probe.onopen = () => probe.send([{ type: "ping", data: "probe" }]);
    probe.onpacket = (packet) => {
      if (packet.type != "pong" || packet.data != "probe" || this._upgrading) return end("probe failed");
      // New packets wait in the buffer while the old transport drains.
      this._upgrading = true;
      current.pause(() => {
        // Unless the probe failed meanwhile, or the session closed (_stop drops the probe).
        if (this._probe != probe) return;
        probe.send([{ type: "upgrade" }]);
        current.close();
        end();
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
    if (open) this._transport.send(this._buffer.splice(0));
    this._stop(true);
    if (open) this._emit("close", reason);
  }
}
