//! ICE for Tern (sans-IO): RFC 8445 Interactive Connectivity Establishment
//! in its lite (§2.5, §8.2) and full (§5–§9) forms, trickle ICE (RFC 8838)
//! and consent freshness (RFC 7675).
//!
//! - [`Agent`]: one ICE agent for one component (RTP/RTCP multiplexed).
//!   The SFU runs it lite: it answers connectivity checks, learns the
//!   peer's address from authenticated checks, follows USE-CANDIDATE, and
//!   reports consent expiry so state can be freed. Clients and the load
//!   generator run it full: host and server-reflexive candidates, paced
//!   checklists, triggered checks, regular nomination, role-conflict
//!   resolution, peer-reflexive candidates, ICE restart and trickle.
//! - [`Candidate`]: candidates, priorities (§5.1.2), pair priorities
//!   (§6.1.2.3) and the SDP `candidate` attribute (RFC 8839 §5.1).
//! - [`Credentials`]: `ice-ufrag` and `ice-pwd` (§5.3).
//! - [`TurnClient`]: a TURN client (RFC 8656) for relayed candidates:
//!   allocation, permissions, channels, refreshes; its relayed address
//!   goes to [`Agent::add_local_relayed`].
//!
//! STUN messages come from `tern-stun`. Only a STUN request with our ufrag
//! and a valid MESSAGE-INTEGRITY, or a response to one of our outstanding
//! transactions from the address the request went to and with a valid
//! MESSAGE-INTEGRITY, changes the agent's state. Every collection is
//! bounded (see the `MAX_*` constants). Randomness comes from a caller
//! seed or [`IceRng`]; time is always an argument.
//!
//! # Poll order
//!
//! After each `handle_receive`, `handle_timeout` or configuration call:
//! drain [`Agent::poll_transmit`] until `None`, drain [`Agent::poll_event`]
//! until `None`, then call [`Agent::handle_timeout`] at
//! [`Agent::poll_timeout`].
#![forbid(unsafe_code)]

mod agent;
mod candidate;
mod credentials;
mod error;
mod rng;
mod turn;

#[cfg(feature = "fuzzing")]
pub mod fuzzing;

pub use agent::{
    Agent, AgentConfig, AgentStats, Event, IceState, MAX_EVENTS, MAX_LOCAL_CANDIDATES, MAX_PAIRS,
    MAX_PENDING_RESPONSES, MAX_REMOTE_CANDIDATES, MAX_STUN_SERVERS, MAX_TRANSACTIONS,
};
pub use candidate::{
    candidate_priority, pair_priority, Candidate, CandidateKind, Foundation, COMPONENT_RTP,
    MAX_CANDIDATE_LINE, MAX_FOUNDATION,
};
pub use credentials::{Credentials, MAX_CREDENTIAL_LEN};
pub use error::{Error, ErrorKind};
pub use rng::{IceRng, SeededRng};
pub use tern_stun::Transmit;
pub use turn::{
    Received, TurnClient, TurnClientConfig, TurnEvent, TurnState, MAX_TURN_CHANNELS,
    MAX_TURN_EVENTS, MAX_TURN_PERMISSIONS,
};
