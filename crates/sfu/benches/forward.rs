//! `sfu/forward`: the SFU's per-packet path, one SRTP packet in and its
//! fan-out to 10 subscribers out (benches/README.md).
//!
//! Setup (untimed): one SFU, one publisher and 10 subscribers, each a
//! [`tern_client::ClientTransport`] connected for real in memory (ICE +
//! DTLS-SRTP, virtual time, no sockets). The profile is whatever DTLS
//! negotiates by default — AEAD_AES_128_GCM (tern-dtls offers
//! `Profile::ALL`, GCM first); the bench asserts it.
//!
//! - `tern`: one 1212-byte RTP packet (1200-byte payload) protected by the
//!   publisher goes into [`Sfu::handle_receive`] (classify, tuple lookup,
//!   SSRC check, SRTP unprotect in place, store in the ring) and
//!   [`Sfu::poll_transmit`] is drained into 10 send buffers (copy, rewrite
//!   SSRC/seq/timestamp/PT, SRTP protect per subscriber).
//! - `aead-raw`: the crypto the path cannot avoid, with tern-srtp
//!   contexts of the same profile: one unprotect and, for 10 contexts, a
//!   copy of the plaintext into a send buffer and a protect.
//!
//! `tern / aead-raw` is the SFU's overhead over the crypto. Each iteration
//! gets a freshly protected packet with the next sequence number from an
//! untimed `iter_batched` setup (SRTP replay protection).
//!
//! `sfu/fanout`: the same two at 10 and at 500 subscribers with audio-size
//! packets (148-byte payload) and video-size ones (1200), throughput per
//! forwarded packet. Each
//! subscriber gets one packet per iteration, so at 500 the per-subscriber
//! state (transport, SRTP context and keys, rewrite maps) no longer stays
//! in cache between its packets: the user-space half of `tern bench`'s
//! fan-out linearity, without the kernel.
//!
//! `sfu/consent`: one ICE consent check (a STUN Binding request from a
//! subscriber) through the SFU at 10 and 500 subscribers: the answer, and
//! the next timeout the worker then asks for. What it costs should not
//! grow with the number of transports.
//!
//! `sfu/report_tick`: the tick on which every transport's RTCP report is
//! due, at 10 and 500 subscribers; per tick, so linear growth is what
//! it should show.
//!
//! `sfu/resubscribe`: one subscriber's renegotiation with 1 and with 100
//! rooms of 10 on the SFU: the control path's cost, which should follow
//! the room, not the server.
#![allow(missing_docs)]

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use tern_client::negotiation::{publish_media, subscribed_tracks, SubscriberPts, TrackSpec};
use tern_client::{ClientTransport, Role};
use tern_dtls::Certificate;
use tern_rtp::{Pt, RtpBuilder, Ssrc};
use tern_sdp::Setup;
use tern_sfu::{Sfu, SfuConfig, MIN_TRANSMIT_BUF};
use tern_signal::{MediaPlane, PublishNegotiation, SubscribeNegotiation};
use tern_srtp::{Context, MasterKey, Profile};

const SUBSCRIBERS: usize = 10;
const PAYLOAD: usize = 1200;
const AUDIO_PAYLOAD: usize = 148;
const PUB_SSRC: u32 = 0x1234;
const FWD_SSRC: u32 = 0xF000_0000;

fn sfu_addr() -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 3478)
}

/// The SFU and its connected clients (client 0 publishes).
struct Call {
    sfu: Sfu,
    clients: Vec<ClientTransport>,
    now: Instant,
}

impl Call {
    fn new(subscribers: usize) -> Call {
        Call::with_config(subscribers, |_| {})
    }

    fn with_config(subscribers: usize, tweak: impl FnOnce(&mut SfuConfig)) -> Call {
        let now = Instant::now();
        let mut config = SfuConfig::new(sfu_addr(), Certificate::generate().unwrap(), 1);
        tweak(&mut config);
        let mut sfu = Sfu::new(config, now);
        let cert = Certificate::generate().unwrap();
        let tracks = [TrackSpec::video("0", "pub-t0", PUB_SSRC, FWD_SSRC)];
        let mut clients = Vec::new();
        for i in 0..=subscribers {
            let name = if i == 0 {
                "pub".to_owned()
            } else {
                format!("s{i}")
            };
            let params = sfu.create_participant(&name, "room").unwrap();
            let local = SocketAddr::new(
                IpAddr::V4(Ipv4Addr::new(
                    10,
                    0,
                    1 + (i / 250) as u8,
                    (i % 250) as u8 + 1,
                )),
                5000,
            );
            let transport = if i == 0 {
                &params.publish
            } else {
                &params.subscribe
            };
            let c =
                ClientTransport::new(local, &cert, transport, Role::Client, 100 + i as u64, now)
                    .unwrap();
            let remote = c.remote_description();
            if i == 0 {
                let (media, published) = publish_media(&tracks);
                sfu.publish_changed(
                    &name,
                    &PublishNegotiation {
                        remote: &remote,
                        dtls_role: Setup::Passive,
                        ice_restart: false,
                        media: &media,
                        tracks: &published,
                    },
                )
                .unwrap();
            } else {
                let subs = subscribed_tracks("pub", &tracks, 0, SubscriberPts::default());
                sfu.subscribe_changed(
                    &name,
                    &SubscribeNegotiation {
                        remote: &remote,
                        dtls_role: Setup::Passive,
                        ice_restart: false,
                        tracks: &subs,
                        refused: &[],
                    },
                );
            }
            clients.push(c);
        }
        let mut call = Call { sfu, clients, now };
        call.connect();
        call
    }

    /// Moves datagrams until nobody has anything to send.
    fn flush(&mut self) {
        let mut buf = vec![0u8; 2048];
        loop {
            let mut moved = false;
            for c in &mut self.clients {
                while let Some(t) = c.poll_transmit(&mut buf) {
                    moved = true;
                    let from = c.local();
                    self.sfu
                        .handle_receive(self.now, from, t.destination, &mut buf[..t.len]);
                }
            }
            while let Some(t) = self.sfu.poll_transmit(&mut buf) {
                moved = true;
                if let Some(c) = self.clients.iter_mut().find(|c| c.local() == t.destination) {
                    c.handle_receive(self.now, t.source, &mut buf[..t.len]);
                }
            }
            while self.sfu.poll_event().is_some() {}
            if !moved {
                return;
            }
        }
    }

    /// Runs virtual time until every transport is connected.
    fn connect(&mut self) {
        let deadline = self.now + Duration::from_secs(20);
        while !self.clients.iter().all(|c| c.is_connected()) {
            self.flush();
            let next = self
                .clients
                .iter()
                .filter_map(|c| c.poll_timeout())
                .chain(self.sfu.poll_timeout())
                .min()
                .expect("a timer")
                .max(self.now);
            assert!(next < deadline, "not connected after 20 s of virtual time");
            self.now = next;
            for c in &mut self.clients {
                c.handle_timeout(self.now);
            }
            self.sfu.handle_timeout(self.now);
        }
        self.flush();
    }
}

/// RTP packet `seq` (`payload` bytes of payload) in a buffer with room
/// for the tag.
fn rtp(seq: u16, payload: usize) -> Vec<u8> {
    let mut b = vec![0u8; 12 + payload + 16];
    let payload = vec![0xAB; payload];
    let n = RtpBuilder::new(
        Pt::new(96).unwrap(),
        seq,
        u32::from(seq).wrapping_mul(3000),
        Ssrc(PUB_SSRC),
    )
    .payload(&payload)
    .write(&mut b)
    .unwrap();
    assert_eq!(n, 12 + payload.len());
    b
}

fn context(profile: Profile, i: usize) -> Context {
    let [lo, hi, ..] = i.to_le_bytes();
    let key: Vec<u8> = (0..profile.master_key_len() as u8)
        .map(|b| b ^ lo ^ hi.rotate_left(4))
        .collect();
    let salt: Vec<u8> = (0..profile.master_salt_len() as u8)
        .map(|b| b ^ lo ^ hi)
        .collect();
    Context::new(&MasterKey::new(profile, &key, &salt).unwrap()).unwrap()
}

/// Benches `tern` and `aead-raw` for one packet to `subscribers`, in
/// `group` under the function names `tern{suffix}` and `aead-raw{suffix}`.
fn fan_out(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    subscribers: usize,
    payload: usize,
    suffix: &str,
) {
    let mut call = Call::new(subscribers);
    let profile = call.clients[0].profile().unwrap();
    assert_eq!(
        profile,
        Profile::AeadAes128Gcm,
        "DTLS negotiates GCM by default"
    );
    let publisher_local = call.clients[0].local();
    // One send buffer per subscriber, and a spare for the poll that ends
    // the drain.
    let mut outs = vec![vec![0u8; MIN_TRANSMIT_BUF]; subscribers + 1];

    // Sanity (untimed): one packet reaches every subscriber, decrypted with
    // the forwarded SSRC.
    {
        let mut p = rtp(0, payload);
        let n = call.clients[0].protect_rtp(&mut p, 12 + payload).unwrap();
        p.truncate(n);
        call.sfu
            .handle_receive(call.now, publisher_local, sfu_addr(), &mut p);
        let mut got = 0;
        while let Some(t) = call.sfu.poll_transmit(&mut outs[0]) {
            let sub = call
                .clients
                .iter_mut()
                .find(|c| c.local() == t.destination)
                .unwrap();
            match sub.handle_receive(call.now, t.source, &mut outs[0][..t.len]) {
                tern_client::Incoming::Rtp(n) => {
                    assert_eq!(n, 12 + payload);
                    assert_eq!(&outs[0][8..12], &FWD_SSRC.to_be_bytes());
                    got += 1;
                }
                other => panic!("subscriber got {other:?}"),
            }
        }
        assert_eq!(got, subscribers, "one packet to each subscriber");
    }

    let mut seq: u16 = 1;
    let publisher = &mut call.clients[0];
    let sfu = &mut call.sfu;
    let now = call.now;
    g.bench_function(format!("tern{suffix}"), |b| {
        b.iter_batched(
            || {
                let mut p = rtp(seq, payload);
                seq = seq.wrapping_add(1);
                let n = publisher.protect_rtp(&mut p, 12 + payload).unwrap();
                p.truncate(n);
                p
            },
            |mut p| {
                sfu.handle_receive(now, publisher_local, sfu_addr(), &mut p);
                let mut k = 0;
                // The last call finds nothing; it still needs a buffer.
                while let Some(t) = sfu.poll_transmit(&mut outs[k.min(subscribers)]) {
                    black_box(t);
                    k += 1;
                }
                assert_eq!(k, subscribers, "exactly the fan-out");
                p
            },
            BatchSize::SmallInput,
        )
    });

    let mut sender = context(profile, 0);
    let mut receiver = context(profile, 0);
    let mut contexts: Vec<Context> = (1..=subscribers).map(|i| context(profile, i)).collect();
    let mut seq: u16 = 1;
    g.bench_function(format!("aead-raw{suffix}"), |b| {
        b.iter_batched(
            || {
                let mut p = rtp(seq, payload);
                seq = seq.wrapping_add(1);
                let n = sender.protect_rtp(&mut p, 12 + payload).unwrap();
                p.truncate(n);
                p
            },
            |mut p| {
                let n = receiver.unprotect_rtp(&mut p).unwrap();
                for (ctx, out) in contexts.iter_mut().zip(outs.iter_mut()) {
                    out[..n].copy_from_slice(&p[..n]);
                    black_box(ctx.protect_rtp(out, n).unwrap());
                }
                p
            },
            BatchSize::SmallInput,
        )
    });
}

/// A consent check (STUN Binding request) from subscriber client 1, taken
/// from its agent by running its own clock ahead until it sends one.
fn consent_check(call: &mut Call) -> Vec<u8> {
    let c = &mut call.clients[1];
    let mut at = call.now;
    let mut buf = vec![0u8; 2048];
    for _ in 0..1000 {
        while let Some(t) = c.poll_transmit(&mut buf) {
            if buf[0] < 4 {
                return buf[..t.len].to_vec();
            }
        }
        at = c.poll_timeout().expect("a client timer").max(at);
        c.handle_timeout(at);
    }
    panic!("no consent check from the client");
}

/// `sfu/consent`: one consent check through the SFU with `subscribers`
/// connected: `handle_receive`, the response drained, and `poll_timeout`
/// (as the worker asks after every batch).
fn consent(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    subscribers: usize,
) {
    let mut call = Call::new(subscribers);
    let check = consent_check(&mut call);
    let from = call.clients[1].local();
    let mut out = vec![0u8; MIN_TRANSMIT_BUF];
    // Sanity (untimed): it is answered.
    {
        let mut req = check.clone();
        call.sfu
            .handle_receive(call.now, from, sfu_addr(), &mut req);
        let t = call.sfu.poll_transmit(&mut out).expect("a response");
        assert_eq!((t.destination, out[0], out[1]), (from, 0x01, 0x01));
        assert!(call.sfu.poll_transmit(&mut out).is_none());
    }
    let sfu = &mut call.sfu;
    let now = call.now;
    g.bench_function(format!("tern/{subscribers}"), |b| {
        b.iter_batched(
            || check.clone(),
            |mut req| {
                sfu.handle_receive(now, from, sfu_addr(), &mut req);
                while let Some(t) = sfu.poll_transmit(&mut out) {
                    black_box(t);
                }
                black_box(sfu.poll_timeout());
                req
            },
            BatchSize::SmallInput,
        )
    });
}

/// `sfu/report_tick`: the timer tick on which every transport's report is
/// due (all report timers share one grid): receiver reports to the
/// publisher and sender reports to each of `subscribers`, drained. Each
/// iteration moves virtual time one report interval on; consent is set
/// to outlast the run, since no client answers meanwhile.
fn report_tick(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    subscribers: usize,
) {
    let interval = Duration::from_secs(1);
    let mut call = Call::with_config(subscribers, |c| {
        c.report_interval = interval;
        c.consent_timeout = Duration::from_secs(1 << 30);
    });
    let mut out = vec![0u8; MIN_TRANSMIT_BUF];
    // One packet forwarded to everyone: sender reports go to outputs that
    // have sent something.
    let mut p = rtp(0, AUDIO_PAYLOAD);
    let n = call.clients[0]
        .protect_rtp(&mut p, 12 + AUDIO_PAYLOAD)
        .unwrap();
    p.truncate(n);
    let from = call.clients[0].local();
    call.sfu.handle_receive(call.now, from, sfu_addr(), &mut p);
    while call.sfu.poll_transmit(&mut out).is_some() {}
    let sfu = &mut call.sfu;
    let mut now = call.now;
    let mut tick = |sfu: &mut Sfu| {
        now += interval;
        sfu.handle_timeout(now);
        let mut n = 0;
        while let Some(t) = sfu.poll_transmit(&mut out) {
            black_box(t);
            n += 1;
        }
        n
    };
    // Sanity (untimed): a report to every transport that has keys.
    tick(sfu);
    assert_eq!(tick(sfu), subscribers + 1, "one report per transport");
    g.bench_function(format!("tern/{subscribers}"), |b| b.iter(|| tick(sfu)));
}

/// `sfu/resubscribe`: one subscriber's `subscribe_changed` (the same
/// tracks again, as a renegotiation in its room sends) on an SFU holding
/// `rooms` rooms of 10 participants, each publishing one video track and
/// subscribing to the other nine. Not connected: only the control path
/// runs. What it costs should depend on the room, not on the server.
fn resubscribe(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    rooms: usize,
) {
    const PER_ROOM: usize = 10;
    let now = Instant::now();
    let mut sfu = Sfu::new(
        SfuConfig::new(sfu_addr(), Certificate::generate().unwrap(), 1),
        now,
    );
    let cert = Certificate::generate().unwrap();
    let spec = |i: usize| {
        let ssrc = 0x1000 + 2 * i as u32;
        TrackSpec::video("0", &format!("t{i}"), ssrc, FWD_SSRC + 2 * i as u32)
    };
    let name = |r: usize, i: usize| format!("r{r}p{i}");
    let mut remotes = Vec::new();
    for r in 0..rooms {
        for i in 0..PER_ROOM {
            let n = name(r, i);
            let params = sfu.create_participant(&n, &format!("room{r}")).unwrap();
            let local = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 1, r as u8, i as u8)), 5000);
            let [publish, subscribe] = [&params.publish, &params.subscribe].map(|t| {
                ClientTransport::new(local, &cert, t, Role::Client, 7, now)
                    .unwrap()
                    .remote_description()
            });
            let (media, published) = publish_media(&[spec(i)]);
            sfu.publish_changed(
                &n,
                &PublishNegotiation {
                    remote: &publish,
                    dtls_role: Setup::Passive,
                    ice_restart: false,
                    media: &media,
                    tracks: &published,
                },
            )
            .unwrap();
            remotes.push(subscribe);
        }
    }
    let tracks_of = |r: usize, i: usize| {
        let mut v = Vec::new();
        for j in (0..PER_ROOM).filter(|&j| j != i) {
            v.extend(subscribed_tracks(
                &name(r, j),
                &[spec(j)],
                v.len(),
                SubscriberPts::default(),
            ));
        }
        v
    };
    for r in 0..rooms {
        for i in 0..PER_ROOM {
            let tracks = tracks_of(r, i);
            sfu.subscribe_changed(
                &name(r, i),
                &SubscribeNegotiation {
                    remote: &remotes[r * PER_ROOM + i],
                    dtls_role: Setup::Passive,
                    ice_restart: false,
                    tracks: &tracks,
                    refused: &[],
                },
            );
        }
    }
    assert_eq!(
        sfu.track_counts(&name(0, 1)),
        Some((1, PER_ROOM - 1)),
        "every participant receives the other nine"
    );
    let tracks = tracks_of(0, 1);
    let remote = &remotes[1];
    let who = name(0, 1);
    g.bench_function(format!("tern/{rooms}x{PER_ROOM}"), |b| {
        b.iter(|| {
            sfu.subscribe_changed(
                black_box(&who),
                &SubscribeNegotiation {
                    remote,
                    dtls_role: Setup::Passive,
                    ice_restart: false,
                    tracks: &tracks,
                    refused: &[],
                },
            )
        })
    });
}

fn forward(c: &mut Criterion) {
    let mut g = c.benchmark_group("sfu/forward");
    g.throughput(Throughput::Elements(1));
    fan_out(&mut g, SUBSCRIBERS, PAYLOAD, "");
    g.finish();

    let mut g = c.benchmark_group("sfu/fanout");
    for (payload, size) in [(AUDIO_PAYLOAD, 160), (PAYLOAD, 1200)] {
        for n in [10, 500] {
            g.throughput(Throughput::Elements(n as u64));
            fan_out(&mut g, n, payload, &format!("/{n}x{size}"));
        }
    }
    g.finish();

    let mut g = c.benchmark_group("sfu/consent");
    for n in [10, 500] {
        consent(&mut g, n);
    }
    g.finish();

    let mut g = c.benchmark_group("sfu/report_tick");
    for n in [10, 500] {
        report_tick(&mut g, n);
    }
    g.finish();

    let mut g = c.benchmark_group("sfu/resubscribe");
    for rooms in [1, 100] {
        resubscribe(&mut g, rooms);
    }
    g.finish();
}

criterion_group!(benches, forward);
criterion_main!(benches);
