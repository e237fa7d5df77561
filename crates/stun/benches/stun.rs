//! STUN benchmarks: Tern beside webrtc-rs (crates.io `stun`) in one run.
//!
//! Groups: `stun/parse`, `stun/fingerprint_check`, `stun/integrity_check`
//! (also a bare prekeyed HMAC-SHA1 over the same bytes, `hmac-sha1`, the
//! floor for any integrity check), `stun/build_binding_request`.
use criterion::{criterion_group, criterion_main, Criterion};
use hmac::{Hmac, Mac};
use sha1::Sha1;
use std::hint::black_box;
use tern_stun::*;
use w::message::Setter;
use webrtc_stun as w;

const PASSWORD: &str = "K3LJ9vAwNGtjxFmBwv7AcDhE";
const USERNAME: &str = "f7Sx:Hb3c";

/// An ICE connectivity check as a browser sends it: USERNAME, PRIORITY,
/// ICE-CONTROLLING, USE-CANDIDATE, MESSAGE-INTEGRITY, FINGERPRINT.
fn ice_request(buf: &mut [u8], key: &IntegrityKey) -> usize {
    let mut b = MessageBuilder::new(
        buf,
        MessageType::new(Method::BINDING, Class::Request),
        TransactionId(*b"abcdefghijkl"),
    )
    .unwrap();
    b.add(&Attribute::Username(USERNAME)).unwrap();
    b.add(&Attribute::Priority(1_853_824_767)).unwrap();
    b.add(&Attribute::IceControlling(0x1234_5678_9abc_def0))
        .unwrap();
    b.add(&Attribute::UseCandidate).unwrap();
    b.message_integrity(key).unwrap();
    b.fingerprint().unwrap();
    b.finish()
}

fn be_u32(v: &[u8]) -> u32 {
    u32::from_be_bytes(v.try_into().unwrap())
}

fn benches(c: &mut Criterion) {
    let key = IntegrityKey::short_term(PASSWORD);
    let mut buf = [0u8; 256];
    let n = ice_request(&mut buf, &key);
    let bytes = buf[..n].to_vec();
    assert_eq!(n, 92, "an ICE check of about 100 bytes");

    let mut g = c.benchmark_group("stun/parse");
    g.bench_function("tern", |b| {
        b.iter(|| {
            let m = Message::parse(black_box(&bytes)).unwrap();
            // One `black_box` per value, on both sides: a tuple of them
            // packed the 12-byte transaction id at an odd offset and
            // rebuilt it with a load that overlapped two fresh stores, a
            // store-forwarding stall of the harness, not of either parser.
            black_box(m.message_type());
            black_box(m.transaction_id());
            black_box(m.username());
            black_box(m.priority());
            black_box(m.ice_controlling());
            black_box(m.use_candidate());
            black_box(m.message_integrity());
            black_box(m.fingerprint());
        })
    });
    g.bench_function("webrtc-rs", |b| {
        b.iter(|| {
            let mut m = w::message::Message::new();
            m.unmarshal_binary(black_box(&bytes)).unwrap();
            let user =
                w::textattrs::TextAttribute::get_from_as(&m, w::attributes::ATTR_USERNAME).unwrap();
            let prio = be_u32(&m.get(w::attributes::ATTR_PRIORITY).unwrap());
            let tie = m.get(w::attributes::ATTR_ICE_CONTROLLING).unwrap();
            let uc = m.contains(w::attributes::ATTR_USE_CANDIDATE);
            let mi = m.get(w::attributes::ATTR_MESSAGE_INTEGRITY).unwrap();
            let fp = m.get(w::attributes::ATTR_FINGERPRINT).unwrap();
            black_box(m.typ);
            black_box(m.transaction_id);
            black_box(user);
            black_box(prio);
            black_box(tie);
            black_box(uc);
            black_box(mi);
            black_box(fp);
        })
    });
    g.finish();

    let parsed = Message::parse(&bytes).unwrap();
    let mut wm = w::message::Message::new();
    wm.unmarshal_binary(&bytes).unwrap();

    let mut g = c.benchmark_group("stun/fingerprint_check");
    g.bench_function("tern", |b| {
        b.iter(|| black_box(&parsed).verify_fingerprint().unwrap())
    });
    g.bench_function("webrtc-rs", |b| {
        b.iter(|| w::fingerprint::FINGERPRINT.check(black_box(&wm)).unwrap())
    });
    g.finish();

    let mut g = c.benchmark_group("stun/integrity_check");
    g.bench_function("tern", |b| {
        b.iter(|| {
            black_box(&parsed)
                .verify_integrity(black_box(&key))
                .unwrap()
        })
    });
    let wkey = w::integrity::MessageIntegrity::new_short_term_integrity(PASSWORD.to_owned());
    g.bench_function("webrtc-rs", |b| {
        b.iter(|| wkey.check(black_box(&mut wm)).unwrap())
    });
    // The floor: a prekeyed HMAC-SHA1 over exactly the bytes the MAC covers
    // (header with adjusted length + attributes before MESSAGE-INTEGRITY).
    let covered = &bytes[..n - 32];
    let mut adjusted = covered.to_vec();
    adjusted[2..4].copy_from_slice(&((n - 8 - 20) as u16).to_be_bytes());
    let bare = <Hmac<Sha1> as Mac>::new_from_slice(PASSWORD.as_bytes()).unwrap();
    g.bench_function("hmac-sha1", |b| {
        b.iter(|| {
            let mut m = bare.clone();
            m.update(black_box(&adjusted));
            black_box(m.finalize().into_bytes())
        })
    });
    g.finish();

    let mut g = c.benchmark_group("stun/build_binding_request");
    g.bench_function("tern", |b| {
        let mut out = [0u8; 256];
        b.iter(|| black_box(ice_request(black_box(&mut out), &key)))
    });
    g.bench_function("webrtc-rs", |b| {
        b.iter(|| {
            let mut m = w::message::Message::new();
            m.set_type(w::message::BINDING_REQUEST);
            m.transaction_id = w::agent::TransactionId(*b"abcdefghijkl");
            m.write_header();
            w::textattrs::TextAttribute::new(w::attributes::ATTR_USERNAME, USERNAME.to_owned())
                .add_to(&mut m)
                .unwrap();
            m.add(
                w::attributes::ATTR_PRIORITY,
                &1_853_824_767u32.to_be_bytes(),
            );
            m.add(
                w::attributes::ATTR_ICE_CONTROLLING,
                &0x1234_5678_9abc_def0u64.to_be_bytes(),
            );
            m.add(w::attributes::ATTR_USE_CANDIDATE, &[]);
            w::integrity::MessageIntegrity::new_short_term_integrity(PASSWORD.to_owned())
                .add_to(&mut m)
                .unwrap();
            w::fingerprint::FINGERPRINT.add_to(&mut m).unwrap();
            black_box(m.raw.len())
        })
    });
    g.finish();
}

criterion_group!(stun, benches);
criterion_main!(stun);
