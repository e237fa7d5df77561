//! Errors, sorted by cause (DESIGN.md): the peer sent something we reject,
//! or the caller misused the API. Every reason is a static string; no error
//! path allocates.

use core::fmt;

/// Why an SRTP or SRTCP operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Error {
    /// The packet is malformed: too short for its header plus tag, wrong
    /// version, or a header that runs past the end.
    Malformed(&'static str),
    /// The authentication tag did not verify (compared in constant time).
    AuthFailed,
    /// The packet index was already received (§3.3.2).
    Replayed,
    /// The packet index is older than the replay window (§3.3.2).
    TooOld,
    /// The SSRC is not one this context accepts (see [`crate::Config::accept_new_ssrcs`]).
    UnknownSsrc,
    /// A new SSRC would exceed the context's stream cap.
    TooManyStreams,
    /// The SRTCP index (2^31 packets) or SRTP index (2^48) is exhausted:
    /// the session must be re-keyed (RFC 3711 §9.2).
    IndexExhausted,
    /// The caller's buffer has no room for the tag (and SRTCP index).
    BufferTooSmall,
    /// The caller passed an invalid argument (wrong key length, `len`
    /// larger than the buffer, ...).
    ApiMisuse(&'static str),
}

impl Error {
    /// True when the cause is the remote peer or the network (drop the
    /// packet and carry on), false when it is the local caller.
    pub fn is_peer_fault(&self) -> bool {
        matches!(
            self,
            Error::Malformed(_)
                | Error::AuthFailed
                | Error::Replayed
                | Error::TooOld
                | Error::UnknownSsrc
                | Error::TooManyStreams
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Malformed(why) => write!(f, "malformed packet: {why}"),
            Error::AuthFailed => f.write_str("authentication tag mismatch"),
            Error::Replayed => f.write_str("replayed packet"),
            Error::TooOld => f.write_str("packet older than the replay window"),
            Error::UnknownSsrc => f.write_str("unknown SSRC"),
            Error::TooManyStreams => f.write_str("too many SSRCs for this context"),
            Error::IndexExhausted => f.write_str("packet index exhausted; re-key"),
            Error::BufferTooSmall => f.write_str("buffer has no room for the tag"),
            Error::ApiMisuse(why) => write!(f, "API misuse: {why}"),
        }
    }
}

impl std::error::Error for Error {}
