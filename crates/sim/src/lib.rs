//! Placeholder for tern-sim (see its issue).
#![forbid(unsafe_code)]
