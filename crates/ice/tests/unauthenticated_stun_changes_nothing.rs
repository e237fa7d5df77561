//! Security rules: only STUN with a known ufrag and a valid
//! MESSAGE-INTEGRITY changes state; responses must match an outstanding
//! transaction and come from where the request went; state is bounded.
mod common;
use common::*;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tern_ice::{Agent, AgentConfig, Candidate, ErrorKind, IceState, MAX_REMOTE_CANDIDATES};
use tern_stun::{
    Attribute, Class, IntegrityKey, Message, MessageBuilder, MessageType, Method, TransactionId,
};

fn request(
    tid: u8,
    username: &str,
    key: &IntegrityKey,
    use_candidate: bool,
    role: Option<Attribute<'_>>,
) -> Vec<u8> {
    let mut buf = vec![0u8; 512];
    let mut b = MessageBuilder::new(
        &mut buf,
        MessageType::new(Method::BINDING, Class::Request),
        TransactionId([tid; 12]),
    )
    .unwrap();
    b.add(&Attribute::Username(username)).unwrap();
    b.add(&Attribute::Priority(1_862_270_975)).unwrap();
    b.add(&role.unwrap_or(Attribute::IceControlling(1)))
        .unwrap();
    if use_candidate {
        b.add(&Attribute::UseCandidate).unwrap();
    }
    b.message_integrity(key).unwrap();
    b.fingerprint().unwrap();
    let n = b.finish();
    buf.truncate(n);
    buf
}

fn response(tid: TransactionId, mapped: SocketAddr, key: &IntegrityKey) -> Vec<u8> {
    let mut buf = vec![0u8; 512];
    let mut b = MessageBuilder::new(
        &mut buf,
        MessageType::new(Method::BINDING, Class::SuccessResponse),
        tid,
    )
    .unwrap();
    b.add(&Attribute::XorMappedAddress(mapped)).unwrap();
    b.message_integrity(key).unwrap();
    b.fingerprint().unwrap();
    let n = b.finish();
    buf.truncate(n);
    buf
}

fn drain(a: &mut Agent) -> Vec<(tern_ice::Transmit, Vec<u8>)> {
    let mut out = vec![];
    let mut buf = [0u8; 1500];
    while let Some(t) = a.poll_transmit(&mut buf) {
        out.push((t, buf[..t.len].to_vec()));
    }
    while a.poll_event().is_some() {}
    out
}

#[test]
fn lite_ignores_checks_without_valid_integrity_or_known_ufrag() {
    let now = Instant::now();
    let local = creds(1);
    let mut lite = Agent::new(AgentConfig::lite(local.clone()), now, 1);
    let host = addr("192.0.2.10:443");
    lite.add_local_host(host, 65535).unwrap();
    drain(&mut lite);
    let key = IntegrityKey::short_term(local.pwd());
    let wrong = IntegrityKey::short_term("wrong-password-wrong-password");
    let user = format!("{}:peer", local.ufrag());
    let from = addr("203.0.113.5:1000");
    // Wrong password: 401, no state.
    assert!(lite.handle_receive(now, from, host, &request(1, &user, &wrong, true, None)));
    // Unknown ufrag: silently dropped, no answer at all.
    assert!(lite.handle_receive(now, from, host, &request(2, "other:peer", &key, true, None)));
    // Bad fingerprint: dropped.
    let mut bad = request(3, &user, &key, true, None);
    let n = bad.len();
    bad[n - 1] ^= 1;
    assert!(lite.handle_receive(now, from, host, &bad));
    // Arrived on an address that is not ours: dropped.
    assert!(lite.handle_receive(
        now,
        from,
        addr("192.0.2.10:444"),
        &request(4, &user, &key, true, None)
    ));
    // Not STUN at all: not consumed.
    assert!(!lite.handle_receive(now, from, host, &[0x80; 40]));
    let out = drain(&mut lite);
    assert_eq!(out.len(), 1);
    let m = Message::parse(&out[0].1).unwrap();
    assert_eq!(m.error_code().unwrap().code, 401);
    assert_eq!(lite.selected_pair(), None);
    assert_eq!(lite.remote_candidate_count(), 0);
    assert_eq!(lite.state(), IceState::New);
    // The real thing works: a signed success response, and selection.
    assert!(lite.handle_receive(now, from, host, &request(5, &user, &key, true, None)));
    let out = drain(&mut lite);
    let m = Message::parse(&out[0].1).unwrap();
    assert_eq!(m.message_type().class, Class::SuccessResponse);
    m.verify_integrity(&key).unwrap();
    m.verify_fingerprint().unwrap();
    assert_eq!(m.xor_mapped_address(), Some(from));
    assert_eq!(lite.selected_pair(), Some((host, from)));
    assert_eq!(lite.state(), IceState::Connected);
}

#[test]
fn full_agent_accepts_only_matching_authenticated_responses() {
    let now = Instant::now();
    let (local, remote) = (creds(1), creds(2));
    let mut a = Agent::new(AgentConfig::full(local, true), now, 7);
    let host = addr("192.0.2.1:5000");
    a.add_local_host(host, 65535).unwrap();
    a.set_remote_credentials(remote.clone());
    let peer_addr = addr("192.0.2.2:6000");
    a.add_remote_candidate(Candidate::host(peer_addr, 65535))
        .unwrap();
    drain(&mut a);
    a.handle_timeout(now);
    let out = drain(&mut a);
    assert_eq!(out.len(), 1);
    let (t, req) = &out[0];
    assert_eq!((t.source, t.destination), (host, peer_addr));
    let tid = Message::parse(req).unwrap().transaction_id();
    let key = IntegrityKey::short_term(remote.pwd());
    let wrong = IntegrityKey::short_term("wrong-password-wrong-password");
    // Unknown transaction, wrong source address, wrong key: all ignored.
    a.handle_receive(
        now,
        peer_addr,
        host,
        &response(TransactionId([9; 12]), host, &key),
    );
    a.handle_receive(
        now,
        addr("192.0.2.3:6000"),
        host,
        &response(tid, host, &key),
    );
    a.handle_receive(now, peer_addr, host, &response(tid, host, &wrong));
    assert_eq!(a.stats().unmatched_responses, 2);
    assert_eq!(a.stats().bad_integrity, 1);
    let later = now + Duration::from_millis(100);
    a.handle_timeout(later);
    drain(&mut a);
    assert_eq!(a.selected_pair(), None);
    // The genuine response is still accepted afterwards.
    a.handle_receive(later, peer_addr, host, &response(tid, host, &key));
    a.handle_timeout(later);
    let out = drain(&mut a);
    // It nominates at once: a check with USE-CANDIDATE.
    let nom = out
        .iter()
        .map(|(_, b)| Message::parse(b).unwrap())
        .find(|m| m.use_candidate());
    assert!(nom.is_some());
}

#[test]
fn remote_candidates_and_pairs_are_bounded() {
    let now = Instant::now();
    let local = creds(1);
    let mut a = Agent::new(AgentConfig::full(local.clone(), false), now, 3);
    let host = addr("10.0.0.1:5000");
    a.add_local_host(host, 65535).unwrap();
    a.set_remote_credentials(creds(2));
    let mut refused = 0;
    for i in 0..200u32 {
        let c = Candidate::host(
            SocketAddr::from(([198, 51, (i >> 8) as u8, i as u8], 9)),
            65535,
        );
        if let Err(e) = a.add_remote_candidate(c) {
            assert_eq!(e.kind(), ErrorKind::LimitReached);
            refused += 1;
        }
    }
    assert_eq!(refused, 200 - MAX_REMOTE_CANDIDATES);
    assert_eq!(a.remote_candidate_count(), MAX_REMOTE_CANDIDATES);
    // Peer-reflexive candidates from authenticated checks are bounded too.
    let key = IntegrityKey::short_term(local.pwd());
    let user = format!("{}:peer", local.ufrag());
    for i in 0..500u32 {
        let from = SocketAddr::from(([203, 0, (i >> 8) as u8, i as u8], 1000));
        a.handle_receive(
            now,
            from,
            host,
            &request(
                i as u8,
                &user,
                &key,
                false,
                Some(Attribute::IceControlling(1)),
            ),
        );
        drain(&mut a);
    }
    assert_eq!(a.remote_candidate_count(), MAX_REMOTE_CANDIDATES);
    assert!(a.pair_count() <= tern_ice::MAX_PAIRS);
    // Run the whole checklist to the end: transactions stay bounded.
    let mut t = now;
    for _ in 0..2000 {
        t += Duration::from_millis(50);
        a.handle_timeout(t);
        drain(&mut a);
        assert!(a.transaction_count() <= tern_ice::MAX_TRANSACTIONS);
    }
    a.end_of_remote_candidates();
    a.handle_timeout(t + Duration::from_secs(60));
    drain(&mut a);
    assert_eq!(a.state(), IceState::Failed);
}

#[test]
fn fails_after_end_of_candidates_when_nothing_answers() {
    let mut sim = sim(1300);
    let a = full_peer(&mut sim, "192.0.2.1:5000", true, &[]);
    let a = sim.add_endpoint(Node::Peer(Box::new(a)), &[ip("192.0.2.1")]);
    peer_mut(&mut sim, a).agent.set_remote_credentials(creds(5));
    for c in ["192.0.2.77:1", "192.0.2.78:2"] {
        peer_mut(&mut sim, a)
            .agent
            .add_remote_candidate(Candidate::host(addr(c), 65535))
            .unwrap();
    }
    sim.run_for(Duration::from_secs(5));
    assert_eq!(
        peer(&sim, a).agent.state(),
        IceState::Checking,
        "no failure before end-of-candidates"
    );
    peer_mut(&mut sim, a).agent.end_of_remote_candidates();
    assert!(
        sim.run_until(Duration::from_secs(60), |s| peer(s, a).agent.state()
            == IceState::Failed)
    );
}

#[test]
fn lite_follows_a_new_address_without_use_candidate_only_when_the_old_one_went_silent() {
    let t0 = Instant::now();
    let local = creds(1);
    let mut lite = Agent::new(AgentConfig::lite(local.clone()), t0, 1);
    let host = addr("192.0.2.10:443");
    lite.add_local_host(host, 65535).unwrap();
    let key = IntegrityKey::short_term(local.pwd());
    let user = format!("{}:peer", local.ufrag());
    let (old, new) = (addr("203.0.113.5:1000"), addr("203.0.113.5:1001"));
    lite.handle_receive(t0, old, host, &request(1, &user, &key, true, None));
    drain(&mut lite);
    assert_eq!(lite.selected_pair(), Some((host, old)));
    // Both tuples alive: a check without USE-CANDIDATE does not move it.
    let t1 = t0 + Duration::from_secs(5);
    lite.handle_receive(t1, new, host, &request(2, &user, &key, false, None));
    drain(&mut lite);
    assert_eq!(lite.selected_pair(), Some((host, old)));
    // The old tuple has been silent for over 10 s: it moves.
    let t2 = t0 + Duration::from_secs(11);
    lite.handle_timeout(t2);
    lite.handle_receive(t2, new, host, &request(3, &user, &key, false, None));
    drain(&mut lite);
    assert_eq!(lite.selected_pair(), Some((host, new)));
    // And consent then follows the new tuple.
    assert!(lite.poll_timeout().unwrap() >= t2 + Duration::from_secs(30));
}
