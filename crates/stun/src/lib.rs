//! STUN (RFC 8489) for Tern. Work in progress.
#![forbid(unsafe_code)]
#[cfg(feature = "fuzzing")]
pub mod fuzzing {
    /// Placeholder fuzz body.
    pub fn stun_parse(_data: &[u8]) {}
    /// Placeholder fuzz body.
    pub fn stun_build(_data: &[u8]) {}
}
