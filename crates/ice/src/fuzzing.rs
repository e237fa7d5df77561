//! Fuzz target bodies (`fuzz/fuzz_targets/ice_inbound.rs`).

/// `ice_inbound`: placeholder while the body is written.
pub fn ice_inbound(_data: &[u8]) {}
