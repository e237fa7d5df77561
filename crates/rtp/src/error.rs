//! The crate's one error type, sorted by cause (after rustls): the peer sent
//! bytes that are not a valid packet, or the caller asked for something the
//! format cannot express or gave a buffer that is too small.
//!
//! Every variant is `Copy` and carries at most a `&'static str`, so returning
//! an error never allocates, which matters on paths an attacker can reach.

use core::fmt;

/// Why an operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// The bytes received from the network are not a valid packet. The
    /// peer sent garbage or misbehaved; drop the datagram (and at most log
    /// the reason at debug level).
    InvalidPacket(&'static str),
    /// A value given by the caller cannot be encoded (an extension id out of
    /// range, a value of the wrong length, too many report blocks, ...). This
    /// is a bug in the caller.
    InvalidInput(&'static str),
    /// The caller's output buffer is too small for what it asked to write.
    BufferTooSmall {
        /// Bytes the write needs.
        needed: usize,
        /// Bytes the buffer has.
        available: usize,
    },
}

impl Error {
    /// True when the error is the peer's fault (bad bytes on the wire).
    pub fn is_peer_error(&self) -> bool {
        matches!(self, Error::InvalidPacket(_))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidPacket(why) => write!(f, "invalid packet: {why}"),
            Error::InvalidInput(why) => write!(f, "invalid input: {why}"),
            Error::BufferTooSmall { needed, available } => {
                write!(f, "buffer too small: need {needed} bytes, have {available}")
            }
        }
    }
}

impl std::error::Error for Error {}

/// Shorthand for a peer error.
pub(crate) const fn bad(why: &'static str) -> Error {
    Error::InvalidPacket(why)
}

/// Shorthand for a caller error.
pub(crate) const fn misuse(why: &'static str) -> Error {
    Error::InvalidInput(why)
}

/// Checks that `buf` can hold `needed` bytes.
pub(crate) fn need(buf: &[u8], needed: usize) -> Result<(), Error> {
    if buf.len() < needed {
        Err(Error::BufferTooSmall {
            needed,
            available: buf.len(),
        })
    } else {
        Ok(())
    }
}
