//! A client's NAT rebinds mid-session: the lite SFU moves its selected
//! pair to the new address only after an authenticated check from it;
//! unauthenticated packets from the new address change nothing.
mod common;
use common::*;
use std::time::Duration;
use tern_sim::NatConfig;
use tern_stun::{
    Attribute, Class, IntegrityKey, MessageBuilder, MessageType, Method, TransactionId,
};

fn forged_check(username: &str, key: &IntegrityKey, use_candidate: bool) -> Vec<u8> {
    let mut buf = vec![0u8; 512];
    let mut b = MessageBuilder::new(
        &mut buf,
        MessageType::new(Method::BINDING, Class::Request),
        TransactionId([0x42; 12]),
    )
    .unwrap();
    b.add(&Attribute::Username(username)).unwrap();
    b.add(&Attribute::Priority(1_862_270_975)).unwrap();
    b.add(&Attribute::IceControlling(7)).unwrap();
    if use_candidate {
        b.add(&Attribute::UseCandidate).unwrap();
    }
    b.message_integrity(key).unwrap();
    b.fingerprint().unwrap();
    let n = b.finish();
    buf.truncate(n);
    buf
}

#[test]
fn nat_rebinding_recovers_only_after_an_authenticated_check() {
    for seed in 0..5 {
        let mut sim = sim(900 + seed);
        let nat = sim.add_nat(NatConfig::port_restricted(ip("203.0.113.1")));
        let c = full_peer(&mut sim, "10.0.0.2:5000", true, &[]);
        let s = lite_peer(&mut sim, "192.0.2.10:443");
        let c = sim.add_endpoint_behind(nat, Node::Peer(Box::new(c)), &[ip("10.0.0.2")]);
        let s = sim.add_endpoint(Node::Peer(Box::new(s)), &[ip("192.0.2.10")]);
        exchange_credentials(&mut sim, c, s);
        trickle(&mut sim, s, c, true);
        assert!(run_signaling(
            &mut sim,
            &[(c, s)],
            Duration::from_secs(10),
            |sim| both_connected(sim, c, s)
        ));
        let now = sim.now();
        peer_mut(&mut sim, c).start_app(Duration::from_millis(20), now);
        peer_mut(&mut sim, s).start_app(Duration::from_millis(20), now);
        sim.run_for(Duration::from_secs(3));
        let (_, old_remote) = peer(&sim, s).agent.selected_pair().unwrap();
        assert_eq!(old_remote, addr("203.0.113.1:40000"));

        sim.rebind_nat(nat);
        // The client's media now arrives from a new port; the SFU does not
        // follow unauthenticated traffic.
        sim.run_for(Duration::from_millis(200));
        let new_remote = peer(&sim, s).app_received.last().unwrap().1;
        assert_ne!(new_remote, old_remote);
        assert_eq!(peer(&sim, s).agent.selected_pair().unwrap().1, old_remote);

        // An attacker at the new address (it knows the SFU's ufrag from a
        // leaked SDP, not the password) sends checks: ignored, with or
        // without USE-CANDIDATE, and so is garbage.
        let sfu_ufrag = peer(&sim, s).agent.local_credentials().ufrag().to_owned();
        let wrong = IntegrityKey::short_term("not-the-password-at-all");
        for uc in [false, true] {
            let m = forged_check(&format!("{sfu_ufrag}:evil"), &wrong, uc);
            sim.inject(new_remote, addr("192.0.2.10:443"), &m);
        }
        let unknown = forged_check("nobody:evil", &wrong, true);
        sim.inject(new_remote, addr("192.0.2.10:443"), &unknown);
        sim.inject(new_remote, addr("192.0.2.10:443"), &[0u8; 20]);
        let mut bad_stun = unknown.clone();
        bad_stun[30] ^= 1;
        sim.inject(new_remote, addr("192.0.2.10:443"), &bad_stun);
        sim.run_for(Duration::from_millis(50));
        assert_eq!(peer(&sim, s).agent.selected_pair().unwrap().1, old_remote);
        assert!(peer(&sim, s).agent.stats().bad_integrity >= 2);
        assert!(peer(&sim, s).agent.stats().unknown_ufrag >= 1);

        // The client's next consent check (authenticated, from the new
        // mapping) moves the SFU over; media flows again both ways.
        let moved = sim.run_until(Duration::from_secs(7), |sim| {
            peer(sim, s).agent.selected_pair().map(|p| p.1) == Some(new_remote)
        });
        assert!(moved, "seed {}", sim.seed());
        let before = peer(&sim, c).app_received.len();
        sim.run_for(Duration::from_secs(2));
        assert!(peer(&sim, c).app_received.len() >= before + 90);
        assert!(both_connected(&sim, c, s));
        assert_eq!(peer(&sim, s).consent_expired_at(), None);
    }
}
