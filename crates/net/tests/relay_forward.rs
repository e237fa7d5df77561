//! The baseline relays forward a publisher's datagrams to every subscriber.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use tern_net::{
    run_relay, BatchSocket, FanOut, RecvBatch, RelayMode, RelayStats, SendBatch, SocketConfig,
};

const DEADLINE: Duration = Duration::from_secs(20);

fn relay_forwards_to_all_subscribers(mode: RelayMode) {
    let relay = BatchSocket::bind("127.0.0.1:0".parse().unwrap(), &mode.socket_config()).unwrap();
    let relay_addr = relay.local_addr().unwrap();
    let mut publisher =
        BatchSocket::bind("127.0.0.1:0".parse().unwrap(), &SocketConfig::default()).unwrap();
    let mut subs: Vec<BatchSocket> = (0..3)
        .map(|_| {
            BatchSocket::bind("127.0.0.1:0".parse().unwrap(), &SocketConfig::default()).unwrap()
        })
        .collect();
    let sub_addrs: Vec<SocketAddr> = subs.iter().map(|s| s.local_addr().unwrap()).collect();
    let stranger = BatchSocket::bind("127.0.0.1:0".parse().unwrap(), &SocketConfig::default());
    let mut table = FanOut::new();
    table.insert(publisher.local_addr().unwrap(), sub_addrs.clone());
    assert_eq!(table.get(&relay_addr), &[] as &[SocketAddr]);

    let stop = Arc::new(AtomicBool::new(false));
    let stats = Arc::new(RelayStats::new());
    let handle = {
        let (table, stop, stats) = (Arc::new(table), stop.clone(), stats.clone());
        thread::spawn(move || run_relay(relay, table, mode, stop, stats))
    };

    // Unknown sources are dropped.
    let mut send = SendBatch::new(64, 1500);
    let mut stranger = stranger.unwrap();
    assert!(send.push(b"nobody", relay_addr, None));
    stranger.send_batch(&mut send).unwrap();

    let mut recv = RecvBatch::new(64, 1500);
    let mut got = vec![Vec::new(); 3];
    for chunk in 0..10 {
        for k in 0..30 {
            let i = chunk * 30 + k;
            let mut d = vec![i as u8; 1000];
            d[..2].copy_from_slice(&(i as u16).to_be_bytes());
            assert!(send.push(&d, relay_addr, None));
        }
        assert_eq!(publisher.send_batch(&mut send).unwrap(), 30);
        for (s, sub) in subs.iter_mut().enumerate() {
            let start = Instant::now();
            while got[s].len() < (chunk + 1) * 30 && start.elapsed() < DEADLINE {
                let n = sub
                    .recv_batch(&mut recv, Some(Duration::from_millis(100)))
                    .unwrap();
                for j in 0..n {
                    let (from, data) = recv.get(j).unwrap();
                    assert_eq!(from, relay_addr);
                    got[s].push(data.to_vec());
                }
            }
        }
    }
    for (s, g) in got.iter().enumerate() {
        assert_eq!(g.len(), 300, "subscriber {s}");
        for (i, d) in g.iter().enumerate() {
            assert_eq!(
                u16::from_be_bytes([d[0], d[1]]) as usize,
                i,
                "subscriber {s}"
            );
            assert!(d[2..].iter().all(|&b| b == i as u8));
            assert_eq!(d.len(), 1000);
        }
    }
    // Stats are published after the send that delivered them.
    let start = Instant::now();
    while stats.snapshot().forwarded < 900 && start.elapsed() < DEADLINE {
        thread::yield_now();
    }
    stop.store(true, Ordering::Relaxed);
    handle.join().unwrap();
    let snap = stats.snapshot();
    assert_eq!(snap.forwarded, 900, "{snap:?}");
    assert_eq!(snap.received, 301, "{snap:?}");
    assert_eq!(snap.errors, 0);
    assert!(snap.syscalls > 0 && snap.syscalls < 900, "{snap:?}");
    assert!(snap.cpu_ns > 0);
}

#[test]
fn naive_relay_forwards_to_all_subscribers() {
    relay_forwards_to_all_subscribers(RelayMode::Naive);
}

#[test]
fn tuned_relay_forwards_to_all_subscribers() {
    relay_forwards_to_all_subscribers(RelayMode::Tuned);
}
