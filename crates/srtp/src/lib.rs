//! Placeholder for tern-srtp (see its issue).
#![forbid(unsafe_code)]

#[cfg(feature = "fuzzing")]
pub mod fuzzing {
    /// Placeholder fuzz body.
    pub fn srtp_unprotect(_data: &[u8]) {}
    /// Placeholder fuzz body.
    pub fn srtcp_unprotect(_data: &[u8]) {}
}
