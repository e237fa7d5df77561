//! The SFU core: participants, transports, routing table and the per-packet
//! forward path (see the crate docs for the poll order).

use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tern_dtls::{Certificate, Config as DtlsConfig, Dtls, Event as DtlsEvent, Fingerprint, Role};
use tern_ice::{Agent, AgentConfig, Credentials, Event as IceEvent, SeededRng};
use tern_rtp::ext::TransportSeq;
use tern_rtp::rtcp::{
    nack_pairs, CompoundIter, CompoundWriter, NackBuilder, NackPair, PliBuilder,
    ReceiverReportBuilder, ReportBlock, RtcpPacket, SenderInfo, SenderReportBuilder,
};
use tern_rtp::stats::{Jitter, SequenceTracker};
use tern_rtp::{classify, CompactNtp, NtpTime, PacketKind, Pt, RtpPacket, SeqNo, Ssrc};
use tern_sdp::codec::NegotiatedExtension;
use tern_sdp::{MediaKind, NegotiatedCodec, Setup};
use tern_srtp::Context;

use crate::addr_key::TupleKey;
use crate::ring::{PacketRing, SLOT_LEN};
use crate::timers::{TimerOwners, TimerQueue, TimerSlot};

/// URIs the forward path treats specially.
const URI_MID: &str = "urn:ietf:params:rtp-hdrext:sdes:mid";
const URI_RID: &str = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
const URI_RRID: &str = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
const URI_TWCC: &str = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";

/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
const NTP_UNIX_OFFSET_SECS: u64 = 2_208_988_800;
/// 2020-01-01 as time since the Unix epoch: the default
/// [`SfuConfig::wall_clock_at_start`] (tests; the binary gives the real
/// wall clock).
const DEFAULT_WALL_CLOCK: Duration = Duration::from_secs(1_577_836_800);

/// Most queued control datagrams (STUN, DTLS, RTCP) before new ones are
/// dropped.
const MAX_CTRL_QUEUE: usize = 4096;
/// Most queued fan-out and retransmission jobs.
const MAX_JOBS: usize = 4096;
/// Most sequence numbers tracked as missing per received stream.
const MAX_MISSING: usize = 256;
/// Largest forward gap that is NACKed (bigger jumps are a restart or
/// burst loss beyond repair).
const MAX_NACK_GAP: u64 = 128;
/// Most learned (rid-mapped) SSRCs per participant.
const MAX_LEARNED_SSRCS: usize = 16;

/// The smallest `poll_transmit` buffer that fits every datagram the SFU
/// sends: a full slot, the RTX header growth and the largest SRTP tag.
pub const MIN_TRANSMIT_BUF: usize = SLOT_LEN + 2 + 16 + 46;

/// SFU-wide settings.
#[derive(Debug, Clone)]
pub struct SfuConfig {
    /// The local UDP address media arrives on and is sent from; announced
    /// as the host candidate.
    pub media_addr: SocketAddr,
    /// The DTLS certificate (its fingerprint goes into every SDP).
    pub certificate: Certificate,
    /// Seed of every random choice (ICE credentials, initial sequence
    /// numbers and timestamps, RTCP sender SSRCs).
    pub seed: u64,
    /// Consent expires this long after the last authenticated check
    /// (RFC 7675: 30 s).
    pub consent_timeout: Duration,
    /// Most participants (all rooms together).
    pub max_participants: usize,
    /// Slots in a video track's retransmission buffer.
    pub video_buffer_packets: usize,
    /// Slots in an audio track's buffer (fan-out only; audio is not
    /// NACKed).
    pub audio_buffer_packets: usize,
    /// Interval of sender and receiver reports.
    pub report_interval: Duration,
    /// At most one PLI/FIR per track upstream per this interval.
    pub keyframe_interval: Duration,
    /// Interval between NACKs for the same missing packet.
    pub nack_interval: Duration,
    /// NACKs sent for one missing packet before giving up.
    pub nack_max_tries: u8,
    /// DTLS handshake settings.
    pub dtls: DtlsConfig,
    /// The wall clock (time since the Unix epoch) at the `now` given to
    /// [`Sfu::new`]. The SFU never reads the clock: the NTP time in its
    /// sender reports is this plus the time elapsed since creation, so
    /// receivers can anchor the streams to wall time. Default: 2020-01-01
    /// (deterministic for tests); a server passes `SystemTime::now()`.
    pub wall_clock_at_start: Duration,
}

impl SfuConfig {
    /// Defaults for a media address and a certificate.
    pub fn new(media_addr: SocketAddr, certificate: Certificate, seed: u64) -> Self {
        SfuConfig {
            media_addr,
            certificate,
            seed,
            consent_timeout: Duration::from_secs(30),
            max_participants: 1000,
            video_buffer_packets: 512,
            audio_buffer_packets: 32,
            report_interval: Duration::from_secs(1),
            keyframe_interval: Duration::from_millis(500),
            nack_interval: Duration::from_millis(40),
            nack_max_tries: 8,
            dtls: DtlsConfig::default(),
            wall_clock_at_start: DEFAULT_WALL_CLOCK,
        }
    }
}

/// Which of a participant's two transports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dir {
    /// The publish transport (`pc: "pub"`): the client sends media.
    Publish,
    /// The subscribe transport (`pc: "sub"`): the SFU sends media.
    Subscribe,
}

/// What the SFU reports to the control plane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// DTLS completed and SRTP keys are installed on a transport.
    Connected {
        /// The participant.
        participant: String,
        /// Which transport.
        dir: Dir,
    },
    /// A transport's DTLS handshake failed (fingerprint mismatch, timeout).
    DtlsFailed {
        /// The participant.
        participant: String,
        /// Which transport.
        dir: Dir,
    },
    /// Consent expired (RFC 7675) on one of the participant's transports:
    /// the SFU has already freed all of its state. Tell signaling (which
    /// sends `participant-left` and renegotiates the others).
    ConsentExpired {
        /// The participant.
        participant: String,
    },
}

/// A datagram to send: `len` bytes at the start of the caller's buffer,
/// from `source` (the SFU's media address) to `destination`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transmit {
    /// Local address to send from.
    pub source: SocketAddr,
    /// Where to send it.
    pub destination: SocketAddr,
    /// Bytes written.
    pub len: usize,
}

/// Counters: what was forwarded and what was dropped, and why.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Datagrams received.
    pub received: u64,
    /// Non-STUN datagrams from a 5-tuple no authenticated check bound:
    /// dropped before parsing.
    pub unknown_tuple_drops: u64,
    /// STUN from an unknown tuple whose username names no transport.
    pub unknown_ufrag_drops: u64,
    /// Datagrams of a kind the SFU does not take (ZRTP, TURN, unknown).
    pub unknown_kind_drops: u64,
    /// RTP with an SSRC the sending participant did not announce (or that
    /// its rids do not map to): dropped before decryption.
    pub foreign_ssrc_drops: u64,
    /// RTP on a subscribe transport, or before SRTP keys: dropped.
    pub unexpected_rtp_drops: u64,
    /// SRTP/SRTCP that failed authentication or replay checks.
    pub srtp_failures: u64,
    /// RTP that did not parse after decryption.
    pub malformed_rtp: u64,
    /// RTP packets accepted from publishers.
    pub rtp_received: u64,
    /// RTP packets sent to subscribers (first transmissions).
    pub forwarded: u64,
    /// Packets resent to subscribers from the retransmission buffer.
    pub retransmitted: u64,
    /// Subscriber NACKs for packets no longer (or never) buffered.
    pub retransmit_misses: u64,
    /// RTCP BYEs naming an SSRC the sender does not own: ignored.
    pub foreign_bye_ignored: u64,
    /// Subscriber feedback about an SSRC it does not receive: ignored.
    pub foreign_feedback_ignored: u64,
    /// REMB and TWCC feedback from subscribers (consumed, never relayed).
    pub congestion_feedback_consumed: u64,
    /// NACK packets sent to publishers.
    pub nacks_sent: u64,
    /// PLIs sent to publishers.
    pub plis_sent: u64,
    /// Keyframe requests absorbed by the per-track throttle.
    pub keyframe_requests_throttled: u64,
    /// Sender and receiver reports sent.
    pub reports_sent: u64,
    /// Datagrams or jobs dropped because a queue was full.
    pub queue_drops: u64,
    /// Packets a subscriber could not take (no matching payload type).
    pub pt_unmapped_drops: u64,
}

/// A participant's internal id.
type Pid = u64;
type TKey = (Pid, Dir);

/// Who owns a deadline in [`Sfu::timers`]: a transport (ICE consent, DTLS
/// retransmission, the next report) or a participant (NACK retries and
/// throttled keyframe requests of its tracks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum TimerKey {
    Transport(TKey),
    Participant(Pid),
}

/// A cheap multiplicative hasher for maps keyed by [`Pid`] (looked up once
/// or twice per forwarded packet). Pids are assigned here, sequentially, so
/// the keys are not a peer's choice and SipHash's flooding resistance buys
/// nothing.
#[derive(Default)]
struct PidHasher(u64);

impl std::hash::Hasher for PidHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
    fn write_isize(&mut self, n: isize) {
        self.write_u64(n as u64);
    }
}

type PidMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<PidHasher>>;

// `repr(C)`, with what the fan-out reads for every copy first (the tuple,
// the TWCC counter, then the SRTP send context, whose own hot fields lead
// it): in the compiler's order they were spread over a 7 KB value that at
// large fan-out is cold again by the subscriber's next packet.
#[derive(Debug)]
#[repr(C)]
struct Transport {
    tuple: Option<(SocketAddr, SocketAddr)>,
    twcc_seq: u16,
    tx: Option<Context>,
    rx: Option<Context>,
    ice: Agent,
    answered: u64,
    role: Option<Role>,
    remote_fp: Option<Fingerprint>,
    dtls: Option<Dtls>,
    rtcp_ssrc: u32,
    next_report: Option<Instant>,
    /// ICE, DTLS and report timers in [`Sfu::timers`].
    timer: TimerSlot,
}

impl Transport {
    fn ready(&self) -> Option<(SocketAddr, SocketAddr)> {
        self.tx.as_ref()?;
        self.tuple
    }
}

#[derive(Debug, Clone)]
struct PubCodec {
    pt: u8,
    rtx_pt: Option<u8>,
    name: String,
    clock_rate: u32,
    channels: Option<u16>,
}

#[derive(Debug, Clone, Default)]
struct Layer {
    rid: Option<String>,
    ssrc: Option<u32>,
    rtx_ssrc: Option<u32>,
}

#[derive(Debug, Clone, Copy)]
struct Missing {
    seq: u64,
    tries: u8,
    next_at: Instant,
}

#[derive(Debug)]
struct RecvState {
    ssrc: u32,
    ext_max: u64,
    tracker: SequenceTracker,
    jitter: Jitter,
    clock_rate: u32,
    last_sr: Option<(CompactNtp, Instant)>,
    /// The publisher's last SR: its RTP timestamp and when it arrived.
    last_sr_rtp: Option<(u32, Instant)>,
    missing: VecDeque<Missing>,
}

#[derive(Debug)]
struct SubOut {
    sub: Pid,
    mid: String,
    ssrc: u32,
    rtx_ssrc: Option<u32>,
    codecs: Vec<NegotiatedCodec>,
    exts: Vec<NegotiatedExtension>,
    /// Publisher payload type → `[subscriber pt, subscriber rtx pt]`,
    /// `NO_PT` where none. Inline (as are `ext_map` and `mid_wire`): the
    /// fan-out reads them for every packet and every subscriber, and a
    /// pointer to the heap would cost a cache miss per subscriber at large
    /// fan-out.
    pt_map: [[u8; 2]; 128],
    /// Publisher extension id → subscriber id (0: blank it).
    ext_map: [u8; 256],
    /// `mid`'s bytes when they fit (up to 16: what a one-byte header
    /// extension carries; the length is `mid.len()`, kept inline in the
    /// `String`); longer mids are read from `mid`.
    mid_wire: [u8; 16],
    mid_ext: Option<u8>,
    twcc_ext: Option<u8>,
    started: bool,
    rebase: bool,
    seq_offset: u16,
    ts_offset: u32,
    last_seq: u16,
    last_ts: u32,
    last_sent: Option<Instant>,
    rtx_seq: u16,
    packets: u32,
    octets: u32,
    clock_rate: u32,
}

#[derive(Debug)]
struct PubTrack {
    track_id: String,
    mid: String,
    kind: MediaKind,
    layers: Vec<Layer>,
    codecs: Vec<PubCodec>,
    exts: Vec<(u8, String)>,
    rid_ext: Option<u8>,
    rrid_ext: Option<u8>,
    nack: bool,
    recv: Option<RecvState>,
    ring: PacketRing,
    subs: Vec<SubOut>,
    last_keyframe_request: Option<Instant>,
    keyframe_pending: bool,
    /// The lowest and highest extended sequence numbers stored since the
    /// SFU was last drained completely, when `pending.0` is the current
    /// [`Sfu::drain_epoch`] (see [`Sfu::wants_drain`]).
    pending: (u64, u64, u64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SrcRole {
    Media(usize),
    Rtx(usize),
}

#[derive(Debug)]
struct Participant {
    id: String,
    room: String,
    tracks: Vec<PubTrack>,
    /// Announced (and learned) SSRC → (track index, role).
    ssrcs: HashMap<u32, (usize, SrcRole)>,
    learned: usize,
    /// NACK and keyframe-request timers in [`Sfu::timers`].
    timer: TimerSlot,
}

/// Report timers fall on multiples of this since the SFU's creation.
const REPORT_GRID: Duration = Duration::from_millis(10);

/// Most consecutive packets of one track one fan-out job covers (and at
/// most half the track's ring, so no slot of the run is overwritten
/// before the job reaches it; a stale slot is skipped anyway).
const MAX_RUN: u32 = 32;

#[derive(Debug, Clone, Copy)]
enum JobKind {
    /// The packets `seq .. seq + count` of the track to every subscriber,
    /// subscriber-major: all of subscriber `next_sub`'s packets in order
    /// (from `next_pkt`), then the next subscriber.
    Fanout {
        count: u32,
        next_sub: u32,
        next_pkt: u32,
    },
    /// The packet `seq` again to `sub` only.
    Resend { sub: Pid },
}

#[derive(Debug, Clone, Copy)]
struct Job {
    publisher: Pid,
    track: usize,
    /// The ring slot of packet `seq` (the run's first packet).
    slot: usize,
    seq: u64,
    kind: JobKind,
}

#[derive(Debug)]
struct CtrlOut {
    source: SocketAddr,
    destination: SocketAddr,
    data: Vec<u8>,
}

/// The SFU core. Sans-IO: feed datagrams and time, drain datagrams and
/// events. See the crate docs for the poll order.
#[derive(Debug)]
pub struct Sfu {
    config: SfuConfig,
    epoch: Instant,
    now: Instant,
    rng: SeededRng,
    next_pid: Pid,
    ids: HashMap<String, Pid>,
    participants: PidMap<Pid, Participant>,
    rooms: HashMap<String, Vec<Pid>>,
    transports: PidMap<TKey, Transport>,
    tuples: HashMap<TupleKey, TKey>,
    ufrags: HashMap<String, TKey>,
    /// (subscriber, SSRC it receives) → (publisher, track).
    sub_routes: HashMap<(Pid, u32), (Pid, usize)>,
    /// Subscriber → every output it has, so that its sender reports visit
    /// only those (not every subscriber of every track once per
    /// subscriber, which is quadratic in the room). Rebuilt with
    /// `sub_routes`, one room at a time.
    sub_outputs: PidMap<Pid, Vec<SubOutput>>,
    ctrl: VecDeque<CtrlOut>,
    pool: Vec<Vec<u8>>,
    jobs: VecDeque<Job>,
    /// Counts the times `poll_transmit` found nothing left to send.
    drain_epoch: u64,
    /// A track's packets stored since the last complete drain span half
    /// its ring: drain before the next `handle_receive`.
    drain_wanted: bool,
    events: VecDeque<Event>,
    stats: Stats,
    /// Scratch space of the timer path, kept so a steady-state tick
    /// (reports, consent) allocates nothing.
    scratch: Scratch,
    /// Every transport's and participant's earliest deadline, so that
    /// [`Sfu::poll_timeout`] and [`Sfu::handle_timeout`] visit only the
    /// owners whose timers changed or are due, not every transport (with
    /// hundreds of participants, a consent check or DTLS record each
    /// otherwise cost a sweep of all of them). Whatever may move an owner's
    /// timer earlier touches it ([`Sfu::touch`]): STUN and DTLS through
    /// `drain_transport`, new loss (NACK), keyframe requests, control-plane
    /// calls; the media path touches nothing in steady state.
    timers: TimerQueue<TimerKey>,
    /// [`Sfu::poll_timeout`]'s answer, kept until an owner is touched or
    /// `handle_timeout` runs (`None`: ask the queue again); the worker asks
    /// twice per loop iteration. A kept answer that is too early (a timer
    /// removed or pushed later meanwhile) only calls `handle_timeout`
    /// early, which finds nothing due.
    timeout_cache: Cell<Option<Option<Instant>>>,
}

/// Where one of a subscriber's outputs is: `publisher`'s track `track`,
/// at `index` in its `subs`, sending as `ssrc` (and `rtx_ssrc`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct SubOutput {
    publisher: Pid,
    track: usize,
    index: usize,
    ssrc: u32,
    rtx_ssrc: Option<u32>,
}

/// The owners' view [`TimerQueue`] works on.
struct Owners<'a> {
    transports: &'a PidMap<TKey, Transport>,
    participants: &'a PidMap<Pid, Participant>,
    now: Instant,
    keyframe_interval: Duration,
}

impl TimerOwners<TimerKey> for Owners<'_> {
    fn slot(&self, k: TimerKey) -> Option<&TimerSlot> {
        match k {
            TimerKey::Transport(key) => self.transports.get(&key).map(|t| &t.timer),
            TimerKey::Participant(pid) => self.participants.get(&pid).map(|p| &p.timer),
        }
    }

    fn deadline(&self, k: TimerKey) -> Option<Instant> {
        match k {
            TimerKey::Transport(key) => self.transports.get(&key).and_then(transport_deadline),
            TimerKey::Participant(pid) => self
                .participants
                .get(&pid)
                .and_then(|p| participant_deadline(p, self.now, self.keyframe_interval)),
        }
    }

    fn count(&self) -> usize {
        self.transports.len() + self.participants.len()
    }

    fn each(&self, f: &mut dyn FnMut(TimerKey, &TimerSlot)) {
        for (k, t) in self.transports {
            f(TimerKey::Transport(*k), &t.timer);
        }
        for (k, p) in self.participants {
            f(TimerKey::Participant(*k), &p.timer);
        }
    }
}

/// The earliest of two optional instants.
fn earlier(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// A transport's ICE, DTLS and report timers.
fn transport_deadline(t: &Transport) -> Option<Instant> {
    let dtls = t.dtls.as_ref().and_then(|d| d.poll_timeout());
    earlier(earlier(t.ice.poll_timeout(), dtls), t.next_report)
}

/// A participant's NACK retries and pending keyframe requests (one never
/// sent before is due at once).
fn participant_deadline(p: &Participant, now: Instant, interval: Duration) -> Option<Instant> {
    let mut at = None;
    for t in &p.tracks {
        if let Some(r) = &t.recv {
            at = earlier(at, r.missing.iter().map(|m| m.next_at).min());
        }
        if t.keyframe_pending {
            at = earlier(
                at,
                Some(t.last_keyframe_request.map_or(now, |l| l + interval)),
            );
        }
    }
    at
}

/// Reused buffers of [`Sfu::handle_timeout`].
#[derive(Debug, Default)]
struct Scratch {
    due: Vec<TimerKey>,
    blocks: Vec<ReportBlock>,
    srs: Vec<(Ssrc, SenderInfo)>,
}

fn rng_u64(rng: &mut SeededRng) -> u64 {
    tern_ice::IceRng::next_u64(rng)
}

/// The NTP time (RFC 3550 section 4: 32.32 fixed point since 1900) at
/// `now`, for an SFU created at `epoch` when the wall clock read
/// `wall_at_epoch` (since the Unix epoch).
fn ntp(wall_at_epoch: Duration, epoch: Instant, now: Instant) -> NtpTime {
    let d = wall_at_epoch.saturating_add(now.saturating_duration_since(epoch));
    let secs = NTP_UNIX_OFFSET_SECS.wrapping_add(d.as_secs());
    let frac = (u64::from(d.subsec_nanos()) << 32) / 1_000_000_000;
    NtpTime((secs << 32) | frac)
}

/// When a transport reporting at `now` reports next: `interval` later,
/// rounded up to a [`REPORT_GRID`] step since `epoch` (the SFU's
/// creation), so hundreds of transports' report timers fall on a few
/// instants per second (one `handle_timeout` sweep each) instead of one
/// each.
fn next_report_at(epoch: Instant, interval: Duration, now: Instant) -> Instant {
    let at = now + interval;
    let since = at.saturating_duration_since(epoch).as_nanos();
    let step = REPORT_GRID.as_nanos().max(1);
    let up = since.div_ceil(step) * step - since;
    at + Duration::from_nanos(u64::try_from(up).unwrap_or(0))
}

fn units(d: Duration, clock_rate: u32) -> u32 {
    // Wrapping, as RTP timestamps do; u128 so no clock rate can overflow.
    (d.as_micros() * u128::from(clock_rate) / 1_000_000) as u32
}

impl Sfu {
    /// A new SFU; `now` is the caller's clock at creation.
    pub fn new(config: SfuConfig, now: Instant) -> Self {
        let rng = SeededRng::new(config.seed);
        Sfu {
            config,
            epoch: now,
            now,
            rng,
            next_pid: 1,
            ids: HashMap::new(),
            participants: PidMap::default(),
            rooms: HashMap::new(),
            transports: PidMap::default(),
            tuples: HashMap::new(),
            ufrags: HashMap::new(),
            sub_routes: HashMap::new(),
            sub_outputs: PidMap::default(),
            ctrl: VecDeque::with_capacity(256),
            pool: Vec::new(),
            jobs: VecDeque::with_capacity(MAX_JOBS),
            drain_epoch: 0,
            drain_wanted: false,
            events: VecDeque::new(),
            stats: Stats::default(),
            scratch: Scratch::default(),
            timers: TimerQueue::default(),
            timeout_cache: Cell::new(None),
        }
    }

    fn owners(&self) -> Owners<'_> {
        Owners {
            transports: &self.transports,
            participants: &self.participants,
            now: self.now,
            keyframe_interval: self.config.keyframe_interval,
        }
    }

    /// `k`'s timers may have moved earlier: its deadline is read again
    /// before [`Sfu::poll_timeout`] or [`Sfu::handle_timeout`] next answer.
    fn touch(&self, k: TimerKey) {
        if let Some(slot) = self.owners().slot(k) {
            self.timers.touch(k, slot);
        }
        self.timeout_cache.set(None);
    }

    fn touch_transport(&self, key: TKey) {
        self.touch(TimerKey::Transport(key));
    }

    fn touch_participant(&self, pid: Pid) {
        self.touch(TimerKey::Participant(pid));
    }

    /// The configuration.
    pub fn config(&self) -> &SfuConfig {
        &self.config
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The latest time the SFU has been given.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Advance the SFU's notion of "now" without other effects (for
    /// control calls that carry no time, such as [`tern_signal::MediaPlane`]).
    pub fn set_now(&mut self, now: Instant) {
        self.now = self.now.max(now);
    }

    /// Number of live participants.
    pub fn participant_count(&self) -> usize {
        self.participants.len()
    }

    /// Whether `participant` is live.
    pub fn has_participant(&self, participant: &str) -> bool {
        self.ids.contains_key(participant)
    }

    /// Number of rooms with at least one participant.
    pub fn room_count(&self) -> usize {
        self.rooms.len()
    }

    /// Size of every per-participant table together (transports, bound
    /// 5-tuples, ufrags, routes, queued jobs and datagrams): for tests
    /// that check state is freed and stays bounded.
    pub fn state_size(&self) -> usize {
        self.transports.len()
            + self.tuples.len()
            + self.ufrags.len()
            + self.sub_routes.len()
            + self.sub_outputs.len()
            + self.ids.len()
            + self.rooms.len()
            + self.jobs.len()
            + self.ctrl.len()
            + self
                .participants
                .values()
                .map(|p| p.ssrcs.len() + p.tracks.iter().map(|t| 1 + t.subs.len()).sum::<usize>())
                .sum::<usize>()
    }

    /// `(tracks published, tracks received)` by `participant`.
    pub fn track_counts(&self, participant: &str) -> Option<(usize, usize)> {
        let pid = *self.ids.get(participant)?;
        let published = self.participants.get(&pid)?.tracks.len();
        let received = self
            .participants
            .values()
            .flat_map(|p| p.tracks.iter())
            .filter(|t| t.subs.iter().any(|s| s.sub == pid))
            .count();
        Some((published, received))
    }

    /// Whether a participant's transport has SRTP keys and a bound path.
    pub fn is_connected(&self, participant: &str, dir: Dir) -> bool {
        self.ids
            .get(participant)
            .and_then(|p| self.transports.get(&(*p, dir)))
            .is_some_and(|t| t.ready().is_some())
    }

    fn random_u32(&mut self) -> u32 {
        rng_u64(&mut self.rng) as u32
    }

    // ------------------------------------------------------------------
    // Control plane
    // ------------------------------------------------------------------

    /// A participant joined `room`: create its publish and subscribe
    /// transports (ICE-lite agents with fresh credentials on the media
    /// address). Returns `(publish, subscribe)` credentials.
    pub fn add_participant(
        &mut self,
        participant: &str,
        room: &str,
    ) -> Result<(Credentials, Credentials), &'static str> {
        if self.ids.contains_key(participant) {
            return Err("participant exists");
        }
        if self.participants.len() >= self.config.max_participants {
            return Err("too many participants");
        }
        let pid = self.next_pid;
        self.next_pid += 1;
        let mut creds = [None, None];
        for (i, dir) in [Dir::Publish, Dir::Subscribe].into_iter().enumerate() {
            let c = Credentials::random(&mut self.rng);
            let mut cfg = AgentConfig::lite(c.clone());
            cfg.consent_timeout = self.config.consent_timeout;
            let seed = rng_u64(&mut self.rng);
            let mut ice = Agent::new(cfg, self.now, seed);
            ice.add_local_host(self.config.media_addr, 65535)
                .map_err(|_| "media address")?;
            while ice.poll_event().is_some() {}
            self.ufrags.insert(c.ufrag().to_owned(), (pid, dir));
            let rtcp_ssrc = self.random_u32();
            self.transports.insert(
                (pid, dir),
                Transport {
                    ice,
                    answered: 0,
                    tuple: None,
                    role: None,
                    remote_fp: None,
                    dtls: None,
                    tx: None,
                    rx: None,
                    rtcp_ssrc,
                    twcc_seq: 0,
                    next_report: None,
                    timer: TimerSlot::default(),
                },
            );
            self.touch_transport((pid, dir));
            creds[i] = Some(c);
        }
        self.reserve_ctrl_buffers();
        self.timers
            .reserve(self.transports.len() + self.participants.len() + 1);
        self.ids.insert(participant.to_owned(), pid);
        self.rooms.entry(room.to_owned()).or_default().push(pid);
        self.participants.insert(
            pid,
            Participant {
                id: participant.to_owned(),
                room: room.to_owned(),
                tracks: Vec::new(),
                ssrcs: HashMap::new(),
                learned: 0,
                timer: TimerSlot::default(),
            },
        );
        match creds {
            [Some(a), Some(b)] => Ok((a, b)),
            _ => Err("internal"),
        }
    }

    /// Set the remote side of a transport from a negotiation: the peer's
    /// ICE credentials and certificate fingerprint and our DTLS role.
    pub fn set_remote(
        &mut self,
        participant: &str,
        dir: Dir,
        remote_ufrag: &str,
        remote_pwd: &str,
        fingerprints: &[(String, String)],
        our_setup: Setup,
    ) -> Result<(), &'static str> {
        let pid = *self.ids.get(participant).ok_or("unknown participant")?;
        let fp = fingerprints
            .iter()
            .find(|(alg, _)| alg.eq_ignore_ascii_case("sha-256"))
            .and_then(|(_, hex)| hex.parse::<Fingerprint>().ok())
            .ok_or("no usable sha-256 fingerprint")?;
        let role = match our_setup {
            Setup::Active => Role::Client,
            Setup::Passive | Setup::ActPass => Role::Server,
            Setup::HoldConn => return Err("holdconn"),
        };
        let t = self
            .transports
            .get_mut(&(pid, dir))
            .ok_or("unknown transport")?;
        if let Ok(c) = Credentials::new(remote_ufrag, remote_pwd) {
            t.ice.set_remote_credentials(c);
        }
        if t.remote_fp.is_some_and(|old| old != fp) || t.role.is_some_and(|r| r != role) {
            // A new certificate or role: a new DTLS association.
            t.dtls = None;
            t.tx = None;
            t.rx = None;
        }
        t.remote_fp = Some(fp);
        t.role = Some(role);
        self.maybe_start_dtls((pid, dir));
        self.drain_transport((pid, dir));
        Ok(())
    }

    /// Replace the participant's published tracks. `media` and `tracks`
    /// as in [`tern_signal::PublishNegotiation`].
    pub fn set_published(
        &mut self,
        participant: &str,
        media: &[tern_sdp::AcceptedMedia],
        tracks: &[tern_signal::PublishedTrack],
    ) -> Result<(), &'static str> {
        let pid = *self.ids.get(participant).ok_or("unknown participant")?;
        self.touch_participant(pid);
        let video_n = self.config.video_buffer_packets;
        let audio_n = self.config.audio_buffer_packets;
        let Some(p) = self.participants.get_mut(&pid) else {
            return Err("unknown participant");
        };
        let mut old: Vec<PubTrack> = std::mem::take(&mut p.tracks);
        let mut new_tracks = Vec::with_capacity(tracks.len());
        for t in tracks {
            let Some(m) = media.iter().find(|m| m.mid == t.mid) else {
                continue;
            };
            let mut layers: Vec<Layer> = Vec::new();
            if !m.rids.is_empty() {
                for rid in &m.rids {
                    layers.push(Layer {
                        rid: Some(rid.clone()),
                        ..Layer::default()
                    });
                }
            }
            if layers.is_empty() || !m.ssrcs.is_empty() {
                // SSRC-signalled layers (one, or simulcast via SSRCs).
                let mut l2: Vec<Layer> = m
                    .ssrcs
                    .iter()
                    .map(|s| Layer {
                        rid: None,
                        ssrc: Some(*s),
                        rtx_ssrc: m.rtx_ssrcs.iter().find(|(a, _)| a == s).map(|(_, r)| *r),
                    })
                    .collect();
                if layers.is_empty() {
                    layers = l2;
                } else {
                    // rids and SSRCs both given: attach SSRCs in order.
                    for (l, s) in layers.iter_mut().zip(l2.drain(..)) {
                        l.ssrc = s.ssrc;
                        l.rtx_ssrc = s.rtx_ssrc;
                    }
                }
            }
            if layers.is_empty() {
                // Nothing announced: accept nothing (rid learning needs rids).
                layers.push(Layer::default());
            }
            let codecs: Vec<PubCodec> = m
                .codecs
                .iter()
                .map(|c| PubCodec {
                    pt: c.pt,
                    rtx_pt: c.rtx_pt,
                    name: c.name.to_ascii_lowercase(),
                    clock_rate: c.clock_rate,
                    channels: c.channels,
                })
                .collect();
            let nack = m
                .codecs
                .iter()
                .any(|c| c.rtcp_fb.iter().any(|f| f == "nack"));
            let exts: Vec<(u8, String)> = m
                .extensions
                .iter()
                .filter_map(|e| u8::try_from(e.id).ok().map(|id| (id, e.uri.clone())))
                .collect();
            let find = |uri: &str| exts.iter().find(|(_, u)| u == uri).map(|(i, _)| *i);
            let (rid_ext, rrid_ext) = (find(URI_RID), find(URI_RRID));
            // Keep receive state, buffer and subscribers of a track that
            // stays published.
            let kept = old
                .iter()
                .position(|o| o.track_id == t.track_id)
                .map(|i| old.swap_remove(i));
            let (ring, subs, recv, lkr) = match kept {
                Some(o) => (o.ring, o.subs, o.recv, o.last_keyframe_request),
                None => (
                    PacketRing::new(if t.kind == MediaKind::Video {
                        video_n
                    } else {
                        audio_n
                    }),
                    Vec::new(),
                    None,
                    None,
                ),
            };
            let mut track = PubTrack {
                track_id: t.track_id.clone(),
                mid: t.mid.clone(),
                kind: t.kind,
                layers,
                codecs,
                exts,
                rid_ext,
                rrid_ext,
                nack,
                recv,
                ring,
                subs,
                last_keyframe_request: lkr,
                keyframe_pending: false,
                pending: (u64::MAX, 0, 0),
            };
            // A changed source SSRC is a publisher restart: the next
            // packet re-bases every subscriber.
            if let Some(r) = &track.recv {
                if !track.layers.iter().any(|l| l.ssrc == Some(r.ssrc)) {
                    track.recv = None;
                    track.ring.clear();
                    for s in &mut track.subs {
                        s.rebase = true;
                    }
                }
            }
            for s in &mut track.subs {
                rebuild_maps(&track.codecs, &track.exts, &track.mid, s);
            }
            new_tracks.push(track);
        }
        p.tracks = new_tracks;
        p.learned = 0;
        p.ssrcs.clear();
        for (ti, t) in p.tracks.iter().enumerate() {
            for (li, l) in t.layers.iter().enumerate() {
                if let Some(s) = l.ssrc {
                    p.ssrcs.insert(s, (ti, SrcRole::Media(li)));
                }
                if let Some(s) = l.rtx_ssrc {
                    p.ssrcs.insert(s, (ti, SrcRole::Rtx(li)));
                }
            }
        }
        let room = p.room.clone();
        self.rebuild_routes(&room, None);
        Ok(())
    }

    /// Replace what `subscriber` receives: each entry names the
    /// publisher, the publisher's mid and the subscriber-side section.
    pub fn set_subscribed(
        &mut self,
        subscriber: &str,
        tracks: &[tern_signal::SubscribedTrack],
    ) -> Result<(), &'static str> {
        let sid = *self.ids.get(subscriber).ok_or("unknown participant")?;
        let room = self
            .participants
            .get(&sid)
            .map(|p| p.room.clone())
            .ok_or("unknown participant")?;
        let mut wanted: Vec<(Pid, usize, &tern_sdp::SubscriberTrack)> = Vec::new();
        for st in tracks {
            let Some(&pid) = self.ids.get(&st.publisher) else {
                continue;
            };
            if pid == sid {
                continue; // never one's own media
            }
            let Some(p) = self.participants.get(&pid) else {
                continue;
            };
            if p.room != room {
                continue;
            }
            if let Some(ti) = p.tracks.iter().position(|t| t.mid == st.publisher_mid) {
                wanted.push((pid, ti, &st.track));
            }
        }
        let mut new_video: Vec<(Pid, usize)> = Vec::new();
        let pids: Vec<Pid> = self.rooms.get(&room).cloned().unwrap_or_default();
        for pid in pids {
            let Some(p) = self.participants.get_mut(&pid) else {
                continue;
            };
            for (ti, t) in p.tracks.iter_mut().enumerate() {
                let want = wanted.iter().find(|(wp, wt, _)| *wp == pid && *wt == ti);
                let have = t.subs.iter().position(|s| s.sub == sid);
                match (want, have) {
                    (None, Some(i)) => remove_sub(&mut self.jobs, pid, ti, &mut t.subs, i),
                    (Some((_, _, st)), Some(i)) => {
                        let s = &mut t.subs[i];
                        s.mid = st.mid.clone();
                        if s.ssrc != st.ssrc {
                            s.rebase = true;
                        }
                        s.ssrc = st.ssrc;
                        s.rtx_ssrc = st.rtx_ssrc;
                        s.codecs = st.codecs.clone();
                        s.exts = st.extensions.clone();
                        rebuild_maps(&t.codecs, &t.exts, &t.mid, s);
                    }
                    (Some((_, _, st)), None) => {
                        let seq_offset = rng_u64(&mut self.rng) as u16;
                        let ts_offset = rng_u64(&mut self.rng) as u32;
                        let mut s = SubOut {
                            sub: sid,
                            mid: st.mid.clone(),
                            ssrc: st.ssrc,
                            rtx_ssrc: st.rtx_ssrc,
                            codecs: st.codecs.clone(),
                            exts: st.extensions.clone(),
                            pt_map: [[NO_PT; 2]; 128],
                            ext_map: [0; 256],
                            mid_wire: [0; 16],
                            mid_ext: None,
                            twcc_ext: None,
                            started: false,
                            rebase: false,
                            seq_offset,
                            ts_offset,
                            last_seq: 0,
                            last_ts: 0,
                            last_sent: None,
                            rtx_seq: rng_u64(&mut self.rng) as u16,
                            packets: 0,
                            octets: 0,
                            clock_rate: 90_000,
                        };
                        rebuild_maps(&t.codecs, &t.exts, &t.mid, &mut s);
                        t.subs.push(s);
                        if t.kind == MediaKind::Video {
                            new_video.push((pid, ti));
                        }
                    }
                    (None, None) => {}
                }
            }
        }
        self.rebuild_routes(&room, None);
        // A new subscriber of a video track needs a keyframe.
        if self
            .transports
            .get(&(sid, Dir::Subscribe))
            .is_some_and(|t| t.ready().is_some())
        {
            let now = self.now;
            for (pid, ti) in new_video {
                self.request_keyframe(pid, ti, now, true);
            }
        }
        Ok(())
    }

    /// Free everything of `participant` (leave, socket close). Unknown ids
    /// are ignored (idempotent).
    pub fn remove_participant(&mut self, participant: &str) {
        // The queue drops the owners' entries when they come up.
        self.timeout_cache.set(None);
        let Some(pid) = self.ids.remove(participant) else {
            return;
        };
        let Some(p) = self.participants.remove(&pid) else {
            return;
        };
        for dir in [Dir::Publish, Dir::Subscribe] {
            if let Some(t) = self.transports.remove(&(pid, dir)) {
                if let Some(tu) = t.tuple {
                    self.tuples.remove(&TupleKey(tu.0, tu.1));
                }
            }
        }
        self.ufrags.retain(|_, k| k.0 != pid);
        self.tuples.retain(|_, k| k.0 != pid);
        if let Some(r) = self.rooms.get_mut(&p.room) {
            r.retain(|x| *x != pid);
            if r.is_empty() {
                self.rooms.remove(&p.room);
            }
        }
        // Subscriptions never cross rooms: only the room's publishers can
        // have it as a subscriber.
        let members = self.rooms.get(&p.room).map_or(&[][..], |v| &v[..]);
        for &publisher in members {
            let Some(other) = self.participants.get_mut(&publisher) else {
                continue;
            };
            for (ti, t) in other.tracks.iter_mut().enumerate() {
                if let Some(i) = t.subs.iter().position(|s| s.sub == pid) {
                    remove_sub(&mut self.jobs, publisher, ti, &mut t.subs, i);
                }
            }
        }
        self.jobs.retain(|j| {
            j.publisher != pid && !matches!(j.kind, JobKind::Resend { sub } if sub == pid)
        });
        self.rebuild_routes(&p.room, Some(pid));
    }

    /// Where `sid`'s outputs are (none if it receives nothing).
    fn outputs_of(&self, sid: Pid) -> &[SubOutput] {
        self.sub_outputs.get(&sid).map_or(&[], Vec::as_slice)
    }

    /// Rebuilds `sub_routes` and `sub_outputs` for the subscribers of
    /// `room` (and `gone`, a participant that just left it): a membership
    /// or subscription change costs the room's size, not the whole
    /// server's (the media thread stalls while it runs).
    fn rebuild_routes(&mut self, room: &str, gone: Option<Pid>) {
        let members = self.rooms.get(room).map_or(&[][..], |v| &v[..]);
        for &sid in members.iter().chain(gone.as_ref()) {
            for o in self.sub_outputs.remove(&sid).into_iter().flatten() {
                self.sub_routes.remove(&(sid, o.ssrc));
                if let Some(r) = o.rtx_ssrc {
                    self.sub_routes.remove(&(sid, r));
                }
            }
        }
        for &pid in members {
            let Some(p) = self.participants.get(&pid) else {
                continue;
            };
            add_routes(&mut self.sub_routes, &mut self.sub_outputs, pid, p);
        }
        #[cfg(debug_assertions)]
        self.check_routes();
    }

    /// Debug builds: the routes are what a rebuild of every room gives
    /// (each in member order, as the rebuild of one room adds them: where
    /// a subscriber has two outputs with one SSRC, the later one routes).
    #[cfg(debug_assertions)]
    fn check_routes(&self) {
        let mut routes = HashMap::new();
        let mut outputs = PidMap::default();
        for members in self.rooms.values() {
            for &pid in members {
                if let Some(p) = self.participants.get(&pid) {
                    add_routes(&mut routes, &mut outputs, pid, p);
                }
            }
        }
        debug_assert_eq!(
            self.rooms.values().map(Vec::len).sum::<usize>(),
            self.participants.len(),
            "every participant is in one room"
        );
        debug_assert_eq!(routes, self.sub_routes, "sub_routes");
        let sorted = |m: &PidMap<Pid, Vec<SubOutput>>| {
            let mut v: Vec<(Pid, Vec<SubOutput>)> = m
                .iter()
                .map(|(k, l)| {
                    let mut l = l.clone();
                    l.sort_unstable();
                    (*k, l)
                })
                .collect();
            v.sort_unstable();
            v
        };
        debug_assert_eq!(sorted(&outputs), sorted(&self.sub_outputs), "sub_outputs");
    }

    fn expire(&mut self, pid: Pid) {
        if let Some(p) = self.participants.get(&pid) {
            let id = p.id.clone();
            self.remove_participant(&id);
            self.events
                .push_back(Event::ConsentExpired { participant: id });
        }
    }

    // ------------------------------------------------------------------
    // Output queues
    // ------------------------------------------------------------------

    /// Keeps two control buffers per transport (and a few more) ready in
    /// the pool, and room in the pool for every queued datagram, so a tick
    /// on which every transport sends a report at once allocates nothing.
    /// Called when transports are created (the control plane's time).
    fn reserve_ctrl_buffers(&mut self) {
        let want = (2 * self.transports.len() + 16).min(MAX_CTRL_QUEUE);
        let have = self.pool.len() + self.ctrl.len();
        self.pool
            .reserve(MAX_CTRL_QUEUE.saturating_sub(self.pool.len()));
        for _ in have..want {
            self.pool.push(Vec::with_capacity(SLOT_LEN));
        }
    }

    fn take_buf(&mut self) -> Vec<u8> {
        let mut v = self.pool.pop().unwrap_or_default();
        v.clear();
        v.resize(SLOT_LEN, 0);
        v
    }

    fn queue_ctrl(&mut self, source: SocketAddr, destination: SocketAddr, data: Vec<u8>) {
        if self.ctrl.len() >= MAX_CTRL_QUEUE {
            self.stats.queue_drops += 1;
            self.pool.push(data);
            return;
        }
        self.ctrl.push_back(CtrlOut {
            source,
            destination,
            data,
        });
    }

    fn push_job(&mut self, job: Job) {
        if self.jobs.len() >= MAX_JOBS {
            self.stats.queue_drops += 1;
            self.jobs.pop_front();
        }
        self.jobs.push_back(job);
    }

    /// Queues the fan-out of packet `seq` of `publisher`'s track `track`:
    /// appended to the last job when that is the not yet started fan-out
    /// of the same track's packets up to `seq - 1` with fewer than
    /// `max_run` packets (so a subscriber gets a run of packets back to
    /// back), else a new job.
    fn push_fanout(&mut self, publisher: Pid, track: usize, slot: usize, seq: u64, max_run: u32) {
        if let Some(j) = self.jobs.back_mut() {
            if let JobKind::Fanout {
                count,
                next_sub: 0,
                next_pkt: 0,
            } = &mut j.kind
            {
                if j.publisher == publisher
                    && j.track == track
                    && *count < max_run
                    && j.seq + u64::from(*count) == seq
                {
                    *count += 1;
                    return;
                }
            }
        }
        self.push_job(Job {
            publisher,
            track,
            slot,
            seq,
            kind: JobKind::Fanout {
                count: 1,
                next_sub: 0,
                next_pkt: 0,
            },
        });
    }

    fn drain_transport(&mut self, key: TKey) {
        // Whatever fed the agent or the DTLS endpoint may have moved their
        // timers (and the next report, once connected).
        self.touch_transport(key);
        let mut events = Vec::new();
        loop {
            let mut buf = self.take_buf();
            let Some(t) = self.transports.get_mut(&key) else {
                self.pool.push(buf);
                return;
            };
            if let Some(tx) = t.ice.poll_transmit(&mut buf) {
                buf.truncate(tx.len);
                self.queue_ctrl(tx.source, tx.destination, buf);
                continue;
            }
            let dtls_out = match (&mut t.dtls, t.tuple) {
                (Some(d), Some((_, local))) => d.poll_transmit(&mut buf).map(|tx| (tx, local)),
                _ => None,
            };
            if let Some((tx, local)) = dtls_out {
                buf.truncate(tx.len);
                self.queue_ctrl(local, tx.destination, buf);
                continue;
            }
            self.pool.push(buf);
            while let Some(e) = t.ice.poll_event() {
                events.push(Event2::Ice(e));
            }
            if let Some(d) = &mut t.dtls {
                while let Some(e) = d.poll_event() {
                    events.push(Event2::Dtls(e));
                }
            }
            break;
        }
        for e in events {
            match e {
                Event2::Ice(IceEvent::ConsentExpired { .. }) => {
                    self.expire(key.0);
                    return;
                }
                Event2::Ice(IceEvent::SelectedPair { local, remote }) => {
                    self.bind_tuple(key, remote, local);
                }
                Event2::Ice(_) => {}
                Event2::Dtls(DtlsEvent::Connected(keys)) => {
                    let cfg = tern_srtp::Config {
                        max_streams: 64,
                        accept_new_ssrcs: true,
                    };
                    let Some(t) = self.transports.get_mut(&key) else {
                        return;
                    };
                    if let Ok((tx, rx)) = keys.contexts_with(cfg) {
                        t.tx = Some(tx);
                        t.rx = Some(rx);
                        t.next_report = Some(next_report_at(
                            self.epoch,
                            self.config.report_interval,
                            self.now,
                        ));
                        let id = self.participants.get(&key.0).map(|p| p.id.clone());
                        if let Some(participant) = id {
                            self.events.push_back(Event::Connected {
                                participant,
                                dir: key.1,
                            });
                        }
                        if key.1 == Dir::Subscribe {
                            self.keyframes_for_subscriber(key.0);
                        }
                    }
                }
                Event2::Dtls(DtlsEvent::Failed(_)) => {
                    let id = self.participants.get(&key.0).map(|p| p.id.clone());
                    if let Some(participant) = id {
                        self.events.push_back(Event::DtlsFailed {
                            participant,
                            dir: key.1,
                        });
                    }
                }
                Event2::Dtls(_) => {}
            }
        }
        // DTLS records queued while events were handled.
        if self
            .transports
            .get(&key)
            .and_then(|t| t.dtls.as_ref())
            .is_some()
        {
            loop {
                let mut buf = self.take_buf();
                let out = self.transports.get_mut(&key).and_then(|t| {
                    let local = t.tuple?.1;
                    t.dtls.as_mut()?.poll_transmit(&mut buf).map(|x| (x, local))
                });
                match out {
                    Some((tx, local)) => {
                        buf.truncate(tx.len);
                        self.queue_ctrl(local, tx.destination, buf);
                    }
                    None => {
                        self.pool.push(buf);
                        break;
                    }
                }
            }
        }
    }

    fn bind_tuple(&mut self, key: TKey, remote: SocketAddr, local: SocketAddr) {
        let Some(t) = self.transports.get_mut(&key) else {
            return;
        };
        if t.tuple == Some((remote, local)) {
            return;
        }
        if let Some(old) = t.tuple.take() {
            self.tuples.remove(&TupleKey(old.0, old.1));
        }
        // Another transport held this tuple (a client reusing a port):
        // it loses it.
        if let Some(prev) = self.tuples.insert(TupleKey(remote, local), key) {
            if prev != key {
                if let Some(pt) = self.transports.get_mut(&prev) {
                    pt.tuple = None;
                }
            }
        }
        let Some(t) = self.transports.get_mut(&key) else {
            return;
        };
        t.tuple = Some((remote, local));
        if t.dtls.as_ref().is_some_and(|d| !d.is_connected()) {
            // Handshake not done yet: restart it on the new path.
            t.dtls = None;
        }
        self.maybe_start_dtls(key);
    }

    fn maybe_start_dtls(&mut self, key: TKey) {
        let now = self.now;
        let Some(t) = self.transports.get_mut(&key) else {
            return;
        };
        if t.dtls.is_some() || t.tx.is_some() {
            return;
        }
        let (Some((remote, _)), Some(fp), Some(role)) = (t.tuple, t.remote_fp, t.role) else {
            return;
        };
        if let Ok(d) = Dtls::new(
            role,
            remote,
            &self.config.certificate,
            fp,
            self.config.dtls.clone(),
            now,
        ) {
            t.dtls = Some(d);
        }
        self.drain_transport(key);
    }

    // ------------------------------------------------------------------
    // Input
    // ------------------------------------------------------------------

    /// A datagram arrived on local address `local` from `remote`. `buf`
    /// holds exactly the datagram; SRTP is decrypted in place (so its
    /// contents change). Then drain [`Sfu::poll_transmit`].
    pub fn handle_receive(
        &mut self,
        now: Instant,
        remote: SocketAddr,
        local: SocketAddr,
        buf: &mut [u8],
    ) {
        self.now = self.now.max(now);
        self.stats.received += 1;
        let kind = classify(buf);
        if kind == PacketKind::Stun {
            self.on_stun(remote, local, buf);
            return;
        }
        let Some(&key) = self.tuples.get(&TupleKey(remote, local)) else {
            self.stats.unknown_tuple_drops += 1;
            return;
        };
        match kind {
            PacketKind::Dtls => self.on_dtls(key, remote, buf),
            PacketKind::Rtp => self.on_rtp(key, buf),
            PacketKind::Rtcp => self.on_rtcp(key, buf),
            _ => self.stats.unknown_kind_drops += 1,
        }
    }

    fn on_stun(&mut self, remote: SocketAddr, local: SocketAddr, buf: &[u8]) {
        // Requests are routed by the ufrag in USERNAME (so one client port
        // may carry checks for either transport); anything without a
        // known ufrag goes to the transport bound to the tuple, if any
        // (its agent drops it), or is dropped.
        let by_ufrag = tern_stun::Message::parse(buf).ok().and_then(|msg| {
            msg.username()
                .and_then(|u| u.split(':').next())
                .and_then(|u| self.ufrags.get(u))
                .copied()
        });
        let key = match by_ufrag.or_else(|| self.tuples.get(&TupleKey(remote, local)).copied()) {
            Some(k) => k,
            None => {
                self.stats.unknown_ufrag_drops += 1;
                return;
            }
        };
        let now = self.now;
        let Some(t) = self.transports.get_mut(&key) else {
            return;
        };
        t.ice.handle_receive(now, remote, local, buf);
        let answered = t.ice.stats().answered;
        let authenticated = answered > t.answered;
        t.answered = answered;
        let selected = t.ice.selected_pair();
        // Only an authenticated check binds a tuple; the nominated pair
        // wins over a merely checked one.
        match selected {
            Some((l, r)) if authenticated && (r, l) == (remote, local) => {
                self.bind_tuple(key, remote, local)
            }
            Some(_) => {}
            None if authenticated => self.bind_tuple(key, remote, local),
            None => {}
        }
        self.drain_transport(key);
    }

    fn on_dtls(&mut self, key: TKey, remote: SocketAddr, buf: &[u8]) {
        let now = self.now;
        self.maybe_start_dtls(key);
        let Some(t) = self.transports.get_mut(&key) else {
            return;
        };
        if let Some(d) = &mut t.dtls {
            d.handle_receive(now, remote, buf);
        }
        self.drain_transport(key);
    }

    fn on_rtp(&mut self, key: TKey, buf: &mut [u8]) {
        if key.1 != Dir::Publish || buf.len() < 12 {
            self.stats.unexpected_rtp_drops += 1;
            return;
        }
        let pid = key.0;
        let ssrc = u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]);
        let now = self.now;
        let Some(p) = self.participants.get(&pid) else {
            return;
        };
        let route = p.ssrcs.get(&ssrc).copied();
        let may_learn = route.is_none()
            && p.learned < MAX_LEARNED_SSRCS
            && p.tracks
                .iter()
                .any(|t| t.rid_ext.is_some() && t.layers.iter().any(|l| l.rid.is_some()));
        if route.is_none() && !may_learn {
            self.stats.foreign_ssrc_drops += 1;
            return;
        }
        let Some(t) = self.transports.get_mut(&key) else {
            return;
        };
        let Some(rx) = t.rx.as_mut() else {
            self.stats.unexpected_rtp_drops += 1;
            return;
        };
        let n = match rx.unprotect_rtp(buf) {
            Ok(n) => n,
            Err(_) => {
                self.stats.srtp_failures += 1;
                return;
            }
        };
        let Ok(pkt) = RtpPacket::new_checked(&buf[..n]) else {
            self.stats.malformed_rtp += 1;
            return;
        };
        let route = match route {
            Some(r) => r,
            None => match self.learn_ssrc(pid, &pkt) {
                Some(r) => r,
                None => {
                    self.stats.foreign_ssrc_drops += 1;
                    if let Some(rx) = self.transports.get_mut(&key).and_then(|t| t.rx.as_mut()) {
                        rx.remove_ssrc(Ssrc(ssrc));
                    }
                    return;
                }
            },
        };
        self.stats.rtp_received += 1;
        let (ti, role) = route;
        let Some(p) = self.participants.get_mut(&pid) else {
            return;
        };
        let Some(track) = p.tracks.get_mut(ti) else {
            return;
        };
        let layer = match role {
            SrcRole::Media(l) | SrcRole::Rtx(l) => l,
        };
        if layer != 0 {
            // Only the first layer is forwarded (no simulcast switching).
            return;
        }
        let media_ssrc = match role {
            SrcRole::Media(_) => ssrc,
            SrcRole::Rtx(l) => match track.layers.get(l).and_then(|x| x.ssrc) {
                Some(s) => s,
                None => return,
            },
        };
        // The original sequence number and the packet to store.
        let (seq16, is_rtx) = match role {
            SrcRole::Media(_) => (pkt.sequence_number(), false),
            SrcRole::Rtx(_) => {
                let pl = pkt.payload();
                if pl.len() < 2 {
                    return;
                }
                (u16::from_be_bytes([pl[0], pl[1]]), true)
            }
        };
        let orig_pt = if is_rtx {
            let pt = pkt.payload_type().get();
            match track.codecs.iter().find(|c| c.rtx_pt == Some(pt)) {
                Some(c) => c.pt,
                None => return,
            }
        } else {
            pkt.payload_type().get()
        };
        if !track.codecs.iter().any(|c| c.pt == orig_pt) {
            self.stats.pt_unmapped_drops += 1;
            return;
        }
        let clock_rate = track
            .codecs
            .iter()
            .find(|c| c.pt == orig_pt)
            .map_or(90_000, |c| c.clock_rate);
        // Receive state (a new SSRC is a restart).
        let restarted = track.recv.as_ref().is_some_and(|r| r.ssrc != media_ssrc);
        if restarted {
            track.recv = None;
            track.ring.clear();
            for s in &mut track.subs {
                s.rebase = true;
            }
        }
        if is_rtx && track.recv.is_none() {
            return;
        }
        let recv = track.recv.get_or_insert_with(|| RecvState {
            ssrc: media_ssrc,
            ext_max: u64::from(seq16) + 0x1_0000,
            tracker: SequenceTracker::with_probation(seq16, 0),
            jitter: Jitter::new(),
            clock_rate,
            last_sr: None,
            last_sr_rtp: None,
            missing: VecDeque::with_capacity(MAX_MISSING),
        });
        let ext = SeqNo(recv.ext_max).extend(seq16).0;
        let mut new_loss = false;
        if ext > recv.ext_max {
            let gap = ext - recv.ext_max - 1;
            if gap > 0 && gap <= MAX_NACK_GAP && track.nack {
                for s in recv.ext_max + 1..ext {
                    if recv.missing.len() >= MAX_MISSING {
                        recv.missing.pop_front();
                    }
                    recv.missing.push_back(Missing {
                        seq: s,
                        tries: 0,
                        next_at: now,
                    });
                }
                new_loss = true;
            }
            recv.ext_max = ext;
        } else if let Some(i) = recv.missing.iter().position(|m| m.seq == ext) {
            recv.missing.remove(i);
        } else if track.ring.find(ext).is_some() {
            return; // duplicate
        }
        if !is_rtx {
            recv.tracker.update(seq16);
            let arrival = units(now.saturating_duration_since(self.epoch), clock_rate);
            recv.jitter.update(arrival, pkt.timestamp());
        }
        // Store the plaintext once; fan out from the slot.
        let (slot, dst) = track.ring.slot_mut(ext);
        let len = if is_rtx {
            let hdr = pkt.header_len();
            let body = &pkt.payload()[2..];
            if hdr + body.len() > dst.len() {
                return;
            }
            dst[..hdr].copy_from_slice(&pkt.as_bytes()[..hdr]);
            dst[hdr..hdr + body.len()].copy_from_slice(body);
            dst[0] &= !0x20; // padding dropped
            let len = hdr + body.len();
            let Ok(mut v) = RtpPacket::new_checked(&mut dst[..len]) else {
                return;
            };
            v.set_ssrc(Ssrc(media_ssrc));
            v.set_sequence_number(seq16);
            if let Some(pt) = Pt::new(orig_pt) {
                v.set_payload_type(pt);
            }
            len
        } else {
            if n > dst.len() {
                return;
            }
            dst[..n].copy_from_slice(&buf[..n]);
            n
        };
        track.ring.commit(slot, ext, len);
        // Packets stored since the last complete drain must not wrap the
        // ring before their fan-out runs: past half of it, ask for a drain.
        let pending = &mut track.pending;
        if pending.0 == self.drain_epoch {
            pending.1 = pending.1.min(ext);
            pending.2 = pending.2.max(ext);
        } else {
            *pending = (self.drain_epoch, ext, ext);
        }
        if pending.2 - pending.1 + 1 >= (track.ring.len() as u64 / 2).max(1) {
            self.drain_wanted = true;
        }
        if !track.subs.is_empty() {
            // After a restart the previous run belongs to the old stream.
            let max_run = if restarted {
                1
            } else {
                MAX_RUN.min(u32::try_from(track.ring.len() / 2).unwrap_or(MAX_RUN))
            };
            self.push_fanout(pid, ti, slot, ext, max_run);
        }
        if new_loss {
            self.touch_participant(pid);
            self.send_nacks(pid, now);
        }
    }

    fn learn_ssrc(&mut self, pid: Pid, pkt: &RtpPacket<&[u8]>) -> Option<(usize, SrcRole)> {
        let p = self.participants.get_mut(&pid)?;
        for (ti, t) in p.tracks.iter_mut().enumerate() {
            let from = |id: Option<u8>| {
                id.and_then(|id| pkt.extension(id))
                    .and_then(|v| core::str::from_utf8(v).ok())
            };
            let (rid, rtx) = match (from(t.rid_ext), from(t.rrid_ext)) {
                (Some(r), _) => (r, false),
                (None, Some(r)) => (r, true),
                _ => continue,
            };
            let Some(li) = t.layers.iter().position(|l| l.rid.as_deref() == Some(rid)) else {
                continue;
            };
            let ssrc = pkt.ssrc().0;
            let role = if rtx {
                if t.layers[li].rtx_ssrc.is_some() {
                    return None;
                }
                t.layers[li].rtx_ssrc = Some(ssrc);
                SrcRole::Rtx(li)
            } else {
                if t.layers[li].ssrc.is_some() {
                    return None;
                }
                t.layers[li].ssrc = Some(ssrc);
                SrcRole::Media(li)
            };
            p.ssrcs.insert(ssrc, (ti, role));
            p.learned += 1;
            return Some((ti, role));
        }
        None
    }

    fn on_rtcp(&mut self, key: TKey, buf: &mut [u8]) {
        let pid = key.0;
        let Some(t) = self.transports.get_mut(&key) else {
            return;
        };
        let Some(rx) = t.rx.as_mut() else {
            self.stats.unexpected_rtp_drops += 1;
            return;
        };
        let n = match rx.unprotect_rtcp(buf) {
            Ok(n) => n,
            Err(_) => {
                self.stats.srtp_failures += 1;
                return;
            }
        };
        let now = self.now;
        let data = &buf[..n];
        // Actions collected first (the compound borrows `buf`).
        let mut resend: [(u32, u16); 64] = [(0, 0); 64];
        let mut nres = 0usize;
        let mut keyframes: [u32; 8] = [0; 8];
        let mut nkf = 0usize;
        for pkt in CompoundIter::new(data) {
            let Ok(pkt) = pkt else { break };
            match (key.1, pkt) {
                (Dir::Publish, RtcpPacket::SenderReport(sr)) => {
                    let ssrc = sr.ssrc().0;
                    if let Some(p) = self.participants.get_mut(&pid) {
                        if let Some(&(ti, SrcRole::Media(_))) = p.ssrcs.get(&ssrc) {
                            if let Some(r) = p.tracks[ti].recv.as_mut().filter(|r| r.ssrc == ssrc) {
                                let info = sr.sender_info();
                                r.last_sr = Some((info.ntp_time.compact(), now));
                                r.last_sr_rtp = Some((info.rtp_time, now));
                            }
                        }
                    }
                }
                (_, RtcpPacket::Bye(bye)) => {
                    for s in bye.ssrcs() {
                        let owned = key.1 == Dir::Publish
                            && self
                                .participants
                                .get(&pid)
                                .is_some_and(|p| p.ssrcs.contains_key(&s.0));
                        if !owned {
                            self.stats.foreign_bye_ignored += 1;
                            continue;
                        }
                        // The source ended: the next one re-bases.
                        if let Some(p) = self.participants.get_mut(&pid) {
                            if let Some(&(ti, SrcRole::Media(_))) = p.ssrcs.get(&s.0) {
                                let t = &mut p.tracks[ti];
                                if t.recv.as_ref().is_some_and(|r| r.ssrc == s.0) {
                                    t.recv = None;
                                    t.ring.clear();
                                    for so in &mut t.subs {
                                        so.rebase = true;
                                    }
                                }
                            }
                        }
                    }
                }
                (Dir::Subscribe, RtcpPacket::Nack(nack)) => {
                    let ms = nack.media_ssrc().0;
                    if !self.sub_routes.contains_key(&(pid, ms)) {
                        self.stats.foreign_feedback_ignored += 1;
                        continue;
                    }
                    for s in nack.lost() {
                        if nres < resend.len() {
                            resend[nres] = (ms, s);
                            nres += 1;
                        }
                    }
                }
                (Dir::Subscribe, RtcpPacket::Pli(pli)) => {
                    let ms = pli.media_ssrc().0;
                    if self.sub_routes.contains_key(&(pid, ms)) {
                        if nkf < keyframes.len() {
                            keyframes[nkf] = ms;
                            nkf += 1;
                        }
                    } else {
                        self.stats.foreign_feedback_ignored += 1;
                    }
                }
                (Dir::Subscribe, RtcpPacket::Fir(fir)) => {
                    for e in fir.entries() {
                        let ms = e.ssrc.0;
                        if self.sub_routes.contains_key(&(pid, ms)) {
                            if nkf < keyframes.len() {
                                keyframes[nkf] = ms;
                                nkf += 1;
                            }
                        } else {
                            self.stats.foreign_feedback_ignored += 1;
                        }
                    }
                }
                (Dir::Subscribe, RtcpPacket::Remb(_) | RtcpPacket::Twcc(_)) => {
                    self.stats.congestion_feedback_consumed += 1;
                }
                _ => {}
            }
        }
        for &(ms, out_seq) in &resend[..nres] {
            self.queue_resend(pid, ms, out_seq);
        }
        for &ms in &keyframes[..nkf] {
            if let Some(&(pubid, ti)) = self.sub_routes.get(&(pid, ms)) {
                self.request_keyframe(pubid, ti, now, false);
            }
        }
    }

    fn queue_resend(&mut self, sub: Pid, out_ssrc: u32, out_seq: u16) {
        let Some(&(pubid, ti)) = self.sub_routes.get(&(sub, out_ssrc)) else {
            return;
        };
        let Some(t) = self.participants.get(&pubid).and_then(|p| p.tracks.get(ti)) else {
            return;
        };
        let Some(s) = t.subs.iter().find(|s| s.sub == sub) else {
            return;
        };
        let (Some(recv), true) = (&t.recv, s.started) else {
            self.stats.retransmit_misses += 1;
            return;
        };
        let in_seq = out_seq.wrapping_sub(s.seq_offset);
        match t.ring.find16(in_seq, recv.ext_max) {
            Some((slot, seq)) => self.push_job(Job {
                publisher: pubid,
                track: ti,
                slot,
                seq,
                kind: JobKind::Resend { sub },
            }),
            None => self.stats.retransmit_misses += 1,
        }
    }

    fn keyframes_for_subscriber(&mut self, sid: Pid) {
        let now = self.now;
        let mut list = Vec::new();
        for o in self.outputs_of(sid) {
            let video = self
                .participants
                .get(&o.publisher)
                .and_then(|p| p.tracks.get(o.track))
                .is_some_and(|t| t.kind == MediaKind::Video);
            if video {
                list.push((o.publisher, o.track));
            }
        }
        for (pid, ti) in list {
            self.request_keyframe(pid, ti, now, true);
        }
    }

    /// Ask the publisher of a track for a keyframe, at most once per
    /// `keyframe_interval`; a request inside the interval is coalesced
    /// into one sent when the interval ends.
    fn request_keyframe(&mut self, pid: Pid, ti: usize, now: Instant, _new_subscriber: bool) {
        self.touch_participant(pid);
        let interval = self.config.keyframe_interval;
        let Some(t) = self
            .participants
            .get_mut(&pid)
            .and_then(|p| p.tracks.get_mut(ti))
        else {
            return;
        };
        if t.kind != MediaKind::Video {
            return;
        }
        let due = t.last_keyframe_request.is_none_or(|l| now >= l + interval);
        if !due {
            if t.keyframe_pending {
                self.stats.keyframe_requests_throttled += 1;
            }
            t.keyframe_pending = true;
            return;
        }
        let media = t
            .recv
            .as_ref()
            .map(|r| r.ssrc)
            .or_else(|| t.layers.first().and_then(|l| l.ssrc));
        let Some(media) = media else {
            t.keyframe_pending = true;
            return;
        };
        t.keyframe_pending = false;
        t.last_keyframe_request = Some(now);
        let Some(tr) = self.transports.get(&(pid, Dir::Publish)) else {
            return;
        };
        let sender = Ssrc(tr.rtcp_ssrc);
        let pli = PliBuilder {
            sender_ssrc: sender,
            media_ssrc: Ssrc(media),
        };
        if self.send_rtcp((pid, Dir::Publish), |w| w.push(&pli).map(|_| ())) {
            self.stats.plis_sent += 1;
        }
    }

    /// Build a compound with `build` and send it protected on `key`.
    fn send_rtcp(
        &mut self,
        key: TKey,
        build: impl FnOnce(&mut CompoundWriter<'_>) -> Result<(), tern_rtp::Error>,
    ) -> bool {
        let mut buf = self.take_buf();
        let Some(t) = self.transports.get_mut(&key) else {
            self.pool.push(buf);
            return false;
        };
        let (Some((remote, local)), Some(tx)) = (t.tuple, t.tx.as_mut()) else {
            self.pool.push(buf);
            return false;
        };
        let overhead = tx.profile().rtcp_overhead();
        let room = buf.len() - overhead;
        let mut w = CompoundWriter::new(&mut buf[..room]);
        if build(&mut w).is_err() || w.is_empty() {
            self.pool.push(buf);
            return false;
        }
        let len = w.finish();
        match tx.protect_rtcp(&mut buf, len) {
            Ok(n) => {
                buf.truncate(n);
                self.queue_ctrl(local, remote, buf);
                true
            }
            Err(_) => {
                self.pool.push(buf);
                false
            }
        }
    }

    fn send_nacks(&mut self, pid: Pid, now: Instant) {
        self.touch_participant(pid);
        let interval = self.config.nack_interval;
        let max_tries = self.config.nack_max_tries;
        let Some(tr) = self.transports.get(&(pid, Dir::Publish)) else {
            return;
        };
        let sender = Ssrc(tr.rtcp_ssrc);
        let Some(p) = self.participants.get_mut(&pid) else {
            return;
        };
        let mut out: Vec<(u32, Vec<NackPair>)> = Vec::new();
        for t in &mut p.tracks {
            let Some(r) = t.recv.as_mut() else { continue };
            r.missing.retain(|m| m.tries < max_tries);
            let mut due: Vec<u16> = Vec::new();
            for m in r.missing.iter_mut() {
                if m.next_at <= now {
                    m.tries += 1;
                    m.next_at = now + interval;
                    due.push(m.seq as u16);
                }
            }
            if !due.is_empty() {
                let pairs: Vec<NackPair> = nack_pairs(due).take(60).collect();
                out.push((r.ssrc, pairs));
            }
        }
        for (ssrc, pairs) in out {
            let nack = NackBuilder {
                sender_ssrc: sender,
                media_ssrc: Ssrc(ssrc),
                pairs: &pairs,
            };
            if self.send_rtcp((pid, Dir::Publish), |w| w.push(&nack).map(|_| ())) {
                self.stats.nacks_sent += 1;
            }
        }
    }

    // ------------------------------------------------------------------
    // Time
    // ------------------------------------------------------------------

    /// The caller's clock reached `now`: ICE consent and DTLS timers, NACK
    /// retries, throttled keyframe requests, sender/receiver reports. Then
    /// drain [`Sfu::poll_transmit`] and [`Sfu::poll_event`].
    pub fn handle_timeout(&mut self, now: Instant) {
        self.timeout_cache.set(None);
        self.now = self.now.max(now);
        let now = self.now;
        // Only the owners the queue says are due (each comes out touched,
        // so its deadline is read again afterwards), in key order.
        let mut due = std::mem::take(&mut self.scratch.due);
        due.clear();
        self.timers.pop_due(&self.owners(), now, &mut due);
        due.sort_unstable();
        for &k in &due {
            let TimerKey::Transport(key) = k else {
                continue;
            };
            let Some(t) = self.transports.get_mut(&key) else {
                continue;
            };
            let mut fired = false;
            if t.ice.poll_timeout().is_some_and(|at| at <= now) {
                t.ice.handle_timeout(now);
                fired = true;
            }
            if let Some(d) = &mut t.dtls {
                if d.poll_timeout().is_some_and(|at| at <= now) {
                    d.handle_timeout(now);
                    fired = true;
                }
            }
            // Every other path that feeds the agent or the DTLS endpoint
            // drains the transport itself.
            if fired {
                self.drain_transport(key);
            }
        }
        for &k in &due {
            let TimerKey::Participant(pid) = k else {
                continue;
            };
            let due_nack = self.participants.get(&pid).is_some_and(|p| {
                p.tracks.iter().any(|t| {
                    t.recv
                        .as_ref()
                        .is_some_and(|r| r.missing.iter().any(|m| m.next_at <= now))
                })
            });
            if due_nack {
                self.send_nacks(pid, now);
            }
            let n = self.participants.get(&pid).map_or(0, |p| p.tracks.len());
            for ti in 0..n {
                let pending = self
                    .participants
                    .get(&pid)
                    .and_then(|p| p.tracks.get(ti))
                    .is_some_and(|t| {
                        t.keyframe_pending
                            && t.last_keyframe_request
                                .is_none_or(|l| now >= l + self.config.keyframe_interval)
                    });
                if pending {
                    self.request_keyframe(pid, ti, now, false);
                }
            }
        }
        for &k in &due {
            let TimerKey::Transport((pid, dir)) = k else {
                continue;
            };
            let due = self
                .transports
                .get(&(pid, dir))
                .and_then(|t| t.next_report)
                .is_some_and(|at| at <= now);
            if due {
                let next = next_report_at(self.epoch, self.config.report_interval, now);
                if let Some(t) = self.transports.get_mut(&(pid, dir)) {
                    t.next_report = Some(next);
                }
                match dir {
                    Dir::Publish => self.send_receiver_reports(pid, now),
                    Dir::Subscribe => self.send_sender_reports(pid, now),
                }
            }
        }
        self.scratch.due = due;
    }

    fn send_receiver_reports(&mut self, pid: Pid, now: Instant) {
        let Some(tr) = self.transports.get(&(pid, Dir::Publish)) else {
            return;
        };
        let sender = Ssrc(tr.rtcp_ssrc);
        let Some(p) = self.participants.get_mut(&pid) else {
            return;
        };
        let mut blocks = std::mem::take(&mut self.scratch.blocks);
        blocks.clear();
        for t in &mut p.tracks {
            let Some(r) = t.recv.as_mut() else { continue };
            let (lsr, dlsr) = match r.last_sr {
                Some((c, at)) => {
                    let d = now.saturating_duration_since(at);
                    (c, CompactNtp::from_micros(d.as_micros() as u64))
                }
                None => (CompactNtp(0), CompactNtp(0)),
            };
            let _ = r.clock_rate;
            blocks.push(ReportBlock {
                ssrc: Ssrc(r.ssrc),
                fraction_lost: r.tracker.fraction_lost_interval(),
                cumulative_lost: r.tracker.cumulative_lost_field(),
                extended_highest_seq: r.tracker.extended_max().report_field(),
                jitter: r.jitter.get(),
                last_sr: lsr,
                delay_since_last_sr: dlsr,
            });
        }
        for chunk in blocks.chunks(31) {
            let rr = ReceiverReportBuilder {
                ssrc: sender,
                reports: chunk,
                profile_ext: &[],
            };
            if self.send_rtcp((pid, Dir::Publish), |w| w.push(&rr).map(|_| ())) {
                self.stats.reports_sent += 1;
            }
        }
        if blocks.is_empty() {
            let rr = ReceiverReportBuilder {
                ssrc: sender,
                reports: &[],
                profile_ext: &[],
            };
            if self.send_rtcp((pid, Dir::Publish), |w| w.push(&rr).map(|_| ())) {
                self.stats.reports_sent += 1;
            }
        }
        self.scratch.blocks = blocks;
    }

    fn send_sender_reports(&mut self, sid: Pid, now: Instant) {
        let ntp_now = ntp(self.config.wall_clock_at_start, self.epoch, now);
        let mut srs = std::mem::take(&mut self.scratch.srs);
        srs.clear();
        for o in self.outputs_of(sid) {
            let Some(t) = self
                .participants
                .get(&o.publisher)
                .and_then(|p| p.tracks.get(o.track))
            else {
                continue;
            };
            let Some(s) = t.subs.get(o.index).filter(|s| s.sub == sid && s.started) else {
                continue;
            };
            let publisher_sr = t.recv.as_ref().and_then(|r| r.last_sr_rtp);
            // The RTP time that corresponds to `ntp_now`, in the
            // subscriber's (rewritten) timestamp space. From the
            // publisher's own NTP/RTP mapping when it sent an SR (its RTP
            // time then, rewritten, plus the time since it arrived), so
            // audio and video of one publisher keep the relation its
            // capture clock gave them; otherwise from the last forwarded
            // timestamp.
            let since = |at: Instant| units(now.saturating_duration_since(at), s.clock_rate);
            let rtp_time = match (publisher_sr, s.rebase, s.last_sent) {
                (Some((rtp, at)), false, _) => {
                    rtp.wrapping_add(s.ts_offset).wrapping_add(since(at))
                }
                (_, _, Some(at)) => s.last_ts.wrapping_add(since(at)),
                (_, _, None) => s.last_ts,
            };
            srs.push((
                Ssrc(s.ssrc),
                SenderInfo {
                    ntp_time: ntp_now,
                    rtp_time,
                    packet_count: s.packets,
                    octet_count: s.octets,
                },
            ));
        }
        for chunk in srs.chunks(16) {
            let sent = self.send_rtcp((sid, Dir::Subscribe), |w| {
                for (ssrc, info) in chunk {
                    w.push(&SenderReportBuilder {
                        ssrc: *ssrc,
                        info: *info,
                        reports: &[],
                        profile_ext: &[],
                    })?;
                }
                Ok(())
            });
            if sent {
                self.stats.reports_sent += chunk.len() as u64;
            }
        }
        self.scratch.srs = srs;
    }

    /// When to call [`Sfu::handle_timeout`] next (cached between the
    /// calls that may move a timer earlier).
    pub fn poll_timeout(&self) -> Option<Instant> {
        if let Some(at) = self.timeout_cache.get() {
            #[cfg(debug_assertions)]
            self.check_timers(at);
            return at;
        }
        let at = self.timers.next(&self.owners());
        #[cfg(debug_assertions)]
        self.check_timers(at);
        self.timeout_cache.set(Some(at));
        at
    }

    /// Debug builds: the answer is never later than a scan of every owner
    /// says, and no owner that is not waiting to be read again holds a
    /// later time than its deadline (a path that moved a timer earlier
    /// without touching its owner).
    #[cfg(debug_assertions)]
    fn check_timers(&self, at: Option<Instant>) {
        let o = self.owners();
        let mut fresh = None;
        o.each(&mut |k, slot| {
            let d = o.deadline(k);
            fresh = earlier(fresh, d);
            if let Some(d) = d {
                debug_assert!(
                    slot.is_dirty() || slot.scheduled().is_some_and(|s| s <= d),
                    "timer owner {k:?}: deadline {d:?}, queued {:?}",
                    slot.scheduled()
                );
            }
        });
        debug_assert!(
            fresh.is_none_or(|f| at.is_some_and(|a| a <= f)),
            "next timeout {at:?} later than {fresh:?}"
        );
    }

    /// The next event; drain until `None`.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    // ------------------------------------------------------------------
    // Output
    // ------------------------------------------------------------------

    /// Write the next datagram into `buf` (give it at least
    /// [`MIN_TRANSMIT_BUF`] bytes)
    /// and say where it goes; `None` when nothing is queued. Control
    /// datagrams (STUN, DTLS, RTCP) come first, then forwarded media: each
    /// is copied from the publisher's buffer, rewritten for the subscriber
    /// and SRTP-protected straight into `buf`. Allocates nothing for
    /// forwarded media.
    pub fn poll_transmit(&mut self, buf: &mut [u8]) -> Option<Transmit> {
        while let Some(c) = self.ctrl.pop_front() {
            let n = c.data.len();
            let ok = n <= buf.len();
            if ok {
                buf[..n].copy_from_slice(&c.data);
            } else {
                self.stats.queue_drops += 1;
            }
            self.pool.push(c.data);
            if ok {
                return Some(Transmit {
                    source: c.source,
                    destination: c.destination,
                    len: n,
                });
            }
        }
        while let Some(&job) = self.jobs.front() {
            if let Some(t) = self.run_job(job, buf) {
                return Some(t);
            }
        }
        self.drain_epoch = self.drain_epoch.wrapping_add(1);
        self.drain_wanted = false;
        None
    }

    /// Whether [`Sfu::poll_transmit`] must be drained before the next
    /// [`Sfu::handle_receive`]: a caller feeding several datagrams before
    /// draining asks after each one. True once a track's packets received
    /// since the last complete drain span half its retransmission ring
    /// (further packets would overwrite slots whose fan-out has not run).
    pub fn wants_drain(&self) -> bool {
        self.drain_wanted
    }

    /// Runs one step of `job`, the front job: returns the datagram written
    /// (if any) and leaves the job at the next (subscriber, packet) of a
    /// fan-out, or pops it when done. (Advancing here rather than
    /// returning the next position keeps the large return value a plain
    /// `Option<Transmit>`.)
    fn run_job(&mut self, job: Job, buf: &mut [u8]) -> Option<Transmit> {
        let Some(track) = self
            .participants
            .get_mut(&job.publisher)
            .and_then(|p| p.tracks.get_mut(job.track))
        else {
            self.jobs.pop_front();
            return None;
        };
        let now = self.now;
        let (count, mut si, mut k) = match job.kind {
            JobKind::Fanout {
                count,
                next_sub,
                next_pkt,
            } => (count, next_sub as usize, next_pkt),
            JobKind::Resend { sub } => {
                self.jobs.pop_front();
                let data = track.ring.at(job.slot, job.seq)?;
                let src = RtpPacket::new_checked(data).ok()?;
                let s = track.subs.iter_mut().find(|s| s.sub == sub)?;
                let t = self.transports.get_mut(&(sub, Dir::Subscribe))?;
                let (remote, local) = t.ready()?;
                let Some(len) = write_for_subscriber(&src, s, t, buf, now, true) else {
                    self.stats.pt_unmapped_drops += 1;
                    return None;
                };
                self.stats.retransmitted += 1;
                return Some(Transmit {
                    source: local,
                    destination: remote,
                    len,
                });
            }
        };
        let nsubs = track.subs.len();
        while si < nsubs {
            let s = &mut track.subs[si];
            let ready = self
                .transports
                .get_mut(&(s.sub, Dir::Subscribe))
                .and_then(|t| t.ready().map(|a| (t, a)));
            let Some((t, (remote, local))) = ready else {
                si += 1;
                k = 0;
                continue;
            };
            while k < count {
                let seq = job.seq + u64::from(k);
                k += 1;
                // A slot overwritten since (or cleared by a restart) is
                // skipped.
                let Some(data) = track.ring.at_run(job.slot, k - 1, seq) else {
                    continue;
                };
                let Ok(src) = RtpPacket::new_checked(data) else {
                    continue;
                };
                let Some(len) = write_for_subscriber(&src, s, t, buf, now, false) else {
                    self.stats.pt_unmapped_drops += 1;
                    continue;
                };
                self.stats.forwarded += 1;
                let (next_sub, next_pkt) = if k < count { (si, k) } else { (si + 1, 0) };
                if next_sub >= nsubs {
                    self.jobs.pop_front();
                } else if let Some(j) = self.jobs.front_mut() {
                    j.kind = JobKind::Fanout {
                        count,
                        next_sub: next_sub as u32,
                        next_pkt,
                    };
                }
                return Some(Transmit {
                    source: local,
                    destination: remote,
                    len,
                });
            }
            si += 1;
            k = 0;
        }
        self.jobs.pop_front();
        None
    }
}

enum Event2 {
    Ice(IceEvent),
    Dtls(DtlsEvent),
}

/// Adds the routes of publisher `pid`'s tracks to its subscribers.
fn add_routes(
    routes: &mut HashMap<(Pid, u32), (Pid, usize)>,
    outputs: &mut PidMap<Pid, Vec<SubOutput>>,
    pid: Pid,
    p: &Participant,
) {
    for (ti, t) in p.tracks.iter().enumerate() {
        for (si, s) in t.subs.iter().enumerate() {
            outputs.entry(s.sub).or_default().push(SubOutput {
                publisher: pid,
                track: ti,
                index: si,
                ssrc: s.ssrc,
                rtx_ssrc: s.rtx_ssrc,
            });
            routes.insert((s.sub, s.ssrc), (pid, ti));
            if let Some(r) = s.rtx_ssrc {
                routes.insert((s.sub, r), (pid, ti));
            }
        }
    }
}

/// Removes subscriber `i` of a track (`subs`, track `track` of
/// `publisher`), keeping the others in order, and keeps this track's
/// fan-out jobs on course: a job past the removed subscriber steps back
/// one place with everyone else; a job in the middle of it goes on with
/// the next subscriber from that one's first packet. (The jobs remember
/// their place as an index; left alone, the subscriber moving into the
/// finished part would miss the rest of the run, and the one after would
/// start it midway.)
fn remove_sub(
    jobs: &mut VecDeque<Job>,
    publisher: Pid,
    track: usize,
    subs: &mut Vec<SubOut>,
    i: usize,
) {
    if i >= subs.len() {
        return;
    }
    subs.remove(i);
    for j in jobs.iter_mut() {
        if j.publisher != publisher || j.track != track {
            continue;
        }
        if let JobKind::Fanout {
            next_sub, next_pkt, ..
        } = &mut j.kind
        {
            let n = *next_sub as usize;
            if n > i {
                *next_sub -= 1;
            } else if n == i {
                *next_pkt = 0;
            }
        }
    }
}

/// `SubOut::pt_map`'s "no payload type" (payload types are 7 bits).
const NO_PT: u8 = 0xFF;

/// Recompute a subscriber output's payload-type and extension-id maps from
/// the publisher's and the subscriber's negotiated codecs and extensions.
fn rebuild_maps(codecs: &[PubCodec], exts: &[(u8, String)], pub_mid: &str, s: &mut SubOut) {
    s.pt_map = [[NO_PT; 2]; 128];
    if let Some(m) = s.mid_wire.get_mut(..s.mid.len()) {
        m.copy_from_slice(s.mid.as_bytes());
    }
    for c in codecs {
        let m = s.codecs.iter().find(|sc| {
            sc.name.eq_ignore_ascii_case(&c.name)
                && sc.clock_rate == c.clock_rate
                && sc.channels.unwrap_or(1) == c.channels.unwrap_or(1)
        });
        if let Some(sc) = m {
            // The first codec with this publisher pt wins.
            if let Some(e) = s.pt_map.get_mut(usize::from(c.pt)) {
                if e[0] == NO_PT {
                    *e = [sc.pt, sc.rtx_pt.unwrap_or(NO_PT)];
                }
            }
            s.clock_rate = sc.clock_rate;
        }
    }
    s.ext_map.iter_mut().for_each(|x| *x = 0);
    s.mid_ext = None;
    s.twcc_ext = None;
    for (pid, uri) in exts {
        let Some(sid) = s
            .exts
            .iter()
            .find(|e| &e.uri == uri)
            .and_then(|e| u8::try_from(e.id).ok())
        else {
            continue;
        };
        match uri.as_str() {
            URI_RID | URI_RRID => {}
            URI_MID => {
                if s.mid.len() == pub_mid.len() {
                    s.ext_map[usize::from(*pid)] = sid;
                    s.mid_ext = Some(sid);
                }
            }
            URI_TWCC => {
                s.ext_map[usize::from(*pid)] = sid;
                s.twcc_ext = Some(sid);
            }
            _ => s.ext_map[usize::from(*pid)] = sid,
        }
    }
}

/// Copy `src` into `buf` rewritten for subscriber `s` (SSRC, sequence
/// number, timestamp, payload type, extension ids and values), as RTX when
/// `resend` and RTX was negotiated, and protect it with the subscriber
/// transport's context. Returns the SRTP length.
fn write_for_subscriber(
    src: &RtpPacket<&[u8]>,
    s: &mut SubOut,
    t: &mut Transport,
    buf: &mut [u8],
    now: Instant,
    resend: bool,
) -> Option<usize> {
    let in_pt = src.payload_type().get();
    let [out_pt, out_rtx_pt] = s.pt_map[usize::from(in_pt & 0x7F)];
    if out_pt == NO_PT {
        return None;
    }
    let out_rtx_pt = (out_rtx_pt != NO_PT).then_some(out_rtx_pt);
    let in_seq = src.sequence_number();
    let in_ts = src.timestamp();
    if !resend && (!s.started || s.rebase) {
        if s.started {
            // Publisher restart: continue right after what the subscriber
            // last got, in sequence and in time.
            let elapsed = s.last_sent.map_or(0, |at| {
                units(now.saturating_duration_since(at), s.clock_rate)
            });
            s.seq_offset = s.last_seq.wrapping_add(1).wrapping_sub(in_seq);
            s.ts_offset = s.last_ts.wrapping_add(elapsed.max(1)).wrapping_sub(in_ts);
        }
        s.started = true;
        s.rebase = false;
    }
    if !s.started {
        return None;
    }
    let out_seq = in_seq.wrapping_add(s.seq_offset);
    let out_ts = in_ts.wrapping_add(s.ts_offset);
    let tx = t.tx.as_mut()?;
    let overhead = tx.profile().rtp_overhead();
    let room = buf.len().checked_sub(overhead)?;
    let rtx = match (resend, s.rtx_ssrc, out_rtx_pt) {
        (true, Some(r), Some(p)) => Some((r, p)),
        _ => None,
    };
    let mut len = {
        let mut p = src.copy_into(&mut buf[..room]).ok()?;
        p.set_ssrc(Ssrc(s.ssrc));
        p.set_sequence_number(out_seq);
        p.set_timestamp(out_ts);
        p.set_payload_type(Pt::new(out_pt)?);
        let map = &s.ext_map;
        if p.remap_extension_ids(|id| {
            let m = map[usize::from(id)];
            (m != 0).then_some(m)
        })
        .is_err()
        {
            let _ = p.remap_extension_ids(|_| None);
        }
        if let Some(id) = s.mid_ext {
            let mid = match s.mid_wire.get(..s.mid.len()) {
                Some(m) => m,
                None => s.mid.as_bytes(),
            };
            let _ = p.set_extension(id, mid);
        }
        if let Some(id) = s.twcc_ext {
            let seq = t.twcc_seq;
            if p.set_extension_value(id, &TransportSeq(seq)).is_ok() {
                t.twcc_seq = seq.wrapping_add(1);
            }
        }
        src.as_bytes().len()
    };
    if let Some((rtx_ssrc, rtx_pt)) = rtx {
        // RFC 4588 §4: OSN in front of the original payload, padding
        // dropped, RTX SSRC, PT and sequence number.
        let hdr = src.header_len();
        let body = src.payload().len();
        if hdr + 2 + body > room {
            return None;
        }
        buf.copy_within(hdr..hdr + body, hdr + 2);
        buf[hdr..hdr + 2].copy_from_slice(&out_seq.to_be_bytes());
        buf[0] &= !0x20;
        len = hdr + 2 + body;
        let mut p = RtpPacket::new_checked(&mut buf[..len]).ok()?;
        p.set_ssrc(Ssrc(rtx_ssrc));
        p.set_payload_type(Pt::new(rtx_pt)?);
        p.set_sequence_number(s.rtx_seq);
        s.rtx_seq = s.rtx_seq.wrapping_add(1);
    }
    let n = tx.protect_rtp(buf, len).ok()?;
    if !resend {
        if out_seq.wrapping_sub(s.last_seq) < 0x8000 || s.packets == 0 {
            s.last_seq = out_seq;
            s.last_ts = out_ts;
            s.last_sent = Some(now);
        }
        s.packets = s.packets.wrapping_add(1);
        s.octets = s.octets.wrapping_add(src.payload().len() as u32);
    }
    Some(n)
}

#[cfg(any(test, feature = "fuzzing"))]
impl Sfu {
    /// Fuzzing only: bind `remote` to a transport and install SRTP
    /// contexts directly, skipping ICE and DTLS (so a fuzz input can reach
    /// the media path with valid SRTP).
    pub fn fuzz_connect(
        &mut self,
        participant: &str,
        dir: Dir,
        remote: SocketAddr,
        rx: Context,
        tx: Context,
    ) {
        let Some(&pid) = self.ids.get(participant) else {
            return;
        };
        self.touch_transport((pid, dir));
        let local = self.config.media_addr;
        self.bind_tuple((pid, dir), remote, local);
        if let Some(t) = self.transports.get_mut(&(pid, dir)) {
            t.dtls = None;
            t.rx = Some(rx);
            t.tx = Some(tx);
            t.next_report = Some(next_report_at(
                self.epoch,
                self.config.report_interval,
                self.now,
            ));
        }
    }

    /// Fuzzing only: queued control datagrams and jobs.
    pub fn queue_lens(&self) -> (usize, usize) {
        (self.ctrl.len(), self.jobs.len())
    }
}
