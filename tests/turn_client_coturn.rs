//! Tern's TURN client (tern-ice `TurnClient`) against a real coturn
//! `turnserver` on loopback: allocation with long-term credentials, a
//! permission, data both ways as Send/Data indications and then as
//! ChannelData once the channel is bound, a refresh, and deallocation.
// Tests say on stderr when they skip for want of a peer.
#![allow(clippy::print_stderr)]

mod common;

use common::{peers_required, which};
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tern_ice::{Received, SeededRng, TurnClient, TurnClientConfig, TurnEvent, TurnState};
use tern_stun::{Class, Message, MessageBuilder, MessageType, Method, TransactionId};

/// coturn's `turnserver` with a temporary config; killed (and its
/// directory removed) on drop.
struct Coturn {
    child: Child,
    dir: PathBuf,
    addr: SocketAddr,
}

impl Drop for Coturn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("free port")
        .port()
}

fn start_coturn(bin: &Path) -> Coturn {
    let port = free_port();
    let dir = std::env::temp_dir().join(format!("tern-coturn-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let relay_min = 20_000 + (port % 20_000);
    let conf = format!(
        "listening-port={port}\nrelay-ip=127.0.0.1\nmin-port={relay_min}\nmax-port={}\n\
         lt-cred-mech\nuser=tern:relay-secret\nrealm=coturn.test\nno-tls\nno-dtls\n\
         pidfile={}\nuserdb={}\nno-stdout-log\nlog-file={}\n",
        relay_min + 200,
        dir.join("turn.pid").display(),
        dir.join("turndb").display(),
        dir.join("turn.log").display(),
    );
    let conf_path = dir.join("turnserver.conf");
    std::fs::write(&conf_path, conf).expect("write config");
    let child = Command::new(bin)
        .arg("-c")
        .arg(&conf_path)
        .args([
            "--no-cli",
            "--listening-ip",
            "127.0.0.1",
            "--allow-loopback-peers",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start turnserver");
    let c = Coturn {
        child,
        dir,
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
    };
    wait_ready(c.addr);
    c
}

/// Waits (bounded) until the server answers a Binding request.
fn wait_ready(server: SocketAddr) {
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    sock.set_read_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    let mut buf = [0u8; 64];
    let n = MessageBuilder::new(
        &mut buf,
        MessageType::new(Method::BINDING, Class::Request),
        TransactionId([9; 12]),
    )
    .expect("builder")
    .finish();
    let req = buf[..n].to_vec();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut rx = [0u8; 512];
    while Instant::now() < deadline {
        let _ = sock.send_to(&req, server);
        if let Ok((n, _)) = sock.recv_from(&mut rx) {
            if Message::parse(&rx[..n]).is_ok() {
                return;
            }
        }
    }
    panic!("coturn did not answer on {server} within 10 s");
}

/// Drives the client on its socket until `done` or the deadline; returns
/// relayed data received meanwhile.
fn pump(
    client: &mut TurnClient,
    sock: &UdpSocket,
    within: Duration,
    mut done: impl FnMut(&TurnClient, &[TurnEvent], &[(SocketAddr, Vec<u8>)]) -> bool,
    events: &mut Vec<TurnEvent>,
) -> Vec<(SocketAddr, Vec<u8>)> {
    let deadline = Instant::now() + within;
    let mut got = Vec::new();
    let mut buf = vec![0u8; 2048];
    loop {
        let now = Instant::now();
        if client.poll_timeout().is_some_and(|t| t <= now) {
            client.handle_timeout(now);
        }
        while let Some(t) = client.poll_transmit(now, &mut buf) {
            sock.send_to(&buf[..t.len], t.destination).expect("send");
        }
        while let Some(e) = client.poll_event() {
            events.push(e);
        }
        if done(client, events, &got) {
            return got;
        }
        assert!(
            Instant::now() < deadline,
            "timed out; events {events:?}, state {:?}",
            client.state()
        );
        sock.set_read_timeout(Some(Duration::from_millis(20)))
            .expect("timeout");
        if let Ok((n, from)) = sock.recv_from(&mut buf) {
            let data = buf[..n].to_vec();
            if let Received::Data { peer, data } =
                client.handle_receive(Instant::now(), from, &data)
            {
                got.push((peer, data.to_vec()));
            }
        }
    }
}

#[test]
fn tern_turn_client_relays_channeldata_through_coturn_turnserver() {
    relay_through_coturn(true);
}

#[test]
fn tern_turn_client_relays_send_and_data_indications_through_coturn_turnserver() {
    relay_through_coturn(false);
}

fn relay_through_coturn(use_channels: bool) {
    let Some(bin) = which("turnserver") else {
        assert!(!peers_required(), "turnserver is missing (install coturn)");
        eprintln!("skipping: turnserver not installed (apt-get install coturn)");
        return;
    };
    let server = start_coturn(&bin);
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind client");
    let local = sock.local_addr().expect("local");
    let peer = UdpSocket::bind("127.0.0.1:0").expect("bind peer");
    peer.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let peer_addr = peer.local_addr().expect("peer addr");

    let mut cfg = TurnClientConfig::new(server.addr, local, "tern", "relay-secret");
    cfg.lifetime = Duration::from_secs(120);
    cfg.use_channels = use_channels;
    let mut client = TurnClient::new(cfg, Instant::now(), Box::new(SeededRng::new(42)));
    let mut events = Vec::new();
    pump(
        &mut client,
        &sock,
        Duration::from_secs(10),
        |c, _, _| c.state() != TurnState::Allocating,
        &mut events,
    );
    let Some(TurnEvent::Allocated {
        relayed, mapped, ..
    }) = events.first().copied()
    else {
        panic!("no allocation: {events:?}");
    };
    assert_eq!(relayed.ip(), local.ip());
    assert_eq!(mapped, Some(local));

    // Permission (and, with channels, a channel) for the peer.
    client.permit(Instant::now(), peer_addr).expect("permit");
    pump(
        &mut client,
        &sock,
        Duration::from_secs(10),
        |c, _, _| {
            c.has_permission(peer_addr.ip()) && (!use_channels || c.channel(peer_addr).is_some())
        },
        &mut events,
    );
    assert_eq!(
        events
            .iter()
            .any(|e| matches!(e, TurnEvent::ChannelBound(p, _) if *p == peer_addr)),
        use_channels
    );
    let mut buf = vec![0u8; 2048];
    let mut rx = [0u8; 2048];
    for round in 0..3u8 {
        let label = [b'd', b'a', b't', b'a', round];
        let t = client
            .send_to(Instant::now(), peer_addr, &label, &mut buf)
            .expect("send_to");
        // The framing on the wire: ChannelData (first byte 0x40-0x4F) or a
        // STUN Send indication.
        assert_eq!(buf[0] & 0xC0 == 0x40, use_channels);
        if !use_channels {
            let m = Message::parse(&buf[..t.len]).expect("a Send indication");
            assert_eq!(
                m.message_type(),
                MessageType::new(Method::SEND, Class::Indication)
            );
        }
        sock.send_to(&buf[..t.len], t.destination).expect("send");
        let (n, from) = peer.recv_from(&mut rx).expect("peer receives");
        assert_eq!(&rx[..n], &label);
        assert_eq!(from, relayed, "the peer sees the relayed address");
        peer.send_to(&[b'e', round], relayed).expect("peer replies");
        let got = pump(
            &mut client,
            &sock,
            Duration::from_secs(10),
            |_, _, got| !got.is_empty(),
            &mut events,
        );
        assert_eq!(got, vec![(peer_addr, vec![b'e', round])]);
    }

    client.close(Instant::now());
    pump(
        &mut client,
        &sock,
        Duration::from_secs(10),
        |c, _, _| c.state() == TurnState::Closed,
        &mut events,
    );
    assert_eq!(events.last(), Some(&TurnEvent::Closed));
}

#[test]
fn tern_turn_client_reports_401_from_coturn_for_a_wrong_password() {
    let Some(bin) = which("turnserver") else {
        assert!(!peers_required(), "turnserver is missing (install coturn)");
        eprintln!("skipping: turnserver not installed (apt-get install coturn)");
        return;
    };
    let server = start_coturn(&bin);
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind client");
    let cfg = TurnClientConfig::new(
        server.addr,
        sock.local_addr().expect("local"),
        "tern",
        "wrong",
    );
    let mut client = TurnClient::new(cfg, Instant::now(), Box::new(SeededRng::new(7)));
    let mut events = Vec::new();
    pump(
        &mut client,
        &sock,
        Duration::from_secs(10),
        |c, _, _| c.state() == TurnState::Closed,
        &mut events,
    );
    assert!(
        events.contains(&TurnEvent::AllocationFailed(401)),
        "{events:?}"
    );
}
