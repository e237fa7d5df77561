//! tern-dtls: DTLS 1.2 (RFC 6347) for DTLS-SRTP (RFC 5764, RFC 5763) on
//! OpenSSL, sans-IO.
//!
//! - [`Certificate`]: a self-signed ECDSA P-256 certificate and its
//!   SHA-256 [`Fingerprint`] for `a=fingerprint` (RFC 8122).
//! - [`Dtls`]: one endpoint per 5-tuple, client or server by `a=setup`
//!   ([`Role`]). OpenSSL runs over an in-memory datagram channel; the
//!   caller feeds datagrams and time and drains datagrams and events.
//!   Retransmission follows the caller's clock; records are packed and
//!   fragmented to [`Config::mtu`] (1200 by default); the handshake has a
//!   deadline and a cap on buffered bytes. The remote fingerprint is
//!   verified in both roles; on mismatch the handshake fails and no keys
//!   are exported.
//! - On success, [`Event::Connected`] carries [`SrtpKeys`]: the
//!   negotiated profile (GCM preferred) and the `EXTRACTOR-dtls_srtp`
//!   keying material split as RFC 5764 §4.2 lays it out, ready to build
//!   tern-srtp [`tern_srtp::Context`]s with [`SrtpKeys::contexts`].
//!
//! No clock reads, sockets or threads.
//!
//! # Poll order
//!
//! Feed the endpoint with [`Dtls::handle_receive`] and
//! [`Dtls::handle_timeout`]; after each call drain [`Dtls::poll_transmit`]
//! until it returns `None`, then [`Dtls::poll_event`] until `None`, then ask
//! [`Dtls::poll_timeout`] when to call `handle_timeout` next. Time is
//! always the caller's `now`: the endpoint keeps its last flight and
//! resends it byte for byte when that clock passes the retransmission
//! deadline (1 s, doubling; RFC 6347 §4.2.4), or at once when the peer
//! resends a datagram it already sent. The endpoint serves one 5-tuple:
//! datagrams from any other address are counted and dropped before
//! OpenSSL sees them.
//!
//! # Example
//!
//! ```
//! use std::time::{Duration, Instant};
//! use tern_dtls::{Certificate, Config, Dtls, Event, Role};
//!
//! let (a, b) = (Certificate::generate().unwrap(), Certificate::generate().unwrap());
//! let (a_addr, b_addr) = ("10.0.0.1:5000".parse().unwrap(), "10.0.0.2:5000".parse().unwrap());
//! let now = Instant::now();
//! let mut client = Dtls::new(Role::Client, b_addr, &a, b.fingerprint(), Config::default(), now).unwrap();
//! let mut server = Dtls::new(Role::Server, a_addr, &b, a.fingerprint(), Config::default(), now).unwrap();
//! let mut buf = [0u8; 1500];
//! for _ in 0..10 {
//!     while let Some(t) = client.poll_transmit(&mut buf) {
//!         server.handle_receive(now, a_addr, &buf[..t.len]);
//!     }
//!     while let Some(t) = server.poll_transmit(&mut buf) {
//!         client.handle_receive(now, b_addr, &buf[..t.len]);
//!     }
//! }
//! let Some(Event::Connected(keys)) = client.poll_event() else { panic!() };
//! let (mut tx, _rx) = keys.contexts().unwrap();
//! let Some(Event::Connected(server_keys)) = server.poll_event() else { panic!() };
//! let (_stx, mut srx) = server_keys.contexts().unwrap();
//! let mut pkt = [0u8; 64];
//! pkt[..12].copy_from_slice(&[0x80, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 7]);
//! let n = tx.protect_rtp(&mut pkt, 20).unwrap();
//! assert_eq!(srx.unprotect_rtp(&mut pkt[..n]), Ok(20));
//! ```
#![forbid(unsafe_code)]

mod cert;
mod endpoint;
mod error;

#[cfg(feature = "fuzzing")]
pub mod fuzzing;

pub use cert::{Certificate, Fingerprint};
pub use endpoint::{Config, Dtls, Event, Role, SrtpKeys, Stats, Transmit, EXPORTER_LABEL};
pub use error::Error;
pub use tern_srtp::Profile;
