//! Fuzz target bodies (see fuzz/fuzz_targets/turn_*.rs).
use crate::{ChannelData, IpRange, SeededEnv, ServerConfig, TurnServer};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// `turn_channeldata`: parsing never panics, and what parses re-encodes to
/// the same bytes (without padding).
pub fn turn_channeldata(data: &[u8]) {
    if let Ok(cd) = ChannelData::parse(data) {
        let mut out = vec![0u8; data.len()];
        let n = ChannelData::encode(cd.number(), cd.data(), &mut out).expect("re-encodes");
        assert_eq!(&out[..n], &data[..n]);
        assert!(data.len() - n <= 3);
    }
}

/// `turn_server_input`: a sequence of datagrams into a server. Each record
/// is `[flags, len_hi, len_lo, bytes...]`: `flags` picks the source (one of
/// four clients or peers), the destination (listening address or the first
/// relay), and how far the clock moves first. Invariants: no panic, state
/// stays within the configured bounds, every queued datagram comes out.
pub fn turn_server_input(data: &[u8]) {
    let now0 = Instant::now();
    let listen: SocketAddr = "192.0.2.1:3478".parse().expect("addr");
    let mut cfg = ServerConfig::new("fuzz", "192.0.2.1".parse().expect("ip"));
    cfg.users.push(("u".into(), "p".into()));
    cfg.shared_secret = Some(b"s".to_vec());
    cfg.relay_ports = (50000, 50015);
    cfg.max_allocations = 4;
    cfg.max_allocations_per_user = 2;
    cfg.max_permissions = 4;
    cfg.max_channels = 4;
    cfg.peer_policy
        .allow
        .push(IpRange::parse("10.0.0.0/8").expect("range"));
    let mut s = TurnServer::new(cfg, SeededEnv::new(1), now0, 1_700_000_000);
    let mut now = now0;
    let mut rest = data;
    let mut out = vec![0u8; 70_000];
    while let [flags, hi, lo, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*hi, *lo])).min(tail.len());
        let (dgram, next) = tail.split_at(len);
        rest = next;
        now += Duration::from_millis(u64::from(flags >> 4) * 250);
        s.handle_timeout(now);
        let src: SocketAddr = match flags & 3 {
            0 => "203.0.113.5:4000".parse().expect("addr"),
            1 => "203.0.113.6:4001".parse().expect("addr"),
            2 => "10.1.2.3:5000".parse().expect("addr"),
            _ => "[2001:db8::1]:6000".parse().expect("addr"),
        };
        let dst = if flags & 4 != 0 {
            s.env().open.iter().next().copied().unwrap_or(listen)
        } else {
            listen
        };
        s.handle_receive(now, src, dst, dgram);
        let st = s.state_size();
        assert!(st.allocations <= 4 && st.permissions <= 16 && st.channels <= 16);
        assert!(st.queued <= 1024);
        while let Some(t) = s.poll_transmit(&mut out) {
            assert!(t.len <= out.len());
        }
    }
}
