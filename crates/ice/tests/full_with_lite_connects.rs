//! A full client behind a NAT connects to a lite SFU that put all its
//! candidates in its SDP and receives the client's candidates by trickle.
mod common;
use common::*;
use std::time::Duration;
use tern_ice::{Event, IceState};
use tern_sim::NatConfig;
use tern_stun::BindingServer;

#[test]
fn full_with_lite_connects() {
    for seed in 0..5 {
        let mut sim = sim(200 + seed);
        let stun_addr = addr("198.51.100.1:3478");
        sim.add_endpoint(
            Node::Stun(StunNode(BindingServer::new(None))),
            &[ip("198.51.100.1")],
        );
        let nat = sim.add_nat(NatConfig::symmetric(ip("203.0.113.1")));
        let c = full_peer(&mut sim, "10.0.0.2:5000", true, &[stun_addr]);
        let s = lite_peer(&mut sim, "192.0.2.10:443");
        let c = sim.add_endpoint_behind(nat, Node::Peer(Box::new(c)), &[ip("10.0.0.2")]);
        let s = sim.add_endpoint(Node::Peer(Box::new(s)), &[ip("192.0.2.10")]);
        exchange_credentials(&mut sim, c, s);
        // The SFU's candidates are in its answer; the client trickles.
        trickle(&mut sim, s, c, true);
        assert!(run_signaling(
            &mut sim,
            &[(c, s)],
            Duration::from_secs(10),
            |sim| both_connected(sim, c, s)
        ));
        assert!(
            sim.elapsed() < Duration::from_secs(2),
            "{:?}",
            sim.elapsed()
        );
        // Through a symmetric NAT the SFU learned the client's address as
        // peer-reflexive from its authenticated check.
        let (local, remote) = peer(&sim, s).agent.selected_pair().unwrap();
        assert_eq!(local, addr("192.0.2.10:443"));
        assert_eq!(remote.ip(), ip("203.0.113.1"));
        assert!(!peer(&sim, s).agent.is_controlling());
        assert_eq!(
            peer(&sim, s).agent.stats().requests_sent,
            0,
            "lite never checks"
        );
        // Media both ways, and it holds for two minutes (consent).
        let now = sim.now();
        peer_mut(&mut sim, c).start_app(Duration::from_millis(20), now);
        peer_mut(&mut sim, s).start_app(Duration::from_millis(20), now);
        sim.run_for(Duration::from_secs(120));
        assert!(both_connected(&sim, c, s));
        assert!(peer(&sim, s).app_received.len() > 5900);
        assert!(peer(&sim, c).app_received.len() > 5900);
        for id in [c, s] {
            assert!(!peer(&sim, id).events.iter().any(|(_, e)| matches!(
                e,
                Event::ConsentExpired { .. } | Event::StateChanged(IceState::Failed)
            )));
        }
    }
}

#[test]
fn lite_answers_a_controlled_full_agent_with_role_conflict() {
    // A full agent misconfigured as controlled against a lite agent gets
    // 487 and takes the controlling role.
    let mut sim = sim(250);
    let c = full_peer(&mut sim, "192.0.2.1:5000", false, &[]);
    let s = lite_peer(&mut sim, "192.0.2.10:443");
    let c = sim.add_endpoint(Node::Peer(Box::new(c)), &[ip("192.0.2.1")]);
    let s = sim.add_endpoint(Node::Peer(Box::new(s)), &[ip("192.0.2.10")]);
    exchange_credentials(&mut sim, c, s);
    trickle(&mut sim, s, c, true);
    assert!(run_signaling(
        &mut sim,
        &[(c, s)],
        Duration::from_secs(10),
        |sim| both_connected(sim, c, s)
    ));
    assert!(peer(&sim, c).agent.is_controlling());
    assert!(peer(&sim, c)
        .events
        .iter()
        .any(|(_, e)| *e == Event::RoleChanged { controlling: true }));
    assert!(peer(&sim, s).agent.stats().rejected >= 1);
}
