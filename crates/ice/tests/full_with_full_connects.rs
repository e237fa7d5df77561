//! Two full agents find each other: on a public network, and behind NATs
//! using server-reflexive and peer-reflexive candidates.
mod common;
use common::*;
use std::time::Duration;
use tern_ice::{CandidateKind, Event};
use tern_sim::NatConfig;
use tern_stun::BindingServer;

#[test]
fn full_with_full_connects_on_a_public_network() {
    let mut sim = sim(1);
    let a = full_peer(&mut sim, "192.0.2.1:5000", true, &[]);
    let b = full_peer(&mut sim, "192.0.2.2:6000", false, &[]);
    let a = sim.add_endpoint(Node::Peer(Box::new(a)), &[ip("192.0.2.1")]);
    let b = sim.add_endpoint(Node::Peer(Box::new(b)), &[ip("192.0.2.2")]);
    exchange_credentials(&mut sim, a, b);
    assert!(run_signaling(
        &mut sim,
        &[(a, b)],
        Duration::from_secs(10),
        |s| both_connected(s, a, b)
    ));
    assert!(
        sim.elapsed() < Duration::from_secs(1),
        "{:?}",
        sim.elapsed()
    );
    assert_eq!(
        peer(&sim, a).agent.selected_pair(),
        Some((addr("192.0.2.1:5000"), addr("192.0.2.2:6000")))
    );
    assert_eq!(
        peer(&sim, b).agent.selected_pair(),
        Some((addr("192.0.2.2:6000"), addr("192.0.2.1:5000")))
    );
    assert!(peer(&sim, a).agent.is_controlling());
    assert!(!peer(&sim, b).agent.is_controlling());
    // It stays up: consent keeps flowing for a minute.
    sim.run_for(Duration::from_secs(60));
    assert!(both_connected(&sim, a, b));
    assert_eq!(peer(&sim, a).consent_expired_at(), None);
    assert_eq!(peer(&sim, b).consent_expired_at(), None);
}

#[test]
fn full_with_full_connects_through_nats_with_reflexive_candidates() {
    for seed in 0..5 {
        let mut sim = sim(100 + seed);
        let stun_addr = addr("198.51.100.1:3478");
        sim.add_endpoint(
            Node::Stun(StunNode(BindingServer::new(None))),
            &[ip("198.51.100.1")],
        );
        let nat_a = sim.add_nat(NatConfig::port_restricted(ip("203.0.113.1")));
        let nat_b = sim.add_nat(NatConfig::port_restricted(ip("203.0.113.2")));
        let a = full_peer(&mut sim, "10.0.0.2:5000", true, &[stun_addr]);
        let b = full_peer(&mut sim, "10.1.0.2:6000", false, &[stun_addr]);
        let a = sim.add_endpoint_behind(nat_a, Node::Peer(Box::new(a)), &[ip("10.0.0.2")]);
        let b = sim.add_endpoint_behind(nat_b, Node::Peer(Box::new(b)), &[ip("10.1.0.2")]);
        exchange_credentials(&mut sim, a, b);
        assert!(run_signaling(
            &mut sim,
            &[(a, b)],
            Duration::from_secs(20),
            |s| both_connected(s, a, b)
        ));
        // Each learned its server-reflexive candidate from the STUN server.
        for (id, public) in [(a, "203.0.113.1"), (b, "203.0.113.2")] {
            let srflx: Vec<_> = peer(&sim, id)
                .agent
                .local_candidates()
                .filter(|c| c.kind == CandidateKind::ServerReflexive)
                .copied()
                .collect();
            assert_eq!(srflx.len(), 1);
            assert_eq!(srflx[0].address.ip(), ip(public));
            assert!(peer(&sim, id)
                .events
                .iter()
                .any(|(_, e)| *e == Event::GatheringComplete));
        }
        let (_, remote) = peer(&sim, a).agent.selected_pair().unwrap();
        assert_eq!(remote.ip(), ip("203.0.113.2"));
        // Application data flows both ways on the selected pair.
        let now = sim.now();
        peer_mut(&mut sim, a).start_app(Duration::from_millis(20), now);
        peer_mut(&mut sim, b).start_app(Duration::from_millis(20), now);
        sim.run_for(Duration::from_secs(1));
        assert!(
            peer(&sim, b).app_received.len() >= 45,
            "{}",
            peer(&sim, b).app_received.len()
        );
        assert!(
            peer(&sim, a).app_received.len() >= 45,
            "{}",
            peer(&sim, a).app_received.len()
        );
    }
}
