//! Bad input: every malformed shape is an error with a static reason, never
//! a panic; the receiver rules of RFC 8489 §14 are applied.
use tern_stun::*;

const TID: TransactionId = TransactionId([0x11; 12]);

fn header(typ: u16, len: u16) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&typ.to_be_bytes());
    v.extend_from_slice(&len.to_be_bytes());
    v.extend_from_slice(&MAGIC_COOKIE.to_be_bytes());
    v.extend_from_slice(TID.bytes());
    v
}

fn attr(v: &mut Vec<u8>, typ: u16, value: &[u8]) {
    v.extend_from_slice(&typ.to_be_bytes());
    v.extend_from_slice(&(value.len() as u16).to_be_bytes());
    v.extend_from_slice(value);
    while v.len() % 4 != 0 {
        v.push(0);
    }
}

/// Builds a Binding request from raw attributes with a correct length field.
fn request(attrs: &[(u16, &[u8])]) -> Vec<u8> {
    let mut v = header(0x0001, 0);
    for (t, val) in attrs {
        attr(&mut v, *t, val);
    }
    let len = (v.len() - 20) as u16;
    v[2..4].copy_from_slice(&len.to_be_bytes());
    v
}

fn reason(bytes: &[u8]) -> &'static str {
    let e = Message::parse(bytes).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidMessage);
    e.reason()
}

#[test]
fn shorter_than_header() {
    for n in 0..20 {
        assert_eq!(reason(&vec![0u8; n]), "shorter than a STUN header");
    }
}

#[test]
fn wrong_magic_cookie() {
    let mut v = request(&[]);
    v[7] ^= 1;
    assert_eq!(reason(&v), "wrong magic cookie");
    assert!(!looks_like_stun(&v));
}

#[test]
fn top_bits_set_is_not_stun() {
    // RFC 7983: first byte 0..3 is STUN; 0x80 would be RTP.
    let mut v = request(&[]);
    v[0] = 0x80;
    assert_eq!(reason(&v), "top two bits of the message type are not zero");
}

#[test]
fn length_not_a_multiple_of_four() {
    let mut v = request(&[(0x0024, &[0, 0, 0, 1])]);
    v[3] = 7;
    v.truncate(27);
    assert_eq!(reason(&v), "message length is not a multiple of 4");
}

#[test]
fn length_field_disagrees_with_datagram() {
    let v = request(&[(0x0024, &[0, 0, 0, 1])]);
    // Every wrong value of the length field is an error.
    for len in (0u16..=0xFFFF).step_by(4) {
        if usize::from(len) == v.len() - 20 {
            continue;
        }
        let mut w = v.clone();
        w[2..4].copy_from_slice(&len.to_be_bytes());
        assert_eq!(reason(&w), "message length does not match the datagram");
    }
    // Trailing bytes after a complete message are not accepted either.
    let mut w = v.clone();
    w.extend_from_slice(&[0; 4]);
    assert!(Message::parse(&w).is_err());
}

#[test]
fn attribute_running_past_the_end() {
    let mut v = request(&[(0x0006, b"abcd")]);
    // USERNAME claims 8 bytes but 4 follow.
    v[23] = 8;
    assert_eq!(reason(&v), "attribute runs past the end of the message");
    // A truncated attribute header.
    let mut v = request(&[]);
    v.extend_from_slice(&[0x00, 0x06]);
    v.extend_from_slice(&[0, 0]);
    v[3] = 4;
    v.truncate(22);
    v[3] = 2;
    assert!(Message::parse(&v).is_err());
}

#[test]
fn padding_content_is_ignored_as_rfc8489_14_requires() {
    // §14: padding bits MUST be ignored by the receiver (RFC 5769 §2.1
    // itself pads with spaces).
    let mut v = request(&[(0x0006, b"abcde")]);
    v[29..32].copy_from_slice(b"xyz");
    let m = Message::parse(&v).unwrap();
    assert_eq!(m.username(), Some("abcde"));
}

#[test]
fn attributes_after_fingerprint_are_an_error() {
    let mut buf = [0u8; 64];
    let mut b = MessageBuilder::new(
        &mut buf,
        MessageType::new(Method::BINDING, Class::Request),
        TID,
    )
    .unwrap();
    b.fingerprint().unwrap();
    let n = b.finish();
    let mut v = buf[..n].to_vec();
    attr(&mut v, 0x0024, &[0, 0, 0, 1]);
    let len = (v.len() - 20) as u16;
    v[2..4].copy_from_slice(&len.to_be_bytes());
    assert_eq!(reason(&v), "attribute after FINGERPRINT");
}

#[test]
fn attributes_after_message_integrity_are_ignored() {
    // §14.5: everything after MESSAGE-INTEGRITY except -SHA256 and
    // FINGERPRINT is ignored — including an unknown comprehension-required
    // attribute and a malformed PRIORITY.
    let key = IntegrityKey::short_term("pw");
    let mut buf = [0u8; 128];
    let mut b = MessageBuilder::new(
        &mut buf,
        MessageType::new(Method::BINDING, Class::Request),
        TID,
    )
    .unwrap();
    b.add(&Attribute::Username("u")).unwrap();
    b.message_integrity(&key).unwrap();
    b.add_raw(AttrType(0x7777), b"x").unwrap();
    b.add_raw(AttrType::PRIORITY, b"bad").unwrap();
    b.add_raw(AttrType::USERNAME, b"second").unwrap();
    b.fingerprint().unwrap();
    let n = b.finish();
    let m = Message::parse(&buf[..n]).unwrap();
    assert_eq!(m.username(), Some("u"));
    assert_eq!(m.priority(), None);
    assert!(m.unknown_comprehension_required().is_empty());
    m.verify_integrity(&key).unwrap();
    m.verify_fingerprint().unwrap();
    let visible: Vec<AttrType> = m.attributes().map(|a| a.attr_type()).collect();
    assert_eq!(
        visible,
        [
            AttrType::USERNAME,
            AttrType::MESSAGE_INTEGRITY,
            AttrType::FINGERPRINT
        ]
    );
    assert_eq!(m.raw_attributes().count(), 6);
}

#[test]
fn unknown_comprehension_required_attributes_are_reported() {
    let v = request(&[
        (0x7001, b"a"),
        (0xC001, b"optional is fine"),
        (0x0024, &[0, 0, 0, 9]),
        (0x7002, b""),
    ]);
    let m = Message::parse(&v).unwrap();
    assert_eq!(m.unknown_comprehension_required(), &[0x7001, 0x7002]);
    assert_eq!(m.priority(), Some(9));
    // At most MAX_UNKNOWN_REPORTED are listed, however many arrive.
    let many: Vec<(u16, &[u8])> = (0..100).map(|i| (0x7000 + i, &b""[..])).collect();
    let m2 = request(&many);
    assert_eq!(
        Message::parse(&m2)
            .unwrap()
            .unknown_comprehension_required()
            .len(),
        MAX_UNKNOWN_REPORTED
    );
}

#[test]
fn known_attributes_with_bad_values_are_errors() {
    let cases: &[(u16, &[u8], &str)] = &[
        (0x0024, &[0, 0, 1], "PRIORITY must be 4 bytes"),
        (0x0025, &[0], "USE-CANDIDATE must be empty"),
        (0x8029, &[0; 7], "ICE-CONTROLLED must be 8 bytes"),
        (0x802A, &[0; 9], "ICE-CONTROLLING must be 8 bytes"),
        (
            0x0020,
            &[0, 3, 0, 0, 0, 0, 0, 0],
            "address attribute has an unknown family",
        ),
        (
            0x0020,
            &[0, 1, 0, 0, 0, 0, 0],
            "address attribute has the wrong length",
        ),
        (
            0x0001,
            &[0, 2, 0, 0, 0, 0, 0, 0],
            "address attribute has the wrong length",
        ),
        (0x0012, &[0], "address attribute truncated"),
        (0x0006, &[0xff, 0xfe], "text attribute is not UTF-8"),
        (0x0009, &[0, 0, 7, 0], "ERROR-CODE out of range"),
        (0x0009, &[0, 0, 4, 100], "ERROR-CODE out of range"),
        (0x0009, &[0, 0, 4], "ERROR-CODE truncated"),
        (0x000A, &[0, 1, 2], "UNKNOWN-ATTRIBUTES has an odd length"),
        (0x0008, &[0; 19], "MESSAGE-INTEGRITY must be 20 bytes"),
        (
            0x001C,
            &[0; 12],
            "MESSAGE-INTEGRITY-SHA256 must be 16 to 32 bytes, a multiple of 4",
        ),
        (
            0x001C,
            &[0; 18],
            "MESSAGE-INTEGRITY-SHA256 must be 16 to 32 bytes, a multiple of 4",
        ),
        (0x8028, &[0; 5], "FINGERPRINT must be 4 bytes"),
        (0x001E, &[0; 31], "USERHASH must be 32 bytes"),
        (0x001D, &[0, 2, 0], "password algorithm entry truncated"),
        (
            0x001D,
            &[0, 2, 0, 8, 1],
            "password algorithm parameters run past the attribute",
        ),
        (
            0x001D,
            &[0, 2, 0, 0, 9, 9, 9, 9],
            "PASSWORD-ALGORITHM has trailing bytes",
        ),
        (
            0x8002,
            &[0, 1, 0, 0, 0, 2, 0, 9],
            "password algorithm parameters run past the attribute",
        ),
        (0x000C, &[0x40, 0], "CHANNEL-NUMBER must be 4 bytes"),
        (0x000D, &[0; 8], "LIFETIME must be 4 bytes"),
        (
            0x0017,
            &[3, 0, 0, 0],
            "address family attribute has an unknown family",
        ),
        (
            0x0017,
            &[1, 0, 0],
            "address family attribute must be 4 bytes",
        ),
        (0x0018, &[0, 0], "EVEN-PORT must be 1 byte"),
        (0x0019, &[17, 0, 0], "REQUESTED-TRANSPORT must be 4 bytes"),
        (0x001A, &[1], "DONT-FRAGMENT must be empty"),
        (0x0022, &[0; 7], "RESERVATION-TOKEN must be 8 bytes"),
    ];
    for (t, value, why) in cases {
        let v = request(&[(*t, value)]);
        assert_eq!(reason(&v), *why, "attribute {t:#06x}");
    }
    let long = vec![b'a'; 514];
    assert_eq!(reason(&request(&[(0x0006, &long)])), "USERNAME too long");
    let long = vec![b'a'; 764];
    assert_eq!(reason(&request(&[(0x0015, &long)])), "NONCE too long");
}

#[test]
fn first_occurrence_wins() {
    let v = request(&[(0x0024, &[0, 0, 0, 1]), (0x0024, &[0, 0, 0, 2])]);
    assert_eq!(Message::parse(&v).unwrap().priority(), Some(1));
}

/// The first occurrence wins for each attribute on its own, whatever lies
/// between the duplicates (parse tracks the ones it has seen per slot).
#[test]
fn first_occurrence_wins_for_each_interleaved_attribute() {
    let v = request(&[
        (0x0006, b"ab:cd"),
        (0x0024, &[0, 0, 0, 1]),
        (0x802A, &[0, 0, 0, 0, 0, 0, 0, 7]),
        (0x0006, b"xy:zw"),
        (0x0025, &[]),
        (0x0024, &[0, 0, 0, 2]),
        (0x802A, &[0, 0, 0, 0, 0, 0, 0, 9]),
        (0x0025, &[]),
    ]);
    let m = Message::parse(&v).unwrap();
    assert_eq!(m.username(), Some("ab:cd"));
    assert_eq!(m.priority(), Some(1));
    assert_eq!(m.ice_controlling(), Some(7));
    assert!(m.use_candidate());
}

#[test]
fn every_truncation_of_a_full_request_is_an_error() {
    // A length sweep over a message with every attribute kind Tern builds.
    let key = IntegrityKey::short_term("pw");
    let mut buf = [0u8; 1024];
    let mut b = MessageBuilder::new(
        &mut buf,
        MessageType::new(Method::ALLOCATE, Class::Request),
        TID,
    )
    .unwrap();
    b.add(&Attribute::Username("alice")).unwrap();
    b.add(&Attribute::Realm("example.org")).unwrap();
    b.add(&Attribute::Nonce("nonce")).unwrap();
    b.add(&Attribute::RequestedTransport(17)).unwrap();
    b.add(&Attribute::RequestedAddressFamily(2)).unwrap();
    b.add(&Attribute::EvenPort(true)).unwrap();
    b.add(&Attribute::DontFragment).unwrap();
    b.add(&Attribute::Lifetime(600)).unwrap();
    b.add(&Attribute::XorPeerAddress(
        "[2001:db8::1]:9".parse().unwrap(),
    ))
    .unwrap();
    b.add(&Attribute::Data(b"hello")).unwrap();
    b.add(&Attribute::ChannelNumber(0x4001)).unwrap();
    b.add(&Attribute::ReservationToken(&[1; 8])).unwrap();
    b.message_integrity(&key).unwrap();
    b.message_integrity_sha256(&key).unwrap();
    b.fingerprint().unwrap();
    let n = b.finish();
    let v = &buf[..n];
    let m = Message::parse(v).unwrap();
    m.verify_integrity(&key).unwrap();
    m.verify_integrity_sha256(&key).unwrap();
    m.verify_fingerprint().unwrap();
    assert_eq!(m.channel_number(), Some(0x4001));
    assert_eq!(m.even_port(), Some(true));
    assert!(m.dont_fragment());
    for k in 0..n {
        assert!(Message::parse(&v[..k]).is_err(), "{k}");
    }
}
