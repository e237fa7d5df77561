//! Errors sorted by cause, each with a static reason (no allocation).
use core::fmt;

/// Why an operation failed, by whose fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The bytes are not a well-formed STUN message (the peer sent garbage).
    InvalidMessage,
    /// Well-formed, but the peer broke a rule (bad integrity or fingerprint,
    /// unexpected transaction).
    PeerMisbehaved,
    /// The caller misused the API (buffer too small, value too long,
    /// attribute after FINGERPRINT).
    ApiMisuse,
}

/// A STUN error: a cause and a static, human-readable reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Error {
    kind: ErrorKind,
    reason: &'static str,
}

impl Error {
    pub(crate) const fn invalid(reason: &'static str) -> Self {
        Self {
            kind: ErrorKind::InvalidMessage,
            reason,
        }
    }
    pub(crate) const fn peer(reason: &'static str) -> Self {
        Self {
            kind: ErrorKind::PeerMisbehaved,
            reason,
        }
    }
    pub(crate) const fn misuse(reason: &'static str) -> Self {
        Self {
            kind: ErrorKind::ApiMisuse,
            reason,
        }
    }
    /// The cause.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
    /// The reason, for logs and for the reason phrase of an error response.
    pub fn reason(&self) -> &'static str {
        self.reason
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cause = match self.kind {
            ErrorKind::InvalidMessage => "invalid STUN message",
            ErrorKind::PeerMisbehaved => "STUN peer misbehaved",
            ErrorKind::ApiMisuse => "STUN API misuse",
        };
        write!(f, "{cause}: {}", self.reason)
    }
}

impl std::error::Error for Error {}
