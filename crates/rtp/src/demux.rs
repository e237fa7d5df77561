//! Demultiplexing of one UDP port shared by STUN, DTLS, TURN ChannelData,
//! ZRTP, RTP and RTCP.
//!
//! - RFC 7983 §7: the first byte decides: 0–3 STUN, 16–19 ZRTP, 20–63 DTLS,
//!   64–79 TURN ChannelData, 128–191 RTP or RTCP; anything else is dropped.
//! - RFC 5761 §4: RTP and RTCP on one port are told apart by the second
//!   byte: with the marker bit masked off, 64–95 is RTCP (packet types
//!   192–223), everything else RTP.
//!
//! This is a classification only; the caller still parses (and validates)
//! the packet with the matching parser.

/// What a datagram on a multiplexed port is, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketKind {
    /// STUN (first byte 0–3).
    Stun,
    /// ZRTP (first byte 16–19).
    Zrtp,
    /// DTLS (first byte 20–63).
    Dtls,
    /// TURN ChannelData (first byte 64–79).
    TurnChannel,
    /// RTP (first byte 128–191, second byte outside the RTCP range).
    Rtp,
    /// RTCP (first byte 128–191, payload-type byte 192–223).
    Rtcp,
    /// None of the above (including empty datagrams and an RTP/RTCP first
    /// byte with no second byte): drop it.
    Unknown,
}

/// Classifies a datagram by its first byte (RFC 7983) and, for RTP/RTCP, by
/// its second (RFC 5761 §4). Never panics, never reads beyond byte 1.
#[inline]
pub fn classify(datagram: &[u8]) -> PacketKind {
    match datagram.first() {
        Some(0..=3) => PacketKind::Stun,
        Some(16..=19) => PacketKind::Zrtp,
        Some(20..=63) => PacketKind::Dtls,
        Some(64..=79) => PacketKind::TurnChannel,
        Some(128..=191) => match datagram.get(1) {
            Some(b) if (64..=95).contains(&(b & 0x7f)) => PacketKind::Rtcp,
            Some(_) => PacketKind::Rtp,
            None => PacketKind::Unknown,
        },
        _ => PacketKind::Unknown,
    }
}

/// True if an RTP-range datagram's second byte marks it as RTCP
/// (RFC 5761 §4: packet type 192–223, i.e. payload type 64–95 with M set or
/// not).
#[inline]
pub fn is_rtcp(datagram: &[u8]) -> bool {
    classify(datagram) == PacketKind::Rtcp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7983_first_byte_ranges() {
        // Every first byte, with a second byte that is plain RTP (PT 96).
        for b in 0..=255u8 {
            let k = classify(&[b, 96]);
            let want = match b {
                0..=3 => PacketKind::Stun,
                16..=19 => PacketKind::Zrtp,
                20..=63 => PacketKind::Dtls,
                64..=79 => PacketKind::TurnChannel,
                128..=191 => PacketKind::Rtp,
                _ => PacketKind::Unknown,
            };
            assert_eq!(k, want, "first byte {b}");
        }
        assert_eq!(classify(&[]), PacketKind::Unknown);
        assert_eq!(classify(&[0x80]), PacketKind::Unknown);
        assert_eq!(classify(&[0x00]), PacketKind::Stun);
    }

    #[test]
    fn rfc5761_4_rtcp_range() {
        // RTCP packet types 192..=223 (SR 200, RR 201, ..., RTPFB 205).
        for pt in 0..=255u8 {
            let k = classify(&[0x80, pt]);
            let want = if (192..=223).contains(&pt) || (64..=95).contains(&pt) {
                PacketKind::Rtcp
            } else {
                PacketKind::Rtp
            };
            assert_eq!(k, want, "second byte {pt}");
        }
        assert!(is_rtcp(&[0x81, 200]));
        assert!(!is_rtcp(&[0x80, 0xe0])); // M=1, PT 96
    }
}
