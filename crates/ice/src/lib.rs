//! Placeholder for tern-ice (see its issue).
#![forbid(unsafe_code)]

#[cfg(feature = "fuzzing")]
pub mod fuzzing {
    /// Placeholder fuzz body.
    pub fn ice_inbound(_data: &[u8]) {}
}
