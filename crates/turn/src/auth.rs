//! Authentication: the long-term credential mechanism (RFC 8489 §9.2) with
//! stateless nonces, time-limited shared-secret credentials (the "TURN REST
//! API" convention, draft-uberti-behave-turn-rest-00 §2.2), and a
//! fixed-size per-source rate limiter for unauthenticated answers.
//!
//! # Stateless nonces
//!
//! A nonce is `hex(expiry) || hex(HMAC-SHA1(secret, expiry || client
//! address)[..10])`: 16 + 20 = 36 characters. The server keeps only its
//! 20-byte secret (from the caller's CSPRNG), so a flood of unauthenticated
//! requests from spoofed sources creates no state at all; a nonce is bound
//! to the source transport address it was issued to and expires after
//! [`crate::ServerConfig::nonce_lifetime`].
//!
//! # Time-limited credentials
//!
//! USERNAME is `EXPIRY:USER` where `EXPIRY` is a Unix time in seconds after
//! which the credential is void, and the password is
//! `base64(HMAC-SHA1(shared secret, USERNAME))` (standard alphabet, with
//! padding). This is the convention of draft-uberti-behave-turn-rest-00
//! §2.2 as implemented by coturn's `--use-auth-secret` /
//! `--static-auth-secret` with the default `:` separator.
use hmac::{Hmac, Mac};
use sha1::Sha1;
use std::net::SocketAddr;

type HmacSha1 = Hmac<Sha1>;

fn hmac_sha1(key: &[u8], parts: &[&[u8]]) -> [u8; 20] {
    // HMAC takes keys of any length.
    let mut m = <HmacSha1 as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().into()
}

/// Length of a nonce issued by [`NonceIssuer`].
pub const NONCE_LEN: usize = 36;

/// Issues and checks stateless nonces.
#[derive(Clone)]
pub struct NonceIssuer {
    secret: [u8; 20],
}

impl core::fmt::Debug for NonceIssuer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("NonceIssuer(..)")
    }
}

/// What a presented nonce turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceCheck {
    /// Ours, for this source, not expired.
    Valid,
    /// Ours and for this source, but expired: answer 438.
    Stale,
    /// Not a nonce we issued to this source.
    Invalid,
}

fn addr_bytes(a: SocketAddr, out: &mut [u8; 18]) {
    match a {
        SocketAddr::V4(v) => {
            out[..12].copy_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);
            out[12..16].copy_from_slice(&v.ip().octets());
        }
        SocketAddr::V6(v) => out[..16].copy_from_slice(&v.ip().octets()),
    }
    out[16..].copy_from_slice(&a.port().to_be_bytes());
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl NonceIssuer {
    /// An issuer with a secret from the caller's CSPRNG.
    pub fn new(secret: [u8; 20]) -> Self {
        Self { secret }
    }

    fn mac(&self, expiry: u64, client: SocketAddr) -> [u8; 20] {
        let mut a = [0u8; 18];
        addr_bytes(client, &mut a);
        hmac_sha1(&self.secret, &[&expiry.to_be_bytes(), &a])
    }

    /// A nonce for `client` valid until `expiry` (seconds on the server's
    /// clock), written into `out`.
    pub fn issue(&self, expiry: u64, client: SocketAddr, out: &mut [u8; NONCE_LEN]) {
        for (i, b) in expiry.to_be_bytes().iter().enumerate() {
            out[2 * i] = HEX[usize::from(b >> 4)];
            out[2 * i + 1] = HEX[usize::from(b & 15)];
        }
        let mac = self.mac(expiry, client);
        for (i, b) in mac[..10].iter().enumerate() {
            out[16 + 2 * i] = HEX[usize::from(b >> 4)];
            out[16 + 2 * i + 1] = HEX[usize::from(b & 15)];
        }
    }

    /// Checks a presented nonce at server time `now_secs`.
    pub fn check(&self, nonce: &str, client: SocketAddr, now_secs: u64) -> NonceCheck {
        let b = nonce.as_bytes();
        if b.len() != NONCE_LEN {
            return NonceCheck::Invalid;
        }
        let Some(expiry) = parse_hex_u64(&b[..16]) else {
            return NonceCheck::Invalid;
        };
        let mut expected = [0u8; NONCE_LEN];
        self.issue(expiry, client, &mut expected);
        if !bool::from(subtle::ConstantTimeEq::ct_eq(&expected[16..], &b[16..])) {
            return NonceCheck::Invalid;
        }
        if now_secs >= expiry {
            NonceCheck::Stale
        } else {
            NonceCheck::Valid
        }
    }
}

fn parse_hex_u64(b: &[u8]) -> Option<u64> {
    let mut v = 0u64;
    for &c in b {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => return None,
        };
        v = v << 4 | u64::from(d);
    }
    Some(v)
}

/// Standard base64 (RFC 4648 §4) with padding, of at most 24 bytes (a
/// SHA-1 HMAC is 20), into `out`; returns the length written.
pub fn base64_20(input: &[u8; 20], out: &mut [u8; 28]) -> usize {
    const ALPHA: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut o = 0;
    for chunk in input.chunks(3) {
        let b0 = chunk[0];
        let b1 = chunk.get(1).copied().unwrap_or(0);
        let b2 = chunk.get(2).copied().unwrap_or(0);
        let n = (u32::from(b0) << 16) | (u32::from(b1) << 8) | u32::from(b2);
        out[o] = ALPHA[(n >> 18) as usize & 63];
        out[o + 1] = ALPHA[(n >> 12) as usize & 63];
        out[o + 2] = if chunk.len() > 1 {
            ALPHA[(n >> 6) as usize & 63]
        } else {
            b'='
        };
        out[o + 3] = if chunk.len() > 2 {
            ALPHA[n as usize & 63]
        } else {
            b'='
        };
        o += 4;
    }
    o
}

/// The time-limited password for `username` under `secret`:
/// `base64(HMAC-SHA1(secret, username))` (draft-uberti-behave-turn-rest-00
/// §2.2). Services that hand out TURN credentials compute the same.
pub fn rest_password(secret: &[u8], username: &str) -> String {
    let mac = hmac_sha1(secret, &[username.as_bytes()]);
    let mut out = [0u8; 28];
    let n = base64_20(&mac, &mut out);
    // The base64 alphabet is ASCII.
    String::from_utf8_lossy(&out[..n]).into_owned()
}

/// Splits a time-limited username `EXPIRY:USER` into its expiry (Unix
/// seconds) and user part; `None` if it does not have that shape.
pub fn split_rest_username(username: &str) -> Option<(u64, &str)> {
    let (t, user) = username.split_once(':')?;
    if t.is_empty() || t.len() > 19 || !t.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some((t.parse().ok()?, user))
}

/// A fixed-size, per-source rate limiter: source IPs are hashed (with a
/// secret salt, so an attacker cannot aim at one bucket) into a fixed
/// array of counters that reset every second. Memory never grows with the
/// number of sources; unrelated sources may share a bucket.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    salt: u64,
    per_second: u16,
    window: u64,
    buckets: Box<[(u64, u16)]>,
}

/// Buckets in a [`RateLimiter`].
pub const RATE_BUCKETS: usize = 4096;

impl RateLimiter {
    /// A limiter allowing `per_second` answers per source bucket per second.
    pub fn new(salt: u64, per_second: u16) -> Self {
        Self {
            salt,
            per_second,
            window: 0,
            buckets: vec![(0, 0); RATE_BUCKETS].into_boxed_slice(),
        }
    }

    /// Whether one more answer to `ip` is allowed at second `now_secs`;
    /// counts it if so.
    pub fn allow(&mut self, ip: std::net::IpAddr, now_secs: u64) -> bool {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.salt.hash(&mut h);
        crate::addr::canonical(ip).hash(&mut h);
        let i = (h.finish() % RATE_BUCKETS as u64) as usize;
        self.window = now_secs;
        let b = &mut self.buckets[i];
        if b.0 != now_secs {
            *b = (now_secs, 0);
        }
        if b.1 >= self.per_second {
            return false;
        }
        b.1 += 1;
        true
    }

    /// Bytes of state the limiter holds (constant).
    pub fn footprint(&self) -> usize {
        self.buckets.len() * core::mem::size_of::<(u64, u16)>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4648_10_base64_vectors_via_padding_rules() {
        // A 20-byte input encodes to 28 characters with one '='.
        let mut out = [0u8; 28];
        let n = base64_20(&[0u8; 20], &mut out);
        assert_eq!(&out[..n], b"AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
        let n = base64_20(&[0xFF; 20], &mut out);
        assert_eq!(&out[..n], b"//////////////////////////8=");
    }

    #[test]
    fn rest_password_matches_openssl() {
        // printf '1700000000:alice' | openssl dgst -sha1 -hmac 'north' -binary | base64
        let p = rest_password(b"north", "1700000000:alice");
        assert_eq!(p, "Cd/49soE35ICqcJF/bCTn8Z4OyE=");
    }

    #[test]
    fn rest_usernames_split() {
        assert_eq!(
            split_rest_username("1700000000:alice"),
            Some((1_700_000_000, "alice"))
        );
        assert_eq!(
            split_rest_username("1700000000:a:b"),
            Some((1_700_000_000, "a:b"))
        );
        assert_eq!(split_rest_username("alice"), None);
        assert_eq!(split_rest_username(":alice"), None);
        assert_eq!(split_rest_username("17x:alice"), None);
        assert_eq!(split_rest_username("99999999999999999999:a"), None);
    }

    #[test]
    fn nonces_are_bound_to_source_and_expire() {
        let n = NonceIssuer::new([9; 20]);
        let a: SocketAddr = "192.0.2.1:1000".parse().unwrap();
        let b: SocketAddr = "192.0.2.1:1001".parse().unwrap();
        let mut out = [0u8; NONCE_LEN];
        n.issue(100, a, &mut out);
        let s = core::str::from_utf8(&out).unwrap();
        assert_eq!(n.check(s, a, 99), NonceCheck::Valid);
        assert_eq!(n.check(s, a, 100), NonceCheck::Stale);
        assert_eq!(n.check(s, b, 99), NonceCheck::Invalid);
        let other = NonceIssuer::new([8; 20]);
        assert_eq!(other.check(s, a, 99), NonceCheck::Invalid);
        assert_eq!(n.check("short", a, 0), NonceCheck::Invalid);
        let mut forged = out;
        forged[15] = b'f'; // later expiry, same MAC
        assert_eq!(
            n.check(core::str::from_utf8(&forged).unwrap(), a, 99),
            NonceCheck::Invalid
        );
    }

    #[test]
    fn rate_limiter_is_fixed_size_and_resets() {
        let mut r = RateLimiter::new(1, 3);
        let ip: std::net::IpAddr = "198.51.100.1".parse().unwrap();
        let size = r.footprint();
        assert!((0..3).all(|_| r.allow(ip, 5)));
        assert!(!r.allow(ip, 5));
        assert!(r.allow(ip, 6));
        for i in 0..10_000u32 {
            r.allow(std::net::IpAddr::from(i.to_be_bytes()), 7);
        }
        assert_eq!(r.footprint(), size);
    }
}
