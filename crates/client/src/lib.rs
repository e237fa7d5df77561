//! tern-client: Tern's own client stack — one WebRTC transport as a browser
//! runs it, sans-IO.
//!
//! A [`ClientTransport`] is the client end of one BUNDLEd, rtcp-mux 5-tuple
//! (RFC 8843, RFC 5761) toward an SFU transport: a full ICE agent in the
//! controlling role (RFC 8445 §6, §7, §8.1; the SFU is ICE-lite), a
//! DTLS-SRTP endpoint (RFC 5763, RFC 5764; the DTLS client unless signaling
//! says otherwise) and the SRTP/SRTCP contexts keyed from it (RFC 3711, RFC
//! 7714). Datagrams are demultiplexed by their first byte (RFC 7983).
//!
//! [`negotiation`] builds what signaling hands the SFU's
//! [`tern_signal::MediaPlane`] for a simple publisher or subscriber.
//!
//! No sockets, threads, clock reads or OS randomness: time is an argument,
//! randomness comes from a seed. The media path allocates nothing: SRTP is
//! protected and unprotected in place in the caller's buffers.
//!
//! # Driving it (poll order)
//!
//! ```text
//! let mut t = ClientTransport::new(local, &cert, &sfu_params, Role::Client, seed, now)?;
//! loop {
//!     datagram from the network      -> match t.handle_receive(now, from, &mut buf[..n]) {
//!                                           Incoming::Rtp(len) => buf[..len] is plaintext RTP,
//!                                           Incoming::Rtcp(len) => buf[..len] is plaintext RTCP,
//!                                           Incoming::Consumed | Incoming::Dropped(_) => {} }
//!     or the timer fired             -> t.handle_timeout(now)
//!     while let Some(x) = t.poll_transmit(&mut out) { send out[..x.len] to x.destination }
//!     next timer = t.poll_timeout()
//!     once t.is_connected():          n = t.protect_rtp(&mut pkt, len)?; send pkt[..n] to t.remote_addr()
//! }
//! ```
//!
//! Drain [`ClientTransport::poll_transmit`] until `None` after every
//! `handle_*` call.
#![forbid(unsafe_code)]

#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod negotiation;
mod transport;

pub use negotiation::{publish_media, subscribed_tracks, SubscriberPts, TrackSpec};
pub use tern_dtls::Role;
pub use transport::{ClientError, ClientTransport, Incoming, Transmit, MIN_TRANSMIT_BUF};
