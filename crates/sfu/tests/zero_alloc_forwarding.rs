//! The per-packet path allocates nothing in steady state: 10,000 SRTP
//! packets from one publisher, each decrypted in place, stored once and
//! re-encrypted for three subscribers straight into the caller's buffer.

mod common;

use std::time::Duration;

use common::*;

#[global_allocator]
static ALLOC: tern_alloc_count::CountingAlloc = tern_alloc_count::CountingAlloc;

#[test]
fn forwarding_10000_packets_to_three_subscribers_allocates_nothing() {
    let mut call = Call::new(tern_sim::seed_from_env(31));
    call.join("alice", "room", true);
    for s in ["bob", "carol", "dave"] {
        call.join(s, "room", false);
        call.subscribe(s, &["alice"], true);
    }
    call.run(Duration::from_secs(3));
    // Stop Alice's own sender; the test feeds the SFU directly from now on.
    let mut video = call.take_over_video("alice");
    let local = video.local;
    let before = call.sfu_ref().stats();
    // Pre-protect the packets with Alice's SRTP context (allocations here
    // are the test's, not the SFU's).
    let total = 10_500usize;
    let packets: Vec<Vec<u8>> = (0..total)
        .map(|i| call.next_video_packet(&mut video, 1_000_000 + i as u64))
        .collect();
    let mut now = call.sim.now();
    let sfu = call.sfu();
    let mut inbuf = [0u8; 1500];
    let mut out = [0u8; 1500];
    let mut sent = 0u64;
    let mut feed = |sfu: &mut tern_sfu::Sfu, p: &[u8], now: std::time::Instant| {
        inbuf[..p.len()].copy_from_slice(p);
        sfu.handle_receive(now, local, sfu_addr(), &mut inbuf[..p.len()]);
        let mut n = 0;
        while let Some(t) = sfu.poll_transmit(&mut out) {
            assert!(t.len > 0);
            n += 1;
        }
        n
    };
    // Warm-up: 500 packets.
    for p in &packets[..500] {
        now += Duration::from_micros(500);
        sent += feed(sfu, p, now);
    }
    let (forwarded, allocs) = tern_alloc_count::count(|| {
        let mut n = 0u64;
        for p in &packets[500..] {
            now += Duration::from_micros(500);
            n += feed(sfu, p, now);
        }
        n
    });
    sent += forwarded;
    assert_eq!(forwarded, 30_000, "10,000 packets to three subscribers");
    assert_eq!(allocs, 0, "no allocation on the forward path");
    let after = sfu.stats();
    assert_eq!(after.forwarded - before.forwarded, sent);
}
