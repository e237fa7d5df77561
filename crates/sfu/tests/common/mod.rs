//! A group call on tern-sim: an SFU and participants built from Tern's own
//! client stack (full ICE agent, DTLS client, SRTP contexts), wired through
//! the SFU's `MediaPlane` implementation the way signaling would.
#![allow(dead_code)]

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use tern_client::negotiation::{publish_media, subscribed_tracks, SubscriberPts, TrackSpec};
use tern_client::{ClientTransport, Incoming, Role};
use tern_dtls::Certificate;
use tern_rtp::rtcp::{CompoundIter, CompoundWriter, NackBuilder, NackPair, RtcpPacket, RtcpWrite};
use tern_rtp::{Pt, RtpBuilder, RtpPacket, Ssrc};
use tern_sdp::{RemoteTransport, Setup};
use tern_sfu::{Event, Sfu, SfuConfig};
use tern_signal::{MediaPlane, PublishNegotiation, SubscribeNegotiation, TransportParams};
use tern_sim::{Endpoint, EndpointId, Sim, SimConfig, Transmit};

pub const SFU_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
pub const VIDEO_PT: u8 = 96;
pub const VIDEO_RTX_PT: u8 = 97;
/// The payload types the SFU offers subscribers (different on purpose).
pub const SUB_VIDEO_PT: u8 = 100;
pub const SUB_VIDEO_RTX_PT: u8 = 101;

pub fn sfu_addr() -> SocketAddr {
    SocketAddr::new(SFU_IP, 3478)
}

/// One client transport ([`tern_client::ClientTransport`]: full ICE,
/// controlling; DTLS; SRTP) and the protected media it has queued.
pub struct Transport {
    pub local: SocketAddr,
    pub t: ClientTransport,
    /// Protected RTP/RTCP waiting for the sim: `(destination, datagram)`.
    pub out: VecDeque<(SocketAddr, Vec<u8>)>,
}

impl Transport {
    fn new(
        local: SocketAddr,
        cert: &Certificate,
        sfu: &TransportParams,
        seed: u64,
        now: Instant,
    ) -> Self {
        Transport {
            local,
            t: ClientTransport::new(local, cert, sfu, Role::Client, seed, now).unwrap(),
            out: VecDeque::new(),
        }
    }

    pub fn remote(&self) -> RemoteTransport {
        self.t.remote_description()
    }

    pub fn connected(&self) -> bool {
        self.t.is_connected()
    }

    /// Protect and queue an RTP packet.
    pub fn send_rtp(&mut self, pkt: &[u8]) {
        let Some(dst) = self.t.remote_addr().filter(|_| self.t.is_connected()) else {
            return;
        };
        let mut buf = vec![0u8; pkt.len() + 64];
        buf[..pkt.len()].copy_from_slice(pkt);
        let n = self.t.protect_rtp(&mut buf, pkt.len()).unwrap();
        buf.truncate(n);
        self.out.push_back((dst, buf));
    }

    /// Protect and queue an RTCP compound.
    pub fn send_rtcp(&mut self, pkt: &[u8]) {
        let Some(dst) = self.t.remote_addr().filter(|_| self.t.is_connected()) else {
            return;
        };
        let mut buf = vec![0u8; pkt.len() + 64];
        buf[..pkt.len()].copy_from_slice(pkt);
        let n = self.t.protect_rtcp(&mut buf, pkt.len()).unwrap();
        buf.truncate(n);
        self.out.push_back((dst, buf));
    }

    /// The next datagram to send: control first, then queued media.
    fn poll_transmit(&mut self, buf: &mut [u8]) -> Option<Transmit> {
        if let Some(t) = self.t.poll_transmit(buf) {
            return Some(Transmit {
                source: self.local,
                destination: t.destination,
                len: t.len,
            });
        }
        let (dst, data) = self.out.pop_front()?;
        buf[..data.len()].copy_from_slice(&data);
        Some(Transmit {
            source: self.local,
            destination: dst,
            len: data.len(),
        })
    }
}

/// What a client publishes: one video track with RTX.
pub struct VideoSender {
    pub ssrc: u32,
    pub rtx_ssrc: u32,
    pub seq: u16,
    pub ts: u32,
    pub rtx_seq: u16,
    pub next_at: Instant,
    pub interval: Duration,
    /// Sent packets by sequence number (for RTX).
    pub sent: HashMap<u16, Vec<u8>>,
    pub count: u64,
    pub rtx_sent: u64,
    pub stop_after: Option<u64>,
}

/// What a subscriber saw of one forwarded SSRC.
#[derive(Default)]
pub struct Received {
    /// Payload ids (publisher's packet counter) received.
    pub ids: BTreeSet<u64>,
    pub seqs: Vec<u16>,
    pub timestamps: Vec<u32>,
    pub rtx: u64,
    pub payload_types: BTreeSet<u8>,
}

pub struct Client {
    pub name: String,
    pub publish: Transport,
    pub subscribe: Transport,
    pub video: Option<VideoSender>,
    /// Forwarded SSRC → what arrived; RTX SSRC → media SSRC.
    pub received: HashMap<u32, Received>,
    pub rtx_map: HashMap<u32, u32>,
    pub nacks_received: u64,
    pub plis_received: u64,
    pub srs_received: u64,
    /// Every sender report received: when, its SSRC, NTP and RTP times,
    /// and the RTP timestamp of the last packet received on that SSRC.
    pub srs: Vec<(Instant, u32, u64, u32, Option<u32>)>,
    /// Send a sender report for the video every this long, claiming an
    /// RTP time `pub_sr_skew` ahead of the packets' clock.
    pub pub_sr_every: Option<Duration>,
    pub pub_sr_skew: u32,
    pub last_pub_sr: Option<Instant>,
    pub rtcp_to_sub: u64,
    /// Send NACKs for gaps seen on the subscribe transport.
    pub nack_downstream: bool,
    pub nacks_sent: u64,
    /// Raw packets to send on the publish transport (attacks).
    pub inject: VecDeque<Vec<u8>>,
    pub inject_rtcp_sub: VecDeque<Vec<u8>>,
}

impl Client {
    fn on_receive(&mut self, now: Instant, from: SocketAddr, to: SocketAddr, data: &[u8]) {
        let is_pub = to == self.publish.local;
        let t = if is_pub {
            &mut self.publish
        } else {
            &mut self.subscribe
        };
        let mut buf = data.to_vec();
        match t.t.handle_receive(now, from, &mut buf) {
            Incoming::Consumed | Incoming::Dropped(_) => {}
            Incoming::Rtp(n) => {
                let pkt = RtpPacket::new_checked(&buf[..n]).unwrap();
                let mut ssrc = pkt.ssrc().0;
                let mut payload = pkt.payload();
                let mut seq = pkt.sequence_number();
                let mut rtx = false;
                if let Some(&m) = self.rtx_map.get(&ssrc) {
                    seq = u16::from_be_bytes([payload[0], payload[1]]);
                    payload = &payload[2..];
                    ssrc = m;
                    rtx = true;
                }
                let id = u64::from_be_bytes(payload[..8].try_into().unwrap());
                let r = self.received.entry(ssrc).or_default();
                r.ids.insert(id);
                r.payload_types.insert(pkt.payload_type().get());
                if rtx {
                    r.rtx += 1;
                } else {
                    // NACK gaps downstream (simple: everything between the
                    // last and this one).
                    if self.nack_downstream {
                        if let Some(&last) = r.seqs.last() {
                            let gap = seq.wrapping_sub(last);
                            if (2..100).contains(&gap) {
                                let lost: Vec<u16> =
                                    (1..gap).map(|i| last.wrapping_add(i)).collect();
                                let pairs: Vec<NackPair> =
                                    tern_rtp::rtcp::nack_pairs(lost).collect();
                                let nack = NackBuilder {
                                    sender_ssrc: Ssrc(1),
                                    media_ssrc: Ssrc(ssrc),
                                    pairs: &pairs,
                                };
                                let mut b = vec![0u8; nack.buffer_len()];
                                nack.write(&mut b).unwrap();
                                self.nacks_sent += 1;
                                self.subscribe.send_rtcp(&b);
                            }
                        }
                    }
                    let r = self.received.entry(ssrc).or_default();
                    if r.seqs.last().is_none_or(|&l| seq.wrapping_sub(l) < 0x8000) {
                        r.seqs.push(seq);
                        r.timestamps.push(pkt.timestamp());
                    }
                }
            }
            Incoming::Rtcp(n) => {
                if !is_pub {
                    self.rtcp_to_sub += 1;
                }
                let mut answer: Vec<u16> = Vec::new();
                for p in CompoundIter::new(&buf[..n]).flatten() {
                    match p {
                        RtcpPacket::Nack(nk) if is_pub => {
                            self.nacks_received += 1;
                            answer.extend(nk.lost());
                        }
                        RtcpPacket::Pli(_) if is_pub => self.plis_received += 1,
                        RtcpPacket::SenderReport(sr) => {
                            self.srs_received += 1;
                            let info = sr.sender_info();
                            let last = self
                                .received
                                .get(&sr.ssrc().0)
                                .and_then(|r| r.timestamps.last().copied());
                            self.srs
                                .push((now, sr.ssrc().0, info.ntp_time.0, info.rtp_time, last));
                        }
                        _ => {}
                    }
                }
                if let Some(v) = self.video.as_mut() {
                    for s in answer {
                        let Some(orig) = v.sent.get(&s) else { continue };
                        let p = RtpPacket::new_checked(&orig[..]).unwrap();
                        let mut body = s.to_be_bytes().to_vec();
                        body.extend_from_slice(p.payload());
                        let mut b = vec![0u8; 1500];
                        let n = RtpBuilder::new(
                            Pt::new(VIDEO_RTX_PT).unwrap(),
                            v.rtx_seq,
                            p.timestamp(),
                            Ssrc(v.rtx_ssrc),
                        )
                        .payload(&body)
                        .write(&mut b)
                        .unwrap();
                        v.rtx_seq = v.rtx_seq.wrapping_add(1);
                        v.rtx_sent += 1;
                        b.truncate(n);
                        self.publish.send_rtp(&b);
                    }
                }
            }
        }
    }

    fn send_media(&mut self, now: Instant) {
        if !self.publish.connected() {
            return;
        }
        while let Some(p) = self.inject.pop_front() {
            self.publish.send_rtp(&p);
        }
        while let Some(p) = self.inject_rtcp_sub.pop_front() {
            self.subscribe.send_rtcp(&p);
        }
        let Some(v) = self.video.as_mut() else { return };
        while v.next_at <= now {
            if v.stop_after.is_some_and(|s| v.count >= s) {
                return;
            }
            let mut payload = vec![0xAB; 200];
            payload[..8].copy_from_slice(&v.count.to_be_bytes());
            let mut b = vec![0u8; 1500];
            let n = RtpBuilder::new(Pt::new(VIDEO_PT).unwrap(), v.seq, v.ts, Ssrc(v.ssrc))
                .payload(&payload)
                .write(&mut b)
                .unwrap();
            b.truncate(n);
            v.sent.insert(v.seq, b.clone());
            if v.sent.len() > 2000 {
                v.sent.remove(&v.seq.wrapping_sub(2000));
            }
            v.seq = v.seq.wrapping_add(1);
            v.ts = v.ts.wrapping_add(900);
            v.count += 1;
            v.next_at += v.interval;
            self.publish.send_rtp(&b);
        }
        if let Some(every) = self.pub_sr_every {
            if self.last_pub_sr.is_none_or(|l| now >= l + every) {
                self.last_pub_sr = Some(now);
                // The packet clock: `v.ts` belongs to `v.next_at`.
                let back = v.next_at.saturating_duration_since(now).as_micros() as u32 * 9 / 100;
                let sr = tern_rtp::rtcp::SenderReportBuilder {
                    ssrc: Ssrc(v.ssrc),
                    info: tern_rtp::rtcp::SenderInfo {
                        ntp_time: tern_rtp::NtpTime(0x1234_5678_0000_0000),
                        rtp_time: v.ts.wrapping_sub(back).wrapping_add(self.pub_sr_skew),
                        packet_count: v.count as u32,
                        octet_count: 0,
                    },
                    reports: &[],
                    profile_ext: &[],
                };
                let b = Call::write_rtcp(&[&sr]);
                self.publish.send_rtcp(&b);
            }
        }
    }
}

pub struct SfuNode {
    pub sfu: Sfu,
    pub events: Vec<Event>,
    scratch: Vec<u8>,
}

impl SfuNode {
    fn drain_events(&mut self) {
        while let Some(e) = self.sfu.poll_event() {
            self.events.push(e);
        }
    }
}

pub enum Node {
    Sfu(Box<SfuNode>),
    Client(Box<Client>),
}

impl Node {
    pub fn sfu(&self) -> &SfuNode {
        match self {
            Node::Sfu(s) => s,
            Node::Client(_) => panic!("not the SFU"),
        }
    }
    pub fn sfu_mut(&mut self) -> &mut SfuNode {
        match self {
            Node::Sfu(s) => s,
            Node::Client(_) => panic!("not the SFU"),
        }
    }
    pub fn client(&self) -> &Client {
        match self {
            Node::Client(c) => c,
            Node::Sfu(_) => panic!("not a client"),
        }
    }
    pub fn client_mut(&mut self) -> &mut Client {
        match self {
            Node::Client(c) => c,
            Node::Sfu(_) => panic!("not a client"),
        }
    }
}

impl Endpoint for Node {
    fn handle_receive(&mut self, now: Instant, from: SocketAddr, to: SocketAddr, data: &[u8]) {
        match self {
            Node::Sfu(s) => {
                s.scratch.clear();
                s.scratch.extend_from_slice(data);
                let mut buf = std::mem::take(&mut s.scratch);
                s.sfu.handle_receive(now, from, to, &mut buf);
                s.scratch = buf;
                s.drain_events();
            }
            Node::Client(c) => {
                c.on_receive(now, from, to, data);
                c.send_media(now);
            }
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        match self {
            Node::Sfu(s) => {
                s.sfu.handle_timeout(now);
                s.drain_events();
            }
            Node::Client(c) => {
                c.publish.t.handle_timeout(now);
                c.subscribe.t.handle_timeout(now);
                c.send_media(now);
            }
        }
    }

    fn poll_transmit(&mut self, _now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        match self {
            Node::Sfu(s) => {
                let t = s.sfu.poll_transmit(buf)?;
                Some(Transmit {
                    source: t.source,
                    destination: t.destination,
                    len: t.len,
                })
            }
            Node::Client(c) => c
                .publish
                .poll_transmit(buf)
                .or_else(|| c.subscribe.poll_transmit(buf)),
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        match self {
            Node::Sfu(s) => s.sfu.poll_timeout(),
            Node::Client(c) => {
                let mut at = [
                    c.publish.t.poll_timeout(),
                    c.subscribe.t.poll_timeout(),
                    c.video
                        .as_ref()
                        .filter(|v| v.stop_after.is_none_or(|s| v.count < s))
                        .filter(|_| c.publish.connected())
                        .map(|v| v.next_at),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>();
                at.sort();
                at.first().copied()
            }
        }
    }
}

/// Publisher `i`'s video track (VP8 on [`VIDEO_PT`] with RTX on
/// [`VIDEO_RTX_PT`]), sent on `ssrc`/`rtx_ssrc`, forwarded on
/// [`forward_ssrc`]`(i)` and the next SSRC for RTX.
pub fn video_spec(name: &str, i: usize, ssrc: u32, rtx_ssrc: u32) -> TrackSpec {
    let spec = TrackSpec {
        pt: VIDEO_PT,
        ..TrackSpec::video("0", &format!("{name}-t0"), ssrc, forward_ssrc(i))
            .with_rtx(rtx_ssrc, forward_ssrc(i) + 1)
    };
    assert_eq!(spec.rtx_pt, Some(VIDEO_RTX_PT));
    spec
}

/// A call: the SFU at index 0, clients after it.
/// A publisher's video stream the test writes itself (see
/// [`Call::take_over_video`]).
pub struct TakenVideo {
    pub name: String,
    pub ssrc: u32,
    /// The next packet's sequence number and RTP timestamp.
    pub seq: u16,
    pub ts: u32,
    /// The publisher's publish-transport address: the packets' source.
    pub local: SocketAddr,
}

pub struct Call {
    pub sim: Sim<Node>,
    pub sfu: EndpointId,
    pub clients: Vec<(String, EndpointId)>,
    pub epoch: Instant,
    pub cert: Certificate,
}

/// The forwarded SSRC of `publisher`'s video (fixed per publisher index).
pub fn forward_ssrc(i: usize) -> u32 {
    0xF000_0000 + i as u32 * 2
}

impl Call {
    pub fn new(seed: u64) -> Call {
        Call::with_config(seed, |_| {})
    }

    /// A call whose SFU configuration `adjust` changes first.
    pub fn with_config(seed: u64, adjust: impl FnOnce(&mut SfuConfig)) -> Call {
        let epoch = Instant::now();
        let mut sim = Sim::new(SimConfig::new(seed, epoch));
        let cert = Certificate::generate().unwrap();
        let mut config = SfuConfig::new(sfu_addr(), cert.clone(), seed);
        adjust(&mut config);
        let sfu = Sfu::new(config, epoch);
        let id = sim.add_endpoint(
            Node::Sfu(Box::new(SfuNode {
                sfu,
                events: vec![],
                scratch: Vec::with_capacity(2048),
            })),
            &[SFU_IP],
        );
        Call {
            sim,
            sfu: id,
            clients: vec![],
            epoch,
            cert,
        }
    }

    pub fn sfu(&mut self) -> &mut Sfu {
        &mut self.sim.endpoint_mut(self.sfu).sfu_mut().sfu
    }

    pub fn client(&self, name: &str) -> &Client {
        let id = self.id(name);
        self.sim.endpoint(id).client()
    }

    pub fn client_mut(&mut self, name: &str) -> &mut Client {
        let id = self.id(name);
        self.sim.endpoint_mut(id).client_mut()
    }

    pub fn id(&self, name: &str) -> EndpointId {
        self.clients.iter().find(|(n, _)| n == name).unwrap().1
    }

    pub fn index(&self, name: &str) -> usize {
        self.clients.iter().position(|(n, _)| n == name).unwrap()
    }

    /// Join `name` to `room`; if `publish`, it publishes one video track.
    pub fn join(&mut self, name: &str, room: &str, publish: bool) -> EndpointId {
        let i = self.clients.len();
        let ip = IpAddr::V4(Ipv4Addr::new(10, 0, 1, 1 + i as u8));
        let now = self.sim.now();
        self.sfu().set_now(now);
        let params = self.sfu().create_participant(name, room).unwrap();
        let ccert = Certificate::generate().unwrap();
        let seed = 1000 + i as u64;
        let publish_t = Transport::new(
            SocketAddr::new(ip, 5000),
            &ccert,
            &params.publish,
            seed,
            now,
        );
        let subscribe_t = Transport::new(
            SocketAddr::new(ip, 5002),
            &ccert,
            &params.subscribe,
            seed + 500,
            now,
        );
        let video = publish.then(|| VideoSender {
            ssrc: 0x1000 + i as u32 * 16,
            rtx_ssrc: 0x1001 + i as u32 * 16,
            seq: 65_000, // wraps soon
            ts: 1,
            rtx_seq: 7,
            next_at: now,
            interval: Duration::from_millis(10),
            sent: HashMap::new(),
            count: 0,
            rtx_sent: 0,
            stop_after: None,
        });
        let client = Client {
            name: name.to_owned(),
            publish: publish_t,
            subscribe: subscribe_t,
            video,
            received: HashMap::new(),
            rtx_map: HashMap::new(),
            nacks_received: 0,
            plis_received: 0,
            srs_received: 0,
            srs: Vec::new(),
            pub_sr_every: None,
            pub_sr_skew: 0,
            last_pub_sr: None,
            rtcp_to_sub: 0,
            nack_downstream: false,
            nacks_sent: 0,
            inject: VecDeque::new(),
            inject_rtcp_sub: VecDeque::new(),
        };
        let remote = client.publish.remote();
        let video_ssrcs = client.video.as_ref().map(|v| (v.ssrc, v.rtx_ssrc));
        let id = self.sim.add_endpoint(Node::Client(Box::new(client)), &[ip]);
        self.clients.push((name.to_owned(), id));
        // The publish negotiation.
        let specs: Vec<TrackSpec> = video_ssrcs
            .map(|(s, r)| video_spec(name, i, s, r))
            .into_iter()
            .collect();
        self.publish(name, &remote, &specs);
        id
    }

    /// Signaling's publish answer for `name` sending `specs` (the SFU's
    /// DTLS role passive, no ICE restart).
    fn publish(&mut self, name: &str, remote: &RemoteTransport, specs: &[TrackSpec]) {
        let (media, tracks) = publish_media(specs);
        self.sfu()
            .publish_changed(
                name,
                &PublishNegotiation {
                    remote,
                    dtls_role: Setup::Passive,
                    ice_restart: false,
                    media: &media,
                    tracks: &tracks,
                },
            )
            .unwrap();
    }

    /// (Re)negotiate `name`'s subscriptions: every other publisher in the
    /// list.
    pub fn subscribe(&mut self, name: &str, publishers: &[&str], rtx: bool) {
        self.subscribe_with_role(name, publishers, rtx, Setup::Passive);
    }

    /// As [`Call::subscribe`] with the SFU's DTLS role on the subscribe
    /// transport (`Setup::Active`: the client answered `passive`).
    pub fn subscribe_with_role(
        &mut self,
        name: &str,
        publishers: &[&str],
        rtx: bool,
        sfu_role: Setup,
    ) {
        let pts = SubscriberPts {
            video: SUB_VIDEO_PT,
            video_rtx: rtx.then_some(SUB_VIDEO_RTX_PT),
            audio: 111,
        };
        let mut tracks = Vec::new();
        for p in publishers {
            let pi = self.index(p);
            // Only the forwarded SSRCs and the track id matter here.
            let spec = video_spec(p, pi, 0, 0);
            tracks.extend(subscribed_tracks(p, &[spec], pi, pts));
        }
        let c = self.client_mut(name);
        if sfu_role == Setup::Active {
            c.subscribe.t.set_role(Role::Server).unwrap();
        }
        let remote = c.subscribe.remote();
        let rtx_pairs: Vec<(u32, u32)> = tracks
            .iter()
            .filter_map(|t| t.track.rtx_ssrc.map(|r| (r, t.track.ssrc)))
            .collect();
        c.rtx_map.extend(rtx_pairs);
        let now = self.sim.now();
        self.sfu().set_now(now);
        self.sfu().subscribe_changed(
            name,
            &SubscribeNegotiation {
                remote: &remote,
                dtls_role: sfu_role,
                ice_restart: false,
                tracks: &tracks,
                refused: &[],
            },
        );
    }

    pub fn run(&mut self, d: Duration) {
        self.sim.run_for(d);
    }

    pub fn events(&self) -> &[Event] {
        &self.sim.endpoint(self.sfu).sfu().events
    }

    pub fn all_connected(&self) -> bool {
        self.clients.iter().all(|(_, id)| {
            let c = self.sim.endpoint(*id).client();
            c.publish.connected() && c.subscribe.connected()
        })
    }

    pub fn sfu_ref(&self) -> &Sfu {
        &self.sim.endpoint(self.sfu).sfu().sfu
    }

    pub fn write_rtcp(w: &[&dyn RtcpWrite]) -> Vec<u8> {
        let mut b = vec![0u8; 1500];
        let mut c = CompoundWriter::new(&mut b);
        for p in w {
            c.push(*p).unwrap();
        }
        let n = c.finish();
        b.truncate(n);
        b
    }
}

impl Call {
    /// `name` restarts its video source: a new SSRC (and RTX SSRC), a new
    /// random-looking sequence number and timestamp, renegotiated.
    pub fn republish(&mut self, name: &str, new_ssrc: u32) {
        let i = self.index(name);
        let c = self.client_mut(name);
        let v = c.video.as_mut().unwrap();
        v.ssrc = new_ssrc;
        v.rtx_ssrc = new_ssrc + 1;
        v.seq = 12_345;
        v.ts = 0x7000_0000;
        v.sent.clear();
        let remote = c.publish.remote();
        let now = self.sim.now();
        self.sfu().set_now(now);
        self.publish(
            name,
            &remote,
            &[video_spec(name, i, new_ssrc, new_ssrc + 1)],
        );
    }

    /// An RTP packet (plaintext) as `name`'s publisher would send it but
    /// with `ssrc` and a payload id.
    pub fn rtp_with(ssrc: u32, seq: u16, id: u64) -> Vec<u8> {
        let mut payload = vec![0xCD; 100];
        payload[..8].copy_from_slice(&id.to_be_bytes());
        let mut b = vec![0u8; 1500];
        let n = RtpBuilder::new(Pt::new(VIDEO_PT).unwrap(), seq, 5, Ssrc(ssrc))
            .payload(&payload)
            .write(&mut b)
            .unwrap();
        b.truncate(n);
        b
    }

    /// Stops `name`'s own video sender (after what it sent so far), lets
    /// 100 ms pass, and hands its stream to the test, which then feeds the
    /// SFU itself (see [`Call::next_video_packet`]).
    pub fn take_over_video(&mut self, name: &str) -> TakenVideo {
        let taken = {
            let c = self.client_mut(name);
            let v = c.video.as_mut().unwrap();
            v.stop_after = Some(v.count);
            TakenVideo {
                name: name.to_owned(),
                ssrc: v.ssrc,
                seq: v.seq,
                ts: v.ts,
                local: c.publish.local,
            }
        };
        self.run(Duration::from_millis(100));
        taken
    }

    /// The next packet of `v` (its payload tagged with `id`, one frame
    /// after the last at 100 fps), protected with the publisher's SRTP
    /// context: ready for `Sfu::handle_receive` from `v.local`.
    pub fn next_video_packet(&mut self, v: &mut TakenVideo, id: u64) -> Vec<u8> {
        let mut p = Call::rtp_with(v.ssrc, v.seq, id);
        p[4..8].copy_from_slice(&v.ts.to_be_bytes());
        let len = p.len();
        p.resize(len + 32, 0);
        let tx = &mut self.client_mut(&v.name).publish.t;
        let n = tx.protect_rtp(&mut p, len).unwrap();
        p.truncate(n);
        v.seq = v.seq.wrapping_add(1);
        v.ts = v.ts.wrapping_add(900);
        p
    }
}
