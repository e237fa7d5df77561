//! Errors sorted by cause, each with a static reason (no allocation).
use core::fmt;

/// Why an operation failed, by whose fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Input from the peer (a candidate line, credentials from signaling)
    /// is malformed.
    InvalidInput,
    /// The caller misused the API (e.g. a check before credentials).
    ApiMisuse,
    /// A bound was reached (remote candidates, pairs, local candidates).
    LimitReached,
}

/// An ICE error: a cause and a static reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Error {
    kind: ErrorKind,
    reason: &'static str,
}

impl Error {
    pub(crate) const fn invalid(reason: &'static str) -> Self {
        Self {
            kind: ErrorKind::InvalidInput,
            reason,
        }
    }
    pub(crate) const fn misuse(reason: &'static str) -> Self {
        Self {
            kind: ErrorKind::ApiMisuse,
            reason,
        }
    }
    pub(crate) const fn limit(reason: &'static str) -> Self {
        Self {
            kind: ErrorKind::LimitReached,
            reason,
        }
    }
    /// The cause.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
    /// The reason.
    pub fn reason(&self) -> &'static str {
        self.reason
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cause = match self.kind {
            ErrorKind::InvalidInput => "invalid ICE input",
            ErrorKind::ApiMisuse => "ICE API misuse",
            ErrorKind::LimitReached => "ICE limit reached",
        };
        write!(f, "{cause}: {}", self.reason)
    }
}

impl std::error::Error for Error {}
