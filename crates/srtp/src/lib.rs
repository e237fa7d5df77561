//! tern-srtp: SRTP and SRTCP (RFC 3711) with the AES-CM/HMAC-SHA1 and
//! AES-GCM (RFC 7714) profiles, protecting and unprotecting in place.
//!
//! - [`Profile`]: the four DTLS-SRTP protection profiles Tern negotiates
//!   (`SRTP_AEAD_AES_128_GCM`, `SRTP_AEAD_AES_256_GCM`,
//!   `SRTP_AES128_CM_SHA1_80`, `SRTP_AES128_CM_SHA1_32`).
//! - [`MasterKey`], [`SessionKeys`]: master key and salt per direction,
//!   split from DTLS exporter output in the RFC 5764 §4.2 layout.
//! - [`Context`]: one direction's session keys (derived once, §4.3 with
//!   kdr 0) and bounded per-SSRC state: ROC estimation (Appendix A), a
//!   128-packet replay window (§3.3.2), SRTCP index and E bit (§3.4).
//!
//! No function reads the clock, allocates per packet, or does I/O.
//!
//! # Example
//!
//! ```
//! use tern_srtp::{Context, MasterKey, Profile};
//!
//! let key = MasterKey::new(Profile::AeadAes128Gcm, &[1; 16], &[2; 12]).unwrap();
//! let mut tx = Context::new(&key).unwrap();
//! let mut rx = Context::new(&key).unwrap();
//!
//! // An RTP packet (12-byte header, 4-byte payload) with room for the tag.
//! let mut buf = [0u8; 1500];
//! let pkt = [0x80, 96, 0, 1, 0, 0, 0, 9, 0xDE, 0xAD, 0xBE, 0xEF, 1, 2, 3, 4];
//! buf[..pkt.len()].copy_from_slice(&pkt);
//! let n = tx.protect_rtp(&mut buf, pkt.len()).unwrap();
//! assert_eq!(n, pkt.len() + Profile::AeadAes128Gcm.rtp_overhead());
//! let m = rx.unprotect_rtp(&mut buf[..n]).unwrap();
//! assert_eq!(&buf[..m], &pkt);
//! ```
#![forbid(unsafe_code)]

mod context;
mod crypto;
mod error;
pub mod kdf;
mod profile;
pub mod replay;

#[cfg(feature = "fuzzing")]
pub mod fuzzing;

pub use context::{Config, Context, MAX_SRTCP_INDEX};
pub use error::Error;
pub use profile::{MasterKey, Profile, SessionKeys};
pub use tern_rtp::Ssrc;
