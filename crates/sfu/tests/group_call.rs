//! A group call on tern-sim through the SFU core with Tern's own client
//! stack: ICE, DTLS and SRTP come up, media is forwarded with each
//! subscriber's SSRC and payload type, and reports flow.

mod common;

use std::time::Duration;

use common::*;

#[test]
fn two_participants_forward_video_through_dtls_srtp() {
    let mut call = Call::new(tern_sim::seed_from_env(1));
    call.join("alice", "room", true);
    call.join("bob", "room", false);
    call.subscribe("bob", &["alice"], true);
    let (a, b) = (call.id("alice"), call.id("bob"));
    let up = call.sim.run_until(Duration::from_secs(10), |s| {
        s.endpoint(a).client().publish.connected() && s.endpoint(b).client().subscribe.connected()
    });
    assert!(up, "ICE and DTLS complete on both used transports");
    assert!(call.sfu_ref().is_connected("alice", tern_sfu::Dir::Publish));
    assert!(call.sfu_ref().is_connected("bob", tern_sfu::Dir::Subscribe));
    call.run(Duration::from_secs(5));
    let bob = call.client("bob");
    let got = bob
        .received
        .get(&forward_ssrc(0))
        .expect("bob receives alice's video");
    let alice = call.client("alice");
    let sent = alice.video.as_ref().unwrap().count;
    assert!(
        got.ids.len() as u64 > sent - 20,
        "got {} of {sent}",
        got.ids.len()
    );
    assert_eq!(
        got.payload_types.iter().copied().collect::<Vec<_>>(),
        vec![SUB_VIDEO_PT]
    );
    // Rewritten sequence numbers are consecutive.
    for w in got.seqs.windows(2) {
        assert_eq!(w[1], w[0].wrapping_add(1));
    }
    assert!(bob.srs_received > 0, "sender reports reach the subscriber");
    assert!(call.sfu_ref().stats().reports_sent > 0);
    // Alice never receives her own media.
    assert!(call.client("alice").received.is_empty());
}

#[test]
fn three_participants_each_receive_the_other_two() {
    let mut call = Call::new(tern_sim::seed_from_env(2));
    for n in ["a", "b", "c"] {
        call.join(n, "room", true);
    }
    call.subscribe("a", &["b", "c"], true);
    call.subscribe("b", &["a", "c"], true);
    call.subscribe("c", &["a", "b"], true);
    call.run(Duration::from_secs(8));
    assert!(call.all_connected());
    for (me, others) in [("a", [1, 2]), ("b", [0, 2]), ("c", [0, 1])] {
        let c = call.client(me);
        for o in others {
            let r = c
                .received
                .get(&forward_ssrc(o))
                .unwrap_or_else(|| panic!("{me} gets {o}"));
            assert!(r.ids.len() > 300, "{me} got {} from {o}", r.ids.len());
        }
        assert_eq!(c.received.len(), 2);
    }
    let s = call.sfu_ref().stats();
    assert_eq!(s.foreign_ssrc_drops, 0);
    assert!(
        call.client("a").plis_received > 0,
        "new video subscribers trigger a PLI"
    );
}

#[test]
fn sfu_takes_the_dtls_client_role_when_the_subscriber_answers_passive() {
    let mut call = Call::new(tern_sim::seed_from_env(3));
    call.join("alice", "room", true);
    call.join("bob", "room", false);
    call.subscribe_with_role("bob", &["alice"], true, tern_sdp::Setup::Active);
    call.run(Duration::from_secs(6));
    assert!(call.sfu_ref().is_connected("bob", tern_sfu::Dir::Subscribe));
    let got = &call.client("bob").received[&forward_ssrc(0)];
    assert!(got.ids.len() > 200, "{}", got.ids.len());
}
