//! Parsing RTP, walking a compound RTCP packet, reading TWCC feedback and
//! rewriting RTP in place allocate nothing (counted by the global
//! allocator), on success and on error paths.

use tern_rtp::ext::{Extension, TransportSeq};
use tern_rtp::rtcp::twcc::{Status, TwccBuilder, TwccHeader};
use tern_rtp::rtcp::{
    CompoundIter, CompoundWriter, NackBuilder, NackPair, ReceiverReportBuilder, ReportBlock,
    RtcpPacket, RtcpWrite, SdesBuilder, SdesChunkRepr, SdesItem, SdesType,
};
use tern_rtp::{Pt, RtpBuilder, RtpPacket, Ssrc};

#[global_allocator]
static ALLOC: tern_alloc_count::CountingAlloc = tern_alloc_count::CountingAlloc;

fn video_packet(buf: &mut [u8]) -> usize {
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
    RtpBuilder::new(Pt::new(96).unwrap(), 1, 2, Ssrc(3))
        .extensions(&exts)
        .payload(&[0x5a; 1200])
        .write(buf)
        .unwrap()
}

#[test]
fn rtp_parse_rewrite_and_build_allocate_nothing() {
    let mut buf = [0u8; 1500];
    let (n, allocs) = tern_alloc_count::count(|| video_packet(&mut buf));
    assert_eq!(allocs, 0, "building");
    let ((), allocs) = tern_alloc_count::count(|| {
        let p = RtpPacket::new_checked(&buf[..n]).unwrap();
        let mut sum =
            u64::from(p.sequence_number()) + u64::from(p.timestamp()) + u64::from(p.ssrc().0);
        for e in p.extensions() {
            sum += u64::from(e.id) + e.value.len() as u64;
        }
        sum += p.csrcs().map(|c| u64::from(c.0)).sum::<u64>();
        assert!(sum > 0 && p.payload().len() == 1200);
        let mut copy = [0u8; 1500];
        let c = p.copy_into(&mut copy).unwrap();
        assert_eq!(c.ssrc(), p.ssrc());
        let mut q = RtpPacket::new_checked(&mut buf[..n]).unwrap();
        q.set_ssrc(Ssrc(9));
        q.set_sequence_number(10);
        q.set_timestamp(11);
        q.set_payload_type(Pt::new(97).unwrap());
        q.set_extension_value(3, &TransportSeq(77)).unwrap();
        q.remap_extension_ids(|id| (id != 4).then_some(id + 1))
            .unwrap();
        // Error paths allocate nothing either.
        assert!(q.set_extension(14, &[1]).is_err());
        assert!(RtpPacket::new_checked(&buf[..5]).is_err());
    });
    assert_eq!(allocs, 0, "parsing and rewriting");
}

#[test]
fn rtcp_walk_and_twcc_allocate_nothing() {
    let mut buf = [0u8; 1500];
    let items = [SdesItem {
        kind: SdesType::Cname,
        text: b"user@example.com",
    }];
    let chunks = [SdesChunkRepr {
        ssrc: Ssrc(1),
        items: &items,
    }];
    let statuses: Vec<Status> = (0..100)
        .map(|i| {
            if i % 10 == 3 {
                Status::NotReceived
            } else {
                Status::Small(4)
            }
        })
        .collect();
    let twcc = TwccBuilder {
        header: TwccHeader::default(),
        statuses: &statuses,
    };
    let (n, allocs) = tern_alloc_count::count(|| {
        let mut w = CompoundWriter::new(&mut buf);
        w.push(&ReceiverReportBuilder {
            ssrc: Ssrc(1),
            reports: &[ReportBlock::default()],
            profile_ext: &[],
        })
        .unwrap()
        .push(&SdesBuilder { chunks: &chunks })
        .unwrap()
        .push(&NackBuilder {
            sender_ssrc: Ssrc(1),
            media_ssrc: Ssrc(2),
            pairs: &[NackPair { pid: 1, blp: 3 }],
        })
        .unwrap()
        .push(&twcc)
        .unwrap();
        w.finish()
    });
    assert_eq!(allocs, 0, "building");
    assert!(n > twcc.buffer_len());
    let (count, allocs) = tern_alloc_count::count(|| {
        let mut count = 0usize;
        for p in CompoundIter::new(&buf[..n]) {
            match p.unwrap() {
                RtcpPacket::ReceiverReport(rr) => count += rr.report_blocks().count(),
                RtcpPacket::Sdes(s) => count += s.chunks().flat_map(|c| c.items()).count(),
                RtcpPacket::Nack(x) => count += x.lost().count(),
                RtcpPacket::Twcc(t) => count += t.statuses().count(),
                _ => unreachable!(),
            }
        }
        // A broken datagram: the error path allocates nothing.
        assert!(CompoundIter::new(&buf[..n - 1]).any(|r| r.is_err()));
        count
    });
    assert_eq!(allocs, 0, "walking");
    assert_eq!(count, 1 + 1 + 3 + 100);
}
