//! tern-net: the sockets on Tern's media path (skeleton; being written).

pub mod worker;
