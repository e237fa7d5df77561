//! A full ICE agent connects through a TURN relay (tern-turn's server on
//! tern-sim) when no direct path exists: both peers behind symmetric NATs.
//! Also: relay-only policy, refreshes keep the allocation alive for longer
//! than its lifetime, and a forbidden peer is refused.
mod common;

use common::{addr, creds, ip, Peer, APP};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tern_ice::{
    Agent, AgentConfig, CandidateKind, Received, SeededRng, TurnClient, TurnClientConfig,
    TurnEvent, TurnState,
};
use tern_sim::{Endpoint, EndpointId, NatConfig, Sim, SimConfig, Transmit};
use tern_turn::{SeededEnv, ServerConfig, TurnServer};

const TURN: &str = "198.51.100.1:3478";

/// An ICE peer whose socket also carries a TURN client.
#[derive(Debug)]
struct RelayPeer {
    peer: Peer,
    turn: TurnClient,
    turn_events: Vec<TurnEvent>,
    scratch: Vec<u8>,
}

impl RelayPeer {
    fn drain_turn(&mut self) {
        while let Some(e) = self.turn.poll_event() {
            if let TurnEvent::Allocated {
                relayed, mapped, ..
            } = e
            {
                self.peer
                    .agent
                    .add_local_relayed(relayed, mapped, 65535)
                    .unwrap();
            }
            self.turn_events.push(e);
        }
    }
}

impl Endpoint for RelayPeer {
    fn handle_receive(&mut self, now: Instant, from: SocketAddr, to: SocketAddr, data: &[u8]) {
        if to == self.turn.local() {
            match self.turn.handle_receive(now, from, data) {
                Received::Data { peer, data } => {
                    let relayed = self.turn.relayed().unwrap();
                    self.peer.handle_receive(now, peer, relayed, data);
                }
                Received::Consumed => {}
                Received::NotTurn => self.peer.handle_receive(now, from, to, data),
            }
        } else {
            self.peer.handle_receive(now, from, to, data);
        }
        self.drain_turn();
    }
    fn handle_timeout(&mut self, now: Instant) {
        if self.turn.poll_timeout().is_some_and(|t| t <= now) {
            self.turn.handle_timeout(now);
        }
        self.peer.handle_timeout(now);
        self.drain_turn();
    }
    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        self.drain_turn();
        if let Some(t) = self.turn.poll_transmit(now, buf) {
            return Some(Transmit {
                source: t.source,
                destination: t.destination,
                len: t.len,
            });
        }
        loop {
            let t = self.peer.poll_transmit(now, buf)?;
            if Some(t.source) != self.turn.relayed() {
                return Some(t);
            }
            // From the relayed candidate: through the TURN server (a peer
            // the server refused is skipped, like a failed send).
            self.scratch.clear();
            self.scratch.extend_from_slice(&buf[..t.len]);
            if let Ok(out) = self.turn.send_to(now, t.destination, &self.scratch, buf) {
                return Some(Transmit {
                    source: out.source,
                    destination: out.destination,
                    len: out.len,
                });
            }
        }
    }
    fn poll_timeout(&self) -> Option<Instant> {
        match (self.peer.poll_timeout(), self.turn.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

#[derive(Debug)]
struct TurnNode(TurnServer<SeededEnv>);

impl Endpoint for TurnNode {
    fn handle_receive(&mut self, now: Instant, from: SocketAddr, to: SocketAddr, data: &[u8]) {
        self.0.handle_receive(now, from, to, data);
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.0.handle_timeout(now);
    }
    fn poll_transmit(&mut self, _now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        self.0.poll_transmit(buf).map(|t| Transmit {
            source: t.source,
            destination: t.destination,
            len: t.len,
        })
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.0.poll_timeout()
    }
}

#[derive(Debug)]
enum N {
    Plain(Box<Peer>),
    Relay(Box<RelayPeer>),
    Turn(Box<TurnNode>),
}

impl N {
    fn peer(&self) -> &Peer {
        match self {
            N::Plain(p) => p,
            N::Relay(r) => &r.peer,
            N::Turn(_) => panic!("not a peer"),
        }
    }
    fn peer_mut(&mut self) -> &mut Peer {
        match self {
            N::Plain(p) => p,
            N::Relay(r) => &mut r.peer,
            N::Turn(_) => panic!("not a peer"),
        }
    }
    fn relay(&self) -> &RelayPeer {
        match self {
            N::Relay(r) => r,
            _ => panic!("not a relay peer"),
        }
    }
}

impl Endpoint for N {
    fn handle_receive(&mut self, now: Instant, from: SocketAddr, to: SocketAddr, data: &[u8]) {
        match self {
            N::Plain(p) => p.handle_receive(now, from, to, data),
            N::Relay(r) => r.handle_receive(now, from, to, data),
            N::Turn(t) => t.handle_receive(now, from, to, data),
        }
    }
    fn handle_timeout(&mut self, now: Instant) {
        match self {
            N::Plain(p) => p.handle_timeout(now),
            N::Relay(r) => r.handle_timeout(now),
            N::Turn(t) => t.handle_timeout(now),
        }
    }
    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        match self {
            N::Plain(p) => p.poll_transmit(now, buf),
            N::Relay(r) => r.poll_transmit(now, buf),
            N::Turn(t) => t.poll_transmit(now, buf),
        }
    }
    fn poll_timeout(&self) -> Option<Instant> {
        match self {
            N::Plain(p) => p.poll_timeout(),
            N::Relay(r) => r.poll_timeout(),
            N::Turn(t) => t.poll_timeout(),
        }
    }
}

fn new_sim(seed: u64) -> Sim<N> {
    Sim::new(SimConfig::new(
        tern_sim::seed_from_env(seed),
        Instant::now(),
    ))
}

fn add_turn_server(sim: &mut Sim<N>, lifetime: Duration) -> EndpointId {
    let mut cfg = ServerConfig::new("sim", ip("198.51.100.1"));
    cfg.users.push(("ice".into(), "relay-pass".into()));
    cfg.default_lifetime = lifetime;
    cfg.max_lifetime = lifetime;
    cfg.peer_policy.server_addresses.push(ip("198.51.100.1"));
    let now = sim.now();
    let server = TurnServer::new(
        cfg,
        SeededEnv::new(sim.rng().next_u64()),
        now,
        1_700_000_000,
    );
    sim.add_endpoint(N::Turn(Box::new(TurnNode(server))), &[ip("198.51.100.1")])
}

/// A full agent on `host` with a TURN client on the same socket; with
/// `relay_only` it offers no host candidate (iceTransportPolicy "relay").
fn relay_peer(sim: &mut Sim<N>, host: &str, controlling: bool, relay_only: bool) -> RelayPeer {
    let seed = sim.rng().next_u64();
    let mut agent = Agent::new(AgentConfig::full(creds(seed), controlling), sim.now(), seed);
    if !relay_only {
        agent.add_local_host(addr(host), 65535).unwrap();
    }
    let mut tc = TurnClientConfig::new(addr(TURN), addr(host), "ice", "relay-pass");
    tc.lifetime = Duration::from_secs(600);
    let turn = TurnClient::new(tc, sim.now(), Box::new(SeededRng::new(seed ^ 0x5555)));
    RelayPeer {
        peer: Peer::new(agent),
        turn,
        turn_events: Vec::new(),
        scratch: Vec::new(),
    }
}

fn plain_peer(sim: &mut Sim<N>, host: &str, controlling: bool, stun: &[SocketAddr]) -> Peer {
    let seed = sim.rng().next_u64();
    let mut cfg = AgentConfig::full(creds(seed), controlling);
    cfg.stun_servers = stun.to_vec();
    let mut agent = Agent::new(cfg, sim.now(), seed);
    agent.add_local_host(addr(host), 65535).unwrap();
    Peer::new(agent)
}

fn trickle(sim: &mut Sim<N>, from: EndpointId, to: EndpointId) {
    let p = sim.endpoint(from).peer();
    let cands: Vec<_> = p
        .agent
        .local_candidates()
        .skip(p.signalled)
        .copied()
        .collect();
    sim.endpoint_mut(from).peer_mut().signalled += cands.len();
    for c in cands {
        let c = tern_ice::Candidate::from_sdp(&c.to_string()).unwrap();
        sim.endpoint_mut(to)
            .peer_mut()
            .agent
            .add_remote_candidate(c)
            .unwrap();
    }
}

fn connect(sim: &mut Sim<N>, a: EndpointId, b: EndpointId, limit: Duration) -> bool {
    let ca = sim.endpoint(a).peer().agent.local_credentials().clone();
    let cb = sim.endpoint(b).peer().agent.local_credentials().clone();
    sim.endpoint_mut(a)
        .peer_mut()
        .agent
        .set_remote_credentials(cb);
    sim.endpoint_mut(b)
        .peer_mut()
        .agent
        .set_remote_credentials(ca);
    let end = sim.now() + limit;
    while sim.now() < end {
        trickle(sim, a, b);
        trickle(sim, b, a);
        sim.flush();
        let done =
            |s: &Sim<N>| s.endpoint(a).peer().connected() && s.endpoint(b).peer().connected();
        if sim.run_until(Duration::from_millis(100), done) {
            return true;
        }
    }
    false
}

#[test]
fn full_ice_connects_through_turn_when_both_peers_are_behind_symmetric_nats() {
    for seed in 0..3 {
        let mut sim = new_sim(900 + seed);
        let server = add_turn_server(&mut sim, Duration::from_secs(600));
        let nat_a = sim.add_nat(NatConfig::symmetric(ip("203.0.113.1")));
        let nat_b = sim.add_nat(NatConfig::symmetric(ip("203.0.113.2")));
        let a = relay_peer(&mut sim, "10.0.0.2:5000", true, false);
        // B learns its server-reflexive address from the TURN server's
        // Binding answers (a TURN server is a STUN server too).
        let b = plain_peer(&mut sim, "10.1.0.2:6000", false, &[addr(TURN)]);
        let a = sim.add_endpoint_behind(nat_a, N::Relay(Box::new(a)), &[ip("10.0.0.2")]);
        let b = sim.add_endpoint_behind(nat_b, N::Plain(Box::new(b)), &[ip("10.1.0.2")]);
        let ok = connect(&mut sim, a, b, Duration::from_secs(30));
        assert!(ok, "seed {}: not connected", sim.seed());
        let relayed = sim.endpoint(a).relay().turn.relayed().unwrap();
        assert_eq!(relayed.ip(), ip("198.51.100.1"));
        let (local, _) = sim.endpoint(a).peer().agent.selected_pair().unwrap();
        assert_eq!(local, relayed, "A's selected pair is the relayed one");
        assert!(sim
            .endpoint(a)
            .peer()
            .agent
            .local_candidates()
            .any(|c| c.kind == CandidateKind::Relayed && c.related.is_some()));
        let (_, remote) = sim.endpoint(b).peer().agent.selected_pair().unwrap();
        assert_eq!(remote, relayed, "B talks to A's relayed address");

        // Application data flows both ways through the relay, over a
        // channel once it is bound, for longer than every TURN lifetime
        // (allocation 10 min, permissions 5 min, channels 10 min), so the
        // client's refreshes are exercised.
        let start = sim.now();
        sim.endpoint_mut(a)
            .peer_mut()
            .start_app(Duration::from_secs(1), start);
        sim.endpoint_mut(b)
            .peer_mut()
            .start_app(Duration::from_secs(1), start);
        sim.run_for(Duration::from_secs(25 * 60));
        let ra = &sim.endpoint(a).peer().app_received;
        let rb = &sim.endpoint(b).peer().app_received;
        assert!(
            ra.len() > 1400 && rb.len() > 1400,
            "{} {}",
            ra.len(),
            rb.len()
        );
        let late = start + Duration::from_secs(24 * 60);
        assert!(
            ra.iter().any(|(t, _, _)| *t > late),
            "A still receives late on"
        );
        assert!(
            rb.iter().any(|(t, _, _)| *t > late),
            "B still receives late on"
        );
        assert_eq!(sim.endpoint(a).relay().turn.state(), TurnState::Allocated);
        assert!(sim
            .endpoint(a)
            .relay()
            .turn_events
            .iter()
            .any(|e| matches!(e, TurnEvent::ChannelBound(..))));
        let N::Turn(t) = sim.endpoint(server) else {
            unreachable!()
        };
        let st = t.0.stats();
        assert!(st.to_peer > 1000 && st.to_client > 1000, "{st:?}");
        assert_eq!(st.expired, 0);
        assert!(sim.endpoint(a).peer().consent_expired_at().is_none());
    }
}

#[test]
fn relay_only_agent_connects_to_a_public_peer() {
    let mut sim = new_sim(77);
    add_turn_server(&mut sim, Duration::from_secs(600));
    let nat_a = sim.add_nat(NatConfig::symmetric(ip("203.0.113.1")));
    let a = relay_peer(&mut sim, "10.0.0.2:5000", false, true);
    let b = plain_peer(&mut sim, "192.0.2.9:7000", true, &[]);
    let a = sim.add_endpoint_behind(nat_a, N::Relay(Box::new(a)), &[ip("10.0.0.2")]);
    let b = sim.add_endpoint(N::Plain(Box::new(b)), &[ip("192.0.2.9")]);
    assert!(connect(&mut sim, a, b, Duration::from_secs(30)));
    let relayed = sim.endpoint(a).relay().turn.relayed().unwrap();
    assert_eq!(
        sim.endpoint(a).peer().agent.selected_pair(),
        Some((relayed, addr("192.0.2.9:7000")))
    );
    assert_eq!(sim.endpoint(a).peer().agent.local_candidates().count(), 1);
}

#[test]
fn allocation_expires_without_refresh_and_client_reports_closed() {
    // A server granting 60 s; a client whose refreshes are dropped (the
    // server goes away) sees the allocation close at its lifetime.
    let mut sim = new_sim(5);
    let server = add_turn_server(&mut sim, Duration::from_secs(60));
    let a = relay_peer(&mut sim, "192.0.2.20:5000", true, false);
    let a = sim.add_endpoint(N::Relay(Box::new(a)), &[ip("192.0.2.20")]);
    sim.run_for(Duration::from_secs(5));
    assert_eq!(sim.endpoint(a).relay().turn.state(), TurnState::Allocated);
    // Refreshes keep it for a while...
    sim.run_for(Duration::from_secs(200));
    assert_eq!(sim.endpoint(a).relay().turn.state(), TurnState::Allocated);
    // ...until the server vanishes.
    sim.set_up(server, false);
    sim.run_for(Duration::from_secs(120));
    assert_eq!(sim.endpoint(a).relay().turn.state(), TurnState::Closed);
    assert!(sim
        .endpoint(a)
        .relay()
        .turn_events
        .contains(&TurnEvent::Closed));
}

#[test]
fn wrong_password_fails_the_allocation_with_401() {
    let mut sim = new_sim(6);
    add_turn_server(&mut sim, Duration::from_secs(600));
    let seed = 99;
    let agent = Agent::new(AgentConfig::full(creds(seed), true), sim.now(), seed);
    let tc = TurnClientConfig::new(addr(TURN), addr("192.0.2.20:5000"), "ice", "wrong");
    let turn = TurnClient::new(tc, sim.now(), Box::new(SeededRng::new(1)));
    let a = sim.add_endpoint(
        N::Relay(Box::new(RelayPeer {
            peer: Peer::new(agent),
            turn,
            turn_events: Vec::new(),
            scratch: Vec::new(),
        })),
        &[ip("192.0.2.20")],
    );
    sim.run_for(Duration::from_secs(5));
    let r = sim.endpoint(a).relay();
    assert_eq!(r.turn.state(), TurnState::Closed);
    assert!(r.turn_events.contains(&TurnEvent::AllocationFailed(401)));
}

#[test]
fn permission_for_a_private_peer_is_refused_with_403() {
    let mut sim = new_sim(8);
    add_turn_server(&mut sim, Duration::from_secs(600));
    let a = relay_peer(&mut sim, "192.0.2.20:5000", true, false);
    let a = sim.add_endpoint(N::Relay(Box::new(a)), &[ip("192.0.2.20")]);
    sim.run_for(Duration::from_secs(2));
    let now = sim.now();
    let N::Relay(r) = sim.endpoint_mut(a) else {
        unreachable!()
    };
    r.turn.permit(now, addr("10.9.9.9:1234")).unwrap();
    sim.run_for(Duration::from_secs(2));
    let r = sim.endpoint(a).relay();
    assert!(r
        .turn_events
        .contains(&TurnEvent::PermissionFailed(ip("10.9.9.9"), 403)));
    assert!(!r.turn.has_permission(ip("10.9.9.9")));
    let _ = APP;
}
