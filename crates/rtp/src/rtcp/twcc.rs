//! Transport-wide congestion control feedback
//! (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1; RTPFB FMT 15).
//!
//! After the common feedback header: base sequence number, packet status
//! count, 24-bit signed reference time (×64 ms), feedback packet count, then
//! packet status chunks (run-length, 1-bit and 2-bit status vectors, §3.1.3
//! and §3.1.4) covering exactly `packet status count` packets, then one
//! receive delta per received packet (1 byte unsigned for "small", 2 bytes
//! signed for "large", ×250 µs, §3.1.5), then zero padding.
//!
//! The symbol 0b11 is reserved; this parser rejects it wherever it appears.
//! The status count bounds the chunk walk and the chunk symbols bound the
//! delta count; both are checked against the packet length in
//! [`Twcc::new_checked`].

use super::{frame, write_header, RtcpWrite, PT_RTPFB};
use crate::error::{bad, misuse, need, Error};
use crate::types::Ssrc;
use crate::wire::{put_u16, put_u24, put_u32, put_u8, u16_at, u24_at, u32_at, u8_at};

/// RTPFB FMT of transport-wide CC feedback.
pub const FMT_TWCC: u8 = 15;

/// Symbol: packet not received.
pub const SYMBOL_NOT_RECEIVED: u8 = 0;
/// Symbol: received, small (1-byte) delta.
pub const SYMBOL_SMALL: u8 = 1;
/// Symbol: received, large or negative (2-byte) delta.
pub const SYMBOL_LARGE: u8 = 2;

/// Microseconds per receive-delta tick.
pub const DELTA_TICK_US: i64 = 250;
/// Microseconds per reference-time tick.
pub const REFERENCE_TICK_US: i64 = 64_000;

/// One packet status chunk (draft §3.1.3, §3.1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketChunk {
    /// T=0: `run` packets (0..=8191) with the same symbol.
    RunLength {
        /// The symbol, 0..=2.
        symbol: u8,
        /// Run length, 13 bits.
        run: u16,
    },
    /// T=1, S=0: 14 one-bit symbols, first packet in the most significant
    /// of the 14 bits.
    OneBit {
        /// The 14 symbol bits.
        bits: u16,
    },
    /// T=1, S=1: 7 two-bit symbols, first packet in the most significant
    /// pair.
    TwoBit {
        /// The 14 symbol bits.
        bits: u16,
    },
}

impl PacketChunk {
    /// Decodes a chunk; the reserved symbol 0b11 is an error.
    pub fn from_u16(v: u16) -> Result<PacketChunk, Error> {
        if v & 0x8000 == 0 {
            let symbol = ((v >> 13) & 3) as u8;
            if symbol == 3 {
                return Err(bad("RTCP TWCC: run-length chunk with reserved symbol 0b11"));
            }
            Ok(PacketChunk::RunLength {
                symbol,
                run: v & 0x1fff,
            })
        } else if v & 0x4000 == 0 {
            Ok(PacketChunk::OneBit { bits: v & 0x3fff })
        } else {
            let bits = v & 0x3fff;
            // A pair is 0b11 iff both its bits are set.
            if bits & (bits >> 1) & 0x1555 != 0 {
                return Err(bad("RTCP TWCC: status vector with reserved symbol 0b11"));
            }
            Ok(PacketChunk::TwoBit { bits })
        }
    }

    /// Encodes the chunk.
    pub fn to_u16(self) -> u16 {
        match self {
            PacketChunk::RunLength { symbol, run } => {
                (u16::from(symbol & 3) << 13) | (run & 0x1fff)
            }
            PacketChunk::OneBit { bits } => 0x8000 | (bits & 0x3fff),
            PacketChunk::TwoBit { bits } => 0xc000 | (bits & 0x3fff),
        }
    }

    /// How many symbols the chunk holds.
    pub fn capacity(self) -> usize {
        match self {
            PacketChunk::RunLength { run, .. } => usize::from(run),
            PacketChunk::OneBit { .. } => 14,
            PacketChunk::TwoBit { .. } => 7,
        }
    }

    /// The `i`-th symbol (`i < capacity`).
    pub fn symbol(self, i: usize) -> u8 {
        match self {
            PacketChunk::RunLength { symbol, .. } => symbol,
            PacketChunk::OneBit { bits } => ((bits >> (13 - i.min(13))) & 1) as u8,
            PacketChunk::TwoBit { bits } => ((bits >> (12 - 2 * i.min(6))) & 3) as u8,
        }
    }
}

/// The reception status of one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Not received.
    NotReceived,
    /// Received; delta in 250 µs ticks, 0..=255.
    Small(u8),
    /// Received; delta in 250 µs ticks, signed.
    Large(i16),
}

impl Status {
    /// The symbol for this status.
    pub const fn symbol(self) -> u8 {
        match self {
            Status::NotReceived => SYMBOL_NOT_RECEIVED,
            Status::Small(_) => SYMBOL_SMALL,
            Status::Large(_) => SYMBOL_LARGE,
        }
    }

    /// The receive delta in 250 µs ticks, if received.
    pub const fn delta_ticks(self) -> Option<i32> {
        match self {
            Status::NotReceived => None,
            Status::Small(d) => Some(d as i32),
            Status::Large(d) => Some(d as i32),
        }
    }

    /// The status for a delta in ticks: small if it fits 0..=255, large if
    /// it fits an `i16`, `None` if it fits neither (start a new feedback
    /// packet with a new reference time).
    pub fn from_delta_ticks(delta: i32) -> Option<Status> {
        if (0..=255).contains(&delta) {
            Some(Status::Small(delta as u8))
        } else {
            i16::try_from(delta).ok().map(Status::Large)
        }
    }

    fn delta_len(self) -> usize {
        match self {
            Status::NotReceived => 0,
            Status::Small(_) => 1,
            Status::Large(_) => 2,
        }
    }
}

fn delta_size(symbol: u8) -> usize {
    match symbol {
        SYMBOL_SMALL => 1,
        SYMBOL_LARGE => 2,
        _ => 0,
    }
}

/// A validated view of a transport-wide CC feedback packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Twcc<T: AsRef<[u8]>> {
    buffer: T,
    /// End of the chunks / start of the deltas.
    chunks_end: usize,
    /// End of the deltas.
    deltas_end: usize,
    /// End of the body (start of RTCP padding).
    end: usize,
}

fn check_twcc(b: &[u8]) -> Result<(usize, usize, usize), Error> {
    let (h, end) = frame(b, 16)?;
    if h.packet_type != PT_RTPFB || h.count != FMT_TWCC {
        return Err(bad("RTCP: not a transport-wide CC feedback"));
    }
    let count = usize::from(u16_at(b, 14));
    let mut covered = 0usize;
    let mut deltas = 0usize;
    let mut pos = 20;
    while covered < count {
        if pos + 2 > end {
            return Err(bad("RTCP TWCC: chunks end before the packet status count"));
        }
        let c = PacketChunk::from_u16(u16_at(b, pos))?;
        pos += 2;
        let n = c.capacity().min(count - covered);
        deltas += match c {
            PacketChunk::RunLength { symbol, .. } => n * delta_size(symbol),
            // The first n of 14 one-bit symbols: each set bit is a small delta.
            PacketChunk::OneBit { bits } => (bits >> (14 - n)).count_ones() as usize,
            // The first n of 7 pairs (0b11 already rejected): the low bit
            // of a pair marks a small delta, the high bit a large one.
            PacketChunk::TwoBit { bits } => {
                let v = bits >> (2 * (7 - n));
                let lows = 0x1555 & ((1u16 << (2 * n)) - 1);
                (v & lows).count_ones() as usize + 2 * ((v >> 1) & lows).count_ones() as usize
            }
        };
        covered += n;
    }
    if pos + deltas > end {
        return Err(bad("RTCP TWCC: receive deltas overrun the packet"));
    }
    Ok((pos, pos + deltas, end))
}

impl<T: AsRef<[u8]>> Twcc<T> {
    /// Validates `buffer` as exactly one TWCC feedback packet.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let (chunks_end, deltas_end, end) = check_twcc(buffer.as_ref())?;
        Ok(Twcc {
            buffer,
            chunks_end,
            deltas_end,
            end,
        })
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The packet's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// SSRC of the packet sender.
    pub fn sender_ssrc(&self) -> Ssrc {
        Ssrc(u32_at(self.b(), 4))
    }

    /// SSRC of the media source.
    pub fn media_ssrc(&self) -> Ssrc {
        Ssrc(u32_at(self.b(), 8))
    }

    /// Transport-wide sequence number of the first packet reported.
    pub fn base_seq(&self) -> u16 {
        u16_at(self.b(), 12)
    }

    /// Number of packets reported.
    pub fn status_count(&self) -> u16 {
        u16_at(self.b(), 14)
    }

    /// Reference time in units of 64 ms (24-bit signed).
    pub fn reference_time(&self) -> i32 {
        ((u24_at(self.b(), 16) << 8) as i32) >> 8
    }

    /// Reference time in microseconds.
    pub fn reference_time_us(&self) -> i64 {
        i64::from(self.reference_time()) * REFERENCE_TICK_US
    }

    /// Feedback packet count.
    pub fn fb_count(&self) -> u8 {
        u8_at(self.b(), 19)
    }

    /// Number of RTCP padding bytes plus unused bytes after the deltas.
    pub fn padding_len(&self) -> usize {
        self.b().len() - self.deltas_end
    }

    /// The packet status chunks.
    pub fn chunks(&self) -> impl ExactSizeIterator<Item = PacketChunk> + Clone + '_ {
        crate::wire::slice(self.b(), 20, self.chunks_end)
            .chunks_exact(2)
            .map(|c| PacketChunk::from_u16(u16_at(c, 0)).unwrap_or(PacketChunk::OneBit { bits: 0 }))
    }

    /// The receive deltas, as statuses (never `NotReceived`), in order.
    pub fn deltas(&self) -> impl Iterator<Item = Status> + '_ {
        self.statuses()
            .filter_map(|(_, s)| (s != Status::NotReceived).then_some(s))
    }

    /// Every reported packet: (transport-wide sequence number, status).
    pub fn statuses(&self) -> TwccStatusIter<'_> {
        TwccStatusIter {
            b: crate::wire::slice(self.b(), 0, self.deltas_end),
            chunk_pos: 20,
            chunks_end: self.chunks_end,
            delta_pos: self.chunks_end,
            left: self.status_count(),
            seq: self.base_seq(),
            chunk: PacketChunk::OneBit { bits: 0 },
            idx: 0,
            cap: 0,
        }
    }
}

/// Iterator over the statuses of a TWCC packet.
#[derive(Debug, Clone)]
pub struct TwccStatusIter<'a> {
    b: &'a [u8],
    chunk_pos: usize,
    chunks_end: usize,
    delta_pos: usize,
    left: u16,
    seq: u16,
    chunk: PacketChunk,
    idx: usize,
    cap: usize,
}

impl Iterator for TwccStatusIter<'_> {
    type Item = (u16, Status);

    #[inline]
    fn next(&mut self) -> Option<(u16, Status)> {
        if self.left == 0 {
            return None;
        }
        while self.idx >= self.cap {
            if self.chunk_pos + 2 > self.chunks_end {
                self.left = 0;
                return None;
            }
            self.chunk = PacketChunk::from_u16(u16_at(self.b, self.chunk_pos)).ok()?;
            self.chunk_pos += 2;
            self.idx = 0;
            self.cap = self.chunk.capacity();
        }
        let sym = self.chunk.symbol(self.idx);
        self.idx += 1;
        let status = match sym {
            SYMBOL_SMALL => {
                let d = u8_at(self.b, self.delta_pos);
                self.delta_pos += 1;
                Status::Small(d)
            }
            SYMBOL_LARGE => {
                let d = u16_at(self.b, self.delta_pos) as i16;
                self.delta_pos += 2;
                Status::Large(d)
            }
            _ => Status::NotReceived,
        };
        let seq = self.seq;
        self.seq = seq.wrapping_add(1);
        self.left -= 1;
        Some((seq, status))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(usize::from(self.left)))
    }
}

/// The header fields of a TWCC feedback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TwccHeader {
    /// SSRC of the packet sender.
    pub sender_ssrc: Ssrc,
    /// SSRC of the media source.
    pub media_ssrc: Ssrc,
    /// Sequence number of the first status.
    pub base_seq: u16,
    /// Reference time, ×64 ms, 24-bit signed.
    pub reference_time: i32,
    /// Feedback packet count.
    pub fb_count: u8,
}

fn write_twcc_head(
    buf: &mut [u8],
    h: &TwccHeader,
    count: u16,
    total_unpadded: usize,
) -> Result<usize, Error> {
    if !(-0x80_0000..=0x7f_ffff).contains(&h.reference_time) {
        return Err(misuse("RTCP TWCC: reference time outside 24 bits"));
    }
    let total = total_unpadded.next_multiple_of(4);
    write_header(buf, FMT_TWCC, PT_RTPFB, total)?;
    let pad = total - total_unpadded;
    if pad > 0 {
        // libwebrtc style: the P bit with a count in the last byte.
        put_u8(buf, 0, 0x80 | 0x20 | FMT_TWCC);
        crate::wire::zero(buf, total_unpadded, total);
        put_u8(buf, total - 1, pad as u8);
    }
    put_u32(buf, 4, h.sender_ssrc.0);
    put_u32(buf, 8, h.media_ssrc.0);
    put_u16(buf, 12, h.base_seq);
    put_u16(buf, 14, count);
    put_u24(buf, 16, h.reference_time as u32 & 0x00ff_ffff);
    put_u8(buf, 19, h.fb_count);
    Ok(total)
}

fn write_delta(buf: &mut [u8], at: usize, s: Status) -> usize {
    match s {
        Status::NotReceived => 0,
        Status::Small(d) => {
            put_u8(buf, at, d);
            1
        }
        Status::Large(d) => {
            put_u16(buf, at, d as u16);
            2
        }
    }
}

/// Builds a TWCC feedback from the status of each packet: chooses the
/// chunks itself (run-length for runs of 14 or more, or for a tail of one
/// symbol; 1-bit vectors when the next 14 need no large delta; run-length
/// for runs of 7 or more; else 2-bit vectors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TwccBuilder<'a> {
    /// Header fields.
    pub header: TwccHeader,
    /// Status of packets `base_seq`, `base_seq + 1`, ... (at most 65535).
    pub statuses: &'a [Status],
}

/// The chunk the encoder puts at `i`, and how many statuses it covers.
fn next_chunk(st: &[Status], i: usize) -> (PacketChunk, usize) {
    let rest = st.get(i..).unwrap_or(&[]);
    let first = rest.first().map_or(0, |s| s.symbol());
    let run = rest
        .iter()
        .take(8191)
        .take_while(|s| s.symbol() == first)
        .count();
    if run == rest.len() || run >= 14 {
        return (
            PacketChunk::RunLength {
                symbol: first,
                run: run as u16,
            },
            run,
        );
    }
    let w14 = rest.len().min(14);
    if rest.iter().take(w14).all(|s| s.symbol() <= 1) {
        let mut bits = 0u16;
        for (k, s) in rest.iter().take(w14).enumerate() {
            bits |= u16::from(s.symbol()) << (13 - k);
        }
        return (PacketChunk::OneBit { bits }, w14);
    }
    if run >= 7 {
        return (
            PacketChunk::RunLength {
                symbol: first,
                run: run as u16,
            },
            run,
        );
    }
    let w7 = rest.len().min(7);
    let mut bits = 0u16;
    for (k, s) in rest.iter().take(w7).enumerate() {
        bits |= u16::from(s.symbol()) << (12 - 2 * k);
    }
    (PacketChunk::TwoBit { bits }, w7)
}

impl TwccBuilder<'_> {
    fn unpadded_len(&self) -> usize {
        let mut n = 20;
        let mut i = 0;
        while i < self.statuses.len() {
            let (_, used) = next_chunk(self.statuses, i);
            i += used.max(1);
            n += 2;
        }
        n + self.statuses.iter().map(|s| s.delta_len()).sum::<usize>()
    }
}

impl RtcpWrite for TwccBuilder<'_> {
    fn buffer_len(&self) -> usize {
        self.unpadded_len().next_multiple_of(4)
    }

    fn write(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let count = u16::try_from(self.statuses.len())
            .map_err(|_| misuse("RTCP TWCC: more than 65535 statuses"))?;
        let unpadded = self.unpadded_len();
        need(buf, unpadded.next_multiple_of(4))?;
        let total = write_twcc_head(buf, &self.header, count, unpadded)?;
        let mut pos = 20;
        let mut i = 0;
        while i < self.statuses.len() {
            let (c, used) = next_chunk(self.statuses, i);
            put_u16(buf, pos, c.to_u16());
            pos += 2;
            i += used.max(1);
        }
        for s in self.statuses {
            pos += write_delta(buf, pos, *s);
        }
        Ok(total)
    }
}

/// Writes a TWCC feedback from explicit chunks and deltas (for exact
/// re-serialisation of a received packet). The result is checked: chunks
/// that do not cover `status_count` or deltas that do not match the
/// symbols are a caller error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TwccRawBuilder<'a> {
    /// Header fields.
    pub header: TwccHeader,
    /// Packet status count.
    pub status_count: u16,
    /// The chunks.
    pub chunks: &'a [PacketChunk],
    /// The receive deltas (`NotReceived` entries are an error).
    pub deltas: &'a [Status],
}

impl RtcpWrite for TwccRawBuilder<'_> {
    fn buffer_len(&self) -> usize {
        (20 + self.chunks.len() * 2 + self.deltas.iter().map(|s| s.delta_len()).sum::<usize>())
            .next_multiple_of(4)
    }

    fn write(&self, buf: &mut [u8]) -> Result<usize, Error> {
        if self.deltas.contains(&Status::NotReceived) {
            return Err(misuse("RTCP TWCC: a receive delta marked not received"));
        }
        let unpadded =
            20 + self.chunks.len() * 2 + self.deltas.iter().map(|s| s.delta_len()).sum::<usize>();
        need(buf, unpadded.next_multiple_of(4))?;
        let total = write_twcc_head(buf, &self.header, self.status_count, unpadded)?;
        let mut pos = 20;
        for c in self.chunks {
            put_u16(buf, pos, c.to_u16());
            pos += 2;
        }
        for s in self.deltas {
            pos += write_delta(buf, pos, *s);
        }
        let written = buf.get(..total).unwrap_or(&[]);
        match check_twcc(written) {
            Ok((_, deltas_end, _)) if deltas_end == unpadded => Ok(total),
            _ => Err(misuse(
                "RTCP TWCC: chunks and deltas do not match the status count",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bit-counting delta total of `check_twcc` against a symbol-by-
    /// symbol count, for every vector chunk and every status count it can
    /// cover.
    #[test]
    fn delta_count_matches_symbol_walk() {
        for raw in 0x8000u16..=0xffff {
            let Ok(c) = PacketChunk::from_u16(raw) else {
                continue;
            };
            for n in 1..=c.capacity() {
                let naive: usize = (0..n).map(|i| delta_size(c.symbol(i))).sum();
                let mut pkt = vec![
                    0x8f, 205, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, n as u8, 0, 0, 0, 0,
                ];
                pkt.extend_from_slice(&raw.to_be_bytes());
                pkt.resize((22 + naive).next_multiple_of(4), 0);
                let words = (pkt.len() / 4 - 1) as u16;
                pkt[2..4].copy_from_slice(&words.to_be_bytes());
                let (chunks_end, deltas_end, _) = check_twcc(&pkt).unwrap();
                assert_eq!(
                    deltas_end - chunks_end,
                    naive,
                    "chunk {raw:#06x}, {n} statuses"
                );
            }
        }
    }
}
