//! ChannelData framing (RFC 8656 §12.4, §12.5).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |         Channel Number        |            Length             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! /                       Application Data                        /
//! ```
//!
//! Channel numbers 0x4000–0x4FFF are valid (§12); Length counts the
//! application data only. Over UDP padding is optional (§12.5): a receiver
//! accepts up to three bytes of padding after the data and nothing more.

/// First valid channel number (RFC 8656 §12).
pub const CHANNEL_MIN: u16 = 0x4000;
/// Last valid channel number (RFC 8656 §12).
pub const CHANNEL_MAX: u16 = 0x4FFF;
/// Last channel number of the older range RFC 5766 §11 allowed
/// (0x4000–0x7FFF), which some clients (coturn's `turnutils_uclient`) still
/// use; RFC 8656 narrowed it so ChannelData stays clear of RFC 7983's
/// demultiplexing ranges.
pub const CHANNEL_MAX_RFC5766: u16 = 0x7FFF;
/// Size of the ChannelData header.
pub const CHANNEL_HEADER_LEN: usize = 4;

/// Whether `n` is a channel number a client may bind.
pub fn is_valid_channel(n: u16) -> bool {
    (CHANNEL_MIN..=CHANNEL_MAX).contains(&n)
}

/// Why a datagram is not a ChannelData message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelDataError {
    /// Shorter than the 4-byte header.
    TooShort,
    /// The first two bits are not 0b01 or the number is outside
    /// 0x4000–0x4FFF.
    BadChannelNumber,
    /// The length field claims more data than the datagram holds.
    Truncated,
    /// More than three bytes follow the data.
    TrailingBytes,
}

/// A validated ChannelData message borrowing the datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelData<'a> {
    number: u16,
    data: &'a [u8],
}

impl<'a> ChannelData<'a> {
    /// Parses one ChannelData message that is the whole UDP datagram.
    pub fn parse(datagram: &'a [u8]) -> Result<Self, ChannelDataError> {
        Self::parse_up_to(datagram, CHANNEL_MAX)
    }

    /// As [`Self::parse`], accepting channel numbers 0x4000 to `max`
    /// (at most [`CHANNEL_MAX_RFC5766`]).
    pub fn parse_up_to(datagram: &'a [u8], max: u16) -> Result<Self, ChannelDataError> {
        let [a, b, c, d, rest @ ..] = datagram else {
            return Err(ChannelDataError::TooShort);
        };
        let number = u16::from_be_bytes([*a, *b]);
        if !(CHANNEL_MIN..=max.min(CHANNEL_MAX_RFC5766)).contains(&number) {
            return Err(ChannelDataError::BadChannelNumber);
        }
        let len = usize::from(u16::from_be_bytes([*c, *d]));
        let data = rest.get(..len).ok_or(ChannelDataError::Truncated)?;
        if rest.len() - len > 3 {
            return Err(ChannelDataError::TrailingBytes);
        }
        Ok(Self { number, data })
    }

    /// The channel number.
    pub fn number(&self) -> u16 {
        self.number
    }

    /// The application data.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// Writes a ChannelData message (no padding) into `out`; returns its
    /// length, or `None` if `out` is too small, the data is longer than
    /// 65535 bytes, or the number is outside 0x4000–0x7FFF.
    pub fn encode(number: u16, data: &[u8], out: &mut [u8]) -> Option<usize> {
        if !(CHANNEL_MIN..=CHANNEL_MAX_RFC5766).contains(&number) {
            return None;
        }
        let len = u16::try_from(data.len()).ok()?;
        let total = CHANNEL_HEADER_LEN + data.len();
        let o = out.get_mut(..total)?;
        o[..2].copy_from_slice(&number.to_be_bytes());
        o[2..4].copy_from_slice(&len.to_be_bytes());
        o[4..].copy_from_slice(data);
        Some(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc8656_12_4_round_trip_and_padding() {
        let mut buf = [0u8; 16];
        let n = ChannelData::encode(0x4001, b"hello", &mut buf).unwrap();
        assert_eq!(&buf[..n], b"\x40\x01\x00\x05hello");
        let m = ChannelData::parse(&buf[..n]).unwrap();
        assert_eq!((m.number(), m.data()), (0x4001, &b"hello"[..]));
        // Up to three padding bytes are accepted over UDP.
        assert!(ChannelData::parse(&buf[..n + 3]).is_ok());
        assert_eq!(
            ChannelData::parse(&buf[..n + 4]),
            Err(ChannelDataError::TrailingBytes)
        );
    }

    #[test]
    fn every_truncation_is_an_error() {
        let mut buf = [0u8; 16];
        let n = ChannelData::encode(0x4FFF, b"abcdefgh", &mut buf).unwrap();
        for i in 0..n {
            assert!(ChannelData::parse(&buf[..i]).is_err(), "{i}");
        }
    }

    #[test]
    fn channel_number_range() {
        for (n, ok) in [
            (0x3FFF, false),
            (0x4000, true),
            (0x4FFF, true),
            (0x5000, false),
            (0x7FFF, false),
        ] {
            assert_eq!(is_valid_channel(n), ok);
            let d = [(n >> 8) as u8, n as u8, 0, 0];
            assert_eq!(ChannelData::parse(&d).is_ok(), ok, "{n:#x}");
        }
        assert_eq!(ChannelData::encode(0x8000, b"", &mut [0u8; 8]), None);
        assert!(ChannelData::parse_up_to(&[0x7F, 0xFF, 0, 0], CHANNEL_MAX_RFC5766).is_ok());
        assert!(ChannelData::parse_up_to(&[0x80, 0x00, 0, 0], 0xFFFF).is_err());
        assert_eq!(ChannelData::encode(0x4000, b"abc", &mut [0u8; 6]), None);
    }
}
