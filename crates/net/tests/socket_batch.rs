//! BatchSocket over loopback: batching, GSO/GRO, grouping, fallback,
//! pktinfo, SO_REUSEPORT and per-message send errors.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use tern_net::{BatchSocket, RecvBatch, SendBatch, SocketConfig};

const WAIT: Duration = Duration::from_millis(100);
const DEADLINE: Duration = Duration::from_secs(10);

fn cfg(gro: bool, gso: bool) -> SocketConfig {
    SocketConfig {
        gro,
        gso,
        ..SocketConfig::default()
    }
}

fn bind(addr: &str, cfg: &SocketConfig) -> BatchSocket {
    BatchSocket::bind(addr.parse().unwrap(), cfg).expect("bind")
}

/// Datagram `i` of length `len`: its index in the first two bytes, then a
/// byte pattern derived from both.
fn datagram(i: usize, len: usize) -> Vec<u8> {
    let mut d: Vec<u8> = (0..len).map(|k| (i * 7 + k * 13) as u8).collect();
    if len >= 2 {
        d[..2].copy_from_slice(&(i as u16).to_be_bytes());
    }
    d
}

/// Receives until `want` datagrams arrived (or a deadline passes); returns
/// (source, bytes) in arrival order and the largest number of kernel
/// messages any single receive returned fewer than its datagrams.
fn recv_n(
    sock: &mut BatchSocket,
    batch: &mut RecvBatch,
    want: usize,
) -> Vec<(SocketAddr, Vec<u8>)> {
    let mut got = Vec::new();
    let start = Instant::now();
    while got.len() < want && start.elapsed() < DEADLINE {
        let n = sock.recv_batch(batch, Some(WAIT)).expect("recv");
        for i in 0..n {
            let (src, data) = batch.get(i).unwrap();
            got.push((src, data.to_vec()));
        }
    }
    got
}

#[test]
fn batch_round_trip_keeps_order_and_bytes() {
    let mut tx = bind("127.0.0.1:0", &SocketConfig::default());
    let mut rx = bind("127.0.0.1:0", &SocketConfig::default());
    let to = rx.local_addr().unwrap();
    let mut send = SendBatch::new(64, 1500);
    let mut recv = RecvBatch::new(64, 1500);
    let mut got = Vec::new();
    let sizes: Vec<usize> = (0..200).map(|i| 1 + (i * 37) % 1400).collect();
    // Chunks of 50 keep well inside any default receive buffer.
    for chunk in 0..4 {
        for (i, &len) in sizes.iter().enumerate().skip(chunk * 50).take(50) {
            assert!(send.push(&datagram(i, len), to, None));
        }
        assert_eq!(tx.send_batch(&mut send).unwrap(), 50);
        assert!(send.is_empty());
        got.extend(recv_n(&mut rx, &mut recv, 50));
    }
    assert_eq!(got.len(), 200);
    let from = tx.local_addr().unwrap();
    for (i, (src, data)) in got.iter().enumerate() {
        assert_eq!(*src, from);
        assert_eq!(*data, datagram(i, sizes[i]), "datagram {i}");
    }
    let (ts, rs) = (tx.stats(), rx.stats());
    assert_eq!(ts.datagrams_sent, 200);
    assert_eq!(rs.datagrams_received, 200);
    assert!(ts.send_calls <= 8, "send calls {}", ts.send_calls);
    assert!(rs.recv_calls < 50, "recv calls {}", rs.recv_calls);
    assert_eq!(ts.syscalls, ts.send_calls);
    assert_eq!(ts.send_errors, 0);
}

fn gso_run(send: &mut SendBatch, to: SocketAddr) -> Vec<Vec<u8>> {
    let mut expect = Vec::new();
    for i in 0..41 {
        let len = if i == 40 { 300 } else { 1200 };
        let d = datagram(i, len);
        assert!(send.push(&d, to, None));
        expect.push(d);
    }
    expect
}

#[test]
fn gso_run_is_one_message_and_arrives_as_41_datagrams() {
    let mut tx = bind("127.0.0.1:0", &SocketConfig::default());
    let mut plain = bind("127.0.0.1:0", &cfg(false, true));
    let mut gro = bind("127.0.0.1:0", &cfg(true, true));
    let mut send = SendBatch::new(64, 1500);

    // To a receiver without GRO: the kernel segments the message.
    let expect = gso_run(&mut send, plain.local_addr().unwrap());
    assert_eq!(tx.send_batch(&mut send).unwrap(), 41);
    let s = tx.stats();
    assert_eq!(s.send_calls, 1);
    if tx.caps().gso {
        assert_eq!(s.gso_sends, 1);
    } else {
        assert_eq!(s.gso_sends, 0);
    }
    let mut recv = RecvBatch::new(64, 1500);
    let got = recv_n(&mut plain, &mut recv, 41);
    assert_eq!(got.len(), 41);
    for (i, (_, d)) in got.iter().enumerate() {
        assert_eq!(*d, expect[i], "segment {i}");
    }
    assert_eq!(plain.stats().datagrams_received, 41);

    // To a receiver with GRO: RecvBatch splits whatever the kernel coalesced.
    let expect = gso_run(&mut send, gro.local_addr().unwrap());
    assert_eq!(tx.send_batch(&mut send).unwrap(), 41);
    let mut recv = RecvBatch::new(8, 1500);
    let start = Instant::now();
    let mut got = Vec::new();
    let mut fewest_messages = usize::MAX;
    while got.len() < 41 && start.elapsed() < DEADLINE {
        let n = gro.recv_batch(&mut recv, Some(WAIT)).unwrap();
        if n > 0 {
            fewest_messages = fewest_messages.min(recv.message_count());
        }
        for i in 0..n {
            got.push(recv.get(i).unwrap().1.to_vec());
        }
    }
    assert_eq!(got.len(), 41);
    for (i, d) in got.iter().enumerate() {
        assert_eq!(*d, expect[i], "segment {i}");
    }
    if tx.caps().gso && gro.caps().gro {
        // Over loopback the GSO message reaches a GRO socket whole.
        assert_eq!(fewest_messages, 1, "expected one super-datagram");
    }
}

#[test]
fn gso_grouping_keeps_per_destination_order() {
    let mut tx = bind("127.0.0.1:0", &SocketConfig::default());
    let mut rxs: Vec<BatchSocket> = (0..3)
        .map(|_| bind("127.0.0.1:0", &cfg(false, false)))
        .collect();
    let dests: Vec<SocketAddr> = rxs.iter().map(|r| r.local_addr().unwrap()).collect();
    let mut send = SendBatch::new(256, 1500);
    let mut sent: Vec<Vec<Vec<u8>>> = vec![Vec::new(); 3];
    for i in 0..150 {
        let r = (i * 7 + i / 5) % 3;
        // Mostly equal lengths with a few odd ones to cut runs.
        let len = if i % 11 == 0 { 400 } else { 900 };
        let d = datagram(i, len);
        assert!(send.push(&d, dests[r], None));
        sent[r].push(d);
    }
    assert_eq!(tx.send_batch(&mut send).unwrap(), 150);
    if tx.caps().gso {
        assert!(tx.stats().gso_sends >= 3);
    }
    let mut recv = RecvBatch::new(64, 1500);
    for (r, rx) in rxs.iter_mut().enumerate() {
        let got = recv_n(rx, &mut recv, sent[r].len());
        let got: Vec<Vec<u8>> = got.into_iter().map(|(_, d)| d).collect();
        assert_eq!(got, sent[r], "destination {r}");
    }
}

#[test]
fn without_gso_everything_arrives_and_no_gso_send_happens() {
    let mut tx = bind("127.0.0.1:0", &cfg(false, false));
    assert!(!tx.caps().gso);
    let mut rx = bind("127.0.0.1:0", &cfg(true, true));
    let mut send = SendBatch::new(64, 1500);
    let expect = gso_run(&mut send, rx.local_addr().unwrap());
    assert_eq!(tx.send_batch(&mut send).unwrap(), 41);
    let s = tx.stats();
    assert_eq!(s.gso_sends, 0);
    assert_eq!(s.send_calls, 1, "41 messages still go in one sendmmsg");
    let mut recv = RecvBatch::new(64, 1500);
    let got: Vec<Vec<u8>> = recv_n(&mut rx, &mut recv, 41)
        .into_iter()
        .map(|(_, d)| d)
        .collect();
    assert_eq!(got, expect);

    // Turning GSO off on a live socket works the same way.
    let mut tx2 = bind("127.0.0.1:0", &SocketConfig::default());
    assert!(!tx2.set_gso(false));
    let expect = gso_run(&mut send, rx.local_addr().unwrap());
    assert_eq!(tx2.send_batch(&mut send).unwrap(), 41);
    assert_eq!(tx2.stats().gso_sends, 0);
    let got: Vec<Vec<u8>> = recv_n(&mut rx, &mut recv, 41)
        .into_iter()
        .map(|(_, d)| d)
        .collect();
    assert_eq!(got, expect);
}

#[test]
fn pktinfo_reports_destination_and_sets_source() {
    let pk = SocketConfig {
        pktinfo: true,
        ..SocketConfig::default()
    };
    let mut rx = bind("0.0.0.0:0", &pk);
    assert!(rx.caps().pktinfo);
    let port = rx.local_addr().unwrap().port();
    let mut tx = bind("127.0.0.1:0", &SocketConfig::default());
    let mut send = SendBatch::new(8, 1500);
    assert!(send.push(b"one", SocketAddr::from(([127, 0, 0, 1], port)), None));
    assert!(send.push(b"two", SocketAddr::from(([127, 0, 0, 2], port)), None));
    assert_eq!(tx.send_batch(&mut send).unwrap(), 2);
    let mut recv = RecvBatch::new(8, 1500);
    let mut seen = Vec::new();
    let start = Instant::now();
    while seen.len() < 2 && start.elapsed() < DEADLINE {
        let n = rx.recv_batch(&mut recv, Some(WAIT)).unwrap();
        for i in 0..n {
            let r = recv.get_mut(i).unwrap();
            seen.push((r.data.to_vec(), r.destination));
        }
    }
    seen.sort();
    assert_eq!(
        seen,
        vec![
            (b"one".to_vec(), Some(IpAddr::from([127, 0, 0, 1]))),
            (b"two".to_vec(), Some(IpAddr::from([127, 0, 0, 2]))),
        ]
    );

    // Choosing the source address per datagram.
    let mut any = bind("0.0.0.0:0", &pk);
    let mut dst = bind("127.0.0.1:0", &SocketConfig::default());
    let to = dst.local_addr().unwrap();
    assert!(send.push(b"from .2", to, Some(IpAddr::from([127, 0, 0, 2]))));
    assert!(send.push(b"from .3", to, Some(IpAddr::from([127, 0, 0, 3]))));
    assert_eq!(any.send_batch(&mut send).unwrap(), 2);
    let got = recv_n(&mut dst, &mut recv, 2);
    let port = any.local_addr().unwrap().port();
    assert_eq!(
        got,
        vec![
            (
                SocketAddr::from(([127, 0, 0, 2], port)),
                b"from .2".to_vec()
            ),
            (
                SocketAddr::from(([127, 0, 0, 3], port)),
                b"from .3".to_vec()
            ),
        ]
    );
}

#[test]
fn ipv6_round_trip_with_pktinfo() {
    let pk = SocketConfig {
        pktinfo: true,
        ..SocketConfig::default()
    };
    // Skip quietly where the machine has no IPv6 loopback.
    let Ok(mut rx) = BatchSocket::bind("[::1]:0".parse().unwrap(), &pk) else {
        return;
    };
    let mut tx = bind("[::1]:0", &SocketConfig::default());
    let to = rx.local_addr().unwrap();
    let mut send = SendBatch::new(64, 1500);
    for i in 0..20 {
        assert!(send.push(&datagram(i, 1000), to, None));
    }
    assert_eq!(tx.send_batch(&mut send).unwrap(), 20);
    let mut recv = RecvBatch::new(64, 1500);
    let mut n_got = 0;
    let start = Instant::now();
    while n_got < 20 && start.elapsed() < DEADLINE {
        let n = rx.recv_batch(&mut recv, Some(WAIT)).unwrap();
        for i in 0..n {
            let r = recv.get_mut(i).unwrap();
            assert_eq!(r.source, tx.local_addr().unwrap());
            assert_eq!(r.destination, Some("::1".parse().unwrap()));
            assert_eq!(*r.data, datagram(n_got, 1000)[..]);
            n_got += 1;
        }
    }
    assert_eq!(n_got, 20);
}

#[test]
fn reuse_port_sockets_share_the_traffic() {
    let rp = SocketConfig {
        reuse_port: true,
        gro: false,
        ..SocketConfig::default()
    };
    let mut a = bind("127.0.0.1:0", &rp);
    let addr = a.local_addr().unwrap();
    let mut b = BatchSocket::bind(addr, &rp).expect("second bind on the same port");
    assert_eq!(b.local_addr().unwrap(), addr);

    let mut senders: Vec<BatchSocket> = (0..8)
        .map(|_| bind("127.0.0.1:0", &SocketConfig::default()))
        .collect();
    let mut expect = HashSet::new();
    let mut send = SendBatch::new(16, 1500);
    for (s, tx) in senders.iter_mut().enumerate() {
        for k in 0..10 {
            let payload = format!("{s}/{k}").into_bytes();
            assert!(send.push(&payload, addr, None));
            expect.insert(payload);
        }
        assert_eq!(tx.send_batch(&mut send).unwrap(), 10);
    }
    let mut got = HashSet::new();
    let mut recv = RecvBatch::new(64, 1500);
    let start = Instant::now();
    while got.len() < expect.len() && start.elapsed() < DEADLINE {
        for sock in [&mut a, &mut b] {
            let n = sock
                .recv_batch(&mut recv, Some(Duration::from_millis(10)))
                .unwrap();
            for i in 0..n {
                assert!(got.insert(recv.get(i).unwrap().1.to_vec()), "duplicate");
            }
        }
    }
    assert_eq!(got, expect);
}

#[test]
fn send_errors_skip_one_message_and_the_batch_goes_on() {
    let mut tx = bind("127.0.0.1:0", &SocketConfig::default());
    let gso_before = tx.caps().gso;
    let mut rx = bind("127.0.0.1:0", &cfg(false, false));
    let to = rx.local_addr().unwrap();
    let closed = {
        let s = bind("127.0.0.1:0", &SocketConfig::default());
        s.local_addr().unwrap()
    };
    let mut send = SendBatch::new(64, 1500);
    let mut expect = Vec::new();
    for i in 0..30 {
        match i % 10 {
            // Nobody listens there: handed to the kernel, lost silently.
            3 => assert!(send.push(b"closed", closed, None)),
            // An IPv6 destination on an IPv4 socket: the kernel refuses it.
            5 => assert!(send.push(b"v6", "[::1]:9".parse().unwrap(), None)),
            // Port 0 is not a valid destination either.
            7 => assert!(send.push(b"port0", "127.0.0.1:0".parse().unwrap(), None)),
            _ => {
                let d = datagram(i, 600);
                assert!(send.push(&d, to, None));
                expect.push(d);
            }
        }
    }
    let n = tx
        .send_batch(&mut send)
        .expect("a bad destination must not fail the batch");
    assert!(send.is_empty());
    let s = tx.stats();
    assert!(s.send_errors >= 2, "{s:?}");
    assert_eq!(
        n as u64 + 6,
        30,
        "only the 6 refused datagrams are missing: {s:?}"
    );
    // A bad destination inside a GSO run does not turn GSO off for good.
    assert_eq!(tx.caps().gso, gso_before);
    let mut recv = RecvBatch::new(64, 1500);
    let got: Vec<Vec<u8>> = recv_n(&mut rx, &mut recv, expect.len())
        .into_iter()
        .map(|(_, d)| d)
        .collect();
    assert_eq!(got, expect);
    // Whatever ICMP error came back is no failure for a receive.
    assert_eq!(
        tx.recv_batch(&mut recv, Some(Duration::from_millis(20)))
            .unwrap(),
        0
    );
    assert_eq!(tx.recv_batch(&mut recv, Some(Duration::ZERO)).unwrap(), 0);
    // And the socket still sends.
    assert!(send.push(b"after", to, None));
    assert_eq!(tx.send_batch(&mut send).unwrap(), 1);
    assert_eq!(recv_n(&mut rx, &mut recv, 1)[0].1, b"after");
}

#[test]
fn recv_times_out_with_nothing_queued() {
    let mut rx = bind("127.0.0.1:0", &SocketConfig::default());
    let mut recv = RecvBatch::new(4, 1500);
    let start = Instant::now();
    assert_eq!(
        rx.recv_batch(&mut recv, Some(Duration::from_millis(30)))
            .unwrap(),
        0
    );
    assert!(start.elapsed() >= Duration::from_millis(20));
    assert!(recv.is_empty());
    assert_eq!(rx.recv_batch(&mut recv, Some(Duration::ZERO)).unwrap(), 0);
}

#[test]
fn batches_and_sockets_move_between_threads() {
    fn send<T: Send>() {}
    send::<BatchSocket>();
    send::<RecvBatch>();
    send::<SendBatch>();
}

#[test]
fn rx_timestamps_are_the_kernels_arrival_time_not_the_read() {
    use std::time::SystemTime;
    let mut tx = bind("127.0.0.1:0", &SocketConfig::default());
    let mut rx = bind("127.0.0.1:0", &SocketConfig::default());
    let mut plain = bind("127.0.0.1:0", &SocketConfig::default());
    assert!(!rx.caps().rx_timestamps);
    assert!(rx.set_rx_timestamps(true));
    assert!(rx.caps().rx_timestamps);
    let to = rx.local_addr().unwrap();
    let mut recv = RecvBatch::new(16, 1500);
    // The kernel turns arrival stamping on system-wide in deferred work;
    // until it runs, a datagram's stamp is the time it is read. Probe
    // until a stamp comes out earlier than its read (bounded).
    let mut live = false;
    for _ in 0..100 {
        let mut probe = SendBatch::new(1, 1500);
        assert!(probe.push(b"probe", to, None));
        tx.send_batch(&mut probe).unwrap();
        let sent = SystemTime::now();
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(rx.recv_batch(&mut recv, Some(WAIT)).unwrap(), 1);
        let t = recv
            .get_mut(0)
            .unwrap()
            .rx_time
            .expect("a receive timestamp");
        if t <= sent {
            live = true;
            break;
        }
    }
    assert!(live, "the kernel never stamped a datagram at arrival");
    let mut send = SendBatch::new(64, 1500);
    // A GSO run (one message, GRO may keep it whole) and a lone datagram.
    for i in 0..5 {
        assert!(send.push(&datagram(i, 1000), to, None));
    }
    assert!(send.push(&datagram(5, 300), to, None));
    assert!(send.push(&datagram(6, 300), plain.local_addr().unwrap(), None));
    let before = SystemTime::now();
    assert_eq!(tx.send_batch(&mut send).unwrap(), 7);
    let after = SystemTime::now();
    // Loopback delivers inside the send call; read well after it.
    std::thread::sleep(Duration::from_millis(40));
    let mut seen = 0;
    let start = Instant::now();
    while seen < 6 && start.elapsed() < DEADLINE {
        let n = rx.recv_batch(&mut recv, Some(WAIT)).unwrap();
        let read = SystemTime::now();
        for i in 0..n {
            let r = recv.get_mut(i).unwrap();
            let t = r.rx_time.expect("a receive timestamp");
            assert!(
                t >= before && t <= after,
                "{t:?} not in [{before:?}, {after:?}]"
            );
            assert!(read.duration_since(t).unwrap() >= Duration::from_millis(30));
            seen += 1;
        }
    }
    assert_eq!(seen, 6);
    // A socket without the option reports none.
    assert_eq!(plain.recv_batch(&mut recv, Some(WAIT)).unwrap(), 1);
    assert_eq!(recv.get_mut(0).unwrap().rx_time, None);
    // And turning it off stops them.
    assert!(!rx.set_rx_timestamps(false));
    let mut send = SendBatch::new(4, 1500);
    assert!(send.push(b"late", to, None));
    tx.send_batch(&mut send).unwrap();
    assert_eq!(rx.recv_batch(&mut recv, Some(WAIT)).unwrap(), 1);
    assert_eq!(recv.get_mut(0).unwrap().rx_time, None);
}
