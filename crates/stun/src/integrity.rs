//! Keys and checks: MESSAGE-INTEGRITY (§14.5), MESSAGE-INTEGRITY-SHA256
//! (§14.6), FINGERPRINT (§14.7), credential keys (§9.1.1, §9.2.2) and
//! USERHASH (§14.4).
use core::fmt;
use hmac::{Hmac, Mac};
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// An HMAC key for MESSAGE-INTEGRITY and MESSAGE-INTEGRITY-SHA256 with both
/// key schedules computed once, so each check costs only the message hash.
///
/// Passwords, usernames and realms must already be prepared as the RFC asks
/// (OpaqueString, RFC 8265) by the caller; see spec-notes/stun.md.
#[derive(Clone)]
pub struct IntegrityKey {
    sha1: Hmac<Sha1>,
    sha256: Hmac<Sha256>,
}

impl fmt::Debug for IntegrityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IntegrityKey(..)")
    }
}

impl IntegrityKey {
    /// A key from raw bytes.
    pub fn from_bytes(key: &[u8]) -> Self {
        // HMAC accepts keys of any length; `new_from_slice` cannot fail.
        Self {
            sha1: <Hmac<Sha1> as Mac>::new_from_slice(key).expect("HMAC takes any key length"),
            sha256: <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length"),
        }
    }

    /// Short-term credentials (§9.1.1): the key is the password (ICE uses
    /// the remote ice-pwd).
    pub fn short_term(password: &str) -> Self {
        Self::from_bytes(password.as_bytes())
    }

    /// Long-term credentials with the MD5 password algorithm (§9.2.2):
    /// `MD5(username ":" realm ":" password)`.
    pub fn long_term(username: &str, realm: &str, password: &str) -> Self {
        let mut h = Md5::new();
        for part in [username, ":", realm, ":", password] {
            h.update(part.as_bytes());
        }
        Self::from_bytes(&h.finalize())
    }

    /// Long-term credentials with the SHA-256 password algorithm (§9.2.2):
    /// `SHA-256(username ":" realm ":" password)`.
    pub fn long_term_sha256(username: &str, realm: &str, password: &str) -> Self {
        let mut h = Sha256::new();
        for part in [username, ":", realm, ":", password] {
            h.update(part.as_bytes());
        }
        Self::from_bytes(&h.finalize())
    }

    /// HMAC-SHA1 over the concatenation of `parts`.
    pub fn hmac_sha1(&self, parts: &[&[u8]]) -> [u8; 20] {
        let mut m = self.sha1.clone();
        for p in parts {
            m.update(p);
        }
        m.finalize().into_bytes().into()
    }

    /// HMAC-SHA256 over the concatenation of `parts`.
    pub fn hmac_sha256(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut m = self.sha256.clone();
        for p in parts {
            m.update(p);
        }
        m.finalize().into_bytes().into()
    }
}

/// USERHASH (§14.4): `SHA-256(username ":" realm)`.
pub fn userhash(username: &str, realm: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in [username, ":", realm] {
        h.update(part.as_bytes());
    }
    h.finalize().into()
}

/// The FINGERPRINT value of `bytes` (§14.7): CRC-32 (ISO/IEC 13239, the
/// IEEE 802.3 polynomial) XORed with 0x5354554E.
pub fn fingerprint(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes) ^ crate::FINGERPRINT_XOR
}

/// Constant-time equality of two MACs (false on a length mismatch).
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_check_value() {
        // The standard CRC-32 check value of "123456789" is 0xCBF43926.
        assert_eq!(
            fingerprint(b"123456789") ^ crate::FINGERPRINT_XOR,
            0xCBF4_3926
        );
    }

    #[test]
    fn rfc8489_b_1_userhash() {
        // RFC 8489 Appendix B.1: USERHASH of the username
        // "<U+30DE><U+30C8><U+30EA><U+30C3><U+30AF><U+30B9>" in realm "example.org".
        let expected = [
            0x4a, 0x3c, 0xf3, 0x8f, 0xef, 0x69, 0x92, 0xbd, 0xa9, 0x52, 0xc6, 0x78, 0x04, 0x17,
            0xda, 0x0f, 0x24, 0x81, 0x94, 0x15, 0x56, 0x9e, 0x60, 0xb2, 0x05, 0xc4, 0x6e, 0x41,
            0x40, 0x7f, 0x17, 0x04,
        ];
        assert_eq!(
            userhash(
                "\u{30DE}\u{30C8}\u{30EA}\u{30C3}\u{30AF}\u{30B9}",
                "example.org"
            ),
            expected
        );
        assert_ne!(
            userhash("\u{30DE}\u{30C8}\u{30EA}\u{30C3}\u{30AF}", "example.org"),
            expected
        );
    }

    #[test]
    fn long_term_key_is_md5_of_user_realm_password() {
        // MD5("user:realm:pass") = 8493fbc53ba582fb4c044c456bdc40eb
        // (computed with `printf 'user:realm:pass' | md5sum`).
        let raw = [
            0x84, 0x93, 0xfb, 0xc5, 0x3b, 0xa5, 0x82, 0xfb, 0x4c, 0x04, 0x4c, 0x45, 0x6b, 0xdc,
            0x40, 0xeb,
        ];
        let a = IntegrityKey::long_term("user", "realm", "pass");
        let b = IntegrityKey::from_bytes(&raw);
        assert_eq!(a.hmac_sha1(&[b"x"]), b.hmac_sha1(&[b"x"]));
    }

    #[test]
    fn ct_eq_rejects_length_mismatch() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
    }
}
