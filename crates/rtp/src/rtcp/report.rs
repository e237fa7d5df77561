//! Sender and receiver reports with report blocks (RFC 3550 §6.4.1,
//! §6.4.2).

use super::{frame, rtcp_view, write_header, RtcpWrite, PT_RR, PT_SR};
use crate::error::{bad, misuse, Error};
use crate::types::{CompactNtp, NtpTime, Ssrc};
use crate::wire::{
    put_slice, put_u24, put_u32, put_u64, put_u8, slice, u24_at, u32_at, u64_at, u8_at,
};

/// Length of one report block.
pub const REPORT_BLOCK_LEN: usize = 24;

/// One reception report block (RFC 3550 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ReportBlock {
    /// SSRC_n: the source this block reports on.
    pub ssrc: Ssrc,
    /// Fraction lost since the last report, in 1/256.
    pub fraction_lost: u8,
    /// Cumulative number of packets lost: a signed 24-bit value
    /// (-8388608..=8388607).
    pub cumulative_lost: i32,
    /// Extended highest sequence number received (cycles << 16 | seq).
    pub extended_highest_seq: u32,
    /// Interarrival jitter, in timestamp units.
    pub jitter: u32,
    /// LSR: middle 32 bits of the last SR's NTP time (0 if none).
    pub last_sr: CompactNtp,
    /// DLSR: delay since that SR, in 1/65536 s.
    pub delay_since_last_sr: CompactNtp,
}

impl ReportBlock {
    /// Reads a block from 24 bytes at `at` (zeros if out of range).
    pub(crate) fn read(b: &[u8], at: usize) -> ReportBlock {
        let raw = u24_at(b, at + 5);
        // Sign-extend 24 bits.
        let cumulative_lost = ((raw << 8) as i32) >> 8;
        ReportBlock {
            ssrc: Ssrc(u32_at(b, at)),
            fraction_lost: u8_at(b, at + 4),
            cumulative_lost,
            extended_highest_seq: u32_at(b, at + 8),
            jitter: u32_at(b, at + 12),
            last_sr: CompactNtp(u32_at(b, at + 16)),
            delay_since_last_sr: CompactNtp(u32_at(b, at + 20)),
        }
    }

    pub(crate) fn put(&self, b: &mut [u8], at: usize) -> Result<(), Error> {
        if !(-0x80_0000..=0x7f_ffff).contains(&self.cumulative_lost) {
            return Err(misuse("report block: cumulative lost outside 24 bits"));
        }
        put_u32(b, at, self.ssrc.0);
        put_u8(b, at + 4, self.fraction_lost);
        put_u24(b, at + 5, self.cumulative_lost as u32 & 0x00ff_ffff);
        put_u32(b, at + 8, self.extended_highest_seq);
        put_u32(b, at + 12, self.jitter);
        put_u32(b, at + 16, self.last_sr.0);
        put_u32(b, at + 20, self.delay_since_last_sr.0);
        Ok(())
    }
}

/// The sender information of an SR (RFC 3550 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SenderInfo {
    /// NTP timestamp of the report.
    pub ntp_time: NtpTime,
    /// The same instant in RTP timestamp units.
    pub rtp_time: u32,
    /// Sender's packet count.
    pub packet_count: u32,
    /// Sender's octet count.
    pub octet_count: u32,
}

fn check_report(b: &[u8], pt: u8, fixed: usize) -> Result<usize, Error> {
    let (h, end) = frame(b, fixed)?;
    if h.packet_type != pt {
        return Err(bad("RTCP: not a sender/receiver report"));
    }
    if 4 + fixed + usize::from(h.count) * REPORT_BLOCK_LEN > end {
        return Err(bad("RTCP report: report count exceeds the packet length"));
    }
    Ok(end)
}

fn check_sr(b: &[u8]) -> Result<usize, Error> {
    check_report(b, PT_SR, 24)
}

fn check_rr(b: &[u8]) -> Result<usize, Error> {
    check_report(b, PT_RR, 4)
}

rtcp_view!(
    /// A sender report (RFC 3550 §6.4.1, PT 200).
    SenderReport,
    check_sr
);

rtcp_view!(
    /// A receiver report (RFC 3550 §6.4.2, PT 201).
    ReceiverReport,
    check_rr
);

/// Iterator over report blocks.
pub type ReportBlockIter<'a> =
    core::iter::Map<core::slice::ChunksExact<'a, u8>, fn(&[u8]) -> ReportBlock>;

fn blocks(b: &[u8], from: usize, count: u8) -> ReportBlockIter<'_> {
    let n = usize::from(count) * REPORT_BLOCK_LEN;
    slice(b, from, from + n)
        .chunks_exact(REPORT_BLOCK_LEN)
        .map(|c| ReportBlock::read(c, 0))
}

impl<T: AsRef<[u8]>> SenderReport<T> {
    /// SSRC of the sender.
    pub fn ssrc(&self) -> Ssrc {
        Ssrc(u32_at(self.as_bytes(), 4))
    }

    /// The sender information.
    pub fn sender_info(&self) -> SenderInfo {
        let b = self.as_bytes();
        SenderInfo {
            ntp_time: NtpTime(u64_at(b, 8)),
            rtp_time: u32_at(b, 16),
            packet_count: u32_at(b, 20),
            octet_count: u32_at(b, 24),
        }
    }

    /// The report blocks (bounded by the packet length).
    pub fn report_blocks(&self) -> ReportBlockIter<'_> {
        blocks(self.as_bytes(), 28, self.count())
    }

    /// Profile-specific extension bytes after the report blocks.
    pub fn profile_ext(&self) -> &[u8] {
        slice(
            self.as_bytes(),
            28 + usize::from(self.count()) * REPORT_BLOCK_LEN,
            self.end,
        )
    }
}

impl<T: AsRef<[u8]>> ReceiverReport<T> {
    /// SSRC of the packet sender.
    pub fn ssrc(&self) -> Ssrc {
        Ssrc(u32_at(self.as_bytes(), 4))
    }

    /// The report blocks (bounded by the packet length).
    pub fn report_blocks(&self) -> ReportBlockIter<'_> {
        blocks(self.as_bytes(), 8, self.count())
    }

    /// Profile-specific extension bytes after the report blocks.
    pub fn profile_ext(&self) -> &[u8] {
        slice(
            self.as_bytes(),
            8 + usize::from(self.count()) * REPORT_BLOCK_LEN,
            self.end,
        )
    }
}

fn write_report(
    buf: &mut [u8],
    pt: u8,
    fixed: usize,
    reports: &[ReportBlock],
    profile_ext: &[u8],
) -> Result<usize, Error> {
    if reports.len() > 31 {
        return Err(misuse("RTCP report: more than 31 report blocks"));
    }
    if profile_ext.len() % 4 != 0 {
        return Err(misuse("RTCP report: profile extension not a multiple of 4"));
    }
    let total = 4 + fixed + reports.len() * REPORT_BLOCK_LEN + profile_ext.len();
    write_header(buf, reports.len() as u8, pt, total)?;
    let mut at = 4 + fixed;
    for r in reports {
        r.put(buf, at)?;
        at += REPORT_BLOCK_LEN;
    }
    put_slice(buf, at, profile_ext);
    Ok(total)
}

/// Builds a sender report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderReportBuilder<'a> {
    /// SSRC of the sender.
    pub ssrc: Ssrc,
    /// Sender information.
    pub info: SenderInfo,
    /// Report blocks (at most 31).
    pub reports: &'a [ReportBlock],
    /// Profile-specific extension (a multiple of 4 bytes).
    pub profile_ext: &'a [u8],
}

impl RtcpWrite for SenderReportBuilder<'_> {
    fn buffer_len(&self) -> usize {
        28 + self.reports.len() * REPORT_BLOCK_LEN + self.profile_ext.len()
    }
    fn write(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let n = write_report(buf, PT_SR, 24, self.reports, self.profile_ext)?;
        put_u32(buf, 4, self.ssrc.0);
        put_u64(buf, 8, self.info.ntp_time.0);
        put_u32(buf, 16, self.info.rtp_time);
        put_u32(buf, 20, self.info.packet_count);
        put_u32(buf, 24, self.info.octet_count);
        Ok(n)
    }
}

/// Builds a receiver report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiverReportBuilder<'a> {
    /// SSRC of the packet sender.
    pub ssrc: Ssrc,
    /// Report blocks (at most 31).
    pub reports: &'a [ReportBlock],
    /// Profile-specific extension (a multiple of 4 bytes).
    pub profile_ext: &'a [u8],
}

impl RtcpWrite for ReceiverReportBuilder<'_> {
    fn buffer_len(&self) -> usize {
        8 + self.reports.len() * REPORT_BLOCK_LEN + self.profile_ext.len()
    }
    fn write(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let n = write_report(buf, PT_RR, 4, self.reports, self.profile_ext)?;
        put_u32(buf, 4, self.ssrc.0);
        Ok(n)
    }
}
