//! The fuzz target body (`fuzz/fuzz_targets/ice_inbound.rs` calls it). It
//! lives here so ordinary builds type-check it and a unit test runs it
//! over the seed corpus.
//!
//! `ice_inbound`: arbitrary datagrams from arbitrary 5-tuples into a lite
//! and a full agent, mixed with well-authenticated requests and responses
//! built from fuzz-chosen fields (so the state machines get past the
//! integrity checks), timer jumps, trickled candidates and restarts. After
//! every operation: no panic, and every bound holds.
use crate::*;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tern_stun::{
    Attribute, Class, ErrorCode, IntegrityKey, Message, MessageBuilder, MessageType, Method,
    TransactionId,
};

struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(*b)
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes([self.byte()?, self.byte()?]))
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes([
            self.byte()?,
            self.byte()?,
            self.byte()?,
            self.byte()?,
        ]))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from(self.u32()?) << 32 | u64::from(self.u32()?))
    }
    fn bytes(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a
    }
}

const ADDRS: [&str; 8] = [
    "192.0.2.10:443",
    "10.0.0.1:5000",
    "203.0.113.1:40000",
    "203.0.113.1:40001",
    "198.51.100.1:3478",
    "[2001:db8::1]:9",
    "192.0.2.99:1",
    "10.0.0.1:5001",
];

fn addr(i: u8) -> SocketAddr {
    ADDRS[usize::from(i) % ADDRS.len()]
        .parse()
        .unwrap_or(SocketAddr::from(([0, 0, 0, 0], 0)))
}

fn check_bounds(a: &Agent) {
    assert!(a.remote_candidate_count() <= MAX_REMOTE_CANDIDATES);
    assert!(a.pair_count() <= MAX_PAIRS);
    assert!(a.transaction_count() <= MAX_TRANSACTIONS + MAX_LOCAL_CANDIDATES * MAX_STUN_SERVERS);
    let (responses, events) = a.queued();
    assert!(responses <= MAX_PENDING_RESPONSES);
    assert!(events <= MAX_EVENTS);
}

#[allow(clippy::too_many_arguments)]
fn build(
    buf: &mut [u8],
    class: Class,
    tid: TransactionId,
    username: Option<&str>,
    priority: Option<u32>,
    role: u8,
    tie: u64,
    use_candidate: bool,
    mapped: Option<SocketAddr>,
    error: Option<u16>,
    key: Option<&IntegrityKey>,
) -> usize {
    let Ok(mut b) = MessageBuilder::new(buf, MessageType::new(Method::BINDING, class), tid) else {
        return 0;
    };
    let _ = username.map(|u| b.add(&Attribute::Username(u)));
    let _ = priority.map(|p| b.add(&Attribute::Priority(p)));
    let _ = match role % 3 {
        0 => b.add(&Attribute::IceControlling(tie)).map(|_| ()),
        1 => b.add(&Attribute::IceControlled(tie)).map(|_| ()),
        _ => Ok(()),
    };
    if use_candidate {
        let _ = b.add(&Attribute::UseCandidate);
    }
    let _ = mapped.map(|m| b.add(&Attribute::XorMappedAddress(m)));
    let _ = error.map(|code| {
        b.add(&Attribute::ErrorCode(ErrorCode {
            code,
            reason: "fuzz",
        }))
    });
    let _ = key.map(|k| b.message_integrity(k));
    let _ = b.fingerprint();
    b.finish()
}

/// `ice_inbound`: see the module documentation.
pub fn ice_inbound(data: &[u8]) {
    let mut input = Input(data);
    // Only differences between instants matter; this is the one clock read
    // in the crate, in fuzzing code, never in the agent.
    let t0 = Instant::now();
    let mut now = t0;
    // Constants: a failure here is a bug in this file, not an input.
    let lite_creds = Credentials::new("lite", "litepassword0123456789").expect("valid constant");
    let full_creds = Credentials::new("full", "fullpassword0123456789").expect("valid constant");
    let flags = input.byte().unwrap_or(0);
    let mut lite = Agent::new(AgentConfig::lite(lite_creds.clone()), now, 1);
    let mut cfg = AgentConfig::full(full_creds.clone(), flags & 1 == 0);
    cfg.stun_servers = vec![addr(4)];
    if flags & 2 != 0 {
        cfg.max_pairs = 8;
        cfg.max_remote_candidates = 8;
        cfg.max_transactions = 4;
    }
    let mut full = Agent::new(cfg, now, u64::from(flags));
    let _ = lite.add_local_host(addr(0), 65535);
    let _ = full.add_local_host(addr(1), 65535);
    let _ = full.add_local_host(addr(7), 100);
    lite.set_remote_credentials(full_creds.clone());
    full.set_remote_credentials(lite_creds.clone());
    if let Some(c) = lite.local_candidates().next().copied() {
        let _ = full.add_remote_candidate(c);
    }
    let lite_key = IntegrityKey::short_term(lite_creds.pwd());
    let full_key = IntegrityKey::short_term(full_creds.pwd());
    let wrong_key = IntegrityKey::short_term("wrong");
    let mut out = [0u8; 1500];
    let mut msg = [0u8; 600];
    // Requests the full agent sent: (tid, source, destination).
    let mut sent: Vec<(TransactionId, SocketAddr, SocketAddr)> = Vec::new();

    for _ in 0..256 {
        let Some(op) = input.byte() else { break };
        let to_lite = op & 0x80 != 0;
        match op & 0x07 {
            0 => {
                let (from, to) = (
                    addr(input.byte().unwrap_or(0)),
                    addr(input.byte().unwrap_or(0)),
                );
                let n = usize::from(input.byte().unwrap_or(0));
                let bytes = input.bytes(n);
                let agent = if to_lite { &mut lite } else { &mut full };
                agent.handle_receive(now, from, to, bytes);
            }
            1 => {
                let sel = input.byte().unwrap_or(0);
                let tie = input.u64().unwrap_or(0);
                let prio = input.u32().unwrap_or(1);
                let (user, key) = match (to_lite, sel & 3) {
                    (true, 0) => ("lite:full", &lite_key),
                    (false, 0) => ("full:lite", &full_key),
                    (_, 1) => ("lite:full", &wrong_key),
                    (_, 2) => ("lite", &lite_key),
                    _ => ("full:", &full_key),
                };
                let tid = TransactionId([sel; 12]);
                let n = build(
                    &mut msg,
                    Class::Request,
                    tid,
                    (sel & 4 == 0).then_some(user),
                    (sel & 8 == 0).then_some(prio),
                    sel >> 4,
                    tie,
                    sel & 0x40 != 0,
                    None,
                    None,
                    (sel & 0x80 == 0).then_some(key),
                );
                let from = addr(input.byte().unwrap_or(2));
                let to = if to_lite { addr(0) } else { addr(1) };
                let agent = if to_lite { &mut lite } else { &mut full };
                agent.handle_receive(now, from, to, &msg[..n]);
            }
            2 => {
                let ms = u64::from(input.u16().unwrap_or(0));
                now += Duration::from_millis(ms * 8);
            }
            3 => {
                // Answer one of the full agent's requests.
                let sel = input.byte().unwrap_or(0);
                if sent.is_empty() {
                    continue;
                }
                let (tid, src, dst) = sent[usize::from(sel) % sent.len()];
                let mapped = addr(input.byte().unwrap_or(0));
                let (class, error) = match sel % 5 {
                    0 | 1 => (Class::SuccessResponse, None),
                    2 => (Class::ErrorResponse, Some(ErrorCode::ROLE_CONFLICT)),
                    3 => (Class::ErrorResponse, Some(400)),
                    _ => (Class::SuccessResponse, None),
                };
                let key = if sel & 0x40 == 0 {
                    &lite_key
                } else {
                    &wrong_key
                };
                let n = build(
                    &mut msg,
                    class,
                    tid,
                    None,
                    None,
                    2,
                    0,
                    false,
                    (sel % 5 != 4).then_some(mapped),
                    error,
                    Some(key),
                );
                let from = if sel & 0x20 == 0 { dst } else { addr(sel) };
                full.handle_receive(now, from, src, &msg[..n]);
            }
            4 => {
                let a = addr(input.byte().unwrap_or(0));
                let port = input.u16().unwrap_or(1);
                let prio = input.u32().unwrap_or(1);
                let kind = match input.byte().unwrap_or(0) % 4 {
                    0 => CandidateKind::Host,
                    1 => CandidateKind::ServerReflexive,
                    2 => CandidateKind::PeerReflexive,
                    _ => CandidateKind::Relayed,
                };
                let c = Candidate {
                    foundation: Foundation::from_u32(prio),
                    component: COMPONENT_RTP,
                    priority: prio,
                    address: SocketAddr::new(a.ip(), port),
                    kind,
                    related: None,
                };
                let agent = if to_lite { &mut lite } else { &mut full };
                let _ = agent.add_remote_candidate(c);
            }
            5 => {
                let line = input.bytes(usize::from(op >> 3));
                if let Ok(s) = core::str::from_utf8(line) {
                    if let Ok(c) = Candidate::from_sdp(s) {
                        let _ = full.add_remote_candidate(c);
                    }
                }
            }
            6 => {
                let which = input.byte().unwrap_or(0);
                let a = Credentials::new("fullB", "fullpassword9876543210").ok();
                let b = Credentials::new("liteB", "litepassword9876543210").ok();
                match (which % 3, a, b) {
                    (0, Some(a), _) => {
                        let _ = full.restart(a);
                    }
                    (1, _, Some(b)) => full.set_remote_credentials(b),
                    _ => full.end_of_remote_candidates(),
                }
            }
            _ => {}
        }
        // Drive timers and drain everything, as a caller would.
        for agent in [&mut lite, &mut full] {
            if agent.poll_timeout().is_some_and(|t| t <= now) {
                agent.handle_timeout(now);
                // No livelock: a handled deadline never stays due.
                assert!(
                    agent.poll_timeout().is_none_or(|t| t > now),
                    "a deadline stayed due after handle_timeout: {agent:?}"
                );
            }
        }
        while let Some(t) = full.poll_transmit(&mut out) {
            assert!(t.len <= out.len());
            if let Ok(m) = Message::parse(&out[..t.len]) {
                if m.message_type().class == Class::Request && sent.len() < 64 {
                    sent.push((m.transaction_id(), t.source, t.destination));
                }
            }
        }
        while let Some(t) = lite.poll_transmit(&mut out) {
            assert!(t.len <= out.len());
            // Everything the lite agent sends is a well-formed response.
            let m = Message::parse(&out[..t.len]);
            assert!(m.is_ok_and(|m| m.message_type().class != Class::Request));
        }
        while full.poll_event().is_some() {}
        while lite.poll_event().is_some() {}
        check_bounds(&lite);
        check_bounds(&full);
        assert_eq!(lite.stats().requests_sent, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ice_inbound_runs_over_the_seed_corpus() {
        for bytes in tern_testkit::fuzz_seeds("ice_inbound") {
            ice_inbound(&bytes);
        }
    }

    /// Fuzz crash 1: when consent expired on the selected pair, another
    /// nominated pair whose own consent had long lapsed was selected,
    /// leaving a deadline in the past after `handle_timeout` (a livelock
    /// for any driver). Fixed in `update_selection`.
    #[test]
    fn regression_reselecting_a_pair_with_expired_consent() {
        ice_inbound(include_bytes!(
            "../../../fuzz/corpus/ice_inbound/seed-regression-reselect-expired-pair"
        ));
    }

    #[test]
    fn ice_inbound_survives_simple_inputs() {
        ice_inbound(&[]);
        ice_inbound(&[0]);
        ice_inbound(&[0xFF; 300]);
        let mut x = 0x1234_5678u32;
        for _ in 0..200 {
            let v: Vec<u8> = (0..400)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    x as u8
                })
                .collect();
            ice_inbound(&v);
        }
    }
}
