// What the codecs share: their error convention, strict UTF-8 and base64 (the Rust crate
// ferrio-protocol's error.rs, str.rs and b64.rs).
//
// A decode error is an Error whose message is the name of the Rust DecodeError variant
// ("Empty", "UnknownPacketType", "InvalidJson", …), so both codecs are checked against the same
// vectors (tests/vectors/*.json).
//
// Bytes being decoded travel as byte strings: one character (U+0000 to U+00FF) per byte, what
// `atob` returns and `btoa` takes.

/** Throws the decode error `code`. */
export const fail = (code) => {
  throw new Error(code);
};

/** What `decode(x)` returns, or the Error it throws. */
export const attempt = (decode, x) => {
  try {
    return decode(x);
  } catch (err) {
    return err;
  }
};

/**
 * Decodes UTF-8 held in a byte string; throws "InvalidUtf8" on a malformed sequence.
 * (`escape` writes each byte above 0x7f as %XX, which decodeURIComponent reads as UTF-8,
 * strictly: overlong forms, surrogates and truncated sequences fail, as with a fatal
 * TextDecoder, which old browsers lack.)
 */
export const utf8 = (bytes) => {
  try {
    return decodeURIComponent(escape(bytes));
  } catch {
    fail("InvalidUtf8");
  }
};

/** The byte string of a Uint8Array (in slices: `apply` takes a bounded number of arguments). */
export function byteString(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return text;
}

/** The bytes of an ArrayBuffer or of a view, as a Uint8Array (an ArrayBuffer has no `buffer`). */
export const toUint8 = (b) => new Uint8Array(b.buffer || b, b.byteOffset, b.byteLength);

/** Standard base64 (padded) of an ArrayBuffer or a view. */
export const toBase64 = (buffer) => btoa(byteString(toUint8(buffer)));

/** Decodes standard base64 (padding optional) into a byte string. */
export const unbase64 = (text) => {
  try {
    if (/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return atob(text);
  } catch {}
  fail("InvalidBase64");
};

/**
 * Decodes standard base64 (padding optional) into an ArrayBuffer, or into an array of byte
 * values where typed arrays are missing (old browsers).
 */
export function fromBase64(text) {
  const binary = unbase64(text);
  const bytes = globalThis.Uint8Array ? new Uint8Array(binary.length) : [];
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes.buffer || bytes;
}
