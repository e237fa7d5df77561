//! recv_batch + send_batch allocate nothing per datagram once warm, with
//! GSO/GRO on and off.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tern_net::{BatchSocket, RecvBatch, SendBatch, SocketConfig};

#[global_allocator]
static A: tern_alloc_count::CountingAlloc = tern_alloc_count::CountingAlloc;

const ROUNDS: usize = 100;
const PER_ROUND: usize = 100;

/// Sends `PER_ROUND` datagrams and receives them back, checking bytes
/// without allocating. Returns the datagrams received.
fn round(
    tx: &mut BatchSocket,
    rx: &mut BatchSocket,
    to: SocketAddr,
    send: &mut SendBatch,
    recv: &mut RecvBatch,
    round: usize,
) -> usize {
    for i in 0..PER_ROUND {
        let buf = send.next_buf().expect("room");
        let tag = (round * PER_ROUND + i) as u32;
        buf[..4].copy_from_slice(&tag.to_be_bytes());
        buf[4..1000].fill(i as u8);
        send.commit(1000, to, None);
    }
    assert_eq!(tx.send_batch(send).expect("send"), PER_ROUND);
    let mut got = 0;
    let start = Instant::now();
    while got < PER_ROUND && start.elapsed() < Duration::from_secs(10) {
        let n = rx
            .recv_batch(recv, Some(Duration::from_millis(200)))
            .expect("recv");
        for k in 0..n {
            let r = recv.get_mut(k).expect("datagram");
            let tag = u32::from_be_bytes([r.data[0], r.data[1], r.data[2], r.data[3]]);
            assert_eq!(tag as usize, round * PER_ROUND + got);
            assert_eq!(r.data.len(), 1000);
            got += 1;
        }
    }
    got
}

fn run(gso: bool) {
    let cfg = SocketConfig {
        gso,
        gro: gso,
        ..SocketConfig::default()
    };
    let mut tx = BatchSocket::bind("127.0.0.1:0".parse().unwrap(), &cfg).unwrap();
    let mut rx = BatchSocket::bind("127.0.0.1:0".parse().unwrap(), &cfg).unwrap();
    let to = rx.local_addr().unwrap();
    let mut send = SendBatch::new(PER_ROUND, 1500);
    let mut recv = RecvBatch::new(64, 1500);
    // Warm-up: the receive batch allocates its storage on first use.
    let (n, warm) =
        tern_alloc_count::count(|| round(&mut tx, &mut rx, to, &mut send, &mut recv, 0));
    assert_eq!(n, PER_ROUND);
    // Proves the counter sees this thread: the first receive allocates.
    assert!(warm > 0);
    let (total, allocs) = tern_alloc_count::count(|| {
        let mut total = 0;
        for r in 1..=ROUNDS {
            total += round(&mut tx, &mut rx, to, &mut send, &mut recv, r);
        }
        total
    });
    assert_eq!(total, ROUNDS * PER_ROUND);
    assert_eq!(allocs, 0, "allocations for {total} datagrams (gso {gso})");
    let s = tx.stats();
    if tx.caps().gso {
        assert!(s.gso_sends > 0);
    } else {
        assert_eq!(s.gso_sends, 0);
    }
}

#[test]
fn zero_allocations_with_gso_and_gro() {
    run(true);
}

#[test]
fn zero_allocations_without_gso_or_gro() {
    run(false);
}
