//! One client transport: full ICE, controlling (RFC 8445 §6, §7, §8.1;
//! consent freshness RFC 7675), DTLS-SRTP (RFC 5763 §5, RFC 5764 §4) and
//! SRTP/SRTCP (RFC 3711 §3.3–3.4, RFC 7714 §7–9) over one rtcp-mux 5-tuple
//! (RFC 5761), demultiplexed by first byte (RFC 7983).
use std::fmt;
use std::net::SocketAddr;
use std::time::Instant;

use tern_dtls::{Certificate, Dtls, Event as DtlsEvent, Fingerprint, Profile, Role};
use tern_ice::{Agent, AgentConfig, Candidate, Credentials, Event as IceEvent, SeededRng};
use tern_rtp::{classify, PacketKind};
use tern_sdp::RemoteTransport;
use tern_signal::TransportParams;
use tern_srtp::Context;

/// A buffer this long always holds the next control datagram (ICE checks
/// need at most 548 bytes; DTLS flights are cut to its 1200-byte MTU).
pub const MIN_TRANSMIT_BUF: usize = 1500;

/// Why a call failed: a static reason, no allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientError(pub &'static str);

impl ClientError {
    /// The reason.
    pub fn reason(&self) -> &'static str {
        self.0
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for ClientError {}

/// A control datagram written by [`ClientTransport::poll_transmit`]:
/// `len` bytes at the start of the caller's buffer, to send from
/// [`ClientTransport::local`] to `destination`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transmit {
    /// Where to send it.
    pub destination: SocketAddr,
    /// Bytes written.
    pub len: usize,
}

/// What [`ClientTransport::handle_receive`] made of a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Incoming {
    /// SRTP authenticated and decrypted in place: the datagram's first
    /// `len` bytes are now a plaintext RTP packet.
    Rtp(usize),
    /// SRTCP authenticated and decrypted in place: the first `len` bytes
    /// are now a plaintext RTCP compound packet.
    Rtcp(usize),
    /// STUN or DTLS, handled by the transport.
    Consumed,
    /// Rejected (why); the buffer's contents may have changed.
    Dropped(&'static str),
}

/// The client end of one WebRTC transport toward an SFU transport. See the
/// crate docs for the poll order.
pub struct ClientTransport {
    local: SocketAddr,
    ice: Agent,
    creds: Credentials,
    cert: Certificate,
    sfu_fingerprint: Fingerprint,
    role: Role,
    dtls: Option<Dtls>,
    /// Outbound and inbound SRTP contexts, once DTLS exported keys.
    srtp: Option<(Context, Context)>,
    profile: Option<Profile>,
    selected: Option<SocketAddr>,
    /// The SFU's candidate addresses (a DTLS ClientHello from one of them
    /// may start DTLS before ICE nominates, when this side is the server).
    remotes: Vec<SocketAddr>,
    failed: Option<&'static str>,
    /// The latest time the caller gave us (for work done in
    /// `poll_transmit`, which takes no time argument).
    now: Instant,
}

impl fmt::Debug for ClientTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientTransport")
            .field("local", &self.local)
            .field("ufrag", &self.creds.ufrag())
            .field("role", &self.role)
            .field("selected", &self.selected)
            .field("dtls", &self.dtls.is_some())
            .field("connected", &self.is_connected())
            .field("profile", &self.profile)
            .field("failed", &self.failed)
            .finish()
    }
}

impl ClientTransport {
    /// A transport toward one SFU transport (its [`TransportParams`] from
    /// signaling: ufrag, pwd, fingerprints, candidates). `local`: this
    /// client's UDP address (its host candidate). `role`: this side's DTLS
    /// role (`Role::Client` normally, i.e. the answer said
    /// `a=setup:active`). `seed`: all randomness (ICE credentials,
    /// tie-breaker, transaction ids).
    ///
    /// Fails when the parameters are unusable: bad ICE credentials, no
    /// SHA-256 fingerprint, no parseable candidate, a local port of 0.
    pub fn new(
        local: SocketAddr,
        cert: &Certificate,
        sfu: &TransportParams,
        role: Role,
        seed: u64,
        now: Instant,
    ) -> Result<ClientTransport, ClientError> {
        let remote_creds = Credentials::new(&sfu.ice_ufrag, &sfu.ice_pwd)
            .map_err(|_| ClientError("the SFU's ICE credentials are invalid"))?;
        let sfu_fingerprint = sfu
            .fingerprints
            .iter()
            .find(|(hash, _)| hash.eq_ignore_ascii_case("sha-256"))
            .ok_or(ClientError("the SFU sent no sha-256 fingerprint"))?
            .1
            .parse::<Fingerprint>()
            .map_err(|_| ClientError("the SFU's sha-256 fingerprint does not parse"))?;
        let mut rng = SeededRng::new(seed);
        let creds = Credentials::random(&mut rng);
        let mut ice = Agent::new(
            AgentConfig::full(creds.clone(), true),
            now,
            seed ^ 0x9E37_79B9_7F4A_7C15,
        );
        ice.add_local_host(local, 65535)
            .map_err(|e| ClientError(e.reason()))?;
        ice.set_remote_credentials(remote_creds);
        let mut remotes = Vec::new();
        for line in &sfu.candidates {
            let Ok(c) = Candidate::from_sdp(line) else {
                continue;
            };
            if c.address.is_ipv4() == local.is_ipv4() && ice.add_remote_candidate(c).is_ok() {
                remotes.push(c.address);
            }
        }
        if remotes.is_empty() {
            return Err(ClientError("no usable SFU candidate"));
        }
        ice.end_of_remote_candidates();
        let mut t = ClientTransport {
            local,
            ice,
            creds,
            cert: cert.clone(),
            sfu_fingerprint,
            role,
            dtls: None,
            srtp: None,
            profile: None,
            selected: None,
            remotes,
            failed: None,
            now,
        };
        t.drain_events();
        Ok(t)
    }

    /// What signaling tells the SFU about this side: ICE ufrag and pwd and
    /// the SHA-256 fingerprint of the certificate (no candidates: the SFU
    /// is ICE-lite and learns the address from the checks).
    pub fn remote_description(&self) -> RemoteTransport {
        RemoteTransport {
            ice_ufrag: self.creds.ufrag().to_owned(),
            ice_pwd: self.creds.pwd().to_owned(),
            ice_options: vec![],
            fingerprints: vec![("sha-256".to_owned(), self.cert.fingerprint().to_string())],
            candidates: vec![],
            end_of_candidates: false,
            ice_lite: false,
        }
    }

    /// This client's UDP address.
    pub fn local(&self) -> SocketAddr {
        self.local
    }

    /// This side's DTLS role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Changes this side's DTLS role (the answer changed `a=setup`). Only
    /// before DTLS started, i.e. before ICE selected a pair.
    pub fn set_role(&mut self, role: Role) -> Result<(), ClientError> {
        if self.dtls.is_some() && role != self.role {
            return Err(ClientError("DTLS already started"));
        }
        self.role = role;
        Ok(())
    }

    /// A datagram from `from` arrived on [`ClientTransport::local`]. STUN
    /// and DTLS are consumed; SRTP/SRTCP from the selected remote are
    /// authenticated and decrypted in place. Never panics, whatever `data`
    /// holds. Then drain [`ClientTransport::poll_transmit`].
    pub fn handle_receive(&mut self, now: Instant, from: SocketAddr, data: &mut [u8]) -> Incoming {
        self.now = self.now.max(now);
        match classify(data) {
            PacketKind::Stun => {
                self.ice.handle_receive(now, from, self.local, data);
                self.drain_events();
                Incoming::Consumed
            }
            PacketKind::Dtls => {
                // As the DTLS server, the SFU's ClientHello may come as soon
                // as its (lite) agent saw our check, before we nominated:
                // start DTLS toward that candidate, as a browser does once
                // ICE has a valid pair.
                if self.dtls.is_none() && self.role == Role::Server && self.remotes.contains(&from)
                {
                    self.start_dtls(from);
                }
                let Some(d) = self.dtls.as_mut() else {
                    return Incoming::Dropped("DTLS before ICE found the SFU");
                };
                if from != d.remote() {
                    return Incoming::Dropped(
                        "DTLS from an address other than the selected pair's",
                    );
                }
                d.handle_receive(now, from, data);
                self.drain_events();
                Incoming::Consumed
            }
            PacketKind::Rtp => {
                if self.remote_addr() != Some(from) {
                    return Incoming::Dropped("RTP from an address other than the selected pair's");
                }
                let Some((_, rx)) = self.srtp.as_mut() else {
                    return Incoming::Dropped("RTP before SRTP keys");
                };
                match rx.unprotect_rtp(data) {
                    Ok(n) => Incoming::Rtp(n),
                    Err(e) => Incoming::Dropped(srtp_reason(e)),
                }
            }
            PacketKind::Rtcp => {
                if self.remote_addr() != Some(from) {
                    return Incoming::Dropped(
                        "RTCP from an address other than the selected pair's",
                    );
                }
                let Some((_, rx)) = self.srtp.as_mut() else {
                    return Incoming::Dropped("RTCP before SRTP keys");
                };
                match rx.unprotect_rtcp(data) {
                    Ok(n) => Incoming::Rtcp(n),
                    Err(e) => Incoming::Dropped(srtp_reason(e)),
                }
            }
            PacketKind::Zrtp | PacketKind::TurnChannel => {
                Incoming::Dropped("ZRTP or TURN ChannelData: not expected")
            }
            _ => Incoming::Dropped("not STUN, DTLS, RTP or RTCP"),
        }
    }

    /// The caller's clock reached `now` (call at or after
    /// [`ClientTransport::poll_timeout`]): ICE checks, consent, DTLS
    /// retransmissions. Then drain [`ClientTransport::poll_transmit`].
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = self.now.max(now);
        if self.ice.poll_timeout().is_some_and(|t| t <= now) {
            self.ice.handle_timeout(now);
        }
        self.drain_events();
        if let Some(d) = self.dtls.as_mut() {
            if d.poll_timeout().is_some_and(|t| t <= now) {
                d.handle_timeout(now);
            }
        }
        self.drain_events();
    }

    /// When to call [`ClientTransport::handle_timeout`] next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let a = self.ice.poll_timeout();
        let b = self.dtls.as_ref().and_then(|d| d.poll_timeout());
        match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The next control datagram (ICE checks and responses, DTLS flights)
    /// written into `buf` (give it [`MIN_TRANSMIT_BUF`] bytes); `None` when
    /// nothing is queued. Drain until `None`. The queues behind it are the
    /// ICE agent's and the DTLS endpoint's, both bounded.
    pub fn poll_transmit(&mut self, buf: &mut [u8]) -> Option<Transmit> {
        if let Some(t) = self.ice.poll_transmit(buf) {
            return Some(Transmit {
                destination: t.destination,
                len: t.len,
            });
        }
        self.drain_events();
        let t = self.dtls.as_mut()?.poll_transmit(buf)?;
        Some(Transmit {
            destination: t.destination,
            len: t.len,
        })
    }

    /// True once DTLS completed, the SFU's fingerprint matched and SRTP
    /// keys are installed.
    pub fn is_connected(&self) -> bool {
        self.srtp.is_some()
    }

    /// Why the transport died (DTLS handshake failed or ICE failed), if it
    /// did.
    pub fn failure(&self) -> Option<&'static str> {
        self.failed
    }

    /// The SRTP protection profile DTLS negotiated, once connected.
    pub fn profile(&self) -> Option<Profile> {
        self.profile
    }

    /// The selected pair's remote address (before nomination, the DTLS
    /// peer's): where media goes.
    pub fn remote_addr(&self) -> Option<SocketAddr> {
        self.selected.or(self.dtls.as_ref().map(|d| d.remote()))
    }

    /// Protects `buf[..len]` (a plaintext RTP packet) in place; `buf` must
    /// have room past `len` for the tag (16 bytes covers every profile).
    /// Returns the SRTP length.
    pub fn protect_rtp(&mut self, buf: &mut [u8], len: usize) -> Result<usize, ClientError> {
        let (tx, _) = self.srtp.as_mut().ok_or(ClientError("not connected"))?;
        tx.protect_rtp(buf, len)
            .map_err(|e| ClientError(srtp_reason(e)))
    }

    /// Protects `buf[..len]` (a plaintext RTCP compound packet) in place;
    /// `buf` must have room past `len` for the SRTCP index and tag (20
    /// bytes covers every profile). Returns the SRTCP length.
    pub fn protect_rtcp(&mut self, buf: &mut [u8], len: usize) -> Result<usize, ClientError> {
        let (tx, _) = self.srtp.as_mut().ok_or(ClientError("not connected"))?;
        tx.protect_rtcp(buf, len)
            .map_err(|e| ClientError(srtp_reason(e)))
    }

    /// Creates the DTLS endpoint toward `remote` (a client queues its
    /// ClientHello at once).
    fn start_dtls(&mut self, remote: SocketAddr) {
        if self.failed.is_some() {
            return;
        }
        match Dtls::new(
            self.role,
            remote,
            &self.cert,
            self.sfu_fingerprint,
            tern_dtls::Config::default(),
            self.now,
        ) {
            Ok(d) => self.dtls = Some(d),
            Err(_) => self.failed = Some("DTLS endpoint setup failed"),
        }
    }

    /// Handles what ICE and DTLS reported: a selected pair starts DTLS;
    /// DTLS keys install SRTP.
    fn drain_events(&mut self) {
        while let Some(e) = self.ice.poll_event() {
            match e {
                IceEvent::SelectedPair { remote, .. } => {
                    self.selected = Some(remote);
                    if self.dtls.is_none() {
                        self.start_dtls(remote);
                    }
                }
                IceEvent::StateChanged(tern_ice::IceState::Failed) => {
                    self.failed.get_or_insert("ICE failed");
                }
                _ => {}
            }
        }
        let Some(d) = self.dtls.as_mut() else { return };
        while let Some(e) = d.poll_event() {
            match e {
                DtlsEvent::Connected(keys) => match keys.contexts() {
                    Ok(c) => {
                        self.profile = Some(keys.profile);
                        self.srtp = Some(c);
                    }
                    Err(e) => self.failed = Some(srtp_reason(e)),
                },
                DtlsEvent::Failed(_) => {
                    self.failed.get_or_insert("DTLS handshake failed");
                }
                DtlsEvent::ApplicationData(_) | DtlsEvent::Closed => {}
            }
        }
    }
}

/// A static reason for an SRTP error.
fn srtp_reason(e: tern_srtp::Error) -> &'static str {
    use tern_srtp::Error as E;
    match e {
        E::Malformed(why) => why,
        E::AuthFailed => "SRTP authentication failed",
        E::Replayed => "SRTP replay",
        E::TooOld => "SRTP packet older than the replay window",
        E::UnknownSsrc => "SRTP: unknown SSRC",
        E::TooManyStreams => "SRTP: too many SSRCs",
        E::IndexExhausted => "SRTP index exhausted",
        E::BufferTooSmall => "buffer has no room for the SRTP tag",
        E::ApiMisuse(why) => why,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(cert: &Certificate) -> TransportParams {
        TransportParams {
            ice_ufrag: "sfuU".into(),
            ice_pwd: "abcdefghijklmnopqrstuvwx".into(),
            fingerprints: vec![("sha-256".into(), cert.fingerprint().to_string())],
            setup_when_actpass: tern_sdp::Setup::Passive,
            candidates: vec!["1 1 udp 2130706431 10.0.0.1 3478 typ host".into()],
        }
    }

    fn local() -> SocketAddr {
        "10.0.1.1:5000".parse().unwrap()
    }

    /// Load generators move transports into worker threads.
    #[test]
    fn client_transport_is_send() {
        fn send<T: Send>() {}
        send::<ClientTransport>();
    }

    #[test]
    fn new_refuses_unusable_parameters() {
        let cert = Certificate::generate().unwrap();
        let now = Instant::now();
        let mut p = params(&cert);
        p.candidates = vec!["garbage".into()];
        assert!(ClientTransport::new(local(), &cert, &p, Role::Client, 1, now).is_err());
        let mut p = params(&cert);
        p.fingerprints = vec![("sha-1".into(), "AB:CD".into())];
        assert!(ClientTransport::new(local(), &cert, &p, Role::Client, 1, now).is_err());
        let mut p = params(&cert);
        p.ice_pwd = "short".into();
        assert!(ClientTransport::new(local(), &cert, &p, Role::Client, 1, now).is_err());
        let p = params(&cert);
        assert!(ClientTransport::new(
            "10.0.1.1:0".parse().unwrap(),
            &cert,
            &p,
            Role::Client,
            1,
            now
        )
        .is_err());
    }

    #[test]
    fn a_new_transport_sends_checks_and_describes_itself() {
        let cert = Certificate::generate().unwrap();
        let now = Instant::now();
        let mut t =
            ClientTransport::new(local(), &cert, &params(&cert), Role::Client, 3, now).unwrap();
        let d = t.remote_description();
        assert_eq!(d.fingerprints[0].1, cert.fingerprint().to_string());
        assert!(!d.ice_lite);
        assert!(t.poll_timeout().is_some());
        t.handle_timeout(t.poll_timeout().unwrap());
        let mut buf = [0u8; MIN_TRANSMIT_BUF];
        let x = t.poll_transmit(&mut buf).expect("a connectivity check");
        assert_eq!(
            x.destination,
            "10.0.0.1:3478".parse::<SocketAddr>().unwrap()
        );
        assert!(tern_rtp::classify(&buf[..x.len]) == PacketKind::Stun);
        assert!(!t.is_connected());
        assert_eq!(t.remote_addr(), None);
        let mut rtp = [
            0x80u8, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(
            t.protect_rtp(&mut rtp, 12),
            Err(ClientError("not connected"))
        );
        assert!(t.set_role(Role::Server).is_ok());
        assert_eq!(t.role(), Role::Server);
    }
}
