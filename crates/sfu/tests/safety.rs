//! Safety rules: SSRC hijack attempts change nothing, off-path datagrams
//! are dropped before parsing, a participant that vanishes is dropped at
//! consent expiry with all its state, feedback is honoured only for SSRCs
//! the subscriber receives.

mod common;

use std::time::Duration;

use common::*;
use tern_rtp::rtcp::{ByeBuilder, PliBuilder, RembBitrate, RembBuilder};
use tern_rtp::Ssrc;
use tern_sfu::Event;

const MALLORY_MARK: u64 = 0xDEAD_0000_0000_0000;

fn call_with_mallory(seed: u64) -> Call {
    let mut call = Call::new(seed);
    call.join("alice", "room", true);
    call.join("bob", "room", false);
    call.join("mallory", "room", true);
    call.subscribe("bob", &["alice", "mallory"], true);
    call.subscribe("mallory", &["alice"], true);
    call.run(Duration::from_secs(4));
    assert!(call.all_connected() || call.client("bob").subscribe.connected());
    call
}

#[test]
fn ssrc_hijack_attempts_change_nothing() {
    let mut call = call_with_mallory(tern_sim::seed_from_env(11));
    let alice_ssrc = call.client("alice").video.as_ref().unwrap().ssrc;
    let bob_sub_ssrc = forward_ssrc(call.index("bob"));
    let before = call.sfu_ref().stats();
    // Mallory sends RTP with Alice's SSRC on her own (authenticated)
    // publish transport, and with an SSRC nobody announced.
    for i in 0..50u64 {
        let p = Call::rtp_with(alice_ssrc, 40_000 + i as u16, MALLORY_MARK | i);
        call.client_mut("mallory").inject.push_back(p);
        let q = Call::rtp_with(0x0BAD_0001, i as u16, MALLORY_MARK | 0x100 | i);
        call.client_mut("mallory").inject.push_back(q);
    }
    // A BYE for Alice's SSRC (and a forwarded one).
    let bye = Call::write_rtcp(&[&ByeBuilder {
        ssrcs: &[Ssrc(alice_ssrc), Ssrc(forward_ssrc(0)), Ssrc(bob_sub_ssrc)],
        reason: None,
    }]);
    call.client_mut("mallory")
        .inject_rtcp_sub
        .push_back(bye.clone());
    call.run(Duration::from_millis(50));
    // The publish transport carries the BYE too.
    call.client_mut("mallory").publish.send_rtcp(&bye);
    call.run(Duration::from_secs(3));
    let after = call.sfu_ref().stats();
    assert_eq!(after.foreign_ssrc_drops - before.foreign_ssrc_drops, 100);
    assert!(after.foreign_bye_ignored - before.foreign_bye_ignored >= 3);
    let bob = call.client("bob");
    let from_alice = &bob.received[&forward_ssrc(0)];
    assert!(from_alice.ids.iter().all(|id| id & MALLORY_MARK == 0));
    // Alice's stream to Bob stayed one continuous sequence: no re-base.
    for w in from_alice.seqs.windows(2) {
        assert_eq!(w[1], w[0].wrapping_add(1));
    }
    // Mallory's own stream reaches Bob, untouched by her attempts.
    let from_mallory = &bob.received[&forward_ssrc(call.index("mallory"))];
    assert!(from_mallory.ids.iter().all(|id| id & MALLORY_MARK == 0));
    assert!(from_mallory.ids.len() > 300);
}

#[test]
fn datagrams_from_unknown_tuples_are_dropped_before_parsing() {
    let mut call = call_with_mallory(tern_sim::seed_from_env(12));
    let before = call.sfu_ref().stats();
    let evil: std::net::SocketAddr = "10.9.9.9:4000".parse().unwrap();
    // RTP, RTCP, DTLS, garbage; then STUN with an unknown ufrag.
    for d in [
        Call::rtp_with(0x1000, 1, 1),
        vec![0x80, 200, 0, 1, 0, 0, 0, 1],
        vec![22, 254, 253, 0, 0],
        vec![0xff; 30],
    ] {
        call.sim.inject(evil, sfu_addr(), &d);
    }
    // A spoofed packet from Alice's real tuple fails SRTP authentication.
    let alice_pub = call.client("alice").publish.local;
    let alice_ssrc = call.client("alice").video.as_ref().unwrap().ssrc;
    let mut spoof = Call::rtp_with(alice_ssrc, 1, MALLORY_MARK);
    spoof.extend_from_slice(&[0u8; 16]);
    call.sim.inject(alice_pub, sfu_addr(), &spoof);
    call.run(Duration::from_secs(1));
    let after = call.sfu_ref().stats();
    assert_eq!(after.unknown_tuple_drops - before.unknown_tuple_drops, 4);
    assert_eq!(after.srtp_failures - before.srtp_failures, 1);
    let bob = call.client("bob");
    assert!(bob.received[&forward_ssrc(0)]
        .ids
        .iter()
        .all(|id| id & MALLORY_MARK == 0));
}

#[test]
fn vanished_participant_is_dropped_after_consent_expiry() {
    let mut call = call_with_mallory(tern_sim::seed_from_env(13));
    let full = call.sfu_ref().state_size();
    let bob = call.id("bob");
    call.sim.set_up(bob, false);
    call.run(Duration::from_secs(20));
    assert!(call.sfu_ref().has_participant("bob"), "not before 30 s");
    call.run(Duration::from_secs(15));
    assert!(!call.sfu_ref().has_participant("bob"));
    assert!(call.events().contains(&Event::ConsentExpired {
        participant: "bob".into()
    }));
    assert!(call.sfu_ref().state_size() < full);
    assert_eq!(call.sfu_ref().participant_count(), 2);
    // The others carry on: Mallory still gets Alice.
    let n = call.client("mallory").received[&forward_ssrc(0)].ids.len();
    call.run(Duration::from_secs(2));
    assert!(call.client("mallory").received[&forward_ssrc(0)].ids.len() > n + 100);
    // Signaling removing it afterwards is harmless.
    tern_signal::MediaPlane::remove_participant(call.sfu(), "bob");
    assert_eq!(call.sfu_ref().participant_count(), 2);
}

#[test]
fn leave_frees_all_per_participant_state() {
    let mut call = Call::new(tern_sim::seed_from_env(14));
    call.join("alice", "room", true);
    let alone = call.sfu_ref().state_size();
    call.join("bob", "room", true);
    call.subscribe("bob", &["alice"], true);
    call.subscribe("alice", &["bob"], true);
    call.run(Duration::from_secs(3));
    call.sfu().remove_participant("bob");
    call.subscribe("alice", &[], true);
    call.run(Duration::from_millis(100));
    assert_eq!(
        call.sfu_ref().state_size(),
        alone + 2,
        "only alice's two bound tuples were added"
    );
    call.sfu().remove_participant("alice");
    assert_eq!(call.sfu_ref().state_size(), 0);
    assert_eq!(call.sfu_ref().room_count(), 0);
}

#[test]
fn feedback_counts_only_for_received_ssrcs_and_pli_is_throttled() {
    let mut call = call_with_mallory(tern_sim::seed_from_env(15));
    let alice_plis = call.client("alice").plis_received;
    let mallory_plis = call.client("mallory").plis_received;
    let mallory_i = call.index("mallory");
    let before = call.sfu_ref().stats();
    // Bob asks for many keyframes of Alice's track at once, and sends REMB.
    for _ in 0..10 {
        let pli = Call::write_rtcp(&[&PliBuilder {
            sender_ssrc: Ssrc(1),
            media_ssrc: Ssrc(forward_ssrc(0)),
        }]);
        call.client_mut("bob").inject_rtcp_sub.push_back(pli);
    }
    let remb = Call::write_rtcp(&[&RembBuilder {
        sender_ssrc: Ssrc(1),
        bitrate: RembBitrate::from_bps(100_000),
        ssrcs: &[Ssrc(forward_ssrc(0))],
    }]);
    call.client_mut("bob").inject_rtcp_sub.push_back(remb);
    // Mallory asks for a keyframe of her own forwarded track, which she
    // does not receive.
    let pli = Call::write_rtcp(&[&PliBuilder {
        sender_ssrc: Ssrc(1),
        media_ssrc: Ssrc(forward_ssrc(mallory_i)),
    }]);
    call.client_mut("mallory").inject_rtcp_sub.push_back(pli);
    call.run(Duration::from_millis(200));
    let mid = call.client("alice").plis_received - alice_plis;
    assert!(mid <= 1, "at most one PLI inside 500 ms, got {mid}");
    call.run(Duration::from_secs(1));
    let total = call.client("alice").plis_received - alice_plis;
    assert!(
        (1..=2).contains(&total),
        "coalesced into at most two: {total}"
    );
    let after = call.sfu_ref().stats();
    assert!(after.keyframe_requests_throttled - before.keyframe_requests_throttled >= 8);
    assert_eq!(
        after.congestion_feedback_consumed - before.congestion_feedback_consumed,
        1
    );
    assert!(after.foreign_feedback_ignored > before.foreign_feedback_ignored);
    assert_eq!(
        call.client("mallory").plis_received,
        mallory_plis,
        "mallory does not receive her own track, so her PLI for it is ignored"
    );
}
