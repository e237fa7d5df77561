//! Fuzz target bodies (the files under `fuzz/fuzz_targets/` call these).

use crate::{Context, MasterKey, Profile};

fn context(selector: u8) -> Context {
    let profile = Profile::ALL[usize::from(selector) % Profile::ALL.len()];
    let key = [0x11u8; 32];
    let salt = [0x22u8; 14];
    let mk = match MasterKey::new(
        profile,
        &key[..profile.master_key_len()],
        &salt[..profile.master_salt_len()],
    ) {
        Ok(k) => k,
        Err(e) => panic!("fixed fuzz key rejected: {e}"),
    };
    match Context::new(&mk) {
        Ok(c) => c,
        Err(e) => panic!("fixed fuzz context rejected: {e}"),
    }
}

type Protect = fn(&mut Context, &mut [u8], usize) -> Result<usize, crate::Error>;
type Unprotect = fn(&mut Context, &mut [u8]) -> Result<usize, crate::Error>;

/// Arbitrary bytes into `unprotect` of a keyed context: the first byte
/// picks the profile, the rest is the packet. A second copy is then
/// protected and unprotected to check the round trip on whatever parses.
fn unprotect_then_round_trip(data: &[u8], protect: Protect, unprotect: Unprotect) {
    let Some((&sel, pkt)) = data.split_first() else {
        return;
    };
    let mut rx = context(sel);
    let mut buf = [0u8; 2048];
    let n = pkt.len().min(buf.len() - 64);
    buf[..n].copy_from_slice(&pkt[..n]);
    if let Ok(m) = unprotect(&mut rx, &mut buf[..n]) {
        assert!(m <= n);
    }
    // Round trip: if it is a valid packet, protect then unprotect.
    let mut tx = context(sel);
    let mut rx = context(sel);
    buf[..n].copy_from_slice(&pkt[..n]);
    if let Ok(p) = protect(&mut tx, &mut buf, n) {
        let m = unprotect(&mut rx, &mut buf[..p]);
        assert_eq!(m, Ok(n));
        assert_eq!(&buf[..n], &pkt[..n]);
    }
}

/// Arbitrary bytes into `unprotect_rtp` of a keyed context, then a
/// protect/unprotect round trip.
pub fn srtp_unprotect(data: &[u8]) {
    unprotect_then_round_trip(data, Context::protect_rtp, Context::unprotect_rtp);
}

/// Arbitrary bytes into `unprotect_rtcp` of a keyed context, then a
/// protect/unprotect round trip.
pub fn srtcp_unprotect(data: &[u8]) {
    unprotect_then_round_trip(data, Context::protect_rtcp, Context::unprotect_rtcp);
}

#[cfg(all(test, feature = "fuzzing"))]
mod tests {
    use tern_testkit::fuzz_seeds as seeds;

    #[test]
    fn srtp_unprotect_runs_over_the_seeds_and_their_truncations() {
        for s in seeds("srtp_unprotect") {
            for n in 0..=s.len() {
                super::srtp_unprotect(&s[..n]);
            }
        }
    }

    #[test]
    fn srtcp_unprotect_runs_over_the_seeds_and_their_truncations() {
        for s in seeds("srtcp_unprotect") {
            for n in 0..=s.len() {
                super::srtcp_unprotect(&s[..n]);
            }
        }
    }

    #[test]
    fn protected_seeds_decrypt_with_the_fuzz_keys() {
        for s in seeds("srtp_unprotect").iter().filter(|s| s.len() > 28) {
            let mut rx = super::context(s[0]);
            let mut b = s[1..].to_vec();
            let _ = rx.unprotect_rtp(&mut b);
        }
        // At least the generated "protected" seeds authenticate.
        let ok = seeds("srtp_unprotect")
            .iter()
            .filter(|s| {
                let mut b = s[1..].to_vec();
                super::context(s[0]).unprotect_rtp(&mut b).is_ok()
            })
            .count();
        assert!(ok >= 8, "{ok} seeds authenticate");
    }
}
