//! A sans-IO TURN client over UDP (RFC 8656 §7–§12) for relay candidates.
//!
//! [`TurnClient`] allocates a relayed transport address on one TURN server
//! with the long-term credential mechanism (RFC 8489 §9.2: the first
//! Allocate goes unauthenticated, the 401 brings REALM and NONCE, a 438
//! brings a fresh NONCE), keeps the allocation alive with Refresh, installs
//! permissions (CreatePermission, refreshed every 4 minutes while in use),
//! binds channels (ChannelBind, refreshed every 9 minutes) and frames
//! outgoing data as ChannelData once a channel is bound, as a Send
//! indication before that. Incoming Data indications and ChannelData are
//! unwrapped without copying.
//!
//! # Using it with [`crate::Agent`]
//!
//! When [`TurnEvent::Allocated`] arrives, give the relayed address to
//! [`crate::Agent::add_local_relayed`]. From then on, every agent transmit
//! whose `source` is the relayed address goes through
//! [`TurnClient::send_to`] (which frames it for the server), and every
//! datagram [`TurnClient::handle_receive`] unwraps is fed to the agent with
//! `to` = the relayed address and `from` = the peer.
//!
//! # Poll order
//!
//! After each call: drain [`TurnClient::poll_transmit`] until `None`,
//! drain [`TurnClient::poll_event`] until `None`, then call
//! [`TurnClient::handle_timeout`] at [`TurnClient::poll_timeout`].
use crate::error::Error;
use crate::rng::IceRng;
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use tern_stun::{
    Attribute, Class, IntegrityKey, Message, MessageBuilder, MessageType, Method, TransactionId,
    Transmit,
};

/// Permissions a client keeps (distinct peer IPs).
pub const MAX_TURN_PERMISSIONS: usize = 32;
/// Channels a client binds; peers beyond this use Send indications.
pub const MAX_TURN_CHANNELS: usize = 32;
/// Queued events.
pub const MAX_TURN_EVENTS: usize = 64;
/// First channel number (RFC 8656 §12).
const CHANNEL_MIN: u16 = 0x4000;
/// Permission refresh interval (lifetime 300 s, RFC 8656 §9).
const PERMISSION_REFRESH: Duration = Duration::from_secs(240);
/// Channel refresh interval (lifetime 600 s, RFC 8656 §12).
const CHANNEL_REFRESH: Duration = Duration::from_secs(540);
/// Initial retransmission timeout (RFC 8489 §6.2.1).
const RTO: Duration = Duration::from_millis(500);
/// Requests sent at most this many times (RFC 8489 §6.2.1, Rc = 7).
const MAX_SENDS: u32 = 7;

/// Where the client stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TurnState {
    /// Allocating.
    Allocating,
    /// Allocated: the relayed address is usable.
    Allocated,
    /// Deallocating (Refresh with LIFETIME 0 sent).
    Closing,
    /// Failed, expired or closed; nothing more will happen.
    Closed,
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TurnEvent {
    /// The allocation succeeded.
    Allocated {
        /// The relayed transport address (XOR-RELAYED-ADDRESS).
        relayed: SocketAddr,
        /// Our address as the server sees it (XOR-MAPPED-ADDRESS).
        mapped: Option<SocketAddr>,
        /// Granted lifetime.
        lifetime: Duration,
    },
    /// A permission for this peer IP is installed.
    PermissionCreated(IpAddr),
    /// A permission was refused (e.g. 403 for a forbidden peer).
    PermissionFailed(IpAddr, u16),
    /// A channel to this peer is bound; data now goes as ChannelData.
    ChannelBound(SocketAddr, u16),
    /// The allocation failed (error code; 0 when the server never answered).
    AllocationFailed(u16),
    /// The allocation is gone (refresh failed, timed out, or closed).
    Closed,
}

/// What [`TurnClient::handle_receive`] made of a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received<'a> {
    /// Data relayed from `peer` (a Data indication or ChannelData).
    Data {
        /// Where it came from (the peer's address at the relay).
        peer: SocketAddr,
        /// The application data, borrowed from the datagram.
        data: &'a [u8],
    },
    /// A TURN message for the client itself (a response), consumed.
    Consumed,
    /// Not from the server or not TURN: handle it elsewhere.
    NotTurn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Allocate,
    Refresh(u32),
    Permission(IpAddr),
    Channel(u16, SocketAddr),
}

#[derive(Debug)]
struct Tx {
    tid: TransactionId,
    kind: Kind,
    sends: u32,
    next: Instant,
    due: bool,
}

#[derive(Debug, Clone, Copy)]
struct Perm {
    ip: IpAddr,
    confirmed: bool,
    refresh_at: Instant,
}

#[derive(Debug, Clone, Copy)]
struct Chan {
    number: u16,
    peer: SocketAddr,
    confirmed: bool,
    refresh_at: Instant,
}

/// Configuration of one TURN client.
#[derive(Debug, Clone)]
pub struct TurnClientConfig {
    /// The TURN server.
    pub server: SocketAddr,
    /// Our local socket (the candidate's base towards the server).
    pub local: SocketAddr,
    /// Long-term username.
    pub username: String,
    /// Long-term password.
    pub password: String,
    /// Requested allocation lifetime (the server may change it).
    pub lifetime: Duration,
    /// Bind channels to peers (ChannelData saves 32+ bytes per datagram).
    pub use_channels: bool,
}

impl TurnClientConfig {
    /// A configuration with a 10-minute lifetime and channels on.
    pub fn new(server: SocketAddr, local: SocketAddr, username: &str, password: &str) -> Self {
        Self {
            server,
            local,
            username: username.to_owned(),
            password: password.to_owned(),
            lifetime: Duration::from_secs(600),
            use_channels: true,
        }
    }
}

/// The TURN client state machine. See the module docs.
#[derive(Debug)]
pub struct TurnClient {
    cfg: TurnClientConfig,
    rng: Box<dyn IceRng + Send>,
    state: TurnState,
    realm: Option<String>,
    nonce: Option<String>,
    key: Option<IntegrityKey>,
    relayed: Option<SocketAddr>,
    refresh_at: Option<Instant>,
    expires_at: Option<Instant>,
    txs: Vec<Tx>,
    perms: Vec<Perm>,
    chans: Vec<Chan>,
    events: VecDeque<TurnEvent>,
    auth_retries: u32,
    /// Peer IPs the server refused (403): not asked for again.
    refused: VecDeque<IpAddr>,
}

impl TurnClient {
    /// A client that starts allocating at once (the first Allocate is due
    /// now).
    pub fn new(cfg: TurnClientConfig, now: Instant, rng: Box<dyn IceRng + Send>) -> Self {
        let mut c = Self {
            cfg,
            rng,
            state: TurnState::Allocating,
            realm: None,
            nonce: None,
            key: None,
            relayed: None,
            refresh_at: None,
            expires_at: None,
            txs: Vec::new(),
            perms: Vec::new(),
            chans: Vec::new(),
            events: VecDeque::new(),
            auth_retries: 0,
            refused: VecDeque::new(),
        };
        c.start(now, Kind::Allocate);
        c
    }

    /// The state.
    pub fn state(&self) -> TurnState {
        self.state
    }
    /// The relayed address once allocated.
    pub fn relayed(&self) -> Option<SocketAddr> {
        self.relayed
    }
    /// The server.
    pub fn server(&self) -> SocketAddr {
        self.cfg.server
    }
    /// The local socket address.
    pub fn local(&self) -> SocketAddr {
        self.cfg.local
    }
    /// Whether a permission for `ip` is installed.
    pub fn has_permission(&self, ip: IpAddr) -> bool {
        self.perms.iter().any(|p| p.ip == ip && p.confirmed)
    }
    /// The bound channel to `peer`, if any.
    pub fn channel(&self, peer: SocketAddr) -> Option<u16> {
        self.chans
            .iter()
            .find(|c| c.peer == peer && c.confirmed)
            .map(|c| c.number)
    }

    fn new_tid(&mut self) -> TransactionId {
        let a = self.rng.next_u64().to_be_bytes();
        let b = self.rng.next_u64().to_be_bytes();
        let mut t = [0u8; 12];
        t[..8].copy_from_slice(&a);
        t[8..].copy_from_slice(&b[..4]);
        TransactionId(t)
    }

    fn start(&mut self, now: Instant, kind: Kind) {
        // One transaction per kind at a time.
        if self.txs.iter().any(|t| t.kind == kind) {
            return;
        }
        let tid = self.new_tid();
        self.txs.push(Tx {
            tid,
            kind,
            sends: 0,
            next: now,
            due: true,
        });
    }

    fn emit(&mut self, e: TurnEvent) {
        if self.events.len() < MAX_TURN_EVENTS {
            self.events.push_back(e);
        }
    }

    fn close_now(&mut self) {
        if self.state != TurnState::Closed {
            self.state = TurnState::Closed;
            self.txs.clear();
            self.perms.clear();
            self.chans.clear();
            self.refresh_at = None;
            self.expires_at = None;
            self.emit(TurnEvent::Closed);
        }
    }

    // ----- API -----

    /// Installs a permission for `peer`'s IP (and, with channels on, binds
    /// a channel to `peer`). Called implicitly by [`Self::send_to`].
    pub fn permit(&mut self, now: Instant, peer: SocketAddr) -> Result<(), Error> {
        if self.state != TurnState::Allocated {
            return Err(Error::misuse("TURN allocation not ready"));
        }
        if peer.is_ipv4() != self.relayed.is_some_and(|r| r.is_ipv4()) {
            return Err(Error::misuse(
                "peer family differs from the relayed address",
            ));
        }
        if self.refused.contains(&peer.ip()) {
            return Err(Error::misuse("the TURN server refused this peer"));
        }
        if !self.perms.iter().any(|p| p.ip == peer.ip()) {
            if self.perms.len() >= MAX_TURN_PERMISSIONS {
                return Err(Error::limit("too many TURN permissions"));
            }
            self.perms.push(Perm {
                ip: peer.ip(),
                confirmed: false,
                refresh_at: now + PERMISSION_REFRESH,
            });
            self.start(now, Kind::Permission(peer.ip()));
        }
        if self.cfg.use_channels
            && !self.chans.iter().any(|c| c.peer == peer)
            && self.chans.len() < MAX_TURN_CHANNELS
        {
            let number = CHANNEL_MIN + self.chans.len() as u16;
            self.chans.push(Chan {
                number,
                peer,
                confirmed: false,
                refresh_at: now + CHANNEL_REFRESH,
            });
            self.start(now, Kind::Channel(number, peer));
        }
        Ok(())
    }

    /// Frames `data` for `peer` into `buf` (ChannelData if a channel is
    /// bound, otherwise a Send indication) and returns the datagram to
    /// send to the server. Asks for a permission (and channel) first if
    /// there is none; data sent before the server installs it is dropped
    /// by the server, like any early datagram (ICE retransmits).
    pub fn send_to(
        &mut self,
        now: Instant,
        peer: SocketAddr,
        data: &[u8],
        buf: &mut [u8],
    ) -> Result<Transmit, Error> {
        self.permit(now, peer)?;
        let len = if let Some(n) = self.channel(peer) {
            let total = 4 + data.len();
            let len = u16::try_from(data.len()).map_err(|_| Error::misuse("data too long"))?;
            let out = buf
                .get_mut(..total)
                .ok_or(Error::misuse("buffer too small"))?;
            out[..2].copy_from_slice(&n.to_be_bytes());
            out[2..4].copy_from_slice(&len.to_be_bytes());
            out[4..].copy_from_slice(data);
            total
        } else {
            let tid = self.new_tid();
            let typ = MessageType::new(Method::SEND, Class::Indication);
            let mut b = MessageBuilder::new(buf, typ, tid)
                .map_err(|_| Error::misuse("buffer too small"))?;
            b.add(&Attribute::XorPeerAddress(peer))
                .and_then(|b| b.add(&Attribute::Data(data)))
                .map_err(|_| Error::misuse("buffer too small"))?;
            b.finish()
        };
        Ok(Transmit {
            destination: self.cfg.server,
            source: self.cfg.local,
            len,
        })
    }

    /// Releases the allocation (Refresh with LIFETIME 0, RFC 8656 §7.3).
    pub fn close(&mut self, now: Instant) {
        match self.state {
            TurnState::Allocated => {
                self.state = TurnState::Closing;
                self.txs.clear();
                self.start(now, Kind::Refresh(0));
            }
            TurnState::Allocating => self.close_now(),
            _ => {}
        }
    }

    // ----- input -----

    /// A datagram arrived on our local socket from `from`. Returns relayed
    /// data (borrowed), `Consumed` for our own responses, or `NotTurn` for
    /// anything else (feed that to the ICE agent as usual).
    pub fn handle_receive<'a>(
        &mut self,
        now: Instant,
        from: SocketAddr,
        data: &'a [u8],
    ) -> Received<'a> {
        if from != self.cfg.server {
            return Received::NotTurn;
        }
        match data.first() {
            Some(b) if b & 0xC0 == 0x40 => {
                let [a, b, c, d, rest @ ..] = data else {
                    return Received::Consumed;
                };
                let number = u16::from_be_bytes([*a, *b]);
                let len = usize::from(u16::from_be_bytes([*c, *d]));
                let (Some(payload), Some(peer)) = (
                    rest.get(..len),
                    self.chans
                        .iter()
                        .find(|ch| ch.number == number && ch.confirmed)
                        .map(|ch| ch.peer),
                ) else {
                    return Received::Consumed;
                };
                if rest.len() - len > 3 {
                    return Received::Consumed;
                }
                Received::Data {
                    peer,
                    data: payload,
                }
            }
            Some(b) if b & 0xC0 == 0 => {
                let Ok(m) = Message::parse(data) else {
                    return Received::NotTurn;
                };
                let t = m.message_type();
                match t.class {
                    Class::Indication if t.method == Method::DATA => {
                        match (m.xor_peer_address(), m.data()) {
                            (Some(peer), Some(d))
                                if self.state == TurnState::Allocated
                                    && self.has_permission(peer.ip()) =>
                            {
                                Received::Data { peer, data: d }
                            }
                            _ => Received::Consumed,
                        }
                    }
                    Class::SuccessResponse | Class::ErrorResponse => {
                        match self.txs.iter().position(|x| x.tid == m.transaction_id()) {
                            Some(i) => {
                                self.on_response(now, i, &m);
                                Received::Consumed
                            }
                            // Binding responses (ICE checks are not ours)
                            // and stale answers.
                            None if t.method == Method::BINDING => Received::NotTurn,
                            None => Received::Consumed,
                        }
                    }
                    _ => Received::NotTurn,
                }
            }
            _ => Received::NotTurn,
        }
    }

    fn on_response(&mut self, now: Instant, i: usize, m: &Message<'_>) {
        let kind = self.txs[i].kind;
        let code = m.error_code().map(|e| e.code);
        // Challenges carry no integrity; everything else must verify under
        // our key once we have one (RFC 8489 §9.2.5).
        if matches!(code, Some(401) | Some(438)) && m.message_integrity().is_none() {
            let (Some(realm), Some(nonce)) = (m.realm(), m.nonce()) else {
                self.fail(now, i, code.unwrap_or(0));
                return;
            };
            // A second 401 with credentials means they are wrong.
            let retry =
                code == Some(438) || self.key.is_none() || self.realm.as_deref() != Some(realm);
            if !retry || self.auth_retries >= 3 {
                self.fail(now, i, code.unwrap_or(0));
                return;
            }
            self.auth_retries += 1;
            if self.realm.as_deref() != Some(realm) {
                self.key = Some(IntegrityKey::long_term(
                    &self.cfg.username,
                    realm,
                    &self.cfg.password,
                ));
                self.realm = Some(realm.to_owned());
            }
            self.nonce = Some(nonce.to_owned());
            // Resend under a new transaction id.
            self.txs.remove(i);
            self.start(now, kind);
            return;
        }
        if let Some(key) = &self.key {
            if m.verify_integrity(key).is_err() && m.verify_integrity_sha256(key).is_err() {
                // Not authentic: ignore it, the transaction goes on.
                return;
            }
        }
        self.auth_retries = 0;
        self.txs.remove(i);
        if let Some(code) = code {
            self.on_error(now, kind, code);
            return;
        }
        match kind {
            Kind::Allocate => {
                let Some(relayed) = m.xor_relayed_address() else {
                    self.emit(TurnEvent::AllocationFailed(0));
                    self.close_now();
                    return;
                };
                let lifetime = Duration::from_secs(u64::from(m.lifetime().unwrap_or(600)));
                self.relayed = Some(relayed);
                self.state = TurnState::Allocated;
                self.schedule_refresh(now, lifetime);
                self.emit(TurnEvent::Allocated {
                    relayed,
                    mapped: m.xor_mapped_address(),
                    lifetime,
                });
            }
            Kind::Refresh(0) => self.close_now(),
            Kind::Refresh(_) => {
                let lifetime = Duration::from_secs(u64::from(m.lifetime().unwrap_or(600)));
                self.schedule_refresh(now, lifetime);
            }
            Kind::Permission(ip) => {
                if let Some(p) = self.perms.iter_mut().find(|p| p.ip == ip) {
                    let first = !p.confirmed;
                    p.confirmed = true;
                    p.refresh_at = now + PERMISSION_REFRESH;
                    if first {
                        self.emit(TurnEvent::PermissionCreated(ip));
                    }
                }
            }
            Kind::Channel(n, peer) => {
                if let Some(c) = self.chans.iter_mut().find(|c| c.number == n) {
                    let first = !c.confirmed;
                    c.confirmed = true;
                    c.refresh_at = now + CHANNEL_REFRESH;
                    // A ChannelBind installs the permission too.
                    if let Some(p) = self.perms.iter_mut().find(|p| p.ip == peer.ip()) {
                        p.confirmed = true;
                    }
                    if first {
                        self.emit(TurnEvent::ChannelBound(peer, n));
                    }
                }
            }
        }
    }

    fn schedule_refresh(&mut self, now: Instant, lifetime: Duration) {
        self.expires_at = Some(now + lifetime);
        // A minute early, or halfway for short lifetimes.
        let lead = Duration::from_secs(60).min(lifetime / 2);
        self.refresh_at = Some(now + lifetime - lead);
    }

    fn on_error(&mut self, now: Instant, kind: Kind, code: u16) {
        match kind {
            Kind::Allocate => {
                self.emit(TurnEvent::AllocationFailed(code));
                self.close_now();
            }
            Kind::Refresh(_) => self.close_now(),
            Kind::Permission(ip) => {
                self.perms.retain(|p| p.ip != ip);
                self.chans.retain(|c| c.peer.ip() != ip);
                if code == 403 {
                    self.remember_refused(ip);
                }
                self.emit(TurnEvent::PermissionFailed(ip, code));
            }
            Kind::Channel(n, peer) => {
                // Fall back to Send indications for this peer.
                self.chans.retain(|c| c.number != n);
                if code == 403 {
                    self.perms.retain(|p| p.ip != peer.ip());
                    if !self.refused.contains(&peer.ip()) {
                        self.remember_refused(peer.ip());
                        self.emit(TurnEvent::PermissionFailed(peer.ip(), code));
                    }
                }
            }
        }
        let _ = now;
    }

    fn remember_refused(&mut self, ip: IpAddr) {
        if !self.refused.contains(&ip) {
            if self.refused.len() >= MAX_TURN_PERMISSIONS {
                self.refused.pop_front();
            }
            self.refused.push_back(ip);
        }
    }

    fn fail(&mut self, now: Instant, i: usize, code: u16) {
        let kind = self.txs[i].kind;
        self.txs.remove(i);
        self.on_error(now, kind, code);
    }

    // ----- timers -----

    /// When [`Self::handle_timeout`] is next due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let tx = self.txs.iter().filter(|t| !t.due).map(|t| t.next).min();
        let perms = self
            .perms
            .iter()
            .filter(|p| p.confirmed)
            .map(|p| p.refresh_at)
            .min();
        let chans = self
            .chans
            .iter()
            .filter(|c| c.confirmed)
            .map(|c| c.refresh_at)
            .min();
        [tx, perms, chans, self.refresh_at, self.expires_at]
            .into_iter()
            .flatten()
            .min()
    }

    /// Retransmits, refreshes and expires what is due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.state == TurnState::Closed {
            return;
        }
        if self.expires_at.is_some_and(|t| t <= now) {
            self.close_now();
            return;
        }
        let mut failed = Vec::new();
        for t in &mut self.txs {
            if !t.due && t.next <= now {
                if t.sends >= MAX_SENDS {
                    failed.push(t.tid);
                } else {
                    t.due = true;
                }
            }
        }
        for tid in failed {
            if let Some(i) = self.txs.iter().position(|t| t.tid == tid) {
                self.fail(now, i, 0);
            }
        }
        if self.state != TurnState::Allocated {
            return;
        }
        if self.refresh_at.is_some_and(|t| t <= now) {
            self.refresh_at = None;
            let life = self.cfg.lifetime.as_secs().min(u64::from(u32::MAX)) as u32;
            self.start(now, Kind::Refresh(life.max(1)));
        }
        let due: Vec<IpAddr> = self
            .perms
            .iter_mut()
            .filter(|p| p.confirmed && p.refresh_at <= now)
            .map(|p| {
                p.refresh_at = now + PERMISSION_REFRESH;
                p.ip
            })
            .collect();
        for ip in due {
            self.start(now, Kind::Permission(ip));
        }
        let due: Vec<(u16, SocketAddr)> = self
            .chans
            .iter_mut()
            .filter(|c| c.confirmed && c.refresh_at <= now)
            .map(|c| {
                c.refresh_at = now + CHANNEL_REFRESH;
                (c.number, c.peer)
            })
            .collect();
        for (n, p) in due {
            self.start(now, Kind::Channel(n, p));
        }
    }

    // ----- output -----

    /// The next request to send, written into `buf`.
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        let i = self.txs.iter().position(|t| t.due)?;
        let (tid, kind) = (self.txs[i].tid, self.txs[i].kind);
        let t = &mut self.txs[i];
        t.due = false;
        t.sends += 1;
        // RTO doubling: 0.5, 1, 2, 4, 8, 16 s; the last wait is 16 * RTO
        // (RFC 8489 §6.2.1, Rm = 16).
        let wait = if t.sends >= MAX_SENDS {
            RTO * 16
        } else {
            RTO * (1u32 << (t.sends - 1).min(5))
        };
        t.next = now + wait;
        let len = self.build(tid, kind, buf)?;
        Some(Transmit {
            destination: self.cfg.server,
            source: self.cfg.local,
            len,
        })
    }

    fn build(&self, tid: TransactionId, kind: Kind, buf: &mut [u8]) -> Option<usize> {
        let method = match kind {
            Kind::Allocate => Method::ALLOCATE,
            Kind::Refresh(_) => Method::REFRESH,
            Kind::Permission(_) => Method::CREATE_PERMISSION,
            Kind::Channel(..) => Method::CHANNEL_BIND,
        };
        let mut b = MessageBuilder::new(buf, MessageType::new(method, Class::Request), tid).ok()?;
        match kind {
            Kind::Allocate => {
                b.add(&Attribute::RequestedTransport(17)).ok()?;
                if self.cfg.local.is_ipv6() {
                    b.add(&Attribute::RequestedAddressFamily(2)).ok()?;
                }
                let life = self.cfg.lifetime.as_secs().min(u64::from(u32::MAX)) as u32;
                b.add(&Attribute::Lifetime(life)).ok()?;
            }
            Kind::Refresh(l) => {
                b.add(&Attribute::Lifetime(l)).ok()?;
            }
            Kind::Permission(ip) => {
                b.add(&Attribute::XorPeerAddress(SocketAddr::new(ip, 0)))
                    .ok()?;
            }
            Kind::Channel(n, peer) => {
                b.add(&Attribute::ChannelNumber(n)).ok()?;
                b.add(&Attribute::XorPeerAddress(peer)).ok()?;
            }
        }
        if let (Some(key), Some(realm), Some(nonce)) = (&self.key, &self.realm, &self.nonce) {
            b.add(&Attribute::Username(&self.cfg.username)).ok()?;
            b.add(&Attribute::Realm(realm)).ok()?;
            b.add(&Attribute::Nonce(nonce)).ok()?;
            b.message_integrity(key).ok()?;
        }
        b.fingerprint().ok()?;
        Some(b.finish())
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<TurnEvent> {
        self.events.pop_front()
    }
}
