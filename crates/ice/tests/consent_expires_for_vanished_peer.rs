//! RFC 7675: when the peer vanishes, consent expires 30 s after the last
//! authenticated response (full) or check (lite), and the agent says so.
mod common;
use common::*;
use std::time::Duration;
use tern_ice::{Event, IceState};

fn connected_pair(
    seed: u64,
    lite: bool,
) -> (
    tern_sim::Sim<Node>,
    tern_sim::EndpointId,
    tern_sim::EndpointId,
) {
    let mut sim = sim(seed);
    let c = full_peer(&mut sim, "192.0.2.1:5000", true, &[]);
    let s = if lite {
        lite_peer(&mut sim, "192.0.2.10:443")
    } else {
        full_peer(&mut sim, "192.0.2.10:443", false, &[])
    };
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
    sim.run_for(Duration::from_secs(17));
    (sim, c, s)
}

fn assert_expires(sim: &mut tern_sim::Sim<Node>, survivor: tern_sim::EndpointId) {
    let gone = sim.now();
    sim.run_until(Duration::from_secs(60), |s| {
        peer(s, survivor).consent_expired_at().is_some()
    });
    let at = peer(sim, survivor)
        .consent_expired_at()
        .expect("consent expired");
    let after = at - gone;
    // The last proof of consent came at most one check interval (6 s with
    // jitter) before the peer vanished.
    assert!(
        after <= Duration::from_secs(30) + Duration::from_secs(6),
        "{after:?}"
    );
    assert!(after >= Duration::from_secs(24), "{after:?}");
    let p = peer(sim, survivor);
    assert_eq!(p.agent.selected_pair(), None, "callers must stop sending");
    assert_eq!(p.agent.state(), IceState::Failed);
    assert!(p
        .events
        .iter()
        .any(|(_, e)| matches!(e, Event::ConsentExpired { .. })));
}

#[test]
fn vanished_client_consent_expires_on_lite_sfu() {
    for seed in 0..5 {
        let (mut sim, c, s) = connected_pair(600 + seed, true);
        sim.set_up(c, false);
        assert_expires(&mut sim, s);
    }
}

#[test]
fn vanished_peer_consent_expires_on_full_agent() {
    for seed in 0..5 {
        let (mut sim, c, s) = connected_pair(700 + seed, false);
        sim.set_up(s, false);
        assert_expires(&mut sim, c);
        // The controlled side vanishing the other way round as well.
        let (mut sim, c, s) = connected_pair(750 + seed, false);
        sim.set_up(c, false);
        assert_expires(&mut sim, s);
    }
}

#[test]
fn consent_checks_are_paced_at_5s_plus_minus_20_percent() {
    let (mut sim, c, _s) = connected_pair(800, true);
    let before = peer(&sim, c).agent.stats().requests_sent;
    sim.run_for(Duration::from_secs(100));
    let sent = peer(&sim, c).agent.stats().requests_sent - before;
    // 100 s / (4..6 s) = 16..25 checks.
    assert!((16..=25).contains(&sent), "{sent}");
}
