//! RTCP (RFC 3550 §6) and its feedback extensions.
//!
//! - [`CompoundIter`] walks a compound packet (RFC 3550 §6.1) and yields one
//!   typed, validated view per packet ([`RtcpPacket`]). Reduced-size RTCP
//!   (RFC 5506 §3) is accepted: any packet type may come first and a
//!   compound may hold a single feedback packet. [`check_compound`] applies
//!   the full RFC 3550 Appendix A.2 rules when a caller wants them.
//! - Views, each `T: AsRef<[u8]>` over exactly one packet, validated by
//!   `new_checked` so that every count is bounded by the packet length and
//!   no accessor can fail: [`SenderReport`] and [`ReceiverReport`] (§6.4),
//!   [`Sdes`] (§6.5), [`Bye`] (§6.6), [`App`] (§6.7), [`Xr`] (RFC 3611
//!   §2, §4.4 RRTR, §4.5 DLRR), [`Nack`] (RFC 4585 §6.2.1), [`Pli`] (RFC
//!   4585 §6.3.1), [`Fir`] (RFC 5104 §4.3.1), [`Remb`]
//!   (draft-alvestrand-rmcat-remb-03 §2.2), [`Twcc`]
//!   (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1) and
//!   [`Feedback`] for any other RTPFB/PSFB message (RFC 4585 §6.1).
//! - Builders implementing [`RtcpWrite`], writing into caller buffers, and
//!   [`CompoundWriter`] to concatenate them.
//!
//! Padding (RFC 3550 §6.4.1 P bit): the last byte counts the padding bytes,
//! itself included; it must be non-zero and leave the fixed part of the
//! packet intact. Views expose the body with padding removed.

mod app_bye;
mod feedback;
mod report;
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) mod roundtrip;
mod sdes;
#[cfg(test)]
pub(crate) mod tests;
pub mod twcc;
mod xr;

pub use app_bye::{App, AppBuilder, Bye, ByeBuilder};
pub use feedback::{
    nack_pairs, Feedback, FeedbackBuilder, Fir, FirBuilder, FirEntry, Nack, NackBuilder, NackPair,
    NackPairs, Pli, PliBuilder, Remb, RembBitrate, RembBuilder,
};
pub use report::{
    ReceiverReport, ReceiverReportBuilder, ReportBlock, ReportBlockIter, SenderInfo, SenderReport,
    SenderReportBuilder,
};
pub use sdes::{
    Sdes, SdesBuilder, SdesChunk, SdesChunkIter, SdesChunkRepr, SdesItem, SdesItemIter, SdesType,
};
pub use twcc::{Twcc, TwccBuilder};
pub use xr::{DlrrItem, Xr, XrBlock, XrBlockIter, XrBlockRepr, XrBuilder};

use crate::error::{bad, misuse, need, Error};
use crate::wire::{put_u16, put_u8, u16_at, u8_at};

/// Packet type of a sender report (RFC 3550 §12.1).
pub const PT_SR: u8 = 200;
/// Packet type of a receiver report.
pub const PT_RR: u8 = 201;
/// Packet type of source description.
pub const PT_SDES: u8 = 202;
/// Packet type of goodbye.
pub const PT_BYE: u8 = 203;
/// Packet type of application-defined.
pub const PT_APP: u8 = 204;
/// Transport-layer feedback (RFC 4585 §6.1).
pub const PT_RTPFB: u8 = 205;
/// Payload-specific feedback (RFC 4585 §6.1).
pub const PT_PSFB: u8 = 206;
/// Extended report (RFC 3611 §2).
pub const PT_XR: u8 = 207;

/// The common RTCP header (RFC 3550 §6.4.1): version, padding, the 5-bit
/// count / format field, packet type and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RtcpHeader {
    /// The P bit.
    pub padding: bool,
    /// The 5-bit count (RC, SC), subtype (APP) or FMT (feedback) field.
    pub count: u8,
    /// The packet type.
    pub packet_type: u8,
    /// The packet length in bytes, header and padding included.
    pub len: usize,
}

impl RtcpHeader {
    /// Reads the header of the packet at the start of `b` (which may be a
    /// whole compound). Checks the version and that the declared length fits.
    #[inline]
    pub fn parse(b: &[u8]) -> Result<RtcpHeader, Error> {
        if b.len() < 4 {
            return Err(bad("RTCP: shorter than the 4-byte header"));
        }
        let b0 = u8_at(b, 0);
        if b0 >> 6 != 2 {
            return Err(bad("RTCP: version is not 2"));
        }
        let len = (usize::from(u16_at(b, 2)) + 1) * 4;
        if len > b.len() {
            return Err(bad("RTCP: length field overruns the datagram"));
        }
        Ok(RtcpHeader {
            padding: b0 & 0x20 != 0,
            count: b0 & 0x1f,
            packet_type: u8_at(b, 1),
            len,
        })
    }
}

/// Frames exactly one packet: the buffer must be exactly as long as the
/// header says. Returns the header and the end of the body (padding
/// removed).
#[inline]
pub(crate) fn frame(b: &[u8], min_body: usize) -> Result<(RtcpHeader, usize), Error> {
    let h = RtcpHeader::parse(b)?;
    if h.len != b.len() {
        return Err(bad("RTCP: bytes after the packet's declared length"));
    }
    let mut end = h.len;
    if h.padding {
        let pad = usize::from(u8_at(b, h.len - 1));
        if pad == 0 {
            return Err(bad("RTCP: padding bit set with a zero padding count"));
        }
        if pad > h.len - 4 {
            return Err(bad("RTCP: padding count exceeds the packet"));
        }
        end = h.len - pad;
    }
    if end < 4 + min_body {
        return Err(bad("RTCP: packet too short for its type"));
    }
    Ok((h, end))
}

/// Writes the 4-byte header for a packet of `total` bytes (a multiple of 4).
pub(crate) fn write_header(buf: &mut [u8], count: u8, pt: u8, total: usize) -> Result<(), Error> {
    if total % 4 != 0 || total < 4 || total / 4 - 1 > usize::from(u16::MAX) {
        return Err(misuse(
            "RTCP: packet length not a multiple of 4 or above 256 KiB",
        ));
    }
    if count > 31 {
        return Err(misuse("RTCP: count field above 31"));
    }
    need(buf, total)?;
    put_u8(buf, 0, 0x80 | count);
    put_u8(buf, 1, pt);
    put_u16(buf, 2, (total / 4 - 1) as u16);
    Ok(())
}

/// Something that writes one RTCP packet into a caller buffer.
pub trait RtcpWrite {
    /// The number of bytes [`RtcpWrite::write`] writes.
    fn buffer_len(&self) -> usize;
    /// Writes the packet at the start of `buf`; returns its length.
    fn write(&self, buf: &mut [u8]) -> Result<usize, Error>;
}

/// Declares a view type over exactly one RTCP packet.
macro_rules! rtcp_view {
    ($(#[$doc:meta])* $name:ident, $check:path) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name<T: AsRef<[u8]>> {
            buffer: T,
            /// End of the body (start of padding).
            end: usize,
        }

        impl<T: AsRef<[u8]>> $name<T> {
            /// Validates `buffer` as exactly one packet of this type.
            #[inline]
            pub fn new_checked(buffer: T) -> Result<Self, Error> {
                let end = $check(buffer.as_ref())?;
                Ok($name { buffer, end })
            }

            /// The underlying buffer.
            pub fn into_inner(self) -> T {
                self.buffer
            }

            /// The packet's bytes, header and padding included.
            pub fn as_bytes(&self) -> &[u8] {
                self.buffer.as_ref()
            }

            /// The bytes after the 4-byte header, padding removed.
            #[inline]
            pub fn body(&self) -> &[u8] {
                $crate::wire::slice(self.buffer.as_ref(), 4, self.end)
            }

            /// The 5-bit count / subtype / FMT field.
            #[inline]
            pub fn count(&self) -> u8 {
                $crate::wire::u8_at(self.buffer.as_ref(), 0) & 0x1f
            }

            /// Number of padding bytes.
            pub fn padding_len(&self) -> usize {
                self.buffer.as_ref().len() - self.end
            }
        }
    };
}
pub(crate) use rtcp_view;

/// One packet of a compound, as a typed view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RtcpPacket<'a> {
    /// SR, PT 200.
    SenderReport(SenderReport<&'a [u8]>),
    /// RR, PT 201.
    ReceiverReport(ReceiverReport<&'a [u8]>),
    /// SDES, PT 202.
    Sdes(Sdes<&'a [u8]>),
    /// BYE, PT 203.
    Bye(Bye<&'a [u8]>),
    /// APP, PT 204.
    App(App<&'a [u8]>),
    /// XR, PT 207.
    Xr(Xr<&'a [u8]>),
    /// Generic NACK, RTPFB FMT 1.
    Nack(Nack<&'a [u8]>),
    /// Transport-wide CC feedback, RTPFB FMT 15.
    Twcc(Twcc<&'a [u8]>),
    /// Picture loss indication, PSFB FMT 1.
    Pli(Pli<&'a [u8]>),
    /// Full intra request, PSFB FMT 4.
    Fir(Fir<&'a [u8]>),
    /// REMB, PSFB FMT 15 with the "REMB" identifier.
    Remb(Remb<&'a [u8]>),
    /// Any other RTPFB or PSFB message (TMMBR, SLI, other AFB, ...).
    Feedback(Feedback<&'a [u8]>),
    /// A packet type this crate does not interpret (framed and returned
    /// whole).
    Unknown(&'a [u8]),
}

impl<'a> RtcpPacket<'a> {
    /// Parses one packet; `b` must be exactly one packet long.
    pub fn parse(b: &'a [u8]) -> Result<RtcpPacket<'a>, Error> {
        let h = RtcpHeader::parse(b)?;
        Ok(match h.packet_type {
            PT_SR => RtcpPacket::SenderReport(SenderReport::new_checked(b)?),
            PT_RR => RtcpPacket::ReceiverReport(ReceiverReport::new_checked(b)?),
            PT_SDES => RtcpPacket::Sdes(Sdes::new_checked(b)?),
            PT_BYE => RtcpPacket::Bye(Bye::new_checked(b)?),
            PT_APP => RtcpPacket::App(App::new_checked(b)?),
            PT_XR => RtcpPacket::Xr(Xr::new_checked(b)?),
            PT_RTPFB => match h.count {
                feedback::FMT_NACK => RtcpPacket::Nack(Nack::new_checked(b)?),
                twcc::FMT_TWCC => RtcpPacket::Twcc(Twcc::new_checked(b)?),
                _ => RtcpPacket::Feedback(Feedback::new_checked(b)?),
            },
            PT_PSFB => match h.count {
                feedback::FMT_PLI => RtcpPacket::Pli(Pli::new_checked(b)?),
                feedback::FMT_FIR => RtcpPacket::Fir(Fir::new_checked(b)?),
                feedback::FMT_AFB if feedback::is_remb(b) => {
                    RtcpPacket::Remb(Remb::new_checked(b)?)
                }
                _ => RtcpPacket::Feedback(Feedback::new_checked(b)?),
            },
            _ => {
                frame(b, 0)?;
                RtcpPacket::Unknown(b)
            }
        })
    }

    /// The packet's bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        match *self {
            RtcpPacket::SenderReport(p) => p.into_inner(),
            RtcpPacket::ReceiverReport(p) => p.into_inner(),
            RtcpPacket::Sdes(p) => p.into_inner(),
            RtcpPacket::Bye(p) => p.into_inner(),
            RtcpPacket::App(p) => p.into_inner(),
            RtcpPacket::Xr(p) => p.into_inner(),
            RtcpPacket::Nack(p) => p.into_inner(),
            RtcpPacket::Twcc(p) => p.into_inner(),
            RtcpPacket::Pli(p) => p.into_inner(),
            RtcpPacket::Fir(p) => p.into_inner(),
            RtcpPacket::Remb(p) => p.into_inner(),
            RtcpPacket::Feedback(p) => p.into_inner(),
            RtcpPacket::Unknown(b) => b,
        }
    }

    /// The packet type byte.
    pub fn packet_type(&self) -> u8 {
        u8_at(self.as_bytes(), 1)
    }
}

/// Walks a compound RTCP packet (RFC 3550 §6.1), yielding one validated
/// view per packet.
///
/// A packet whose header or length is broken ends the walk (after one
/// `Err`), since the next packet cannot be located. A well-framed packet
/// whose contents are invalid yields one `Err` and the walk continues with
/// the next packet.
///
/// ```
/// use tern_rtp::rtcp::{CompoundIter, RtcpPacket};
/// // A PLI alone (reduced-size RTCP, RFC 5506).
/// let pli = [0x81, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2];
/// let mut it = CompoundIter::new(&pli);
/// assert!(matches!(it.next(), Some(Ok(RtcpPacket::Pli(_)))));
/// assert!(it.next().is_none());
/// ```
#[derive(Debug, Clone)]
pub struct CompoundIter<'a> {
    rest: &'a [u8],
}

impl<'a> CompoundIter<'a> {
    /// Walks `datagram`.
    pub fn new(datagram: &'a [u8]) -> Self {
        CompoundIter { rest: datagram }
    }
}

impl<'a> Iterator for CompoundIter<'a> {
    type Item = Result<RtcpPacket<'a>, Error>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let h = match RtcpHeader::parse(self.rest) {
            Ok(h) => h,
            Err(e) => {
                self.rest = &[];
                return Some(Err(e));
            }
        };
        let (this, rest) = self
            .rest
            .split_at_checked(h.len)
            .unwrap_or((self.rest, &[]));
        self.rest = rest;
        Some(RtcpPacket::parse(this))
    }
}

/// Checks the RFC 3550 compound rules (Appendix A.2) on top of a valid
/// walk: the first packet is an SR or RR, and only the last packet carries
/// padding. Reduced-size RTCP (RFC 5506) does not follow them; use
/// [`CompoundIter`] alone to accept it.
pub fn check_compound(datagram: &[u8]) -> Result<(), Error> {
    let mut first = true;
    let mut padded = false;
    for p in CompoundIter::new(datagram) {
        let p = p?;
        if padded {
            return Err(bad(
                "RTCP compound: padding on a packet that is not the last",
            ));
        }
        if first
            && !matches!(
                p,
                RtcpPacket::SenderReport(_) | RtcpPacket::ReceiverReport(_)
            )
        {
            return Err(bad("RTCP compound: first packet is neither SR nor RR"));
        }
        first = false;
        padded = u8_at(p.as_bytes(), 0) & 0x20 != 0;
    }
    if first {
        return Err(bad("RTCP compound: empty"));
    }
    Ok(())
}

/// Concatenates RTCP packets into a caller buffer.
///
/// ```
/// use tern_rtp::rtcp::{CompoundWriter, PliBuilder, ReceiverReportBuilder};
/// use tern_rtp::Ssrc;
/// let mut buf = [0u8; 64];
/// let mut w = CompoundWriter::new(&mut buf);
/// w.push(&ReceiverReportBuilder { ssrc: Ssrc(1), reports: &[], profile_ext: &[] }).unwrap();
/// w.push(&PliBuilder { sender_ssrc: Ssrc(1), media_ssrc: Ssrc(2) }).unwrap();
/// assert_eq!(w.finish(), 20);
/// ```
#[derive(Debug)]
pub struct CompoundWriter<'b> {
    buf: &'b mut [u8],
    pos: usize,
}

impl<'b> CompoundWriter<'b> {
    /// Starts writing at the start of `buf`.
    pub fn new(buf: &'b mut [u8]) -> Self {
        CompoundWriter { buf, pos: 0 }
    }

    /// Appends one packet.
    pub fn push<W: RtcpWrite + ?Sized>(&mut self, p: &W) -> Result<&mut Self, Error> {
        let out = self.buf.get_mut(self.pos..).unwrap_or(&mut []);
        self.pos += p.write(out)?;
        Ok(self)
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.pos
    }

    /// True if nothing was written.
    pub fn is_empty(&self) -> bool {
        self.pos == 0
    }

    /// The total length written.
    pub fn finish(self) -> usize {
        self.pos
    }
}
