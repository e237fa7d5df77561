//! Re-serialisation of parsed views through the builders, for tests and
//! fuzzing (allocates; never on a production path).

use super::twcc::{PacketChunk, Status, TwccHeader, TwccRawBuilder};
use super::*;
use crate::types::Ssrc;
use std::vec::Vec;

/// Rebuilds `p` through its builder. `None` for types without one
/// (unknown packet types).
pub(crate) fn rebuild(p: &RtcpPacket<'_>) -> Option<Result<Vec<u8>, Error>> {
    fn run<W: RtcpWrite>(w: &W) -> Result<Vec<u8>, Error> {
        let mut v = vec![0u8; w.buffer_len()];
        let n = w.write(&mut v)?;
        v.truncate(n);
        Ok(v)
    }
    Some(match p {
        RtcpPacket::SenderReport(sr) => {
            let reports: Vec<ReportBlock> = sr.report_blocks().collect();
            run(&SenderReportBuilder {
                ssrc: sr.ssrc(),
                info: sr.sender_info(),
                reports: &reports,
                profile_ext: sr.profile_ext(),
            })
        }
        RtcpPacket::ReceiverReport(rr) => {
            let reports: Vec<ReportBlock> = rr.report_blocks().collect();
            run(&ReceiverReportBuilder {
                ssrc: rr.ssrc(),
                reports: &reports,
                profile_ext: rr.profile_ext(),
            })
        }
        RtcpPacket::Sdes(s) => {
            let items: Vec<Vec<SdesItem<'_>>> = s.chunks().map(|c| c.items().collect()).collect();
            let chunks: Vec<SdesChunkRepr<'_>> = s
                .chunks()
                .zip(items.iter())
                .map(|(c, items)| SdesChunkRepr {
                    ssrc: c.ssrc,
                    items,
                })
                .collect();
            run(&SdesBuilder { chunks: &chunks })
        }
        RtcpPacket::Bye(b) => {
            let ssrcs: Vec<Ssrc> = b.ssrcs().collect();
            run(&ByeBuilder {
                ssrcs: &ssrcs,
                reason: b.reason(),
            })
        }
        RtcpPacket::App(a) => run(&AppBuilder {
            subtype: a.subtype(),
            ssrc: a.ssrc(),
            name: a.name(),
            data: a.data(),
        }),
        RtcpPacket::Xr(x) => {
            let dlrr: Vec<Vec<DlrrItem>> = x.blocks().map(|b| b.dlrr_items().collect()).collect();
            let blocks: Vec<XrBlockRepr<'_>> = x
                .blocks()
                .zip(dlrr.iter())
                .map(|(b, d)| match b {
                    XrBlock::Rrtr(t) => XrBlockRepr::Rrtr(t),
                    XrBlock::Dlrr(_) => XrBlockRepr::Dlrr(d),
                    XrBlock::Other {
                        block_type,
                        type_specific,
                        data,
                    } => XrBlockRepr::Other {
                        block_type,
                        type_specific,
                        data,
                    },
                })
                .collect();
            run(&XrBuilder {
                ssrc: x.ssrc(),
                blocks: &blocks,
            })
        }
        RtcpPacket::Nack(n) => {
            let pairs: Vec<NackPair> = n.pairs().collect();
            run(&NackBuilder {
                sender_ssrc: n.sender_ssrc(),
                media_ssrc: n.media_ssrc(),
                pairs: &pairs,
            })
        }
        RtcpPacket::Pli(p) => run(&PliBuilder {
            sender_ssrc: p.sender_ssrc(),
            media_ssrc: p.media_ssrc(),
        }),
        RtcpPacket::Fir(f) => {
            let entries: Vec<FirEntry> = f.entries().collect();
            run(&FirBuilder {
                sender_ssrc: f.sender_ssrc(),
                entries: &entries,
            })
        }
        RtcpPacket::Remb(r) => {
            let ssrcs: Vec<Ssrc> = r.ssrcs().collect();
            run(&RembBuilder {
                sender_ssrc: r.sender_ssrc(),
                bitrate: r.bitrate(),
                ssrcs: &ssrcs,
            })
        }
        RtcpPacket::Twcc(t) => {
            let chunks: Vec<PacketChunk> = t.chunks().collect();
            let deltas: Vec<Status> = t.deltas().collect();
            run(&TwccRawBuilder {
                header: twcc_header(t),
                status_count: t.status_count(),
                chunks: &chunks,
                deltas: &deltas,
            })
        }
        RtcpPacket::Feedback(f) => run(&FeedbackBuilder {
            packet_type: f.packet_type(),
            fmt: f.fmt(),
            sender_ssrc: f.sender_ssrc(),
            media_ssrc: f.media_ssrc(),
            fci: f.fci(),
        }),
        RtcpPacket::Unknown(_) => return None,
    })
}

pub(crate) fn twcc_header(t: &Twcc<&[u8]>) -> TwccHeader {
    TwccHeader {
        sender_ssrc: t.sender_ssrc(),
        media_ssrc: t.media_ssrc(),
        base_seq: t.base_seq(),
        reference_time: t.reference_time(),
        fb_count: t.fb_count(),
    }
}
