//! Small lexical helpers shared by the parser and the typed attributes
//! (RFC 8866 section 9 character classes; RFC 8839 `ice-char`).
//!
//! Every number goes through a checked parser: digits only, no sign, no
//! overflow. Nothing here can panic.

const fn token_table() -> [bool; 256] {
    let mut t = [false; 256];
    let mut b = 0usize;
    while b < 256 {
        t[b] = matches!(b as u8, 0x21 | 0x23..=0x27 | 0x2A..=0x2B | 0x2D..=0x2E | 0x30..=0x39 | 0x41..=0x5A | 0x5E..=0x7E);
        b += 1;
    }
    t
}

/// `token-char` membership, one load per byte.
static TOKEN: [bool; 256] = token_table();

/// RFC 8866 `token-char`: visible ASCII except the separators.
#[inline]
pub(crate) fn is_token_char(b: u8) -> bool {
    TOKEN[usize::from(b)]
}

/// A non-empty RFC 8866 token.
#[inline]
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token_char)
}

/// RFC 8839 `ice-char`: ALPHA / DIGIT / "+" / "/".
pub(crate) const fn is_ice_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

/// Splits at the first byte of `s` that is not a token character, which must
/// be `sep` (itself not a token character): `Some((token, None))` when all of
/// `s` is token characters, `Some((token, Some(after_sep)))` when the run
/// ends at `sep`, `None` when it ends at any other byte. The token may be
/// empty. Same result as `split1(s, sep)` followed by `is_token` on the
/// first part, in one pass.
#[inline]
pub(crate) fn split_token(s: &str, sep: u8) -> Option<(&str, Option<&str>)> {
    match s.bytes().position(|b| !is_token_char(b)) {
        None => Some((s, None)),
        Some(i) if s.as_bytes().get(i) == Some(&sep) => Some((s.get(..i)?, s.get(i + 1..))),
        Some(_) => None,
    }
}

/// Visible ASCII or any UTF-8 continuation, no space: used for addresses,
/// URIs and other free-form single words.
pub(crate) fn is_word(s: &str) -> bool {
    !s.is_empty() && word_len(s.as_bytes()) == s.len()
}

/// Length of the leading run of word bytes (see [`is_word`]): the index of
/// the first byte that is a space, a control byte or DEL, or `s.len()`.
/// Eight bytes per step (SWAR; borrows only travel upwards, so the lowest
/// flagged byte is exact).
#[inline]
pub(crate) fn word_len(s: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut chunks = s.chunks_exact(8);
    let mut at = 0;
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
        let del = w ^ (0x7F * ONES);
        let m = (w.wrapping_sub(0x21 * ONES) & !w | del.wrapping_sub(ONES) & !del) & HIGH;
        if m != 0 {
            // trailing_zeros() / 8 < 8: the cast cannot truncate.
            return at + (m.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    let tail = chunks.remainder();
    at + tail
        .iter()
        .position(|&b| b <= 0x20 || b == 0x7F)
        .unwrap_or(tail.len())
}

/// Decimal digits into a u64, rejecting empty input, signs, and overflow.
#[inline(always)]
pub(crate) fn parse_u64(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 19 {
        return parse_u64_long(b);
    }
    // At most 19 digits: below 10^19 < u64::MAX, so no step can overflow.
    let mut v: u64 = 0;
    for &c in b {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + u64::from(d);
    }
    Some(v)
}

/// [`parse_u64`] for the empty string and 20-digit or longer input.
#[cold]
fn parse_u64_long(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    let mut v: u64 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    Some(v)
}

#[inline]
pub(crate) fn parse_u32(s: &str) -> Option<u32> {
    parse_u64(s).and_then(|v| u32::try_from(v).ok())
}

#[inline]
pub(crate) fn parse_u16(s: &str) -> Option<u16> {
    parse_u64(s).and_then(|v| u16::try_from(v).ok())
}

/// An RTP payload type: 0..=127.
#[inline]
pub(crate) fn parse_pt(s: &str) -> Option<u8> {
    parse_u64(s).and_then(|v| if v <= 127 { u8::try_from(v).ok() } else { None })
}

/// Appends a decimal number without going through `core::fmt`.
pub(crate) fn push_u64(out: &mut String, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        // v % 10 < 10, so the cast cannot truncate.
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for &b in &buf[i..] {
        out.push(char::from(b));
    }
}

/// `split_once` for one ASCII byte, without the generic pattern machinery
/// (faster on the short strings SDP is made of).
#[inline]
pub(crate) fn split1(s: &str, sep: u8) -> Option<(&str, &str)> {
    let i = s.bytes().position(|b| b == sep)?;
    Some((s.get(..i)?, s.get(i + 1..)?))
}

/// A cursor over single-space separated words that remembers where it is,
/// so a caller can take "the rest of the line" after some fixed fields.
#[derive(Debug, Clone)]
pub(crate) struct Words<'a> {
    rest: &'a str,
    /// Set once an empty word (double, leading or trailing space) was seen.
    bad: bool,
}

impl<'a> Words<'a> {
    pub(crate) fn new(s: &'a str) -> Self {
        Words {
            rest: s,
            bad: false,
        }
    }

    /// The next word; `None` at the end or at an empty word (which also
    /// makes [`Words::is_empty`] false forever, so callers see the error).
    pub(crate) fn next_word(&mut self) -> Option<&'a str> {
        if self.rest.is_empty() || self.bad {
            return None;
        }
        match split1(self.rest, b' ') {
            Some((w, r)) => {
                if w.is_empty() {
                    self.bad = true;
                    return None;
                }
                if r.is_empty() {
                    self.bad = true;
                }
                self.rest = r;
                Some(w)
            }
            None => {
                let w = self.rest;
                self.rest = "";
                Some(w)
            }
        }
    }

    /// A word that must be present.
    pub(crate) fn word(&mut self, reason: &'static str) -> Result<&'a str, &'static str> {
        self.next_word().ok_or(reason)
    }

    /// Everything not consumed yet.
    pub(crate) fn rest(&self) -> &'a str {
        self.rest
    }

    /// True when every word was consumed and none was empty.
    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty() && !self.bad
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_checked() {
        assert_eq!(parse_u64("0"), Some(0));
        assert_eq!(parse_u64("18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64("18446744073709551616"), None);
        assert_eq!(parse_u16("65535"), Some(65535));
        assert_eq!(parse_u16("65536"), None);
        assert_eq!(parse_u32("4294967296"), None);
        assert_eq!(parse_u64("-1"), None);
        assert_eq!(parse_u64("+1"), None);
        assert_eq!(parse_u64(""), None);
        assert_eq!(parse_u64("1a"), None);
        assert_eq!(parse_pt("127"), Some(127));
        assert_eq!(parse_pt("128"), None);
    }

    #[test]
    fn word_len_finds_the_first_non_word_byte_at_every_offset() {
        for len in 0..40 {
            let base = "x".repeat(len);
            assert_eq!(word_len(base.as_bytes()), len);
            for at in 0..len {
                for bad in [b' ', b'\t', 0u8, 0x1F, 0x7F] {
                    let mut v = base.clone().into_bytes();
                    v[at] = bad;
                    assert_eq!(word_len(&v), at, "{len} {at} {bad}");
                }
                let mut v = base.clone().into_bytes();
                v[at] = 0x80;
                assert_eq!(word_len(&v), len);
            }
        }
        assert!(is_word("h\u{e9}llo"));
        assert!(!is_word(""));
        assert!(!is_word("a\x7fb"));
    }

    #[test]
    fn split_token_matches_split_then_check() {
        for s in [
            "",
            "abc",
            "ab:c",
            ":c",
            "a b:c",
            "ab:",
            "a\u{e9}:b",
            "ab/c/d",
            "a:b:c",
        ] {
            let old = match split1(s, b':') {
                Some((k, v)) => is_token(k).then_some((k, Some(v))),
                None => is_token(s).then_some((s, None)),
            };
            let new = split_token(s, b':').filter(|(k, _)| !k.is_empty());
            assert_eq!(new, old, "{s:?}");
        }
        assert_eq!(parse_u64("00000000000000000127"), Some(127));
        assert_eq!(parse_u64("0000000000000000000127"), None);
        assert_eq!(
            parse_u64("9999999999999999999"),
            Some(9_999_999_999_999_999_999)
        );
    }

    #[test]
    fn push_u64_matches_display() {
        for v in [0u64, 9, 10, 99, 12345, u64::MAX] {
            let mut s = String::new();
            push_u64(&mut s, v);
            assert_eq!(s, v.to_string());
        }
    }

    #[test]
    fn words_reject_empty_words() {
        let mut w = Words::new("a b");
        assert_eq!(w.next_word(), Some("a"));
        assert_eq!(w.next_word(), Some("b"));
        assert_eq!(w.next_word(), None);
        let mut w = Words::new("a  b");
        assert_eq!(w.next_word(), Some("a"));
        assert_eq!(w.next_word(), None);
        let mut w = Words::new("a ");
        assert_eq!(w.next_word(), Some("a"));
        assert!(!w.is_empty());
        assert_eq!(w.next_word(), None);
    }
}
