//! RFC 8445 §9: an ICE restart runs new checks while the old selected
//! pair keeps carrying data; the switch happens only once a new pair is
//! selected.
mod common;
use common::*;
use std::time::Duration;
use tern_ice::{Agent, AgentConfig};

#[test]
fn ice_restart_swaps_the_path_without_dropping_the_old_one_early() {
    for seed in 0..5 {
        let mut sim = sim(1200 + seed);
        let s0 = sim.rng().next_u64();
        let mut agent = Agent::new(AgentConfig::full(creds(s0), true), sim.now(), s0);
        // The first interface is the less preferred one.
        agent.add_local_host(addr("192.0.2.1:5000"), 100).unwrap();
        let a = Peer::new(agent);
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
        let now = sim.now();
        peer_mut(&mut sim, a).start_app(Duration::from_millis(20), now);
        sim.run_for(Duration::from_secs(2));
        let old = peer(&sim, a).agent.selected_pair().unwrap();
        assert_eq!(old.0, addr("192.0.2.1:5000"));

        // A better interface appears; the application restarts ICE.
        sim.add_ip(a, ip("192.0.2.3"));
        peer_mut(&mut sim, a)
            .agent
            .add_local_host(addr("192.0.2.3:5000"), 65535)
            .unwrap();
        let (na, nb) = (creds(sim.rng().next_u64()), creds(sim.rng().next_u64()));
        peer_mut(&mut sim, a).agent.restart(na).unwrap();
        peer_mut(&mut sim, b).agent.restart(nb).unwrap();
        // Old path still selected right after the restart.
        assert_eq!(peer(&sim, a).agent.selected_pair(), Some(old));
        // The new offer/answer takes a while to arrive: data keeps flowing
        // on the old path meanwhile, and consent on it holds.
        let got = peer(&sim, b).app_received.len();
        sim.run_for(Duration::from_secs(12));
        assert!(peer(&sim, b).app_received.len() >= got + 550);
        assert_eq!(peer(&sim, a).agent.selected_pair(), Some(old));
        assert!(peer(&sim, b).agent.selected_pair().is_some());
        assert_eq!(peer(&sim, a).consent_expired_at(), None);
        assert_eq!(peer(&sim, b).consent_expired_at(), None);

        // New credentials and all candidates again.
        exchange_credentials(&mut sim, a, b);
        peer_mut(&mut sim, a).signalled = 0;
        peer_mut(&mut sim, b).signalled = 0;
        let mut gap = false;
        let swapped = run_signaling(&mut sim, &[(a, b)], Duration::from_secs(10), |s| {
            if peer(s, a).agent.selected_pair().is_none()
                || peer(s, b).agent.selected_pair().is_none()
            {
                gap = true;
            }
            peer(s, a).agent.selected_pair().map(|p| p.0) == Some(addr("192.0.2.3:5000"))
                && peer(s, b).agent.selected_pair().map(|p| p.1) == Some(addr("192.0.2.3:5000"))
        });
        assert!(swapped, "seed {}", sim.seed());
        assert!(!gap, "a selected pair at every moment");
        // Data now arrives on the new path.
        let before = peer(&sim, b).app_received.len();
        sim.run_for(Duration::from_secs(40));
        let after: Vec<_> = peer(&sim, b).app_received[before + 5..]
            .iter()
            .map(|r| r.1)
            .collect();
        assert!(after.len() > 1900);
        assert!(after.iter().all(|f| *f == addr("192.0.2.3:5000")));
        assert!(both_connected(&sim, a, b));
    }
}
