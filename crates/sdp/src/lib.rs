//! tern-sdp: the Session Description Protocol for Tern.
//!
//! - [`SessionDescription`]: RFC 8866 parser and serializer. Parsing borrows
//!   from the input; parse → serialize of well-formed input gives the same
//!   bytes (CRLF on output, bare LF accepted on input).
//! - [`attr`]: typed views of the WebRTC attributes (BUNDLE, mid, msid,
//!   rtpmap, fmtp, rtcp-fb, extmap, ssrc, rid, simulcast, ICE, candidates,
//!   fingerprints, setup, SCTP, ...).
//! - [`answer`]: the SFU answering a client's publish offer from
//!   [`ServerConfig`] and its [`Capabilities`].
//! - [`subscriber`]: the SFU's offers to a subscriber carrying forwarded
//!   tracks, across renegotiations with stable mids, and applying the answer.
//! - [`limits`]: the caps against resource exhaustion.
//!
//! Sans-IO: no clock, no sockets, no randomness; whatever must be random
//! (session ids, ICE credentials) is the caller's argument.
#![forbid(unsafe_code)]

pub mod answer;
pub mod attr;
pub mod codec;
mod error;
pub mod limits;
mod session;
pub mod subscriber;
mod syntax;

pub use answer::{AcceptedMedia, Answer, Answerer, DataChannel, RemoteTransport};
pub use attr::{Candidate, Direction, Setup};
pub use codec::{Capabilities, CodecSpec, ExtensionSpec, MediaKind, NegotiatedCodec, ServerConfig};
pub use error::{Error, ErrorKind};
pub use session::{Attribute, Bandwidth, Connection, Media, Origin, SessionDescription, Timing};
pub use subscriber::{ForwardedTrack, SubscriberAnswer, SubscriberSession, SubscriberTrack};

#[cfg(feature = "fuzzing")]
pub mod fuzzing;
