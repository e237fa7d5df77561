//! tern-client: Tern's own client stack (skeleton; being written).
#![forbid(unsafe_code)]
