//! Placeholder for tern-sfu (see its issue).
#![forbid(unsafe_code)]

#[cfg(feature = "fuzzing")]
pub mod fuzzing {
    /// Placeholder fuzz body.
    pub fn sfu_input(_data: &[u8]) {}
}
