//! Domain newtypes that keep the many 8-, 16-, 32- and 64-bit numbers of
//! RTP/RTCP from being confused with each other.

use core::fmt;

/// A synchronisation source identifier (RFC 3550 §5.1), also used for CSRCs
/// and for the sender/media SSRC fields of RTCP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Ssrc(pub u32);

impl From<u32> for Ssrc {
    fn from(v: u32) -> Self {
        Ssrc(v)
    }
}

impl From<Ssrc> for u32 {
    fn from(v: Ssrc) -> Self {
        v.0
    }
}

impl fmt::Display for Ssrc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An RTP payload type: 7 bits (RFC 3550 §5.1). The constructor rejects
/// values above 127, so every `Pt` fits the wire field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pt(u8);

impl Pt {
    /// The payload type `v`, or `None` if `v > 127`.
    pub const fn new(v: u8) -> Option<Pt> {
        if v <= 0x7f {
            Some(Pt(v))
        } else {
            None
        }
    }

    /// The low 7 bits of `v` (the wire field).
    pub(crate) const fn from_wire(v: u8) -> Pt {
        Pt(v & 0x7f)
    }

    /// The numeric value, 0..=127.
    pub const fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for Pt {
    type Error = crate::Error;
    fn try_from(v: u8) -> Result<Self, Self::Error> {
        Pt::new(v).ok_or(crate::Error::InvalidInput("payload type above 127"))
    }
}

impl From<Pt> for u8 {
    fn from(v: Pt) -> Self {
        v.0
    }
}

impl fmt::Display for Pt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An extended RTP sequence number (RFC 3550 §6.4.1, Appendix A.1): the
/// 16-bit wire value in the low bits, the count of wrap-arounds (cycles)
/// above. Never wraps in practice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SeqNo(pub u64);

impl SeqNo {
    /// The 16 bits that go on the wire.
    pub const fn wire(self) -> u16 {
        self.0 as u16
    }

    /// The number of times the 16-bit sequence number has wrapped.
    pub const fn cycles(self) -> u64 {
        self.0 >> 16
    }

    /// The 32-bit "extended highest sequence number received" field of a
    /// report block (RFC 3550 §6.4.1): cycles modulo 2^16 and the wire value.
    pub const fn report_field(self) -> u32 {
        self.0 as u32
    }

    /// Extends the wire value `seq` to the extended number closest to `self`
    /// (the last extended number seen): the usual rollover rule, which picks
    /// the candidate within ±2^15 of `self`. Saturates at 0 instead of going
    /// negative.
    pub fn extend(self, seq: u16) -> SeqNo {
        let last = self.0;
        let diff = i64::from(seq.wrapping_sub(last as u16) as i16);
        SeqNo(if diff >= 0 {
            last.wrapping_add(diff as u64)
        } else {
            last.saturating_sub(diff.unsigned_abs())
        })
    }
}

impl From<u64> for SeqNo {
    fn from(v: u64) -> Self {
        SeqNo(v)
    }
}

impl fmt::Display for SeqNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A 64-bit NTP timestamp (RFC 3550 §4): seconds since 1900 in the high 32
/// bits, the fraction of a second in the low 32 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct NtpTime(pub u64);

impl NtpTime {
    /// The middle 32 bits (RFC 3550 §6.4.1 "LSR"): the compact form used by
    /// report blocks and DLRR.
    pub const fn compact(self) -> CompactNtp {
        CompactNtp((self.0 >> 16) as u32)
    }

    /// Whole seconds.
    pub const fn seconds(self) -> u32 {
        (self.0 >> 32) as u32
    }

    /// Fraction of a second in units of 2^-32 s.
    pub const fn fraction(self) -> u32 {
        self.0 as u32
    }
}

/// The middle 32 bits of an NTP timestamp, in units of 1/65536 s: the form
/// of LSR, DLSR (RFC 3550 §6.4.1) and of the RRTR/DLRR fields (RFC 3611).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct CompactNtp(pub u32);

impl CompactNtp {
    /// The value in microseconds (rounded down).
    pub const fn as_micros(self) -> u64 {
        (self.0 as u64 * 1_000_000) >> 16
    }

    /// A duration in microseconds as a compact NTP value (saturating).
    pub const fn from_micros(us: u64) -> CompactNtp {
        let v = (us << 16) / 1_000_000;
        CompactNtp(if v > u32::MAX as u64 {
            u32::MAX
        } else {
            v as u32
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pt_rejects_above_127() {
        assert_eq!(Pt::new(127).map(Pt::get), Some(127));
        assert!(Pt::new(128).is_none());
        assert!(Pt::try_from(200u8).is_err());
    }

    #[test]
    fn seqno_extend_across_wrap() {
        // Hand-computed: last = cycle 1, seq 65530; 3 arrives after a wrap.
        let last = SeqNo((1 << 16) | 65530);
        assert_eq!(last.extend(3), SeqNo((2 << 16) | 3));
        // A late packet from before the wrap stays in the old cycle.
        let last = SeqNo((2 << 16) | 3);
        assert_eq!(last.extend(65530), SeqNo((1 << 16) | 65530));
        // Near zero, no negative result.
        assert_eq!(SeqNo(2).extend(65535), SeqNo(0));
        assert_eq!(SeqNo(5).extend(5).wire(), 5);
        assert_eq!(SeqNo((3 << 16) | 9).cycles(), 3);
    }

    #[test]
    fn compact_ntp_rfc3550_6_4_1_example() {
        // RFC 3550 §6.4.1: DLSR 0x00054000 is 5.25 s.
        assert_eq!(CompactNtp(0x0005_4000).as_micros(), 5_250_000);
        assert_eq!(CompactNtp::from_micros(5_250_000), CompactNtp(0x0005_4000));
        // 46853.125 s (seconds 0xb705, fraction 0x2000_0000) compacts to LSR 0xb7052000.
        assert_eq!(
            NtpTime(0x0000_b705_2000_0000).compact(),
            CompactNtp(0xb705_2000)
        );
    }
}
