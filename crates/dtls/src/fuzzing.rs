//! Fuzz target bodies (the files under `fuzz/fuzz_targets/` call these).

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::{Certificate, Config, Dtls, Role};

fn certs() -> &'static (Certificate, Certificate) {
    static CERTS: OnceLock<(Certificate, Certificate)> = OnceLock::new();
    CERTS.get_or_init(
        || match (Certificate::generate(), Certificate::generate()) {
            (Ok(a), Ok(b)) => (a, b),
            _ => panic!("certificate generation failed"),
        },
    )
}

/// Arbitrary datagrams into a server handshake. The input is a sequence
/// of `len (u16 BE) ‖ bytes` datagrams, each followed by a clock step of
/// 250 ms. Checks: no panic, every datagram out fits the MTU, and the
/// endpoint's queues stay under the configured cap.
pub fn dtls_server_input(data: &[u8]) {
    let (local, remote) = certs();
    let peer: SocketAddr = SocketAddr::from(([192, 0, 2, 1], 5000));
    let start = Instant::now();
    let config = Config {
        mtu: 1200,
        max_buffered_bytes: 16 * 1024,
        ..Config::default()
    };
    let Ok(mut server) = Dtls::new(
        Role::Server,
        peer,
        local,
        remote.fingerprint(),
        config,
        start,
    ) else {
        return;
    };
    let mut now = start;
    let mut rest = data;
    let mut out = [0u8; 1500];
    while rest.len() >= 2 {
        let n = usize::from(u16::from_be_bytes([rest[0], rest[1]])).min(rest.len() - 2);
        let (d, r) = rest[2..].split_at(n);
        rest = r;
        server.handle_receive(now, peer, d);
        now += Duration::from_millis(250);
        server.handle_timeout(now);
        while let Some(t) = server.poll_transmit(&mut out) {
            assert!(t.len <= 1200, "datagram over the MTU");
        }
        while server.poll_event().is_some() {}
    }
}

#[cfg(all(test, feature = "fuzzing"))]
mod tests {
    #[test]
    fn dtls_server_input_runs_over_the_seeds_and_their_truncations() {
        let seeds = tern_testkit::fuzz_seeds("dtls_server_input");
        assert!(seeds.len() >= 3);
        for s in seeds {
            super::dtls_server_input(&s);
            for k in (0..s.len()).step_by(7) {
                super::dtls_server_input(&s[..k]);
            }
        }
    }
}
