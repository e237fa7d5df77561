//! DTLS errors, sorted by cause; every reason is static.

use core::fmt;

/// Why a DTLS endpoint failed or refused an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Error {
    /// The remote certificate's SHA-256 fingerprint is not the one the
    /// remote SDP announced (RFC 8122 §5, RFC 5763 §5): the handshake is
    /// aborted and no keys are exported.
    FingerprintMismatch,
    /// The handshake did not complete before the configured deadline.
    HandshakeTimeout,
    /// The peer sent something OpenSSL rejected, or an alert.
    HandshakeFailed(&'static str),
    /// The peer did not negotiate any SRTP protection profile Tern offers
    /// (RFC 5764 §4.1.1).
    NoSrtpProfile,
    /// The peer sent more handshake bytes than the configured cap.
    HandshakeTooLarge,
    /// The outgoing queue is full.
    BufferFull,
    /// Application data was sent before the handshake completed or after
    /// the endpoint closed or failed.
    NotConnected,
    /// A local setup step failed (certificate generation, OpenSSL context).
    Setup(&'static str),
    /// The caller passed an invalid argument.
    ApiMisuse(&'static str),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::FingerprintMismatch => f.write_str("remote certificate fingerprint mismatch"),
            Error::HandshakeTimeout => f.write_str("DTLS handshake timed out"),
            Error::HandshakeFailed(why) => write!(f, "DTLS handshake failed: {why}"),
            Error::NoSrtpProfile => f.write_str("no SRTP protection profile negotiated"),
            Error::HandshakeTooLarge => f.write_str("handshake exceeded the buffered-bytes cap"),
            Error::BufferFull => f.write_str("outgoing queue full"),
            Error::NotConnected => f.write_str("DTLS endpoint not connected"),
            Error::Setup(why) => write!(f, "DTLS setup failed: {why}"),
            Error::ApiMisuse(why) => write!(f, "API misuse: {why}"),
        }
    }
}

impl std::error::Error for Error {}
