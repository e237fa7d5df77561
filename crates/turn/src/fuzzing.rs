//! Fuzz target bodies (see fuzz/fuzz_targets/turn_*.rs), also run over the
//! committed seeds by ordinary tests.
use crate::{ChannelData, IpRange, SeededEnv, ServerConfig, TurnServer, CHANNEL_MAX_RFC5766};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tern_stun::{
    AttrType, Attribute, Class, IntegrityKey, Message, MessageBuilder, MessageType, Method,
    TransactionId,
};

/// `turn_channeldata`: parsing never panics, and what parses re-encodes to
/// the same bytes (without padding), in both number ranges.
pub fn turn_channeldata(data: &[u8]) {
    for max in [crate::CHANNEL_MAX, CHANNEL_MAX_RFC5766] {
        if let Ok(cd) = ChannelData::parse_up_to(data, max) {
            assert!((crate::CHANNEL_MIN..=max).contains(&cd.number()));
            let mut out = vec![0u8; data.len()];
            let n = ChannelData::encode(cd.number(), cd.data(), &mut out).expect("re-encodes");
            assert_eq!(&out[..n], &data[..n]);
            assert!(data.len() - n <= 3);
        }
    }
}

const SOURCES: [&str; 4] = [
    "203.0.113.5:4000",
    "203.0.113.6:4001",
    "10.1.2.3:5000",
    "[2001:db8::1]:6000",
];
const PEERS: [&str; 6] = [
    "10.1.2.3:5000",
    "203.0.113.5:4000",
    "127.0.0.1:1",
    "[::ffff:10.1.2.3]:5000",
    "8.8.8.8:53",
    "192.0.2.1:3478",
];
const ATTRS: [AttrType; 12] = [
    AttrType::REQUESTED_TRANSPORT,
    AttrType::LIFETIME,
    AttrType::XOR_PEER_ADDRESS,
    AttrType::CHANNEL_NUMBER,
    AttrType::EVEN_PORT,
    AttrType::RESERVATION_TOKEN,
    AttrType::REQUESTED_ADDRESS_FAMILY,
    AttrType::DONT_FRAGMENT,
    AttrType::ADDITIONAL_ADDRESS_FAMILY,
    AttrType::DATA,
    AttrType(0x7777),
    AttrType::SOFTWARE,
];

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("address literal")
}

/// Builds an authenticated request from fuzz bytes: `[method, then
/// (type selector, length, value...)*]`. XOR-PEER-ADDRESS values are
/// `[peer selector, port_hi, port_lo]`, encoded properly by the harness.
fn authenticated(bytes: &[u8], nonce: &str, key: &IntegrityKey, tid: u32) -> Option<Vec<u8>> {
    let (&sel, mut rest) = bytes.split_first()?;
    let method = [
        Method::ALLOCATE,
        Method::REFRESH,
        Method::CREATE_PERMISSION,
        Method::CHANNEL_BIND,
    ][usize::from(sel & 3)];
    let mut t = [0u8; 12];
    t[..4].copy_from_slice(&tid.to_be_bytes());
    let mut buf = vec![0u8; 4096];
    let mut b = MessageBuilder::new(
        &mut buf,
        MessageType::new(method, Class::Request),
        TransactionId(t),
    )
    .ok()?;
    while let [ty, len, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let (v, next) = tail.split_at(n);
        rest = next;
        let typ = ATTRS[usize::from(*ty) % ATTRS.len()];
        if typ == AttrType::XOR_PEER_ADDRESS {
            let [p, hi, lo, ..] = v else { continue };
            let mut a = addr(PEERS[usize::from(*p) % PEERS.len()]);
            if *p >= 128 {
                a.set_port(u16::from_be_bytes([*hi, *lo]));
            }
            b.add(&Attribute::XorPeerAddress(a)).ok()?;
        } else {
            b.add_raw(typ, v).ok()?;
        }
    }
    b.add(&Attribute::Username("u")).ok()?;
    b.add(&Attribute::Realm("fuzz")).ok()?;
    b.add(&Attribute::Nonce(nonce)).ok()?;
    b.message_integrity(key).ok()?;
    if sel & 4 != 0 {
        b.fingerprint().ok()?;
    }
    let n = b.finish();
    buf.truncate(n);
    Some(buf)
}

/// `turn_server_input`: a sequence of datagrams into a server. Each record
/// is `[flags, len_hi, len_lo, bytes...]`. `flags & 3` picks the source,
/// `flags & 4` sends to the first open relay address instead of the
/// listening address, `flags & 8` turns the bytes into an authenticated
/// request (see [`authenticated`]) with the last nonce the server gave,
/// and `flags >> 4` advances the clock (×250 ms; 15 jumps 700 s).
/// Invariants: no panic; state within the configured bounds; every queued
/// datagram comes out and fits.
pub fn turn_server_input(data: &[u8]) {
    run_server(data);
}

fn run_server(data: &[u8]) -> crate::ServerStats {
    let now0 = Instant::now();
    let listen = addr("192.0.2.1:3478");
    let mut cfg = ServerConfig::new("fuzz", listen.ip());
    cfg.relay_v6 = Some("2001:db8::100".parse().expect("ip"));
    cfg.users.push(("u".into(), "p".into()));
    cfg.shared_secret = Some(b"s".to_vec());
    cfg.relay_ports = (50000, 50015);
    cfg.max_allocations = 4;
    cfg.max_allocations_per_user = 3;
    cfg.max_permissions = 4;
    cfg.max_channels = 4;
    cfg.max_queued = 64;
    cfg.peer_policy.server_addresses.push(listen.ip());
    cfg.peer_policy
        .allow
        .push(IpRange::parse("10.0.0.0/8").expect("range"));
    cfg.rfc5766_channel_numbers = data.first().is_some_and(|b| b & 1 == 1);
    cfg.support_dont_fragment = data.first().is_some_and(|b| b & 2 == 2);
    let key = IntegrityKey::long_term("u", "fuzz", "p");
    let mut s = TurnServer::new(cfg, SeededEnv::new(1), now0, 1_700_000_000);
    let mut now = now0;
    let mut rest = data.get(1..).unwrap_or_default();
    let mut out = vec![0u8; 70_000];
    let mut nonce = String::from("none");
    let mut tid = 0u32;
    while let [flags, hi, lo, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*hi, *lo])).min(tail.len());
        let (dgram, next) = tail.split_at(len);
        rest = next;
        now += match flags >> 4 {
            15 => Duration::from_secs(700),
            n => Duration::from_millis(u64::from(n) * 250),
        };
        s.handle_timeout(now);
        let src = addr(SOURCES[usize::from(flags & 3)]);
        let dst = if flags & 4 != 0 {
            s.env().open.iter().next().copied().unwrap_or(listen)
        } else {
            listen
        };
        tid = tid.wrapping_add(1);
        let built;
        let dgram = if flags & 8 != 0 {
            match authenticated(dgram, &nonce, &key, tid) {
                Some(b) => {
                    built = b;
                    &built[..]
                }
                None => continue,
            }
        } else {
            dgram
        };
        s.handle_receive(now, src, dst, dgram);
        let st = s.state_size();
        assert!(st.allocations <= 4 && st.permissions <= 16 && st.channels <= 16);
        assert!(st.reservations <= 4 && st.queued <= 64);
        assert_eq!(st.relays, s.env().open.len());
        while let Some(t) = s.poll_transmit(&mut out) {
            assert!(t.len <= out.len());
            if let Ok(m) = Message::parse(&out[..t.len]) {
                if let Some(n) = m.nonce() {
                    nonce = n.to_owned();
                }
            }
        }
    }
    s.stats()
}

#[cfg(test)]
mod tests {
    use tern_testkit::fuzz_seeds as seeds;

    #[test]
    fn turn_server_input_runs_over_the_seeds_and_their_truncations() {
        for s in seeds("turn_server_input") {
            for n in 0..=s.len() {
                super::turn_server_input(&s[..n]);
            }
        }
    }

    #[test]
    fn turn_channeldata_runs_over_the_seeds_and_their_truncations() {
        for s in seeds("turn_channeldata") {
            for n in 0..=s.len() {
                super::turn_channeldata(&s[..n]);
            }
        }
    }

    #[test]
    fn the_relay_seeds_get_data_through_both_ways() {
        // The fuzzer must start from sequences that authenticate and relay,
        // or it would rarely get past the 401.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fuzz/corpus/turn_server_input");
        for name in ["seed-send-data", "seed-channel"] {
            let bytes = std::fs::read(dir.join(name)).unwrap();
            let st = super::run_server(&bytes);
            assert!(st.to_peer >= 1 && st.to_client >= 1, "{name}: {st:?}");
        }
        let refused = std::fs::read(dir.join("seed-refused-peers")).unwrap();
        assert!(super::run_server(&refused).peer_refused >= 2);
    }
}
