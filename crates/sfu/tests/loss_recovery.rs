//! Loss on the publisher's link is repaired by the SFU's upstream NACKs and
//! the publisher's RTX; loss on a subscriber's link by the SFU's
//! retransmission buffer.

mod common;

use std::time::Duration;

use common::*;
use tern_sim::{LinkConfig, Loss};

fn lossy(p: f64) -> LinkConfig {
    LinkConfig {
        loss: Loss::Random(p),
        ..LinkConfig::with_delay(Duration::from_millis(20))
    }
}

#[test]
fn nack_rtx_recovers_publisher_link_loss() {
    let mut call = Call::new(tern_sim::seed_from_env(7));
    call.join("alice", "room", true);
    call.join("bob", "room", false);
    call.join("carol", "room", false);
    call.subscribe("bob", &["alice"], true);
    call.subscribe("carol", &["alice"], false);
    let (sfu, alice) = (call.sfu, call.id("alice"));
    // 5% loss on the publisher's link, both directions.
    call.sim.set_link(alice, sfu, lossy(0.05));
    call.run(Duration::from_secs(3));
    call.client_mut("alice").video.as_mut().unwrap().stop_after = Some(3000);
    call.run(Duration::from_secs(30));
    let sent = call.client("alice").video.as_ref().unwrap().count;
    assert_eq!(sent, 3000);
    let stats = call.sfu_ref().stats();
    assert!(stats.nacks_sent > 0);
    let rtx = call.client("alice").video.as_ref().unwrap().rtx_sent;
    assert!(rtx > 0, "the publisher answered NACKs with RTX");
    for sub in ["bob", "carol"] {
        let got = &call.client(sub).received[&forward_ssrc(0)];
        // The first packets went out before DTLS was up at every
        // subscriber; count from the first one received.
        let first = *got.ids.iter().next().unwrap();
        let expected = sent - first;
        let missing = expected - got.ids.len() as u64;
        // About 5% of `expected` were lost on the publisher's link; at
        // least 95% of them must have been recovered.
        let lost_estimate = (expected as f64 * 0.05).max(1.0);
        assert!(
            (missing as f64) <= 0.05 * lost_estimate,
            "{sub}: {missing} of {expected} never arrived ({stats:?})"
        );
    }
}

#[test]
fn subscriber_nacks_are_answered_from_the_buffer_as_rtx_or_plain() {
    let mut call = Call::new(tern_sim::seed_from_env(8));
    call.join("alice", "room", true);
    call.join("bob", "room", false);
    call.join("carol", "room", false);
    call.subscribe("bob", &["alice"], true);
    call.subscribe("carol", &["alice"], false);
    let (sfu, bob, carol) = (call.sfu, call.id("bob"), call.id("carol"));
    call.client_mut("bob").nack_downstream = true;
    call.client_mut("carol").nack_downstream = true;
    call.sim.set_link_one_way(sfu, bob, lossy(0.05));
    call.sim.set_link_one_way(sfu, carol, lossy(0.05));
    call.run(Duration::from_secs(3));
    call.client_mut("alice").video.as_mut().unwrap().stop_after = Some(2000);
    call.run(Duration::from_secs(25));
    let stats = call.sfu_ref().stats();
    assert!(stats.retransmitted > 0, "{stats:?}");
    let bob_r = &call.client("bob").received[&forward_ssrc(0)];
    assert!(bob_r.rtx > 0, "bob negotiated RTX and gets RTX");
    let carol_r = &call.client("carol").received[&forward_ssrc(0)];
    assert_eq!(carol_r.rtx, 0, "carol did not negotiate RTX");
    for (name, r) in [("bob", bob_r), ("carol", carol_r)] {
        let first = *r.ids.iter().next().unwrap();
        let expected = 2000 - first;
        let missing = expected - r.ids.len() as u64;
        // One NACK per gap, resends can be lost again: most are repaired.
        assert!(
            missing as f64 <= expected as f64 * 0.01,
            "{name}: {missing} of {expected} missing"
        );
    }
    // The publisher's link was clean: no NACK went upstream.
    assert_eq!(call.client("alice").nacks_received, 0);
}
