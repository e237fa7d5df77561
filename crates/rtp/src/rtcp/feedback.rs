//! RTP/AVPF feedback messages (RFC 4585 §6.1 common format): generic NACK
//! (RFC 4585 §6.2.1), PLI (RFC 4585 §6.3.1), FIR (RFC 5104 §4.3.1), REMB
//! (draft-alvestrand-rmcat-remb-03 §2.2) and a raw view for other FMTs.

use super::{frame, rtcp_view, write_header, RtcpWrite, PT_PSFB, PT_RTPFB};
use crate::error::{bad, misuse, Error};
use crate::types::Ssrc;
use crate::wire::{put_slice, put_u16, put_u32, put_u8, slice, u16_at, u32_at, u8_at};

/// RTPFB FMT of a generic NACK.
pub const FMT_NACK: u8 = 1;
/// PSFB FMT of a PLI.
pub const FMT_PLI: u8 = 1;
/// PSFB FMT of a FIR.
pub const FMT_FIR: u8 = 4;
/// PSFB FMT of application-layer feedback (REMB).
pub const FMT_AFB: u8 = 15;

const FCI: usize = 12;

fn check_fb(b: &[u8], pt: u8, fmt: Option<u8>) -> Result<(super::RtcpHeader, usize), Error> {
    let (h, end) = frame(b, 8)?;
    if h.packet_type != pt || fmt.is_some_and(|f| f != h.count) {
        return Err(bad("RTCP feedback: unexpected packet type or FMT"));
    }
    Ok((h, end))
}

macro_rules! fb_accessors {
    ($name:ident) => {
        impl<T: AsRef<[u8]>> $name<T> {
            /// SSRC of the packet sender.
            pub fn sender_ssrc(&self) -> Ssrc {
                Ssrc(u32_at(self.as_bytes(), 4))
            }
            /// SSRC of the media source.
            pub fn media_ssrc(&self) -> Ssrc {
                Ssrc(u32_at(self.as_bytes(), 8))
            }
            /// The feedback control information.
            pub fn fci(&self) -> &[u8] {
                slice(self.as_bytes(), FCI, self.end)
            }
        }
    };
}

fn write_fb(
    buf: &mut [u8],
    fmt: u8,
    pt: u8,
    sender: Ssrc,
    media: Ssrc,
    fci_len: usize,
) -> Result<usize, Error> {
    let total = FCI + fci_len;
    write_header(buf, fmt, pt, total)?;
    put_u32(buf, 4, sender.0);
    put_u32(buf, 8, media.0);
    Ok(total)
}

// ---- generic ------------------------------------------------------------

fn check_generic(b: &[u8]) -> Result<usize, Error> {
    let pt = u8_at(b, 1);
    if pt != PT_RTPFB && pt != PT_PSFB {
        return Err(bad("RTCP: not a feedback packet"));
    }
    check_fb(b, pt, None).map(|(_, e)| e)
}

rtcp_view!(
    /// Any RTPFB (205) or PSFB (206) message, FCI uninterpreted (RFC 4585
    /// §6.1).
    Feedback,
    check_generic
);
fb_accessors!(Feedback);

impl<T: AsRef<[u8]>> Feedback<T> {
    /// The FMT field.
    pub fn fmt(&self) -> u8 {
        self.count()
    }
    /// The packet type (205 or 206).
    pub fn packet_type(&self) -> u8 {
        u8_at(self.as_bytes(), 1)
    }
}

/// Builds any feedback message from raw FCI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedbackBuilder<'a> {
    /// 205 (RTPFB) or 206 (PSFB).
    pub packet_type: u8,
    /// FMT, 0..=31.
    pub fmt: u8,
    /// SSRC of the packet sender.
    pub sender_ssrc: Ssrc,
    /// SSRC of the media source.
    pub media_ssrc: Ssrc,
    /// FCI, a multiple of 4 bytes.
    pub fci: &'a [u8],
}

impl RtcpWrite for FeedbackBuilder<'_> {
    fn buffer_len(&self) -> usize {
        FCI + self.fci.len()
    }
    fn write(&self, buf: &mut [u8]) -> Result<usize, Error> {
        if self.fci.len() % 4 != 0 {
            return Err(misuse("RTCP feedback: FCI not a multiple of 4"));
        }
        let n = write_fb(
            buf,
            self.fmt,
            self.packet_type,
            self.sender_ssrc,
            self.media_ssrc,
            self.fci.len(),
        )?;
        put_slice(buf, FCI, self.fci);
        Ok(n)
    }
}

// ---- NACK ---------------------------------------------------------------

fn check_nack(b: &[u8]) -> Result<usize, Error> {
    let (_, end) = check_fb(b, PT_RTPFB, Some(FMT_NACK))?;
    let fci = end - FCI;
    if fci == 0 || fci % 4 != 0 {
        return Err(bad("RTCP NACK: FCI is empty or not whole PID/BLP pairs"));
    }
    Ok(end)
}

rtcp_view!(
    /// A generic NACK (RFC 4585 §6.2.1, RTPFB FMT 1).
    Nack,
    check_nack
);
fb_accessors!(Nack);

/// One generic NACK entry: a lost packet id and a bitmask of the 16 that
/// follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct NackPair {
    /// PID: a lost sequence number.
    pub pid: u16,
    /// BLP: bit i set means `pid + i + 1` is lost too.
    pub blp: u16,
}

impl NackPair {
    /// Every sequence number this entry reports lost, in order.
    pub fn lost(&self) -> impl Iterator<Item = u16> + Clone {
        let (pid, blp) = (self.pid, self.blp);
        core::iter::once(pid).chain(
            (0..16u16)
                .filter(move |i| blp & (1 << i) != 0)
                .map(move |i| pid.wrapping_add(i + 1)),
        )
    }
}

impl<T: AsRef<[u8]>> Nack<T> {
    /// The PID/BLP entries (bounded by the packet length).
    pub fn pairs(&self) -> impl ExactSizeIterator<Item = NackPair> + Clone + '_ {
        self.fci().chunks_exact(4).map(|c| NackPair {
            pid: u16_at(c, 0),
            blp: u16_at(c, 2),
        })
    }

    /// Every lost sequence number reported, in order of the entries.
    pub fn lost(&self) -> impl Iterator<Item = u16> + '_ {
        self.pairs().flat_map(|p| p.lost())
    }
}

/// Packs an ascending run of lost sequence numbers (wrapping order) into
/// NACK entries without allocating. Duplicates are skipped.
pub fn nack_pairs<I: IntoIterator<Item = u16>>(lost: I) -> NackPairs<I::IntoIter> {
    NackPairs {
        it: lost.into_iter(),
        pending: None,
    }
}

/// Iterator returned by [`nack_pairs`].
#[derive(Debug, Clone)]
pub struct NackPairs<I> {
    it: I,
    pending: Option<u16>,
}

impl<I: Iterator<Item = u16>> Iterator for NackPairs<I> {
    type Item = NackPair;
    fn next(&mut self) -> Option<NackPair> {
        let pid = self.pending.take().or_else(|| self.it.next())?;
        let mut blp = 0u16;
        for s in self.it.by_ref() {
            let d = s.wrapping_sub(pid);
            match d {
                0 => continue,
                1..=16 => blp |= 1 << (d - 1),
                _ => {
                    self.pending = Some(s);
                    break;
                }
            }
        }
        Some(NackPair { pid, blp })
    }
}

/// Builds a generic NACK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NackBuilder<'a> {
    /// SSRC of the packet sender.
    pub sender_ssrc: Ssrc,
    /// SSRC of the media source.
    pub media_ssrc: Ssrc,
    /// The entries (at least one).
    pub pairs: &'a [NackPair],
}

impl RtcpWrite for NackBuilder<'_> {
    fn buffer_len(&self) -> usize {
        FCI + self.pairs.len() * 4
    }
    fn write(&self, buf: &mut [u8]) -> Result<usize, Error> {
        if self.pairs.is_empty() {
            return Err(misuse("RTCP NACK: no entries"));
        }
        let n = write_fb(
            buf,
            FMT_NACK,
            PT_RTPFB,
            self.sender_ssrc,
            self.media_ssrc,
            self.pairs.len() * 4,
        )?;
        for (i, p) in self.pairs.iter().enumerate() {
            put_u16(buf, FCI + i * 4, p.pid);
            put_u16(buf, FCI + i * 4 + 2, p.blp);
        }
        Ok(n)
    }
}

// ---- PLI ----------------------------------------------------------------

fn check_pli(b: &[u8]) -> Result<usize, Error> {
    let (_, end) = check_fb(b, PT_PSFB, Some(FMT_PLI))?;
    if end != FCI {
        return Err(bad("RTCP PLI: has FCI (length must be 2)"));
    }
    Ok(end)
}

rtcp_view!(
    /// A picture loss indication (RFC 4585 §6.3.1, PSFB FMT 1).
    Pli,
    check_pli
);
fb_accessors!(Pli);

/// Builds a PLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PliBuilder {
    /// SSRC of the packet sender.
    pub sender_ssrc: Ssrc,
    /// SSRC of the media source.
    pub media_ssrc: Ssrc,
}

impl RtcpWrite for PliBuilder {
    fn buffer_len(&self) -> usize {
        FCI
    }
    fn write(&self, buf: &mut [u8]) -> Result<usize, Error> {
        write_fb(buf, FMT_PLI, PT_PSFB, self.sender_ssrc, self.media_ssrc, 0)
    }
}

// ---- FIR ----------------------------------------------------------------

fn check_fir(b: &[u8]) -> Result<usize, Error> {
    let (_, end) = check_fb(b, PT_PSFB, Some(FMT_FIR))?;
    let fci = end - FCI;
    if fci == 0 || fci % 8 != 0 {
        return Err(bad("RTCP FIR: FCI is empty or not whole 8-byte entries"));
    }
    Ok(end)
}

rtcp_view!(
    /// A full intra request (RFC 5104 §4.3.1, PSFB FMT 4).
    Fir,
    check_fir
);
fb_accessors!(Fir);

/// One FIR entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FirEntry {
    /// The media sender asked for a decoder refresh point.
    pub ssrc: Ssrc,
    /// Command sequence number.
    pub seq: u8,
}

impl<T: AsRef<[u8]>> Fir<T> {
    /// The entries (bounded by the packet length).
    pub fn entries(&self) -> impl ExactSizeIterator<Item = FirEntry> + Clone + '_ {
        self.fci().chunks_exact(8).map(|c| FirEntry {
            ssrc: Ssrc(u32_at(c, 0)),
            seq: u8_at(c, 4),
        })
    }
}

/// Builds a FIR (media source SSRC 0, RFC 5104 §4.3.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirBuilder<'a> {
    /// SSRC of the packet sender.
    pub sender_ssrc: Ssrc,
    /// Entries (at least one).
    pub entries: &'a [FirEntry],
}

impl RtcpWrite for FirBuilder<'_> {
    fn buffer_len(&self) -> usize {
        FCI + self.entries.len() * 8
    }
    fn write(&self, buf: &mut [u8]) -> Result<usize, Error> {
        if self.entries.is_empty() {
            return Err(misuse("RTCP FIR: no entries"));
        }
        let n = write_fb(
            buf,
            FMT_FIR,
            PT_PSFB,
            self.sender_ssrc,
            Ssrc(0),
            self.entries.len() * 8,
        )?;
        for (i, e) in self.entries.iter().enumerate() {
            put_u32(buf, FCI + i * 8, e.ssrc.0);
            put_u32(buf, FCI + i * 8 + 4, u32::from(e.seq) << 24);
        }
        Ok(n)
    }
}

// ---- REMB ---------------------------------------------------------------

/// True if a PSFB/AFB packet's FCI starts with the "REMB" identifier.
pub(crate) fn is_remb(b: &[u8]) -> bool {
    b.get(FCI..FCI + 4) == Some(b"REMB")
}

fn check_remb(b: &[u8]) -> Result<usize, Error> {
    let (_, end) = check_fb(b, PT_PSFB, Some(FMT_AFB))?;
    if end < FCI + 8 || !is_remb(b) {
        return Err(bad("RTCP REMB: missing the REMB identifier or bitrate"));
    }
    let n = usize::from(u8_at(b, FCI + 4));
    if FCI + 8 + n * 4 != end {
        return Err(bad(
            "RTCP REMB: SSRC count does not match the packet length",
        ));
    }
    Ok(end)
}

rtcp_view!(
    /// Receiver estimated maximum bitrate (draft-alvestrand-rmcat-remb-03
    /// §2.2, PSFB FMT 15).
    Remb,
    check_remb
);
fb_accessors!(Remb);

/// A REMB bitrate as sent: 6-bit exponent, 18-bit mantissa.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RembBitrate {
    /// BR Exp, 0..=63.
    pub exp: u8,
    /// BR Mantissa, 0..2^18.
    pub mantissa: u32,
}

impl RembBitrate {
    /// The smallest-exponent encoding of `bps` (rounded down).
    pub fn from_bps(bps: u64) -> RembBitrate {
        let mut exp = 0u8;
        while (bps >> exp) > 0x3_ffff {
            exp += 1;
        }
        RembBitrate {
            exp,
            mantissa: (bps >> exp) as u32,
        }
    }

    /// Bits per second (saturating at `u64::MAX`).
    pub fn bps(&self) -> u64 {
        let m = u64::from(self.mantissa);
        if self.exp >= 64 || (m != 0 && m.leading_zeros() < u32::from(self.exp)) {
            u64::MAX
        } else {
            m << self.exp
        }
    }
}

impl<T: AsRef<[u8]>> Remb<T> {
    /// The bitrate fields.
    pub fn bitrate(&self) -> RembBitrate {
        let v = u32_at(self.as_bytes(), FCI + 4);
        RembBitrate {
            exp: ((v >> 18) & 0x3f) as u8,
            mantissa: v & 0x3_ffff,
        }
    }

    /// The estimate in bits per second.
    pub fn bps(&self) -> u64 {
        self.bitrate().bps()
    }

    /// The SSRCs the estimate applies to (bounded by the packet length).
    pub fn ssrcs(&self) -> impl ExactSizeIterator<Item = Ssrc> + Clone + '_ {
        slice(self.as_bytes(), FCI + 8, self.end)
            .chunks_exact(4)
            .map(|c| Ssrc(u32_at(c, 0)))
    }
}

/// Builds a REMB (media source SSRC 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RembBuilder<'a> {
    /// SSRC of the packet sender.
    pub sender_ssrc: Ssrc,
    /// The estimate ([`RembBitrate::from_bps`]).
    pub bitrate: RembBitrate,
    /// SSRCs it applies to (at most 255).
    pub ssrcs: &'a [Ssrc],
}

impl RtcpWrite for RembBuilder<'_> {
    fn buffer_len(&self) -> usize {
        FCI + 8 + self.ssrcs.len() * 4
    }
    fn write(&self, buf: &mut [u8]) -> Result<usize, Error> {
        if self.ssrcs.len() > 255 || self.bitrate.exp > 63 || self.bitrate.mantissa > 0x3_ffff {
            return Err(misuse(
                "RTCP REMB: more than 255 SSRCs or bitrate out of range",
            ));
        }
        let n = write_fb(
            buf,
            FMT_AFB,
            PT_PSFB,
            self.sender_ssrc,
            Ssrc(0),
            8 + self.ssrcs.len() * 4,
        )?;
        put_slice(buf, FCI, b"REMB");
        put_u8(buf, FCI + 4, self.ssrcs.len() as u8);
        let v = (u32::from(self.bitrate.exp) << 18) | self.bitrate.mantissa;
        crate::wire::put_u24(buf, FCI + 5, v);
        for (i, s) in self.ssrcs.iter().enumerate() {
            put_u32(buf, FCI + 8 + i * 4, s.0);
        }
        Ok(n)
    }
}
