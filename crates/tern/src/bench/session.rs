//! The load generator: participants built from Tern's own client stack
//! (tern-client: full ICE, DTLS client, SRTP) on real loopback sockets
//! (tern-net batches), connected to the SFU's workers the way signaling
//! would connect them, then driven by a sender and a receiver thread per
//! room.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use tern_client::negotiation::{publish_media, subscribed_tracks, SubscriberPts, TrackSpec};
use tern_client::{ClientTransport, Incoming, Role};
use tern_dtls::Certificate;
use tern_net::{BatchSocket, RecvBatch, SendBatch, SfuPlane, SocketConfig, Worker};
use tern_rtp::{classify, PacketKind, RtpPacket};
use tern_sdp::Setup;
use tern_signal::{MediaPlane, PublishNegotiation, SubscribeNegotiation};

/// Bytes an SRTP AES-GCM tag adds (the profile Tern's DTLS prefers).
pub const SRTP_OVERHEAD: usize = 16;
/// RTP header the generator writes (no CSRC, no extension).
const RTP_HEADER: usize = 12;
/// Largest burst ("frame") of video packets sent back to back.
const MAX_BURST: u64 = 64;

/// One generator endpoint: a socket and the client transport on it.
pub struct Endpoint {
    pub socket: BatchSocket,
    pub transport: ClientTransport,
}

/// A publisher: an audio and a video track.
///
/// Traffic for the relay baselines goes out on two other SSRCs
/// (`audio_ssrc + 2`, `video_ssrc + 2`) with their own sequence numbers:
/// the SFU never sees those packets, so had they advanced the SFU's
/// streams, its next phase could meet a sequence number that wrapped
/// unseen and (rightly, RFC 3711 §3.3.1) lose the rollover counter.
pub struct Publisher {
    pub ep: Endpoint,
    pub audio_ssrc: u32,
    pub video_ssrc: u32,
    /// Next sequence number per stream: audio, video, relay audio, relay
    /// video (see [`Publisher::stream`]).
    seqs: [u16; 4],
    ts: u32,
    counter: u64,
}

/// Where the relay baselines' SSRCs sit relative to the SFU's.
pub const RELAY_SSRC_OFFSET: u32 = 2;

impl Publisher {
    /// Writes the next SRTP packet of `size` bytes on the wire into `buf`
    /// (audio when `size` ≤ 300 bytes, else video): RTP header, the send
    /// time (`sent_ns`) and a packet counter at the start of the payload,
    /// protected in place, on the relay baselines' SSRC when `relay`.
    /// Returns its length.
    pub fn write_packet(
        &mut self,
        buf: &mut [u8],
        size: usize,
        relay: bool,
        marker: bool,
        sent_ns: u64,
    ) -> Option<usize> {
        let stream = Self::stream(size, relay);
        let (ssrc, pt) = if size <= 300 {
            (self.audio_ssrc, tern_client::negotiation::OPUS_PT)
        } else {
            (self.video_ssrc, tern_client::negotiation::VP8_PT)
        };
        let ssrc = if relay {
            ssrc + RELAY_SSRC_OFFSET
        } else {
            ssrc
        };
        let seq = self.seqs[stream];
        let len = RTP_HEADER + size.saturating_sub(RTP_HEADER + SRTP_OVERHEAD).max(16);
        let buf_len = buf.len();
        let b = buf.get_mut(..len)?;
        b[0] = 0x80;
        b[1] = pt | if marker { 0x80 } else { 0 };
        b[2..4].copy_from_slice(&seq.to_be_bytes());
        b[4..8].copy_from_slice(&self.ts.to_be_bytes());
        b[8..12].copy_from_slice(&ssrc.to_be_bytes());
        b[12..20].copy_from_slice(&sent_ns.to_be_bytes());
        b[20..28].copy_from_slice(&self.counter.to_be_bytes());
        b[28..].fill(0x5A);
        let n = self
            .ep
            .transport
            .protect_rtp(&mut buf[..buf_len], len)
            .ok()?;
        self.seqs[stream] = seq.wrapping_add(1);
        self.counter += 1;
        Some(n)
    }

    /// The stream a packet of `size` bytes belongs to (index of `seqs`).
    fn stream(size: usize, relay: bool) -> usize {
        usize::from(size > 300) + if relay { 2 } else { 0 }
    }

    /// The sequence number the next packet of `size` bytes will carry.
    pub fn next_seq(&self, size: usize, relay: bool) -> u16 {
        self.seqs[Self::stream(size, relay)]
    }

    /// Advances the RTP clock by one frame (20 ms of audio at 48 kHz, or
    /// 1/30 s of video at 90 kHz).
    pub fn end_frame(&mut self, audio: bool) {
        self.ts = self.ts.wrapping_add(if audio { 960 } else { 3000 });
    }
}

/// The participants of one room, all on one SFU worker.
pub struct Room {
    pub worker: usize,
    pub names: Vec<String>,
    pub publishers: Vec<Publisher>,
    pub subscribers: Vec<Endpoint>,
}

fn bind_local() -> Result<BatchSocket, String> {
    BatchSocket::bind(
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
        &SocketConfig::default(),
    )
    .map_err(|e| format!("generator socket: {e}"))
}

fn endpoint(
    cert: &Certificate,
    params: &tern_signal::TransportParams,
    seed: u64,
) -> Result<Endpoint, String> {
    let socket = bind_local()?;
    let local = socket.local_addr().map_err(|e| e.to_string())?;
    let transport = ClientTransport::new(local, cert, params, Role::Client, seed, Instant::now())
        .map_err(|e| format!("client transport: {}", e.reason()))?;
    Ok(Endpoint { socket, transport })
}

/// Creates a participant on the worker's SFU (as signaling's `join`
/// would) and returns its transports' parameters.
fn create_participant(
    worker: &Worker<SfuPlane>,
    name: &str,
    room: &str,
) -> Result<tern_signal::ParticipantTransports, String> {
    let (n, r) = (name.to_owned(), room.to_owned());
    worker
        .with_sfu(move |s| s.create_participant(&n, &r))
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("create participant: {e}"))
}

/// Creates a room of `publishers` and `subscribers` on `worker` (every
/// subscriber receives every publisher's audio and video) and connects
/// every transport (ICE, DTLS) over loopback.
pub fn build_room(
    worker: &Worker<SfuPlane>,
    worker_index: usize,
    room: usize,
    publishers: usize,
    subscribers: usize,
    cert: &Certificate,
) -> Result<Room, String> {
    let room_name = format!("bench-{room}");
    let mut names = Vec::new();
    let mut pubs = Vec::new();
    let mut specs = Vec::new();
    for i in 0..publishers {
        let name = format!("r{room}-p{i}");
        let params = create_participant(worker, &name, &room_name)?;
        let seed = 0x1000 + (room * 100_000 + i) as u64;
        let ep = endpoint(cert, &params.publish, seed)?;
        let base = 0x1000_0000 + (room * 10_000 + i) as u32 * 4;
        let tracks = vec![
            TrackSpec::audio("0", &format!("{name}-a"), base, 0xA000_0000 + base),
            TrackSpec::video("1", &format!("{name}-v"), base + 1, 0xA000_0000 + base + 1),
        ];
        let (media, published) = publish_media(&tracks);
        let remote = ep.transport.remote_description();
        let n = name.clone();
        worker
            .with_sfu(move |s| {
                s.publish_changed(
                    &n,
                    &PublishNegotiation {
                        remote: &remote,
                        dtls_role: Setup::Passive,
                        ice_restart: false,
                        media: &media,
                        tracks: &published,
                    },
                )
            })
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("publish: {e}"))?;
        pubs.push(Publisher {
            ep,
            audio_ssrc: base,
            video_ssrc: base + 1,
            seqs: [1; 4],
            ts: 1,
            counter: 0,
        });
        specs.push((name.clone(), tracks));
        names.push(name);
    }
    let mut subs = Vec::new();
    for j in 0..subscribers {
        let name = format!("r{room}-s{j}");
        let params = create_participant(worker, &name, &room_name)?;
        let seed = 0x9000_0000 + (room * 100_000 + j) as u64;
        let ep = endpoint(cert, &params.subscribe, seed)?;
        let mut tracks = Vec::new();
        for (k, (publisher, t)) in specs.iter().enumerate() {
            tracks.extend(subscribed_tracks(
                publisher,
                t,
                k * 2,
                SubscriberPts::default(),
            ));
        }
        let remote = ep.transport.remote_description();
        let n = name.clone();
        worker
            .with_sfu(move |s| {
                s.subscribe_changed(
                    &n,
                    &SubscribeNegotiation {
                        remote: &remote,
                        dtls_role: Setup::Passive,
                        ice_restart: false,
                        tracks: &tracks,
                        refused: &[],
                    },
                );
            })
            .map_err(|e| e.to_string())?;
        subs.push(ep);
        names.push(name);
    }
    let mut room = Room {
        worker: worker_index,
        names,
        publishers: pubs,
        subscribers: subs,
    };
    connect(&mut room)?;
    Ok(room)
}

/// Runs the transports' ICE and DTLS over their sockets until all are
/// connected (30 s at most).
fn connect(room: &mut Room) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut input = RecvBatch::new(16, 2048);
    let mut out = SendBatch::new(16, 2048);
    loop {
        let mut all = true;
        let now = Instant::now();
        let eps = room
            .publishers
            .iter_mut()
            .map(|p| &mut p.ep)
            .chain(room.subscribers.iter_mut());
        for ep in eps {
            pump(ep, now, &mut input, &mut out);
            all &= ep.transport.is_connected();
            if let Some(why) = ep.transport.failure() {
                return Err(format!("generator transport failed: {why}"));
            }
        }
        if all {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err("generator transports did not connect within 30 s".into());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// One round of a transport's control traffic: received datagrams in,
/// due timers, datagrams out. Returns RTP packets seen (counted, not
/// decrypted).
fn pump(ep: &mut Endpoint, now: Instant, input: &mut RecvBatch, out: &mut SendBatch) {
    while let Ok(n) = ep.socket.recv_batch(input, Some(Duration::ZERO)) {
        if n == 0 {
            break;
        }
        for i in 0..n {
            if let Some(r) = input.get_mut(i) {
                let _ = ep.transport.handle_receive(now, r.source, r.data);
            }
        }
    }
    if ep.transport.poll_timeout().is_some_and(|t| t <= now) {
        ep.transport.handle_timeout(now);
    }
    while let Some(buf) = out.next_buf() {
        let Some(t) = ep.transport.poll_transmit(buf) else {
            break;
        };
        out.commit(t.len, t.destination, None);
    }
    if !out.is_empty() {
        let _ = ep.socket.send_batch(out);
    }
}

/// What one phase sends.
#[derive(Debug, Clone, Copy)]
pub struct Traffic {
    /// Datagram size on the wire (SRTP included): 160 is audio-like
    /// (single packets, evenly spaced), larger is video-like (frames of
    /// up to 32 packets sent back to back).
    pub size: usize,
    /// Packets per second per publisher.
    pub rate_per_publisher: f64,
    /// Packets per video frame: the chosen bitrate over the frame rate, in
    /// packets of `size`.
    pub frame_packets: u64,
    /// 0: each video frame back to back; else its packets are spaced
    /// evenly over 1/`pacing` of the frame interval.
    pub pacing: f64,
    /// Sent to a relay baseline (on the relay SSRCs), not to the SFU.
    pub relay: bool,
}

/// Shared counters of one room's phase.
#[derive(Debug, Default)]
pub struct Counters {
    pub sent: AtomicU64,
    pub received: AtomicU64,
    pub stop_send: AtomicBool,
    pub stop_recv: AtomicBool,
}

/// The sender: every publisher's frames to `destination`, a frame every
/// frame interval, its packets back to back or paced (`Traffic::pacing`).
/// `send_times[publisher * 65536 + seq]` keeps each packet's send time
/// (nanoseconds since `epoch`) for receivers that cannot decrypt.
pub fn send_loop(
    pubs: &mut [Publisher],
    destination: SocketAddr,
    traffic: Traffic,
    epoch: Instant,
    counters: &Counters,
    send_times: &[AtomicU64],
) {
    let audio = traffic.size <= 300;
    let rate = traffic.rate_per_publisher.max(1.0);
    let burst = if audio {
        1
    } else {
        traffic.frame_packets.clamp(1, MAX_BURST)
    };
    let interval = Duration::from_secs_f64(burst as f64 / rate);
    // The gap between a frame's packets when paced (zero: back to back).
    let gap = if audio || burst == 1 || traffic.pacing < 1.0 {
        Duration::ZERO
    } else {
        interval.div_f64(burst as f64 * traffic.pacing)
    };
    if !gap.is_zero() {
        // Gaps of tens of microseconds: the default 50 µs slack would
        // bunch the packets.
        let _ = tern_net::set_timer_slack(Duration::from_micros(1));
    }
    let mut out = SendBatch::new(MAX_BURST as usize * 2, 2048);
    let mut input = RecvBatch::new(16, 2048);
    let mut ctl = SendBatch::new(16, 2048);
    let mut frame_start = Instant::now();
    // Packets of the current frame already sent (by every publisher).
    let mut sent = 0u64;
    let mut last_service = frame_start;
    while !counters.stop_send.load(Ordering::Relaxed) {
        let now = Instant::now();
        let next = frame_start + gap * sent as u32;
        if now < next {
            // Between packets: the publishers' own control traffic (RTCP
            // from the SFU, consent), every 50 ms.
            if now.duration_since(last_service) > Duration::from_millis(50) {
                last_service = now;
                for p in pubs.iter_mut() {
                    pump(&mut p.ep, now, &mut input, &mut ctl);
                }
            }
            std::thread::sleep((next - now).min(Duration::from_millis(2)));
            continue;
        }
        // Every packet of the frame that is due by now (all of them when
        // not paced; more than one when the sleep overslept).
        let due = due_packets(now - frame_start, gap, sent, burst);
        for (pi, p) in pubs.iter_mut().enumerate() {
            for b in sent..due {
                let Some(buf) = out.next_buf() else { break };
                let sent_ns = epoch.elapsed().as_nanos() as u64;
                let seq = p.next_seq(traffic.size, traffic.relay);
                if let Some(slot) = send_times.get(pi * 65536 + usize::from(seq)) {
                    slot.store(sent_ns, Ordering::Relaxed);
                }
                if let Some(n) =
                    p.write_packet(buf, traffic.size, traffic.relay, b + 1 == burst, sent_ns)
                {
                    out.commit(n, destination, None);
                }
            }
            if due == burst {
                p.end_frame(audio);
            }
            let n = out.len() as u64;
            let _ = p.ep.socket.send_batch(&mut out);
            counters.sent.fetch_add(n, Ordering::Relaxed);
        }
        sent = due;
        if sent == burst {
            sent = 0;
            frame_start += interval;
            // Far behind (the core is saturated): do not try to catch up
            // with a flood.
            if now.saturating_duration_since(frame_start) > Duration::from_millis(50) {
                frame_start = now;
            }
        }
    }
}

/// How many of a frame's `burst` packets are due `since` the frame's
/// start with `gap` between packets (zero: all at once), given that `sent`
/// are out already: at least one more, never more than the frame.
fn due_packets(since: Duration, gap: Duration, sent: u64, burst: u64) -> u64 {
    if gap.is_zero() {
        return burst;
    }
    let k = since.as_nanos() / gap.as_nanos().max(1);
    (k.min(u128::from(burst)) as u64 + 1).clamp(sent + 1, burst)
}

#[cfg(test)]
mod clock_test {
    use super::{micros_since_sent, wall_clock_at};
    use std::time::{Duration, Instant, SystemTime};

    #[test]
    fn kernel_wall_clock_stamps_convert_to_microseconds_since_the_send() {
        let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let at = wall + Duration::from_nanos(5_750_300);
        // Sent 1.25 ms after the epoch, arrived 5.7503 ms after it.
        assert_eq!(micros_since_sent(at, wall, 1_250_000), 4_500);
        // A stamp before the send, or before the epoch, is 0, not a wrap.
        assert_eq!(micros_since_sent(at, wall, 9_000_000), 0);
        assert_eq!(micros_since_sent(wall - Duration::from_secs(1), wall, 0), 0);
        // The epoch's wall-clock reading: now's, less the time since.
        let epoch = Instant::now();
        let before = SystemTime::now();
        let w = wall_clock_at(epoch);
        let after = SystemTime::now();
        let since = epoch.elapsed();
        assert!(w <= before, "{w:?} after {before:?}");
        assert!(w + since + Duration::from_millis(5) >= after);
    }
}

#[cfg(test)]
mod pacing_test {
    use super::due_packets;
    use std::time::Duration;

    #[test]
    fn paced_frames_release_one_packet_per_gap_and_catch_up_after_a_late_wake() {
        let us = Duration::from_micros;
        // Back to back: the whole frame at once.
        assert_eq!(due_packets(us(0), Duration::ZERO, 0, 9), 9);
        // Paced, 100 µs apart: packet k is due at k × 100 µs.
        assert_eq!(due_packets(us(0), us(100), 0, 9), 1);
        assert_eq!(due_packets(us(100), us(100), 1, 9), 2);
        assert_eq!(due_packets(us(199), us(100), 1, 9), 2);
        // A sleep that overslept by 250 µs sends what is due, no more.
        assert_eq!(due_packets(us(450), us(100), 2, 9), 5);
        // Never past the frame, however late.
        assert_eq!(due_packets(us(1_000_000), us(100), 5, 9), 9);
        // Called early (the loop only calls when the next is due): still
        // one packet, so the loop always moves on.
        assert_eq!(due_packets(us(0), us(100), 3, 9), 4);
    }
}

/// How a receiver finds a packet's send time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    /// Decrypt (the SFU re-encrypted per subscriber) and read the payload.
    Decrypt,
    /// Look the (publisher SSRC, sequence number) up in the send-time
    /// table (a relay forwards the publisher's bytes unchanged).
    Table,
}

/// Latency samples of one receiver, microseconds from the send time in
/// the payload, the two vectors in step.
#[derive(Debug, Default)]
pub struct LatencySamples {
    /// To the kernel's arrival stamp at the subscriber's socket
    /// (`SO_TIMESTAMPNS`): what the forwarder added, without the time the
    /// packet then waits for the generator's receiver to read it.
    pub arrival: Vec<u32>,
    /// To the receiver's read (the generator's own queueing included).
    pub read: Vec<u32>,
}

impl LatencySamples {
    /// Room for `n` samples of each kind (the receiver never grows them).
    pub fn with_capacity(n: usize) -> Self {
        LatencySamples {
            arrival: Vec::with_capacity(n),
            read: Vec::with_capacity(n),
        }
    }
}

/// The realtime clock's reading at `epoch` (CLOCK_REALTIME and
/// CLOCK_MONOTONIC advance together; only a step of the wall clock during
/// a run would skew it).
fn wall_clock_at(epoch: Instant) -> SystemTime {
    let (wall, mono) = (SystemTime::now(), Instant::now());
    wall.checked_sub(mono.saturating_duration_since(epoch))
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

/// Microseconds from `sent_ns` (since `epoch`, whose wall-clock reading is
/// `wall_epoch`) to the wall-clock instant `at`; 0 if `at` is earlier.
fn micros_since_sent(at: SystemTime, wall_epoch: SystemTime, sent_ns: u64) -> u32 {
    let at_ns = at
        .duration_since(wall_epoch)
        .map_or(0, |d| d.as_nanos() as u64);
    (at_ns.saturating_sub(sent_ns) / 1000).min(u64::from(u32::MAX)) as u32
}

/// The receiver: every subscriber socket through epoll; counts RTP
/// packets, and for the subscribers `sampled` says yes to records latency
/// (to the kernel's arrival stamp and to the read, see [`LatencySamples`];
/// without `stamp_arrivals` the arrival is the read).
#[allow(clippy::too_many_arguments)]
pub fn receive_loop(
    subs: &mut [Endpoint],
    sampled: &[bool],
    timing: Timing,
    pubs_first_ssrc: u32,
    epoch: Instant,
    counters: &Counters,
    send_times: &[AtomicU64],
    stamp_arrivals: bool,
    latencies: &mut LatencySamples,
) -> Result<(), String> {
    use nix::sys::epoll::{
        epoll_create1, epoll_ctl, epoll_wait, EpollCreateFlags, EpollEvent, EpollFlags, EpollOp,
    };
    let epfd = epoll_create1(EpollCreateFlags::EPOLL_CLOEXEC).map_err(|e| format!("epoll: {e}"))?;
    // Closes the epoll descriptor however the loop ends.
    struct Close(i32);
    impl Drop for Close {
        fn drop(&mut self) {
            let _ = nix::unistd::close(self.0);
        }
    }
    let _close = Close(epfd);
    for (i, s) in subs.iter().enumerate() {
        let mut ev = EpollEvent::new(EpollFlags::EPOLLIN, i as u64);
        epoll_ctl(epfd, EpollOp::EpollCtlAdd, s.socket.as_raw_fd(), &mut ev)
            .map_err(|e| format!("epoll add: {e}"))?;
    }
    if stamp_arrivals {
        for (s, _) in subs.iter_mut().zip(sampled).filter(|(_, on)| **on) {
            // Without it (an old kernel) arrival falls back to the read time.
            s.socket.set_rx_timestamps(true);
        }
    }
    let wall_epoch = wall_clock_at(epoch);
    let mut events = vec![EpollEvent::empty(); 256];
    let mut input = RecvBatch::new(64, 2048);
    let cap = latencies.arrival.capacity().min(latencies.read.capacity());
    while !counters.stop_recv.load(Ordering::Relaxed) {
        let n = epoll_wait(epfd, &mut events, 5).unwrap_or(0);
        for ev in &events[..n] {
            let i = ev.data() as usize;
            let Some(s) = subs.get_mut(i) else { continue };
            loop {
                let n = s
                    .socket
                    .recv_batch(&mut input, Some(Duration::ZERO))
                    .unwrap_or(0);
                if n == 0 {
                    break;
                }
                let now = Instant::now();
                let read_at = wall_epoch + now.saturating_duration_since(epoch);
                let mut rtp = 0;
                for k in 0..n {
                    let Some(r) = input.get_mut(k) else { break };
                    match classify(r.data) {
                        PacketKind::Rtp => {
                            rtp += 1;
                            if !sampled.get(i).copied().unwrap_or(false)
                                || latencies.arrival.len() >= cap
                            {
                                continue;
                            }
                            let sent = match timing {
                                Timing::Decrypt => {
                                    match s.transport.handle_receive(now, r.source, r.data) {
                                        Incoming::Rtp(len) => RtpPacket::new_checked(
                                            &r.data[..len],
                                        )
                                        .ok()
                                        .and_then(|p| {
                                            p.payload().get(..8).map(|b| {
                                                u64::from_be_bytes(b.try_into().unwrap_or([0; 8]))
                                            })
                                        }),
                                        _ => None,
                                    }
                                }
                                Timing::Table => {
                                    RtpPacket::new_checked(&r.data[..]).ok().and_then(|p| {
                                        let ssrc = p.ssrc().0;
                                        let pi = (ssrc.wrapping_sub(pubs_first_ssrc) / 4) as usize;
                                        send_times
                                            .get(pi * 65536 + usize::from(p.sequence_number()))
                                            .map(|t| t.load(Ordering::Relaxed))
                                    })
                                }
                            };
                            if let Some(sent) = sent {
                                let arrived = r.rx_time.unwrap_or(read_at);
                                latencies
                                    .arrival
                                    .push(micros_since_sent(arrived, wall_epoch, sent));
                                latencies
                                    .read
                                    .push(micros_since_sent(read_at, wall_epoch, sent));
                            }
                        }
                        _ if timing == Timing::Decrypt => {
                            let _ = s.transport.handle_receive(now, r.source, r.data);
                        }
                        _ => {}
                    }
                }
                counters.received.fetch_add(rtp, Ordering::Relaxed);
            }
        }
    }
    if stamp_arrivals {
        for s in subs.iter_mut() {
            if s.socket.caps().rx_timestamps {
                s.socket.set_rx_timestamps(false);
            }
        }
    }
    Ok(())
}

impl Room {
    /// Frees the room's participants on the SFU.
    pub fn remove(&self, worker: &Worker<SfuPlane>) {
        let names = self.names.clone();
        let _ = worker.with_sfu(move |s| {
            for n in &names {
                s.remove_participant(n);
            }
        });
    }
}
