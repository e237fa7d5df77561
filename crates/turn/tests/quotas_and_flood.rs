//! State bounds: no per-source state before authentication, rate-limited
//! unauthenticated answers, quotas across refresh and re-allocation, and
//! expiry freeing relay ports. Also time-limited (REST) credentials.
mod common;

use common::*;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;
use tern_stun::{Attribute, Class, Message, MessageBuilder, MessageType, Method, TransactionId};
use tern_turn::{rest_password, StateSize};

fn unauth_allocate(tid: u32) -> Vec<u8> {
    let mut buf = vec![0u8; 64];
    let mut t = [0u8; 12];
    t[..4].copy_from_slice(&tid.to_be_bytes());
    let mut b = MessageBuilder::new(
        &mut buf,
        MessageType::new(Method::ALLOCATE, Class::Request),
        TransactionId(t),
    )
    .unwrap();
    b.add(&Attribute::RequestedTransport(17)).unwrap();
    let n = b.finish();
    buf.truncate(n);
    buf
}

#[test]
fn flood_of_unauthenticated_allocates_from_spoofed_sources_leaves_no_state() {
    let now = Instant::now();
    let mut s = server(config(), now);
    let listen = sa(LISTEN);
    let mut answered = 0;
    for i in 0..10_000u32 {
        // Spoofed sources all over 20.0.0.0/8, one request each, all in the
        // same second.
        let src = SocketAddr::new(
            IpAddr::V4(Ipv4Addr::from(
                0x1400_0000 | (i.wrapping_mul(2_654_435_761) & 0x00FF_FFFF),
            )),
            (1024 + i % 60_000) as u16,
        );
        s.handle_receive(now, src, listen, &unauth_allocate(i));
        for o in drain(&mut s) {
            let m = Message::parse(&o.bytes).unwrap();
            assert_eq!(m.error_code().unwrap().code, 401);
            assert!(m.nonce().is_some());
            answered += 1;
        }
        assert_eq!(
            s.state_size(),
            StateSize::default(),
            "state after request {i}"
        );
    }
    // The global cap on unauthenticated answers per second holds.
    assert!(
        answered <= s.config().unauth_per_second as usize,
        "{answered}"
    );
    assert!(s.stats().rate_limited >= 10_000 - answered as u64);
    assert_eq!(s.poll_timeout(), None, "no timers either");
}

#[test]
fn one_source_is_rate_limited_per_second() {
    let now = Instant::now();
    let mut s = server(config(), now);
    let src = sa("192.0.2.44:5000");
    let mut answered = 0;
    for i in 0..100 {
        s.handle_receive(now, src, sa(LISTEN), &unauth_allocate(i));
        answered += drain(&mut s).len();
    }
    assert_eq!(
        answered,
        usize::from(s.config().unauth_per_source_per_second)
    );
    // The next second it is answered again.
    s.handle_receive(now + secs(1), src, sa(LISTEN), &unauth_allocate(1000));
    assert_eq!(drain(&mut s).len(), 1);
}

#[test]
fn per_user_quota_holds_across_refresh_and_reallocation() {
    let now = Instant::now();
    let mut cfg = config();
    cfg.max_allocations_per_user = 2;
    let mut s = server(cfg, now);
    let mut c1 = Client::new("192.0.2.10:1001", "alice", "wonderland");
    let mut c2 = Client::new("192.0.2.10:1002", "alice", "wonderland");
    let mut c3 = Client::new("192.0.2.10:1003", "alice", "wonderland");
    c1.allocate(&mut s, now);
    c2.allocate(&mut s, now);
    let r = c3.request(
        &mut s,
        now,
        Method::ALLOCATE,
        &[Attribute::RequestedTransport(17)],
    );
    assert_eq!(r.code(), Some(486));
    // Refreshing does not count again, and the quota still holds after.
    for _ in 0..5 {
        assert!(c1.refresh(&mut s, now, 600).ok());
        assert!(c2.refresh(&mut s, now, 600).ok());
    }
    let r = c3.request(
        &mut s,
        now,
        Method::ALLOCATE,
        &[Attribute::RequestedTransport(17)],
    );
    assert_eq!(r.code(), Some(486));
    // Another user is not affected.
    let mut b = Client::new("192.0.2.11:1001", "bob", "builder");
    b.allocate(&mut s, now);
    // Deleting one frees exactly one slot; re-allocating takes it back.
    assert!(c1.refresh(&mut s, now, 0).ok());
    c3.allocate(&mut s, now);
    let r = c1.request(
        &mut s,
        now,
        Method::ALLOCATE,
        &[Attribute::RequestedTransport(17)],
    );
    assert_eq!(r.code(), Some(486));
    assert_eq!(s.state_size().allocations, 3);
    assert_eq!(s.state_size().users, 2);
    // Expiry frees slots too.
    let t = now + secs(601);
    s.handle_timeout(t);
    assert_eq!(s.state_size().allocations, 0);
    assert_eq!(s.state_size().users, 0);
    c1.allocate(&mut s, t);
    c2.allocate(&mut s, t);
}

#[test]
fn total_quota_is_508() {
    let now = Instant::now();
    let mut cfg = config();
    cfg.max_allocations = 3;
    let mut s = server(cfg, now);
    for p in 0..3 {
        Client::new(&format!("192.0.2.10:{}", 2000 + p), "alice", "wonderland")
            .allocate(&mut s, now);
    }
    let mut b = Client::new("192.0.2.11:1001", "bob", "builder");
    let r = b.request(
        &mut s,
        now,
        Method::ALLOCATE,
        &[Attribute::RequestedTransport(17)],
    );
    assert_eq!(r.code(), Some(508));
}

#[test]
fn permission_and_channel_caps_are_508() {
    let now = Instant::now();
    let mut cfg = config();
    cfg.max_permissions = 2;
    cfg.max_channels = 1;
    let mut s = server(cfg, now);
    let mut c = Client::new("192.0.2.10:40000", "alice", "wonderland");
    c.allocate(&mut s, now);
    assert!(c.permit(&mut s, now, sa("203.0.113.1:1")).ok());
    assert!(c.permit(&mut s, now, sa("203.0.113.2:1")).ok());
    assert!(
        c.permit(&mut s, now, sa("203.0.113.2:9")).ok(),
        "same IP refreshes"
    );
    assert_eq!(c.permit(&mut s, now, sa("203.0.113.3:1")).code(), Some(508));
    assert!(c.bind(&mut s, now, 0x4000, sa("203.0.113.1:1")).ok());
    assert_eq!(
        c.bind(&mut s, now, 0x4001, sa("203.0.113.2:1")).code(),
        Some(508)
    );
}

#[test]
fn expired_allocations_free_their_ports() {
    let now = Instant::now();
    let mut cfg = config();
    cfg.relay_ports = (50000, 50001);
    let mut s = server(cfg, now);
    let mut a = Client::new("192.0.2.10:1", "alice", "wonderland");
    let mut b = Client::new("192.0.2.10:2", "alice", "wonderland");
    let ra = a.allocate(&mut s, now);
    let rb = b.allocate(&mut s, now);
    assert_ne!(ra, rb);
    assert_eq!(s.env().open.len(), 2);
    let mut c = Client::new("192.0.2.10:3", "bob", "builder");
    let r = c.request(
        &mut s,
        now,
        Method::ALLOCATE,
        &[Attribute::RequestedTransport(17)],
    );
    assert_eq!(r.code(), Some(508), "port range exhausted");
    // Keep one alive; let the other expire at its deadline.
    let t = now + secs(300);
    assert!(a.refresh(&mut s, t, 600).ok());
    let deadline = s.poll_timeout().unwrap();
    assert!(deadline <= now + secs(600));
    let t = now + secs(600);
    s.handle_timeout(t);
    assert_eq!(s.stats().expired, 1);
    assert_eq!(s.env().open.iter().copied().collect::<Vec<_>>(), vec![ra]);
    assert_eq!(c.allocate(&mut s, t), rb, "the freed port is reused");
    // Data to the expired allocation's old relay now belongs to c; nothing
    // goes to b.
    s.handle_receive(t, sa("203.0.113.1:1"), rb, b"x");
    assert!(drain(&mut s).is_empty());
}

#[test]
fn relay_ports_taken_by_others_are_skipped() {
    let now = Instant::now();
    let mut cfg = config();
    cfg.relay_ports = (50000, 50003);
    let mut env = tern_turn::SeededEnv::new(3);
    for p in [50000, 50001, 50002] {
        env.busy
            .insert(SocketAddr::new(RELAY_IP.parse().unwrap(), p));
    }
    let mut s = tern_turn::TurnServer::new(cfg, env, now, 1_700_000_000);
    let mut a = Client::new("192.0.2.10:1", "alice", "wonderland");
    assert_eq!(a.allocate(&mut s, now).port(), 50003);
}

fn rest_config() -> tern_turn::ServerConfig {
    let mut cfg = config();
    cfg.shared_secret = Some(b"north wind".to_vec());
    cfg.max_allocations_per_user = 1;
    cfg
}

#[test]
fn time_limited_credentials_are_accepted_until_they_expire() {
    let now = Instant::now();
    let mut s = server(rest_config(), now);
    let user = "1700000600:carol";
    let pass = rest_password(b"north wind", user);
    let mut c = Client::new("192.0.2.10:1", user, &pass);
    c.allocate(&mut s, now);
    // A different expiry for the same user does not evade the quota.
    let user2 = "1700000700:carol";
    let mut d = Client::new("192.0.2.10:2", user2, &rest_password(b"north wind", user2));
    let r = d.request(
        &mut s,
        now,
        Method::ALLOCATE,
        &[Attribute::RequestedTransport(17)],
    );
    assert_eq!(r.code(), Some(486));
    // Wrong secret.
    let mut e = Client::new(
        "192.0.2.10:3",
        "1700000600:dave",
        &rest_password(b"south", "1700000600:dave"),
    );
    let r = e.request(
        &mut s,
        now,
        Method::ALLOCATE,
        &[Attribute::RequestedTransport(17)],
    );
    assert_eq!(r.code(), Some(401));
    // After its expiry the credential is void, even for refreshes.
    let t = now + secs(601);
    let r = c.refresh(&mut s, t, 600);
    assert_eq!(r.code(), Some(401));
    // Too far in the future (beyond max_credential_ttl) is refused.
    let far = format!("{}:erin", 1_700_000_000u64 + 48 * 3600);
    let mut f = Client::new("192.0.2.10:4", &far, &rest_password(b"north wind", &far));
    let r = f.request(
        &mut s,
        now,
        Method::ALLOCATE,
        &[Attribute::RequestedTransport(17)],
    );
    assert_eq!(r.code(), Some(401));
}

#[test]
fn static_and_time_limited_users_have_separate_quotas() {
    let now = Instant::now();
    let mut cfg = rest_config();
    cfg.users.push(("r:carol".into(), "x".into()));
    cfg.users.push(("carol".into(), "y".into()));
    let mut s = server(cfg, now);
    let user = "1700000600:carol";
    Client::new("192.0.2.10:1", user, &rest_password(b"north wind", user)).allocate(&mut s, now);
    Client::new("192.0.2.10:2", "r:carol", "x").allocate(&mut s, now);
    Client::new("192.0.2.10:3", "carol", "y").allocate(&mut s, now);
    assert_eq!(s.state_size().users, 3);
}
