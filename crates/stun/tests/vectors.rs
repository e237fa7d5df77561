//! RFC test vectors as named tests, each with negative twins: a flipped bit
//! in the integrity or fingerprint is rejected, and every truncation is an
//! error rather than a panic.
//!
//! Sources: RFC 5769 §2.1–§2.4 (bytes as printed in the RFC), and RFC 8489
//! Appendix B.1 as corrected by its verified erratum (the length field is
//! 0x90 and a PASSWORD-ALGORITHM attribute with SHA-256 precedes
//! MESSAGE-INTEGRITY-SHA256; the MAC is over that corrected message).
use std::net::SocketAddr;
use tern_stun::*;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

const RFC5769_PASSWORD: &str = "VOkJxbRl1RmTxUk/WvJxBt";

fn rfc5769_2_1() -> Vec<u8> {
    hex("0001 0058 2112a442 b7e7a701 bc34d686 fa87dfae
         8022 0010 5354554e 20746573 7420636c 69656e74
         0024 0004 6e0001ff
         8029 0008 932ff9b1 51263b36
         0006 0009 6576746a 3a683676 59202020
         0008 0014 9aeaa70c bfd8cb56 781ef2b5 b2d3f249 c1b571a2
         8028 0004 e57a3bcf")
}

fn rfc5769_2_2() -> Vec<u8> {
    hex("0101 003c 2112a442 b7e7a701 bc34d686 fa87dfae
         8022 000b 74657374 20766563 746f7220
         0020 0008 0001a147 e112a643
         0008 0014 2b91f599 fd9e90c3 8c7489f9 2af9ba53 f06be7d7
         8028 0004 c07d4c96")
}

fn rfc5769_2_3() -> Vec<u8> {
    hex("0101 0048 2112a442 b7e7a701 bc34d686 fa87dfae
         8022 000b 74657374 20766563 746f7220
         0020 0014 0002a147 0113a9fa a5d3f179 bc25f4b5 bed2b9d9
         0008 0014 a382954e 4be67bf1 1784c97c 8292c275 bfe3ed41
         8028 0004 c8fb0b4c")
}

fn rfc5769_2_4() -> Vec<u8> {
    hex("0001 0060 2112a442 78ad3433 c6ad72c0 29da412e
         0006 0012 e3839ee3 8388e383 aae38383 e382afe3 82b90000
         0015 001c 662f2f34 39396b39 35346436 4f4c3334 6f4c3946 53547679 36347341
         0014 000b 6578616d 706c652e 6f726700
         0008 0014 f6702465 6dd64a3e 02b8e071 2e85c9a2 8ca89666")
}

fn rfc8489_b_1() -> Vec<u8> {
    hex("0001 0090 2112a442 78ad3433 c6ad72c0 29da412e
         001e 0020 4a3cf38f ef6992bd a952c678 0417da0f 24819415 569e60b2 05c46e41 407f1704
         0015 0029 6f624d61 744a6f73 32414141 43662f2f 3439396b 39353464 364f4c33 346f4c39 46535476 79363473 41000000
         0014 000b 6578616d 706c652e 6f726700
         001d 0004 00020000
         001c 0020 b5c7bf00 5b6c52a2 1c51c5e8 92f81924 136296cb 927c4314 9309278c c6518e65")
}

const MATRIX_USER: &str = "\u{30DE}\u{30C8}\u{30EA}\u{30C3}\u{30AF}\u{30B9}";
/// "The<U+00AD>M<U+00AA>tr<U+2168>" after SASLprep (RFC 5769) / OpaqueString (RFC 8489).
const MATRIX_PASSWORD: &str = "TheMatrIX";

/// Every strict prefix of a valid message is an error, never a panic.
fn assert_every_truncation_fails(v: &[u8]) {
    for n in 0..v.len() {
        assert!(
            Message::parse(&v[..n]).is_err(),
            "prefix of {n} bytes parsed"
        );
    }
}

/// Flipping any single bit of `range` breaks `check`.
fn assert_bit_flips_rejected(
    v: &[u8],
    range: std::ops::Range<usize>,
    check: impl Fn(&Message<'_>) -> Result<(), Error>,
) {
    for i in range {
        for bit in 0..8 {
            let mut w = v.to_vec();
            w[i] ^= 1 << bit;
            // A flip may also make the message unparseable: also a rejection.
            if let Ok(m) = Message::parse(&w) {
                assert!(check(&m).is_err(), "flip of byte {i} bit {bit} accepted");
            }
        }
    }
}

#[test]
fn rfc5769_2_1_sample_request() {
    let v = rfc5769_2_1();
    let m = Message::parse(&v).unwrap();
    assert_eq!(
        m.message_type(),
        MessageType::new(Method::BINDING, Class::Request)
    );
    assert_eq!(
        m.transaction_id(),
        TransactionId([0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae])
    );
    assert_eq!(m.software(), Some("STUN test client"));
    assert_eq!(m.priority(), Some(0x6e0001ff));
    assert_eq!(m.ice_controlled(), Some(0x932ff9b151263b36));
    assert_eq!(m.ice_controlling(), None);
    assert_eq!(m.username(), Some("evtj:h6vY"));
    let key = IntegrityKey::short_term(RFC5769_PASSWORD);
    m.verify_integrity(&key).unwrap();
    m.verify_fingerprint().unwrap();
    assert!(m.unknown_comprehension_required().is_empty());
}

#[test]
fn rfc5769_2_1_sample_request_rebuilt_byte_for_byte() {
    // The vector pads USERNAME with spaces; the builder can do the same.
    let v = rfc5769_2_1();
    let mut buf = [0u8; 128];
    let mut b = MessageBuilder::new(
        &mut buf,
        MessageType::new(Method::BINDING, Class::Request),
        Message::parse(&v).unwrap().transaction_id(),
    )
    .unwrap();
    b.padding_byte(0x20);
    b.add(&Attribute::Software("STUN test client")).unwrap();
    b.add(&Attribute::Priority(0x6e0001ff)).unwrap();
    b.add(&Attribute::IceControlled(0x932ff9b151263b36))
        .unwrap();
    b.add(&Attribute::Username("evtj:h6vY")).unwrap();
    b.message_integrity(&IntegrityKey::short_term(RFC5769_PASSWORD))
        .unwrap();
    b.fingerprint().unwrap();
    let n = b.finish();
    assert_eq!(&buf[..n], &v[..]);
}

#[test]
fn rfc5769_2_1_negative_twins() {
    let v = rfc5769_2_1();
    let key = IntegrityKey::short_term(RFC5769_PASSWORD);
    // MESSAGE-INTEGRITY value is bytes 80..100, FINGERPRINT value 104..108.
    assert_bit_flips_rejected(&v, 80..100, |m| m.verify_integrity(&key));
    assert_bit_flips_rejected(&v, 104..108, |m| m.verify_fingerprint());
    // Any bit flipped in what the MAC covers is rejected too.
    assert_bit_flips_rejected(&v, 0..76, |m| m.verify_integrity(&key));
    // The wrong password is rejected.
    let m = Message::parse(&v).unwrap();
    assert!(m
        .verify_integrity(&IntegrityKey::short_term("VOkJxbRl1RmTxUk/WvJxBT"))
        .is_err());
    assert_every_truncation_fails(&v);
}

fn check_response(v: &[u8], expect: &str) {
    let m = Message::parse(v).unwrap();
    assert_eq!(
        m.message_type(),
        MessageType::new(Method::BINDING, Class::SuccessResponse)
    );
    assert_eq!(m.software(), Some("test vector"));
    assert_eq!(
        m.xor_mapped_address(),
        Some(expect.parse::<SocketAddr>().unwrap())
    );
    m.verify_integrity(&IntegrityKey::short_term(RFC5769_PASSWORD))
        .unwrap();
    m.verify_fingerprint().unwrap();
}

#[test]
fn rfc5769_2_2_sample_ipv4_response() {
    check_response(&rfc5769_2_2(), "192.0.2.1:32853");
}

/// Negative twins of a message ending MESSAGE-INTEGRITY, FINGERPRINT
/// under the RFC 5769 short-term password.
fn assert_short_term_negative_twins(v: &[u8]) {
    let key = IntegrityKey::short_term(RFC5769_PASSWORD);
    let n = v.len();
    assert_bit_flips_rejected(v, n - 28..n - 8, |m| m.verify_integrity(&key));
    assert_bit_flips_rejected(v, n - 4..n, |m| m.verify_fingerprint());
    assert_every_truncation_fails(v);
}

#[test]
fn rfc5769_2_2_negative_twins() {
    assert_short_term_negative_twins(&rfc5769_2_2());
}

#[test]
fn rfc5769_2_3_sample_ipv6_response() {
    check_response(
        &rfc5769_2_3(),
        "[2001:db8:1234:5678:11:2233:4455:6677]:32853",
    );
}

#[test]
fn rfc5769_2_3_negative_twins() {
    assert_short_term_negative_twins(&rfc5769_2_3());
}

#[test]
fn rfc5769_2_response_addresses_rebuilt_byte_for_byte() {
    for (v, addr) in [
        (rfc5769_2_2(), "192.0.2.1:32853"),
        (
            rfc5769_2_3(),
            "[2001:db8:1234:5678:11:2233:4455:6677]:32853",
        ),
    ] {
        let tid = Message::parse(&v).unwrap().transaction_id();
        let mut buf = [0u8; 128];
        let mut b = MessageBuilder::new(
            &mut buf,
            MessageType::new(Method::BINDING, Class::SuccessResponse),
            tid,
        )
        .unwrap();
        b.padding_byte(0x20);
        b.add(&Attribute::Software("test vector")).unwrap();
        b.add(&Attribute::XorMappedAddress(addr.parse().unwrap()))
            .unwrap();
        b.message_integrity(&IntegrityKey::short_term(RFC5769_PASSWORD))
            .unwrap();
        b.fingerprint().unwrap();
        let n = b.finish();
        assert_eq!(&buf[..n], &v[..]);
    }
}

#[test]
fn rfc5769_2_4_sample_request_long_term_authentication() {
    let v = rfc5769_2_4();
    let m = Message::parse(&v).unwrap();
    assert_eq!(m.username(), Some(MATRIX_USER));
    assert_eq!(m.nonce(), Some("f//499k954d6OL34oL9FSTvy64sA"));
    assert_eq!(m.realm(), Some("example.org"));
    let key = IntegrityKey::long_term(MATRIX_USER, "example.org", MATRIX_PASSWORD);
    m.verify_integrity(&key).unwrap();
    assert!(!m.has(AttrType::FINGERPRINT));
}

#[test]
fn rfc5769_2_4_negative_twins() {
    let v = rfc5769_2_4();
    let key = IntegrityKey::long_term(MATRIX_USER, "example.org", MATRIX_PASSWORD);
    let n = v.len();
    assert_bit_flips_rejected(&v, n - 20..n, |m| m.verify_integrity(&key));
    // The password before SASLprep gives a different key.
    let raw_pw =
        IntegrityKey::long_term(MATRIX_USER, "example.org", "The\u{00AD}M\u{00AA}tr\u{2168}");
    assert!(Message::parse(&v)
        .unwrap()
        .verify_integrity(&raw_pw)
        .is_err());
    assert_every_truncation_fails(&v);
}

#[test]
fn rfc8489_b_1_sample_request_sha256_userhash() {
    let v = rfc8489_b_1();
    let m = Message::parse(&v).unwrap();
    assert_eq!(m.userhash(), Some(&userhash(MATRIX_USER, "example.org")));
    assert_eq!(m.nonce(), Some("obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA"));
    assert_eq!(m.realm(), Some("example.org"));
    assert_eq!(
        m.password_algorithm(),
        Some(PasswordAlgorithm {
            algorithm: PasswordAlgorithm::SHA256,
            parameters: &[]
        })
    );
    let key = IntegrityKey::long_term_sha256(MATRIX_USER, "example.org", MATRIX_PASSWORD);
    m.verify_integrity_sha256(&key).unwrap();
    // It carries no SHA-1 MESSAGE-INTEGRITY.
    assert!(m.verify_integrity(&key).is_err());
}

#[test]
fn rfc8489_b_1_rebuilt_byte_for_byte() {
    let v = rfc8489_b_1();
    let tid = Message::parse(&v).unwrap().transaction_id();
    let mut buf = [0u8; 256];
    let mut b = MessageBuilder::new(
        &mut buf,
        MessageType::new(Method::BINDING, Class::Request),
        tid,
    )
    .unwrap();
    let uh = userhash(MATRIX_USER, "example.org");
    b.add(&Attribute::Userhash(&uh)).unwrap();
    b.add(&Attribute::Nonce(
        "obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA",
    ))
    .unwrap();
    b.add(&Attribute::Realm("example.org")).unwrap();
    b.add(&Attribute::PasswordAlgorithm(PasswordAlgorithm {
        algorithm: PasswordAlgorithm::SHA256,
        parameters: &[],
    }))
    .unwrap();
    b.message_integrity_sha256(&IntegrityKey::long_term_sha256(
        MATRIX_USER,
        "example.org",
        MATRIX_PASSWORD,
    ))
    .unwrap();
    let n = b.finish();
    assert_eq!(&buf[..n], &v[..]);
}

#[test]
fn rfc8489_b_1_negative_twins() {
    let v = rfc8489_b_1();
    let key = IntegrityKey::long_term_sha256(MATRIX_USER, "example.org", MATRIX_PASSWORD);
    let n = v.len();
    assert_bit_flips_rejected(&v, n - 32..n, |m| m.verify_integrity_sha256(&key));
    // The MD5 long-term key is not the SHA-256 one.
    let md5 = IntegrityKey::long_term(MATRIX_USER, "example.org", MATRIX_PASSWORD);
    assert!(Message::parse(&v)
        .unwrap()
        .verify_integrity_sha256(&md5)
        .is_err());
    // The uncorrected vector as first published (length 0x9c, no
    // PASSWORD-ALGORITHM) does not parse: its length field disagrees with
    // its bytes.
    let mut original = v.clone();
    original[3] = 0x9c;
    assert!(Message::parse(&original).is_err());
    assert_every_truncation_fails(&v);
}

#[test]
fn truncated_sha256_integrity_verifies_and_wrong_lengths_do_not() {
    let key = IntegrityKey::short_term("pw");
    for len in [16, 20, 24, 28, 32] {
        let mut buf = [0u8; 128];
        let mut b = MessageBuilder::new(
            &mut buf,
            MessageType::new(Method::BINDING, Class::Request),
            TransactionId([5; 12]),
        )
        .unwrap();
        b.add(&Attribute::Username("user")).unwrap();
        b.message_integrity_sha256_truncated(&key, len).unwrap();
        b.fingerprint().unwrap();
        let n = b.finish();
        let m = Message::parse(&buf[..n]).unwrap();
        m.verify_integrity_sha256(&key).unwrap();
        m.verify_fingerprint().unwrap();
        assert_eq!(m.message_integrity_sha256().map(<[u8]>::len), Some(len));
    }
}
