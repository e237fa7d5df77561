//! Comparative benchmarks: Tern beside webrtc-rs (`rtp`/`rtcp` 0.17) and
//! `rtp-types` in the same run. Figures go to benches/README.md as ratios.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use tern_rtp::ext::Extension;
use tern_rtp::rtcp::twcc::{Status, TwccBuilder, TwccHeader};
use tern_rtp::rtcp::{
    CompoundIter, CompoundWriter, NackBuilder, NackPair, ReceiverReportBuilder, ReportBlock,
    RtcpPacket, RtcpWrite, SdesBuilder, SdesChunkRepr, SdesItem, SdesType, Twcc,
};
use tern_rtp::{Pt, RtpBuilder, RtpPacket, Ssrc};
use webrtc_util::{Marshal, Unmarshal};

/// A 1200-byte RTP packet with three one-byte extensions (abs-send-time,
/// transport-cc, mid).
fn video_packet() -> Vec<u8> {
    let exts = [
        Extension {
            id: 2,
            value: &[0x12, 0x34, 0x56],
        },
        Extension {
            id: 3,
            value: &[0x01, 0x02],
        },
        Extension { id: 4, value: b"0" },
    ];
    let mut payload = vec![0x5a; 1200];
    let hdr = 12 + 4 + 12;
    payload.truncate(1200 - hdr);
    let b = RtpBuilder::new(Pt::new(96).unwrap(), 4321, 0x1234_5678, Ssrc(0xcafe_f00d))
        .marker(true)
        .extensions(&exts)
        .payload(&payload);
    let mut v = vec![0u8; b.buffer_len()];
    b.write(&mut v).unwrap();
    assert_eq!(v.len(), 1200);
    v
}

fn rtp_parse(c: &mut Criterion) {
    let pkt = video_packet();
    let bytes = Bytes::from(pkt.clone());
    let mut g = c.benchmark_group("rtp/parse");
    g.bench_function("tern", |b| {
        b.iter(|| {
            let p = RtpPacket::new_checked(black_box(&pkt[..])).unwrap();
            let mut acc = u64::from(p.marker()) + u64::from(p.payload_type().get());
            acc +=
                u64::from(p.sequence_number()) + u64::from(p.timestamp()) + u64::from(p.ssrc().0);
            acc += p.csrcs().map(|c| u64::from(c.0)).sum::<u64>();
            for e in p.extensions() {
                acc += u64::from(e.id) + u64::from(e.value[0]);
            }
            acc + p.payload().len() as u64
        })
    });
    g.bench_function("webrtc-rs", |b| {
        b.iter(|| {
            // Bytes input: webrtc-rs's best case (payload is a refcounted
            // slice, not a copy).
            let mut buf = black_box(&bytes).clone();
            let p = webrtc_rtp::packet::Packet::unmarshal(&mut buf).unwrap();
            let h = &p.header;
            let mut acc = u64::from(h.marker) + u64::from(h.payload_type);
            acc += u64::from(h.sequence_number) + u64::from(h.timestamp) + u64::from(h.ssrc);
            acc += h.csrc.iter().map(|c| u64::from(*c)).sum::<u64>();
            for e in &h.extensions {
                acc += u64::from(e.id) + u64::from(e.payload[0]);
            }
            acc + p.payload.len() as u64
        })
    });
    g.bench_function("rtp-types", |b| {
        b.iter(|| {
            // rtp-types has no RFC 8285 element parser: it reads the header
            // fields and the raw extension block only (less work than the
            // other two).
            let p = rtp_types::RtpPacket::parse(black_box(&pkt[..])).unwrap();
            let mut acc = u64::from(p.marker_bit()) + u64::from(p.payload_type());
            acc += u64::from(p.sequence_number()) + u64::from(p.timestamp()) + u64::from(p.ssrc());
            acc += p.csrc().map(u64::from).sum::<u64>();
            if let Some((profile, data)) = p.extension() {
                acc += u64::from(profile) + data.len() as u64;
            }
            acc + p.payload().len() as u64
        })
    });
    g.finish();
}

fn rtp_rewrite(c: &mut Criterion) {
    let pkt = video_packet();
    let bytes = Bytes::from(pkt.clone());
    let mut g = c.benchmark_group("rtp/rewrite");
    let mut buf = pkt.clone();
    g.bench_function("tern", |b| {
        b.iter(|| {
            let mut p = RtpPacket::new_checked(black_box(&mut buf[..])).unwrap();
            p.set_ssrc(black_box(Ssrc(0x1111_2222)));
            p.set_sequence_number(black_box(77));
            p.set_timestamp(black_box(0x0102_0304));
        })
    });
    // The SFU path: the received packet is already validated; per
    // subscriber it is copied (not measured here) and rewritten through a
    // view that needs no second validation (`RtpPacket::copy_into`).
    let mut buf2 = pkt.clone();
    let parsed = RtpPacket::new_checked(&pkt[..]).unwrap();
    let mut view = parsed.copy_into(&mut buf2[..]).unwrap();
    g.bench_function("tern-setters-only", |b| {
        b.iter(|| {
            view.set_ssrc(black_box(Ssrc(0x1111_2222)));
            view.set_sequence_number(black_box(77));
            view.set_timestamp(black_box(0x0102_0304));
        })
    });
    let mut out = pkt.clone();
    g.bench_function("webrtc-rs", |b| {
        b.iter(|| {
            // No in-place API: unmarshal, change, marshal into a buffer.
            let mut src = black_box(&bytes).clone();
            let mut p = webrtc_rtp::packet::Packet::unmarshal(&mut src).unwrap();
            p.header.ssrc = black_box(0x1111_2222);
            p.header.sequence_number = black_box(77);
            p.header.timestamp = black_box(0x0102_0304);
            p.marshal_to(&mut out[..]).unwrap()
        })
    });
    let mut buf3 = pkt.clone();
    g.bench_function("rtp-types", |b| {
        b.iter(|| {
            let mut p = rtp_types::RtpPacketMut::parse(black_box(&mut buf3[..])).unwrap();
            p.set_ssrc(black_box(0x1111_2222));
            p.set_sequence_number(black_box(77));
            p.set_timestamp(black_box(0x0102_0304));
        })
    });
    g.finish();
}

/// RR (one block) + SDES (CNAME) + NACK.
fn compound() -> Vec<u8> {
    let blocks = [ReportBlock {
        ssrc: Ssrc(2),
        fraction_lost: 3,
        cumulative_lost: 10,
        extended_highest_seq: 0x0001_0005,
        jitter: 40,
        ..ReportBlock::default()
    }];
    let items = [SdesItem {
        kind: SdesType::Cname,
        text: b"user@example.com",
    }];
    let chunks = [SdesChunkRepr {
        ssrc: Ssrc(1),
        items: &items,
    }];
    let pairs = [
        NackPair {
            pid: 100,
            blp: 0x0005,
        },
        NackPair {
            pid: 200,
            blp: 0x8001,
        },
    ];
    let mut buf = vec![0u8; 256];
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
        pairs: &pairs,
    })
    .unwrap();
    let n = w.finish();
    buf.truncate(n);
    buf
}

fn rtcp_parse_compound(c: &mut Criterion) {
    use webrtc_rtcp::receiver_report::ReceiverReport;
    use webrtc_rtcp::source_description::SourceDescription;
    use webrtc_rtcp::transport_feedbacks::transport_layer_nack::TransportLayerNack;
    let pkt = compound();
    let bytes = Bytes::from(pkt.clone());
    let mut g = c.benchmark_group("rtcp/parse_compound");
    g.bench_function("tern", |b| {
        b.iter(|| {
            let mut acc = 0u64;
            for p in CompoundIter::new(black_box(&pkt[..])) {
                match p.unwrap() {
                    RtcpPacket::ReceiverReport(rr) => {
                        acc += u64::from(rr.ssrc().0);
                        for r in rr.report_blocks() {
                            acc += u64::from(r.ssrc.0)
                                + u64::from(r.jitter)
                                + r.cumulative_lost as u64;
                        }
                    }
                    RtcpPacket::Sdes(s) => {
                        for c in s.chunks() {
                            acc += u64::from(c.ssrc.0);
                            for i in c.items() {
                                acc += i.text.len() as u64;
                            }
                        }
                    }
                    RtcpPacket::Nack(n) => {
                        acc += u64::from(n.media_ssrc().0);
                        for p in n.pairs() {
                            acc += u64::from(p.pid) + u64::from(p.blp);
                        }
                    }
                    _ => unreachable!(),
                }
            }
            acc
        })
    });
    g.bench_function("webrtc-rs", |b| {
        b.iter(|| {
            let mut buf = black_box(&bytes).clone();
            let mut acc = 0u64;
            for p in webrtc_rtcp::packet::unmarshal(&mut buf).unwrap() {
                let any = p.as_any();
                if let Some(rr) = any.downcast_ref::<ReceiverReport>() {
                    acc += u64::from(rr.ssrc);
                    for r in &rr.reports {
                        acc += u64::from(r.ssrc) + u64::from(r.jitter) + u64::from(r.total_lost);
                    }
                } else if let Some(s) = any.downcast_ref::<SourceDescription>() {
                    for c in &s.chunks {
                        acc += u64::from(c.source);
                        for i in &c.items {
                            acc += i.text.len() as u64;
                        }
                    }
                } else if let Some(n) = any.downcast_ref::<TransportLayerNack>() {
                    acc += u64::from(n.media_ssrc);
                    for p in &n.nacks {
                        acc += u64::from(p.packet_id) + u64::from(p.lost_packets);
                    }
                }
            }
            acc
        })
    });
    g.finish();
}

/// TWCC feedback for 100 packets: mostly small deltas, some losses, a few
/// large deltas.
fn twcc_packet() -> Vec<u8> {
    let statuses: Vec<Status> = (0..100)
        .map(|i| match i % 17 {
            5 | 6 => Status::NotReceived,
            11 => Status::Large(-3),
            _ => Status::Small((i % 9) as u8 * 4),
        })
        .collect();
    let b = TwccBuilder {
        header: TwccHeader {
            sender_ssrc: Ssrc(1),
            media_ssrc: Ssrc(2),
            base_seq: 1000,
            reference_time: 12345,
            fb_count: 7,
        },
        statuses: &statuses,
    };
    let mut v = vec![0u8; b.buffer_len()];
    b.write(&mut v).unwrap();
    v
}

fn rtcp_twcc_parse(c: &mut Criterion) {
    use webrtc_rtcp::transport_feedbacks::transport_layer_cc::TransportLayerCc;
    let pkt = twcc_packet();
    let bytes = Bytes::from(pkt.clone());
    let mut g = c.benchmark_group("rtcp/twcc_parse");
    g.bench_function("tern", |b| {
        b.iter(|| {
            let t = Twcc::new_checked(black_box(&pkt[..])).unwrap();
            let mut acc = i64::from(t.base_seq()) + t.reference_time_us();
            for (seq, s) in t.statuses() {
                acc += i64::from(seq) + i64::from(s.delta_ticks().unwrap_or(-1));
            }
            acc
        })
    });
    g.bench_function("webrtc-rs", |b| {
        b.iter(|| {
            let mut buf = black_box(&bytes).clone();
            let t = TransportLayerCc::unmarshal(&mut buf).unwrap();
            let mut acc = i64::from(t.base_sequence_number) + i64::from(t.reference_time);
            for d in &t.recv_deltas {
                acc += d.delta;
            }
            acc + t.packet_chunks.len() as i64
        })
    });
    g.finish();
}

criterion_group!(
    benches,
    rtp_parse,
    rtp_rewrite,
    rtcp_parse_compound,
    rtcp_twcc_parse
);
criterion_main!(benches);
