//! Allocate, permissions, Send/Data and ChannelData both ways, and the
//! Allocate/Refresh/ChannelBind error paths (RFC 8656 §7–§12).
mod common;

use common::*;
use std::time::Instant;
use tern_stun::{Attribute, Class, Message, Method};
use tern_turn::ChannelData;

const PEER: &str = "203.0.113.50:7000";

#[test]
fn send_and_data_indications_round_trip_through_a_permission() {
    let now = Instant::now();
    let mut s = server(config(), now);
    let mut c = Client::new("192.0.2.10:40000", "alice", "wonderland");
    let relay = c.allocate(&mut s, now);
    assert_eq!(relay.ip().to_string(), RELAY_IP);
    assert!(s.env().open.contains(&relay));

    // No permission yet: a Send is dropped, and so is the peer's datagram.
    let send = c.send_indication(sa(PEER), b"early");
    s.handle_receive(now, c.addr, c.server, &send);
    assert!(drain(&mut s).is_empty());
    s.handle_receive(now, sa(PEER), relay, b"unsolicited");
    assert!(drain(&mut s).is_empty());

    assert!(c.permit(&mut s, now, sa(PEER)).ok());
    s.handle_receive(now, c.addr, c.server, &send);
    let out = drain(&mut s);
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].t.source, out[0].t.destination), (relay, sa(PEER)));
    assert_eq!(out[0].bytes, b"early");

    // The permission is per IP: another port of the same peer gets through.
    s.handle_receive(now, sa("203.0.113.50:7001"), relay, b"hello back");
    let out = drain(&mut s);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].t.destination, c.addr);
    let m = Message::parse(&out[0].bytes).unwrap();
    assert_eq!(m.message_type().method, Method::DATA);
    assert_eq!(m.message_type().class, Class::Indication);
    assert_eq!(m.xor_peer_address(), Some(sa("203.0.113.50:7001")));
    assert_eq!(m.data(), Some(&b"hello back"[..]));
}

#[test]
fn channel_data_round_trips_after_channel_bind() {
    let now = Instant::now();
    let mut s = server(config(), now);
    let mut c = Client::new("192.0.2.10:40000", "alice", "wonderland");
    let relay = c.allocate(&mut s, now);
    assert!(c.bind(&mut s, now, 0x4001, sa(PEER)).ok());
    let mut buf = [0u8; 64];
    let n = ChannelData::encode(0x4001, b"over the channel", &mut buf).unwrap();
    s.handle_receive(now, c.addr, c.server, &buf[..n]);
    let out = drain(&mut s);
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].t.source, out[0].t.destination), (relay, sa(PEER)));
    assert_eq!(out[0].bytes, b"over the channel");

    s.handle_receive(now, sa(PEER), relay, b"reply");
    let out = drain(&mut s);
    assert_eq!(out.len(), 1);
    let cd = ChannelData::parse(&out[0].bytes).unwrap();
    assert_eq!((cd.number(), cd.data()), (0x4001, &b"reply"[..]));

    // An unbound channel number is dropped.
    let n = ChannelData::encode(0x4002, b"x", &mut buf).unwrap();
    s.handle_receive(now, c.addr, c.server, &buf[..n]);
    assert!(drain(&mut s).is_empty());
}

#[test]
fn channel_bind_conflicts_and_range_are_400() {
    let now = Instant::now();
    let mut s = server(config(), now);
    let mut c = Client::new("192.0.2.10:40000", "alice", "wonderland");
    c.allocate(&mut s, now);
    assert!(c.bind(&mut s, now, 0x4001, sa(PEER)).ok());
    // Re-binding the same pair refreshes it.
    assert!(c.bind(&mut s, now, 0x4001, sa(PEER)).ok());
    assert_eq!(
        c.bind(&mut s, now, 0x4001, sa("203.0.113.51:1")).code(),
        Some(400)
    );
    assert_eq!(c.bind(&mut s, now, 0x4002, sa(PEER)).code(), Some(400));
    assert_eq!(
        c.bind(&mut s, now, 0x3FFF, sa("203.0.113.52:1")).code(),
        Some(400)
    );
    assert_eq!(
        c.bind(&mut s, now, 0x5000, sa("203.0.113.52:1")).code(),
        Some(400)
    );
}

#[test]
fn channel_expires_and_its_number_cools_down() {
    let now = Instant::now();
    let mut s = server(config(), now);
    let mut c = Client::new("192.0.2.10:40000", "alice", "wonderland");
    let relay = c.allocate(&mut s, now);
    assert!(c.bind(&mut s, now, 0x4001, sa(PEER)).ok());
    assert!(c.refresh(&mut s, now, 3600).ok());
    // After 10 minutes the channel is gone: data falls back to ... nothing,
    // since the permission (5 min) has expired too.
    let t = now + secs(601);
    s.handle_timeout(t);
    s.handle_receive(t, sa(PEER), relay, b"late");
    assert!(drain(&mut s).is_empty());
    // Within the 5-minute cooldown the number cannot go to another peer.
    assert_eq!(
        c.bind(&mut s, t, 0x4001, sa("203.0.113.99:9")).code(),
        Some(400)
    );
    let t2 = now + secs(601 + 300);
    s.handle_timeout(t2);
    assert!(c.refresh(&mut s, t2, 3600).ok());
    assert!(c.bind(&mut s, t2, 0x4001, sa("203.0.113.99:9")).ok());
}

#[test]
fn permissions_expire_after_five_minutes() {
    let now = Instant::now();
    let mut s = server(config(), now);
    let mut c = Client::new("192.0.2.10:40000", "alice", "wonderland");
    let relay = c.allocate(&mut s, now);
    assert!(c.permit(&mut s, now, sa(PEER)).ok());
    let t = now + secs(299);
    s.handle_receive(t, sa(PEER), relay, b"in time");
    assert_eq!(drain(&mut s).len(), 1);
    let t = now + secs(300);
    s.handle_timeout(t);
    s.handle_receive(t, sa(PEER), relay, b"too late");
    assert!(drain(&mut s).is_empty());
}

#[test]
fn allocate_errors_are_clear_4xx() {
    let now = Instant::now();
    let mut s = server(config(), now);
    let mut c = Client::new("192.0.2.10:40000", "alice", "wonderland");
    let r = c.request(&mut s, now, Method::ALLOCATE, &[]);
    assert_eq!(r.code(), Some(400), "no REQUESTED-TRANSPORT");
    let r = c.request(
        &mut s,
        now,
        Method::ALLOCATE,
        &[Attribute::RequestedTransport(6)],
    );
    assert_eq!(r.code(), Some(442));
    let r = c.request(
        &mut s,
        now,
        Method::ALLOCATE,
        &[Attribute::RequestedTransport(17), Attribute::DontFragment],
    );
    assert_eq!(r.code(), Some(420));
    let listed: Vec<_> = r.msg().unknown_attributes().unwrap().iter().collect();
    assert_eq!(listed, vec![tern_stun::AttrType::DONT_FRAGMENT]);
    let r = c.request(
        &mut s,
        now,
        Method::ALLOCATE,
        &[
            Attribute::RequestedTransport(17),
            Attribute::RequestedAddressFamily(2),
        ],
    );
    assert_eq!(r.code(), Some(440), "no IPv6 relay configured");
    let r = c.request(
        &mut s,
        now,
        Method::ALLOCATE,
        &[
            Attribute::RequestedTransport(17),
            Attribute::EvenPort(false),
            Attribute::ReservationToken(&[1; 8]),
        ],
    );
    assert_eq!(r.code(), Some(400));
    let r = c.request(
        &mut s,
        now,
        Method::ALLOCATE,
        &[
            Attribute::RequestedTransport(17),
            Attribute::ReservationToken(&[1; 8]),
        ],
    );
    assert_eq!(r.code(), Some(508), "unknown reservation");
    let r = c.request(&mut s, now, Method::REFRESH, &[]);
    assert_eq!(r.code(), Some(437), "refresh without allocation");
    let r = c.permit(&mut s, now, sa(PEER));
    assert_eq!(r.code(), Some(437));
    assert_eq!(s.state_size().allocations, 0);
    assert!(s.env().open.is_empty());
}

#[test]
fn dont_fragment_is_honoured_when_supported() {
    let now = Instant::now();
    let mut cfg = config();
    cfg.support_dont_fragment = true;
    let mut s = server(cfg, now);
    let mut c = Client::new("192.0.2.10:40000", "alice", "wonderland");
    let r = c.request(
        &mut s,
        now,
        Method::ALLOCATE,
        &[Attribute::RequestedTransport(17), Attribute::DontFragment],
    );
    assert!(r.ok());
    let relay = r.msg().xor_relayed_address().unwrap();
    assert!(c.bind(&mut s, now, 0x4000, sa(PEER)).ok());
    let mut buf = [0u8; 16];
    let n = ChannelData::encode(0x4000, b"df", &mut buf).unwrap();
    s.handle_receive(now, c.addr, c.server, &buf[..n]);
    let out = drain(&mut s);
    assert_eq!(out[0].t.source, relay);
    assert!(out[0].t.dont_fragment);
}

#[test]
fn even_port_and_reservation_token() {
    let now = Instant::now();
    let mut s = server(config(), now);
    let mut a = Client::new("192.0.2.10:40000", "alice", "wonderland");
    let r = a.request(
        &mut s,
        now,
        Method::ALLOCATE,
        &[Attribute::RequestedTransport(17), Attribute::EvenPort(true)],
    );
    assert!(r.ok());
    let m = r.msg();
    let relay = m.xor_relayed_address().unwrap();
    assert_eq!(relay.port() % 2, 0);
    let token = *m.reservation_token().expect("RESERVATION-TOKEN");
    assert_eq!(s.state_size().reservations, 1);
    // The next port is held for the token.
    let mut b = Client::new("192.0.2.11:40000", "bob", "builder");
    let r = b.request(
        &mut s,
        now,
        Method::ALLOCATE,
        &[
            Attribute::RequestedTransport(17),
            Attribute::ReservationToken(&token),
        ],
    );
    assert!(r.ok(), "{:?}", r.msg().error_code());
    assert_eq!(
        r.msg().xor_relayed_address().unwrap().port(),
        relay.port() + 1
    );
    assert_eq!(s.state_size().reservations, 0);
    // A token works once.
    let mut c = Client::new("192.0.2.12:40000", "bob", "builder");
    let r = c.request(
        &mut s,
        now,
        Method::ALLOCATE,
        &[
            Attribute::RequestedTransport(17),
            Attribute::ReservationToken(&token),
        ],
    );
    assert_eq!(r.code(), Some(508));
}

#[test]
fn unused_reservations_expire_and_close_their_port() {
    let now = Instant::now();
    let mut s = server(config(), now);
    let mut a = Client::new("192.0.2.10:40000", "alice", "wonderland");
    let r = a.request(
        &mut s,
        now,
        Method::ALLOCATE,
        &[Attribute::RequestedTransport(17), Attribute::EvenPort(true)],
    );
    let relay = r.msg().xor_relayed_address().unwrap();
    assert_eq!(s.env().open.len(), 2);
    let t = s.poll_timeout().unwrap();
    assert!(t <= now + secs(30));
    s.handle_timeout(now + secs(30));
    assert_eq!(s.state_size().reservations, 0);
    assert_eq!(
        s.env().open.iter().copied().collect::<Vec<_>>(),
        vec![relay]
    );
}

#[test]
fn second_allocate_on_a_five_tuple_is_437_and_retransmission_succeeds() {
    let now = Instant::now();
    let mut s = server(config(), now);
    let mut c = Client::new("192.0.2.10:40000", "alice", "wonderland");
    c.allocate(&mut s, now);
    let r = c.request(
        &mut s,
        now,
        Method::ALLOCATE,
        &[Attribute::RequestedTransport(17)],
    );
    assert_eq!(r.code(), Some(437));

    // A retransmitted Allocate (same transaction id) gets success again.
    let mut d = Client::new("192.0.2.20:40000", "alice", "wonderland");
    let _ = d.request(&mut s, now, Method::REFRESH, &[]); // learn a nonce
    let tid = tern_stun::TransactionId([42; 12]);
    let req = d.build(Method::ALLOCATE, &[Attribute::RequestedTransport(17)], tid);
    let first = d.send_raw(&mut s, now, &req).unwrap();
    let again = d.send_raw(&mut s, now, &req).unwrap();
    assert!(first.ok() && again.ok());
    assert_eq!(
        first.msg().xor_relayed_address(),
        again.msg().xor_relayed_address()
    );
}

#[test]
fn another_user_on_the_same_five_tuple_is_441() {
    let now = Instant::now();
    let mut s = server(config(), now);
    let mut c = Client::new("192.0.2.10:40000", "alice", "wonderland");
    c.allocate(&mut s, now);
    let mut mallory = Client::new("192.0.2.10:40000", "bob", "builder");
    let r = mallory.refresh(&mut s, now, 0);
    assert_eq!(r.code(), Some(441));
    assert_eq!(s.state_size().allocations, 1);
}

#[test]
fn wrong_password_and_unknown_user_are_401_without_state() {
    let now = Instant::now();
    let mut s = server(config(), now);
    for (u, p) in [("alice", "wrong"), ("nobody", "x")] {
        let mut c = Client::new("192.0.2.10:40000", u, p);
        let r = c.request(
            &mut s,
            now,
            Method::ALLOCATE,
            &[Attribute::RequestedTransport(17)],
        );
        assert_eq!(r.code(), Some(401));
        assert!(r.msg().realm().is_some() && r.msg().nonce().is_some());
    }
    assert_eq!(s.state_size().allocations, 0);
}

#[test]
fn stale_nonce_gets_438_and_a_fresh_nonce_works() {
    let now = Instant::now();
    let mut s = server(config(), now);
    let mut c = Client::new("192.0.2.10:40000", "alice", "wonderland");
    c.allocate(&mut s, now);
    assert!(c.refresh(&mut s, now, 3600).ok());
    let old = c.nonce.clone();
    let later = now + secs(601);
    assert!(c.refresh(&mut s, later, 600).ok());
    assert_ne!(c.nonce, old, "438 handed out a fresh nonce");
    // A nonce issued to another source is not accepted here.
    let mut d = Client::new("192.0.2.11:40000", "alice", "wonderland");
    d.nonce = c.nonce.clone();
    let tid = tern_stun::TransactionId([5; 12]);
    let req = d.build(Method::ALLOCATE, &[Attribute::RequestedTransport(17)], tid);
    assert_eq!(d.send_raw(&mut s, later, &req).unwrap().code(), Some(438));
}

#[test]
fn refresh_zero_deletes_and_frees_the_port() {
    let now = Instant::now();
    let mut s = server(config(), now);
    let mut c = Client::new("192.0.2.10:40000", "alice", "wonderland");
    let relay = c.allocate(&mut s, now);
    let r = c.refresh(&mut s, now, 0);
    assert!(r.ok());
    assert_eq!(r.msg().lifetime(), Some(0));
    assert!(!s.env().open.contains(&relay));
    assert_eq!(s.state_size(), tern_turn::StateSize::default());
}

#[test]
fn lifetimes_are_clamped() {
    let now = Instant::now();
    let mut s = server(config(), now);
    let mut c = Client::new("192.0.2.10:40000", "alice", "wonderland");
    let r = c.request(
        &mut s,
        now,
        Method::ALLOCATE,
        &[
            Attribute::RequestedTransport(17),
            Attribute::Lifetime(1_000_000),
        ],
    );
    assert_eq!(r.msg().lifetime(), Some(3600));
    assert_eq!(c.refresh(&mut s, now, 5).msg().lifetime(), Some(600));
}

#[test]
fn binding_requests_are_answered() {
    let now = Instant::now();
    let mut s = server(config(), now);
    let mut c = Client::new("192.0.2.10:40000", "alice", "wonderland");
    let req = c.build(Method::BINDING, &[], tern_stun::TransactionId([3; 12]));
    let r = c.send_raw(&mut s, now, &req).unwrap();
    assert!(r.ok());
    assert_eq!(r.msg().xor_mapped_address(), Some(c.addr));
}

#[test]
fn ipv6_allocations_relay_ipv6_peers() {
    let now = Instant::now();
    let mut cfg = config();
    cfg.relay_v6 = Some("2001:db8::1".parse().unwrap());
    let mut s = server(cfg, now);
    let mut c = Client::new("192.0.2.10:40000", "alice", "wonderland");
    let r = c.request(
        &mut s,
        now,
        Method::ALLOCATE,
        &[
            Attribute::RequestedTransport(17),
            Attribute::RequestedAddressFamily(2),
        ],
    );
    assert!(r.ok());
    let relay = r.msg().xor_relayed_address().unwrap();
    assert!(relay.is_ipv6());
    assert_eq!(c.permit(&mut s, now, sa(PEER)).code(), Some(443));
    let peer6 = sa("[2001:db8:99::5]:9");
    assert!(c.permit(&mut s, now, peer6).ok());
    let r = c.request(
        &mut s,
        now,
        Method::REFRESH,
        &[Attribute::RequestedAddressFamily(1)],
    );
    assert_eq!(r.code(), Some(443));
    s.handle_receive(now, peer6, relay, b"v6");
    assert_eq!(drain(&mut s).len(), 1);
}

#[test]
fn rfc5766_channel_range_only_when_enabled() {
    let now = Instant::now();
    let mut s = server(config(), now);
    let mut c = Client::new("192.0.2.10:40000", "alice", "wonderland");
    c.allocate(&mut s, now);
    assert_eq!(c.bind(&mut s, now, 0x7000, sa(PEER)).code(), Some(400));

    let mut cfg = config();
    cfg.rfc5766_channel_numbers = true;
    let mut s = server(cfg, now);
    let mut c = Client::new("192.0.2.10:40000", "alice", "wonderland");
    let relay = c.allocate(&mut s, now);
    assert!(c.bind(&mut s, now, 0x7000, sa(PEER)).ok());
    assert_eq!(
        c.bind(&mut s, now, 0x8000, sa("203.0.113.9:9")).code(),
        Some(400)
    );
    let mut buf = [0u8; 16];
    let n = ChannelData::encode(0x7000, b"old", &mut buf).unwrap();
    s.handle_receive(now, c.addr, c.server, &buf[..n]);
    assert_eq!(drain(&mut s)[0].t.source, relay);
    s.handle_receive(now, sa(PEER), relay, b"back");
    let out = drain(&mut s);
    let cd = ChannelData::parse_up_to(&out[0].bytes, tern_turn::CHANNEL_MAX_RFC5766).unwrap();
    assert_eq!(cd.number(), 0x7000);
}
