//! The sans-IO Binding server (RFC 8489 §6.3): answers, rejections, drops.
use std::net::SocketAddr;
use std::time::Instant;
use tern_stun::*;

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn build(
    method: Method,
    class: Class,
    f: impl FnOnce(&mut MessageBuilder<'_>) -> Result<(), Error>,
) -> Vec<u8> {
    let mut buf = [0u8; 512];
    let mut b = MessageBuilder::new(
        &mut buf,
        MessageType::new(method, class),
        TransactionId([0x42; 12]),
    )
    .unwrap();
    f(&mut b).unwrap();
    let n = b.finish();
    buf[..n].to_vec()
}

/// Feeds one datagram and returns the single answer, if any.
fn answer(server: &mut BindingServer, from: SocketAddr, bytes: &[u8]) -> Option<Vec<u8>> {
    let local = addr("127.0.0.1:3478");
    server.handle_receive(Instant::now(), from, local, bytes);
    let mut out = [0u8; MAX_UDP_MESSAGE_WITHOUT_PMTU];
    let t = server.poll_transmit(&mut out)?;
    assert_eq!(t.destination, from);
    assert_eq!(t.source, local);
    assert!(
        server.poll_transmit(&mut out).is_none(),
        "one answer per request"
    );
    Some(out[..t.len].to_vec())
}

#[test]
fn binding_request_gets_xor_mapped_address_and_fingerprint() {
    let mut s = BindingServer::new(Some("tern"));
    for from in ["198.51.100.7:40000", "[2001:db8::7]:40001"] {
        let req = build(Method::BINDING, Class::Request, |_| Ok(()));
        let resp = answer(&mut s, addr(from), &req).unwrap();
        let m = Message::parse(&resp).unwrap();
        assert_eq!(
            m.message_type(),
            MessageType::new(Method::BINDING, Class::SuccessResponse)
        );
        assert_eq!(m.transaction_id(), TransactionId([0x42; 12]));
        assert_eq!(m.xor_mapped_address(), Some(addr(from)));
        assert_eq!(m.software(), Some("tern"));
        m.verify_fingerprint().unwrap();
    }
    assert_eq!(s.stats().answered, 2);
}

#[test]
fn unknown_comprehension_required_attribute_gets_420() {
    let mut s = BindingServer::default();
    let req = build(Method::BINDING, Class::Request, |b| {
        b.add_raw(AttrType(0x7ABC), b"?")?;
        b.add_raw(AttrType(0xFABC), b"optional")?;
        b.fingerprint()?;
        Ok(())
    });
    let resp = answer(&mut s, addr("192.0.2.1:1"), &req).unwrap();
    let m = Message::parse(&resp).unwrap();
    assert_eq!(m.message_type().class, Class::ErrorResponse);
    assert_eq!(m.error_code().unwrap().code, 420);
    let listed: Vec<AttrType> = m.unknown_attributes().unwrap().iter().collect();
    assert_eq!(listed, [AttrType(0x7ABC)]);
    m.verify_fingerprint().unwrap();
}

#[test]
fn malformed_request_gets_400_with_the_reason() {
    let mut s = BindingServer::default();
    let mut req = build(Method::BINDING, Class::Request, |b| {
        b.add(&Attribute::Priority(7))?;
        Ok(())
    });
    req[23] = 3; // PRIORITY of 3 bytes
    let resp = answer(&mut s, addr("192.0.2.1:1"), &req).unwrap();
    let m = Message::parse(&resp).unwrap();
    let e = m.error_code().unwrap();
    assert_eq!(e.code, 400);
    assert_eq!(e.reason, "PRIORITY must be 4 bytes");
    assert_eq!(s.stats().rejected, 1);
}

#[test]
fn other_methods_get_400() {
    let mut s = BindingServer::default();
    let req = build(Method::ALLOCATE, Class::Request, |_| Ok(()));
    let resp = answer(&mut s, addr("192.0.2.1:1"), &req).unwrap();
    let m = Message::parse(&resp).unwrap();
    assert_eq!(m.message_type().method, Method::ALLOCATE);
    assert_eq!(m.error_code().unwrap().code, 400);
}

#[test]
fn indications_responses_and_non_stun_get_no_answer() {
    let mut s = BindingServer::default();
    let from = addr("192.0.2.1:1");
    let ind = build(Method::BINDING, Class::Indication, |b| {
        b.fingerprint()?;
        Ok(())
    });
    assert!(answer(&mut s, from, &ind).is_none());
    let resp = build(Method::BINDING, Class::SuccessResponse, |_| Ok(()));
    assert!(answer(&mut s, from, &resp).is_none());
    for junk in [
        &b""[..],
        b"\x80\x60hello rtp",
        &[0u8; 19],
        &[0x16, 0xfe, 0xfd, 0, 0],
    ] {
        assert!(answer(&mut s, from, junk).is_none());
    }
    assert_eq!(s.stats().answered + s.stats().rejected, 0);
}

#[test]
fn wrong_fingerprint_is_dropped() {
    let mut s = BindingServer::default();
    let mut req = build(Method::BINDING, Class::Request, |b| {
        b.fingerprint()?;
        Ok(())
    });
    let n = req.len();
    req[n - 1] ^= 1;
    assert!(answer(&mut s, addr("192.0.2.1:1"), &req).is_none());
    assert_eq!(s.stats().dropped, 1);
}

#[test]
fn answer_queue_is_bounded() {
    let mut s = BindingServer::with_capacity(None, 4);
    let req = build(Method::BINDING, Class::Request, |_| Ok(()));
    for i in 0..100u16 {
        s.handle_receive(
            Instant::now(),
            SocketAddr::from(([192, 0, 2, 1], i)),
            addr("127.0.0.1:3478"),
            &req,
        );
    }
    let mut out = [0u8; 548];
    let mut n = 0;
    while s.poll_transmit(&mut out).is_some() {
        n += 1;
    }
    assert_eq!(n, 4);
    assert_eq!(s.stats().dropped, 96);
}

#[test]
fn answer_too_big_for_buffer_is_dropped_not_a_panic() {
    let mut s = BindingServer::default();
    let req = build(Method::BINDING, Class::Request, |_| Ok(()));
    s.handle_receive(
        Instant::now(),
        addr("192.0.2.1:1"),
        addr("127.0.0.1:3478"),
        &req,
    );
    let mut tiny = [0u8; 24];
    assert!(s.poll_transmit(&mut tiny).is_none());
    assert_eq!(s.stats().dropped, 1);
}
