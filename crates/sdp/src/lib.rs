//! Placeholder for tern-sdp (see its issue).
#![forbid(unsafe_code)]

#[cfg(feature = "fuzzing")]
pub mod fuzzing {
    /// Placeholder fuzz body.
    pub fn sdp_negotiate(_data: &[u8]) {}
    /// Placeholder fuzz body.
    pub fn sdp_parse(_data: &[u8]) {}
}
