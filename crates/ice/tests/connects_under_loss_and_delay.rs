//! Connectivity survives a bad network: 10% loss and 300 ms one-way delay
//! (plus jitter, duplication and reordering), and bursty loss.
mod common;
use common::*;
use std::time::Duration;
use tern_sim::{LinkConfig, Loss, NatConfig};

fn bad_link(loss: Loss) -> LinkConfig {
    LinkConfig {
        delay: Duration::from_millis(300),
        jitter: Duration::from_millis(30),
        loss,
        duplicate: 0.02,
        reorder: 0.05,
        reorder_delay: Duration::from_millis(50),
        ..LinkConfig::default()
    }
}

#[test]
fn full_with_full_connects_under_10_percent_loss_and_300ms_delay() {
    for seed in 0..20 {
        let mut sim = sim(300 + seed);
        sim.set_default_link(bad_link(Loss::Random(0.10)));
        let nat = sim.add_nat(NatConfig::port_restricted(ip("203.0.113.1")));
        let a = full_peer(&mut sim, "10.0.0.2:5000", true, &[]);
        let b = full_peer(&mut sim, "192.0.2.2:6000", false, &[]);
        let a = sim.add_endpoint_behind(nat, Node::Peer(Box::new(a)), &[ip("10.0.0.2")]);
        let b = sim.add_endpoint(Node::Peer(Box::new(b)), &[ip("192.0.2.2")]);
        exchange_credentials(&mut sim, a, b);
        assert!(
            run_signaling(&mut sim, &[(a, b)], Duration::from_secs(30), |s| {
                both_connected(s, a, b)
            }),
            "seed {} did not connect",
            sim.seed()
        );
        // And consent holds under that loss for two minutes (a check every
        // ~5 s, each lost with ~19% probability: 30 s of losses in a row
        // does not happen).
        sim.run_for(Duration::from_secs(120));
        assert!(both_connected(&sim, a, b), "seed {}", sim.seed());
        assert!(sim.stats().lost > 0);
    }
}

#[test]
fn full_with_lite_connects_under_10_percent_loss_and_300ms_delay() {
    for seed in 0..20 {
        let mut sim = sim(400 + seed);
        sim.set_default_link(bad_link(Loss::Random(0.10)));
        let nat = sim.add_nat(NatConfig::symmetric(ip("203.0.113.1")));
        let c = full_peer(&mut sim, "10.0.0.2:5000", true, &[]);
        let s = lite_peer(&mut sim, "192.0.2.10:443");
        let c = sim.add_endpoint_behind(nat, Node::Peer(Box::new(c)), &[ip("10.0.0.2")]);
        let s = sim.add_endpoint(Node::Peer(Box::new(s)), &[ip("192.0.2.10")]);
        exchange_credentials(&mut sim, c, s);
        trickle(&mut sim, s, c, true);
        assert!(
            run_signaling(&mut sim, &[(c, s)], Duration::from_secs(30), |sim| {
                both_connected(sim, c, s)
            }),
            "seed {} did not connect",
            sim.seed()
        );
    }
}

#[test]
fn full_with_full_connects_under_bursty_loss() {
    for seed in 0..10 {
        let mut sim = sim(500 + seed);
        // Gilbert-Elliott: ~9% of packets in Bad, where 80% are lost.
        sim.set_default_link(bad_link(Loss::GilbertElliott {
            p_good_to_bad: 0.05,
            p_bad_to_good: 0.5,
            loss_good: 0.01,
            loss_bad: 0.8,
        }));
        let a = full_peer(&mut sim, "192.0.2.1:5000", true, &[]);
        let b = full_peer(&mut sim, "192.0.2.2:6000", false, &[]);
        let a = sim.add_endpoint(Node::Peer(Box::new(a)), &[ip("192.0.2.1")]);
        let b = sim.add_endpoint(Node::Peer(Box::new(b)), &[ip("192.0.2.2")]);
        exchange_credentials(&mut sim, a, b);
        assert!(
            run_signaling(&mut sim, &[(a, b)], Duration::from_secs(30), |s| {
                both_connected(s, a, b)
            }),
            "seed {}",
            sim.seed()
        );
    }
}
