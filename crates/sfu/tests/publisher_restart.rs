//! A publisher restarting its source (new SSRC, sequence number and
//! timestamp) is invisible to subscribers: their sequence numbers and
//! timestamps continue.

mod common;

use std::time::Duration;

use common::*;

#[test]
fn sequence_and_timestamp_continue_across_publisher_restart() {
    let mut call = Call::new(tern_sim::seed_from_env(21));
    call.join("alice", "room", true);
    call.join("bob", "room", false);
    call.subscribe("bob", &["alice"], true);
    call.run(Duration::from_secs(3));
    let n_before = call.client("bob").received[&forward_ssrc(0)].seqs.len();
    assert!(n_before > 100);
    call.republish("alice", 0x7777_0000);
    call.run(Duration::from_secs(3));
    let r = &call.client("bob").received[&forward_ssrc(0)];
    assert!(
        r.seqs.len() > n_before + 100,
        "media flows after the restart"
    );
    for w in r.seqs.windows(2) {
        assert_eq!(
            w[1],
            w[0].wrapping_add(1),
            "no gap or jump in sequence numbers"
        );
    }
    for (i, w) in r.timestamps.windows(2).enumerate() {
        let d = w[1].wrapping_sub(w[0]);
        assert!(
            (1..=90_000).contains(&d),
            "timestamps move forward by less than a second at {i}: {d}"
        );
    }
    assert!(call.client("alice").plis_received >= 1);
}

#[test]
fn late_subscriber_starts_with_a_keyframe_request_and_fresh_numbering() {
    let mut call = Call::new(tern_sim::seed_from_env(22));
    call.join("alice", "room", true);
    call.join("bob", "room", false);
    call.join("carol", "room", false);
    call.subscribe("bob", &["alice"], true);
    call.run(Duration::from_secs(3));
    let plis = call.client("alice").plis_received;
    call.subscribe("carol", &["alice"], true);
    call.run(Duration::from_secs(2));
    assert!(
        call.client("alice").plis_received > plis,
        "carol's start asked for a keyframe"
    );
    let c = &call.client("carol").received[&forward_ssrc(0)];
    assert!(c.seqs.len() > 100);
    for w in c.seqs.windows(2) {
        assert_eq!(w[1], w[0].wrapping_add(1));
    }
}
