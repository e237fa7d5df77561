//! SRTP and SRTCP contexts: protect and unprotect in place (RFC 3711 §3,
//! §4; RFC 7714 §7–§10).
//!
//! A [`Context`] holds the session keys derived from one master key (one
//! direction of a DTLS-SRTP association) and bounded per-SSRC state: the
//! sender's highest index and SRTCP counter, the receiver's replay windows.
//! The key schedules are built once in [`Context::new`]; per packet the
//! work is one pass of the cipher and one of the MAC, on the caller's
//! buffer, with no allocation (a new SSRC inserts one table entry).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use tern_rtp::Ssrc;

use crate::crypto::{AesCm, Gcm, HmacSha1};
use crate::kdf::{derive, Label};
use crate::replay::{self, Check, ReplayWindow};
use crate::{Error, MasterKey, Profile};

/// Largest SRTCP index (2^31 - 1, RFC 3711 §3.4).
pub const MAX_SRTCP_INDEX: u32 = 0x7FFF_FFFF;

/// Options for a [`Context`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// Most SSRCs the context keeps state for (default 1024). A packet
    /// from one more fails with [`Error::TooManyStreams`].
    pub max_streams: usize,
    /// Whether an SSRC not yet known may start a stream (default `true`;
    /// the stream is created only once its first packet authenticates).
    /// With `false`, only SSRCs added by [`Context::add_ssrc`] are
    /// accepted and anything else fails with [`Error::UnknownSsrc`].
    pub accept_new_ssrcs: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_streams: 1024,
            accept_new_ssrcs: true,
        }
    }
}

/// Per-SSRC state. Small and `Copy`; one table entry per SSRC.
#[derive(Debug, Clone, Copy, Default)]
struct Stream {
    /// Highest SRTP index sent (protect side).
    tx_highest: Option<u64>,
    /// Next SRTCP index to send.
    tx_rtcp_index: u32,
    /// SRTP replay window (unprotect side).
    rx_rtp: ReplayWindow,
    /// SRTCP replay window (unprotect side).
    rx_rtcp: ReplayWindow,
}

/// A cheap hasher for SSRC keys. Streams are only created by the local
/// caller or by packets that authenticated, so the keys are not an
/// attacker's free choice.
#[derive(Default)]
struct SsrcHasher(u64);

impl Hasher for SsrcHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = (u64::from(n) ^ self.0).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type StreamTable = HashMap<u32, Stream, BuildHasherDefault<SsrcHasher>>;

/// Session keys for one of RTP or RTCP.
// Built once per session and used on every packet: kept inline (no Box
// and its pointer chase) even though the variants differ in size.
#[allow(clippy::large_enum_variant)]
enum Keys {
    /// AES-CM + HMAC-SHA1: cipher, MAC, 14-byte session salt.
    Cm {
        cipher: AesCm,
        mac: HmacSha1,
        salt: [u8; 14],
    },
    /// AES-GCM: AEAD and 12-byte session salt.
    Gcm { aead: Gcm, salt: [u8; 12] },
}

impl Keys {
    fn from_parts(profile: Profile, key: &[u8], salt: &[u8], auth: &[u8]) -> Result<Self, Error> {
        if key.len() != profile.master_key_len() {
            return Err(Error::ApiMisuse(
                "session key length does not match the profile",
            ));
        }
        if profile.is_aead() {
            let salt: [u8; 12] = salt
                .try_into()
                .map_err(|_| Error::ApiMisuse("GCM session salt is 12 bytes"))?;
            Ok(Keys::Gcm {
                aead: Gcm::new(key)?,
                salt,
            })
        } else {
            let salt: [u8; 14] = salt
                .try_into()
                .map_err(|_| Error::ApiMisuse("AES-CM session salt is 14 bytes"))?;
            Ok(Keys::Cm {
                cipher: AesCm::new(key)?,
                mac: HmacSha1::new(auth),
                salt,
            })
        }
    }

    fn derive(master: &MasterKey, rtcp: bool) -> Result<Self, Error> {
        let p = master.profile();
        let (le, la, ls) = if rtcp {
            (Label::RtcpEncryption, Label::RtcpAuth, Label::RtcpSalt)
        } else {
            (Label::RtpEncryption, Label::RtpAuth, Label::RtpSalt)
        };
        let kdf = AesCm::new(master.key())?;
        let mut key = [0u8; 32];
        let key = &mut key[..p.master_key_len()];
        derive(&kdf, master.salt(), le, key);
        if p.is_aead() {
            let mut salt = [0u8; 12];
            derive(&kdf, master.salt(), ls, &mut salt);
            Ok(Keys::Gcm {
                aead: Gcm::new(key)?,
                salt,
            })
        } else {
            let mut auth = [0u8; 20];
            derive(&kdf, master.salt(), la, &mut auth);
            let mut salt = [0u8; 14];
            derive(&kdf, master.salt(), ls, &mut salt);
            Ok(Keys::Cm {
                cipher: AesCm::new(key)?,
                mac: HmacSha1::new(&auth),
                salt,
            })
        }
    }
}

/// One direction's SRTP/SRTCP crypto context (RFC 3711 §3.2).
///
/// Use one context to protect what you send (keyed with the local master
/// key) and another to unprotect what you receive (the remote key); see
/// [`crate::SessionKeys::local_remote`].
#[repr(C)]
pub struct Context {
    // `repr(C)`, hot fields first: `protect_rtp` reads the profile, the
    // last stream and the RTP keys for every packet. In the compiler's
    // order the first two sat behind both key sets and the stream table,
    // 2.3 KB in, so each packet touched one more cache line of a context
    // that at large fan-out is cold again by the subscriber's next packet.
    profile: Profile,
    /// The stream `protect_rtp` sent on last: its SSRC and highest index,
    /// authoritative over that stream's `tx_highest` in `streams` (written
    /// back when another SSRC takes its place). A subscriber's packets come
    /// in runs of one SSRC, so this spares the table lookup, which at large
    /// fan-out is a cache miss per subscriber.
    tx_last: Option<(u32, u64)>,
    rtp: Keys,
    rtcp: Keys,
    config: Config,
    streams: StreamTable,
}

impl core::fmt::Debug for Context {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Context")
            .field("profile", &self.profile)
            .field("config", &self.config)
            .field("streams", &self.streams.len())
            .finish_non_exhaustive()
    }
}

/// The length of an RTP header (fixed part, CSRCs and extension block),
/// checked against `data`. On unprotect the payload is ciphertext, so
/// tern-rtp's full validation (which checks the padding count at the end
/// of the payload) cannot be used; on protect the extension elements need
/// no walk.
fn rtp_header_len(data: &[u8]) -> Result<usize, Error> {
    if data.len() < 12 {
        return Err(Error::Malformed("shorter than an RTP header"));
    }
    if data[0] >> 6 != 2 {
        return Err(Error::Malformed("RTP version is not 2"));
    }
    let mut n = 12 + 4 * usize::from(data[0] & 0x0F);
    if data[0] & 0x10 != 0 {
        if data.len() < n + 4 {
            return Err(Error::Malformed("RTP extension header runs past the end"));
        }
        let words = usize::from(u16::from_be_bytes([data[n + 2], data[n + 3]]));
        n += 4 + 4 * words;
    }
    if n > data.len() {
        return Err(Error::Malformed("RTP header runs past the end"));
    }
    Ok(n)
}

fn ssrc_at(data: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]])
}

/// AES-CM IV (RFC 3711 §4.1.1): `salt·2^16 ⊕ SSRC·2^64 ⊕ index·2^16`.
#[inline]
fn cm_iv(salt: &[u8; 14], ssrc: u32, index: u64) -> [u8; 16] {
    let mut iv = [0u8; 16];
    iv[..14].copy_from_slice(salt);
    for (d, s) in iv[4..8].iter_mut().zip(ssrc.to_be_bytes()) {
        *d ^= s;
    }
    for (d, s) in iv[8..14].iter_mut().zip(&index.to_be_bytes()[2..]) {
        *d ^= s;
    }
    iv
}

/// GCM IV (RFC 7714 §8.1 for SRTP, §9.1 for SRTCP): `(0 ‖ SSRC ‖ X) ⊕
/// salt`, X being the 48-bit packet index (ROC ‖ SEQ) for RTP and
/// `0x0000 ‖ SRTCP index` for RTCP: the same layout with the 31-bit index
/// zero-extended.
///
/// Computed as one 64-bit and one 32-bit word and written as those two
/// words. ring reads the nonce back with an 8-byte and a 4-byte load; a
/// nonce assembled from byte and half-word stores (what the byte-wise
/// form compiled to) defeats store-to-load forwarding on both loads, so
/// every seal and open waited for those stores to reach the cache.
#[inline]
fn gcm_iv(salt: &[u8; 12], ssrc: u32, index: u64) -> [u8; 12] {
    let [s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11] = *salt;
    let hi = u64::from_be_bytes([s0, s1, s2, s3, s4, s5, s6, s7])
        ^ (u64::from(ssrc) << 16 | (index >> 32) & 0xffff);
    let lo = u32::from_be_bytes([s8, s9, s10, s11]) ^ index as u32;
    let mut iv = [0u8; 12];
    let (a, b) = iv.split_at_mut(8);
    a.copy_from_slice(&hi.to_be_bytes());
    b.copy_from_slice(&lo.to_be_bytes());
    iv
}

impl Context {
    /// A context with default [`Config`].
    pub fn new(master: &MasterKey) -> Result<Self, Error> {
        Self::with_config(master, Config::default())
    }

    /// A context keyed from `master` (§4.3 key derivation, kdr 0: the
    /// six session keys are derived here, once).
    pub fn with_config(master: &MasterKey, config: Config) -> Result<Self, Error> {
        Ok(Self {
            profile: master.profile(),
            config,
            rtp: Keys::derive(master, false)?,
            rtcp: Keys::derive(master, true)?,
            streams: StreamTable::default(),
            tx_last: None,
        })
    }

    /// A context whose session keys are given directly, skipping the KDF
    /// (RTP and RTCP get the same keys). For known-answer tests such as
    /// RFC 3711 B.2 and RFC 7714 §16–17, which publish session keys;
    /// production code uses [`Context::new`].
    pub fn from_session_keys(
        profile: Profile,
        key: &[u8],
        salt: &[u8],
        auth_key: &[u8],
        config: Config,
    ) -> Result<Self, Error> {
        Ok(Self {
            profile,
            config,
            rtp: Keys::from_parts(profile, key, salt, auth_key)?,
            rtcp: Keys::from_parts(profile, key, salt, auth_key)?,
            streams: StreamTable::default(),
            tx_last: None,
        })
    }

    /// The protection profile.
    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// Number of SSRCs with state.
    pub fn stream_count(&self) -> usize {
        self.streams.len()
    }

    /// Allow `ssrc` (needed when [`Config::accept_new_ssrcs`] is false).
    pub fn add_ssrc(&mut self, ssrc: Ssrc) -> Result<(), Error> {
        if !self.streams.contains_key(&ssrc.0) && self.streams.len() >= self.config.max_streams {
            return Err(Error::TooManyStreams);
        }
        self.streams.entry(ssrc.0).or_default();
        Ok(())
    }

    /// Forget `ssrc`'s state.
    pub fn remove_ssrc(&mut self, ssrc: Ssrc) {
        self.streams.remove(&ssrc.0);
        if self.tx_last.is_some_and(|(s, _)| s == ssrc.0) {
            self.tx_last = None;
        }
    }

    /// The rollover counter last used to send on `ssrc`, if any.
    pub fn tx_roc(&self, ssrc: Ssrc) -> Option<u32> {
        let highest = match self.tx_last {
            Some((s, h)) if s == ssrc.0 => Some(h),
            _ => self.streams.get(&ssrc.0)?.tx_highest,
        };
        highest.map(|i| (i >> 16) as u32)
    }

    /// The highest SRTP index authenticated from `ssrc`, if any.
    pub fn rx_index(&self, ssrc: Ssrc) -> Option<u64> {
        self.streams.get(&ssrc.0)?.rx_rtp.highest()
    }

    /// Set the next SRTCP index `ssrc` will send with (for resuming a
    /// session; also how the exhaustion test reaches 2^31).
    pub fn set_srtcp_index(&mut self, ssrc: Ssrc, index: u32) -> Result<(), Error> {
        if index > MAX_SRTCP_INDEX + 1 {
            return Err(Error::ApiMisuse("SRTCP index is 31 bits"));
        }
        self.add_ssrc(ssrc)?;
        if let Some(s) = self.streams.get_mut(&ssrc.0) {
            s.tx_rtcp_index = index;
        }
        Ok(())
    }

    /// Set the ROC and highest sequence number `ssrc` sends from (for a
    /// sender that joins mid-stream with a signalled ROC).
    pub fn set_tx_roc(&mut self, ssrc: Ssrc, roc: u32, seq: u16) -> Result<(), Error> {
        self.add_ssrc(ssrc)?;
        let highest = u64::from(roc) << 16 | u64::from(seq);
        if let Some(s) = self.streams.get_mut(&ssrc.0) {
            s.tx_highest = Some(highest);
        }
        if let Some((s, h)) = &mut self.tx_last {
            if *s == ssrc.0 {
                *h = highest;
            }
        }
        Ok(())
    }

    /// Tell the receiver the ROC and a recent sequence number of `ssrc`
    /// (RFC 3711 §3.3.1: a receiver joining late learns the ROC by
    /// signalling). The window starts there, empty.
    pub fn set_rx_roc(&mut self, ssrc: Ssrc, roc: u32, seq: u16) -> Result<(), Error> {
        self.add_ssrc(ssrc)?;
        if let Some(s) = self.streams.get_mut(&ssrc.0) {
            s.rx_rtp = ReplayWindow::starting_at(u64::from(roc) << 16 | u64::from(seq));
        }
        Ok(())
    }

    fn stream_for_tx(&mut self, ssrc: u32) -> Result<&mut Stream, Error> {
        let full = self.streams.len() >= self.config.max_streams;
        let accept = self.config.accept_new_ssrcs;
        match self.streams.entry(ssrc) {
            std::collections::hash_map::Entry::Occupied(e) => Ok(e.into_mut()),
            std::collections::hash_map::Entry::Vacant(e) => {
                if !accept {
                    Err(Error::UnknownSsrc)
                } else if full {
                    Err(Error::TooManyStreams)
                } else {
                    Ok(e.insert(Stream::default()))
                }
            }
        }
    }

    /// `protect_rtp`'s index for a packet on another SSRC than the last
    /// one: writes the last stream's highest index back to the table and
    /// makes `ssrc` the last stream.
    #[inline(never)]
    fn tx_index_switching_stream(&mut self, ssrc: u32, seq: u16) -> Result<u64, Error> {
        if let Some((s, h)) = self.tx_last.take() {
            if let Some(st) = self.streams.get_mut(&s) {
                st.tx_highest = Some(h);
            }
        }
        let stream = self.stream_for_tx(ssrc)?;
        let index = match stream.tx_highest {
            None => u64::from(seq),
            Some(h) => replay::estimate_index(h, seq)?,
        };
        let highest = stream.tx_highest.map_or(index, |h| h.max(index));
        stream.tx_highest = Some(highest);
        self.tx_last = Some((ssrc, highest));
        Ok(index)
    }

    /// The state to check an incoming packet against: the SSRC's, or a
    /// fresh one if the SSRC may start a stream (inserted only after the
    /// packet authenticates).
    fn rx_stream(&self, ssrc: u32) -> Result<Stream, Error> {
        match self.streams.get(&ssrc) {
            Some(s) => Ok(*s),
            None if !self.config.accept_new_ssrcs => Err(Error::UnknownSsrc),
            None if self.streams.len() >= self.config.max_streams => Err(Error::TooManyStreams),
            None => Ok(Stream::default()),
        }
    }

    /// Protect an RTP packet in place (RFC 3711 §3.3, RFC 7714 §7).
    ///
    /// `buf[..len]` holds the plaintext packet; `buf` must have at least
    /// [`Profile::rtp_overhead`] bytes of room past `len`. The payload is
    /// encrypted in place and the tag appended; returns the SRTP length.
    pub fn protect_rtp(&mut self, buf: &mut [u8], len: usize) -> Result<usize, Error> {
        if len > buf.len() {
            return Err(Error::ApiMisuse("len is larger than the buffer"));
        }
        let tag_len = self.profile.rtp_tag_len();
        if buf.len() - len < tag_len {
            return Err(Error::BufferTooSmall);
        }
        // The caller built or parsed this packet (with tern-rtp in the
        // SFU); only what SRTP needs is checked here — version, CSRC count
        // and extension length — so a long extension list costs nothing.
        let hdr_len = rtp_header_len(&buf[..len])
            .map_err(|_| Error::ApiMisuse("protect_rtp: not an RTP packet"))?;
        let ssrc = ssrc_at(buf, 8);
        let seq = u16::from_be_bytes([buf[2], buf[3]]);
        let index = match self.tx_last {
            Some((s, h)) if s == ssrc => {
                let index = replay::estimate_index(h, seq)?;
                if index > h {
                    self.tx_last = Some((s, index));
                }
                index
            }
            _ => self.tx_index_switching_stream(ssrc, seq)?,
        };
        match &self.rtp {
            Keys::Cm { cipher, mac, salt } => {
                cipher.apply(&cm_iv(salt, ssrc, index), &mut buf[hdr_len..len]);
                let roc = ((index >> 16) as u32).to_be_bytes();
                let full = mac.mac(&buf[..len], &roc);
                buf[len..len + tag_len].copy_from_slice(&full[..tag_len]);
            }
            Keys::Gcm { aead, salt } => {
                let (aad, body) = buf[..len].split_at_mut(hdr_len);
                let tag = aead.seal(gcm_iv(salt, ssrc, index), aad, body)?;
                buf[len..len + 16].copy_from_slice(&tag);
            }
        }
        Ok(len + tag_len)
    }

    /// Unprotect an SRTP packet in place (RFC 3711 §3.3, RFC 7714 §7):
    /// checks length, replay window and tag (constant time), decrypts the
    /// payload in place and returns the plaintext length (the tag is
    /// dropped). On error the packet must be discarded; its bytes may have
    /// changed.
    pub fn unprotect_rtp(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        let tag_len = self.profile.rtp_tag_len();
        let len = buf
            .len()
            .checked_sub(tag_len)
            .ok_or(Error::Malformed("shorter than an RTP header plus tag"))?;
        let hdr_len = rtp_header_len(&buf[..len])?;
        let ssrc = ssrc_at(buf, 8);
        let seq = u16::from_be_bytes([buf[2], buf[3]]);
        // One lookup: a known SSRC's window is updated in place; a new
        // SSRC gets a fresh window, inserted only once the packet
        // authenticated.
        let full = self.streams.len() >= self.config.max_streams;
        let accept_new = self.config.accept_new_ssrcs;
        let (keys, streams) = (&self.rtp, &mut self.streams);
        let mut fresh = ReplayWindow::new();
        let known = streams.get_mut(&ssrc);
        let is_new = known.is_none();
        let window = match known {
            Some(s) => &mut s.rx_rtp,
            None if !accept_new => return Err(Error::UnknownSsrc),
            None if full => return Err(Error::TooManyStreams),
            None => &mut fresh,
        };
        let index = match window.highest() {
            None => u64::from(seq),
            Some(h) => replay::estimate_index(h, seq)?,
        };
        match window.check(index) {
            Check::Fresh => {}
            Check::Replayed => return Err(Error::Replayed),
            Check::TooOld => return Err(Error::TooOld),
        }
        let (body, tag) = buf.split_at_mut(len);
        match keys {
            Keys::Cm { cipher, mac, salt } => {
                let roc = ((index >> 16) as u32).to_be_bytes();
                if !mac.verify(body, &roc, tag) {
                    return Err(Error::AuthFailed);
                }
                cipher.apply(&cm_iv(salt, ssrc, index), &mut body[hdr_len..]);
            }
            Keys::Gcm { aead, salt } => {
                let (aad, payload) = body.split_at_mut(hdr_len);
                aead.open(gcm_iv(salt, ssrc, index), aad, payload, tag)?;
            }
        }
        window.accept(index);
        if is_new {
            streams.insert(
                ssrc,
                Stream {
                    rx_rtp: fresh,
                    ..Stream::default()
                },
            );
        }
        Ok(len)
    }

    /// Protect an RTCP (compound) packet in place (RFC 3711 §3.4, RFC 7714
    /// §9): `buf[..len]` is the plaintext; `buf` needs
    /// [`Profile::rtcp_overhead`] bytes of room past `len`. Everything
    /// after the first 8 bytes is encrypted, the E bit is set, the SRTCP
    /// index (per SSRC, from 0) and tag appended. Returns the SRTCP length.
    pub fn protect_rtcp(&mut self, buf: &mut [u8], len: usize) -> Result<usize, Error> {
        if len > buf.len() {
            return Err(Error::ApiMisuse("len is larger than the buffer"));
        }
        let overhead = self.profile.rtcp_overhead();
        if buf.len() - len < overhead {
            return Err(Error::BufferTooSmall);
        }
        if len < 8 || buf[0] >> 6 != 2 {
            return Err(Error::ApiMisuse("protect_rtcp: not an RTCP packet"));
        }
        let ssrc = ssrc_at(buf, 4);
        let stream = self.stream_for_tx(ssrc)?;
        let index = stream.tx_rtcp_index;
        if index > MAX_SRTCP_INDEX {
            return Err(Error::IndexExhausted);
        }
        stream.tx_rtcp_index = index + 1;
        let e_index = (0x8000_0000 | index).to_be_bytes();
        match &self.rtcp {
            Keys::Cm { cipher, mac, salt } => {
                cipher.apply(&cm_iv(salt, ssrc, u64::from(index)), &mut buf[8..len]);
                buf[len..len + 4].copy_from_slice(&e_index);
                let full = mac.mac(&buf[..len + 4], &[]);
                buf[len + 4..len + 14].copy_from_slice(&full[..10]);
            }
            Keys::Gcm { aead, salt } => {
                let mut aad = [0u8; 12];
                aad[..8].copy_from_slice(&buf[..8]);
                aad[8..].copy_from_slice(&e_index);
                let tag =
                    aead.seal(gcm_iv(salt, ssrc, u64::from(index)), &aad, &mut buf[8..len])?;
                buf[len..len + 16].copy_from_slice(&tag);
                buf[len + 16..len + 20].copy_from_slice(&e_index);
            }
        }
        Ok(len + overhead)
    }

    /// Unprotect an SRTCP packet in place (RFC 3711 §3.4, RFC 7714 §9):
    /// checks the tag (constant time) and the replay window on the SRTCP
    /// index, decrypts if the E bit is set, and returns the RTCP length.
    pub fn unprotect_rtcp(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        let overhead = self.profile.rtcp_overhead();
        let len = buf
            .len()
            .checked_sub(overhead)
            .filter(|&l| l >= 8)
            .ok_or(Error::Malformed(
                "shorter than an RTCP header plus index and tag",
            ))?;
        if buf[0] >> 6 != 2 {
            return Err(Error::Malformed("RTCP version is not 2"));
        }
        let ssrc = ssrc_at(buf, 4);
        let mut stream = self.rx_stream(ssrc)?;
        let e_at = if self.profile.is_aead() {
            buf.len() - 4
        } else {
            len
        };
        let e_index = [buf[e_at], buf[e_at + 1], buf[e_at + 2], buf[e_at + 3]];
        let word = u32::from_be_bytes(e_index);
        let encrypted = word & 0x8000_0000 != 0;
        let index = word & MAX_SRTCP_INDEX;
        match stream.rx_rtcp.check(u64::from(index)) {
            Check::Fresh => {}
            Check::Replayed => return Err(Error::Replayed),
            Check::TooOld => return Err(Error::TooOld),
        }
        match &self.rtcp {
            Keys::Cm { cipher, mac, salt } => {
                let (authed, tag) = buf.split_at_mut(len + 4);
                if !mac.verify(authed, &[], tag) {
                    return Err(Error::AuthFailed);
                }
                if encrypted {
                    cipher.apply(&cm_iv(salt, ssrc, u64::from(index)), &mut authed[8..len]);
                }
            }
            Keys::Gcm { aead, salt } => {
                let iv = gcm_iv(salt, ssrc, u64::from(index));
                if encrypted {
                    let mut aad = [0u8; 12];
                    aad[..8].copy_from_slice(&buf[..8]);
                    aad[8..].copy_from_slice(&e_index);
                    let (body, rest) = buf[8..].split_at_mut(len - 8);
                    aead.open(iv, &aad, body, &rest[..16])?;
                } else {
                    // E = 0 (RFC 7714 §9.3): the whole packet and the
                    // E‖index word are AAD; move the word next to the
                    // packet so the AAD is contiguous.
                    let mut tag = [0u8; 16];
                    tag.copy_from_slice(&buf[len..len + 16]);
                    buf[len..len + 4].copy_from_slice(&e_index);
                    aead.open(iv, &buf[..len + 4], &mut [], &tag)?;
                }
            }
        }
        stream.rx_rtcp.accept(u64::from(index));
        self.streams.insert(ssrc, stream);
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts_move_between_worker_threads() {
        fn send<T: Send>() {}
        send::<Context>();
    }

    #[test]
    fn header_length_covers_csrcs_and_extension() {
        let mut h = [0u8; 40];
        h[0] = 0x92; // X, 2 CSRCs
        h[20..24].copy_from_slice(&[0xbe, 0xde, 0, 2]);
        assert_eq!(rtp_header_len(&h[..32]), Ok(32));
        assert!(rtp_header_len(&h[..31]).is_err());
        assert!(rtp_header_len(&h[..22]).is_err());
    }

    #[test]
    fn aes_cm_iv_layout() {
        // RFC 3711 §4.1.1: SSRC at bytes 4..8, index at bytes 8..14.
        let iv = cm_iv(&[0; 14], 0x0102_0304, 0x5566_7788_99aa);
        assert_eq!(
            iv,
            [0, 0, 0, 0, 1, 2, 3, 4, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0, 0]
        );
    }

    #[test]
    fn aes_gcm_iv_layout() {
        // RFC 7714 §8.1: two zero bytes, SSRC at 2..6, the 48-bit index
        // (ROC ‖ SEQ) at 6..12, all XORed with the salt.
        let iv = gcm_iv(&[0; 12], 0x0102_0304, 0x5566_7788_99aa);
        assert_eq!(iv, [0, 0, 1, 2, 3, 4, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa]);
        // §9.1: for SRTCP two zero bytes and the 31-bit index at 8..12.
        let iv = gcm_iv(&[0; 12], 0x0102_0304, u64::from(0x7eed_beefu32));
        assert_eq!(iv, [0, 0, 1, 2, 3, 4, 0, 0, 0x7e, 0xed, 0xbe, 0xef]);
        // Index bits above 48 never reach the IV (the index is 48 bits).
        assert_eq!(
            gcm_iv(&[0; 12], 0, 0xffff_0000_0000_0001),
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
        );
    }

    #[test]
    fn aes_gcm_iv_agrees_with_the_bytewise_definition() {
        // The word-wise IV against a byte-by-byte reading of RFC 7714
        // §8.1, over salts, SSRCs and indexes from a fixed-seed generator.
        let mut next = tern_testkit::xorshift64(0x9e37_79b9_7f4a_7c15);
        for _ in 0..10_000 {
            let mut salt = [0u8; 12];
            salt[..8].copy_from_slice(&next().to_le_bytes());
            salt[8..].copy_from_slice(&next().to_le_bytes()[..4]);
            let ssrc = next() as u32;
            let index = next() & 0xffff_ffff_ffff;
            let mut want = [0u8; 12];
            want[2..6].copy_from_slice(&ssrc.to_be_bytes());
            want[6..].copy_from_slice(&index.to_be_bytes()[2..]);
            for (w, s) in want.iter_mut().zip(salt) {
                *w ^= s;
            }
            assert_eq!(gcm_iv(&salt, ssrc, index), want);
        }
    }
}
