//! Sender reports to subscribers (RFC 3550 section 6.4.1) carry wall-clock
//! NTP time from the caller's clock (`SfuConfig::wall_clock_at_start`; the
//! SFU never reads the clock) and an RTP time in the subscriber's
//! rewritten timestamp space.

mod common;

use std::time::Duration;

use common::*;

/// 2027-01-15 08:00:00.25 UTC, as time since the Unix epoch.
const WALL: Duration = Duration::from_millis(1_799_999_999_250);
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

fn ntp_secs(ntp: u64) -> f64 {
    (ntp >> 32) as f64 + (ntp & 0xFFFF_FFFF) as f64 / 4_294_967_296.0
}

fn call(seed: u64, publisher_srs: Option<u32>) -> Call {
    let mut call = Call::with_config(seed, |c| c.wall_clock_at_start = WALL);
    call.join("alice", "room", true);
    call.join("bob", "room", false);
    if let Some(skew) = publisher_srs {
        let alice = call.client_mut("alice");
        alice.pub_sr_every = Some(Duration::from_millis(500));
        alice.pub_sr_skew = skew;
    }
    call.subscribe("bob", &["alice"], true);
    call.run(Duration::from_secs(6));
    call
}

#[test]
fn sender_report_ntp_tracks_the_supplied_wall_clock() {
    let call = call(tern_sim::seed_from_env(31), None);
    let srs = &call.client("bob").srs;
    assert!(srs.len() >= 3, "{} sender reports", srs.len());
    for &(at, ssrc, ntp, rtp, last) in srs {
        assert_eq!(ssrc, forward_ssrc(0));
        // The SR was made at most a link delay before it arrived.
        let expect =
            (NTP_UNIX_OFFSET as f64) + WALL.as_secs_f64() + (at - call.epoch).as_secs_f64();
        let got = ntp_secs(ntp);
        assert!(
            (expect - 0.2..=expect).contains(&got),
            "NTP {got:.3} for a report received at wall {expect:.3}"
        );
        // Its RTP time continues the rewritten timestamps forwarded (video
        // at 90 kHz, a packet every 10 ms): within 100 ms of the last one.
        let last = last.expect("video before the report");
        let ahead = rtp.wrapping_sub(last) as i32;
        assert!(
            (-9000..=9000).contains(&ahead),
            "SR RTP {rtp}, last packet {last}"
        );
    }
}

#[test]
fn sender_report_rtp_time_follows_the_publishers_mapping() {
    // The publisher's SRs say its RTP clock runs 50 ms (4500 units) ahead
    // of the packets' arrival (as a capture clock that leads the network
    // would): the SFU's SRs carry that relation over, rewritten.
    const SKEW: u32 = 4500;
    let call = call(tern_sim::seed_from_env(32), Some(SKEW));
    let srs = &call.client("bob").srs;
    let later: Vec<_> = srs
        .iter()
        .filter(|s| s.0 - call.epoch > Duration::from_secs(3))
        .collect();
    assert!(later.len() >= 2, "{} sender reports", srs.len());
    for &&(_, _, _, rtp, last) in &later {
        let ahead = rtp.wrapping_sub(last.unwrap()) as i32;
        assert!(
            (3000..=7500).contains(&ahead),
            "SR RTP {rtp} leads the last packet {last:?} by {ahead}, want about {SKEW}"
        );
    }
}

/// The SSRCs of the sender reports `name` got after `since`.
fn sr_ssrcs_since(call: &Call, name: &str, since: std::time::Instant) -> Vec<u32> {
    let mut v: Vec<u32> = call
        .client(name)
        .srs
        .iter()
        .filter(|s| s.0 > since)
        .map(|s| s.1)
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

#[test]
fn each_subscriber_gets_reports_for_exactly_what_it_receives_as_the_room_changes() {
    // Two publishers, two subscribers of both: then the subscriber listed
    // first in every track's outputs leaves (the other's place in those
    // lists moves), then a publisher leaves.
    let mut call = Call::with_config(tern_sim::seed_from_env(33), |c| {
        c.wall_clock_at_start = WALL
    });
    call.join("alice", "room", true);
    call.join("carol", "room", true);
    call.join("dave", "room", false);
    call.join("bob", "room", false);
    call.subscribe("dave", &["alice", "carol"], true);
    call.subscribe("bob", &["alice", "carol"], true);
    let (a, c) = (forward_ssrc(0), forward_ssrc(1));
    call.run(Duration::from_secs(4));
    let t0 = call.epoch + Duration::from_secs(2);
    assert_eq!(sr_ssrcs_since(&call, "dave", t0), [a, c]);
    assert_eq!(sr_ssrcs_since(&call, "bob", t0), [a, c]);

    call.sfu().remove_participant("dave");
    let t1 = call.sim.now() + Duration::from_millis(100);
    call.run(Duration::from_secs(3));
    assert_eq!(sr_ssrcs_since(&call, "bob", t1), [a, c]);
    let n = call.client("bob").srs.iter().filter(|s| s.0 > t1).count();
    assert!(n >= 4, "{n} sender reports to bob after dave left");

    call.sfu().remove_participant("carol");
    let t2 = call.sim.now() + Duration::from_millis(100);
    call.run(Duration::from_secs(3));
    assert_eq!(sr_ssrcs_since(&call, "bob", t2), [a]);
}
