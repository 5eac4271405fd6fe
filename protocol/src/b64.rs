//! The base64 flavour of the wire: standard alphabet, padded on output,
//! padding optional and trailing bits ignored on input (as browsers' `atob`
//! and Node's `Buffer` are lenient).

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;

use crate::DecodeError;

const ENGINE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Length of the padded base64 encoding of `n` bytes.
pub(crate) const fn encoded_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

/// Appends the padded base64 encoding of `input` to `out`.
pub(crate) fn encode_into(input: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(start + encoded_len(input.len()), 0);
    let written = ENGINE.encode_slice(input, &mut out[start..]).unwrap_or_default();
    out.truncate(start + written);
}

/// Decodes base64 text.
pub(crate) fn decode(input: &[u8]) -> Result<Vec<u8>, DecodeError> {
    ENGINE.decode(input).map_err(|_| DecodeError::InvalidBase64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_is_lenient_on_padding() {
        for n in 0..10 {
            let input: Vec<u8> = (0..n).collect();
            let mut out = Vec::new();
            encode_into(&input, &mut out);
            assert_eq!(out.len(), encoded_len(n as usize));
            assert_eq!(decode(&out).unwrap(), input);
        }
        assert_eq!(decode(b"AQIDBA==").unwrap(), [1, 2, 3, 4]);
        assert_eq!(decode(b"AQIDBA").unwrap(), [1, 2, 3, 4]);
        assert_eq!(decode(b"AQIDBB==").unwrap(), [1, 2, 3, 4]);
        assert_eq!(decode(b"A"), Err(DecodeError::InvalidBase64));
        assert_eq!(decode(b"AQ-_"), Err(DecodeError::InvalidBase64));
        assert_eq!(decode(b"AQ ID"), Err(DecodeError::InvalidBase64));
    }
}
