//! ICE credentials (RFC 8445 §5.3, RFC 8839 §5.4): `ice-ufrag` 4 to 256
//! and `ice-pwd` 22 to 256 `ice-char`s.
use crate::candidate::is_ice_char;
use crate::error::Error;
use crate::rng::IceRng;
use core::fmt;
use tern_stun::IntegrityKey;

/// Longest ufrag or password accepted.
pub const MAX_CREDENTIAL_LEN: usize = 256;

/// A username fragment and password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    ufrag: String,
    pwd: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The password stays out of logs.
        write!(f, "Credentials({}, ..)", self.ufrag)
    }
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

impl Credentials {
    /// Checked credentials.
    pub fn new(ufrag: &str, pwd: &str) -> Result<Self, Error> {
        if ufrag.len() < 4 || ufrag.len() > MAX_CREDENTIAL_LEN || !ufrag.bytes().all(is_ice_char) {
            return Err(Error::invalid("ice-ufrag must be 4 to 256 ice-chars"));
        }
        if pwd.len() < 22 || pwd.len() > MAX_CREDENTIAL_LEN || !pwd.bytes().all(is_ice_char) {
            return Err(Error::invalid("ice-pwd must be 22 to 256 ice-chars"));
        }
        Ok(Self {
            ufrag: ufrag.to_owned(),
            pwd: pwd.to_owned(),
        })
    }

    /// Fresh random credentials: an 8-character ufrag (48 bits) and a
    /// 24-character password (144 bits, above the 128 bits §5.3 asks for).
    pub fn random(rng: &mut dyn IceRng) -> Self {
        let mut pick = |n: usize| -> String {
            let mut s = String::with_capacity(n);
            let mut bits = 0u64;
            let mut left = 0;
            for _ in 0..n {
                if left == 0 {
                    bits = rng.next_u64();
                    left = 10;
                }
                s.push(char::from(ALPHABET[(bits & 63) as usize]));
                bits >>= 6;
                left -= 1;
            }
            s
        };
        let ufrag = pick(8);
        let pwd = pick(24);
        Self { ufrag, pwd }
    }

    /// The username fragment.
    pub fn ufrag(&self) -> &str {
        &self.ufrag
    }
    /// The password.
    pub fn pwd(&self) -> &str {
        &self.pwd
    }
}

/// Credentials with their HMAC key schedule computed once.
#[derive(Debug, Clone)]
pub(crate) struct Keyed {
    pub creds: Credentials,
    pub key: IntegrityKey,
}

impl Keyed {
    pub(crate) fn new(creds: Credentials) -> Self {
        let key = IntegrityKey::short_term(&creds.pwd);
        Self { creds, key }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SeededRng;

    #[test]
    fn rfc8839_5_4_lengths() {
        assert!(Credentials::new("abcd", &"p".repeat(22)).is_ok());
        assert!(Credentials::new("abc", &"p".repeat(22)).is_err());
        assert!(Credentials::new("abcd", &"p".repeat(21)).is_err());
        assert!(Credentials::new("ab:d", &"p".repeat(22)).is_err());
        assert!(Credentials::new(&"u".repeat(257), &"p".repeat(22)).is_err());
        let c = Credentials::random(&mut SeededRng::new(1));
        assert_eq!(c.ufrag().len(), 8);
        assert_eq!(c.pwd().len(), 24);
        assert!(Credentials::new(c.ufrag(), c.pwd()).is_ok());
        assert_ne!(c, Credentials::random(&mut SeededRng::new(2)));
        assert!(!format!("{c:?}").contains(c.pwd()));
    }
}
