//! Parsing, verifying and building allocate nothing.
use tern_alloc_count::{count, CountingAlloc};
use tern_stun::*;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

#[test]
fn parse_verify_build_do_not_allocate() {
    let key = IntegrityKey::short_term("VOkJxbRl1RmTxUk/WvJxBt");
    let mut buf = [0u8; 256];
    let (len, allocs) = count(|| {
        let mut b = MessageBuilder::new(
            &mut buf,
            MessageType::new(Method::BINDING, Class::Request),
            TransactionId([1; 12]),
        )
        .unwrap();
        b.add(&Attribute::Username("abcd:efgh")).unwrap();
        b.add(&Attribute::Priority(1_853_824_767)).unwrap();
        b.add(&Attribute::IceControlling(7)).unwrap();
        b.add(&Attribute::UseCandidate).unwrap();
        b.add(&Attribute::XorMappedAddress(
            "[2001:db8::1]:5".parse().unwrap(),
        ))
        .unwrap();
        b.message_integrity(&key).unwrap();
        b.message_integrity_sha256(&key).unwrap();
        b.fingerprint().unwrap();
        b.finish()
    });
    assert_eq!(allocs, 0, "building allocated");
    let bytes = &buf[..len];
    let ((), allocs) = count(|| {
        let m = Message::parse(bytes).unwrap();
        assert_eq!(m.username(), Some("abcd:efgh"));
        assert_eq!(m.priority(), Some(1_853_824_767));
        assert!(m.use_candidate());
        assert!(m.xor_mapped_address().is_some());
        assert_eq!(m.attributes().count(), 8);
        m.verify_integrity(&key).unwrap();
        m.verify_integrity_sha256(&key).unwrap();
        m.verify_fingerprint().unwrap();
        // Error paths allocate nothing either.
        assert!(Message::parse(&bytes[..len - 1]).is_err());
        assert!(m.verify_integrity(&IntegrityKey::short_term("x")).is_err());
    });
    assert_eq!(allocs, 0, "parsing or verifying allocated");
}

#[test]
fn binding_server_answers_without_allocating_in_steady_state() {
    let mut server = BindingServer::new(Some("tern"));
    let mut req = [0u8; 64];
    let mut b = MessageBuilder::new(
        &mut req,
        MessageType::new(Method::BINDING, Class::Request),
        TransactionId([2; 12]),
    )
    .unwrap();
    b.fingerprint().unwrap();
    let n = b.finish();
    let now = std::time::Instant::now();
    let from = "192.0.2.1:5000".parse().unwrap();
    let local = "127.0.0.1:3478".parse().unwrap();
    let mut out = [0u8; 548];
    // Warm-up sizes the queue.
    server.handle_receive(now, from, local, &req[..n]);
    server.poll_transmit(&mut out).unwrap();
    let ((), allocs) = count(|| {
        for _ in 0..1000 {
            server.handle_receive(now, from, local, &req[..n]);
            server.poll_transmit(&mut out).unwrap();
        }
    });
    assert_eq!(allocs, 0);
}
