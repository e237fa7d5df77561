//! The sans-IO TURN server over UDP (RFC 8656 §5–§12).
//!
//! # Poll order
//!
//! After each [`TurnServer::handle_receive`] or
//! [`TurnServer::handle_timeout`], drain [`TurnServer::poll_transmit`] until
//! it returns `None`, then call `handle_timeout` at
//! [`TurnServer::poll_timeout`].
//!
//! # What the caller provides
//!
//! A [`TurnEnv`]: randomness (nonce secret, rate-limit salt, relay ports,
//! reservation tokens — production callers read the OS CSPRNG) and relay
//! sockets (`open_relay`/`close_relay`: the server picks the address, the
//! caller binds a UDP socket there and afterwards feeds what arrives on it
//! to `handle_receive` with `to` = the relay address).
//!
//! # Bounded state
//!
//! No state is created for a source before it authenticates (stateless
//! nonces, a fixed-size rate limiter). After authentication, state is
//! bounded by the allocation quotas and the per-allocation caps on
//! permissions and channels; the outgoing queue is bounded too.
use crate::addr::{canonical, PeerPolicy, Refusal};
use crate::auth::{
    rest_password, split_rest_username, NonceCheck, NonceIssuer, RateLimiter, NONCE_LEN,
};
use crate::channel::{
    ChannelData, CHANNEL_HEADER_LEN, CHANNEL_MAX, CHANNEL_MAX_RFC5766, CHANNEL_MIN,
};
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use tern_stun::{
    AttrType, Attribute, Class, ErrorCode, IntegrityKey, Message, MessageBuilder, MessageType,
    Method, TransactionId, UnknownAttributes,
};

/// What the server needs from its environment.
pub trait TurnEnv {
    /// Fills `buf` with random bytes. Production callers use the operating
    /// system's CSPRNG (nonce secrets and reservation tokens depend on it).
    fn fill_random(&mut self, buf: &mut [u8]);
    /// Opens a relay socket on `relay`; `false` if that address is taken.
    fn open_relay(&mut self, relay: SocketAddr) -> bool;
    /// Closes a relay socket opened by `open_relay`.
    fn close_relay(&mut self, relay: SocketAddr);
}

/// A datagram to send: `len` bytes at the start of the caller's buffer,
/// from local address `source` (a listening or relay address) to
/// `destination`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transmit {
    /// The local address to send from.
    pub source: SocketAddr,
    /// Where to send it.
    pub destination: SocketAddr,
    /// Bytes written.
    pub len: usize,
    /// Set the IP DF bit (RFC 8656 §18.9; only when
    /// [`ServerConfig::support_dont_fragment`]).
    pub dont_fragment: bool,
}

/// Server configuration. [`ServerConfig::new`] gives safe defaults.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// REALM (RFC 8489 §14.9).
    pub realm: String,
    /// SOFTWARE for responses, if any.
    pub software: Option<String>,
    /// The IPv4 address relay sockets are opened on (and advertised), if
    /// IPv4 allocations are offered.
    pub relay_v4: Option<IpAddr>,
    /// The IPv6 address for IPv6 allocations, if offered.
    pub relay_v6: Option<IpAddr>,
    /// Relay ports are drawn at random from this range (inclusive).
    pub relay_ports: (u16, u16),
    /// Static long-term users: `(username, password)`.
    pub users: Vec<(String, String)>,
    /// Shared secret for time-limited credentials, if enabled.
    pub shared_secret: Option<Vec<u8>>,
    /// Longest time-limited credential accepted, counted from now (a
    /// credential expiring later is refused).
    pub max_credential_ttl: Duration,
    /// Which peers may be relayed to.
    pub peer_policy: PeerPolicy,
    /// Allocations in total (beyond: 508).
    pub max_allocations: usize,
    /// Allocations per user (beyond: 486). For time-limited credentials the
    /// user is the part after `EXPIRY:`, so new expiries do not evade it.
    pub max_allocations_per_user: usize,
    /// Permissions per allocation (beyond: 508).
    pub max_permissions: usize,
    /// Channels per allocation (beyond: 508).
    pub max_channels: usize,
    /// Lifetime when the client asks for none or less (RFC 8656 §7.2: 10 min).
    pub default_lifetime: Duration,
    /// Longest lifetime granted.
    pub max_lifetime: Duration,
    /// How long a nonce stays valid.
    pub nonce_lifetime: Duration,
    /// Unauthenticated answers per second per source (hashed) bucket.
    pub unauth_per_source_per_second: u16,
    /// Unauthenticated answers per second in total.
    pub unauth_per_second: u32,
    /// Whether the I/O layer can set DF; if not, DONT-FRAGMENT gets 420.
    pub support_dont_fragment: bool,
    /// Datagrams waiting for `poll_transmit` (beyond: dropped and counted).
    pub max_queued: usize,
    /// Also accept channel numbers 0x5000–0x7FFF, the older range of RFC
    /// 5766 §11 that some clients still pick (off by default: RFC 8656
    /// §11.2 answers them 400).
    pub rfc5766_channel_numbers: bool,
}

impl ServerConfig {
    /// Safe defaults for `realm` with IPv4 relays on `relay_v4`.
    pub fn new(realm: &str, relay_v4: IpAddr) -> Self {
        Self {
            realm: realm.to_owned(),
            software: None,
            relay_v4: Some(relay_v4),
            relay_v6: None,
            relay_ports: (49152, 65535),
            users: Vec::new(),
            shared_secret: None,
            max_credential_ttl: Duration::from_secs(24 * 3600),
            peer_policy: PeerPolicy::default(),
            max_allocations: 1000,
            max_allocations_per_user: 10,
            max_permissions: 32,
            max_channels: 32,
            default_lifetime: Duration::from_secs(600),
            max_lifetime: Duration::from_secs(3600),
            nonce_lifetime: Duration::from_secs(600),
            unauth_per_source_per_second: 10,
            unauth_per_second: 2000,
            support_dont_fragment: false,
            max_queued: 1024,
            rfc5766_channel_numbers: false,
        }
    }
}

/// Permission lifetime (RFC 8656 §9).
pub const PERMISSION_LIFETIME: Duration = Duration::from_secs(300);
/// Channel binding lifetime (RFC 8656 §12).
pub const CHANNEL_LIFETIME: Duration = Duration::from_secs(600);
/// After a channel expires, its number and peer stay blocked this long
/// (RFC 8656 §12: 5 minutes).
pub const CHANNEL_COOLDOWN: Duration = Duration::from_secs(300);
/// How long an EVEN-PORT R=1 reservation is held (RFC 8656 §7.2: about 30 s).
pub const RESERVATION_LIFETIME: Duration = Duration::from_secs(30);

/// Counters, for operators and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServerStats {
    /// Datagrams handed to the server.
    pub received: u64,
    /// Success responses.
    pub success: u64,
    /// Error responses (all codes).
    pub errors: u64,
    /// 401/438 challenges sent.
    pub challenges: u64,
    /// Unauthenticated answers suppressed by the rate limits.
    pub rate_limited: u64,
    /// Requests or data refused because of the peer address (403, or
    /// dropped Send/ChannelData).
    pub peer_refused: u64,
    /// Datagrams relayed client → peer.
    pub to_peer: u64,
    /// Datagrams relayed peer → client.
    pub to_client: u64,
    /// Datagrams dropped (not TURN, no allocation/permission, queue full).
    pub dropped: u64,
    /// Allocations that expired.
    pub expired: u64,
}

/// How much state the server holds, for tests and operators.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StateSize {
    /// Allocations.
    pub allocations: usize,
    /// EVEN-PORT reservations.
    pub reservations: usize,
    /// Users with at least one allocation.
    pub users: usize,
    /// Permissions over all allocations.
    pub permissions: usize,
    /// Channels over all allocations.
    pub channels: usize,
    /// Relay sockets open.
    pub relays: usize,
    /// Datagrams queued for `poll_transmit`.
    pub queued: usize,
}

type FiveTuple = (SocketAddr, SocketAddr);

#[derive(Debug)]
struct Channel {
    number: u16,
    peer: SocketAddr,
    expires: Instant,
}

#[derive(Debug)]
struct Allocation {
    relay: SocketAddr,
    username: String,
    quota_user: String,
    key: IntegrityKey,
    expires: Instant,
    tid: TransactionId,
    perms: Vec<(IpAddr, Instant)>,
    channels: Vec<Channel>,
    dont_fragment: bool,
}

impl Allocation {
    fn permitted(&self, ip: IpAddr, now: Instant) -> bool {
        let ip = canonical(ip);
        self.perms.iter().any(|(p, e)| *p == ip && *e > now)
    }
    fn add_permission(&mut self, ip: IpAddr, until: Instant) {
        let ip = canonical(ip);
        match self.perms.iter_mut().find(|(p, _)| *p == ip) {
            Some(p) => p.1 = until,
            None => self.perms.push((ip, until)),
        }
    }
}

#[derive(Debug)]
struct Queued {
    source: SocketAddr,
    destination: SocketAddr,
    dont_fragment: bool,
    buf: Vec<u8>,
}

/// How a request was authenticated.
struct Auth {
    username: String,
    quota_user: String,
    key: IntegrityKey,
    sha256: bool,
}

/// The TURN server state machine. See the module docs for the poll order.
#[derive(Debug)]
pub struct TurnServer<E: TurnEnv> {
    cfg: ServerConfig,
    env: E,
    epoch: Instant,
    unix_at_epoch: u64,
    nonces: NonceIssuer,
    limiter: RateLimiter,
    unauth_window: (u64, u32),
    users: HashMap<String, IntegrityKey>,
    allocations: HashMap<FiveTuple, Allocation>,
    by_relay: HashMap<SocketAddr, FiveTuple>,
    expiries: BTreeSet<(Instant, FiveTuple)>,
    per_user: HashMap<String, usize>,
    reservations: HashMap<[u8; 8], (SocketAddr, Instant)>,
    queue: VecDeque<Queued>,
    pool: Vec<Vec<u8>>,
    next_sweep: Option<Instant>,
    stats: ServerStats,
}

/// Largest STUN response the server writes.
const RESPONSE_BUF: usize = 1500;

impl<E: TurnEnv> TurnServer<E> {
    /// A server. `now` and `unix_now` (seconds since 1970) name the same
    /// moment; the server derives Unix time from `now` afterwards, to check
    /// time-limited credentials.
    pub fn new(cfg: ServerConfig, mut env: E, now: Instant, unix_now: u64) -> Self {
        let mut secret = [0u8; 20];
        env.fill_random(&mut secret);
        let mut salt = [0u8; 8];
        env.fill_random(&mut salt);
        let realm = cfg.realm.clone();
        let users = cfg
            .users
            .iter()
            .map(|(u, p)| (u.clone(), IntegrityKey::long_term(u, &realm, p)))
            .collect();
        let limiter = RateLimiter::new(u64::from_be_bytes(salt), cfg.unauth_per_source_per_second);
        Self {
            env,
            epoch: now,
            unix_at_epoch: unix_now,
            nonces: NonceIssuer::new(secret),
            limiter,
            unauth_window: (0, 0),
            users,
            allocations: HashMap::new(),
            by_relay: HashMap::new(),
            expiries: BTreeSet::new(),
            per_user: HashMap::new(),
            reservations: HashMap::new(),
            queue: VecDeque::new(),
            pool: Vec::new(),
            next_sweep: None,
            stats: ServerStats::default(),
            cfg,
        }
    }

    /// The environment (the caller's relay sockets live there).
    pub fn env(&self) -> &E {
        &self.env
    }
    /// The environment, mutably.
    pub fn env_mut(&mut self) -> &mut E {
        &mut self.env
    }
    /// Counters so far.
    pub fn stats(&self) -> ServerStats {
        self.stats
    }
    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.cfg
    }

    /// How much state is held now.
    pub fn state_size(&self) -> StateSize {
        StateSize {
            allocations: self.allocations.len(),
            reservations: self.reservations.len(),
            users: self.per_user.len(),
            permissions: self.allocations.values().map(|a| a.perms.len()).sum(),
            channels: self.allocations.values().map(|a| a.channels.len()).sum(),
            relays: self.by_relay.len() + self.reservations.len(),
            queued: self.queue.len(),
        }
    }

    /// The relay address of the allocation on this 5-tuple, if any.
    pub fn relay_of(&self, client: SocketAddr, local: SocketAddr) -> Option<SocketAddr> {
        self.allocations.get(&(client, local)).map(|a| a.relay)
    }

    /// Whether `addr` is one of this server's relay addresses.
    pub fn is_relay(&self, addr: SocketAddr) -> bool {
        self.by_relay.contains_key(&addr)
    }

    fn secs(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.epoch).as_secs()
    }

    // ----- input -----

    /// One datagram arrived on local address `to` (a listening address or
    /// a relay address) from `from`.
    pub fn handle_receive(&mut self, now: Instant, from: SocketAddr, to: SocketAddr, data: &[u8]) {
        self.stats.received += 1;
        self.expire_allocations(now);
        if let Some(&tuple) = self.by_relay.get(&to) {
            self.relay_from_peer(now, tuple, from, data);
            return;
        }
        match data.first() {
            Some(b) if b & 0xC0 == 0x40 => self.channel_from_client(now, (from, to), data),
            Some(b) if b & 0xC0 == 0 => match Message::parse(data) {
                Ok(m) => self.stun(now, (from, to), &m),
                Err(_) => self.stats.dropped += 1,
            },
            _ => self.stats.dropped += 1,
        }
    }

    fn relay_from_peer(&mut self, now: Instant, tuple: FiveTuple, peer: SocketAddr, data: &[u8]) {
        let Some(a) = self.allocations.get(&tuple) else {
            self.stats.dropped += 1;
            return;
        };
        if a.expires <= now || !a.permitted(peer.ip(), now) {
            self.stats.dropped += 1;
            return;
        }
        let channel = a
            .channels
            .iter()
            .find(|c| c.peer == peer && c.expires > now)
            .map(|c| c.number);
        let mut buf = self.buffer();
        let len = match channel {
            Some(n) => {
                buf.resize(CHANNEL_HEADER_LEN + data.len(), 0);
                ChannelData::encode(n, data, &mut buf)
            }
            None => {
                buf.resize(data.len() + 64, 0);
                data_indication(&mut buf, peer, data, self.random_tid())
            }
        };
        let Some(len) = len else {
            self.stats.dropped += 1;
            self.pool.push(buf);
            return;
        };
        buf.truncate(len);
        self.stats.to_client += 1;
        self.enqueue(tuple.1, tuple.0, false, buf);
    }

    fn channel_from_client(&mut self, now: Instant, tuple: FiveTuple, data: &[u8]) {
        let Ok(cd) = ChannelData::parse_up_to(data, self.channel_max()) else {
            self.stats.dropped += 1;
            return;
        };
        let Some(a) = self.allocations.get(&tuple) else {
            self.stats.dropped += 1;
            return;
        };
        let Some(peer) = a
            .channels
            .iter()
            .find(|c| c.number == cd.number() && c.expires > now)
            .map(|c| c.peer)
        else {
            self.stats.dropped += 1;
            return;
        };
        if self.cfg.peer_policy.check(peer.ip()).is_err() {
            self.stats.peer_refused += 1;
            return;
        }
        if a.expires <= now || !a.permitted(peer.ip(), now) {
            self.stats.dropped += 1;
            return;
        }
        let (relay, df) = (a.relay, a.dont_fragment);
        let mut buf = self.buffer();
        buf.extend_from_slice(cd.data());
        self.stats.to_peer += 1;
        self.enqueue(relay, peer, df, buf);
    }

    fn send_indication(&mut self, now: Instant, tuple: FiveTuple, m: &Message<'_>) {
        let (Some(peer), Some(data)) = (m.xor_peer_address(), m.data()) else {
            self.stats.dropped += 1;
            return;
        };
        let Some(a) = self.allocations.get(&tuple) else {
            self.stats.dropped += 1;
            return;
        };
        if self.cfg.peer_policy.check(peer.ip()).is_err() {
            self.stats.peer_refused += 1;
            return;
        }
        if a.expires <= now || peer.is_ipv4() != a.relay.is_ipv4() || !a.permitted(peer.ip(), now) {
            self.stats.dropped += 1;
            return;
        }
        let relay = a.relay;
        let df = self.cfg.support_dont_fragment && m.dont_fragment();
        let mut buf = self.buffer();
        buf.extend_from_slice(data);
        self.stats.to_peer += 1;
        self.enqueue(relay, peer, df, buf);
    }

    fn stun(&mut self, now: Instant, tuple: FiveTuple, m: &Message<'_>) {
        let t = m.message_type();
        match t.class {
            Class::Indication if t.method == Method::SEND => self.send_indication(now, tuple, m),
            Class::Request => self.request(now, tuple, m),
            _ => self.stats.dropped += 1,
        }
    }

    /// Whether an unauthenticated answer to `ip` is allowed now.
    fn unauth_allowed(&mut self, now: Instant, ip: IpAddr) -> bool {
        let s = self.secs(now);
        if self.unauth_window.0 != s {
            self.unauth_window = (s, 0);
        }
        if self.unauth_window.1 >= self.cfg.unauth_per_second || !self.limiter.allow(ip, s) {
            self.stats.rate_limited += 1;
            return false;
        }
        self.unauth_window.1 += 1;
        true
    }

    fn request(&mut self, now: Instant, tuple: FiveTuple, m: &Message<'_>) {
        let method = m.message_type().method;
        if method == Method::BINDING {
            // A TURN server is also a STUN server (RFC 8656 §5); Binding
            // needs no authentication but is rate-limited like any
            // unauthenticated answer.
            if self.unauth_allowed(now, tuple.0.ip()) {
                let xma = Attribute::XorMappedAddress(tuple.0);
                self.respond(tuple, m, None, &[xma], None);
            }
            return;
        }
        if ![
            Method::ALLOCATE,
            Method::REFRESH,
            Method::CREATE_PERMISSION,
            Method::CHANNEL_BIND,
        ]
        .contains(&method)
        {
            if self.unauth_allowed(now, tuple.0.ip()) {
                self.respond(tuple, m, Some((400, "unknown method")), &[], None);
            }
            return;
        }
        let Some(auth) = self.authenticate(now, tuple, m) else {
            return;
        };
        let key = auth.key.clone();
        let k = Some((&key, auth.sha256));
        // An existing allocation belongs to the user who made it
        // (RFC 8656 §5).
        if let Some(a) = self.allocations.get(&tuple) {
            if a.username != auth.username {
                self.respond_k(tuple, m, Some((441, "Wrong Credentials")), &[], k);
                return;
            }
        }
        let unknown = m.unknown_comprehension_required();
        if !unknown.is_empty() {
            let mut list = [0u8; 2 * tern_stun::MAX_UNKNOWN_REPORTED];
            for (i, t) in unknown.iter().enumerate() {
                list[2 * i..2 * i + 2].copy_from_slice(&t.to_be_bytes());
            }
            let ua = Attribute::UnknownAttributes(UnknownAttributes::from_bytes(
                &list[..2 * unknown.len()],
            ));
            self.respond_k(tuple, m, Some((420, "Unknown Attribute")), &[ua], k);
            return;
        }
        match method {
            Method::ALLOCATE => self.allocate(now, tuple, m, auth),
            Method::REFRESH => self.refresh(now, tuple, m, &key, auth.sha256),
            Method::CREATE_PERMISSION => self.create_permission(now, tuple, m, &key, auth.sha256),
            _ => self.channel_bind(now, tuple, m, &key, auth.sha256),
        }
    }

    /// RFC 8489 §9.2.4. Answers and returns `None` when the request does
    /// not authenticate.
    fn authenticate(&mut self, now: Instant, tuple: FiveTuple, m: &Message<'_>) -> Option<Auth> {
        let has_mi =
            m.has(AttrType::MESSAGE_INTEGRITY) || m.has(AttrType::MESSAGE_INTEGRITY_SHA256);
        if !has_mi {
            self.challenge(now, tuple, m, 401, "Unauthenticated");
            return None;
        }
        let (Some(username), Some(_realm), Some(nonce)) = (m.username(), m.realm(), m.nonce())
        else {
            if self.unauth_allowed(now, tuple.0.ip()) {
                self.respond(
                    tuple,
                    m,
                    Some((400, "missing USERNAME, REALM or NONCE")),
                    &[],
                    None,
                );
            }
            return None;
        };
        match self.nonces.check(nonce, tuple.0, self.secs(now)) {
            NonceCheck::Valid => {}
            NonceCheck::Stale | NonceCheck::Invalid => {
                self.challenge(now, tuple, m, 438, "Stale Nonce");
                return None;
            }
        }
        let Some((key, quota_user)) = self.key_for(now, username) else {
            self.challenge(now, tuple, m, 401, "Unauthenticated");
            return None;
        };
        let sha256 = m.has(AttrType::MESSAGE_INTEGRITY_SHA256);
        let ok = if sha256 {
            m.verify_integrity_sha256(&key).is_ok()
        } else {
            m.verify_integrity(&key).is_ok()
        };
        if !ok {
            self.challenge(now, tuple, m, 401, "Unauthenticated");
            return None;
        }
        Some(Auth {
            username: username.to_owned(),
            quota_user,
            key,
            sha256,
        })
    }

    /// The long-term key for `username` and the name its quota is kept
    /// under, if the user exists (static) or the time-limited credential is
    /// well-formed and current.
    fn key_for(&self, now: Instant, username: &str) -> Option<(IntegrityKey, String)> {
        if let Some(k) = self.users.get(username) {
            // Static and time-limited users keep separate quota
            // namespaces (a static user called "r:alice" is not "alice").
            return Some((k.clone(), format!("s:{username}")));
        }
        let secret = self.cfg.shared_secret.as_deref()?;
        let (expiry, user) = split_rest_username(username)?;
        let unix = self.unix_at_epoch + self.secs(now);
        if expiry <= unix || expiry - unix > self.cfg.max_credential_ttl.as_secs() {
            return None;
        }
        let password = rest_password(secret, username);
        let key = IntegrityKey::long_term(username, &self.cfg.realm, &password);
        Some((key, format!("r:{user}")))
    }

    fn challenge(
        &mut self,
        now: Instant,
        tuple: FiveTuple,
        m: &Message<'_>,
        code: u16,
        why: &'static str,
    ) {
        if !self.unauth_allowed(now, tuple.0.ip()) {
            return;
        }
        self.stats.challenges += 1;
        let expiry = self.secs(now) + self.cfg.nonce_lifetime.as_secs().max(1);
        let mut nonce = [0u8; NONCE_LEN];
        self.nonces.issue(expiry, tuple.0, &mut nonce);
        let nonce = core::str::from_utf8(&nonce).unwrap_or_default();
        let realm = self.cfg.realm.clone();
        self.respond(
            tuple,
            m,
            Some((code, why)),
            &[Attribute::Realm(&realm), Attribute::Nonce(nonce)],
            None,
        );
    }

    // ----- methods -----

    fn allocate(&mut self, now: Instant, tuple: FiveTuple, m: &Message<'_>, auth: Auth) {
        let k = Some((&auth.key, auth.sha256));
        if let Some(a) = self.allocations.get(&tuple) {
            if a.tid == m.transaction_id() {
                // A retransmission of the request that made it (§7.2).
                let relay = a.relay;
                let left = a.expires.saturating_duration_since(now).as_secs() as u32;
                let key = a.key.clone();
                self.respond_k(
                    tuple,
                    m,
                    None,
                    &[
                        Attribute::XorRelayedAddress(relay),
                        Attribute::Lifetime(left),
                        Attribute::XorMappedAddress(tuple.0),
                    ],
                    Some((&key, auth.sha256)),
                );
            } else {
                self.respond_k(tuple, m, Some((437, "Allocation Mismatch")), &[], k);
            }
            return;
        }
        let Some(transport) = m.requested_transport() else {
            self.respond_k(tuple, m, Some((400, "REQUESTED-TRANSPORT missing")), &[], k);
            return;
        };
        if transport != 17 {
            self.respond_k(
                tuple,
                m,
                Some((442, "Unsupported Transport Protocol")),
                &[],
                k,
            );
            return;
        }
        if m.dont_fragment() && !self.cfg.support_dont_fragment {
            let list = AttrType::DONT_FRAGMENT.0.to_be_bytes();
            let ua = Attribute::UnknownAttributes(UnknownAttributes::from_bytes(&list));
            self.respond_k(
                tuple,
                m,
                Some((420, "DONT-FRAGMENT not supported")),
                &[ua],
                k,
            );
            return;
        }
        let token = m.reservation_token().copied();
        let even = m.even_port();
        let family = m.requested_address_family();
        if token.is_some() && (even.is_some() || family.is_some()) {
            self.respond_k(
                tuple,
                m,
                Some((
                    400,
                    "RESERVATION-TOKEN with EVEN-PORT or REQUESTED-ADDRESS-FAMILY",
                )),
                &[],
                k,
            );
            return;
        }
        if family.is_some() && m.additional_address_family().is_some() {
            self.respond_k(
                tuple,
                m,
                Some((400, "REQUESTED- and ADDITIONAL-ADDRESS-FAMILY together")),
                &[],
                k,
            );
            return;
        }
        if m.additional_address_family() == Some(1) {
            self.respond_k(
                tuple,
                m,
                Some((400, "ADDITIONAL-ADDRESS-FAMILY must be IPv6")),
                &[],
                k,
            );
            return;
        }
        let relay_ip = match family.unwrap_or(1) {
            1 => self.cfg.relay_v4,
            _ => self.cfg.relay_v6,
        };
        let Some(relay_ip) = relay_ip else {
            self.respond_k(
                tuple,
                m,
                Some((440, "Address Family not Supported")),
                &[],
                k,
            );
            return;
        };
        let used = self.per_user.get(&auth.quota_user).copied().unwrap_or(0);
        if used >= self.cfg.max_allocations_per_user {
            self.respond_k(tuple, m, Some((486, "Allocation Quota Reached")), &[], k);
            return;
        }
        if self.allocations.len() >= self.cfg.max_allocations {
            self.respond_k(tuple, m, Some((508, "Insufficient Capacity")), &[], k);
            return;
        }
        let mut new_token = None;
        let relay = if let Some(t) = token {
            match self.reservations.remove(&t) {
                Some((addr, exp)) if exp > now => addr,
                Some((addr, _)) => {
                    self.env.close_relay(addr);
                    self.respond_k(tuple, m, Some((508, "reservation expired")), &[], k);
                    return;
                }
                None => {
                    self.respond_k(tuple, m, Some((508, "no such reservation")), &[], k);
                    return;
                }
            }
        } else {
            let reserve = even == Some(true);
            if reserve && self.reservations.len() >= self.cfg.max_allocations {
                self.respond_k(tuple, m, Some((508, "Insufficient Capacity")), &[], k);
                return;
            }
            let Some(addr) = self.pick_relay(relay_ip, even.is_some(), reserve) else {
                self.respond_k(tuple, m, Some((508, "no relay port available")), &[], k);
                return;
            };
            if reserve {
                let mut t = [0u8; 8];
                self.env.fill_random(&mut t);
                let next = SocketAddr::new(addr.ip(), addr.port() + 1);
                self.reservations
                    .insert(t, (next, now + RESERVATION_LIFETIME));
                new_token = Some(t);
            }
            addr
        };
        let lifetime = self.lifetime(m.lifetime());
        let alloc = Allocation {
            relay,
            username: auth.username,
            quota_user: auth.quota_user.clone(),
            key: auth.key.clone(),
            expires: now + lifetime,
            tid: m.transaction_id(),
            perms: Vec::new(),
            channels: Vec::new(),
            dont_fragment: self.cfg.support_dont_fragment && m.dont_fragment(),
        };
        *self.per_user.entry(auth.quota_user).or_insert(0) += 1;
        self.by_relay.insert(relay, tuple);
        self.expiries.insert((alloc.expires, tuple));
        self.allocations.insert(tuple, alloc);
        self.schedule_sweep(now);
        let life = Attribute::Lifetime(lifetime.as_secs() as u32);
        let mut attrs = vec![
            Attribute::XorRelayedAddress(relay),
            life,
            Attribute::XorMappedAddress(tuple.0),
        ];
        if let Some(t) = &new_token {
            attrs.push(Attribute::ReservationToken(t));
        }
        self.respond_k(tuple, m, None, &attrs, Some((&auth.key, auth.sha256)));
    }

    fn lifetime(&self, requested: Option<u32>) -> Duration {
        let req = Duration::from_secs(u64::from(requested.unwrap_or(0)));
        req.clamp(
            self.cfg.default_lifetime,
            self.cfg.max_lifetime.max(self.cfg.default_lifetime),
        )
    }

    /// Picks a random free port (even if asked; with port + 1 free too if
    /// reserving) and opens it (and its neighbour).
    fn pick_relay(&mut self, ip: IpAddr, even: bool, reserve: bool) -> Option<SocketAddr> {
        let (lo, hi) = self.cfg.relay_ports;
        if lo == 0 || hi < lo {
            return None;
        }
        for _ in 0..64 {
            let mut r = [0u8; 4];
            self.env.fill_random(&mut r);
            let span = u32::from(hi - lo) + 1;
            let mut port = lo as u32 + u32::from_be_bytes(r) % span;
            if even {
                port &= !1;
                if port < u32::from(lo) {
                    continue;
                }
            }
            if reserve && port + 1 > u32::from(hi) {
                continue;
            }
            let port = port as u16;
            let addr = SocketAddr::new(ip, port);
            if self.taken(addr) {
                continue;
            }
            if reserve {
                let next = SocketAddr::new(ip, port + 1);
                if self.taken(next) {
                    continue;
                }
                if !self.env.open_relay(addr) {
                    continue;
                }
                if !self.env.open_relay(next) {
                    self.env.close_relay(addr);
                    continue;
                }
                return Some(addr);
            }
            if self.env.open_relay(addr) {
                return Some(addr);
            }
        }
        None
    }

    fn taken(&self, addr: SocketAddr) -> bool {
        self.by_relay.contains_key(&addr) || self.reservations.values().any(|(a, _)| *a == addr)
    }

    fn refresh(
        &mut self,
        now: Instant,
        tuple: FiveTuple,
        m: &Message<'_>,
        key: &IntegrityKey,
        sha: bool,
    ) {
        let k = Some((key, sha));
        let lifetime = self.lifetime(m.lifetime());
        let Some(a) = self.allocations.get_mut(&tuple) else {
            self.respond_k(tuple, m, Some((437, "Allocation Mismatch")), &[], k);
            return;
        };
        if let Some(f) = m.requested_address_family() {
            if (f == 1) != a.relay.is_ipv4() {
                self.respond_k(
                    tuple,
                    m,
                    Some((443, "Peer Address Family Mismatch")),
                    &[],
                    k,
                );
                return;
            }
        }
        if m.lifetime() == Some(0) {
            self.remove_allocation(tuple);
            self.respond_k(tuple, m, None, &[Attribute::Lifetime(0)], k);
            return;
        }
        let old = a.expires;
        a.expires = now + lifetime;
        let new = a.expires;
        self.expiries.remove(&(old, tuple));
        self.expiries.insert((new, tuple));
        self.respond_k(
            tuple,
            m,
            None,
            &[Attribute::Lifetime(lifetime.as_secs() as u32)],
            k,
        );
    }

    /// Checks a peer address for CreatePermission/ChannelBind: policy (403)
    /// before family (443), so every refused form gets 403 whatever the
    /// allocation's family.
    fn check_peer(
        &mut self,
        relay: SocketAddr,
        peer: SocketAddr,
    ) -> Result<(), (u16, &'static str)> {
        if let Err(r) = self.cfg.peer_policy.check(peer.ip()) {
            self.stats.peer_refused += 1;
            return Err((403, refusal_reason(r)));
        }
        if peer.is_ipv4() != relay.is_ipv4() {
            return Err((443, "Peer Address Family Mismatch"));
        }
        Ok(())
    }

    fn create_permission(
        &mut self,
        now: Instant,
        tuple: FiveTuple,
        m: &Message<'_>,
        key: &IntegrityKey,
        sha: bool,
    ) {
        let k = Some((key, sha));
        let Some(relay) = self.allocations.get(&tuple).map(|a| a.relay) else {
            self.respond_k(tuple, m, Some((437, "Allocation Mismatch")), &[], k);
            return;
        };
        let mut peers = [IpAddr::from([0u8; 4]); 16];
        let mut n = 0;
        for attr in m.attributes() {
            if let Attribute::XorPeerAddress(p) = attr {
                if let Err(e) = self.check_peer(relay, p) {
                    self.respond_k(tuple, m, Some(e), &[], k);
                    return;
                }
                if n == peers.len() {
                    self.respond_k(tuple, m, Some((508, "too many XOR-PEER-ADDRESS")), &[], k);
                    return;
                }
                peers[n] = canonical(p.ip());
                n += 1;
            }
        }
        if n == 0 {
            self.respond_k(tuple, m, Some((400, "XOR-PEER-ADDRESS missing")), &[], k);
            return;
        }
        let cap = self.cfg.max_permissions;
        let Some(a) = self.allocations.get_mut(&tuple) else {
            return;
        };
        a.perms.retain(|(_, e)| *e > now);
        let fresh = peers[..n]
            .iter()
            .enumerate()
            .filter(|(i, p)| !peers[..*i].contains(p) && !a.perms.iter().any(|(q, _)| q == *p))
            .count();
        if a.perms.len() + fresh > cap {
            self.respond_k(tuple, m, Some((508, "too many permissions")), &[], k);
            return;
        }
        for p in &peers[..n] {
            a.add_permission(*p, now + PERMISSION_LIFETIME);
        }
        self.respond_k(tuple, m, None, &[], k);
    }

    fn channel_bind(
        &mut self,
        now: Instant,
        tuple: FiveTuple,
        m: &Message<'_>,
        key: &IntegrityKey,
        sha: bool,
    ) {
        let k = Some((key, sha));
        let Some(relay) = self.allocations.get(&tuple).map(|a| a.relay) else {
            self.respond_k(tuple, m, Some((437, "Allocation Mismatch")), &[], k);
            return;
        };
        let (Some(number), Some(peer)) = (m.channel_number(), m.xor_peer_address()) else {
            self.respond_k(
                tuple,
                m,
                Some((400, "CHANNEL-NUMBER or XOR-PEER-ADDRESS missing")),
                &[],
                k,
            );
            return;
        };
        if !(CHANNEL_MIN..=self.channel_max()).contains(&number) {
            self.respond_k(tuple, m, Some((400, "channel number out of range")), &[], k);
            return;
        }
        if let Err(e) = self.check_peer(relay, peer) {
            self.respond_k(tuple, m, Some(e), &[], k);
            return;
        }
        let cap = self.cfg.max_channels;
        let Some(a) = self.allocations.get_mut(&tuple) else {
            return;
        };
        a.channels.retain(|c| c.expires + CHANNEL_COOLDOWN > now);
        let by_number = a.channels.iter().position(|c| c.number == number);
        let by_peer = a.channels.iter().position(|c| c.peer == peer);
        let idx = match (by_number, by_peer) {
            (Some(i), Some(j)) if i == j => Some(i),
            (None, None) => None,
            _ => {
                self.respond_k(
                    tuple,
                    m,
                    Some((400, "channel or peer bound otherwise")),
                    &[],
                    k,
                );
                return;
            }
        };
        match idx {
            Some(i) => a.channels[i].expires = now + CHANNEL_LIFETIME,
            None => {
                if a.channels.len() >= cap {
                    self.respond_k(tuple, m, Some((508, "too many channels")), &[], k);
                    return;
                }
                let perm_new = !a.perms.iter().any(|(p, _)| *p == canonical(peer.ip()));
                if perm_new && a.perms.len() >= self.cfg.max_permissions {
                    self.respond_k(tuple, m, Some((508, "too many permissions")), &[], k);
                    return;
                }
                a.channels.push(Channel {
                    number,
                    peer,
                    expires: now + CHANNEL_LIFETIME,
                });
            }
        }
        a.add_permission(peer.ip(), now + PERMISSION_LIFETIME);
        self.respond_k(tuple, m, None, &[], k);
    }

    fn channel_max(&self) -> u16 {
        if self.cfg.rfc5766_channel_numbers {
            CHANNEL_MAX_RFC5766
        } else {
            CHANNEL_MAX
        }
    }

    fn remove_allocation(&mut self, tuple: FiveTuple) {
        let Some(a) = self.allocations.remove(&tuple) else {
            return;
        };
        self.expiries.remove(&(a.expires, tuple));
        self.by_relay.remove(&a.relay);
        self.env.close_relay(a.relay);
        if let Some(n) = self.per_user.get_mut(&a.quota_user) {
            *n -= 1;
            if *n == 0 {
                self.per_user.remove(&a.quota_user);
            }
        }
    }

    // ----- timers -----

    fn schedule_sweep(&mut self, now: Instant) {
        if self.next_sweep.is_none() {
            self.next_sweep = Some(now + Duration::from_secs(1));
        }
    }

    fn expire_allocations(&mut self, now: Instant) {
        while let Some(&(t, tuple)) = self.expiries.first() {
            if t > now {
                break;
            }
            self.stats.expired += 1;
            self.remove_allocation(tuple);
        }
    }

    /// When [`Self::handle_timeout`] is next due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let a = self.expiries.first().map(|(t, _)| *t);
        let r = self.reservations.values().map(|(_, t)| *t).min();
        [a, r, self.next_sweep].into_iter().flatten().min()
    }

    /// Expires allocations, reservations, permissions and channels due at
    /// or before `now`, closing their relay sockets.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.expire_allocations(now);
        let env = &mut self.env;
        self.reservations.retain(|_, (addr, t)| {
            if *t <= now {
                env.close_relay(*addr);
                false
            } else {
                true
            }
        });
        if self.next_sweep.is_some_and(|t| t <= now) {
            for a in self.allocations.values_mut() {
                a.perms.retain(|(_, e)| *e > now);
                a.channels.retain(|c| c.expires + CHANNEL_COOLDOWN > now);
            }
            self.next_sweep = (!self.allocations.is_empty()).then(|| now + Duration::from_secs(1));
        }
    }

    // ----- output -----

    /// The next datagram to send, copied into `buf`; `None` when nothing
    /// is queued. A datagram larger than `buf` is dropped and counted.
    pub fn poll_transmit(&mut self, buf: &mut [u8]) -> Option<Transmit> {
        loop {
            let q = self.queue.pop_front()?;
            let len = q.buf.len();
            let out = buf.get_mut(..len);
            let ok = match out {
                Some(o) => {
                    o.copy_from_slice(&q.buf);
                    true
                }
                None => false,
            };
            let t = Transmit {
                source: q.source,
                destination: q.destination,
                len,
                dont_fragment: q.dont_fragment,
            };
            self.recycle(q.buf);
            if ok {
                return Some(t);
            }
            self.stats.dropped += 1;
        }
    }

    fn buffer(&mut self) -> Vec<u8> {
        let mut b = self.pool.pop().unwrap_or_default();
        b.clear();
        b
    }

    fn recycle(&mut self, b: Vec<u8>) {
        if self.pool.len() < 64 {
            self.pool.push(b);
        }
    }

    fn enqueue(
        &mut self,
        source: SocketAddr,
        destination: SocketAddr,
        dont_fragment: bool,
        buf: Vec<u8>,
    ) {
        if self.queue.len() >= self.cfg.max_queued {
            self.stats.dropped += 1;
            self.recycle(buf);
            return;
        }
        self.queue.push_back(Queued {
            source,
            destination,
            dont_fragment,
            buf,
        });
    }

    fn random_tid(&mut self) -> TransactionId {
        let mut t = [0u8; 12];
        self.env.fill_random(&mut t);
        TransactionId(t)
    }

    fn respond(
        &mut self,
        tuple: FiveTuple,
        m: &Message<'_>,
        error: Option<(u16, &str)>,
        attrs: &[Attribute<'_>],
        key: Option<&IntegrityKey>,
    ) {
        self.respond_k(tuple, m, error, attrs, key.map(|k| (k, false)));
    }

    fn respond_k(
        &mut self,
        tuple: FiveTuple,
        m: &Message<'_>,
        error: Option<(u16, &str)>,
        attrs: &[Attribute<'_>],
        key: Option<(&IntegrityKey, bool)>,
    ) {
        let class = if error.is_some() {
            self.stats.errors += 1;
            Class::ErrorResponse
        } else {
            self.stats.success += 1;
            Class::SuccessResponse
        };
        let mut buf = self.buffer();
        buf.resize(RESPONSE_BUF, 0);
        let software = self.cfg.software.clone();
        let built = (|| -> Result<usize, tern_stun::Error> {
            let typ = MessageType::new(m.message_type().method, class);
            let mut b = MessageBuilder::new(&mut buf, typ, m.transaction_id())?;
            if let Some((code, reason)) = error {
                b.add(&Attribute::ErrorCode(ErrorCode { code, reason }))?;
            }
            for a in attrs {
                b.add(a)?;
            }
            if let Some(s) = &software {
                b.add(&Attribute::Software(s))?;
            }
            match key {
                Some((k, true)) => {
                    b.message_integrity_sha256(k)?;
                }
                Some((k, false)) => {
                    b.message_integrity(k)?;
                }
                None => {}
            }
            if m.has(AttrType::FINGERPRINT) {
                b.fingerprint()?;
            }
            Ok(b.finish())
        })();
        match built {
            Ok(n) => {
                buf.truncate(n);
                self.enqueue(tuple.1, tuple.0, false, buf);
            }
            Err(_) => {
                self.stats.dropped += 1;
                self.recycle(buf);
            }
        }
    }
}

/// Writes a Data indication (RFC 8656 §10.3) into `buf`.
fn data_indication(
    buf: &mut [u8],
    peer: SocketAddr,
    data: &[u8],
    tid: TransactionId,
) -> Option<usize> {
    let typ = MessageType::new(Method::DATA, Class::Indication);
    let mut b = MessageBuilder::new(buf, typ, tid).ok()?;
    b.add(&Attribute::XorPeerAddress(peer)).ok()?;
    b.add(&Attribute::Data(data)).ok()?;
    Some(b.finish())
}

fn refusal_reason(r: Refusal) -> &'static str {
    match r {
        Refusal::Unspecified => "Forbidden: unspecified peer address",
        Refusal::Loopback => "Forbidden: loopback peer address",
        Refusal::Private => "Forbidden: private peer address",
        Refusal::CarrierGradeNat => "Forbidden: carrier-grade NAT peer address",
        Refusal::LinkLocal => "Forbidden: link-local peer address",
        Refusal::Multicast => "Forbidden: multicast peer address",
        Refusal::Broadcast => "Forbidden: broadcast or reserved peer address",
        Refusal::SpecialPurpose => "Forbidden: special-purpose peer address",
        Refusal::ServerAddress => "Forbidden: the server's own address",
    }
}

/// A deterministic [`TurnEnv`] for tests, simulations and fuzzing: a
/// SplitMix64 stream from a seed, and relay "sockets" that are just a set of
/// addresses. Never use it in production (its randomness is predictable).
#[derive(Debug, Clone, Default)]
pub struct SeededEnv {
    state: u64,
    /// Relay addresses currently open.
    pub open: std::collections::BTreeSet<SocketAddr>,
    /// Addresses `open_relay` refuses (to model ports taken by others).
    pub busy: std::collections::BTreeSet<SocketAddr>,
}

impl SeededEnv {
    /// An environment from a seed.
    pub fn new(seed: u64) -> Self {
        Self {
            state: seed,
            ..Self::default()
        }
    }
    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl TurnEnv for SeededEnv {
    fn fill_random(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let r = self.next().to_be_bytes();
            chunk.copy_from_slice(&r[..chunk.len()]);
        }
    }
    fn open_relay(&mut self, relay: SocketAddr) -> bool {
        !self.busy.contains(&relay) && self.open.insert(relay)
    }
    fn close_relay(&mut self, relay: SocketAddr) {
        self.open.remove(&relay);
    }
}
