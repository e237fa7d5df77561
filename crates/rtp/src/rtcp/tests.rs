//! RTCP vectors, hand-computed from the packet layouts of the cited RFC
//! sections, with round-trip and length-sweep checks.

use super::roundtrip::rebuild;
use super::twcc::{PacketChunk, Status, TwccHeader};
use super::*;
use crate::types::{CompactNtp, NtpTime, Ssrc};

/// SR with one report block, hand-computed from RFC 3550 §6.4.1.
pub(crate) const SR: &[u8] = &[
    0x81, 0xc8, 0x00, 0x0c, // V=2 RC=1 PT=200 length=12
    0x00, 0x00, 0x00, 0x01, // SSRC of sender
    0xe1, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, // NTP timestamp
    0x00, 0x00, 0x27, 0x10, // RTP timestamp 10000
    0x00, 0x00, 0x00, 0x64, // packet count 100
    0x00, 0x00, 0x3e, 0x80, // octet count 16000
    0x00, 0x00, 0x00, 0x02, // SSRC_1
    0x19, 0xff, 0xff, 0xfe, // fraction 25, cumulative lost -2
    0x00, 0x01, 0x00, 0x05, // extended highest seq: cycle 1, seq 5
    0x00, 0x00, 0x00, 0x20, // jitter 32
    0xb7, 0x05, 0x20, 0x00, // LSR
    0x00, 0x05, 0x40, 0x00, // DLSR 5.25 s
];

/// RR with one report block, hand-computed from RFC 3550 §6.4.2.
pub(crate) const RR: &[u8] = &[
    0x81, 0xc9, 0x00, 0x07, // V=2 RC=1 PT=201 length=7
    0x00, 0x00, 0x00, 0x01, // SSRC of packet sender
    0x00, 0x00, 0x00, 0x02, // SSRC_1
    0x00, 0x00, 0x00, 0x00, // fraction 0, lost 0
    0x00, 0x00, 0x10, 0x00, // extended highest seq 4096
    0x00, 0x00, 0x00, 0x05, // jitter 5
    0x00, 0x00, 0x00, 0x00, // LSR
    0x00, 0x00, 0x00, 0x00, // DLSR
];

/// SDES with one CNAME, hand-computed from RFC 3550 §6.5, §6.5.1.
pub(crate) const SDES: &[u8] = &[
    0x81, 0xca, 0x00, 0x06, // V=2 SC=1 PT=202 length=6
    0x00, 0x00, 0x00, 0x01, // SSRC
    0x01, 0x10, b'u', b's', b'e', b'r', b'@', b'e', b'x', b'a', b'm', b'p', b'l', b'e', b'.', b'c',
    b'o', b'm', // CNAME, 16 bytes
    0x00, 0x00, // null item, padding to 32 bits
];

/// BYE with two sources and a reason, hand-computed from RFC 3550 §6.6.
pub(crate) const BYE: &[u8] = &[
    0x82, 0xcb, 0x00, 0x04, // V=2 SC=2 PT=203 length=4
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, // SSRCs
    0x04, b'd', b'o', b'n', b'e', 0x00, 0x00, 0x00, // reason "done", padding
];

/// APP, hand-computed from RFC 3550 §6.7.
pub(crate) const APP: &[u8] = &[
    0x83, 0xcc, 0x00, 0x03, // V=2 subtype=3 PT=204 length=3
    0x00, 0x00, 0x00, 0x01, // SSRC
    b'T', b'E', b'R', b'N', // name
    0x01, 0x02, 0x03, 0x04, // data
];

/// XR with RRTR and DLRR, hand-computed from RFC 3611 §2, §4.4, §4.5.
pub(crate) const XR: &[u8] = &[
    0x80, 0xcf, 0x00, 0x08, // V=2 PT=207 length=8
    0x00, 0x00, 0x00, 0x01, // SSRC
    0x04, 0x00, 0x00, 0x02, // BT=4 (RRTR) block length 2
    0xe1, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, // NTP timestamp
    0x05, 0x00, 0x00, 0x03, // BT=5 (DLRR) block length 3
    0x00, 0x00, 0x00, 0x02, // SSRC_1
    0x00, 0x01, 0x00, 0x00, // LRR
    0x00, 0x00, 0x80, 0x00, // DLRR 0.5 s
];

/// Generic NACK, hand-computed from RFC 4585 §6.1, §6.2.1: PID 100, BLP
/// 0b101 (100, 101 and 103 lost).
pub(crate) const NACK: &[u8] = &[
    0x81, 0xcd, 0x00, 0x03, // V=2 FMT=1 PT=205 length=3
    0x00, 0x00, 0x00, 0x01, // sender SSRC
    0x00, 0x00, 0x00, 0x02, // media SSRC
    0x00, 0x64, 0x00, 0x05, // PID 100, BLP 0x0005
];

/// PLI, hand-computed from RFC 4585 §6.3.1 (length 2, no FCI).
pub(crate) const PLI: &[u8] = &[
    0x81, 0xce, 0x00, 0x02, // V=2 FMT=1 PT=206 length=2
    0x00, 0x00, 0x00, 0x01, // sender SSRC
    0x00, 0x00, 0x00, 0x02, // media SSRC
];

/// FIR, hand-computed from RFC 5104 §4.3.1.1.
pub(crate) const FIR: &[u8] = &[
    0x84, 0xce, 0x00, 0x04, // V=2 FMT=4 PT=206 length=4
    0x00, 0x00, 0x00, 0x01, // sender SSRC
    0x00, 0x00, 0x00, 0x00, // media SSRC (0 per §4.3.1.2)
    0x00, 0x00, 0x00, 0x02, // SSRC
    0x07, 0x00, 0x00, 0x00, // seq nr 7, reserved
];

/// REMB of 1 Mbit/s (exp 2, mantissa 250000), hand-computed from
/// draft-alvestrand-rmcat-remb-03 §2.2.
pub(crate) const REMB: &[u8] = &[
    0x8f, 0xce, 0x00, 0x05, // V=2 FMT=15 PT=206 length=5
    0x00, 0x00, 0x00, 0x01, // sender SSRC
    0x00, 0x00, 0x00, 0x00, // media SSRC 0
    b'R', b'E', b'M', b'B', // unique identifier
    0x01, 0x0b, 0xd0, 0x90, // num SSRC 1, exp 2, mantissa 0x3d090
    0x00, 0x00, 0x00, 0x02, // SSRC feedback
];

/// TWCC for 39 packets, hand-computed from
/// draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1: a 1-bit
/// vector, a 2-bit vector, a run of 17 lost, a run of 1 received; 17 delta
/// bytes; 3 bytes of RTCP padding.
pub(crate) const TWCC: &[u8] = &[
    0xaf, 0xcd, 0x00, 0x0b, // V=2 P=1 FMT=15 PT=205 length=11
    0x00, 0x00, 0x00, 0x01, // sender SSRC
    0x00, 0x00, 0x00, 0x02, // media SSRC
    0x00, 0x64, 0x00, 0x27, // base seq 100, status count 39
    0xff, 0xff, 0xff, 0x05, // reference time -1, fb pkt count 5
    0xac, 0xff, // 1-bit vector: R N R R N N R R R R R R R R
    0xe4, 0x80, // 2-bit vector: L S N L N N N
    0x00, 0x11, // run of 17 not received
    0x20, 0x01, // run of 1 small
    0x04, 0x08, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, // small deltas
    0xff, 0xfc, 0x0a, 0x03, 0xe8, // large -4, small 10, large 1000
    0x09, // small 9
    0x00, 0x00, 0x03, // padding
];

/// The statuses of [`TWCC`], in order.
pub(crate) fn twcc_statuses() -> std::vec::Vec<Status> {
    use Status::*;
    let mut v = vec![
        Small(4),
        NotReceived,
        Small(8),
        Small(0),
        NotReceived,
        NotReceived,
        Small(1),
        Small(2),
        Small(3),
        Small(4),
        Small(5),
        Small(6),
        Small(7),
        Small(8),
        Large(-4),
        Small(10),
        NotReceived,
        Large(1000),
    ];
    v.extend(std::iter::repeat_n(NotReceived, 20));
    v.push(Small(9));
    v
}

fn all_vectors() -> [(&'static str, &'static [u8]); 11] {
    [
        ("sr", SR),
        ("rr", RR),
        ("sdes", SDES),
        ("bye", BYE),
        ("app", APP),
        ("xr", XR),
        ("nack", NACK),
        ("pli", PLI),
        ("fir", FIR),
        ("remb", REMB),
        ("twcc", TWCC),
    ]
}

#[test]
fn rfc3550_6_4_1_sender_report() {
    let Ok(RtcpPacket::SenderReport(sr)) = RtcpPacket::parse(SR) else {
        panic!("not an SR");
    };
    assert_eq!(sr.ssrc(), Ssrc(1));
    assert_eq!(
        sr.sender_info(),
        SenderInfo {
            ntp_time: NtpTime(0xe100_0000_8000_0000),
            rtp_time: 10000,
            packet_count: 100,
            octet_count: 16000,
        }
    );
    let blocks: Vec<_> = sr.report_blocks().collect();
    assert_eq!(
        blocks,
        [ReportBlock {
            ssrc: Ssrc(2),
            fraction_lost: 25,
            cumulative_lost: -2,
            extended_highest_seq: 0x0001_0005,
            jitter: 32,
            last_sr: CompactNtp(0xb705_2000),
            delay_since_last_sr: CompactNtp(0x0005_4000),
        }]
    );
    assert!(sr.profile_ext().is_empty());
}

#[test]
fn rfc3550_6_4_2_receiver_report() {
    let rr = ReceiverReport::new_checked(RR).unwrap();
    assert_eq!(rr.ssrc(), Ssrc(1));
    let b = rr.report_blocks().next().unwrap();
    assert_eq!(
        (b.ssrc, b.extended_highest_seq, b.jitter),
        (Ssrc(2), 4096, 5)
    );
    assert_eq!(rr.report_blocks().count(), 1);
}

#[test]
fn rfc3550_6_5_sdes_cname() {
    let s = Sdes::new_checked(SDES).unwrap();
    let chunks: Vec<_> = s.chunks().collect();
    assert_eq!(chunks.len(), 1);
    assert_eq!(chunks[0].ssrc, Ssrc(1));
    assert_eq!(chunks[0].cname(), Some(&b"user@example.com"[..]));
    assert_eq!(chunks[0].items().count(), 1);
}

#[test]
fn rfc3550_6_6_bye_with_reason() {
    let b = Bye::new_checked(BYE).unwrap();
    assert_eq!(b.ssrcs().collect::<Vec<_>>(), [Ssrc(1), Ssrc(2)]);
    assert_eq!(b.reason(), Some(&b"done"[..]));
}

#[test]
fn rfc3550_6_7_app() {
    let a = App::new_checked(APP).unwrap();
    assert_eq!(
        (a.subtype(), a.ssrc(), &a.name(), a.data()),
        (3, Ssrc(1), b"TERN", &[1u8, 2, 3, 4][..])
    );
}

#[test]
fn rfc3611_xr_rrtr_dlrr() {
    let x = Xr::new_checked(XR).unwrap();
    let blocks: Vec<_> = x.blocks().collect();
    assert_eq!(blocks.len(), 2);
    assert_eq!(blocks[0], XrBlock::Rrtr(NtpTime(0xe100_0000_8000_0000)));
    let items: Vec<_> = blocks[1].dlrr_items().collect();
    assert_eq!(
        items,
        [DlrrItem {
            ssrc: Ssrc(2),
            last_rr: CompactNtp(0x0001_0000),
            delay_since_last_rr: CompactNtp(0x8000),
        }]
    );
}

#[test]
fn rfc4585_6_2_1_generic_nack() {
    let n = Nack::new_checked(NACK).unwrap();
    assert_eq!((n.sender_ssrc(), n.media_ssrc()), (Ssrc(1), Ssrc(2)));
    assert_eq!(n.lost().collect::<Vec<_>>(), [100, 101, 103]);
    // Packing the same list gives the same entry.
    let pairs: Vec<_> = nack_pairs([100u16, 101, 103]).collect();
    assert_eq!(pairs, [NackPair { pid: 100, blp: 5 }]);
}

#[test]
fn nack_pairs_split_and_wrap() {
    // Hand-computed: 65535 + 17 wraps to 16, one past BLP reach of 65535.
    let pairs: Vec<_> = nack_pairs([65535u16, 0, 15, 16, 40, 40]).collect();
    assert_eq!(
        pairs,
        [
            NackPair {
                pid: 65535,
                blp: (1 << 0) | (1 << 15)
            },
            NackPair { pid: 16, blp: 0 },
            NackPair { pid: 40, blp: 0 },
        ]
    );
    let back: Vec<u16> = pairs.iter().flat_map(|p| p.lost()).collect();
    assert_eq!(back, [65535, 0, 15, 16, 40]);
}

#[test]
fn rfc4585_6_3_1_pli() {
    let p = Pli::new_checked(PLI).unwrap();
    assert_eq!((p.sender_ssrc(), p.media_ssrc()), (Ssrc(1), Ssrc(2)));
    // A PLI with FCI is invalid (length MUST be 2).
    let mut long = PLI.to_vec();
    long.extend_from_slice(&[0, 0, 0, 0]);
    long[3] = 3;
    assert!(Pli::new_checked(&long[..]).is_err());
}

#[test]
fn rfc5104_4_3_1_fir() {
    let f = Fir::new_checked(FIR).unwrap();
    assert_eq!(
        f.entries().collect::<Vec<_>>(),
        [FirEntry {
            ssrc: Ssrc(2),
            seq: 7
        }]
    );
}

#[test]
fn remb_draft_2_2() {
    let r = Remb::new_checked(REMB).unwrap();
    assert_eq!(
        r.bitrate(),
        RembBitrate {
            exp: 2,
            mantissa: 250_000
        }
    );
    assert_eq!(r.bps(), 1_000_000);
    assert_eq!(RembBitrate::from_bps(1_000_000), r.bitrate());
    assert_eq!(r.ssrcs().collect::<Vec<_>>(), [Ssrc(2)]);
    // Exponent 63 with a large mantissa saturates instead of overflowing.
    assert_eq!(
        RembBitrate {
            exp: 63,
            mantissa: 3
        }
        .bps(),
        u64::MAX
    );
}

#[test]
fn twcc_draft_3_1_vector() {
    let t = Twcc::new_checked(TWCC).unwrap();
    assert_eq!((t.base_seq(), t.status_count(), t.fb_count()), (100, 39, 5));
    assert_eq!(t.reference_time(), -1);
    assert_eq!(t.reference_time_us(), -64_000);
    assert_eq!(
        t.chunks().collect::<Vec<_>>(),
        [
            PacketChunk::OneBit { bits: 0x2cff },
            PacketChunk::TwoBit { bits: 0x2480 },
            PacketChunk::RunLength { symbol: 0, run: 17 },
            PacketChunk::RunLength { symbol: 1, run: 1 },
        ]
    );
    let st: Vec<_> = t.statuses().collect();
    let want = twcc_statuses();
    assert_eq!(st.len(), 39);
    for (i, (seq, s)) in st.iter().enumerate() {
        assert_eq!(*seq, 100 + i as u16);
        assert_eq!(*s, want[i], "status {i}");
    }
    // The encoder picks the same chunks for the same statuses.
    let b = TwccBuilder {
        header: TwccHeader {
            sender_ssrc: Ssrc(1),
            media_ssrc: Ssrc(2),
            base_seq: 100,
            reference_time: -1,
            fb_count: 5,
        },
        statuses: &want,
    };
    let mut out = [0u8; 64];
    let n = b.write(&mut out).unwrap();
    assert_eq!(n, b.buffer_len());
    assert_eq!(&out[..n], TWCC);
}

#[test]
fn twcc_reserved_symbol_is_an_error() {
    // Run-length chunk with symbol 0b11.
    let mut v = TWCC.to_vec();
    v[20] = 0x60;
    v[21] = 0x01;
    assert!(Twcc::new_checked(&v[..]).is_err());
    // 2-bit vector with a 0b11 pair.
    let mut v = TWCC.to_vec();
    v[22] = 0xf0;
    assert!(Twcc::new_checked(&v[..]).is_err());
}

#[test]
fn twcc_counts_bounded_by_length() {
    // Status count 65535 with only four chunks: chunks run out.
    let mut v = TWCC.to_vec();
    v[14] = 0xff;
    v[15] = 0xff;
    assert!(Twcc::new_checked(&v[..]).is_err());
    // A run of 8191 small deltas cannot fit.
    let mut v = TWCC.to_vec();
    v[14] = 0x20;
    v[15] = 0x00;
    v[20] = 0x3f;
    v[21] = 0xff;
    assert!(Twcc::new_checked(&v[..]).is_err());
}

#[test]
fn twcc_encoder_round_trips_statuses() {
    // Hand-picked shapes: long runs, alternating, large deltas, a tail.
    let mut st = vec![];
    st.extend(std::iter::repeat_n(Status::Small(3), 30));
    for i in 0..20 {
        st.push(if i % 3 == 0 {
            Status::NotReceived
        } else {
            Status::Large(-(i as i16))
        });
    }
    st.extend(std::iter::repeat_n(Status::Large(300), 9));
    st.extend(std::iter::repeat_n(Status::NotReceived, 9000));
    st.push(Status::Small(255));
    let b = TwccBuilder {
        header: TwccHeader {
            base_seq: 65530,
            ..TwccHeader::default()
        },
        statuses: &st,
    };
    let mut out = vec![0u8; b.buffer_len()];
    let n = b.write(&mut out).unwrap();
    let t = Twcc::new_checked(&out[..n]).unwrap();
    let got: Vec<_> = t.statuses().map(|(_, s)| s).collect();
    assert_eq!(got, st);
    assert_eq!(
        t.statuses().last().map(|(q, _)| q),
        Some(65530u16.wrapping_add(st.len() as u16 - 1))
    );
}

#[test]
fn twcc_webrtc_rs_reads_our_feedback() {
    use webrtc_util::Unmarshal;
    let mut b: &[u8] = TWCC;
    let p =
        webrtc_rtcp::transport_feedbacks::transport_layer_cc::TransportLayerCc::unmarshal(&mut b)
            .unwrap();
    assert_eq!(p.base_sequence_number, 100);
    assert_eq!(p.packet_status_count, 39);
    assert_eq!(
        p.recv_deltas.len(),
        twcc_statuses()
            .iter()
            .filter(|s| **s != Status::NotReceived)
            .count()
    );
}

#[test]
fn every_vector_round_trips_through_its_builder() {
    for (name, v) in all_vectors() {
        let p = RtcpPacket::parse(v).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(p.as_bytes(), v);
        let out = rebuild(&p)
            .unwrap()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(out, v, "{name} does not round-trip");
    }
}

#[test]
fn every_truncation_is_an_error() {
    for (name, v) in all_vectors() {
        for n in 0..v.len() {
            assert!(
                RtcpPacket::parse(&v[..n]).is_err(),
                "{name} truncated to {n} parsed"
            );
            // Through the walker too: some packet must fail.
            assert!(
                n == 0 || CompoundIter::new(&v[..n]).any(|r| r.is_err()),
                "{name} truncated to {n} walked cleanly"
            );
        }
    }
}

#[test]
fn truncated_length_field_is_an_error() {
    // Shrinking the length field (a packet cut short by its own header) is
    // an error too, for every vector and every smaller length.
    for (name, v) in all_vectors() {
        let words = u16::from_be_bytes([v[2], v[3]]);
        for w in 0..words {
            // BYE's reason, APP's data and XR's blocks are optional by
            // their layout (RFC 3550 §6.6, §6.7, RFC 3611 §2): once the
            // fixed part is there, a shorter packet is a valid one.
            if matches!(name, "bye" | "app") && w >= 2 || name == "xr" && w >= 1 {
                continue;
            }
            let mut t = v[..(usize::from(w) + 1) * 4].to_vec();
            t[2..4].copy_from_slice(&w.to_be_bytes());
            if name == "twcc" {
                t[0] &= !0x20; // keep the padding bit out of the way
            }
            // An error, or (REMB cut before its identifier) another type.
            let kind = core::mem::discriminant(&RtcpPacket::parse(v).unwrap());
            assert!(
                RtcpPacket::parse(&t).map_or(true, |p| core::mem::discriminant(&p) != kind),
                "{name} with length {w} parsed"
            );
        }
    }
}

/// RR + SDES + NACK: the compound of the benchmark.
pub(crate) fn compound() -> Vec<u8> {
    [RR, SDES, NACK].concat()
}

#[test]
fn rfc3550_6_1_compound_walk() {
    let c = compound();
    let kinds: Vec<u8> = CompoundIter::new(&c)
        .map(|p| p.unwrap().packet_type())
        .collect();
    assert_eq!(kinds, [PT_RR, PT_SDES, PT_RTPFB]);
    assert!(check_compound(&c).is_ok());
    // Every cut that is not a packet boundary yields an error.
    let bounds = [RR.len(), RR.len() + SDES.len(), c.len()];
    for n in 1..c.len() {
        let errs = CompoundIter::new(&c[..n]).filter(|r| r.is_err()).count();
        assert_eq!(errs > 0, !bounds.contains(&n), "cut at {n}");
    }
}

#[test]
fn rfc5506_reduced_size_accepted() {
    // A lone PLI, a lone TWCC: fine for the walker, not full compounds.
    for v in [PLI, TWCC, NACK] {
        assert_eq!(CompoundIter::new(v).filter(|p| p.is_ok()).count(), 1);
        assert!(check_compound(v).is_err());
    }
    // Padding not in the last packet breaks RFC 3550 rules.
    let c = [TWCC, PLI].concat();
    assert_eq!(CompoundIter::new(&c).filter(|p| p.is_ok()).count(), 2);
    assert!(check_compound(&[RR, TWCC, PLI].concat()).is_err());
}

#[test]
fn walker_continues_after_a_bad_but_framed_packet() {
    let mut bad_nack = NACK.to_vec();
    bad_nack[3] = 2; // length 2: NACK with no FCI
    bad_nack.truncate(12);
    let c = [&bad_nack[..], PLI].concat();
    let r: Vec<_> = CompoundIter::new(&c).collect();
    assert_eq!(r.len(), 2);
    assert!(r[0].is_err());
    assert!(matches!(r[1], Ok(RtcpPacket::Pli(_))));
}

#[test]
fn counts_are_bounded_by_the_length() {
    // RC = 31 with one block.
    let mut v = RR.to_vec();
    v[0] = 0x9f;
    assert!(RtcpPacket::parse(&v).is_err());
    // SC = 31 chunks declared, one present.
    let mut v = SDES.to_vec();
    v[0] = 0x9f;
    assert!(RtcpPacket::parse(&v).is_err());
    // BYE SC = 31.
    let mut v = BYE.to_vec();
    v[0] = 0x9f;
    assert!(RtcpPacket::parse(&v).is_err());
    // REMB num SSRC 255.
    let mut v = REMB.to_vec();
    v[16] = 0xff;
    assert!(RtcpPacket::parse(&v).is_err());
    // Padding count larger than the packet, and zero.
    let mut v = PLI.to_vec();
    v[0] |= 0x20;
    v[11] = 200;
    assert!(RtcpPacket::parse(&v).is_err());
    v[11] = 0;
    assert!(RtcpPacket::parse(&v).is_err());
    // SDES item longer than the packet.
    let mut v = SDES.to_vec();
    v[9] = 0xff;
    assert!(RtcpPacket::parse(&v).is_err());
    // XR block longer than the packet.
    let mut v = XR.to_vec();
    v[11] = 0x7f;
    assert!(RtcpPacket::parse(&v).is_err());
}

#[test]
fn builders_reject_misuse() {
    let mut buf = [0u8; 4];
    assert!(matches!(
        PliBuilder {
            sender_ssrc: Ssrc(1),
            media_ssrc: Ssrc(2)
        }
        .write(&mut buf),
        Err(Error::BufferTooSmall {
            needed: 12,
            available: 4
        })
    ));
    let mut buf = [0u8; 64];
    assert!(NackBuilder {
        sender_ssrc: Ssrc(1),
        media_ssrc: Ssrc(2),
        pairs: &[]
    }
    .write(&mut buf)
    .is_err());
    let blocks = [ReportBlock::default(); 32];
    assert!(ReceiverReportBuilder {
        ssrc: Ssrc(1),
        reports: &blocks,
        profile_ext: &[]
    }
    .write(&mut [0u8; 1024])
    .is_err());
    let bad = ReportBlock {
        cumulative_lost: 0x80_0000,
        ..ReportBlock::default()
    };
    assert!(ReceiverReportBuilder {
        ssrc: Ssrc(1),
        reports: &[bad],
        profile_ext: &[]
    }
    .write(&mut buf)
    .is_err());
    // Raw TWCC whose deltas do not match its chunks.
    let raw = twcc::TwccRawBuilder {
        header: TwccHeader::default(),
        status_count: 2,
        chunks: &[PacketChunk::RunLength { symbol: 1, run: 2 }],
        deltas: &[Status::Small(1)],
    };
    assert!(matches!(raw.write(&mut buf), Err(Error::InvalidInput(_))));
}

#[test]
fn compound_writer_builds_the_benchmark_compound() {
    let blocks: Vec<_> = ReceiverReport::new_checked(RR)
        .unwrap()
        .report_blocks()
        .collect();
    let items = [SdesItem {
        kind: SdesType::Cname,
        text: b"user@example.com",
    }];
    let chunks = [SdesChunkRepr {
        ssrc: Ssrc(1),
        items: &items,
    }];
    let mut buf = [0u8; 128];
    let mut w = CompoundWriter::new(&mut buf);
    w.push(&ReceiverReportBuilder {
        ssrc: Ssrc(1),
        reports: &blocks,
        profile_ext: &[],
    })
    .unwrap()
    .push(&SdesBuilder { chunks: &chunks })
    .unwrap()
    .push(&NackBuilder {
        sender_ssrc: Ssrc(1),
        media_ssrc: Ssrc(2),
        pairs: &[NackPair { pid: 100, blp: 5 }],
    })
    .unwrap();
    let n = w.finish();
    assert_eq!(&buf[..n], &compound()[..]);
}

#[test]
fn unknown_packet_type_is_framed() {
    let v = [0x80, 0xd0, 0x00, 0x01, 1, 2, 3, 4];
    assert!(matches!(RtcpPacket::parse(&v), Ok(RtcpPacket::Unknown(_))));
    // Other feedback FMTs come back as generic feedback (TMMBR, FMT 3).
    let v = [
        0x83, 0xcd, 0x00, 0x04, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0,
    ];
    let Ok(RtcpPacket::Feedback(f)) = RtcpPacket::parse(&v) else {
        panic!()
    };
    assert_eq!((f.fmt(), f.packet_type(), f.fci().len()), (3, 205, 8));
}
