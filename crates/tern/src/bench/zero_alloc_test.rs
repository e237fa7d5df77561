//! The forwarding loop allocates nothing per packet in steady state:
//! 100,000 SRTP packets from one publisher to 10 subscribers through a
//! tern-net worker running the SFU over loopback (recvmmsg, decrypt once,
//! rewrite and re-encrypt per subscriber into send slots, sendmmsg/GSO).
//! The binary's global allocator is tern-alloc-count's counting allocator
//! (main.rs); the worker reads its own thread's count.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use tern_dtls::Certificate;
use tern_net::{BatchSocket, RecvBatch, SendBatch, SfuPlane, SocketConfig, Worker, WorkerConfig};
use tern_rtp::{classify, PacketKind};
use tern_sfu::{Sfu, SfuConfig};

use super::session::{build_room, Room};

const SUBSCRIBERS: usize = 10;
const WARM_UP: u64 = 5_000;
const PACKETS: u64 = 100_000;
const BURST: u64 = 25;

fn forwarded(worker: &Worker<SfuPlane>) -> u64 {
    worker.with_sfu(|s| s.stats().forwarded).unwrap()
}

/// Sends `count` packets in bursts, each burst only once the SFU has
/// forwarded the previous one to every subscriber (no loss from
/// overrunning a socket buffer on a slow or loaded machine), draining the
/// subscribers' sockets as it goes. Returns RTP packets the subscribers
/// received.
pub(super) fn push(worker: &Worker<SfuPlane>, room: &mut Room, count: u64) -> u64 {
    let dst = worker.local_addr();
    let mut out = SendBatch::new(BURST as usize, 2048);
    let mut input = RecvBatch::new(64, 2048);
    let mut received = 0;
    let mut target = forwarded(worker);
    let mut sent = 0;
    while sent < count {
        let p = &mut room.publishers[0];
        for i in 0..BURST.min(count - sent) {
            let buf = out.next_buf().unwrap();
            let n = p.write_packet(buf, 1200, false, i + 1 == BURST, 0).unwrap();
            out.commit(n, dst, None);
        }
        let n = out.len() as u64;
        p.ep.socket.send_batch(&mut out).unwrap();
        sent += n;
        target += n * room.subscribers.len() as u64;
        let deadline = Instant::now() + Duration::from_secs(30);
        while forwarded(worker) < target {
            assert!(Instant::now() < deadline, "the SFU stopped forwarding");
            std::thread::yield_now();
        }
        for s in &mut room.subscribers {
            while let Ok(n @ 1..) = s.socket.recv_batch(&mut input, Some(Duration::ZERO)) {
                received += (0..n)
                    .filter(|&i| {
                        input
                            .get(i)
                            .is_some_and(|(_, d)| classify(d) == PacketKind::Rtp)
                    })
                    .count() as u64;
            }
        }
    }
    received
}

/// A tern-net worker running a fresh SFU on a loopback socket with the
/// bench's forwarding buffers, and a room on it of one publisher and
/// `subscribers` subscribers, connected.
pub(super) fn worker_with_room(name: &str, subscribers: usize) -> (Worker<SfuPlane>, Room) {
    let socket = BatchSocket::bind(
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
        &super::forwarding_socket_config(SocketConfig::default()),
    )
    .unwrap();
    let addr = socket.local_addr().unwrap();
    let cert = Certificate::generate().unwrap();
    let sfu = Sfu::new(SfuConfig::new(addr, cert, 7), Instant::now());
    let worker = Worker::spawn(
        socket,
        SfuPlane::new(sfu, |_| {}),
        WorkerConfig::new(name, addr),
    )
    .unwrap();
    let client_cert = Certificate::generate().unwrap();
    let room = build_room(&worker, 0, 0, 1, subscribers, &client_cert).unwrap();
    (worker, room)
}

#[test]
fn forwarding_100000_packets_to_10_subscribers_through_the_worker_allocates_nothing() {
    let (worker, mut room) = worker_with_room("zero-alloc", SUBSCRIBERS);

    let before_warm = worker.snapshot().unwrap();
    // Warm-up: packets, and long enough for every periodic task (reports
    // every second) to have run once.
    let warm_until = Instant::now() + Duration::from_millis(2500);
    push(&worker, &mut room, WARM_UP);
    while Instant::now() < warm_until {
        push(&worker, &mut room, BURST);
    }
    let start = worker.snapshot().unwrap();
    let fwd_start = forwarded(&worker);
    let received = push(&worker, &mut room, PACKETS);
    let end = worker.snapshot().unwrap();
    let fwd = forwarded(&worker) - fwd_start;

    assert_eq!(
        fwd,
        PACKETS * SUBSCRIBERS as u64,
        "every packet to every subscriber"
    );
    // Loopback may drop under a burst only if a receive buffer filled; the
    // flow control above keeps that from happening in practice.
    assert!(
        received >= fwd * 99 / 100,
        "subscribers received {received} of {fwd}"
    );
    assert!(
        start.allocations > before_warm.allocations,
        "the counter counts (setup and warm-up allocate on the worker)"
    );
    assert_eq!(
        end.allocations - start.allocations,
        0,
        "no heap allocation on the worker for {PACKETS} packets to {SUBSCRIBERS} subscribers"
    );
    // Batching: far fewer syscalls than datagrams.
    let syscalls = end.socket.syscalls - start.socket.syscalls;
    assert!(
        syscalls < fwd / 2,
        "{syscalls} syscalls for {fwd} datagrams"
    );
    room.remove(&worker);
}
