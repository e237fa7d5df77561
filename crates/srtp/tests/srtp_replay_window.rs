//! The replay and ROC suite, after libsrtp's own (test/replay_driver.c,
//! test/roc_driver.c, test/rdbx_driver.c): sequential, reordered inside
//! the window, replayed, too old, the 65535 → 0 wrap under loss and
//! reordering, the first 513 packets lost, SRTCP index exhaustion. Every
//! profile runs every case.

mod common;
use common::{pair, protected, rtcp, Rng};
use tern_srtp::{Error, Profile, Ssrc, MAX_SRTCP_INDEX};

const SSRC: u32 = 0x1234_5678;

fn each_profile(f: impl Fn(Profile)) {
    for p in Profile::ALL {
        f(p);
    }
}

fn unprotect(rx: &mut tern_srtp::Context, pkt: &[u8]) -> Result<usize, Error> {
    let mut b = pkt.to_vec();
    rx.unprotect_rtp(&mut b)
}

#[test]
fn sequential_packets_all_decrypt() {
    each_profile(|p| {
        let (mut tx, mut rx) = pair(p);
        for seq in 0..1000u16 {
            let pkt = protected(&mut tx, SSRC, seq, 100);
            assert_eq!(unprotect(&mut rx, &pkt), Ok(112), "{p:?} seq {seq}");
        }
    });
}

#[test]
fn reordered_inside_window_decrypts_once() {
    each_profile(|p| {
        let (mut tx, mut rx) = pair(p);
        let pkts: Vec<_> = (0..300u16)
            .map(|s| protected(&mut tx, SSRC, s, 20))
            .collect();
        // Deliver in blocks of 100, each block reversed: every late packet
        // is at most 99 behind the highest.
        for block in pkts.chunks(100) {
            for pkt in block.iter().rev() {
                assert_eq!(unprotect(&mut rx, pkt), Ok(32), "{p:?}");
            }
        }
        // Everything inside the window is now a replay.
        for pkt in &pkts[300 - 127..] {
            assert_eq!(unprotect(&mut rx, pkt), Err(Error::Replayed), "{p:?}");
        }
    });
}

#[test]
fn replayed_packet_is_rejected() {
    each_profile(|p| {
        let (mut tx, mut rx) = pair(p);
        let pkt = protected(&mut tx, SSRC, 7, 50);
        assert!(unprotect(&mut rx, &pkt).is_ok());
        assert_eq!(unprotect(&mut rx, &pkt), Err(Error::Replayed));
    });
}

#[test]
fn too_old_packet_is_rejected_and_window_edge_accepted() {
    each_profile(|p| {
        let (mut tx, mut rx) = pair(p);
        let pkts: Vec<_> = (0..200u16)
            .map(|s| protected(&mut tx, SSRC, s, 10))
            .collect();
        assert!(unprotect(&mut rx, &pkts[199]).is_ok());
        // 199 - 127 = 72 is the oldest index still inside a 128 window.
        assert!(unprotect(&mut rx, &pkts[72]).is_ok(), "{p:?}");
        assert_eq!(unprotect(&mut rx, &pkts[71]), Err(Error::TooOld), "{p:?}");
        assert_eq!(unprotect(&mut rx, &pkts[0]), Err(Error::TooOld), "{p:?}");
    });
}

#[test]
fn sequence_wrap_with_loss_and_reordering_decrypts() {
    each_profile(|p| {
        let (mut tx, mut rx) = pair(p);
        // Sender runs from 65000 through the wrap to 600 of ROC 1.
        let seqs: Vec<u16> = (65000u32..65536 + 600).map(|s| s as u16).collect();
        let pkts: Vec<_> = seqs
            .iter()
            .map(|&s| protected(&mut tx, SSRC, s, 40))
            .collect();
        assert_eq!(tx.tx_roc(Ssrc(SSRC)), Some(1));
        let mut rng = Rng(0x5eed ^ p.dtls_id() as u64);
        // 20% loss, and a shuffle within windows of 32 packets (a packet is
        // delayed by at most 31 places), across the wrap.
        let mut order: Vec<usize> = (0..pkts.len()).filter(|_| rng.below(5) != 0).collect();
        for chunk in order.chunks_mut(32) {
            for i in (1..chunk.len()).rev() {
                let j = rng.below(i as u64 + 1) as usize;
                chunk.swap(i, j);
            }
        }
        for &i in &order {
            assert_eq!(
                unprotect(&mut rx, &pkts[i]),
                Ok(52),
                "{p:?} seq {}",
                seqs[i]
            );
        }
        let highest = rx.rx_index(Ssrc(SSRC)).unwrap();
        assert_eq!(highest >> 16, 1, "ROC advanced past the wrap");
    });
}

#[test]
fn late_packet_from_before_the_wrap_uses_previous_roc() {
    each_profile(|p| {
        let (mut tx, mut rx) = pair(p);
        let before = protected(&mut tx, SSRC, 65534, 10);
        let mut after = Vec::new();
        for s in [65535u16, 0, 1, 2] {
            after.push(protected(&mut tx, SSRC, s, 10));
        }
        for pkt in &after {
            assert!(unprotect(&mut rx, pkt).is_ok());
        }
        // 65534 arrives after seq 2 of ROC 1: estimated as ROC 0.
        assert_eq!(unprotect(&mut rx, &before), Ok(22), "{p:?}");
        assert_eq!(rx.rx_index(Ssrc(SSRC)), Some((1 << 16) | 2));
    });
}

#[test]
fn first_513_packets_lost_still_decrypts() {
    each_profile(|p| {
        let (mut tx, mut rx) = pair(p);
        let pkts: Vec<_> = (0..1000u16)
            .map(|s| protected(&mut tx, SSRC, s, 30))
            .collect();
        for pkt in &pkts[513..] {
            assert_eq!(unprotect(&mut rx, pkt), Ok(42), "{p:?}");
        }
    });
}

#[test]
fn first_513_lost_across_a_wrap_needs_the_signalled_roc() {
    // The stream starts at 65400 and the first 513 packets (up to seq 377
    // of ROC 1) are lost. With no history the receiver guesses ROC 0 (as
    // libsrtp does) and the tag fails; RFC 3711 §3.3.1 leaves this case to
    // signalling. Once told the ROC, the receiver decrypts the rest.
    each_profile(|p| {
        let (mut tx, mut rx) = pair(p);
        let pkts: Vec<_> = (0..1000u32)
            .map(|i| protected(&mut tx, SSRC, (65400 + i) as u16, 30))
            .collect();
        assert_eq!(
            unprotect(&mut rx, &pkts[513]),
            Err(Error::AuthFailed),
            "{p:?}"
        );
        assert_eq!(rx.stream_count(), 0, "a failed packet creates no state");
        rx.set_rx_roc(Ssrc(SSRC), 1, 0).unwrap();
        for pkt in &pkts[513..] {
            assert_eq!(unprotect(&mut rx, pkt), Ok(42), "{p:?}");
        }
    });
}

#[test]
fn forged_packets_do_not_move_the_window() {
    each_profile(|p| {
        let (mut tx, mut rx) = pair(p);
        let good = protected(&mut tx, SSRC, 10, 30);
        assert!(unprotect(&mut rx, &good).is_ok());
        // A forged packet far ahead (seq 30000) with a bad tag.
        let mut forged = protected(&mut tx, SSRC, 30000, 30);
        let last = forged.len() - 1;
        forged[last] ^= 1;
        assert_eq!(unprotect(&mut rx, &forged), Err(Error::AuthFailed));
        assert_eq!(rx.rx_index(Ssrc(SSRC)), Some(10));
        let next = protected(&mut tx, SSRC, 11, 30);
        assert!(unprotect(&mut rx, &next).is_ok());
    });
}

#[test]
fn srtcp_replay_and_reorder() {
    each_profile(|p| {
        let (mut tx, mut rx) = pair(p);
        let mut pkts = Vec::new();
        for _ in 0..200 {
            let mut b = vec![0u8; 64];
            let n = rtcp(&mut b, SSRC, 24);
            let m = tx.protect_rtcp(&mut b, n).unwrap();
            b.truncate(m);
            pkts.push(b);
        }
        // The E bit is set and the index counts from 0.
        let e = if p.is_aead() {
            pkts[5].len() - 4
        } else {
            pkts[5].len() - 14
        };
        assert_eq!(&pkts[5][e..e + 4], &[0x80, 0, 0, 5]);
        for pkt in pkts[..150].iter().rev() {
            let mut b = pkt.clone();
            // Reversed: 149 then 148...; the ones older than 149-127 are too old.
            let _ = rx.unprotect_rtcp(&mut b);
        }
        let mut b = pkts[149].clone();
        assert_eq!(rx.unprotect_rtcp(&mut b), Err(Error::Replayed));
        let mut b = pkts[10].clone();
        assert_eq!(rx.unprotect_rtcp(&mut b), Err(Error::TooOld));
        let mut b = pkts[199].clone();
        assert_eq!(rx.unprotect_rtcp(&mut b), Ok(32));
    });
}

#[test]
fn srtcp_index_exhaustion() {
    each_profile(|p| {
        let (mut tx, mut rx) = pair(p);
        tx.set_srtcp_index(Ssrc(SSRC), MAX_SRTCP_INDEX - 1).unwrap();
        for expect in [MAX_SRTCP_INDEX - 1, MAX_SRTCP_INDEX] {
            let mut b = vec![0u8; 64];
            let n = rtcp(&mut b, SSRC, 8);
            let m = tx.protect_rtcp(&mut b, n).unwrap();
            let e = if p.is_aead() { m - 4 } else { m - 14 };
            assert_eq!(
                u32::from_be_bytes(b[e..e + 4].try_into().unwrap()),
                0x8000_0000 | expect
            );
            assert_eq!(rx.unprotect_rtcp(&mut b[..m]), Ok(n));
        }
        let mut b = vec![0u8; 64];
        let n = rtcp(&mut b, SSRC, 8);
        assert_eq!(
            tx.protect_rtcp(&mut b, n),
            Err(Error::IndexExhausted),
            "{p:?}"
        );
        // Still exhausted: no wrap back to index 0 under the same key.
        assert_eq!(tx.protect_rtcp(&mut b, n), Err(Error::IndexExhausted));
    });
}

#[test]
fn srtp_index_exhaustion() {
    each_profile(|p| {
        let (mut tx, _) = pair(p);
        tx.set_tx_roc(Ssrc(SSRC), u32::MAX, 65530).unwrap();
        let mut b = vec![0u8; 64];
        let n = common::rtp(&mut b, SSRC, 65535, 8);
        assert!(tx.protect_rtp(&mut b, n).is_ok());
        let n = common::rtp(&mut b, SSRC, 0, 8);
        assert_eq!(tx.protect_rtp(&mut b, n), Err(Error::IndexExhausted));
    });
}

/// The sender keeps the SSRC it sent on last out of its table (see
/// `Context::tx_last`): each stream's rollover counter must survive runs
/// on other SSRCs, a wrap inside a run, `set_tx_roc` and `remove_ssrc`.
#[test]
fn interleaved_streams_keep_their_own_rollover_counters() {
    const OTHER: u32 = 0x0BAD_F00D;
    each_profile(|p| {
        let (mut tx, mut rx) = pair(p);
        // Runs of 7 packets alternating between the SSRCs; SSRC wraps
        // inside a run, OTHER does not wrap at all. After every run both
        // streams report the rollover counter of what they sent last.
        let mut next = [65500u64, 100u64];
        let ssrcs = [SSRC, OTHER];
        for run in 0..40 {
            let i = run % 2;
            for _ in 0..7 {
                let pkt = protected(&mut tx, ssrcs[i], next[i] as u16, 30);
                assert_eq!(unprotect(&mut rx, &pkt), Ok(42), "{p:?} run {run}");
                next[i] += 1;
            }
            for k in 0..=run.min(1) {
                let roc = ((next[k] - 1) >> 16) as u32;
                assert_eq!(tx.tx_roc(Ssrc(ssrcs[k])), Some(roc), "{p:?} run {run}");
            }
        }
        let seq = next.map(|n| n as u16);
        // A signalled ROC for the stream sent on last takes effect.
        tx.set_tx_roc(Ssrc(OTHER), 5, 200).unwrap();
        assert_eq!(tx.tx_roc(Ssrc(OTHER)), Some(5));
        let pkt = protected(&mut tx, OTHER, 201, 30);
        rx.set_rx_roc(Ssrc(OTHER), 5, 200).unwrap();
        assert_eq!(unprotect(&mut rx, &pkt), Ok(42), "{p:?}: sent with ROC 5");
        // And the other stream picks up where it was.
        let pkt = protected(&mut tx, SSRC, seq[0], 30);
        assert_eq!(unprotect(&mut rx, &pkt), Ok(42), "{p:?}");
        // Forgetting the last stream forgets its index too.
        tx.remove_ssrc(Ssrc(OTHER));
        assert_eq!(tx.tx_roc(Ssrc(OTHER)), None);
        assert_eq!(tx.tx_roc(Ssrc(SSRC)), Some(1));
    });
}
