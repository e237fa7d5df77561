//! The TURN client against hostile or broken input: truncations and bit
//! flips of real server answers, answers from elsewhere, forged answers
//! without integrity. Nothing panics and nothing forged changes state.
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tern_ice::{Received, SeededRng, TurnClient, TurnClientConfig, TurnEvent, TurnState};
use tern_stun::{Attribute, Class, MessageBuilder, MessageType, Method};
use tern_turn::{SeededEnv, ServerConfig, TurnServer};

const SERVER: &str = "198.51.100.1:3478";
const LOCAL: &str = "192.0.2.7:5000";

fn a(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn server(now: Instant) -> TurnServer<SeededEnv> {
    let mut cfg = ServerConfig::new("r", a(SERVER).ip());
    cfg.users.push(("u".into(), "p".into()));
    TurnServer::new(cfg, SeededEnv::new(3), now, 1_700_000_000)
}

fn client(now: Instant) -> TurnClient {
    TurnClient::new(
        TurnClientConfig::new(a(SERVER), a(LOCAL), "u", "p"),
        now,
        Box::new(SeededRng::new(11)),
    )
}

/// Runs client and server against each other; returns every datagram the
/// server sent to the client.
fn exchange(c: &mut TurnClient, s: &mut TurnServer<SeededEnv>, now: Instant) -> Vec<Vec<u8>> {
    let mut seen = Vec::new();
    let mut buf = vec![0u8; 2048];
    for _ in 0..10 {
        let mut any = false;
        while let Some(t) = c.poll_transmit(now, &mut buf) {
            s.handle_receive(now, t.source, t.destination, &buf[..t.len]);
            any = true;
        }
        while let Some(t) = s.poll_transmit(&mut buf) {
            let d = buf[..t.len].to_vec();
            c.handle_receive(now, t.source, &d);
            seen.push(d);
            any = true;
        }
        if !any {
            break;
        }
    }
    seen
}

#[test]
fn truncated_and_flipped_server_answers_never_panic() {
    let now = Instant::now();
    let mut s = server(now);
    let mut c = client(now);
    let answers = exchange(&mut c, &mut s, now);
    assert_eq!(c.state(), TurnState::Allocated);
    assert!(answers.len() >= 2, "401 and the success");
    for ans in &answers {
        for n in 0..=ans.len() {
            let mut fresh = client(now);
            let _ = fresh.handle_receive(now, a(SERVER), &ans[..n]);
            let _ = c.handle_receive(now, a(SERVER), &ans[..n]);
        }
        for i in 0..ans.len() {
            for bit in [0x01u8, 0x80] {
                let mut m = ans.clone();
                m[i] ^= bit;
                let mut fresh = client(now);
                let _ = fresh.handle_receive(now, a(SERVER), &m);
                let _ = c.handle_receive(now, a(SERVER), &m);
            }
        }
    }
    assert_eq!(c.state(), TurnState::Allocated);
}

#[test]
fn answers_from_anyone_but_the_server_are_not_turn() {
    let now = Instant::now();
    let mut s = server(now);
    let mut c = client(now);
    let mut buf = vec![0u8; 512];
    let t = c.poll_transmit(now, &mut buf).unwrap();
    s.handle_receive(now, t.source, t.destination, &buf[..t.len]);
    let t = s.poll_transmit(&mut buf).unwrap();
    assert_eq!(
        c.handle_receive(now, a("203.0.113.66:3478"), &buf[..t.len]),
        Received::NotTurn
    );
    assert_eq!(c.state(), TurnState::Allocating);
}

#[test]
fn forged_success_without_integrity_is_ignored() {
    let now = Instant::now();
    let mut s = server(now);
    let mut c = client(now);
    let mut buf = vec![0u8; 512];
    // First Allocate → 401 from the real server: the client now has a key.
    let t = c.poll_transmit(now, &mut buf).unwrap();
    s.handle_receive(now, t.source, t.destination, &buf[..t.len]);
    let t = s.poll_transmit(&mut buf).unwrap();
    let challenge = buf[..t.len].to_vec();
    assert_eq!(
        c.handle_receive(now, a(SERVER), &challenge),
        Received::Consumed
    );
    // The authenticated retry; an on-path attacker answers first without
    // MESSAGE-INTEGRITY.
    let t = c.poll_transmit(now, &mut buf).unwrap();
    let tid = tern_stun::Message::parse(&buf[..t.len])
        .unwrap()
        .transaction_id();
    let mut forged = vec![0u8; 256];
    let mut b = MessageBuilder::new(
        &mut forged,
        MessageType::new(Method::ALLOCATE, Class::SuccessResponse),
        tid,
    )
    .unwrap();
    b.add(&Attribute::XorRelayedAddress(a("203.0.113.99:1")))
        .unwrap();
    b.add(&Attribute::Lifetime(600)).unwrap();
    let n = b.finish();
    assert_eq!(
        c.handle_receive(now, a(SERVER), &forged[..n]),
        Received::Consumed
    );
    assert_eq!(c.state(), TurnState::Allocating);
    assert_eq!(c.poll_event(), None);
    // The real answer still completes it.
    s.handle_receive(now, t.source, t.destination, &buf[..t.len]);
    let t = s.poll_transmit(&mut buf).unwrap();
    let real = buf[..t.len].to_vec();
    c.handle_receive(now, a(SERVER), &real);
    assert!(matches!(
        c.poll_event(),
        Some(TurnEvent::Allocated { relayed, .. }) if relayed.ip() == a(SERVER).ip()
    ));
}

#[test]
fn an_unanswered_allocate_gives_up_after_seven_sends() {
    let now = Instant::now();
    let mut c = client(now);
    let mut buf = vec![0u8; 512];
    let mut sends = 0;
    let mut t = now;
    while c.state() == TurnState::Allocating {
        while c.poll_transmit(t, &mut buf).is_some() {
            sends += 1;
        }
        let Some(next) = c.poll_timeout() else { break };
        assert!(next - now < Duration::from_secs(60));
        t = next;
        c.handle_timeout(t);
    }
    assert_eq!(sends, 7);
    assert_eq!(c.poll_event(), Some(TurnEvent::AllocationFailed(0)));
    assert!(t - now >= Duration::from_millis(500 * (1 + 2 + 4 + 8 + 16 + 32) + 8000));
}
