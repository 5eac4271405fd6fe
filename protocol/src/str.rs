//! [`Str`]: a cheaply clonable UTF-8 string backed by [`Bytes`].

use std::fmt;
use std::ops::{Bound, Deref, RangeBounds};

use bytes::Bytes;
use bytestring::ByteString;

/// A cheaply clonable, immutable UTF-8 string backed by [`Bytes`].
///
/// Cloning a `Str` bumps a reference count instead of copying, so one encoded
/// broadcast frame is shared by every recipient, and [`Str::slice`] hands out
/// zero-copy views (the payload of an Engine.IO message is a slice of the
/// frame it arrived in).
///
/// Every constructor checks that the bytes are UTF-8, once; [`Str::as_str`]
/// is then free (the storage is [`bytestring::ByteString`], which keeps that
/// guarantee without this crate using `unsafe`).
///
/// ```
/// use ferrio_protocol::Str;
///
/// let frame = Str::from("4hello");
/// let payload = frame.slice(1..).unwrap(); // zero-copy
/// assert_eq!(payload, "hello");
/// assert_eq!(payload.len(), 5);
/// assert!(frame.slice(7..).is_none()); // out of range
///
/// let snow = Str::from("☃x");
/// assert!(snow.slice(1..).is_none()); // not on a char boundary
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Str(ByteString);

impl Str {
    /// Wraps a static string without copying or allocating.
    ///
    /// ```
    /// use ferrio_protocol::Str;
    /// const PONG: Str = Str::from_static("3");
    /// assert_eq!(PONG.as_str(), "3");
    /// ```
    pub const fn from_static(s: &'static str) -> Str {
        Str(ByteString::from_static(s))
    }

    /// Wraps bytes this crate has just produced from UTF-8 pieces (a `str`,
    /// ASCII digits, serde_json output), taking the buffer over.
    pub(crate) fn from_utf8_vec(bytes: Vec<u8>) -> Str {
        match String::from_utf8(bytes) {
            Ok(s) => Str(ByteString::from(s)),
            // Unreachable: the pieces are UTF-8.
            Err(e) => Str(ByteString::from(String::from_utf8_lossy(e.as_bytes()).into_owned())),
        }
    }

    /// A zero-copy slice whose bounds the caller knows to be char boundaries
    /// (positions next to an ASCII byte), skipping the boundary checks.
    pub(crate) fn slice_at_ascii(&self, start: usize, end: usize) -> Str {
        debug_assert!(self.is_char_boundary(start) && self.is_char_boundary(end));
        self.slice(start..end).unwrap_or_default()
    }

    /// The string.
    ///
    /// This validates the UTF-8 again (see the type docs); keep the result
    /// instead of calling it in a loop.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The UTF-8 bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// The underlying [`Bytes`], without copying.
    pub fn into_bytes(self) -> Bytes {
        self.0.into_bytes()
    }

    /// The length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the string is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A zero-copy sub-string over byte offsets.
    ///
    /// Returns `None` when the range is out of bounds, reversed, or does not
    /// fall on char boundaries.
    pub fn slice(&self, range: impl RangeBounds<usize>) -> Option<Str> {
        let start = match range.start_bound() {
            Bound::Included(&s) => s,
            Bound::Excluded(&s) => s.checked_add(1)?,
            Bound::Unbounded => 0,
        };
        let end = match range.end_bound() {
            Bound::Included(&e) => e.checked_add(1)?,
            Bound::Excluded(&e) => e,
            Bound::Unbounded => self.len(),
        };
        if start > end
            || end > self.len()
            || !self.is_char_boundary(start)
            || !self.is_char_boundary(end)
        {
            return None;
        }
        let sub = self.as_str().get(start..end)?;
        Some(Str(self.0.slice_ref(sub)))
    }

    /// Whether byte offset `i` (at most `len`) starts a char or ends the
    /// string. The bytes are valid UTF-8, so this only has to rule out
    /// continuation bytes, in O(1).
    fn is_char_boundary(&self, i: usize) -> bool {
        self.as_str().is_char_boundary(i)
    }
}

impl From<String> for Str {
    /// Takes over the string's buffer without copying.
    fn from(s: String) -> Str {
        Str(ByteString::from(s))
    }
}

impl From<&str> for Str {
    /// Copies the string into a new buffer.
    fn from(s: &str) -> Str {
        Str(ByteString::from(s))
    }
}

impl TryFrom<Bytes> for Str {
    type Error = std::str::Utf8Error;

    /// Checks that the bytes are UTF-8, then wraps them without copying.
    fn try_from(bytes: Bytes) -> Result<Str, Self::Error> {
        std::str::from_utf8(&bytes)?;
        // Checked just above, so the conversion cannot fail again.
        ByteString::try_from(bytes).map(Str).or_else(|_| Ok(Str::default()))
    }
}

impl From<Str> for Bytes {
    fn from(s: Str) -> Bytes {
        s.0.into_bytes()
    }
}

impl Deref for Str {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Str {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for Str {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Display for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl fmt::Debug for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq<str> for Str {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for Str {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<String> for Str {
    fn eq(&self, other: &String) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<Str> for str {
    fn eq(&self, other: &Str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<Str> for &str {
    fn eq(&self, other: &Str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_respect_bounds_and_boundaries() {
        let s = Str::from("a☃b");
        assert_eq!(s.len(), 5);
        assert_eq!(s.slice(..).unwrap(), "a☃b");
        assert_eq!(s.slice(1..4).unwrap(), "☃");
        assert_eq!(s.slice(1..=3).unwrap(), "☃");
        assert_eq!(s.slice(1..3), None);
        assert_eq!(s.slice(2..), None);
        assert_eq!(s.slice(..2), None);
        assert_eq!(s.slice(4..).unwrap(), "b");
        assert_eq!(s.slice(5..).unwrap(), "");
        assert_eq!(s.slice(6..), None);
        let (start, end) = (3, 1);
        assert_eq!(s.slice(start..end), None);
        assert_eq!(s.slice(..=usize::MAX), None);
        assert_eq!(s.slice((Bound::Excluded(usize::MAX), Bound::Unbounded)), None);
    }

    #[test]
    fn every_slice_position_is_safe() {
        let s = Str::from("x😀é☃\u{10FFFF}");
        for a in 0..=s.len() + 1 {
            for b in 0..=s.len() + 1 {
                let expected = s.as_str().get(a..b);
                assert_eq!(s.slice(a..b).as_deref(), expected, "{a}..{b}");
            }
        }
    }

    #[test]
    fn conversions() {
        let bytes = Bytes::from_static(b"hi");
        let s = Str::try_from(bytes.clone()).unwrap();
        assert_eq!(s.as_bytes(), b"hi");
        assert_eq!(s.clone().into_bytes(), bytes);
        assert!(Str::try_from(Bytes::from_static(b"\xff")).is_err());
        assert_eq!(Str::from(String::from("hi")), s);
        assert_eq!(format!("{s}"), "hi");
        assert_eq!(format!("{s:?}"), "\"hi\"");
        assert_eq!(&*s, "hi");
        assert!(Str::default().is_empty());
        assert!("hi" == s);
    }
}
