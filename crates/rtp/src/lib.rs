//! tern-rtp: RTP and RTCP for the Tern forwarding loop.
//!
//! Everything here is a view over borrowed bytes or a builder into a
//! caller's buffer: parsing never copies or allocates, rewriting happens in
//! place, and no function reads the clock, opens a socket or spawns a
//! thread (time is always an argument). Every parser returns
//! `Result<_, `[`Error`]`>` with a static reason and never panics on
//! network input.
//!
//! # The shape of the API
//!
//! - **RTP** ([`rtp`], RFC 3550 §5.1, §5.3.1): [`RtpPacket<T>`] is a
//!   smoltcp-style view, `T: AsRef<[u8]>`. [`RtpPacket::new_checked`]
//!   validates the header, CSRCs, extension block and padding once; then
//!   accessors cannot fail. With `T: AsMut<[u8]>` the setters rewrite SSRC,
//!   payload type, sequence number, timestamp, marker and extension ids and
//!   values in place. [`RtpBuilder`] writes a packet into a caller buffer.
//! - **Header extensions** ([`ext`], RFC 8285): one-byte and two-byte
//!   forms: iterate, find by id, rewrite, remap ids, write; typed values for
//!   mid, rid, repaired-rid, abs-send-time, transport-wide sequence number,
//!   audio level and video orientation.
//! - **RTCP** ([`rtcp`], RFC 3550 §6, RFC 3611, RFC 4585, RFC 5104, RFC
//!   5506, REMB and TWCC drafts): [`rtcp::CompoundIter`] walks a compound
//!   and yields typed views ([`rtcp::RtcpPacket`]); builders implement
//!   [`rtcp::RtcpWrite`] and [`rtcp::CompoundWriter`] concatenates them.
//! - **Statistics** ([`stats`], RFC 3550 Appendix A): sequence validity and
//!   extended sequence numbers, expected/lost, jitter, RTT.
//! - **Demultiplexing** ([`demux`], RFC 7983, RFC 5761 §4).
//! - **Newtypes** ([`Ssrc`], [`Pt`], [`SeqNo`], [`NtpTime`],
//!   [`CompactNtp`]) keep the many integers apart.
//!
//! # Example: the per-subscriber rewrite of an SFU
//!
//! ```
//! use tern_rtp::{RtpBuilder, RtpPacket, Pt, Ssrc};
//! use tern_rtp::ext::{Extension, TransportSeq};
//!
//! // A publisher's packet with a transport-wide sequence number (id 3).
//! let exts = [Extension { id: 3, value: &[0x00, 0x07] }];
//! let mut buf = [0u8; 1500];
//! let n = RtpBuilder::new(Pt::new(96).unwrap(), 1000, 90_000, Ssrc(0xAAAA))
//!     .extensions(&exts)
//!     .payload(&[1, 2, 3])
//!     .write(&mut buf)
//!     .unwrap();
//!
//! // Receive: validate once.
//! let received = RtpPacket::new_checked(&buf[..n]).unwrap();
//!
//! // Per subscriber: copy into its send buffer, rewrite in place.
//! let mut out = [0u8; 1500];
//! let mut p = received.copy_into(&mut out).unwrap();
//! p.set_ssrc(Ssrc(0xBBBB));
//! p.set_sequence_number(5);
//! p.set_timestamp(1234);
//! p.set_extension_value(3, &TransportSeq(42)).unwrap();
//! p.remap_extension_ids(|id| (id == 3).then_some(5)).unwrap();
//!
//! let p = RtpPacket::new_checked(&out[..n]).unwrap();
//! assert_eq!(p.ssrc(), Ssrc(0xBBBB));
//! assert_eq!(p.extension_value::<TransportSeq>(5), Ok(Some(TransportSeq(42))));
//! assert_eq!(p.payload(), &[1, 2, 3]);
//! ```
#![forbid(unsafe_code)]

pub mod demux;
mod error;
pub mod ext;
pub mod rtcp;
pub mod rtp;
pub mod stats;
mod types;
mod wire;

#[cfg(feature = "fuzzing")]
pub mod fuzzing;

pub use demux::{classify, PacketKind};
pub use error::Error;
pub use rtp::{RtpBuilder, RtpPacket};
pub use types::{CompactNtp, NtpTime, Pt, SeqNo, Ssrc};
