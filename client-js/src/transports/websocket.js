// WebSocket: one Engine.IO packet per frame; binary messages are binary frames.

import { Transport, details } from "./transport.js";
import { attempt } from "../parser/bytes.js";
import { decodeFrame, encodeFrame } from "../parser/engine.js";

export class WebSocketTransport extends Transport {
  /** @param {import("./transport.js").TransportOptions} options */
  constructor(options) {
    super(options, "websocket");
  }

  open() {
    const WebSocketImpl = this._options.WebSocket || globalThis.WebSocket;
    let socket;
    try {
      socket = this._socket = new WebSocketImpl(this._url().replace(/^http/, "ws"));
    } catch {
      return queueMicrotask(() => this._close("transport error"));
    }
    socket.binaryType = "arraybuffer";
    socket.onopen = () => this.onopen();
    socket.onmessage = (message) => this._packet(attempt(decodeFrame, message.data));
    // A close frame from the server (1000, or 1005 without a code) is a deliberate end; 1006
    // means the connection broke.
    socket.onclose = (e) =>
      this._close("transport close", e?.code != 1006 && e?.wasClean !== false, {
        description: "websocket connection closed",
        context: e,
      });
    socket.onerror = (e) => this._close("transport error", false, details("websocket error", e, socket));
  }

  send(packets) {
    for (const packet of packets) this._socket.send(encodeFrame(packet));
  }

  close() {
    if (this._closed) return;
    super.close();
    const socket = this._socket;
    if (socket) {
      // Some implementations report an error when closing a connecting socket.
      socket.onopen = socket.onmessage = socket.onclose = socket.onerror = () => {};
      try {
        socket.close();
      } catch {}
    }
  }
}
