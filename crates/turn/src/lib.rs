//! TURN — Traversal Using Relays around NAT (RFC 8656) — server for Tern,
//! over UDP, sans-IO.
//!
//! - [`TurnServer`]: Allocate (§7.1–§7.2: REQUESTED-TRANSPORT UDP,
//!   REQUESTED-ADDRESS-FAMILY, DONT-FRAGMENT, EVEN-PORT and
//!   RESERVATION-TOKEN), Refresh (§7.3–§7.4), CreatePermission (§9),
//!   Send and Data indications (§10), ChannelBind (§11) and ChannelData
//!   (§12), lifetimes and expiry of allocations (§7), permissions (§9, 300 s)
//!   and channels (§12, 600 s); the long-term credential mechanism with
//!   REALM and NONCE (RFC 8489 §9.2) and time-limited shared-secret
//!   credentials ([`auth`]).
//! - [`addr`]: the peer policy (RFC 8656 §21.3): loopback, unspecified,
//!   private, carrier-grade NAT, link-local, multicast, broadcast and other
//!   special-purpose ranges, their IPv4-mapped, IPv4-compatible, 6to4 and
//!   NAT64 forms, and the server's own addresses are refused with 403
//!   unless the operator allows them; addresses are canonicalized before
//!   every comparison.
//! - [`channel`]: ChannelData framing.
//!
//! Time is always an argument; randomness and relay sockets come from the
//! caller's [`TurnEnv`]. See [`TurnServer`] for the poll order.
#![forbid(unsafe_code)]

pub mod addr;
pub mod auth;
pub mod channel;
mod server;

#[cfg(feature = "fuzzing")]
pub mod fuzzing;

pub use addr::{canonical, IpRange, PeerPolicy, Refusal};
pub use auth::{rest_password, split_rest_username};
pub use channel::{ChannelData, ChannelDataError, CHANNEL_MAX, CHANNEL_MAX_RFC5766, CHANNEL_MIN};
pub use server::{
    SeededEnv, ServerConfig, ServerStats, StateSize, Transmit, TurnEnv, TurnServer,
    CHANNEL_COOLDOWN, CHANNEL_LIFETIME, PERMISSION_LIFETIME, RESERVATION_LIFETIME,
};
