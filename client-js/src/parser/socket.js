// Socket.IO v5 packets (the Rust crate ferrio-protocol's socket/*.rs): encoding with binary
// deconstruction (placeholders + attachments), and a Decoder that validates each packet and
// reassembles binary ones.
//
// A packet is {type, nsp, id?, data?, attachments?}: `type` 0 CONNECT … 6 BINARY_ACK.

import { fail } from "./bytes.js";

/** Event names an application may neither emit nor receive. */
export const RESERVED = [
  "connect",
  "connect_error",
  "disconnect",
  "disconnecting",
  "newListener",
  "removeListener",
];

/** Whether `x` is a Blob (read before it is sent). */
export const isBlob = (x) => typeof Blob != "undefined" && x instanceof Blob;

/** Whether `x` is sent as a binary attachment (binary data exists where ArrayBuffer does). */
export const isBinary = (x) =>
  !!globalThis.ArrayBuffer && (x instanceof ArrayBuffer || ArrayBuffer.isView(x) || isBlob(x));

/**
 * Encodes a packet into its text and its binary attachments. Binary values found in `data`
 * become placeholders (an EVENT becomes a BINARY_EVENT, an ACK a BINARY_ACK), unless the packet
 * already lists its `attachments`, in which case `data` is written as it is.
 */
export function encode(packet) {
  const given = packet.attachments;
  const attachments = given || [];
  let type = packet.type;
  const json =
    packet.data === undefined
      ? ""
      : JSON.stringify(
          packet.data,
          given
            ? undefined
            : function (key, value) {
                const original = this[key];
                return isBinary(original) ? { _placeholder: true, num: attachments.push(original) - 1 } : value;
              },
        );
  if (!given && attachments.length && (type == 2 || type == 3)) type += 3;
  let text = "" + type;
  if (type > 4) text += attachments.length + "-";
  if (packet.nsp && packet.nsp != "/") text += packet.nsp + ",";
  if (packet.id != null) text += packet.id;
  return [text + json, ...attachments];
}

// Placeholders `{"_placeholder":true,"num":N}` found in `data`; `fn` may replace them.
function walk(value, fn) {
  if (value && typeof value == "object") {
    if (value._placeholder === true) return fn(value);
    for (const key in value) value[key] = walk(value[key], fn);
  }
  return value;
}

// `"num": 1.0` parses as 1, but a placeholder's number must be written as an integer. (In JSON
// that parses, `"num"` then a colon is a key named num, or the end of a key merely ending so;
// the value of either, made a string, fails the check only in a placeholder, as it must.)
const FLOAT_NUM = /("num"\s*:\s*)-?\d+[.eE][-+\d.eE]*/g;

function checkPlaceholders(data, count) {
  // Which attachment numbers were seen (an array: no Set in old browsers).
  const seen = [];
  let found = 0;
  walk(data, (placeholder) => {
    const num = placeholder.num;
    if (!Number.isInteger(num) || num < 0 || num >= count) fail("InvalidPlaceholder");
    found += seen[num] = 1;
    return placeholder;
  });
  if (found != count || seen.filter(Boolean).length != count) fail("AttachmentMismatch");
}

/** Replaces the placeholders of a decoded binary packet by its attachments. */
export const hydrate = (packet) => walk(packet.data, (placeholder) => packet.attachments[placeholder.num]);

/**
 * Socket.IO decoder: feed it text and binary frames in order; `add` returns a complete packet
 * (binary data still as placeholders, the attachments in `attachments`), or undefined while
 * attachments are missing. Throws on invalid input, and stays usable after that.
 */
export class Decoder {
  constructor({ maxAttachments = 1000, maxPacketLen = Infinity } = {}) {
    this._maxAttachments = maxAttachments;
    this._maxPacketLength = maxPacketLen;
    // Unset until then: `_pending` (the binary packet waiting for attachments, if any) and
    // `_count` (the attachments of the last packet decoded).
  }

  add(frame) {
    const pending = this._pending;
    if (typeof frame == "string") {
      // A packet waiting for attachments is dropped; the decoder stays usable.
      this._pending = null;
      if (pending) fail("UnexpectedText");
      const packet = this._decode(frame);
      if (!this._count) return packet;
      this._pending = packet;
    } else {
      if (!pending) fail("UnexpectedBinary");
      if (pending.attachments.push(frame) == this._count) {
        this._pending = null;
        return pending;
      }
    }
  }

  _decode(text) {
    if (!text) fail("Empty");
    if (text.length > this._maxPacketLength) fail("PacketTooLarge");
    const type = "0123456".indexOf(text[0]);
    if (type < 0) fail("UnknownPacketType");
    // The type; the attachment count and a dash (binary types); "/namespace,"; the ack id; JSON.
    const [, written, dash, nsp = "/", id, rest] = (
      type > 4 ? /^.(\d*)(-?)(?:(\/[^,]*),?)?(\d*)([^]*)/ : /^.()()(?:(\/[^,]*),?)?(\d*)([^]*)/
    ).exec(text);
    const packet = { type, nsp };
    let count = 0;
    if (type > 4) {
      if (text.length <= written.length + 1) fail("Truncated");
      if (!written || !dash) fail("InvalidAttachmentCount");
      count = +written;
      if (count > this._maxAttachments) fail("TooManyAttachments");
    }
    if (/[\0-\x1f\x7f]/.test(nsp)) fail("InvalidNamespace");
    const acked = type == 3 || type == 6;
    if (id) packet.id = +id;
    // An ack id past Number.MAX_SAFE_INTEGER (2 ** 53 - 1) is invalid.
    if (id ? packet.id >= 2 ** 53 || !(type == 2 || type == 5 || acked) : acked) fail("InvalidAckId");
    let data;
    if (rest) {
      try {
        data = JSON.parse(rest);
      } catch {
        fail("InvalidJson");
      }
    }
    const array = Array.isArray(data);
    const object = data && typeof data == "object" && !array;
    const bad =
      type == 0
        ? data !== undefined && !object
        : type == 1
          ? data !== undefined
          : type == 4
            ? !object && typeof data != "string"
            : // an ACK carries an array; an EVENT a non-empty one named by a string or a number
              !array || (!acked && !(data.length && /^[sn]/.test(typeof data[0])));
    if (bad) fail("InvalidData");
    if (array && !acked && RESERVED.includes(data[0])) fail("ReservedEvent");
    if (type > 4) {
      // Checked on a copy in which numbers written as fractions are strings.
      checkPlaceholders(JSON.parse(rest.replace(FLOAT_NUM, '$1"."')), count);
      packet.attachments = [];
    }
    if (data !== undefined) packet.data = data;
    this._count = count;
    return packet;
  }
}
