//! Placeholder for tern-turn (see its issue).
#![forbid(unsafe_code)]

#[cfg(feature = "fuzzing")]
pub mod fuzzing {
    /// Placeholder fuzz body.
    pub fn turn_server_input(_data: &[u8]) {}
    /// Placeholder fuzz body.
    pub fn turn_channeldata(_data: &[u8]) {}
}
