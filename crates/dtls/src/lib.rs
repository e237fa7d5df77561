//! Placeholder for tern-dtls (see its issue).
#![forbid(unsafe_code)]

#[cfg(feature = "fuzzing")]
pub mod fuzzing {
    /// Placeholder fuzz body.
    pub fn dtls_server_input(_data: &[u8]) {}
}
