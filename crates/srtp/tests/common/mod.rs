//! Helpers shared by the integration tests.
#![allow(dead_code)]

use tern_srtp::{Config, Context, MasterKey, Profile};

/// Hex (whitespace ignored) to bytes.
pub fn hex(s: &str) -> Vec<u8> {
    let clean: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    assert!(clean.len() % 2 == 0, "odd hex length");
    clean
        .chunks(2)
        .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 16).unwrap())
        .collect()
}

/// A small deterministic PRNG (xorshift64*), so the randomised tests are
/// reproducible from their seed.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    pub fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            *b = self.next_u64() as u8;
        }
    }
}

/// A master key for `profile` filled from `rng`.
pub fn random_key(profile: Profile, rng: &mut Rng) -> (MasterKey, Vec<u8>) {
    let mut key = vec![0u8; profile.master_key_len()];
    let mut salt = vec![0u8; profile.master_salt_len()];
    rng.fill(&mut key);
    rng.fill(&mut salt);
    let mut both = key.clone();
    both.extend_from_slice(&salt);
    (MasterKey::new(profile, &key, &salt).unwrap(), both)
}

/// A fixed key pair of contexts (sender, receiver) for `profile`.
pub fn pair(profile: Profile) -> (Context, Context) {
    let key = [0x42u8; 32];
    let salt = [0x24u8; 14];
    let mk = MasterKey::new(
        profile,
        &key[..profile.master_key_len()],
        &salt[..profile.master_salt_len()],
    )
    .unwrap();
    (
        Context::new(&mk).unwrap(),
        Context::with_config(&mk, Config::default()).unwrap(),
    )
}

/// Write an RTP packet (12-byte header, `payload_len` bytes of payload)
/// into `buf`; returns its length.
pub fn rtp(buf: &mut [u8], ssrc: u32, seq: u16, payload_len: usize) -> usize {
    buf[0] = 0x80;
    buf[1] = 96;
    buf[2..4].copy_from_slice(&seq.to_be_bytes());
    buf[4..8].copy_from_slice(&(u32::from(seq) * 960).to_be_bytes());
    buf[8..12].copy_from_slice(&ssrc.to_be_bytes());
    for (i, b) in buf[12..12 + payload_len].iter_mut().enumerate() {
        *b = (i as u8) ^ (seq as u8);
    }
    12 + payload_len
}

/// Write an RTCP receiver report-ish packet (8-byte header + `body` bytes,
/// `body` a multiple of 4) into `buf`; returns its length.
pub fn rtcp(buf: &mut [u8], ssrc: u32, body: usize) -> usize {
    let len = 8 + body;
    buf[0] = 0x80;
    buf[1] = 201;
    buf[2..4].copy_from_slice(&((len / 4 - 1) as u16).to_be_bytes());
    buf[4..8].copy_from_slice(&ssrc.to_be_bytes());
    for (i, b) in buf[8..len].iter_mut().enumerate() {
        *b = i as u8;
    }
    len
}

/// Protect an RTP packet with `seq` from `tx`, returning the SRTP bytes.
pub fn protected(tx: &mut Context, ssrc: u32, seq: u16, payload_len: usize) -> Vec<u8> {
    let mut buf = vec![0u8; 12 + payload_len + 16];
    let n = rtp(&mut buf, ssrc, seq, payload_len);
    let m = tx.protect_rtp(&mut buf, n).unwrap();
    buf.truncate(m);
    buf
}
