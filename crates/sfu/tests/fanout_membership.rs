//! A subscriber leaving while a fan-out is half done must not cost the
//! others packets. The fan-out of a run of packets goes subscriber by
//! subscriber and remembers where it stopped as an index; removing an
//! earlier subscriber shifts everyone after it down by one, and the
//! remembered index used to skip the subscriber that moved into the
//! finished part (and start the next one mid-run). Unsubscribing from a
//! track goes through the same removal.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::*;

#[test]
fn leaving_mid_fanout_costs_the_remaining_subscribers_nothing() {
    let mut call = Call::new(tern_sim::seed_from_env(47));
    call.join("alice", "room", true);
    let subs = ["bob", "carol", "dave", "erin"];
    for s in subs {
        call.join(s, "room", false);
        call.subscribe(s, &["alice"], true);
    }
    call.run(Duration::from_secs(3));
    let mut video = call.take_over_video("alice");
    let local = video.local;
    let addr: HashMap<std::net::SocketAddr, &str> = subs
        .iter()
        .map(|s| (call.client(s).subscribe.local, *s))
        .collect();
    // Eight packets, fed before any is drained: one fan-out job.
    const RUN: usize = 8;
    let mut packets: Vec<Vec<u8>> = (0..RUN)
        .map(|i| call.next_video_packet(&mut video, 7_000 + i as u64))
        .collect();
    let now = call.sim.now() + Duration::from_millis(1);
    let sfu = call.sfu();
    for p in &mut packets {
        sfu.handle_receive(now, local, sfu_addr(), p);
    }
    let mut got: HashMap<&str, usize> = HashMap::new();
    let mut out = [0u8; 1500];
    // Bob's eight, Carol's eight and three of Dave's.
    for _ in 0..2 * RUN + 3 {
        let t = sfu
            .poll_transmit(&mut out)
            .expect("the fan-out is not done");
        *got.entry(addr[&t.destination]).or_default() += 1;
    }
    assert_eq!(got.get("dave"), Some(&3));
    // Bob leaves, done with the run: everyone after him moves down one
    // place, and the fan-out goes on with Dave where it was.
    sfu.remove_participant("bob");
    for _ in 0..2 {
        let t = sfu
            .poll_transmit(&mut out)
            .expect("the fan-out is not done");
        *got.entry(addr[&t.destination]).or_default() += 1;
    }
    assert_eq!(got.get("dave"), Some(&5), "{got:?}");
    // Dave leaves in the middle of his part: Erin gets the whole run.
    sfu.remove_participant("dave");
    while let Some(t) = sfu.poll_transmit(&mut out) {
        if let Some(name) = addr.get(&t.destination) {
            *got.entry(name).or_default() += 1;
        }
    }
    assert_eq!(got.get("carol"), Some(&RUN), "{got:?}");
    assert_eq!(got.get("erin"), Some(&RUN), "{got:?}");
    assert_eq!(got.get("dave"), Some(&5), "nothing after leaving: {got:?}");
    assert_eq!(got.get("bob"), Some(&RUN), "{got:?}");
}
