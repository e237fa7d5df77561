//! Shared harness for the behaviour tests: ICE agents and a STUN server as
//! `tern_sim` endpoints, plus signaling helpers.
#![allow(dead_code)]

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use tern_ice::{Agent, AgentConfig, Credentials, Event, IceState, SeededRng};
use tern_sim::{Endpoint, EndpointId, Sim, SimConfig, Transmit};
use tern_stun::BindingServer;

/// The first byte of application datagrams (RTP-like, never STUN).
pub const APP: u8 = 0x80;

/// An ICE agent that also sends application data on its selected pair.
#[derive(Debug)]
pub struct Peer {
    pub agent: Agent,
    pub events: Vec<(Instant, Event)>,
    /// Send one application datagram per interval on the selected pair.
    pub app_interval: Option<Duration>,
    next_app: Option<Instant>,
    app_due: bool,
    /// (time, from, to) of application data received.
    pub app_received: Vec<(Instant, SocketAddr, SocketAddr)>,
    /// (time, from, to) of application data sent.
    pub app_sent: Vec<(Instant, SocketAddr, SocketAddr)>,
    /// Candidates already given to the peer through signaling.
    pub signalled: usize,
    pub gathering_done: bool,
    /// Datagrams that were neither STUN nor application data.
    pub garbage: u64,
}

impl Peer {
    pub fn new(agent: Agent) -> Self {
        Self {
            agent,
            events: Vec::new(),
            app_interval: None,
            next_app: None,
            app_due: false,
            app_received: Vec::new(),
            app_sent: Vec::new(),
            signalled: 0,
            gathering_done: false,
            garbage: 0,
        }
    }

    /// Starts sending application data every `every`, from `start`.
    pub fn start_app(&mut self, every: Duration, start: Instant) {
        self.app_interval = Some(every);
        self.next_app = Some(start);
    }

    fn drain(&mut self, now: Instant) {
        while let Some(e) = self.agent.poll_event() {
            if e == Event::GatheringComplete {
                self.gathering_done = true;
            }
            self.events.push((now, e));
        }
    }

    pub fn connected(&self) -> bool {
        self.agent.state() == IceState::Connected && self.agent.selected_pair().is_some()
    }

    pub fn selected_events(&self) -> Vec<(Instant, SocketAddr, SocketAddr)> {
        self.events
            .iter()
            .filter_map(|(t, e)| match e {
                Event::SelectedPair { local, remote } => Some((*t, *local, *remote)),
                _ => None,
            })
            .collect()
    }

    pub fn consent_expired_at(&self) -> Option<Instant> {
        self.events.iter().find_map(|(t, e)| match e {
            Event::ConsentExpired { .. } => Some(*t),
            _ => None,
        })
    }
}

impl Endpoint for Peer {
    fn handle_receive(&mut self, now: Instant, from: SocketAddr, to: SocketAddr, data: &[u8]) {
        if !self.agent.handle_receive(now, from, to, data) {
            if data.first() == Some(&APP) {
                self.app_received.push((now, from, to));
            } else {
                self.garbage += 1;
            }
        }
        self.drain(now);
    }
    fn handle_timeout(&mut self, now: Instant) {
        if self.next_app.is_some_and(|t| t <= now) {
            self.app_due = true;
            self.next_app = self.app_interval.map(|i| now + i);
        }
        if self.agent.poll_timeout().is_some_and(|t| t <= now) {
            self.agent.handle_timeout(now);
        }
        self.drain(now);
    }
    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        self.drain(now);
        if let Some(t) = self.agent.poll_transmit(buf) {
            self.drain(now);
            return Some(Transmit {
                source: t.source,
                destination: t.destination,
                len: t.len,
            });
        }
        if self.app_due {
            self.app_due = false;
            if let Some((local, remote)) = self.agent.selected_pair() {
                buf[..100].fill(APP);
                self.app_sent.push((now, local, remote));
                return Some(Transmit {
                    source: local,
                    destination: remote,
                    len: 100,
                });
            }
        }
        None
    }
    fn poll_timeout(&self) -> Option<Instant> {
        match (self.agent.poll_timeout(), self.next_app) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// A STUN Binding server endpoint.
#[derive(Debug)]
pub struct StunNode(pub BindingServer);

/// Either kind of endpoint.
#[derive(Debug)]
pub enum Node {
    Peer(Box<Peer>),
    Stun(StunNode),
}

impl Node {
    pub fn peer(&self) -> &Peer {
        match self {
            Node::Peer(p) => p,
            Node::Stun(_) => panic!("not a peer"),
        }
    }
    pub fn peer_mut(&mut self) -> &mut Peer {
        match self {
            Node::Peer(p) => p,
            Node::Stun(_) => panic!("not a peer"),
        }
    }
}

impl Endpoint for Node {
    fn handle_receive(&mut self, now: Instant, from: SocketAddr, to: SocketAddr, data: &[u8]) {
        match self {
            Node::Peer(p) => p.handle_receive(now, from, to, data),
            Node::Stun(s) => {
                s.0.handle_receive(now, from, to, data);
            }
        }
    }
    fn handle_timeout(&mut self, now: Instant) {
        if let Node::Peer(p) = self {
            p.handle_timeout(now)
        }
    }
    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        match self {
            Node::Peer(p) => p.poll_transmit(now, buf),
            Node::Stun(s) => s.0.poll_transmit(buf).map(|t| Transmit {
                source: t.source,
                destination: t.destination,
                len: t.len,
            }),
        }
    }
    fn poll_timeout(&self) -> Option<Instant> {
        match self {
            Node::Peer(p) => p.poll_timeout(),
            Node::Stun(_) => None,
        }
    }
}

pub fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}
pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

pub fn sim(seed: u64) -> Sim<Node> {
    Sim::new(SimConfig::new(
        tern_sim::seed_from_env(seed),
        Instant::now(),
    ))
}

pub fn creds(seed: u64) -> Credentials {
    Credentials::random(&mut SeededRng::new(seed))
}

/// A full agent with a host candidate on `host`.
pub fn full_peer(sim: &mut Sim<Node>, host: &str, controlling: bool, stun: &[SocketAddr]) -> Peer {
    let seed = sim.rng().next_u64();
    let mut cfg = AgentConfig::full(creds(seed), controlling);
    cfg.stun_servers = stun.to_vec();
    let mut agent = Agent::new(cfg, sim.now(), seed);
    agent.add_local_host(addr(host), 65535).unwrap();
    Peer::new(agent)
}

/// A lite agent with a host candidate on `host`.
pub fn lite_peer(sim: &mut Sim<Node>, host: &str) -> Peer {
    let seed = sim.rng().next_u64();
    let mut agent = Agent::new(AgentConfig::lite(creds(seed)), sim.now(), seed);
    agent.add_local_host(addr(host), 65535).unwrap();
    Peer::new(agent)
}

pub fn peer(sim: &Sim<Node>, id: EndpointId) -> &Peer {
    sim.endpoint(id).peer()
}
pub fn peer_mut(sim: &mut Sim<Node>, id: EndpointId) -> &mut Peer {
    sim.endpoint_mut(id).peer_mut()
}

/// Gives each side the other's credentials (the offer/answer).
pub fn exchange_credentials(sim: &mut Sim<Node>, a: EndpointId, b: EndpointId) {
    let ca = peer(sim, a).agent.local_credentials().clone();
    let cb = peer(sim, b).agent.local_credentials().clone();
    peer_mut(sim, a).agent.set_remote_credentials(cb);
    peer_mut(sim, b).agent.set_remote_credentials(ca);
}

/// Signals candidates `from` has not yet given to `to` (trickle), and
/// end-of-candidates once `from` finished gathering (when `eoc`).
pub fn trickle(sim: &mut Sim<Node>, from: EndpointId, to: EndpointId, eoc: bool) {
    let p = peer(sim, from);
    let cands: Vec<_> = p
        .agent
        .local_candidates()
        .skip(p.signalled)
        .copied()
        .collect();
    let done = p.gathering_done || p.agent.is_lite();
    peer_mut(sim, from).signalled += cands.len();
    for c in cands {
        // Through text, as signaling would carry it.
        let c = tern_ice::Candidate::from_sdp(&c.to_string()).unwrap();
        peer_mut(sim, to).agent.add_remote_candidate(c).unwrap();
    }
    if eoc && done {
        peer_mut(sim, to).agent.end_of_remote_candidates();
    }
}

/// Runs with signaling every 100 ms (candidates trickled both ways) until
/// `done` or `limit`.
pub fn run_signaling(
    sim: &mut Sim<Node>,
    pairs: &[(EndpointId, EndpointId)],
    limit: Duration,
    mut done: impl FnMut(&Sim<Node>) -> bool,
) -> bool {
    let end = sim.now() + limit;
    while sim.now() < end {
        for &(a, b) in pairs {
            if !peer(sim, a).agent.is_lite() {
                trickle(sim, a, b, true);
            }
            if !peer(sim, b).agent.is_lite() {
                trickle(sim, b, a, true);
            }
        }
        sim.flush();
        if sim.run_until(Duration::from_millis(100), &mut done) {
            return true;
        }
    }
    false
}

pub fn both_connected(sim: &Sim<Node>, a: EndpointId, b: EndpointId) -> bool {
    peer(sim, a).connected() && peer(sim, b).connected()
}
