//! `tern stun-server` on loopback UDP, queried with Tern's own client code
//! (tern-stun's `BindingClient` and the `tern stun-query` command).
// Tests say on stderr when they skip for want of a peer or IPv6.
#![allow(clippy::print_stderr)]

mod common;

use common::TernProcess;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};
use tern_stun::*;

/// Drives one Binding transaction over a real socket; bounded by the
/// client's own retransmission schedule (~40 s at worst).
fn query(socket: &UdpSocket, server: SocketAddr, id: u8) -> ClientEvent {
    let local = socket.local_addr().unwrap();
    let mut client = BindingClient::new(
        local,
        server,
        TransactionId([id; 12]),
        RetransmitPolicy::default(),
    );
    let mut buf = [0u8; 2048];
    loop {
        let now = Instant::now();
        client.handle_timeout(now);
        while let Some(t) = client.poll_transmit(now, &mut buf) {
            socket.send_to(&buf[..t.len], t.destination).unwrap();
        }
        if let Some(e) = client.poll_event() {
            return e;
        }
        let wait = client
            .poll_timeout()
            .unwrap()
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1));
        socket.set_read_timeout(Some(wait)).unwrap();
        if let Ok((n, from)) = socket.recv_from(&mut buf) {
            client.handle_receive(Instant::now(), from, local, &buf[..n]);
        }
    }
}

#[test]
fn stun_server_tells_each_client_its_address() {
    let server = TernProcess::start(&["stun-server", "--bind", "127.0.0.1:0"]);
    for i in 0..8u8 {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let me = socket.local_addr().unwrap();
        assert_eq!(
            query(&socket, server.addr, i),
            ClientEvent::Mapped(me),
            "client {i}"
        );
    }
}

#[test]
fn stun_server_answers_over_ipv6_loopback() {
    let Ok(socket) = UdpSocket::bind("[::1]:0") else {
        eprintln!("skipping: no IPv6 loopback on this machine");
        return;
    };
    let server = TernProcess::start(&["stun-server", "--bind", "[::1]:0"]);
    let me = socket.local_addr().unwrap();
    assert_eq!(query(&socket, server.addr, 1), ClientEvent::Mapped(me));
}

#[test]
fn stun_server_survives_garbage_and_rejects_malformed_requests() {
    let mut server = TernProcess::start(&["stun-server", "--bind", "127.0.0.1:0"]);
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    // Junk of every length up to 600 bytes, RTP-, DTLS- and STUN-looking.
    let mut rnd = tern_testkit::xorshift64(0x1234_5678);
    for len in 0..600usize {
        let mut d: Vec<u8> = (0..len).map(|_| rnd() as u8).collect();
        if len >= 20 && len % 3 == 0 {
            // A STUN-looking header with a random body.
            d[0] = 0;
            d[1] = 1;
            d[2..4].copy_from_slice(&((len - 20) as u16).to_be_bytes());
            d[4..8].copy_from_slice(&MAGIC_COOKIE.to_be_bytes());
        }
        socket.send_to(&d, server.addr).unwrap();
    }
    // A request whose PRIORITY is 3 bytes gets 400 with the reason.
    let mut buf = [0u8; 64];
    let mut b = MessageBuilder::new(
        &mut buf,
        MessageType::new(Method::BINDING, Class::Request),
        TransactionId([0xEE; 12]),
    )
    .unwrap();
    b.add_raw(AttrType::PRIORITY, &[1, 2, 3]).unwrap();
    let n = b.finish();
    // UDP may drop datagrams when the junk above overflowed the server's
    // receive buffer, so the request is retried like a real client would,
    // a bounded number of times.
    socket
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut got_400 = false;
    let mut rbuf = [0u8; 2048];
    for _attempt in 0..20 {
        socket.send_to(&buf[..n], server.addr).unwrap();
        while let Ok((len, _)) = socket.recv_from(&mut rbuf) {
            let Ok(m) = Message::parse(&rbuf[..len]) else {
                continue;
            };
            if m.transaction_id() == TransactionId([0xEE; 12]) {
                assert_eq!(m.message_type().class, Class::ErrorResponse);
                assert_eq!(m.error_code().unwrap().code, 400);
                got_400 = true;
                break;
            }
        }
        if got_400 {
            break;
        }
    }
    assert!(got_400, "no 400 for the malformed request");
    assert!(server.is_running(), "the server died");
    // And it still answers a well-formed query.
    let fresh = UdpSocket::bind("127.0.0.1:0").unwrap();
    let me = fresh.local_addr().unwrap();
    assert_eq!(query(&fresh, server.addr, 9), ClientEvent::Mapped(me));
}

#[test]
fn stun_query_command_prints_the_mapped_address() {
    let server = TernProcess::start(&["stun-server", "--bind", "127.0.0.1:0"]);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tern"))
        .args([
            "stun-query",
            &server.addr.to_string(),
            "--bind",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let addr: SocketAddr = text
        .trim()
        .strip_prefix("mapped address: ")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(addr.ip(), server.addr.ip());
    assert_ne!(addr.port(), 0);
}
