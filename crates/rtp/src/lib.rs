//! Placeholder for tern-rtp (see its issue).
#![forbid(unsafe_code)]

#[cfg(feature = "fuzzing")]
pub mod fuzzing {
    /// Placeholder fuzz body.
    pub fn rtcp_compound(_data: &[u8]) {}
    /// Placeholder fuzz body.
    pub fn rtcp_twcc(_data: &[u8]) {}
    /// Placeholder fuzz body.
    pub fn rtp_header_ext(_data: &[u8]) {}
    /// Placeholder fuzz body.
    pub fn rtp_parse(_data: &[u8]) {}
}
