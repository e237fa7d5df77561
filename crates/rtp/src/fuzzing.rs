//! Fuzz target bodies (feature `fuzzing`); the files under `fuzz/` call
//! these.
#![allow(missing_docs)]

pub fn rtcp_compound(_data: &[u8]) {}
pub fn rtcp_twcc(_data: &[u8]) {}
pub fn rtp_header_ext(_data: &[u8]) {}
pub fn rtp_parse(_data: &[u8]) {}
