//! tern-sfu: the sans-IO core of Tern's selective forwarding unit.
//!
//! - **Participants and rooms.** Each participant has a publish and a
//!   subscribe transport: an ICE-lite agent (RFC 8445 §2.5, consent per RFC
//!   7675), a DTLS-SRTP endpoint (RFC 5764) in the role the SDP negotiated,
//!   and SRTP contexts (RFC 3711/7714), over one BUNDLEd, rtcp-mux 5-tuple
//!   (RFC 8843, RFC 5761).
//! - **Routing table.** Published tracks (announced SSRCs, RTX SSRCs from
//!   `ssrc-group:FID`, rids learned from RFC 8852 header extensions) map to
//!   subscribers, each with its own SSRC, sequence-number, timestamp,
//!   payload-type and extension-id rewrite state. Sequence numbers and
//!   timestamps stay continuous for a subscriber across publisher restarts.
//! - **The per-packet path** (DESIGN.md "The data plane"): classify by the
//!   first byte (RFC 7983) → look up the transport by 5-tuple (only an
//!   authenticated STUN check with a known ufrag binds a tuple; any other
//!   datagram from an unknown tuple is dropped before parsing) → check the
//!   SSRC belongs to the sender (before decrypting) → SRTP unprotect in place
//!   → store the plaintext once in the track's retransmission ring → for
//!   each subscriber, [`Sfu::poll_transmit`] copies it into the caller's
//!   buffer, rewrites it and protects it there. No heap allocation per
//!   forwarded packet in steady state (`tests/zero_alloc_forwarding.rs`).
//! - **RTCP** (see spec-notes/sfu.md): SR to subscribers, RR to publishers,
//!   NACK answered from the ring (RTX when negotiated, RFC 4588), NACK
//!   upstream on publisher loss, PLI/FIR forwarded upstream throttled per
//!   track, a PLI when a new subscriber starts receiving video, REMB/TWCC
//!   consumed and never relayed, feedback honoured only for SSRCs the
//!   subscriber receives.
//! - [`tern_signal::MediaPlane`] is implemented for [`Sfu`].
//!
//! No sockets, threads or clock reads: time and randomness (a seed) come
//! from the caller.
//!
//! # Driving it (poll order)
//!
//! ```text
//! loop {
//!     recv a datagram into buf       -> sfu.handle_receive(now, remote, local, &mut buf[..n])
//!     or the timer fired             -> sfu.handle_timeout(now)
//!     while let Some(t) = sfu.poll_transmit(&mut out) { send out[..t.len] from t.source to t.destination }
//!     while let Some(e) = sfu.poll_event() { tell the control plane }
//!     next timer = sfu.poll_timeout()
//! }
//! ```
//!
//! Drain `poll_transmit` until `None` after every `handle_*` call, or
//! after a batch of `handle_receive` calls (a receive batch: feeding
//! several datagrams before draining is allowed as long as
//! [`Sfu::wants_drain`] stays false after each; once it says true, drain
//! before the next datagram, or packets stored since the last complete
//! drain may wrap their track's ring before their fan-out runs). The fan-out is produced lazily, one datagram
//! per call, straight into the caller's buffer. Consecutive packets of a
//! track received before a drain form one run (at most 32 packets, and at
//! most half the track's ring) that goes out subscriber by subscriber:
//! all of one subscriber's packets of the run in order, then the next
//! subscriber's, so a subscriber's datagrams leave back to back (long GSO
//! runs whatever the number of subscribers). A fan-out that has started
//! emitting takes no more packets.
#![forbid(unsafe_code)]

mod addr_key;
mod media_plane;
mod ring;
mod sfu;
mod timers;

#[cfg(feature = "fuzzing")]
pub mod fuzzing;
// The fuzz helpers (live participants with SRTP keys installed directly)
// also serve the unit tests.
#[cfg(all(test, not(feature = "fuzzing")))]
#[allow(dead_code)]
mod fuzzing;

pub use addr_key::{AddrKey, TupleKey};
pub use ring::SLOT_LEN;
pub use sfu::{Dir, Event, Sfu, SfuConfig, Stats, Transmit, MIN_TRANSMIT_BUF};

#[cfg(test)]
mod tests {
    /// The binary shares the SFU between its signaling task and its UDP
    /// loop (behind a mutex), so it must be `Send`.
    #[test]
    fn sfu_is_send() {
        fn send<T: Send>() {}
        send::<crate::Sfu>();
    }
}
