//! Fuzz target bodies (`fuzz/fuzz_targets/sfu_input.rs` calls these).

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tern_dtls::Certificate;
use tern_rtp::RtpPacket;
use tern_sdp::codec::NegotiatedExtension;
use tern_sdp::{AcceptedMedia, Direction, MediaKind, NegotiatedCodec, SubscriberTrack};
use tern_signal::{PublishedTrack, SubscribedTrack};
use tern_srtp::{Context, MasterKey, Profile};

use crate::{Dir, Sfu, SfuConfig};

fn cert() -> &'static Certificate {
    static CERT: OnceLock<Certificate> = OnceLock::new();
    CERT.get_or_init(|| match Certificate::generate() {
        Ok(c) => c,
        Err(_) => panic!("certificate generation failed"),
    })
}

/// Alice's announced video SSRC and its RTX SSRC.
pub const ALICE_SSRC: u32 = 0x1111;
/// Bob publishes with rids only (SSRCs learned from the rid extension).
pub const BOB_RIDS: [&str; 2] = ["h", "l"];
/// The SFU's media address.
pub const SFU_ADDR: ([u8; 4], u16) = ([10, 0, 0, 1], 3478);
/// Client tuples: alice pub, alice sub, bob pub, bob sub.
pub const CLIENTS: [([u8; 4], u16); 4] = [
    ([10, 0, 1, 1], 5000),
    ([10, 0, 1, 1], 5002),
    ([10, 0, 1, 2], 5000),
    ([10, 0, 1, 2], 5002),
];

fn key(i: u8) -> MasterKey {
    match MasterKey::new(Profile::AeadAes128Gcm, &[i; 16], &[i ^ 0x5a; 12]) {
        Ok(k) => k,
        Err(_) => panic!("key"),
    }
}

fn ctx(i: u8) -> Context {
    match Context::new(&key(i)) {
        Ok(c) => c,
        Err(_) => panic!("context"),
    }
}

fn exts() -> Vec<NegotiatedExtension> {
    [
        (1, "urn:ietf:params:rtp-hdrext:sdes:mid"),
        (2, "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"),
        (3, "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"),
        (
            4,
            "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
        ),
        (
            5,
            "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
        ),
    ]
    .into_iter()
    .map(|(id, uri)| NegotiatedExtension {
        id,
        uri: uri.to_owned(),
    })
    .collect()
}

fn vp8(pt: u8, rtx: u8) -> NegotiatedCodec {
    NegotiatedCodec {
        pt,
        name: "VP8".into(),
        clock_rate: 90_000,
        channels: None,
        fmtp: String::new(),
        rtx_pt: Some(rtx),
        rtcp_fb: vec!["nack".into(), "nack pli".into()],
    }
}

/// An SFU with two live participants, `alice` (video with announced SSRC
/// and RTX) and `bob` (video with rids only), each subscribed to the
/// other, SRTP keys installed directly. Returns the SFU and the client
/// side contexts `[alice pub tx, alice sub tx, bob pub tx, bob sub tx]`.
pub fn two_live_participants(now: Instant) -> (Sfu, [Context; 4]) {
    let sfu_addr = SocketAddr::from(SFU_ADDR);
    let mut sfu = Sfu::new(SfuConfig::new(sfu_addr, cert().clone(), 7), now);
    for (name, i) in [("alice", 0u8), ("bob", 1u8)] {
        let _ = sfu.add_participant(name, "room");
        let mid = "0".to_owned();
        let media = AcceptedMedia {
            index: 0,
            mid: mid.clone(),
            kind: MediaKind::Video,
            offered_direction: Direction::SendOnly,
            direction: Direction::RecvOnly,
            codecs: vec![vp8(96, 97)],
            extensions: exts(),
            msid: None,
            ssrcs: if i == 0 { vec![ALICE_SSRC] } else { vec![] },
            rtx_ssrcs: if i == 0 {
                vec![(ALICE_SSRC, ALICE_SSRC + 1)]
            } else {
                vec![]
            },
            rids: if i == 0 {
                vec![]
            } else {
                BOB_RIDS.iter().map(|r| (*r).to_owned()).collect()
            },
            cname: None,
        };
        let track = PublishedTrack {
            track_id: format!("{name}-t0"),
            mid,
            kind: MediaKind::Video,
            forward_ssrc: 0xF000 + u32::from(i) * 2,
            forward_rtx_ssrc: Some(0xF001 + u32::from(i) * 2),
        };
        let _ = sfu.set_published(name, &[media], &[track]);
    }
    for (name, other, i) in [("alice", "bob", 1u32), ("bob", "alice", 0u32)] {
        let t = SubscribedTrack {
            publisher: other.to_owned(),
            publisher_mid: "0".into(),
            track: SubscriberTrack {
                mid: "0".into(),
                kind: MediaKind::Video,
                track_id: format!("{other}-t0"),
                stream_id: other.to_owned(),
                ssrc: 0xF000 + i * 2,
                rtx_ssrc: Some(0xF001 + i * 2),
                codecs: vec![vp8(100, 101)],
                extensions: exts()
                    .into_iter()
                    .map(|mut e| {
                        e.id += 7;
                        e
                    })
                    .collect(),
            },
        };
        let _ = sfu.set_subscribed(name, &[t]);
    }
    for (k, (name, dir)) in [
        ("alice", Dir::Publish),
        ("alice", Dir::Subscribe),
        ("bob", Dir::Publish),
        ("bob", Dir::Subscribe),
    ]
    .into_iter()
    .enumerate()
    {
        let k8 = k as u8;
        sfu.fuzz_connect(
            name,
            dir,
            SocketAddr::from(CLIENTS[k]),
            ctx(2 * k8 + 1),
            ctx(2 * k8 + 2),
        );
    }
    (sfu, [ctx(1), ctx(3), ctx(5), ctx(7)])
}

/// Bound on [`Sfu::state_size`] for two participants with one track each,
/// whatever arrives.
pub const STATE_BOUND: usize = 64;

/// Arbitrary datagrams from arbitrary tuples into an SFU core with two
/// live participants. The input is a sequence of records `op ‖ sel ‖ len
/// (u16 BE) ‖ bytes`:
///
/// - op 0: `bytes` as a raw datagram from tuple `sel` (0–3 the clients'
///   tuples, otherwise an address made from `sel`);
/// - op 1: `bytes` as plaintext RTP, SRTP-protected by client `sel % 4`
///   (its SSRC replaced per `sel / 4 % 4`: kept, Alice's, Alice's RTX,
///   one of Bob's forwarded SSRCs) and sent from that client's tuple;
/// - op 2: `bytes` as plaintext RTCP, SRTCP-protected by client `sel % 4`;
/// - op 3: the clock moves `sel * 10 ms` and timers run.
///
/// After every record the output is drained. Checks: no panic, every
/// datagram out fits the buffer and goes from the SFU's address, queues
/// and per-participant state stay bounded.
pub fn sfu_input(data: &[u8]) {
    let start = Instant::now();
    let mut now = start;
    let (mut sfu, mut clients) = two_live_participants(now);
    let sfu_addr = SocketAddr::from(SFU_ADDR);
    let mut rest = data;
    let mut buf = [0u8; 1500];
    let mut out = [0u8; 1500];
    while rest.len() >= 4 {
        let (op, sel) = (rest[0] % 4, rest[1]);
        let len = usize::from(u16::from_be_bytes([rest[2], rest[3]])).min(rest.len() - 4);
        let bytes = &rest[4..4 + len];
        rest = &rest[4 + len..];
        let body = &bytes[..bytes.len().min(1400)];
        match op {
            0 => {
                let from = match sel {
                    0..=3 => SocketAddr::from(CLIENTS[usize::from(sel)]),
                    s => SocketAddr::from(([10, 0, s & 3, s >> 2], 5000 + u16::from(s & 1) * 2)),
                };
                buf[..body.len()].copy_from_slice(body);
                sfu.handle_receive(now, from, sfu_addr, &mut buf[..body.len()]);
            }
            1 | 2 => {
                let c = usize::from(sel % 4);
                let n = body.len();
                buf[..n].copy_from_slice(body);
                let protected = if op == 1 {
                    if RtpPacket::new_checked(&buf[..n]).is_err() {
                        continue;
                    }
                    let ssrc: Option<u32> = match (sel / 4) % 4 {
                        0 => None,
                        1 => Some(ALICE_SSRC),
                        2 => Some(ALICE_SSRC + 1),
                        _ => Some(0xF000),
                    };
                    if let Some(s) = ssrc {
                        buf[8..12].copy_from_slice(&s.to_be_bytes());
                    }
                    clients[c].protect_rtp(&mut buf, n)
                } else {
                    clients[c].protect_rtcp(&mut buf, n)
                };
                let Ok(m) = protected else { continue };
                sfu.handle_receive(now, SocketAddr::from(CLIENTS[c]), sfu_addr, &mut buf[..m]);
            }
            _ => {
                now += Duration::from_millis(10 * u64::from(sel));
                sfu.handle_timeout(now);
            }
        }
        while let Some(t) = sfu.poll_transmit(&mut out) {
            assert!(t.len <= out.len());
            assert_eq!(t.source, sfu_addr);
        }
        while sfu.poll_event().is_some() {}
        let (ctrl, jobs) = sfu.queue_lens();
        assert_eq!((ctrl, jobs), (0, 0), "drained");
        assert!(
            sfu.state_size() <= STATE_BOUND,
            "state grew to {}",
            sfu.state_size()
        );
    }
    // Time passes: consent expires for everyone (no checks ever came) and
    // all state is freed.
    if let Some(t) = sfu.poll_timeout() {
        assert!(t >= now || t + Duration::from_secs(3600) >= now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(op: u8, sel: u8, bytes: &[u8]) -> Vec<u8> {
        let mut v = vec![op, sel];
        v.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
        v.extend_from_slice(bytes);
        v
    }

    #[test]
    fn live_participants_forward_valid_srtp() {
        let now = Instant::now();
        let (mut sfu, mut clients) = two_live_participants(now);
        let mut buf = [0u8; 1500];
        let pkt = [
            0x80, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0x11, 0x11, 1, 2, 3, 4, 5, 6, 7, 8,
        ];
        buf[..pkt.len()].copy_from_slice(&pkt);
        let n = clients[0].protect_rtp(&mut buf, pkt.len()).unwrap();
        sfu.handle_receive(
            now,
            SocketAddr::from(CLIENTS[0]),
            SocketAddr::from(SFU_ADDR),
            &mut buf[..n],
        );
        let mut out = [0u8; 1500];
        let t = sfu.poll_transmit(&mut out).expect("forwarded to bob");
        assert_eq!(t.destination, SocketAddr::from(CLIENTS[3]));
        assert!(sfu.poll_transmit(&mut out).is_none());
    }

    #[test]
    fn subscriber_gets_its_own_pt_ssrc_and_extension_ids() {
        use tern_rtp::ext::{Extension, TransportSeq};
        use tern_rtp::{Pt, RtpBuilder, Ssrc};
        let now = Instant::now();
        let (mut sfu, mut clients) = two_live_participants(now);
        // Bob's subscribe-side receive context (the SFU protects with key 8).
        let mut bob_rx = ctx(8);
        let exts = [
            Extension { id: 1, value: b"0" },
            Extension { id: 2, value: b"h" },
            Extension {
                id: 4,
                value: &[0x12, 0x34],
            },
            Extension {
                id: 5,
                value: &[1, 2, 3],
            },
            Extension { id: 9, value: &[7] },
        ];
        let mut buf = [0u8; 1500];
        let mut out = [0u8; 1500];
        for seq in [100u16, 101] {
            let n = RtpBuilder::new(Pt::new(96).unwrap(), seq, 3000, Ssrc(ALICE_SSRC))
                .extensions(&exts)
                .payload(&[9; 30])
                .write(&mut buf)
                .unwrap();
            let n = clients[0].protect_rtp(&mut buf, n).unwrap();
            sfu.handle_receive(
                now,
                SocketAddr::from(CLIENTS[0]),
                SocketAddr::from(SFU_ADDR),
                &mut buf[..n],
            );
            let t = sfu.poll_transmit(&mut out).unwrap();
            let m = bob_rx.unprotect_rtp(&mut out[..t.len]).unwrap();
            let p = RtpPacket::new_checked(&out[..m]).unwrap();
            assert_eq!(p.ssrc(), Ssrc(0xF000));
            assert_eq!(p.payload_type().get(), 100);
            assert_eq!(p.payload(), &[9; 30]);
            // Ids moved by +7 (bob's negotiation); rid and unknown id 9
            // blanked; mid rewritten to bob's mid ("0", same length);
            // transport-wide sequence from bob's own counter.
            assert_eq!(p.extension(8), Some(&b"0"[..]));
            assert_eq!(p.extension(9), None);
            assert_eq!(p.extension(12), Some(&[1u8, 2, 3][..]));
            let tw = p.extension_value::<TransportSeq>(11).unwrap().unwrap();
            assert_eq!(tw, TransportSeq(seq - 100));
            assert_eq!(p.extension(2), None);
            assert_eq!(p.extension(1), None);
        }
    }

    #[test]
    fn rid_only_publisher_is_learned_and_forwarded() {
        let now = Instant::now();
        let (mut sfu, mut clients) = two_live_participants(now);
        let mut buf = [0u8; 1500];
        let mut pkt = vec![
            0x90, 96, 0, 5, 0, 0, 0, 9, 0, 0, 0x22, 0x22, 0xBE, 0xDE, 0, 1,
        ];
        pkt.extend_from_slice(&[0x20, b'h', 0, 0]);
        pkt.extend_from_slice(&[0xCD; 20]);
        let from = SocketAddr::from(CLIENTS[2]);
        let mut out = [0u8; 1500];
        for seq in 5..8u16 {
            pkt[2..4].copy_from_slice(&seq.to_be_bytes());
            buf[..pkt.len()].copy_from_slice(&pkt);
            let n = clients[2].protect_rtp(&mut buf, pkt.len()).unwrap();
            sfu.handle_receive(now, from, SocketAddr::from(SFU_ADDR), &mut buf[..n]);
            let t = sfu.poll_transmit(&mut out).expect("forwarded to alice");
            assert_eq!(t.destination, SocketAddr::from(CLIENTS[1]));
        }
        // An unknown rid is not learned.
        pkt[10..12].copy_from_slice(&[0x33, 0x33]);
        pkt[17] = b'x';
        buf[..pkt.len()].copy_from_slice(&pkt);
        let n = clients[2].protect_rtp(&mut buf, pkt.len()).unwrap();
        sfu.handle_receive(now, from, SocketAddr::from(SFU_ADDR), &mut buf[..n]);
        assert!(sfu.poll_transmit(&mut out).is_none());
        assert_eq!(sfu.stats().foreign_ssrc_drops, 1);
    }

    /// Alice's plain RTP packet `seq`, SRTP-protected, into the SFU.
    fn feed(sfu: &mut Sfu, alice: &mut Context, now: Instant, seq: u16) {
        let mut buf = [0u8; 1500];
        let mut pkt = vec![0x80, 96];
        pkt.extend_from_slice(&seq.to_be_bytes());
        pkt.extend_from_slice(&(u32::from(seq) * 900).to_be_bytes());
        pkt.extend_from_slice(&ALICE_SSRC.to_be_bytes());
        pkt.extend_from_slice(&[0xAB; 40]);
        buf[..pkt.len()].copy_from_slice(&pkt);
        let n = alice.protect_rtp(&mut buf, pkt.len()).unwrap();
        sfu.handle_receive(
            now,
            SocketAddr::from(CLIENTS[0]),
            SocketAddr::from(SFU_ADDR),
            &mut buf[..n],
        );
    }

    /// (destination, RTP sequence number) of every datagram drained.
    fn drain(sfu: &mut Sfu) -> Vec<(SocketAddr, u16)> {
        let mut out = [0u8; 1500];
        let mut v = Vec::new();
        while let Some(t) = sfu.poll_transmit(&mut out) {
            v.push((t.destination, u16::from_be_bytes([out[2], out[3]])));
        }
        v
    }

    #[test]
    fn a_run_of_packets_fans_out_subscriber_by_subscriber() {
        let now = Instant::now();
        let (mut sfu, mut clients) = two_live_participants(now);
        // Carol subscribes to Alice too (after Bob).
        let carol = SocketAddr::from(([10, 0, 1, 3], 5002));
        let _ = sfu.add_participant("carol", "room");
        let t = SubscribedTrack {
            publisher: "alice".into(),
            publisher_mid: "0".into(),
            track: SubscriberTrack {
                mid: "0".into(),
                kind: MediaKind::Video,
                track_id: "alice-t0".into(),
                stream_id: "alice".into(),
                ssrc: 0xF100,
                rtx_ssrc: Some(0xF101),
                codecs: vec![vp8(100, 101)],
                extensions: exts(),
            },
        };
        sfu.set_subscribed("carol", &[t]).unwrap();
        sfu.fuzz_connect("carol", Dir::Subscribe, carol, ctx(9), ctx(10));
        drain(&mut sfu);
        let bob = SocketAddr::from(CLIENTS[3]);
        // Four packets fed before draining: one job, each subscriber's
        // packets back to back and in order.
        for seq in 10..14 {
            feed(&mut sfu, &mut clients[0], now, seq);
        }
        assert_eq!(sfu.queue_lens().1, 1, "one job for the run");
        let got = drain(&mut sfu);
        let dests: Vec<_> = got.iter().map(|g| g.0).collect();
        assert_eq!(dests, [bob, bob, bob, bob, carol, carol, carol, carol]);
        for w in got.windows(2).filter(|w| w[0].0 == w[1].0) {
            assert_eq!(w[1].1, w[0].1.wrapping_add(1), "in order: {got:?}");
        }
        // A job that has started emitting takes no more packets.
        feed(&mut sfu, &mut clients[0], now, 14);
        let mut out = [0u8; 1500];
        assert_eq!(sfu.poll_transmit(&mut out).unwrap().destination, bob);
        feed(&mut sfu, &mut clients[0], now, 15);
        let dests: Vec<_> = drain(&mut sfu).iter().map(|g| g.0).collect();
        assert_eq!(dests, [carol, bob, carol]);
        // Runs are bounded (32 packets for a 512-slot video ring).
        for seq in 16..56 {
            feed(&mut sfu, &mut clients[0], now, seq);
        }
        assert_eq!(sfu.queue_lens().1, 2);
        assert_eq!(drain(&mut sfu).len(), 80);
        // A gap (loss) starts a new run.
        feed(&mut sfu, &mut clients[0], now, 57);
        feed(&mut sfu, &mut clients[0], now, 58);
        feed(&mut sfu, &mut clients[0], now, 60);
        assert_eq!(sfu.queue_lens().1, 2);
        let media: Vec<_> = drain(&mut sfu)
            .into_iter()
            .filter(|g| g.0 == bob || g.0 == carol)
            .collect();
        assert_eq!(media.len(), 6, "the loss is NACKed upstream, no more");
        assert_eq!(sfu.stats().forwarded, 8 + 4 + 80 + 6);
        // Packets stored since the last complete drain may span half the
        // ring (256 of 512 video slots) before the SFU asks to be drained.
        assert!(!sfu.wants_drain());
        for seq in 61..61 + 255 {
            feed(&mut sfu, &mut clients[0], now, seq);
        }
        assert!(!sfu.wants_drain());
        feed(&mut sfu, &mut clients[0], now, 316);
        assert!(sfu.wants_drain(), "256 packets pending");
        assert_eq!(drain(&mut sfu).len(), 512);
        assert!(!sfu.wants_drain());
    }

    #[test]
    fn sfu_input_runs_over_committed_seeds() {
        let seeds = tern_testkit::fuzz_seeds("sfu_input");
        assert!(seeds.len() >= 4, "seeds present");
        for s in seeds {
            sfu_input(&s);
        }
    }

    /// Writes the seed corpus (run with `--ignored` to regenerate).
    #[test]
    #[ignore]
    fn write_seeds() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus/sfu_input");
        let rtp = |ssrc: u32, seq: u16| {
            let mut p = vec![0x80, 96];
            p.extend_from_slice(&seq.to_be_bytes());
            p.extend_from_slice(&[0, 0, 0, 9]);
            p.extend_from_slice(&ssrc.to_be_bytes());
            p.extend_from_slice(&[0xAB; 40]);
            p
        };
        // Bob's rid-tagged packet (one-byte extension, id 2 = rid "h").
        let mut rid = vec![
            0x90, 96, 0, 5, 0, 0, 0, 9, 0, 0, 0x22, 0x22, 0xBE, 0xDE, 0, 1,
        ];
        rid.extend_from_slice(&[0x20, b'h', 0, 0]);
        rid.extend_from_slice(&[0xCD; 20]);
        let nack = [0x81, 205, 0, 3, 0, 0, 0, 1, 0, 0, 0xF0, 0x00, 0, 2, 0, 0];
        let pli = [0x81, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0xF0, 0x02];
        let bye = [0x81, 203, 0, 1, 0, 0, 0x11, 0x11];
        let seeds: Vec<(&str, Vec<u8>)> = vec![
            (
                "seed-forward",
                [
                    record(1, 0, &rtp(ALICE_SSRC, 1)),
                    record(1, 0, &rtp(ALICE_SSRC, 2)),
                ]
                .concat(),
            ),
            (
                "seed-loss-nack",
                [
                    record(1, 0, &rtp(ALICE_SSRC, 1)),
                    record(1, 0, &rtp(ALICE_SSRC, 4)),
                    record(3, 10, &[]),
                    record(2, 3, &nack),
                ]
                .concat(),
            ),
            (
                "seed-rid-learn",
                [record(1, 2, &rid), record(2, 1, &pli), record(3, 60, &[])].concat(),
            ),
            (
                "seed-hijack",
                [
                    record(1, 6, &rtp(0, 1)),
                    record(2, 2, &bye),
                    record(0, 77, &rtp(ALICE_SSRC, 3)),
                ]
                .concat(),
            ),
            (
                "seed-raw",
                [
                    record(0, 0, &[0, 1, 0, 0, 0x21, 0x12, 0xA4, 0x42]),
                    record(0, 1, &[22, 254, 253, 0, 0, 0, 0]),
                    record(3, 255, &[]),
                ]
                .concat(),
            ),
        ];
        std::fs::create_dir_all(dir).unwrap();
        for (name, data) in seeds {
            std::fs::write(format!("{dir}/{name}"), data).unwrap();
        }
    }
}
