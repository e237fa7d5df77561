//! tern-client against the real SFU, in memory on virtual time: one SFU, a
//! publisher and a subscriber, datagrams moved by a small loop. ICE + DTLS
//! connect, media flows publisher → SFU → subscriber and decrypts in place
//! with the forwarded SSRC; corrupted, replayed and garbage datagrams are
//! dropped without a panic.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use tern_client::negotiation::{publish_media, subscribed_tracks, SubscriberPts, TrackSpec};
use tern_client::{ClientTransport, Incoming, Role, MIN_TRANSMIT_BUF};
use tern_dtls::Certificate;
use tern_rtp::{Pt, RtpBuilder, RtpPacket, Ssrc};
use tern_sdp::Setup;
use tern_sfu::{Sfu, SfuConfig};
use tern_signal::{MediaPlane, PublishNegotiation, SubscribeNegotiation};

const PUB_SSRC: u32 = 0x1111;
const FWD_SSRC: u32 = 0xF000_0000;

fn sfu_addr() -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 3478)
}

/// The SFU and its clients, wired by a loop on virtual time.
struct Net {
    sfu: Sfu,
    clients: Vec<ClientTransport>,
    now: Instant,
    /// What each client received: `(from, datagram)` as it arrived, and
    /// what handle_receive made of it, with the plaintext.
    media: Vec<Vec<(Incoming, Vec<u8>)>>,
    /// The last raw SRTP/SRTCP datagram the SFU sent each client.
    last_raw: Vec<Option<Vec<u8>>>,
}

impl Net {
    /// Moves datagrams until nobody has anything to send.
    fn flush(&mut self) {
        let mut buf = vec![0u8; 2048];
        loop {
            let mut moved = false;
            for i in 0..self.clients.len() {
                while let Some(t) = self.clients[i].poll_transmit(&mut buf) {
                    assert!(t.len <= MIN_TRANSMIT_BUF);
                    moved = true;
                    if t.destination == sfu_addr() {
                        let from = self.clients[i].local();
                        self.sfu
                            .handle_receive(self.now, from, sfu_addr(), &mut buf[..t.len]);
                    }
                }
            }
            while let Some(t) = self.sfu.poll_transmit(&mut buf) {
                moved = true;
                let Some(i) = self.clients.iter().position(|c| c.local() == t.destination) else {
                    continue;
                };
                let raw = buf[..t.len].to_vec();
                let got = self.clients[i].handle_receive(self.now, t.source, &mut buf[..t.len]);
                match got {
                    Incoming::Rtp(n) | Incoming::Rtcp(n) => {
                        self.last_raw[i] = Some(raw);
                        self.media[i].push((got, buf[..n].to_vec()));
                    }
                    Incoming::Consumed => {}
                    Incoming::Dropped(why) => panic!("client {i} dropped an SFU datagram: {why}"),
                }
            }
            while self.sfu.poll_event().is_some() {}
            if !moved {
                return;
            }
        }
    }

    /// Runs timers and traffic for `d` of virtual time.
    fn run(&mut self, d: Duration) {
        let end = self.now + d;
        loop {
            self.flush();
            let next = self
                .clients
                .iter()
                .filter_map(|c| c.poll_timeout())
                .chain(self.sfu.poll_timeout())
                .min()
                .unwrap_or(end)
                .max(self.now);
            if next > end {
                self.now = end;
                return;
            }
            self.now = next;
            for c in &mut self.clients {
                c.handle_timeout(self.now);
            }
            self.sfu.handle_timeout(self.now);
        }
    }

    fn run_until_connected(&mut self) {
        for _ in 0..200 {
            if self.clients.iter().all(|c| c.is_connected()) {
                return;
            }
            self.run(Duration::from_millis(50));
        }
        panic!("not connected after 10 s: {:?}", self.clients);
    }

    /// Publisher (client 0) sends one RTP packet; the SFU forwards it.
    fn publish(&mut self, seq: u16, payload: &[u8]) {
        let mut buf = vec![0u8; 1500];
        let n = RtpBuilder::new(Pt::new(96).unwrap(), seq, 9000, Ssrc(PUB_SSRC))
            .payload(payload)
            .write(&mut buf)
            .unwrap();
        let n = self.clients[0].protect_rtp(&mut buf, n).unwrap();
        assert_eq!(self.clients[0].remote_addr(), Some(sfu_addr()));
        let from = self.clients[0].local();
        self.sfu
            .handle_receive(self.now, from, sfu_addr(), &mut buf[..n]);
        self.flush();
    }
}

/// An SFU with a publisher (client 0, one VP8 track) and a subscriber
/// (client 1) receiving it; `sub_role` is the subscriber's DTLS role.
fn call(seed: u64, sub_role: Role) -> Net {
    let now = Instant::now();
    let cert = Certificate::generate().unwrap();
    let mut sfu = Sfu::new(SfuConfig::new(sfu_addr(), cert, seed), now);
    let ccert = Certificate::generate().unwrap();
    let ip = |n| IpAddr::V4(Ipv4Addr::new(10, 0, 1, n));
    let p = sfu.create_participant("alice", "room").unwrap();
    let s = sfu.create_participant("bob", "room").unwrap();
    let publisher = ClientTransport::new(
        SocketAddr::new(ip(1), 5000),
        &ccert,
        &p.publish,
        Role::Client,
        seed + 1,
        now,
    )
    .unwrap();
    let subscriber = ClientTransport::new(
        SocketAddr::new(ip(2), 5002),
        &ccert,
        &s.subscribe,
        sub_role,
        seed + 2,
        now,
    )
    .unwrap();
    let tracks = [TrackSpec::video("0", "alice-t0", PUB_SSRC, FWD_SSRC)];
    let (media, published) = publish_media(&tracks);
    sfu.publish_changed(
        "alice",
        &PublishNegotiation {
            remote: &publisher.remote_description(),
            dtls_role: Setup::Passive,
            ice_restart: false,
            media: &media,
            tracks: &published,
        },
    )
    .unwrap();
    let subs = subscribed_tracks("alice", &tracks, 0, SubscriberPts::default());
    sfu.subscribe_changed(
        "bob",
        &SubscribeNegotiation {
            remote: &subscriber.remote_description(),
            dtls_role: if sub_role == Role::Client {
                Setup::Passive
            } else {
                Setup::Active
            },
            ice_restart: false,
            tracks: &subs,
            refused: &[],
        },
    );
    Net {
        sfu,
        clients: vec![publisher, subscriber],
        now,
        media: vec![vec![], vec![]],
        last_raw: vec![None, None],
    }
}

fn forwarded_rtp(net: &Net) -> Vec<Vec<u8>> {
    net.media[1]
        .iter()
        .filter(|(i, _)| matches!(i, Incoming::Rtp(_)))
        .map(|(_, p)| p.clone())
        .collect()
}

#[test]
fn publisher_rtp_reaches_the_subscriber_decrypted_in_place() {
    let mut net = call(7, Role::Client);
    net.run_until_connected();
    assert!(net.clients[0].profile().is_some());
    assert_eq!(net.clients[1].remote_addr(), Some(sfu_addr()));
    for seq in 0..20u16 {
        let mut payload = vec![0x5A; 300];
        payload[..2].copy_from_slice(&seq.to_be_bytes());
        net.publish(seq, &payload);
    }
    let got = forwarded_rtp(&net);
    assert_eq!(got.len(), 20, "every packet forwarded once");
    for (i, p) in got.iter().enumerate() {
        let pkt = RtpPacket::new_checked(p).unwrap();
        assert_eq!(pkt.ssrc(), Ssrc(FWD_SSRC), "the forwarded SSRC");
        assert_eq!(pkt.payload_type().get(), 96);
        assert_eq!(pkt.payload().len(), 300);
        assert_eq!(&pkt.payload()[..2], &(i as u16).to_be_bytes());
        assert!(pkt.payload()[2..].iter().all(|&b| b == 0x5A));
    }
}

#[test]
fn subscriber_as_dtls_server_connects() {
    let mut net = call(11, Role::Server);
    net.run_until_connected();
    assert_eq!(net.clients[1].role(), Role::Server);
    net.publish(1, &[1; 50]);
    assert_eq!(forwarded_rtp(&net).len(), 1);
}

#[test]
fn corrupted_and_replayed_srtp_is_dropped() {
    let mut net = call(13, Role::Client);
    net.run_until_connected();
    net.publish(100, &[7; 200]);
    let raw = net.last_raw[1].clone().expect("a forwarded SRTP packet");
    let from = sfu_addr();
    let now = net.now;
    let sub = &mut net.clients[1];
    // The genuine packet was already accepted: a replay.
    let mut again = raw.clone();
    assert!(matches!(
        sub.handle_receive(now, from, &mut again),
        Incoming::Dropped(_)
    ));
    // A fresh packet with any one byte past the RTP header flipped fails
    // authentication (a failed packet never moves the replay window, so
    // each copy is judged on its tag alone).
    net.publish(101, &[7; 200]);
    let raw = net.last_raw[1].clone().unwrap();
    let sub = &mut net.clients[1];
    for i in 12..raw.len() {
        let mut bad = raw.clone();
        bad[i] ^= 0x01;
        assert!(
            matches!(
                sub.handle_receive(now, from, &mut bad),
                Incoming::Dropped(_)
            ),
            "byte {i} flipped"
        );
    }
    // A truncated packet is dropped too.
    let mut short = raw[..raw.len() - 1].to_vec();
    assert!(matches!(
        sub.handle_receive(now, from, &mut short),
        Incoming::Dropped(_)
    ));
    // SRTP from a foreign address is dropped before decryption.
    let mut foreign = raw.clone();
    let evil: SocketAddr = "10.9.9.9:4000".parse().unwrap();
    assert!(matches!(
        sub.handle_receive(now, evil, &mut foreign),
        Incoming::Dropped(_)
    ));
    // Media still flows afterwards.
    net.publish(102, &[8; 200]);
    assert_eq!(forwarded_rtp(&net).len(), 3);
}

/// Pseudo-random bytes for the garbage sweep.
fn noise(rnd: &mut dyn FnMut() -> u64, out: &mut [u8]) {
    for b in out {
        *b = rnd() as u8;
    }
}

#[test]
fn garbage_of_every_length_never_panics() {
    let mut net = call(17, Role::Client);
    // Before connecting: a transport with no DTLS and no keys.
    let fresh = &mut net.clients[1];
    let mut rnd = tern_testkit::xorshift64(0x1234_5678_9abc_def0u64);
    let firsts = [
        0u8, 1, 3, 16, 20, 22, 23, 63, 64, 79, 127, 128, 0x80, 0x90, 191, 255,
    ];
    let sweep = |t: &mut ClientTransport, now: Instant, rnd: &mut dyn FnMut() -> u64| {
        for from in [sfu_addr(), "10.9.9.9:4000".parse().unwrap()] {
            for len in 0..200usize {
                for &first in &firsts {
                    for second in [0u8, 96, 200, 201, 206] {
                        let mut d = vec![0u8; len];
                        noise(rnd, &mut d);
                        if len > 0 {
                            d[0] = first;
                        }
                        if len > 1 {
                            d[1] = second;
                        }
                        match t.handle_receive(now, from, &mut d) {
                            Incoming::Rtp(n) | Incoming::Rtcp(n) => {
                                panic!("garbage of length {len} accepted as {n} bytes")
                            }
                            Incoming::Consumed | Incoming::Dropped(_) => {}
                        }
                    }
                }
            }
        }
        let mut buf = [0u8; MIN_TRANSMIT_BUF];
        while t.poll_transmit(&mut buf).is_some() {}
    };
    sweep(fresh, net.now, &mut rnd);
    net.run_until_connected();
    for i in 0..2 {
        let now = net.now;
        sweep(&mut net.clients[i], now, &mut rnd);
    }
    assert!(net.clients.iter().all(|c| c.is_connected()));
    assert!(net.clients.iter().all(|c| c.failure().is_none()));
    // Media still flows.
    net.publish(5, &[3; 100]);
    assert_eq!(forwarded_rtp(&net).len(), 1);
}
