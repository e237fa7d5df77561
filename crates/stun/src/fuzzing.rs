//! Fuzz target bodies (`fuzz/fuzz_targets/stun_*.rs` call these). They live
//! here so ordinary builds type-check them and unit tests run them over the
//! seed corpus.
use crate::*;
use arbitrary::{Arbitrary, Unstructured};
use std::net::{IpAddr, SocketAddr};

/// `stun_parse`: parse arbitrary bytes; if valid, re-encode from the view
/// and get the same bytes (padding aside), decode every attribute, and run
/// integrity and fingerprint checks.
pub fn stun_parse(data: &[u8]) {
    let _ = looks_like_stun(data);
    crate::message::check_against_reference(data);
    let Ok(msg) = Message::parse(data) else {
        return;
    };
    // Re-encode every attribute on the wire, in order, with zero padding.
    let mut buf = vec![0u8; data.len()];
    let mut b = MessageBuilder::new(&mut buf, msg.message_type(), msg.transaction_id())
        .expect("header fits");
    for (t, v) in msg.raw_attributes() {
        b.add_raw(t, v)
            .expect("an attribute that parsed re-encodes");
    }
    let n = b.finish();
    assert_eq!(n, data.len());
    assert_eq!(buf, zero_padding(data), "re-encoding differs");

    // Typed accessors and the typed re-encoding agree with the parse.
    let key = IntegrityKey::short_term("fuzz");
    let _ = msg.verify_integrity(&key);
    let _ = msg.verify_integrity_sha256(&key);
    let _ = msg.verify_fingerprint();
    let _ = msg.unknown_comprehension_required();
    for a in msg.attributes() {
        let mut out = [0u8; 65_600];
        let mut b = MessageBuilder::new(&mut out, msg.message_type(), msg.transaction_id())
            .expect("header fits");
        if b.add(&a).is_ok() {
            let n = b.finish();
            let again = Message::parse(&out[..n]).expect("typed re-encoding parses");
            let back = again.attributes().next().expect("one attribute");
            assert_eq!(same_meaning(&a), same_meaning(&back));
        }
    }
}

/// The message with every attribute's padding set to zero.
fn zero_padding(data: &[u8]) -> Vec<u8> {
    let mut out = data.to_vec();
    let mut pos = HEADER_LEN;
    while pos + 4 <= out.len() {
        let len = usize::from(u16::from_be_bytes([out[pos + 2], out[pos + 3]]));
        let end = pos + 4 + len;
        let padded = pos + 4 + ((len + 3) & !3);
        out[end..padded].fill(0);
        pos = padded;
    }
    out
}

/// Attributes compared by meaning: reserved bits are not kept by decoding.
fn same_meaning(a: &Attribute<'_>) -> String {
    format!("{a:?}")
}

/// Structured input for `stun_build`.
#[derive(Debug, Arbitrary)]
pub struct BuildInput {
    method: u16,
    class: u8,
    tid: [u8; 12],
    attrs: Vec<BuildAttr>,
    key: Vec<u8>,
    integrity: u8,
    fingerprint: bool,
}

/// One attribute for `stun_build`.
#[derive(Debug, Arbitrary)]
#[allow(missing_docs)]
pub enum BuildAttr {
    Address(u8, bool, [u8; 16], u16),
    Text(u8, String),
    ErrorCode(u16, String),
    Unknown(Vec<u16>),
    Number32(u8, u32),
    Number64(bool, u64),
    Flag(bool),
    Channel(u16),
    Data(Vec<u8>),
    Family(bool, bool),
    EvenPort(bool),
    Transport(u8),
    Token([u8; 8]),
    Userhash([u8; 32]),
    PasswordAlgorithm(u16, Vec<u8>),
    Raw(u16, Vec<u8>),
}

/// `stun_build`: whatever the builder writes parses back to the same values,
/// and integrity and fingerprint verify.
pub fn stun_build(data: &[u8]) {
    let Ok(input) = BuildInput::arbitrary(&mut Unstructured::new(data)) else {
        return;
    };
    let class = match input.class % 4 {
        0 => Class::Request,
        1 => Class::Indication,
        2 => Class::SuccessResponse,
        _ => Class::ErrorResponse,
    };
    let Some(method) = Method::new(input.method & 0x0FFF) else {
        return;
    };
    let typ = MessageType::new(method, class);
    let tid = TransactionId(input.tid);
    let key = IntegrityKey::from_bytes(&input.key);
    let mut unknown_store = Vec::new();
    let mut pw_store = Vec::new();
    for a in &input.attrs {
        if let BuildAttr::Unknown(list) = a {
            unknown_store.push(
                list.iter()
                    .flat_map(|t| t.to_be_bytes())
                    .collect::<Vec<u8>>(),
            );
        }
        if let BuildAttr::PasswordAlgorithm(_, p) = a {
            pw_store.push(p.clone());
        }
    }
    let mut unknown_iter = unknown_store.iter();
    let mut pw_iter = pw_store.iter();
    let mut wanted: Vec<Attribute<'_>> = Vec::new();
    for a in &input.attrs {
        let attr = match a {
            BuildAttr::Address(kind, v6, ip, port) => {
                let ip: IpAddr = if *v6 {
                    IpAddr::from(*ip)
                } else {
                    IpAddr::from([ip[0], ip[1], ip[2], ip[3]])
                };
                let sa = SocketAddr::new(ip, *port);
                match kind % 5 {
                    0 => Attribute::MappedAddress(sa),
                    1 => Attribute::XorMappedAddress(sa),
                    2 => Attribute::AlternateServer(sa),
                    3 => Attribute::XorPeerAddress(sa),
                    _ => Attribute::XorRelayedAddress(sa),
                }
            }
            BuildAttr::Text(kind, s) => match kind % 5 {
                0 => Attribute::Username(s),
                1 => Attribute::Realm(s),
                2 => Attribute::Nonce(s),
                3 => Attribute::Software(s),
                _ => Attribute::AlternateDomain(s),
            },
            BuildAttr::ErrorCode(code, reason) => Attribute::ErrorCode(ErrorCode {
                code: 300 + code % 400,
                reason,
            }),
            BuildAttr::Unknown(_) => match unknown_iter.next() {
                Some(b) => Attribute::UnknownAttributes(UnknownAttributes::from_bytes(b)),
                None => continue,
            },
            BuildAttr::Number32(kind, x) => match kind % 2 {
                0 => Attribute::Priority(*x),
                _ => Attribute::Lifetime(*x),
            },
            BuildAttr::Number64(controlling, x) => {
                if *controlling {
                    Attribute::IceControlling(*x)
                } else {
                    Attribute::IceControlled(*x)
                }
            }
            BuildAttr::Flag(uc) => {
                if *uc {
                    Attribute::UseCandidate
                } else {
                    Attribute::DontFragment
                }
            }
            BuildAttr::Channel(n) => Attribute::ChannelNumber(*n),
            BuildAttr::Data(d) => Attribute::Data(d),
            BuildAttr::Family(additional, v6) => {
                let f = if *v6 { 2 } else { 1 };
                if *additional {
                    Attribute::AdditionalAddressFamily(f)
                } else {
                    Attribute::RequestedAddressFamily(f)
                }
            }
            BuildAttr::EvenPort(r) => Attribute::EvenPort(*r),
            BuildAttr::Transport(p) => Attribute::RequestedTransport(*p),
            BuildAttr::Token(t) => Attribute::ReservationToken(t),
            BuildAttr::Userhash(h) => Attribute::Userhash(h),
            BuildAttr::PasswordAlgorithm(alg, _) => match pw_iter.next() {
                Some(p) => Attribute::PasswordAlgorithm(PasswordAlgorithm {
                    algorithm: *alg,
                    parameters: p,
                }),
                None => continue,
            },
            BuildAttr::Raw(t, v) => {
                let t = AttrType(*t);
                // Known types go through their typed form; integrity and
                // fingerprint attributes are computed, not supplied.
                if t.is_known() {
                    continue;
                }
                Attribute::Other(t, v)
            }
        };
        wanted.push(attr);
    }

    let mut buf = vec![0u8; 4096];
    let mut b = MessageBuilder::new(&mut buf, typ, tid).expect("header fits");
    let mut added = Vec::new();
    for a in &wanted {
        if b.add(a).is_ok() {
            added.push(*a);
        }
    }
    let mi = input.integrity % 4;
    let with_mi = (mi & 1 == 1) && b.message_integrity(&key).is_ok();
    let with_mi256 = (mi & 2 == 2) && b.message_integrity_sha256(&key).is_ok();
    let with_fp = input.fingerprint && b.fingerprint().is_ok();
    let n = b.finish();

    let msg = Message::parse(&buf[..n]).expect("what the builder writes parses");
    assert_eq!(msg.message_type(), typ);
    assert_eq!(msg.transaction_id(), tid);
    let got: Vec<Attribute<'_>> = msg
        .attributes()
        .filter(|a| {
            !matches!(
                a.attr_type(),
                AttrType::MESSAGE_INTEGRITY
                    | AttrType::MESSAGE_INTEGRITY_SHA256
                    | AttrType::FINGERPRINT
            )
        })
        .collect();
    assert_eq!(got, added, "attributes read back differently");
    if with_mi {
        msg.verify_integrity(&key)
            .expect("MESSAGE-INTEGRITY verifies");
    }
    if with_mi256 {
        msg.verify_integrity_sha256(&key)
            .expect("MESSAGE-INTEGRITY-SHA256 verifies");
    }
    if with_fp {
        msg.verify_fingerprint().expect("FINGERPRINT verifies");
    }
}

#[cfg(test)]
mod tests {
    use tern_testkit::fuzz_seeds as seeds;

    /// A small deterministic PRNG for mutating seeds (SplitMix64).
    fn next(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    #[test]
    fn stun_parse_over_seeds_truncations_and_mutations() {
        let mut rng = 0x5EED_u64;
        for seed in seeds("stun_parse") {
            super::stun_parse(&seed);
            for n in 0..seed.len() {
                super::stun_parse(&seed[..n]);
            }
            for _ in 0..2000 {
                let mut m = seed.clone();
                for _ in 0..1 + next(&mut rng) % 4 {
                    let i = (next(&mut rng) as usize) % m.len();
                    m[i] ^= 1 << (next(&mut rng) % 8);
                }
                super::stun_parse(&m);
            }
        }
    }

    #[test]
    fn stun_build_over_seeds_and_random_inputs() {
        for seed in seeds("stun_build") {
            super::stun_build(&seed);
        }
        let mut rng = 0xB111D_u64;
        for len in 0..600 {
            let data: Vec<u8> = (0..len).map(|_| next(&mut rng) as u8).collect();
            super::stun_build(&data);
        }
    }
}
