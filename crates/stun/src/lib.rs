//! STUN — Session Traversal Utilities for NAT (RFC 8489) for Tern.
//!
//! Everything here is sans-IO: no sockets, no clock reads, no threads. The
//! pieces, and the RFC sections each implements:
//!
//! - [`Message`]: a zero-copy view over a received datagram (§5 header, §14
//!   attributes). [`Message::parse`] validates the whole message once —
//!   header, every attribute's length and padding, the ordering rules around
//!   MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 and FINGERPRINT (§14.5–§14.7),
//!   and the value format of every attribute Tern knows — so the typed
//!   accessors afterwards cannot fail and cannot panic.
//! - [`MessageBuilder`]: writes a message into a caller-owned buffer, with no
//!   allocation, and appends MESSAGE-INTEGRITY(-SHA256) and FINGERPRINT with
//!   the length field adjusted as §14.5–§14.7 require.
//! - [`IntegrityKey`]: short-term and long-term keys (§9.1.1, §9.2.2), the
//!   HMAC key schedule computed once per key, and constant-time verification.
//! - [`BindingServer`]: a sans-IO Binding server (§6.3) answering with
//!   XOR-MAPPED-ADDRESS and FINGERPRINT, 400 and 420 for bad requests.
//! - [`BindingClient`]: a sans-IO Binding transaction (§6.2.1 retransmission
//!   over UDP) that learns the server-reflexive address.
//!
//! Errors ([`Error`]) carry a static reason and a cause; producing one never
//! allocates.
#![forbid(unsafe_code)]

mod attr;
mod builder;
mod client;
mod error;
mod integrity;
mod message;
mod server;
mod types;

#[cfg(feature = "fuzzing")]
pub mod fuzzing;

pub use attr::{
    AttrType, Attribute, Attributes, ErrorCode, PasswordAlgorithm, PasswordAlgorithms,
    UnknownAttributes,
};
pub use builder::MessageBuilder;
pub use client::{BindingClient, ClientEvent, RetransmitPolicy};
pub use error::{Error, ErrorKind};
pub use integrity::{fingerprint, IntegrityKey};
pub use message::{looks_like_stun, Message, MAX_UNKNOWN_REPORTED};
pub use server::{BindingServer, ServerStats, Transmit};
pub use types::{Class, MessageType, Method, TransactionId};

/// The fixed value in bytes 4..8 of every RFC 5389/8489 message (§5).
pub const MAGIC_COOKIE: u32 = 0x2112_A442;

/// Size of the STUN header (§5).
pub const HEADER_LEN: usize = 20;

/// XORed into the CRC-32 of the message to form FINGERPRINT (§14.7).
pub const FINGERPRINT_XOR: u32 = 0x5354_554E;

/// A safe upper bound for a STUN message over UDP without path MTU
/// knowledge (§6.1: 576-byte IPv4 datagrams → 548 bytes of UDP payload).
pub const MAX_UDP_MESSAGE_WITHOUT_PMTU: usize = 548;
pub use integrity::userhash;
