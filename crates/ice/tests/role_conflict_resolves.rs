//! RFC 8445 §7.3.1.1 / §7.2.5.1: two agents that both think they are
//! controlling (or both controlled) settle on one of each and connect.
mod common;
use common::*;
use std::time::Duration;
use tern_ice::Event;

fn run(seed: u64, both_controlling: bool) {
    let mut sim = sim(seed);
    let a = full_peer(&mut sim, "192.0.2.1:5000", both_controlling, &[]);
    let b = full_peer(&mut sim, "192.0.2.2:6000", both_controlling, &[]);
    let a = sim.add_endpoint(Node::Peer(Box::new(a)), &[ip("192.0.2.1")]);
    let b = sim.add_endpoint(Node::Peer(Box::new(b)), &[ip("192.0.2.2")]);
    exchange_credentials(&mut sim, a, b);
    assert!(run_signaling(
        &mut sim,
        &[(a, b)],
        Duration::from_secs(10),
        |s| both_connected(s, a, b)
    ));
    let (ca, cb) = (
        peer(&sim, a).agent.is_controlling(),
        peer(&sim, b).agent.is_controlling(),
    );
    assert_ne!(ca, cb, "exactly one controlling agent (seed {seed})");
    let switched = [a, b]
        .iter()
        .filter(|&&id| {
            peer(&sim, id)
                .events
                .iter()
                .any(|(_, e)| matches!(e, Event::RoleChanged { .. }))
        })
        .count();
    assert_eq!(switched, 1, "one side switched");
    assert_eq!(
        peer(&sim, a).agent.selected_pair().map(|p| p.1),
        Some(addr("192.0.2.2:6000"))
    );
    sim.run_for(Duration::from_secs(40));
    assert!(both_connected(&sim, a, b));
}

#[test]
fn role_conflict_resolves_when_both_are_controlling() {
    for seed in 0..10 {
        run(1000 + seed, true);
    }
}

#[test]
fn role_conflict_resolves_when_both_are_controlled() {
    for seed in 0..10 {
        run(1100 + seed, false);
    }
}
