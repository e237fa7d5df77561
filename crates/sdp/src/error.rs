//! Errors: one small `Copy` type with a static reason, sorted by cause.
//!
//! No error path allocates, so a peer sending garbage costs no heap.

use core::fmt;

/// Why an operation failed, sorted by who is to blame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The text is not valid SDP (or a typed attribute breaks its grammar).
    Syntax,
    /// The text exceeds one of the limits in [`crate::limits`].
    Limit,
    /// The peer's description is valid SDP but unacceptable in offer/answer
    /// (no mid, no common codec anywhere, an answer that does not match the offer).
    Negotiation,
    /// The caller used the API wrongly (applying an answer with no offer
    /// outstanding, a builder given a value that cannot be serialized).
    ApiMisuse,
}

/// An SDP error: the cause, a static reason and the 1-based line number
/// (0 when the error is not tied to one line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Error {
    kind: ErrorKind,
    line: u32,
    reason: &'static str,
}

impl Error {
    pub(crate) const fn new(kind: ErrorKind, line: u32, reason: &'static str) -> Self {
        Error { kind, line, reason }
    }

    pub(crate) const fn syntax(line: u32, reason: &'static str) -> Self {
        Error::new(ErrorKind::Syntax, line, reason)
    }

    pub(crate) const fn limit(line: u32, reason: &'static str) -> Self {
        Error::new(ErrorKind::Limit, line, reason)
    }

    pub(crate) const fn negotiation(line: u32, reason: &'static str) -> Self {
        Error::new(ErrorKind::Negotiation, line, reason)
    }

    pub(crate) const fn misuse(reason: &'static str) -> Self {
        Error::new(ErrorKind::ApiMisuse, 0, reason)
    }

    /// The cause.
    pub const fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// 1-based line number in the SDP text, 0 if not tied to a line.
    pub const fn line(&self) -> u32 {
        self.line
    }

    /// A short, static description of what is wrong.
    pub const fn reason(&self) -> &'static str {
        self.reason
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "SDP line {}: {}", self.line, self.reason)
        } else {
            write!(f, "SDP: {}", self.reason)
        }
    }
}

impl std::error::Error for Error {}
