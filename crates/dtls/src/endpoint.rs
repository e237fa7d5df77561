//! The DTLS-SRTP endpoint: one per 5-tuple (RFC 6347, RFC 5764).
//!
//! # Poll order
//!
//! Feed it with [`Dtls::handle_receive`] and [`Dtls::handle_timeout`];
//! after each call drain [`Dtls::poll_transmit`] until it returns `None`,
//! then [`Dtls::poll_event`] until `None`, then ask [`Dtls::poll_timeout`]
//! when to call `handle_timeout` next. Time is always the caller's `now`.
//!
//! # Retransmission on the caller's clock
//!
//! OpenSSL's own DTLS timer reads the wall clock, so Tern does not rely on
//! it: the endpoint keeps the last flight it sent (RFC 6347 §4.2.4) and
//! resends it, byte for byte, when the caller's clock passes the
//! retransmission deadline (initial 1 s by default, doubling to a cap), or
//! at once when the peer resends a datagram we already had (its
//! retransmission tells us our answer was lost).
//! A record the peer already has is dropped by its replay check; one it
//! lost is accepted. After completion, the server (which sends the final
//! flight) resends that flight whenever the client retransmits, as §4.2.4
//! requires of the last flight's sender.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use openssl::ssl::{
    ErrorCode, Ssl, SslContextBuilder, SslMethod, SslOptions, SslStream, SslVerifyMode, SslVersion,
};
use openssl::x509::X509StoreContextRef;
use tern_srtp::{Context, Profile, SessionKeys};

use crate::cert::{Certificate, Fingerprint};
use crate::Error;

/// The exporter label for DTLS-SRTP keying material (RFC 5764 §4.2).
pub const EXPORTER_LABEL: &str = "EXTRACTOR-dtls_srtp";

/// How many recent handshake datagrams are remembered to spot the peer's
/// retransmissions.
const RECENT_DATAGRAMS: usize = 32;

/// Least time between two flights resent because the peer retransmitted.
const DUP_RESEND_INTERVAL: Duration = Duration::from_millis(100);

/// Which side of the handshake this endpoint plays; chosen by `a=setup`
/// (RFC 5763 §5: `active` is the DTLS client, `passive` the server).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Sends the ClientHello (`a=setup:active`).
    Client,
    /// Waits for the ClientHello (`a=setup:passive`).
    Server,
}

/// Options for a [`Dtls`] endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Largest datagram the endpoint emits; OpenSSL fragments handshake
    /// messages to fit (default 1200).
    pub mtu: usize,
    /// The handshake fails if not complete this long after creation
    /// (default 30 s).
    pub handshake_timeout: Duration,
    /// First retransmission timeout (RFC 6347 §4.2.4.1 suggests 1 s).
    pub initial_rto: Duration,
    /// Largest retransmission timeout (RFC 6347: 60 s).
    pub max_rto: Duration,
    /// Cap on handshake bytes accepted from the peer before completion,
    /// and on bytes queued for sending (default 64 KiB).
    pub max_buffered_bytes: usize,
    /// SRTP profiles to offer, most preferred first (default: GCM first).
    pub srtp_profiles: Vec<Profile>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            mtu: 1200,
            handshake_timeout: Duration::from_secs(30),
            initial_rto: Duration::from_secs(1),
            max_rto: Duration::from_secs(60),
            max_buffered_bytes: 64 * 1024,
            srtp_profiles: Profile::ALL.to_vec(),
        }
    }
}

/// SRTP keys exported from a completed handshake (RFC 5764 §4.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrtpKeys {
    /// The negotiated protection profile.
    pub profile: Profile,
    /// Client and server write keys.
    pub keys: SessionKeys,
    /// Whether this endpoint was the DTLS client.
    pub is_client: bool,
}

impl SrtpKeys {
    /// `(outbound, inbound)` SRTP contexts: protect with the first,
    /// unprotect with the second.
    pub fn contexts(&self) -> Result<(Context, Context), tern_srtp::Error> {
        self.contexts_with(tern_srtp::Config::default())
    }

    /// As [`SrtpKeys::contexts`] with a given SRTP config.
    pub fn contexts_with(
        &self,
        config: tern_srtp::Config,
    ) -> Result<(Context, Context), tern_srtp::Error> {
        let (local, remote) = self.keys.local_remote(self.is_client);
        Ok((
            Context::with_config(local, config)?,
            Context::with_config(remote, config)?,
        ))
    }

    /// The exporter output in RFC 5764 §4.2 order (`client key ‖ server
    /// key ‖ client salt ‖ server salt`), for comparing with other stacks.
    pub fn keying_material(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.profile.keying_material_len());
        v.extend_from_slice(self.keys.client.key());
        v.extend_from_slice(self.keys.server.key());
        v.extend_from_slice(self.keys.client.salt());
        v.extend_from_slice(self.keys.server.salt());
        v
    }
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The handshake completed, the fingerprint matched and SRTP keys are
    /// ready.
    Connected(SrtpKeys),
    /// An application data record arrived (data channels).
    ApplicationData(Vec<u8>),
    /// The handshake failed; the endpoint is dead and exported nothing.
    Failed(Error),
    /// The peer sent close_notify.
    Closed,
}

/// A datagram to send: `len` bytes at the start of the caller's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transmit {
    /// Where to send it (the endpoint's remote address).
    pub destination: SocketAddr,
    /// Bytes written.
    pub len: usize,
}

/// Counters, for tests and logs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Datagrams from an address other than the endpoint's remote: ignored.
    pub foreign_datagrams: u64,
    /// Datagrams that were not DTLS records (RFC 7983 first byte).
    pub non_dtls_datagrams: u64,
    /// Flights resent because the caller's clock passed the deadline.
    pub timer_retransmits: u64,
    /// Final flights resent because the peer retransmitted.
    pub final_flight_resends: u64,
    /// Flights resent during the handshake because the peer retransmitted
    /// its previous flight (RFC 6347 §4.2.4).
    pub peer_retransmit_resends: u64,
    /// Datagrams dropped because `poll_transmit`'s buffer was too small.
    pub truncated_transmits: u64,
    /// Application data records dropped because the event queue was full.
    pub dropped_app_data: u64,
}

/// The in-memory datagram pair OpenSSL reads from and writes to: each
/// `read` yields one whole datagram, each `write` is one record batch.
#[derive(Debug, Default)]
struct Channel {
    incoming: VecDeque<Vec<u8>>,
    outgoing: VecDeque<Vec<u8>>,
}

impl Read for Channel {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.incoming.pop_front() {
            Some(d) => {
                let n = d.len().min(buf.len());
                buf[..n].copy_from_slice(&d[..n]);
                Ok(n)
            }
            None => Err(io::ErrorKind::WouldBlock.into()),
        }
    }
}

impl Write for Channel {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.outgoing.push_back(buf.to_vec());
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Phase {
    Handshaking,
    Connected,
    Failed,
    Closed,
}

/// One DTLS-SRTP association with one remote address (a 5-tuple).
pub struct Dtls {
    role: Role,
    remote: SocketAddr,
    config: Config,
    stream: SslStream<Channel>,
    phase: Phase,
    mismatch: Arc<AtomicBool>,
    expected: Fingerprint,
    deadline: Instant,
    /// The last flight we sent, as datagrams.
    flight: Vec<Vec<u8>>,
    /// Peer data arrived since the flight was last extended.
    peer_spoke: bool,
    rto: Duration,
    retransmit_at: Option<Instant>,
    handshake_bytes_in: usize,
    /// Hashes of recent handshake datagrams, to spot the peer's
    /// retransmissions (bounded ring).
    recent: VecDeque<u64>,
    last_dup_resend: Option<Instant>,
    tx: VecDeque<Vec<u8>>,
    tx_bytes: usize,
    events: VecDeque<Event>,
    event_bytes: usize,
    stats: Stats,
}

impl core::fmt::Debug for Dtls {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Dtls")
            .field("role", &self.role)
            .field("remote", &self.remote)
            .field("phase", &self.phase)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

fn is_dtls_record(data: &[u8]) -> bool {
    // RFC 7983 §7: 20..=63 is DTLS; a record header is 13 bytes.
    data.len() >= 13 && (20..=63).contains(&data[0])
}

fn ssl_reason(e: &openssl::ssl::Error) -> &'static str {
    match e.code() {
        ErrorCode::SSL => "OpenSSL rejected the handshake (bad message or alert)",
        ErrorCode::SYSCALL => "I/O error in the memory channel",
        ErrorCode::ZERO_RETURN => "peer closed during the handshake",
        _ => "unexpected OpenSSL state",
    }
}

impl Dtls {
    /// A new endpoint for the association with `remote`, presenting
    /// `cert` and accepting only a peer certificate whose SHA-256
    /// fingerprint is `remote_fingerprint`. A client queues its
    /// ClientHello at once.
    pub fn new(
        role: Role,
        remote: SocketAddr,
        cert: &Certificate,
        remote_fingerprint: Fingerprint,
        config: Config,
        now: Instant,
    ) -> Result<Self, Error> {
        if config.mtu < 256 || config.mtu > 65_507 {
            return Err(Error::ApiMisuse("mtu must be within 256..=65507"));
        }
        if config.srtp_profiles.is_empty() {
            return Err(Error::ApiMisuse("no SRTP profiles"));
        }
        let setup = |_| Error::Setup("OpenSSL context");
        let mut ctx = SslContextBuilder::new(SslMethod::dtls()).map_err(setup)?;
        ctx.set_min_proto_version(Some(SslVersion::DTLS1_2))
            .map_err(setup)?;
        ctx.set_max_proto_version(Some(SslVersion::DTLS1_2))
            .map_err(setup)?;
        ctx.set_certificate(&cert.cert).map_err(setup)?;
        ctx.set_private_key(&cert.key).map_err(setup)?;
        ctx.check_private_key().map_err(setup)?;
        ctx.set_cipher_list("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305")
            .map_err(setup)?;
        ctx.set_options(
            SslOptions::NO_QUERY_MTU | SslOptions::NO_TICKET | SslOptions::NO_RENEGOTIATION,
        );
        let profiles: Vec<&str> = config.srtp_profiles.iter().map(|p| p.dtls_name()).collect();
        ctx.set_tlsext_use_srtp(&profiles.join(":"))
            .map_err(setup)?;
        let mismatch = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&mismatch);
        let expected = remote_fingerprint;
        // Both roles demand the peer's certificate and accept it only by
        // fingerprint (self-signed, so chain checks are moot).
        ctx.set_verify_callback(
            SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT,
            move |_preverify, store: &mut X509StoreContextRef| {
                if store.error_depth() != 0 {
                    return true;
                }
                let ok = store
                    .current_cert()
                    .and_then(|c| Fingerprint::of(c).ok())
                    .is_some_and(|fp| fp == expected);
                if !ok {
                    flag.store(true, Ordering::Relaxed);
                }
                ok
            },
        );
        let ctx = ctx.build();
        let mut ssl = Ssl::new(&ctx).map_err(|_| Error::Setup("OpenSSL session"))?;
        let mtu = u32::try_from(config.mtu).map_err(|_| Error::ApiMisuse("mtu"))?;
        ssl.set_mtu(mtu).map_err(|_| Error::Setup("OpenSSL MTU"))?;
        match role {
            Role::Client => ssl.set_connect_state(),
            Role::Server => ssl.set_accept_state(),
        }
        let stream =
            SslStream::new(ssl, Channel::default()).map_err(|_| Error::Setup("OpenSSL stream"))?;
        let rto = config.initial_rto;
        let deadline = now + config.handshake_timeout;
        let mut d = Self {
            role,
            remote,
            config,
            stream,
            phase: Phase::Handshaking,
            mismatch,
            expected,
            deadline,
            flight: Vec::new(),
            peer_spoke: false,
            rto,
            retransmit_at: None,
            handshake_bytes_in: 0,
            recent: VecDeque::new(),
            last_dup_resend: None,
            tx: VecDeque::new(),
            tx_bytes: 0,
            events: VecDeque::new(),
            event_bytes: 0,
            stats: Stats::default(),
        };
        if role == Role::Client {
            d.drive(now);
        }
        Ok(d)
    }

    /// This endpoint's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The remote address this endpoint talks to.
    pub fn remote(&self) -> SocketAddr {
        self.remote
    }

    /// True once the handshake completed and keys were exported.
    pub fn is_connected(&self) -> bool {
        self.phase == Phase::Connected
    }

    /// True once the handshake failed.
    pub fn is_failed(&self) -> bool {
        self.phase == Phase::Failed
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// A datagram arrived from `from`. Datagrams from any address other
    /// than the endpoint's remote are ignored before OpenSSL sees them (the
    /// endpoint is per 5-tuple), as are non-DTLS datagrams (RFC 7983).
    pub fn handle_receive(&mut self, now: Instant, from: SocketAddr, data: &[u8]) {
        if from != self.remote {
            self.stats.foreign_datagrams += 1;
            return;
        }
        if !is_dtls_record(data) {
            self.stats.non_dtls_datagrams += 1;
            return;
        }
        match self.phase {
            Phase::Failed | Phase::Closed => return,
            Phase::Handshaking => {
                self.handshake_bytes_in += data.len();
                if self.handshake_bytes_in > self.config.max_buffered_bytes {
                    self.fail(Error::HandshakeTooLarge);
                    return;
                }
            }
            Phase::Connected => {
                // The client retransmitting its last flight (handshake or
                // change_cipher_spec records) means our final flight was
                // lost: resend it (RFC 6347 §4.2.4).
                if self.role == Role::Server
                    && (data[0] == 22 || data[0] == 20)
                    && !self.flight.is_empty()
                {
                    self.stats.final_flight_resends += 1;
                    self.queue_flight();
                }
            }
        }
        let dup = self.phase == Phase::Handshaking && self.seen_before(data);
        let queued = self.tx.len();
        self.peer_spoke = true;
        self.stream.get_mut().incoming.push_back(data.to_vec());
        self.drive(now);
        // The peer resent a datagram we already had and we had nothing new
        // to say: our last flight was probably lost, so resend it now
        // rather than wait for our timer (RFC 6347 §4.2.4). At most once
        // per 100 ms, so a replayed datagram cannot make us a reflector.
        if dup
            && self.phase == Phase::Handshaking
            && self.tx.len() == queued
            && !self.flight.is_empty()
            && self
                .last_dup_resend
                .is_none_or(|t| now.saturating_duration_since(t) >= DUP_RESEND_INTERVAL)
        {
            self.last_dup_resend = Some(now);
            self.stats.peer_retransmit_resends += 1;
            self.queue_flight();
        }
    }

    /// Whether `data` was received before (recent handshake datagrams).
    fn seen_before(&mut self, data: &[u8]) -> bool {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        data.hash(&mut h);
        let h = h.finish();
        if self.recent.contains(&h) {
            return true;
        }
        if self.recent.len() == RECENT_DATAGRAMS {
            self.recent.pop_front();
        }
        self.recent.push_back(h);
        false
    }

    /// The caller's clock reached `now`: fail a handshake past its
    /// deadline, resend the last flight when the retransmission timer
    /// expired.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.phase != Phase::Handshaking {
            return;
        }
        if now >= self.deadline {
            self.fail(Error::HandshakeTimeout);
            return;
        }
        if let Some(at) = self.retransmit_at {
            if now >= at && !self.flight.is_empty() {
                self.stats.timer_retransmits += 1;
                self.queue_flight();
                self.rto = (self.rto * 2).min(self.config.max_rto);
                self.retransmit_at = Some(now + self.rto);
            }
        }
    }

    /// The next datagram to send, written into `buf` (give it at least
    /// [`Config::mtu`] bytes); `None` when nothing is queued.
    pub fn poll_transmit(&mut self, buf: &mut [u8]) -> Option<Transmit> {
        loop {
            let d = self.tx.pop_front()?;
            self.tx_bytes -= d.len();
            if d.len() > buf.len() {
                self.stats.truncated_transmits += 1;
                continue;
            }
            buf[..d.len()].copy_from_slice(&d);
            return Some(Transmit {
                destination: self.remote,
                len: d.len(),
            });
        }
    }

    /// When to call [`Dtls::handle_timeout`] next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.phase != Phase::Handshaking {
            return None;
        }
        Some(match self.retransmit_at {
            Some(at) => at.min(self.deadline),
            None => self.deadline,
        })
    }

    /// The next event; drain until `None`.
    pub fn poll_event(&mut self) -> Option<Event> {
        let e = self.events.pop_front()?;
        if let Event::ApplicationData(d) = &e {
            self.event_bytes -= d.len();
        }
        Some(e)
    }

    /// Send one application data record (for data channels).
    pub fn send_application_data(&mut self, data: &[u8]) -> Result<(), Error> {
        if self.phase != Phase::Connected {
            return Err(Error::NotConnected);
        }
        if self.tx_bytes + data.len() > self.config.max_buffered_bytes {
            return Err(Error::BufferFull);
        }
        match self.stream.ssl_write(data) {
            Ok(_) => {
                self.collect_output(None);
                Ok(())
            }
            Err(e) => {
                self.collect_output(None);
                Err(Error::HandshakeFailed(ssl_reason(&e)))
            }
        }
    }

    /// Send close_notify and stop; the endpoint accepts nothing further.
    pub fn close(&mut self) {
        if self.phase == Phase::Connected {
            let _ = self.stream.shutdown();
            self.collect_output(None);
        }
        if self.phase != Phase::Failed {
            self.phase = Phase::Closed;
        }
        self.retransmit_at = None;
    }

    fn fail(&mut self, e: Error) {
        if self.phase == Phase::Failed {
            return;
        }
        self.phase = Phase::Failed;
        self.retransmit_at = None;
        self.flight.clear();
        self.events.push_back(Event::Failed(e));
    }

    fn queue_flight(&mut self) {
        for d in &self.flight {
            if self.tx_bytes + d.len() > self.config.max_buffered_bytes {
                break;
            }
            self.tx_bytes += d.len();
            self.tx.push_back(d.clone());
        }
    }

    /// Move what OpenSSL wrote into the send queue, packing consecutive
    /// records into datagrams up to the MTU (RFC 6347 §4.1.1 allows
    /// several records per datagram). During the handshake, output that
    /// follows peer data starts a new flight.
    fn collect_output(&mut self, now: Option<Instant>) {
        let out = &mut self.stream.get_mut().outgoing;
        if out.is_empty() {
            return;
        }
        let mut packed: Vec<Vec<u8>> = Vec::new();
        while let Some(rec) = out.pop_front() {
            match packed.last_mut() {
                Some(last) if last.len() + rec.len() <= self.config.mtu => {
                    last.extend_from_slice(&rec)
                }
                _ => packed.push(rec),
            }
        }
        let track =
            self.phase == Phase::Handshaking || (self.phase == Phase::Connected && now.is_some());
        if track {
            if self.peer_spoke {
                self.flight.clear();
                self.rto = self.config.initial_rto;
                self.peer_spoke = false;
            }
            self.flight.extend(packed.iter().cloned());
            if let (Some(now), Phase::Handshaking) = (now, self.phase) {
                self.retransmit_at = Some(now + self.rto);
            }
        }
        for d in packed {
            self.tx_bytes += d.len();
            self.tx.push_back(d);
        }
    }

    fn drive(&mut self, now: Instant) {
        if self.phase == Phase::Handshaking {
            let r = self.stream.do_handshake();
            self.collect_output(Some(now));
            match r {
                Ok(()) => self.on_handshake_done(),
                Err(e) if e.code() == ErrorCode::WANT_READ || e.code() == ErrorCode::WANT_WRITE => {
                }
                Err(e) => {
                    if self.mismatch.load(Ordering::Relaxed) {
                        self.fail(Error::FingerprintMismatch);
                    } else {
                        self.fail(Error::HandshakeFailed(ssl_reason(&e)));
                    }
                }
            }
            if self.phase != Phase::Connected {
                return;
            }
        }
        if self.phase == Phase::Connected {
            self.read_application_data();
        }
    }

    fn on_handshake_done(&mut self) {
        // Belt and braces: the verify callback already checked, but never
        // export keys unless the presented certificate is the expected one.
        let peer_ok = self
            .stream
            .ssl()
            .peer_certificate()
            .and_then(|c| Fingerprint::of(&c).ok())
            .is_some_and(|fp| fp == self.expected);
        if !peer_ok {
            self.fail(Error::FingerprintMismatch);
            return;
        }
        let Some(profile) = self
            .stream
            .ssl()
            .selected_srtp_profile()
            .and_then(|p| u16::try_from(p.id().as_raw()).ok())
            .and_then(Profile::from_dtls_id)
            .filter(|p| self.config.srtp_profiles.contains(p))
        else {
            self.fail(Error::NoSrtpProfile);
            return;
        };
        let mut material = [0u8; 88];
        let material = &mut material[..profile.keying_material_len()];
        if self
            .stream
            .ssl()
            .export_keying_material(material, EXPORTER_LABEL, None)
            .is_err()
        {
            self.fail(Error::HandshakeFailed("keying material export failed"));
            return;
        }
        let keys = match SessionKeys::from_keying_material(profile, material) {
            Ok(k) => k,
            Err(_) => {
                self.fail(Error::HandshakeFailed("keying material length"));
                return;
            }
        };
        material.fill(0);
        self.phase = Phase::Connected;
        self.retransmit_at = None;
        if self.role == Role::Client {
            // The server sends the final flight; the client has nothing
            // left to resend.
            self.flight.clear();
        }
        self.events.push_back(Event::Connected(SrtpKeys {
            profile,
            keys,
            is_client: self.role == Role::Client,
        }));
    }

    fn read_application_data(&mut self) {
        let mut buf = [0u8; 16_384];
        loop {
            match self.stream.ssl_read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if self.event_bytes + n > self.config.max_buffered_bytes {
                        self.stats.dropped_app_data += 1;
                        continue;
                    }
                    self.event_bytes += n;
                    self.events
                        .push_back(Event::ApplicationData(buf[..n].to_vec()));
                }
                Err(e) if e.code() == ErrorCode::ZERO_RETURN => {
                    self.phase = Phase::Closed;
                    self.events.push_back(Event::Closed);
                    break;
                }
                Err(_) => break,
            }
        }
        // OpenSSL may answer (alerts, its own retransmissions).
        self.collect_output(None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_move_between_threads() {
        fn send<T: Send>() {}
        send::<Dtls>();
    }

    #[test]
    fn rfc7983_first_byte_range() {
        assert!(is_dtls_record(&[20; 13]));
        assert!(is_dtls_record(&[63; 13]));
        assert!(!is_dtls_record(&[19; 13]));
        assert!(!is_dtls_record(&[64; 13]));
        assert!(!is_dtls_record(&[22; 12]));
    }
}
