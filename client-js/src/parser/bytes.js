// What the codecs share: their error convention, strict UTF-8 and base64 (the Rust crate
// ferrio-protocol's error.rs, str.rs and b64.rs).
//
// A decode error is an Error whose message is the name of the Rust DecodeError variant
// ("Empty", "UnknownPacketType", "InvalidJson", …), so both codecs are checked against the same
// vectors (tests/vectors/*.json).

/** Throws the decode error `code`. */
export const fail = (code) => {
  throw new Error(code);
};

/** Decodes UTF-8 bytes; throws "InvalidUtf8" on a malformed sequence. */
export const utf8 = (bytes) => {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    fail("InvalidUtf8");
  }
};

/** The bytes of an ArrayBuffer or of a view, as a Uint8Array. */
const toUint8 = (b) =>
  ArrayBuffer.isView(b) ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : new Uint8Array(b);

/** Standard base64 (padded) of an ArrayBuffer or a view. */
export function toBase64(buffer) {
  const bytes = toUint8(buffer);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/**
 * Decodes standard base64 (padding optional) into an ArrayBuffer, or into an array of byte
 * values where typed arrays are missing (old browsers).
 */
export function fromBase64(text) {
  let binary;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) fail("InvalidBase64");
  try {
    binary = atob(text);
  } catch {
    fail("InvalidBase64");
  }
  const bytes = globalThis.Uint8Array ? new Uint8Array(binary.length) : [];
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes.buffer || bytes;
}
