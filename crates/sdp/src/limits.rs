//! Caps against resource exhaustion (DESIGN.md, "Bounded state everywhere").
//!
//! The parser checks each one before it allocates for the thing it bounds.

/// Largest accepted description, in bytes (the signaling frame cap is also 64 KiB).
pub const MAX_SDP_LEN: usize = 64 * 1024;
/// Most media sections (m= lines) in one description.
pub const MAX_MEDIA_SECTIONS: usize = 64;
/// Most `a=candidate` lines in one section (session level counts as one section).
pub const MAX_CANDIDATES_PER_SECTION: usize = 64;
/// Longest accepted line, in bytes, excluding the line ending.
pub const MAX_LINE_LEN: usize = 4096;
/// Most attribute lines in one section.
pub const MAX_ATTRIBUTES_PER_SECTION: usize = 1024;
