//! The ICE agent: lite (RFC 8445 §2.5, §8.2) and full (§6, §7, §8.1), with
//! trickle (RFC 8838) and consent freshness (RFC 7675).
//!
//! # Poll order
//!
//! After every `handle_receive`, `handle_timeout` or API call: drain
//! [`Agent::poll_transmit`] until `None`, then [`Agent::poll_event`] until
//! `None`, then ask [`Agent::poll_timeout`] when to call
//! [`Agent::handle_timeout`] next. Time is always an argument; the agent
//! never reads a clock and never touches the OS RNG.
use crate::candidate::{
    candidate_priority, foundation_of, pair_priority, Candidate, CandidateKind, Foundation,
    COMPONENT_RTP,
};
use crate::credentials::{Credentials, Keyed};
use crate::error::Error;
use crate::rng::{IceRng, SeededRng};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tern_stun::{
    looks_like_stun, AttrType, Attribute, BindingClient, Class, ClientEvent, ErrorCode, Message,
    MessageBuilder, MessageType, Method, RetransmitPolicy, TransactionId, Transmit,
};

/// Hard cap on remote candidates (the bound; config may lower it).
pub const MAX_REMOTE_CANDIDATES: usize = 64;
/// Hard cap on local candidates (host + server-reflexive).
pub const MAX_LOCAL_CANDIDATES: usize = 16;
/// Hard cap on candidate pairs (§6.1.2.5 suggests 100).
pub const MAX_PAIRS: usize = 100;
/// Hard cap on outstanding STUN transactions.
pub const MAX_TRANSACTIONS: usize = 64;
/// Most STUN servers used for gathering.
pub const MAX_STUN_SERVERS: usize = 4;
/// Most responses waiting for `poll_transmit`.
pub const MAX_PENDING_RESPONSES: usize = 32;
/// Most events waiting for `poll_event`; more are dropped and counted.
pub const MAX_EVENTS: usize = 256;

/// Agent configuration.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// ICE-lite (§2.5): answer checks, never send them, always controlled.
    pub lite: bool,
    /// The initial role (a lite agent is always controlled).
    pub controlling: bool,
    /// Our ufrag and password.
    pub local_credentials: Credentials,
    /// The role-conflict tie-breaker (§7.1.3); `None` draws one from the RNG.
    pub tie_breaker: Option<u64>,
    /// STUN servers to learn server-reflexive candidates from (full only;
    /// at most [`MAX_STUN_SERVERS`]).
    pub stun_servers: Vec<SocketAddr>,
    /// Ta: the pacing of new checks (§14.2, default 50 ms).
    pub ta: Duration,
    /// Initial retransmission timeout of a check (§14.3: at least 500 ms).
    pub check_rto: Duration,
    /// Largest interval between retransmissions of a check.
    pub check_rto_max: Duration,
    /// Requests sent per check before it fails (Rc, default 7).
    pub check_max_transmits: u32,
    /// The controlling agent nominates the best valid pair once no pending
    /// pair could beat it, or this long after the first valid pair.
    pub nomination_delay: Duration,
    /// Mean interval between consent checks (RFC 7675 §5.1: 5 s, sent at
    /// 0.8 to 1.2 times it).
    pub consent_interval: Duration,
    /// Consent expires this long after the last authenticated response
    /// (full) or request (lite) on the selected pair (RFC 7675: 30 s).
    pub consent_timeout: Duration,
    /// A lite agent moves its selected pair to a new 5-tuple on an
    /// authenticated check without USE-CANDIDATE when the selected pair has
    /// been silent this long (NAT rebinding with a peer that does not
    /// re-nominate).
    pub lite_idle_switch: Duration,
    /// Bound on remote candidates (at most [`MAX_REMOTE_CANDIDATES`]).
    pub max_remote_candidates: usize,
    /// Bound on pairs (at most [`MAX_PAIRS`]).
    pub max_pairs: usize,
    /// Bound on outstanding transactions (at most [`MAX_TRANSACTIONS`]).
    pub max_transactions: usize,
}

impl AgentConfig {
    /// A full agent in the given role.
    pub fn full(local_credentials: Credentials, controlling: bool) -> Self {
        Self {
            lite: false,
            controlling,
            local_credentials,
            tie_breaker: None,
            stun_servers: Vec::new(),
            ta: Duration::from_millis(50),
            check_rto: Duration::from_millis(500),
            check_rto_max: Duration::from_millis(3000),
            check_max_transmits: 7,
            nomination_delay: Duration::from_millis(1000),
            consent_interval: Duration::from_secs(5),
            consent_timeout: Duration::from_secs(30),
            lite_idle_switch: Duration::from_secs(10),
            max_remote_candidates: MAX_REMOTE_CANDIDATES,
            max_pairs: MAX_PAIRS,
            max_transactions: MAX_TRANSACTIONS,
        }
    }
    /// A lite agent (the SFU).
    pub fn lite(local_credentials: Credentials) -> Self {
        Self {
            lite: true,
            ..Self::full(local_credentials, false)
        }
    }
}

/// The agent's overall state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IceState {
    /// Nothing checked yet.
    New,
    /// Checks are running, no pair selected.
    Checking,
    /// A pair is selected and has consent.
    Connected,
    /// Every pair failed, or consent expired with no other pair: stop
    /// sending; an ICE restart is needed.
    Failed,
}

/// What the agent reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A local candidate to signal to the peer (trickle, RFC 8838).
    LocalCandidate(Candidate),
    /// Gathering finished: signal end-of-candidates.
    GatheringComplete,
    /// The overall state changed.
    StateChanged(IceState),
    /// Application data now goes from `local` to `remote`.
    SelectedPair {
        /// The local address (a host candidate's base).
        local: SocketAddr,
        /// The peer's address.
        remote: SocketAddr,
    },
    /// Consent for this pair expired (RFC 7675 §5.1): stop sending on it.
    ConsentExpired {
        /// The local address.
        local: SocketAddr,
        /// The peer's address.
        remote: SocketAddr,
    },
    /// The role changed after a role conflict (§7.3.1.1, §7.2.5.1).
    RoleChanged {
        /// The new role.
        controlling: bool,
    },
}

/// Counters, for operators and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AgentStats {
    /// STUN messages handled.
    pub stun_received: u64,
    /// Dropped: not parseable, wrong method, bad or missing FINGERPRINT,
    /// arrived on an unknown local address.
    pub malformed: u64,
    /// Requests with an unknown ufrag (dropped silently).
    pub unknown_ufrag: u64,
    /// Requests or responses whose MESSAGE-INTEGRITY failed or was missing.
    pub bad_integrity: u64,
    /// Responses matching no outstanding transaction, or from an address
    /// other than the one the request went to.
    pub unmatched_responses: u64,
    /// Requests answered with success.
    pub answered: u64,
    /// Error responses sent (400, 401, 420, 487).
    pub rejected: u64,
    /// Requests sent (checks and consent checks, retransmissions included).
    pub requests_sent: u64,
    /// Things refused because a bound was reached (candidates, pairs,
    /// transactions, queued responses, events).
    pub limited: u64,
}

/// Which credential generation a pair, transaction or response belongs
/// to: the current one or the one before an ICE restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gen {
    Current,
    Previous,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PairState {
    Frozen,
    Waiting,
    InProgress,
    Succeeded,
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct PairId(u32);

#[derive(Debug, Clone)]
struct Pair {
    id: PairId,
    gen: Gen,
    local: SocketAddr,
    local_priority: u32,
    local_foundation: u32,
    remote: SocketAddr,
    remote_priority: u32,
    remote_foundation: Foundation,
    state: PairState,
    /// The controlled side received USE-CANDIDATE for this pair.
    nominate_on_success: bool,
    nominated: bool,
    /// Last proof of consent: an authenticated response (full) or request
    /// (lite).
    last_consent: Option<Instant>,
    next_consent_check: Option<Instant>,
}

impl Pair {
    fn priority(&self, controlling: bool) -> u64 {
        if controlling {
            pair_priority(self.local_priority, self.remote_priority)
        } else {
            pair_priority(self.remote_priority, self.local_priority)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TxKind {
    Check { nominate: bool },
    Consent,
}

#[derive(Debug, Clone)]
struct Tx {
    tid: TransactionId,
    kind: TxKind,
    pair: PairId,
    gen: Gen,
    local: SocketAddr,
    remote: SocketAddr,
    controlling_at_send: bool,
    sent: u32,
    max_transmits: u32,
    send_now: bool,
    /// Next retransmission, or when the transaction gives up.
    next_at: Instant,
    use_candidate: bool,
}

#[derive(Debug, Clone, Copy)]
enum Reply {
    Success,
    Error(u16, &'static str),
    Unknown([u8; 16], usize),
}

#[derive(Debug, Clone, Copy)]
struct PendingResponse {
    to: SocketAddr,
    from: SocketAddr,
    tid: TransactionId,
    reply: Reply,
    /// Whose key signs it (`None`: unsigned).
    sign: Option<Gen>,
}

#[derive(Debug, Clone)]
struct LocalCand {
    cand: Candidate,
    base: SocketAddr,
    local_preference: u16,
}

#[derive(Debug)]
struct Gather {
    client: BindingClient,
    base: SocketAddr,
    server: SocketAddr,
    local_preference: u16,
}

/// An ICE agent for one component (RTP and RTCP are multiplexed).
#[derive(Debug)]
pub struct Agent {
    cfg: AgentConfig,
    rng: Box<dyn IceRng + Send>,
    controlling: bool,
    tie_breaker: u64,
    local: Keyed,
    prev_local: Option<Keyed>,
    remote: Option<Keyed>,
    prev_remote: Option<Keyed>,
    restarting: bool,
    locals: Vec<LocalCand>,
    remotes: Vec<Candidate>,
    remote_end_of_candidates: bool,
    pairs: Vec<Pair>,
    next_pair_id: u32,
    triggered: VecDeque<(PairId, bool)>,
    txs: Vec<Tx>,
    responses: VecDeque<PendingResponse>,
    gathers: Vec<Gather>,
    gathering_reported: bool,
    events: VecDeque<Event>,
    state: IceState,
    selected: Option<PairId>,
    nominating: Option<PairId>,
    first_valid_at: Option<Instant>,
    last_check_at: Option<Instant>,
    /// The latest time the caller told us.
    now: Instant,
    stats: AgentStats,
}

impl Agent {
    /// An agent whose randomness comes from `seed` (SplitMix64). Seed it
    /// from a good random source in production.
    pub fn new(config: AgentConfig, now: Instant, seed: u64) -> Self {
        Self::with_rng(config, now, Box::new(SeededRng::new(seed)))
    }

    /// An agent with a caller-provided random source.
    pub fn with_rng(mut cfg: AgentConfig, now: Instant, mut rng: Box<dyn IceRng + Send>) -> Self {
        cfg.max_remote_candidates = cfg.max_remote_candidates.min(MAX_REMOTE_CANDIDATES);
        cfg.max_pairs = cfg.max_pairs.min(MAX_PAIRS);
        cfg.max_transactions = cfg.max_transactions.clamp(1, MAX_TRANSACTIONS);
        cfg.stun_servers.truncate(MAX_STUN_SERVERS);
        cfg.check_max_transmits = cfg.check_max_transmits.max(1);
        if cfg.lite {
            cfg.controlling = false;
        }
        let tie_breaker = cfg.tie_breaker.unwrap_or_else(|| rng.next_u64());
        Self {
            controlling: cfg.controlling,
            tie_breaker,
            local: Keyed::new(cfg.local_credentials.clone()),
            cfg,
            rng,
            prev_local: None,
            remote: None,
            prev_remote: None,
            restarting: false,
            locals: Vec::new(),
            remotes: Vec::new(),
            remote_end_of_candidates: false,
            pairs: Vec::new(),
            next_pair_id: 0,
            triggered: VecDeque::new(),
            txs: Vec::new(),
            responses: VecDeque::new(),
            gathers: Vec::new(),
            gathering_reported: false,
            events: VecDeque::new(),
            state: IceState::New,
            selected: None,
            nominating: None,
            first_valid_at: None,
            last_check_at: None,
            now,
            stats: AgentStats::default(),
        }
    }

    // ----- accessors -----

    /// Whether this is a lite agent.
    pub fn is_lite(&self) -> bool {
        self.cfg.lite
    }
    /// The current role.
    pub fn is_controlling(&self) -> bool {
        self.controlling
    }
    /// The overall state.
    pub fn state(&self) -> IceState {
        self.state
    }
    /// Our current credentials (for the SDP).
    pub fn local_credentials(&self) -> &Credentials {
        &self.local.creds
    }
    /// Our candidates (for the SDP).
    pub fn local_candidates(&self) -> impl Iterator<Item = &Candidate> + '_ {
        self.locals.iter().map(|l| &l.cand)
    }
    /// Where application data goes: `(local, remote)` of the selected pair.
    /// `None` while nothing is selected or after consent expired.
    pub fn selected_pair(&self) -> Option<(SocketAddr, SocketAddr)> {
        let p = self.pair(self.selected?)?;
        Some((p.local, p.remote))
    }
    /// Counters.
    pub fn stats(&self) -> AgentStats {
        self.stats
    }
    /// Remote candidates held (signalled and peer-reflexive).
    pub fn remote_candidate_count(&self) -> usize {
        self.remotes.len()
    }
    /// Candidate pairs held.
    pub fn pair_count(&self) -> usize {
        self.pairs.len()
    }
    /// Outstanding STUN transactions (checks, consent checks, gathering).
    pub fn transaction_count(&self) -> usize {
        self.txs.len() + self.gathers.iter().filter(|g| !g.client.is_done()).count()
    }
    /// Responses and events waiting to be polled.
    pub fn queued(&self) -> (usize, usize) {
        (self.responses.len(), self.events.len())
    }

    fn pair(&self, id: PairId) -> Option<&Pair> {
        self.pairs.iter().find(|p| p.id == id)
    }
    fn pair_mut(&mut self, id: PairId) -> Option<&mut Pair> {
        self.pairs.iter_mut().find(|p| p.id == id)
    }

    fn emit(&mut self, e: Event) {
        if self.events.len() >= MAX_EVENTS {
            self.stats.limited += 1;
            return;
        }
        self.events.push_back(e);
    }

    fn set_state(&mut self, s: IceState) {
        if self.state != s {
            self.state = s;
            self.emit(Event::StateChanged(s));
        }
    }

    fn new_tid(&mut self) -> TransactionId {
        let a = self.rng.next_u64().to_be_bytes();
        let b = self.rng.next_u64().to_be_bytes();
        let mut t = [0u8; 12];
        t[..8].copy_from_slice(&a);
        t[8..].copy_from_slice(&b[..4]);
        TransactionId(t)
    }

    /// A uniformly random duration in `[0.8, 1.2] * base` (RFC 7675 §5.1).
    fn jitter(&mut self, base: Duration) -> Duration {
        let r = self.rng.next_u64() % 401; // 0..=400
        base * 4 / 5 + base * (r as u32) / 1000
    }

    // ----- configuration from signaling -----

    /// Adds a host candidate on local address `addr` (a socket the caller
    /// owns) with a local preference (§5.1.2.1; 65535 for the best
    /// interface). Full agents start gathering a server-reflexive candidate
    /// from every configured STUN server of the same family. Emits
    /// [`Event::LocalCandidate`].
    pub fn add_local_host(
        &mut self,
        addr: SocketAddr,
        local_preference: u16,
    ) -> Result<Candidate, Error> {
        if addr.port() == 0 {
            return Err(Error::misuse("host candidate needs a port"));
        }
        if self
            .locals
            .iter()
            .any(|l| l.base == addr && l.cand.kind == CandidateKind::Host)
        {
            return Err(Error::misuse("host candidate already added"));
        }
        if self.locals.len() >= MAX_LOCAL_CANDIDATES {
            self.stats.limited += 1;
            return Err(Error::limit("too many local candidates"));
        }
        let cand = Candidate::host(addr, local_preference);
        self.locals.push(LocalCand {
            cand,
            base: addr,
            local_preference,
        });
        self.emit(Event::LocalCandidate(cand));
        if !self.cfg.lite {
            for i in 0..self.remotes.len() {
                let r = self.remotes[i];
                self.form_pair(addr, r, Gen::Current);
            }
            for s in self.cfg.stun_servers.clone() {
                if s.is_ipv4() == addr.is_ipv4()
                    && self.gathers.len() < MAX_LOCAL_CANDIDATES * MAX_STUN_SERVERS
                {
                    let tid = self.new_tid();
                    self.gathers.push(Gather {
                        client: BindingClient::new(addr, s, tid, RetransmitPolicy::default()),
                        base: addr,
                        server: s,
                        local_preference,
                    });
                    self.gathering_reported = false;
                }
            }
            if self.gathers.iter().all(|g| g.client.is_done()) && !self.gathering_reported {
                self.gathering_reported = true;
                self.emit(Event::GatheringComplete);
            }
        }
        Ok(cand)
    }

    /// Adds a relayed candidate (RFC 8445 §5.1.1.2): `relayed` is the
    /// address a TURN server allocated (see [`crate::TurnClient`]), `mapped`
    /// the server-reflexive address the server reported (the candidate's
    /// related address). A relayed candidate is its own base: the agent
    /// sends checks from it (transmits with `source` = `relayed`, which the
    /// caller hands to [`crate::TurnClient::send_to`]) and expects what the
    /// TURN client unwraps to be fed back with `to` = `relayed`. Emits
    /// [`Event::LocalCandidate`].
    pub fn add_local_relayed(
        &mut self,
        relayed: SocketAddr,
        mapped: Option<SocketAddr>,
        local_preference: u16,
    ) -> Result<Candidate, Error> {
        if relayed.port() == 0 {
            return Err(Error::misuse("relayed candidate needs a port"));
        }
        if self.locals.iter().any(|l| l.base == relayed) {
            return Err(Error::misuse("relayed candidate already added"));
        }
        if self.locals.len() >= MAX_LOCAL_CANDIDATES {
            self.stats.limited += 1;
            return Err(Error::limit("too many local candidates"));
        }
        let cand = Candidate {
            foundation: Foundation::from_u32(foundation_of(
                CandidateKind::Relayed,
                relayed.ip(),
                None,
            )),
            component: COMPONENT_RTP,
            priority: candidate_priority(CandidateKind::Relayed, local_preference, COMPONENT_RTP),
            address: relayed,
            kind: CandidateKind::Relayed,
            related: mapped,
        };
        self.locals.push(LocalCand {
            cand,
            base: relayed,
            local_preference,
        });
        self.emit(Event::LocalCandidate(cand));
        if !self.cfg.lite {
            for i in 0..self.remotes.len() {
                let r = self.remotes[i];
                self.form_pair(relayed, r, Gen::Current);
            }
            self.schedule_checks();
        }
        Ok(cand)
    }

    /// Sets the peer's credentials (from its SDP). New credentials when
    /// some were already set mean the peer restarted ICE (§9): the
    /// checklist starts over while the selected pair keeps carrying data.
    pub fn set_remote_credentials(&mut self, creds: Credentials) {
        match &self.remote {
            Some(r) if r.creds == creds => return,
            Some(_) => {
                self.begin_restart();
                self.remote = Some(Keyed::new(creds));
            }
            None => self.remote = Some(Keyed::new(creds)),
        }
        self.schedule_checks();
    }

    /// Restarts ICE locally with new credentials (§9): signal them (and the
    /// candidates) to the peer, then give it the peer's new credentials
    /// with [`Agent::set_remote_credentials`]. The selected pair keeps
    /// carrying data, and requests with the old credentials are still
    /// answered, until the new checks select a pair.
    pub fn restart(&mut self, new_local: Credentials) -> Result<(), Error> {
        if new_local == self.local.creds {
            return Err(Error::misuse("an ICE restart needs new credentials"));
        }
        self.begin_restart();
        let old = std::mem::replace(&mut self.local, Keyed::new(new_local));
        if self.prev_local.is_none() {
            self.prev_local = Some(old);
        }
        Ok(())
    }

    fn begin_restart(&mut self) {
        if self.restarting {
            // Second half of the same restart (local after remote or the
            // other way round): the remote credentials move on only once.
            return;
        }
        self.restarting = true;
        let keep = self.selected;
        self.pairs.retain(|p| Some(p.id) == keep);
        for p in &mut self.pairs {
            p.gen = Gen::Previous;
        }
        self.txs.retain(|t| Some(t.pair) == keep);
        for t in &mut self.txs {
            t.gen = Gen::Previous;
        }
        self.triggered.clear();
        self.remotes.clear();
        self.remote_end_of_candidates = false;
        self.nominating = None;
        self.first_valid_at = None;
        if let Some(r) = self.remote.take() {
            self.prev_remote = Some(r);
        }
        if self.selected.is_none() {
            self.restarting = false;
            self.prev_remote = None;
            self.set_state(IceState::New);
        }
    }

    fn finish_restart(&mut self) {
        if !self.restarting {
            return;
        }
        self.restarting = false;
        self.pairs.retain(|p| p.gen == Gen::Current);
        self.txs.retain(|t| t.gen == Gen::Current);
        self.prev_local = None;
        self.prev_remote = None;
    }

    /// Adds a remote candidate (from the SDP or trickled, RFC 8838 §11).
    /// A candidate with the address of a known peer-reflexive one replaces
    /// it. At most `max_remote_candidates` are held.
    pub fn add_remote_candidate(&mut self, cand: Candidate) -> Result<(), Error> {
        if cand.component != COMPONENT_RTP {
            return Err(Error::invalid("only component 1 is supported"));
        }
        if cand.address.port() == 0 || cand.priority == 0 {
            return Err(Error::invalid("candidate needs a port and a priority"));
        }
        if let Some(existing) = self.remotes.iter_mut().find(|r| r.address == cand.address) {
            if existing.kind == CandidateKind::PeerReflexive
                && cand.kind != CandidateKind::PeerReflexive
            {
                *existing = cand;
                for p in &mut self.pairs {
                    if p.remote == cand.address && p.gen == Gen::Current {
                        p.remote_priority = cand.priority;
                        p.remote_foundation = cand.foundation;
                    }
                }
            }
            return Ok(());
        }
        if self.remotes.len() >= self.cfg.max_remote_candidates {
            self.stats.limited += 1;
            return Err(Error::limit("too many remote candidates"));
        }
        self.remotes.push(cand);
        if !self.cfg.lite {
            let bases: Vec<SocketAddr> = self
                .locals
                .iter()
                .filter(|l| is_base(l.cand.kind))
                .map(|l| l.base)
                .collect();
            for b in bases {
                self.form_pair(b, cand, Gen::Current);
            }
            self.schedule_checks();
        }
        Ok(())
    }

    /// The peer signalled end-of-candidates (RFC 8838 §13): once every
    /// pair has failed, the agent fails.
    pub fn end_of_remote_candidates(&mut self) {
        self.remote_end_of_candidates = true;
        self.check_failed();
    }

    /// Forms the pair (base, remote) if the families match and it is new;
    /// evicts the lowest-priority unchecked pair when full.
    fn form_pair(&mut self, base: SocketAddr, remote: Candidate, gen: Gen) -> Option<PairId> {
        if base.is_ipv4() != remote.address.is_ipv4() {
            return None;
        }
        if let Some(p) = self
            .pairs
            .iter()
            .find(|p| p.local == base && p.remote == remote.address && p.gen == gen)
        {
            return Some(p.id);
        }
        let local = self
            .locals
            .iter()
            .find(|l| l.base == base && is_base(l.cand.kind))?;
        let (lp, lf) = (
            local.cand.priority,
            match local.cand.kind {
                CandidateKind::Relayed => foundation_of(CandidateKind::Relayed, base.ip(), None),
                _ => foundation_of(CandidateKind::Host, base.ip(), None),
            },
        );
        let controlling = self.controlling;
        if self.pairs.len() >= self.cfg.max_pairs {
            let new_prio = if controlling {
                pair_priority(lp, remote.priority)
            } else {
                pair_priority(remote.priority, lp)
            };
            let victim = self
                .pairs
                .iter()
                .enumerate()
                .filter(|(_, p)| {
                    matches!(
                        p.state,
                        PairState::Frozen | PairState::Waiting | PairState::Failed
                    ) && Some(p.id) != self.selected
                        && p.priority(controlling) < new_prio
                })
                .min_by_key(|(_, p)| p.priority(controlling))
                .map(|(i, _)| i);
            match victim {
                Some(i) => {
                    let id = self.pairs[i].id;
                    self.pairs.remove(i);
                    self.triggered.retain(|(t, _)| *t != id);
                    self.txs.retain(|t| t.pair != id);
                    if self.nominating == Some(id) {
                        self.nominating = None;
                    }
                }
                None => {
                    self.stats.limited += 1;
                    return None;
                }
            }
        }
        let id = PairId(self.next_pair_id);
        self.next_pair_id = self.next_pair_id.wrapping_add(1);
        // §6.1.2.6 simplified for one component: the first pair of a
        // foundation waits, later ones stay frozen until it succeeds.
        let busy = self.pairs.iter().any(|p| {
            p.local_foundation == lf
                && p.remote_foundation == remote.foundation
                && p.gen == gen
                && p.state != PairState::Failed
        });
        self.pairs.push(Pair {
            id,
            gen,
            local: base,
            local_priority: lp,
            local_foundation: lf,
            remote: remote.address,
            remote_priority: remote.priority,
            remote_foundation: remote.foundation,
            state: if busy {
                PairState::Frozen
            } else {
                PairState::Waiting
            },
            nominate_on_success: false,
            nominated: false,
            last_consent: None,
            next_consent_check: None,
        });
        Some(id)
    }

    fn schedule_checks(&mut self) {
        if self.state == IceState::New
            && !self.cfg.lite
            && self.remote.is_some()
            && !self.pairs.is_empty()
        {
            self.set_state(IceState::Checking);
        }
    }

    // ----- input -----

    /// Feeds a datagram that arrived on local address `local` from
    /// `remote`. Returns `false` when it is not STUN (the caller demuxes it
    /// elsewhere: DTLS, RTP); STUN is always consumed, valid or not. Only a
    /// request with our ufrag and a valid MESSAGE-INTEGRITY, or a response
    /// matching an outstanding transaction, from the address the request
    /// went to, with a valid MESSAGE-INTEGRITY, changes state.
    pub fn handle_receive(
        &mut self,
        now: Instant,
        remote: SocketAddr,
        local: SocketAddr,
        bytes: &[u8],
    ) -> bool {
        self.now = self.now.max(now);
        if !looks_like_stun(bytes) {
            return false;
        }
        self.stats.stun_received += 1;
        for i in 0..self.gathers.len() {
            if self.gathers[i]
                .client
                .handle_receive(now, remote, local, bytes)
            {
                self.on_gather_event(i);
                return true;
            }
        }
        let Ok(msg) = Message::parse(bytes) else {
            self.stats.malformed += 1;
            return true;
        };
        if msg.message_type().method != Method::BINDING
            || !msg.has(AttrType::FINGERPRINT)
            || msg.verify_fingerprint().is_err()
            || !self
                .locals
                .iter()
                .any(|l| l.base == local && is_base(l.cand.kind))
        {
            self.stats.malformed += 1;
            return true;
        }
        match msg.message_type().class {
            Class::Request => self.on_request(now, &msg, remote, local),
            Class::SuccessResponse | Class::ErrorResponse => {
                self.on_response(now, &msg, remote, local)
            }
            Class::Indication => {}
        }
        true
    }

    fn on_gather_event(&mut self, i: usize) {
        let Some(ClientEvent::Mapped(mapped)) = self.gathers[i].client.poll_event() else {
            self.check_gathering_done();
            return;
        };
        let (base, server, pref) = (
            self.gathers[i].base,
            self.gathers[i].server,
            self.gathers[i].local_preference,
        );
        if mapped != base
            && mapped.is_ipv4() == base.is_ipv4()
            && !self.locals.iter().any(|l| l.cand.address == mapped)
        {
            if self.locals.len() < MAX_LOCAL_CANDIDATES {
                let cand = Candidate {
                    foundation: Foundation::from_u32(foundation_of(
                        CandidateKind::ServerReflexive,
                        base.ip(),
                        Some(server),
                    )),
                    component: COMPONENT_RTP,
                    priority: candidate_priority(
                        CandidateKind::ServerReflexive,
                        pref,
                        COMPONENT_RTP,
                    ),
                    address: mapped,
                    kind: CandidateKind::ServerReflexive,
                    related: Some(base),
                };
                self.locals.push(LocalCand {
                    cand,
                    base,
                    local_preference: pref,
                });
                // Pairs with a server-reflexive local candidate are pruned
                // to their base (§6.1.2.4), which is already paired.
                self.emit(Event::LocalCandidate(cand));
            } else {
                self.stats.limited += 1;
            }
        }
        self.check_gathering_done();
    }

    fn check_gathering_done(&mut self) {
        if !self.gathering_reported && self.gathers.iter().all(|g| g.client.is_done()) {
            self.gathering_reported = true;
            self.emit(Event::GatheringComplete);
        }
    }

    fn queue_response(&mut self, r: PendingResponse) {
        if self.responses.len() >= MAX_PENDING_RESPONSES {
            self.stats.limited += 1;
            return;
        }
        match r.reply {
            Reply::Success => self.stats.answered += 1,
            _ => self.stats.rejected += 1,
        }
        self.responses.push_back(r);
    }

    fn on_request(&mut self, now: Instant, msg: &Message<'_>, from: SocketAddr, to: SocketAddr) {
        let tid = msg.transaction_id();
        let reject = |code, reason, sign| PendingResponse {
            to: from,
            from: to,
            tid,
            reply: Reply::Error(code, reason),
            sign,
        };
        // §7.3, RFC 8489 §9.1.3: short-term credentials.
        let Some(username) = msg.username() else {
            self.stats.bad_integrity += 1;
            self.queue_response(reject(ErrorCode::BAD_REQUEST, "Bad Request", None));
            return;
        };
        let ours = |k: &Keyed| {
            username
                .strip_prefix(k.creds.ufrag())
                .is_some_and(|rest| rest.starts_with(':'))
        };
        let gen = if ours(&self.local) {
            Gen::Current
        } else if self.prev_local.as_ref().is_some_and(ours) {
            Gen::Previous
        } else {
            // Unknown ufrag: not ours to answer (no reflection toward
            // arbitrary sources).
            self.stats.unknown_ufrag += 1;
            return;
        };
        if !msg.has(AttrType::MESSAGE_INTEGRITY) {
            self.stats.bad_integrity += 1;
            self.queue_response(reject(ErrorCode::BAD_REQUEST, "Bad Request", None));
            return;
        }
        let key = match gen {
            Gen::Current => &self.local.key,
            Gen::Previous => match &self.prev_local {
                Some(k) => &k.key,
                None => return,
            },
        };
        if msg.verify_integrity(key).is_err() {
            self.stats.bad_integrity += 1;
            self.queue_response(reject(ErrorCode::UNAUTHENTICATED, "Unauthenticated", None));
            return;
        }
        // Authenticated from here on.
        let unknown = msg.unknown_comprehension_required();
        if !unknown.is_empty() {
            let mut list = [0u8; 16];
            let n = unknown.len().min(8);
            for (chunk, t) in list.chunks_exact_mut(2).zip(&unknown[..n]) {
                chunk.copy_from_slice(&t.to_be_bytes());
            }
            self.queue_response(PendingResponse {
                to: from,
                from: to,
                tid,
                reply: Reply::Unknown(list, n * 2),
                sign: Some(gen),
            });
            return;
        }
        let Some(priority) = msg.priority().filter(|p| *p > 0) else {
            self.queue_response(reject(ErrorCode::BAD_REQUEST, "Bad Request", Some(gen)));
            return;
        };
        // §7.3.1.1: role conflicts.
        if self.cfg.lite {
            if msg.ice_controlled().is_some() {
                // A lite agent is always controlled: the full peer must
                // take the controlling role.
                self.queue_response(reject(ErrorCode::ROLE_CONFLICT, "Role Conflict", Some(gen)));
                return;
            }
        } else if self.controlling {
            if let Some(theirs) = msg.ice_controlling() {
                if self.tie_breaker >= theirs {
                    self.queue_response(reject(
                        ErrorCode::ROLE_CONFLICT,
                        "Role Conflict",
                        Some(gen),
                    ));
                    return;
                }
                self.switch_role(false);
            }
        } else if let Some(theirs) = msg.ice_controlled() {
            if self.tie_breaker >= theirs {
                self.switch_role(true);
            } else {
                self.queue_response(reject(ErrorCode::ROLE_CONFLICT, "Role Conflict", Some(gen)));
                return;
            }
        }
        self.queue_response(PendingResponse {
            to: from,
            from: to,
            tid,
            reply: Reply::Success,
            sign: Some(gen),
        });
        let use_candidate = msg.use_candidate();
        if gen == Gen::Previous {
            // A check on the old generation during a restart: it proves
            // the peer is still there on the old path.
            if self.cfg.lite {
                if let Some(p) = self
                    .pairs
                    .iter_mut()
                    .find(|p| p.gen == Gen::Previous && p.local == to && p.remote == from)
                {
                    p.last_consent = Some(now);
                }
            }
            return;
        }
        // §7.3.1.3: learn a peer-reflexive remote candidate.
        if !self.remotes.iter().any(|r| r.address == from) {
            if self.remotes.len() >= self.cfg.max_remote_candidates {
                self.stats.limited += 1;
                return;
            }
            let cand = Candidate {
                foundation: Foundation::from_u32(foundation_of(
                    CandidateKind::PeerReflexive,
                    from.ip(),
                    None,
                )),
                component: COMPONENT_RTP,
                priority,
                address: from,
                kind: CandidateKind::PeerReflexive,
                related: None,
            };
            self.remotes.push(cand);
        }
        if self.cfg.lite {
            self.lite_on_check(now, from, to, priority, use_candidate);
            return;
        }
        // §7.3.1.4: triggered checks.
        let Some(remote) = self.remotes.iter().find(|r| r.address == from).copied() else {
            return;
        };
        let Some(id) = self.form_pair(to, remote, Gen::Current) else {
            return;
        };
        let controlling = self.controlling;
        let Some(pair) = self.pair_mut(id) else {
            return;
        };
        match pair.state {
            PairState::Succeeded => {}
            PairState::InProgress => {}
            PairState::Frozen | PairState::Waiting | PairState::Failed => {
                pair.state = PairState::Waiting;
                if !self.triggered.iter().any(|(t, _)| *t == id) {
                    self.triggered.push_back((id, false));
                }
            }
        }
        let Some(pair) = self.pair_mut(id) else {
            return;
        };
        // §7.3.1.5: nomination by the controlling peer.
        if use_candidate && !controlling {
            pair.nominate_on_success = true;
            if pair.state == PairState::Succeeded {
                pair.nominated = true;
                self.update_selection(now);
            }
        }
        self.schedule_checks();
    }

    fn lite_on_check(
        &mut self,
        now: Instant,
        from: SocketAddr,
        to: SocketAddr,
        priority: u32,
        use_candidate: bool,
    ) {
        // The lite agent's "pairs" are the 5-tuples checks arrived on.
        let idx = match self
            .pairs
            .iter()
            .position(|p| p.local == to && p.remote == from && p.gen == Gen::Current)
        {
            Some(i) => i,
            None => {
                if self.pairs.len() >= self.cfg.max_pairs {
                    // Evict the oldest unselected, unnominated tuple.
                    let victim = self
                        .pairs
                        .iter()
                        .position(|p| Some(p.id) != self.selected && !p.nominated);
                    match victim {
                        Some(i) => {
                            self.pairs.remove(i);
                        }
                        None => {
                            self.stats.limited += 1;
                            return;
                        }
                    }
                }
                let Some(local) = self.locals.iter().find(|l| l.base == to) else {
                    return;
                };
                let id = PairId(self.next_pair_id);
                self.next_pair_id = self.next_pair_id.wrapping_add(1);
                self.pairs.push(Pair {
                    id,
                    gen: Gen::Current,
                    local: to,
                    local_priority: local.cand.priority,
                    local_foundation: 0,
                    remote: from,
                    remote_priority: priority,
                    remote_foundation: Foundation::from_u32(0),
                    state: PairState::Succeeded,
                    nominate_on_success: false,
                    nominated: false,
                    last_consent: None,
                    next_consent_check: None,
                });
                self.pairs.len() - 1
            }
        };
        let p = &mut self.pairs[idx];
        p.last_consent = Some(now);
        p.remote_priority = priority;
        let id = p.id;
        let switch = if use_candidate {
            true
        } else {
            // Not nominated: only take over from a selected tuple that
            // went silent (NAT rebinding with a peer that never sends
            // USE-CANDIDATE again).
            match self.selected.and_then(|s| self.pair(s)) {
                None => false,
                Some(sel) => {
                    sel.id != id
                        && sel.last_consent.is_none_or(|t| {
                            now.saturating_duration_since(t) >= self.cfg.lite_idle_switch
                        })
                }
            }
        };
        if switch {
            self.pairs[idx].nominated = true;
            if self.selected != Some(id) {
                // The last nominated tuple wins: a lite agent follows the
                // controlling peer.
                for p in &mut self.pairs {
                    if p.id != id {
                        p.nominated = false;
                    }
                }
                self.select(now, id);
            }
        }
    }

    fn switch_role(&mut self, controlling: bool) {
        if self.controlling == controlling {
            return;
        }
        self.controlling = controlling;
        self.nominating = None;
        self.emit(Event::RoleChanged { controlling });
    }

    fn on_response(&mut self, now: Instant, msg: &Message<'_>, from: SocketAddr, to: SocketAddr) {
        let tid = msg.transaction_id();
        let Some(i) = self.txs.iter().position(|t| t.tid == tid) else {
            self.stats.unmatched_responses += 1;
            return;
        };
        let tx = &self.txs[i];
        if tx.remote != from || tx.local != to {
            // §7.2.5.2.1: the response must come from where the request
            // went; a stray copy from elsewhere is ignored.
            self.stats.unmatched_responses += 1;
            return;
        }
        let key = match tx.gen {
            Gen::Current => self.remote.as_ref(),
            Gen::Previous => self.prev_remote.as_ref(),
        };
        let Some(key) = key else {
            self.stats.bad_integrity += 1;
            return;
        };
        if msg.verify_integrity(&key.key).is_err() {
            self.stats.bad_integrity += 1;
            return;
        }
        let tx = self.txs.remove(i);
        match msg.message_type().class {
            Class::ErrorResponse => {
                let code = msg.error_code().map(|e| e.code).unwrap_or(0);
                if code == ErrorCode::ROLE_CONFLICT {
                    // §7.2.5.1: switch role (unless we already did) and
                    // check the pair again.
                    if tx.controlling_at_send == self.controlling {
                        self.switch_role(!tx.controlling_at_send);
                    }
                    if let TxKind::Check { .. } = tx.kind {
                        let nominate = self.controlling && self.nominating == Some(tx.pair);
                        if let Some(p) = self.pair_mut(tx.pair) {
                            p.state = PairState::Waiting;
                        }
                        if !self.triggered.iter().any(|(t, _)| *t == tx.pair) {
                            self.triggered.push_back((tx.pair, nominate));
                        }
                    }
                } else if let TxKind::Check { .. } = tx.kind {
                    self.fail_pair(tx.pair);
                }
            }
            _ => {
                if msg.xor_mapped_address().is_none() {
                    if let TxKind::Check { .. } = tx.kind {
                        self.fail_pair(tx.pair);
                    }
                    return;
                }
                let controlling = self.controlling;
                let Some(p) = self.pair_mut(tx.pair) else {
                    return;
                };
                p.last_consent = Some(now);
                if let TxKind::Check { nominate } = tx.kind {
                    p.state = PairState::Succeeded;
                    if (nominate && controlling) || (!controlling && p.nominate_on_success) {
                        p.nominated = true;
                    }
                    let (lf, rf) = (p.local_foundation, p.remote_foundation);
                    // §7.2.5.3.3: unfreeze pairs of the same foundation.
                    for q in &mut self.pairs {
                        if q.state == PairState::Frozen
                            && q.local_foundation == lf
                            && q.remote_foundation == rf
                        {
                            q.state = PairState::Waiting;
                        }
                    }
                    if self.first_valid_at.is_none() {
                        self.first_valid_at = Some(now);
                    }
                    self.update_selection(now);
                    if !self.cfg.lite {
                        self.nominate(now);
                    }
                }
            }
        }
    }

    fn fail_pair(&mut self, id: PairId) {
        if let Some(p) = self.pair_mut(id) {
            p.state = PairState::Failed;
            p.nominated = false;
        }
        if self.nominating == Some(id) {
            self.nominating = None;
        }
        self.check_failed();
    }

    fn check_failed(&mut self) {
        if self.cfg.lite || self.selected.is_some() {
            return;
        }
        let all_failed = self
            .pairs
            .iter()
            .filter(|p| p.gen == Gen::Current)
            .all(|p| p.state == PairState::Failed);
        let gathering = self.gathers.iter().any(|g| !g.client.is_done());
        if all_failed && self.remote_end_of_candidates && !gathering && self.remote.is_some() {
            self.set_state(IceState::Failed);
        }
    }

    /// Picks the best nominated, valid pair of the current generation.
    fn update_selection(&mut self, now: Instant) {
        let controlling = self.controlling;
        let timeout = self.cfg.consent_timeout;
        let best = self
            .pairs
            .iter()
            .filter(|p| p.nominated && p.state == PairState::Succeeded && p.gen == Gen::Current)
            // A pair whose consent already lapsed is not a candidate.
            .filter(|p| p.last_consent.is_none_or(|c| now < c + timeout))
            .max_by_key(|p| p.priority(controlling))
            .map(|p| p.id);
        if let Some(id) = best {
            if self.selected != Some(id) {
                self.select(now, id);
            }
        }
    }

    fn select(&mut self, now: Instant, id: PairId) {
        self.selected = Some(id);
        let first = self.jitter(self.cfg.consent_interval);
        let lite = self.cfg.lite;
        let Some(p) = self.pair_mut(id) else { return };
        if p.last_consent.is_none() {
            p.last_consent = Some(now);
        }
        p.next_consent_check = (!lite).then_some(now + first);
        let (local, remote, gen) = (p.local, p.remote, p.gen);
        if gen == Gen::Current {
            self.finish_restart();
        }
        self.emit(Event::SelectedPair { local, remote });
        self.set_state(IceState::Connected);
    }

    // ----- time -----

    /// When [`Agent::handle_timeout`] is next due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut t: Option<Instant> = None;
        let mut at = |x: Option<Instant>| {
            if let Some(x) = x {
                t = Some(t.map_or(x, |t| t.min(x)));
            }
        };
        for tx in &self.txs {
            at(Some(tx.next_at));
        }
        for g in &self.gathers {
            at(g.client.poll_timeout());
        }
        if let Some(p) = self.selected.and_then(|s| self.pair(s)) {
            at(p.next_consent_check);
            at(p.last_consent.map(|c| c + self.cfg.consent_timeout));
        }
        if self.has_check_work() {
            at(Some(match self.last_check_at {
                Some(l) => l + self.cfg.ta,
                None => self.now,
            }));
        }
        if self.controlling
            && !self.cfg.lite
            && self.nominating.is_none()
            && !self.has_nominated()
            && self
                .pairs
                .iter()
                .any(|p| p.gen == Gen::Current && p.state == PairState::Succeeded)
        {
            at(self.first_valid_at.map(|f| f + self.cfg.nomination_delay));
        }
        t
    }

    /// Whether a pair of `p`'s foundation is Waiting or In-Progress.
    fn foundation_busy(&self, p: &Pair) -> bool {
        self.pairs.iter().any(|q| {
            q.gen == p.gen
                && q.local_foundation == p.local_foundation
                && q.remote_foundation == p.remote_foundation
                && matches!(q.state, PairState::Waiting | PairState::InProgress)
        })
    }

    fn has_nominated(&self) -> bool {
        self.pairs
            .iter()
            .any(|p| p.gen == Gen::Current && p.nominated)
    }

    fn has_check_work(&self) -> bool {
        if self.cfg.lite || self.remote.is_none() || self.txs.len() >= self.cfg.max_transactions {
            return false;
        }
        // Exactly what `start_next_check` could pick, so a deadline in
        // the past always leads to progress.
        self.triggered
            .iter()
            .any(|(id, _)| self.pair(*id).is_some_and(|p| p.gen == Gen::Current))
            || self.pairs.iter().any(|p| {
                p.gen == Gen::Current
                    && (p.state == PairState::Waiting
                        || (p.state == PairState::Frozen && !self.foundation_busy(p)))
            })
    }

    /// Advances time: retransmissions, new paced checks, nomination,
    /// consent checks and consent expiry.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = self.now.max(now);
        for g in &mut self.gathers {
            g.client.handle_timeout(now);
        }
        for i in 0..self.gathers.len() {
            if self.gathers[i].client.is_done() {
                // Timed out or failed: the event (if any) is drained.
                let _ = self.gathers[i].client.poll_event();
            }
        }
        self.check_gathering_done();
        self.retransmit(now);
        self.consent(now);
        if !self.cfg.lite {
            self.nominate(now);
            let due = self.last_check_at.is_none_or(|l| now >= l + self.cfg.ta);
            if due && self.has_check_work() {
                self.start_next_check(now);
            }
        }
        self.check_failed();
    }

    fn retransmit(&mut self, now: Instant) {
        let mut failed = Vec::new();
        let cap = self.cfg.check_rto_max;
        let rto = self.cfg.check_rto;
        self.txs.retain_mut(|tx| {
            if now < tx.next_at {
                return true;
            }
            if tx.sent >= tx.max_transmits {
                if let TxKind::Check { .. } = tx.kind {
                    failed.push(tx.pair);
                }
                return false;
            }
            tx.send_now = true;
            let shift = tx.sent.min(16);
            tx.next_at = now + (rto * (1u32 << shift)).min(cap);
            true
        });
        for id in failed {
            self.fail_pair(id);
        }
        if !self.cfg.lite {
            self.nominate(now);
        }
    }

    fn consent(&mut self, now: Instant) {
        let Some(sel) = self.selected else { return };
        let timeout = self.cfg.consent_timeout;
        let Some(p) = self.pair(sel) else { return };
        let (local, remote, gen, nominated) = (p.local, p.remote, p.gen, p.nominated);
        if p.last_consent.is_some_and(|c| now >= c + timeout) {
            // RFC 7675 §5.1: consent expired.
            self.selected = None;
            if let Some(p) = self.pair_mut(sel) {
                p.state = PairState::Failed;
                p.nominated = false;
                p.next_consent_check = None;
            }
            self.txs.retain(|t| t.pair != sel);
            self.emit(Event::ConsentExpired { local, remote });
            self.update_selection(now);
            if self.selected.is_none() {
                self.set_state(IceState::Failed);
            }
            return;
        }
        if self.cfg.lite || p.next_consent_check.is_none_or(|t| now < t) {
            return;
        }
        let next = now + self.jitter(self.cfg.consent_interval);
        if let Some(p) = self.pair_mut(sel) {
            p.next_consent_check = Some(next);
        }
        if self.txs.len() >= self.cfg.max_transactions {
            self.stats.limited += 1;
            return;
        }
        let tid = self.new_tid();
        // Consent checks are not retransmitted (a deliberate choice, see
        // spec-notes/ice.md: a fresh check goes out every interval); a check
        // unanswered within one interval is forgotten.
        self.txs.push(Tx {
            tid,
            kind: TxKind::Consent,
            pair: sel,
            gen,
            local,
            remote,
            controlling_at_send: self.controlling,
            sent: 0,
            max_transmits: 1,
            send_now: true,
            next_at: now + self.cfg.consent_interval,
            // The controlling agent repeats USE-CANDIDATE so a lite peer
            // can follow a NAT rebinding at once.
            use_candidate: self.controlling && nominated,
        });
    }

    fn nominate(&mut self, now: Instant) {
        if !self.controlling || self.nominating.is_some() || self.has_nominated() {
            return;
        }
        let controlling = self.controlling;
        let Some(best) = self
            .pairs
            .iter()
            .filter(|p| p.gen == Gen::Current && p.state == PairState::Succeeded)
            .max_by_key(|p| p.priority(controlling))
        else {
            return;
        };
        let best_prio = best.priority(controlling);
        let pending_better = self.pairs.iter().any(|p| {
            p.gen == Gen::Current
                && matches!(
                    p.state,
                    PairState::Frozen | PairState::Waiting | PairState::InProgress
                )
                && p.priority(controlling) > best_prio
        });
        let waited = self
            .first_valid_at
            .is_some_and(|f| now >= f + self.cfg.nomination_delay);
        if pending_better && !waited {
            return;
        }
        let id = best.id;
        self.nominating = Some(id);
        // §8.1.1: regular nomination: a new check with USE-CANDIDATE.
        self.triggered.push_front((id, true));
    }

    fn start_next_check(&mut self, now: Instant) {
        let controlling = self.controlling;
        let mut pick: Option<(PairId, bool)> = None;
        while let Some((id, nominate)) = self.triggered.pop_front() {
            if self.pair(id).is_some_and(|p| p.gen == Gen::Current) {
                pick = Some((id, nominate));
                break;
            }
        }
        if pick.is_none() {
            pick = self
                .pairs
                .iter()
                .filter(|p| p.gen == Gen::Current && p.state == PairState::Waiting)
                .max_by_key(|p| p.priority(controlling))
                .map(|p| (p.id, false));
        }
        if pick.is_none() {
            // §6.1.4.2: no Waiting pair: unfreeze the best Frozen pair
            // whose foundation has nothing Waiting or In-Progress.
            pick = self
                .pairs
                .iter()
                .filter(|p| p.gen == Gen::Current && p.state == PairState::Frozen)
                .filter(|p| !self.foundation_busy(p))
                .max_by_key(|p| p.priority(controlling))
                .map(|p| (p.id, false));
        }
        let Some((id, nominate)) = pick else { return };
        let tid = self.new_tid();
        let max = self.cfg.check_max_transmits;
        let Some(p) = self.pair_mut(id) else { return };
        p.state = PairState::InProgress;
        let (local, remote) = (p.local, p.remote);
        // A pair re-checked replaces its older transaction.
        self.txs
            .retain(|t| !(t.pair == id && matches!(t.kind, TxKind::Check { .. })));
        self.txs.push(Tx {
            tid,
            kind: TxKind::Check { nominate },
            pair: id,
            gen: Gen::Current,
            local,
            remote,
            controlling_at_send: controlling,
            sent: 0,
            max_transmits: max,
            send_now: true,
            next_at: now + self.cfg.check_rto,
            use_candidate: nominate,
        });
        self.last_check_at = Some(now);
        if self.state == IceState::New {
            self.set_state(IceState::Checking);
        }
    }

    // ----- output -----

    /// Writes the next datagram into `buf` (548 bytes is always enough).
    /// Drain until `None`.
    pub fn poll_transmit(&mut self, buf: &mut [u8]) -> Option<Transmit> {
        while let Some(r) = self.responses.pop_front() {
            if let Some(len) = self.write_response(&r, buf) {
                return Some(Transmit {
                    destination: r.to,
                    source: r.from,
                    len,
                });
            }
        }
        let now = self.now;
        for g in &mut self.gathers {
            if let Some(t) = g.client.poll_transmit(now, buf) {
                return Some(t);
            }
        }
        for i in 0..self.txs.len() {
            if !self.txs[i].send_now {
                continue;
            }
            self.txs[i].send_now = false;
            self.txs[i].sent += 1;
            // The role goes out as it is now (a 487 may have switched it).
            self.txs[i].controlling_at_send = self.controlling;
            let tx = self.txs[i].clone();
            if let Some(len) = self.write_request(&tx, buf) {
                self.stats.requests_sent += 1;
                return Some(Transmit {
                    destination: tx.remote,
                    source: tx.local,
                    len,
                });
            }
        }
        None
    }

    fn write_request(&self, tx: &Tx, buf: &mut [u8]) -> Option<usize> {
        let (remote, local) = match tx.gen {
            Gen::Current => (self.remote.as_ref(), &self.local),
            Gen::Previous => (
                self.prev_remote.as_ref(),
                self.prev_local.as_ref().unwrap_or(&self.local),
            ),
        };
        let remote = remote?;
        // USERNAME "remote-ufrag:local-ufrag" (§7.2.2), on the stack.
        let mut name = [0u8; 2 * crate::credentials::MAX_CREDENTIAL_LEN + 1];
        let r = remote.creds.ufrag().as_bytes();
        let l = local.creds.ufrag().as_bytes();
        name[..r.len()].copy_from_slice(r);
        name[r.len()] = b':';
        name[r.len() + 1..r.len() + 1 + l.len()].copy_from_slice(l);
        let username = core::str::from_utf8(&name[..r.len() + 1 + l.len()]).unwrap_or("");
        let pref = self
            .locals
            .iter()
            .find(|c| c.base == tx.local && is_base(c.cand.kind))
            .map_or(65535, |c| c.local_preference);
        let mut b = MessageBuilder::new(
            buf,
            MessageType::new(Method::BINDING, Class::Request),
            tx.tid,
        )
        .ok()?;
        b.add(&Attribute::Username(username)).ok()?;
        // §7.1.1: the priority a peer-reflexive candidate would get.
        b.add(&Attribute::Priority(candidate_priority(
            CandidateKind::PeerReflexive,
            pref,
            COMPONENT_RTP,
        )))
        .ok()?;
        if tx.controlling_at_send {
            b.add(&Attribute::IceControlling(self.tie_breaker)).ok()?;
        } else {
            b.add(&Attribute::IceControlled(self.tie_breaker)).ok()?;
        }
        if tx.use_candidate && tx.controlling_at_send {
            b.add(&Attribute::UseCandidate).ok()?;
        }
        b.message_integrity(&remote.key).ok()?;
        b.fingerprint().ok()?;
        Some(b.finish())
    }

    fn write_response(&self, r: &PendingResponse, buf: &mut [u8]) -> Option<usize> {
        let class = match r.reply {
            Reply::Success => Class::SuccessResponse,
            _ => Class::ErrorResponse,
        };
        let mut b =
            MessageBuilder::new(buf, MessageType::new(Method::BINDING, class), r.tid).ok()?;
        match r.reply {
            Reply::Success => {
                b.add(&Attribute::XorMappedAddress(r.to)).ok()?;
            }
            Reply::Error(code, reason) => {
                b.add(&Attribute::ErrorCode(ErrorCode { code, reason }))
                    .ok()?;
            }
            Reply::Unknown(list, n) => {
                b.add(&Attribute::ErrorCode(ErrorCode {
                    code: ErrorCode::UNKNOWN_ATTRIBUTE,
                    reason: "Unknown Attribute",
                }))
                .ok()?;
                // tern-stun keeps `UnknownAttributes::from_bytes` crate-private,
                // so the value (a list of 16-bit types) goes in raw.
                b.add_raw(AttrType::UNKNOWN_ATTRIBUTES, &list[..n]).ok()?;
            }
        }
        let key = match r.sign {
            Some(Gen::Current) => Some(&self.local.key),
            Some(Gen::Previous) => self.prev_local.as_ref().map(|k| &k.key),
            None => None,
        };
        if let Some(k) = key {
            b.message_integrity(k).ok()?;
        }
        b.fingerprint().ok()?;
        Some(b.finish())
    }

    /// The next event. Drain until `None`.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }
}

/// Whether a local candidate of this kind is a base the agent sends from
/// (host candidates and relayed candidates, RFC 8445 §5.1.1.2).
fn is_base(kind: CandidateKind) -> bool {
    matches!(kind, CandidateKind::Host | CandidateKind::Relayed)
}
