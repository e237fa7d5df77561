//! Differential test against libsrtp 2 (the system libsrtp2, through the
//! tiny FFI in crates/libsrtp-ffi): for random keys, SSRCs, sequence
//! numbers (including wraps) and payloads, Tern and libsrtp produce
//! identical SRTP and SRTCP bytes, and each unprotects the other's.

mod common;
use common::{random_key, rtcp, rtp, Rng};
use tern_libsrtp_ffi::{Direction, Session, Suite, MAX_TRAILER_LEN};
use tern_srtp::{Context, Profile, Ssrc};

fn suite(p: Profile) -> Suite {
    match p {
        Profile::AesCm128HmacSha1_80 => Suite::AesCm128HmacSha1_80,
        Profile::AesCm128HmacSha1_32 => Suite::AesCm128HmacSha1_32,
        Profile::AeadAes128Gcm => Suite::AeadAes128Gcm,
        Profile::AeadAes256Gcm => Suite::AeadAes256Gcm,
    }
}

fn run(p: Profile, seed: u64) {
    let mut rng = Rng(seed);
    let (mk, raw) = random_key(p, &mut rng);
    let mut tern_tx = Context::new(&mk).unwrap();
    let mut tern_rx = Context::new(&mk).unwrap();
    let mut lib_tx = Session::new(suite(p), Direction::Outbound, &raw).unwrap();
    let mut lib_rx = Session::new(suite(p), Direction::Inbound, &raw).unwrap();
    let ssrcs: Vec<u32> = (0..3).map(|_| rng.next_u64() as u32).collect();
    // Start near the wrap for some streams so every run crosses 65535 → 0.
    let mut seqs: Vec<u16> = ssrcs
        .iter()
        .map(|_| 65300 + rng.below(100) as u16)
        .collect();
    for (i, &s) in ssrcs.iter().enumerate() {
        // libsrtp numbers SRTCP from 1; Tern from 0 (RFC 3711 §3.4).
        tern_tx.set_srtcp_index(Ssrc(s), 1).unwrap();
        let _ = i;
    }
    for round in 0..600 {
        let k = rng.below(ssrcs.len() as u64) as usize;
        let ssrc = ssrcs[k];
        // Mostly +1, sometimes a jump forward (loss at the sender side is
        // invisible; a jump is what a receiver sees as loss).
        seqs[k] = seqs[k].wrapping_add(1 + (rng.below(10) / 9) as u16 * rng.below(50) as u16);
        let seq = seqs[k];
        let payload = rng.below(1200) as usize;
        let mut a = vec![0u8; 12 + payload + MAX_TRAILER_LEN];
        let n = rtp(&mut a, ssrc, seq, payload);
        rng.fill(&mut a[12..n]);
        let plain = a[..n].to_vec();
        let mut b = a.clone();
        let tn = tern_tx.protect_rtp(&mut a, n).unwrap();
        let ln = lib_tx.protect(&mut b, n).unwrap();
        assert_eq!(
            &a[..tn],
            &b[..ln],
            "{p:?} seed {seed} round {round}: SRTP bytes differ"
        );
        // Cross unprotect.
        let mut x = a[..tn].to_vec();
        let m = lib_rx.unprotect(&mut x).unwrap();
        assert_eq!(&x[..m], &plain[..]);
        let mut y = b[..ln].to_vec();
        let m = tern_rx.unprotect_rtp(&mut y).unwrap();
        assert_eq!(&y[..m], &plain[..]);

        if round % 5 == 0 {
            let body = 4 * rng.below(60) as usize;
            let mut a = vec![0u8; 8 + body + MAX_TRAILER_LEN];
            let n = rtcp(&mut a, ssrc, body);
            rng.fill(&mut a[8..n]);
            let plain = a[..n].to_vec();
            let mut b = a.clone();
            let tn = tern_tx.protect_rtcp(&mut a, n).unwrap();
            let ln = lib_tx.protect_rtcp(&mut b, n).unwrap();
            assert_eq!(
                &a[..tn],
                &b[..ln],
                "{p:?} seed {seed} round {round}: SRTCP bytes differ"
            );
            let mut x = a[..tn].to_vec();
            let m = lib_rx.unprotect_rtcp(&mut x).unwrap();
            assert_eq!(&x[..m], &plain[..]);
            let mut y = b[..ln].to_vec();
            let m = tern_rx.unprotect_rtcp(&mut y).unwrap();
            assert_eq!(&y[..m], &plain[..]);
        }
    }
    for &s in &ssrcs {
        assert!(
            tern_tx.tx_roc(Ssrc(s)).unwrap() >= 1,
            "every stream wrapped: {:?}",
            (s, tern_tx.tx_roc(Ssrc(s)), &seqs)
        );
    }
}

#[test]
fn libsrtp_differential_aes_cm_128_hmac_sha1_80() {
    for seed in 1..=4 {
        run(Profile::AesCm128HmacSha1_80, seed);
    }
}

#[test]
fn libsrtp_differential_aes_cm_128_hmac_sha1_32() {
    for seed in 11..=14 {
        run(Profile::AesCm128HmacSha1_32, seed);
    }
}

#[test]
fn libsrtp_differential_aead_aes_128_gcm() {
    for seed in 21..=24 {
        run(Profile::AeadAes128Gcm, seed);
    }
}

#[test]
fn libsrtp_differential_aead_aes_256_gcm() {
    for seed in 31..=34 {
        run(Profile::AeadAes256Gcm, seed);
    }
}

#[test]
fn libsrtp_rejects_what_tern_rejects() {
    // A tampered Tern packet fails in both.
    for p in Profile::ALL {
        let mut rng = Rng(99);
        let (mk, raw) = random_key(p, &mut rng);
        let mut tx = Context::new(&mk).unwrap();
        let mut a = vec![0u8; 200];
        let n = rtp(&mut a, 5, 5, 100);
        let m = tx.protect_rtp(&mut a, n).unwrap();
        a[20] ^= 4;
        let mut lib_rx = Session::new(suite(p), Direction::Inbound, &raw).unwrap();
        let mut tern_rx = Context::new(&mk).unwrap();
        assert!(lib_rx.unprotect(&mut a[..m].to_vec()).is_err());
        assert!(tern_rx.unprotect_rtp(&mut a[..m]).is_err());
    }
}
