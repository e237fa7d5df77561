//! Fuzz target body (`fuzz/fuzz_targets/client_input.rs` calls it): a
//! client transport toward a fixed SFU transport receives arbitrary
//! datagrams from the SFU's address and from a stranger, with time moving
//! on, and is asked to protect arbitrary media. Nothing may panic; every
//! datagram it sends fits the caller's buffer; what it reports as
//! decrypted fits the datagram.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tern_dtls::Certificate;
use tern_sdp::Setup;
use tern_signal::TransportParams;

use crate::{ClientTransport, Incoming, Role, MIN_TRANSMIT_BUF};

fn cert() -> &'static Certificate {
    static CERT: OnceLock<Certificate> = OnceLock::new();
    CERT.get_or_init(|| match Certificate::generate() {
        Ok(c) => c,
        Err(_) => panic!("certificate generation failed"),
    })
}

/// The SFU's media address the transport is pointed at.
pub const SFU: ([u8; 4], u16) = ([10, 0, 0, 1], 3478);

/// Input: a role byte, then datagrams as `[source, len, bytes...]`
/// (source odd: a stranger; `len` capped by what is left). Source byte
/// 0xFF instead protects the bytes as RTP (or RTCP when `len` is odd).
pub fn client_input(data: &[u8]) {
    let Some((&role, mut rest)) = data.split_first() else {
        return;
    };
    let sfu = SocketAddr::from(SFU);
    let stranger = SocketAddr::from(([10, 0, 0, 9], 4000));
    let params = TransportParams {
        ice_ufrag: "sfuF".into(),
        ice_pwd: "sfuPassword0123456789abc".into(),
        fingerprints: vec![("sha-256".into(), cert().fingerprint().to_string())],
        setup_when_actpass: Setup::Passive,
        candidates: vec![format!(
            "1 1 udp 2130706431 {} {} typ host",
            sfu.ip(),
            sfu.port()
        )],
    };
    let role = if role & 1 == 0 {
        Role::Client
    } else {
        Role::Server
    };
    let mut now = Instant::now();
    let local = SocketAddr::from(([10, 0, 1, 1], 5000));
    let Ok(mut t) = ClientTransport::new(local, cert(), &params, role, 7, now) else {
        panic!("valid parameters refused");
    };
    let mut buf = vec![0u8; 2048];
    let mut out = vec![0u8; MIN_TRANSMIT_BUF];
    while let [src, len, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let (datagram, next) = tail.split_at(n);
        rest = next;
        let d = &mut buf[..n];
        d.copy_from_slice(datagram);
        if *src == 0xFF {
            let cap = (n + 64).min(buf.len());
            let r = if n % 2 == 0 {
                t.protect_rtp(&mut buf[..cap], n)
            } else {
                t.protect_rtcp(&mut buf[..cap], n)
            };
            if let Ok(m) = r {
                assert!(m <= cap, "protected beyond the buffer");
            }
        } else {
            let from = if src % 2 == 0 { sfu } else { stranger };
            match t.handle_receive(now, from, d) {
                Incoming::Rtp(m) | Incoming::Rtcp(m) => {
                    assert!(m <= n, "plaintext beyond the datagram")
                }
                Incoming::Consumed | Incoming::Dropped(_) => {}
            }
        }
        now += Duration::from_millis(u64::from(*src % 64));
        if t.poll_timeout().is_some_and(|at| at <= now) {
            t.handle_timeout(now);
        }
        let mut sent = 0;
        while let Some(tx) = t.poll_transmit(&mut out) {
            assert!(tx.len <= out.len(), "datagram longer than the buffer");
            sent += 1;
            assert!(sent < 10_000, "transmit queue does not drain");
        }
    }
}

#[cfg(test)]
mod tests {
    /// The committed seeds (a STUN-looking, a DTLS-looking, an RTP-looking
    /// datagram and a protect request, from both sources) run clean.
    #[test]
    fn client_input_seeds_run() {
        let seeds = tern_testkit::fuzz_seeds("client_input");
        assert!(!seeds.is_empty());
        for seed in seeds {
            super::client_input(&seed);
        }
    }
}
