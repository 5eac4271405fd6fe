// Engine.IO v4 packets, and their framing on each transport (the Rust crate ferrio-protocol's
// engine/{packet,frame,handshake,payload}.rs): a WebSocket frame per packet; polling payloads
// of items joined by the record separator \x1e, binary as `b<base64>`.
//
// A packet is {type, data?}: `type` one of TYPES; `data` is the handshake object of an open,
// "probe" on probe pings/pongs, and a string or an ArrayBuffer on a message.

import { byteString, fail, fromBase64, toBase64, toUint8, utf8 } from "./bytes.js";

const TYPES = ["open", "close", "ping", "pong", "message", "upgrade", "noop"];

/** Decodes a text packet (a WebSocket text frame, or an item of a payload without `b`). */
export function decodeText(text) {
  if (!text) fail("Empty");
  const type = TYPES[text[0]];
  const data = text.slice(1);
  if (!type) fail("UnknownPacketType");
  if (type == "message") return { type, data };
  if (type == "open") {
    let handshake;
    if (!data) fail("Truncated");
    try {
      handshake = JSON.parse(data);
    } catch {
      fail("InvalidJson");
    }
    if (
      !handshake ||
      typeof handshake.sid != "string" ||
      !Array.isArray(handshake.upgrades) ||
      [handshake.pingInterval, handshake.pingTimeout, handshake.maxPayload].some((n) => typeof n != "number")
    ) {
      fail("InvalidJson");
    }
    return { type, data: handshake };
  }
  if (!data) return { type };
  if (data != "probe" || (type != "ping" && type != "pong")) fail("UnexpectedData");
  return { type, data };
}

/** Decodes one item of a polling payload or of an SSE event: `b<base64>` is binary. */
export const decodeItem = (item) =>
  item[0] == "b" ? { type: "message", data: fromBase64(item.slice(1)) } : decodeText(item);

/** Decodes a WebSocket frame: a string, or an ArrayBuffer (a binary message). */
export const decodeFrame = (frame) =>
  typeof frame == "string" ? decodeText(frame) : { type: "message", data: frame };

/** Encodes a packet as a WebSocket frame: a string, or binary data. */
export function encodeFrame(packet) {
  const data = packet.data;
  if (data != null && typeof data == "object" && packet.type == "message") return data;
  return TYPES.indexOf(packet.type) + (packet.type == "open" ? JSON.stringify(data) : data ?? "");
}

/** Encodes a packet as an item of a polling payload (binary as `b<base64>`). */
export const encodeItem = (packet) => {
  const frame = encodeFrame(packet);
  return typeof frame == "string" ? frame : "b" + toBase64(frame);
};

/** Encodes packets as a polling payload: items joined by the record separator. */
export const encodePayload = (packets) => packets.map(encodeItem).join("\x1e");

/**
 * Decodes a whole polling payload (a string, or bytes that must be UTF-8); throws on the first
 * bad item. (The polling transport decodes item by item instead, so that one bad item costs
 * only itself.)
 */
export function decodePayload(body, maxPackets = Infinity) {
  if (typeof body != "string") body = utf8(byteString(toUint8(body)));
  const items = body.split("\x1e");
  if (items.length > maxPackets) fail("TooManyPackets");
  return items.map(decodeItem);
}
