// WebSocket: one Engine.IO packet per frame; binary messages are binary frames.

import { Transport, attempt } from "./transport.js";
import { decodeFrame, encodeFrame } from "../parser/engine.js";

export class WebSocketTransport extends Transport {
  constructor(engine) {
    super(engine, "websocket");
  }

  open() {
    const W = this._e._opts.WebSocket || globalThis.WebSocket;
    let ws;
    try {
      ws = this._ws = new W(this._url().replace(/^http/, "ws"));
    } catch {
      return queueMicrotask(() => this._close("transport error"));
    }
    ws.binaryType = "arraybuffer";
    ws.onopen = () => this.onopen();
    ws.onmessage = (m) => this._packet(attempt(decodeFrame, m.data));
    // A close frame from the server (1000, or 1005 without a code) is a deliberate end; 1006
    // means the connection broke.
    ws.onclose = (e) => this._close("transport close", e?.code != 1006 && e?.wasClean !== false);
    ws.onerror = () => this._close("transport error");
  }

  send(packets) {
    for (const p of packets) this._ws.send(encodeFrame(p));
  }

  close() {
    if (this._done) return;
    super.close();
    const ws = this._ws;
    if (ws) {
      // Some implementations report an error when closing a connecting socket.
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = () => {};
      try {
        ws.close();
      } catch {}
    }
  }
}
