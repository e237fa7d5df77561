//! `tern bench`: packet throughput of the SFU against the machine's limit.
//!
//! For each fan-out (subscribers per room) the bench builds rooms on the
//! SFU's workers with participants from Tern's own client stack (full
//! ICE, DTLS, SRTP over loopback), then for each packet size pushes
//! traffic through three systems in the same run:
//!
//! - `tern`: the SFU (decrypt once, rewrite and re-encrypt per subscriber,
//!   batched and GSO sends from tern-net workers);
//! - `naive`: a relay with one `recvmmsg`/`sendmmsg` loop, no parsing, no
//!   crypto, no GSO;
//! - `tuned`: a relay with Tern's batching, GRO and GSO, no parsing, no
//!   crypto: the machine's practical limit for moving these datagrams.
//!
//! Each system runs a load phase at the offered rate (`--rate`, forwarded
//! packets per second) and a latency phase at half of the SFU's maximum
//! load: half of what its forwarding threads would forward with their
//! cores fully busy (the load phase's packets per CPU-second, times the
//! workers), offered to every system alike (`--latency-load` chooses half
//! of each system's own forwarded rate instead). Measured: forwarded
//! packets per second, forwarded packets per CPU-second of the forwarding
//! threads alone (the generator's share of the machine does not count),
//! loss, added latency (send time in the payload to the kernel's arrival
//! stamp at the subscriber socket; to the generator's read as well)
//! p50/p99/p99.9, heap allocations and syscalls per forwarded packet.

mod report;
mod session;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tern_dtls::Certificate;
use tern_net::{
    BatchSocket, FanOut, RelayMode, RelayStats, SfuPlane, SocketConfig, Worker, WorkerConfig,
};
use tern_sfu::{Sfu, SfuConfig};

use session::{Counters, LatencySamples, Room, Timing, Traffic};

pub use report::Measurement;

/// `tern bench` options.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// A short sweep (1, 10, 100 subscribers; short phases): under a minute.
    #[arg(long)]
    pub quick: bool,
    /// Subscribers per room to sweep [default: 1,10,100,500; quick: 1,10,100].
    #[arg(long, value_delimiter = ',')]
    pub subscribers: Option<Vec<usize>>,
    /// Datagram sizes in bytes, SRTP included [default: 160,1200]. 160 is
    /// audio-like (single packets evenly spaced), larger is video-like
    /// (frames of several packets sent back to back).
    #[arg(long, value_delimiter = ',', default_value = "160,1200")]
    pub sizes: Vec<usize>,
    /// Publishers per room (each sends audio and video; every subscriber
    /// receives all of them).
    #[arg(long, default_value_t = 1)]
    pub publishers: usize,
    /// Forwarding workers (threads) of the SFU and of the relays; one room
    /// per worker, so total load scales with it.
    #[arg(long, default_value_t = 1)]
    pub workers: usize,
    /// Offered load of the load phase, in forwarded packets per second
    /// (all rooms together).
    #[arg(long, default_value_t = 200_000)]
    pub rate: u64,
    /// Video-like traffic: frames are the size a stream of this bitrate
    /// (kbit/s) at `--fps` has (2,500 kbit/s at 30 fps in 1,200-byte
    /// packets: 9 per frame), back to back or paced (`--pacing`). Frames
    /// are sent as often as the offered load needs: one publisher stands
    /// for several such streams.
    #[arg(long, default_value_t = 2500)]
    pub video_kbps: u32,
    /// Video frame rate of the stream `--video-kbps` describes.
    #[arg(long, default_value_t = 30)]
    pub fps: u32,
    /// Video pacing: each frame's packets spread evenly over 1/FACTOR of
    /// the frame interval, as a sender's pacer does (libwebrtc's paces at
    /// 2.5 times the target bitrate); 1 spaces every packet evenly; 0
    /// sends each frame back to back, the worst case for latency.
    #[arg(long, default_value_t = 0.0, value_parser = parse_pacing)]
    pub pacing: f64,
    /// Seconds per phase [default: 2; quick: 0.6].
    #[arg(long)]
    pub seconds: Option<f64>,
    /// Cores for the forwarding threads, e.g. 0 or 0,1 [default: the
    /// first `workers` cores when the machine has more cores than that].
    #[arg(long, value_delimiter = ',')]
    pub sfu_cores: Option<Vec<usize>>,
    /// Cores for the load generator's threads [default: the cores after
    /// the forwarding ones].
    #[arg(long, value_delimiter = ',')]
    pub gen_cores: Option<Vec<usize>>,
    /// Datagrams per send batch of the forwarding threads, SFU and relays
    /// alike (a full batch is sent at once): larger batches mean fewer
    /// syscalls, smaller ones less waiting for the first subscribers.
    #[arg(long, default_value_t = 256)]
    pub send_batch: usize,
    /// Rounds: each round visits every sweep point (fan-out and size) and
    /// runs every system there once, in turn (Tern, naive, tuned), so a
    /// slow drift of the machine hits all of them alike; figures are
    /// medians over rounds, and each ratio (and fan-out linearity) pairs
    /// runs of the same round. 3 or more on a shared machine.
    #[arg(long, default_value_t = 1)]
    pub repeat: usize,
    /// The latency phase's offered load.
    #[arg(long, value_enum, default_value_t = LatencyLoad::HalfCapacity)]
    pub latency_load: LatencyLoad,
    /// Skip the naive and tuned relay baselines.
    #[arg(long)]
    pub no_baselines: bool,
    /// Print JSON instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Write a plot of throughput and latency against fan-out (SVG).
    #[arg(long)]
    pub plot: Option<PathBuf>,
}

/// What the latency phase offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LatencyLoad {
    /// Half of the SFU's maximum load: half of what its forwarding threads
    /// would forward with their cores fully busy (the load phase's packets
    /// per CPU-second times the workers, measured in the same round), the
    /// same rate for every system.
    HalfCapacity,
    /// Half of what each system's own load phase forwarded.
    HalfForwarded,
}

/// The systems compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum System {
    Tern,
    Naive,
    Tuned,
}

impl System {
    pub fn name(self) -> &'static str {
        match self {
            System::Tern => "tern",
            System::Naive => "naive-relay",
            System::Tuned => "tuned-relay",
        }
    }
}

/// Core placement of the forwarding threads and the generator.
#[derive(Debug, Clone)]
struct Cores {
    fwd: Vec<Option<usize>>,
    gen: Vec<Option<usize>>,
    /// Datagrams per send batch of every forwarding thread.
    send_batch: usize,
}

fn plan_cores(args: &BenchArgs) -> Cores {
    let n = tern_net::available_cores();
    let w = args.workers.max(1);
    let fwd: Vec<Option<usize>> = match &args.sfu_cores {
        Some(c) if !c.is_empty() => (0..w).map(|i| Some(c[i % c.len()])).collect(),
        _ if n > w => (0..w).map(Some).collect(),
        _ => vec![None; w],
    };
    let gen: Vec<Option<usize>> = match &args.gen_cores {
        Some(c) if !c.is_empty() => c.iter().copied().map(Some).collect(),
        _ if n > w => (w..n).map(Some).collect(),
        _ => vec![None],
    };
    Cores {
        fwd,
        gen,
        send_batch: args.send_batch.max(1),
    }
}

/// Runs the bench; returns the process exit status.
pub fn run(args: BenchArgs) -> Result<(), String> {
    let subscribers = args.subscribers.clone().unwrap_or_else(|| {
        if args.quick {
            vec![1, 10, 100]
        } else {
            vec![1, 10, 100, 500]
        }
    });
    let seconds = args
        .seconds
        .unwrap_or(if args.quick { 0.6 } else { 2.0 })
        .clamp(0.2, 600.0);
    let phase = Duration::from_secs_f64(seconds);
    let cores = plan_cores(&args);
    let workers = args.workers.max(1);
    let systems: Vec<System> = if args.no_baselines {
        vec![System::Tern]
    } else {
        vec![System::Tern, System::Naive, System::Tuned]
    };
    let rounds = args.repeat.max(1);
    let total_steps = subscribers.len() * args.sizes.len() * systems.len() * 2 * rounds;
    let mut progress = report::Progress::new(total_steps);
    let started = Instant::now();
    let epoch = Instant::now();
    // The SFU's workers: one socket, one SFU, one room each.
    let cert = Certificate::generate().map_err(|e| format!("certificate: {e:?}"))?;
    let mut sfu_workers = Vec::new();
    for (i, core) in cores.fwd.iter().enumerate() {
        let socket = BatchSocket::bind(
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            &forwarding_socket_config(SocketConfig::default()),
        )
        .map_err(|e| format!("SFU worker socket: {e}"))?;
        let addr = socket.local_addr().map_err(|e| e.to_string())?;
        let mut config = SfuConfig::new(addr, cert.clone(), 0xBE7C_0000 + i as u64);
        // The bench does not refresh consent between phases.
        config.consent_timeout = Duration::from_secs(3600);
        config.max_participants = 100_000;
        let sfu = Sfu::new(config, Instant::now());
        let mut wc = WorkerConfig::new(format!("tern-fwd-{i}"), addr);
        wc.core = *core;
        wc.send_datagrams = args.send_batch.max(1);
        let plane = SfuPlane::new(sfu, |_| {});
        sfu_workers.push(Worker::spawn(socket, plane, wc).map_err(|e| e.to_string())?);
    }
    let client_cert = Certificate::generate().map_err(|e| format!("certificate: {e:?}"))?;
    // Every sweep point's rooms are built first and kept (idle ones carry
    // no traffic), so that each round can visit every point in turn: a
    // slow drift of the machine then hits every fan-out and size alike,
    // and comparisons across points (fan-out linearity) pair runs of the
    // same round instead of runs minutes apart.
    let mut rooms_at: Vec<Vec<Room>> = Vec::new();
    for (k, &subs) in subscribers.iter().enumerate() {
        progress.note(&format!(
            "connecting {workers}×({} publishers + {subs} subscribers)",
            args.publishers
        ));
        let mut rooms = Vec::new();
        for (w, worker) in sfu_workers.iter().enumerate() {
            rooms.push(session::build_room(
                worker,
                w,
                k * sfu_workers.len() + w,
                args.publishers.max(1),
                subs,
                &client_cert,
            )?);
        }
        rooms_at.push(rooms);
    }
    // measured[point][system]: one (load, latency) pair per round.
    let points: Vec<(usize, usize)> = (0..subscribers.len())
        .flat_map(|k| args.sizes.iter().map(move |&size| (k, size)))
        .collect();
    let mut measured: Vec<Vec<Vec<(PhaseResult, PhaseResult)>>> = points
        .iter()
        .map(|_| systems.iter().map(|_| Vec::new()).collect())
        .collect();
    for _ in 0..rounds {
        for (&(k, size), at_point) in points.iter().zip(&mut measured) {
            let subs = subscribers[k];
            let rooms = &mut rooms_at[k];
            // Half of the SFU's capacity, from its load phase this round
            // (it runs first).
            let mut half_capacity = None;
            for (&system, m) in systems.iter().zip(at_point.iter_mut()) {
                // The load phase at the offered rate, then the latency
                // phase.
                let mut phase_at = |rate: f64, kind: PhaseKind| {
                    run_phase(
                        system,
                        rooms,
                        &sfu_workers,
                        &cores,
                        subs,
                        size,
                        rate,
                        phase,
                        frame_packets(&args, size),
                        args.pacing,
                        epoch,
                        &mut progress,
                        kind,
                    )
                };
                let load = phase_at(args.rate as f64, PhaseKind::Load)?;
                if system == System::Tern {
                    half_capacity = Some(load.pkts_per_cpu_s * workers as f64 * 0.5);
                }
                let rate = latency_rate(args.latency_load, half_capacity, &load);
                let half = phase_at(rate, PhaseKind::Latency)?;
                m.push((load, half));
            }
        }
    }
    let mut results: Vec<Measurement> = Vec::new();
    for (&(k, size), at_point) in points.iter().zip(measured) {
        for (&system, m) in systems.iter().zip(at_point) {
            results.push(report::merge(system, subscribers[k], size, workers, m));
        }
    }
    for r in rooms_at.iter().flatten() {
        r.remove(&sfu_workers[r.worker]);
    }
    progress.done();
    drop(sfu_workers);
    let summary = report::Summary {
        results,
        workers,
        publishers: args.publishers.max(1),
        rate: args.rate,
        seconds,
        rounds,
        latency_load: args.latency_load,
        pacing: args.pacing,
        elapsed: started.elapsed().as_secs_f64(),
        cores: tern_net::available_cores(),
    };
    if args.json {
        report::print_json(&summary)?;
    } else {
        report::print_table(&summary);
    }
    if let Some(path) = &args.plot {
        report::write_svg(&summary, path)?;
    }
    Ok(())
}

/// `--pacing`: 0 (back to back) or a factor of at least 1.
fn parse_pacing(s: &str) -> Result<f64, String> {
    let f: f64 = s.parse().map_err(|e| format!("{e}"))?;
    if f == 0.0 || (1.0..=1000.0).contains(&f) {
        Ok(f)
    } else {
        Err("0 (frames back to back) or a factor from 1 to 1000".into())
    }
}

/// The latency phase's offered rate (forwarded packets per second) after
/// `load`: half of the SFU's capacity when that was measured this round,
/// else half of what `load` forwarded.
fn latency_rate(mode: LatencyLoad, half_capacity: Option<f64>, load: &PhaseResult) -> f64 {
    let r = match (mode, half_capacity) {
        (LatencyLoad::HalfCapacity, Some(r)) if r.is_finite() && r > 0.0 => r,
        _ => load.forwarded_pps * 0.5,
    };
    r.max(1.0)
}

/// Packets of `size` bytes per video frame at `--video-kbps` and `--fps`.
fn frame_packets(args: &BenchArgs, size: usize) -> u64 {
    let frame_bytes = f64::from(args.video_kbps) * 1000.0 / 8.0 / f64::from(args.fps.max(1));
    (frame_bytes / size.max(1) as f64).ceil().max(1.0) as u64
}

/// `base` with the 8 MiB kernel buffers every forwarding socket of the
/// bench (SFU and relays alike) asks for.
fn forwarding_socket_config(base: SocketConfig) -> SocketConfig {
    SocketConfig {
        recv_buffer: 8 * 1024 * 1024,
        send_buffer: 8 * 1024 * 1024,
        ..base
    }
}

/// The two phases every system runs at every point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PhaseKind {
    /// At the offered rate: throughput and CPU per packet.
    Load,
    /// At the latency load: latency (and loss).
    Latency,
}

impl PhaseKind {
    fn label(self) -> &'static str {
        match self {
            PhaseKind::Load => "load",
            PhaseKind::Latency => "half",
        }
    }
}

/// What one phase of one system measured.
#[derive(Debug, Clone, Default)]
pub struct PhaseResult {
    pub offered_pps: f64,
    pub forwarded_pps: f64,
    pub pkts_per_cpu_s: f64,
    /// The forwarding threads' CPU time over the phase's wall time, per
    /// thread: 1.0 is every forwarding core fully busy.
    pub cpu_share: f64,
    pub loss: f64,
    /// Send time to the kernel's arrival stamp at the subscriber socket,
    /// microseconds.
    pub latencies_us: Vec<u32>,
    /// The same packets, send time to the generator's read.
    pub read_latencies_us: Vec<u32>,
    pub allocs_per_pkt: Option<f64>,
    pub syscalls_per_pkt: f64,
}

/// Counters of the forwarding side at one instant.
#[derive(Debug, Clone, Copy, Default)]
struct FwdSample {
    forwarded: u64,
    cpu: Duration,
    allocations: u64,
    syscalls: u64,
}

enum Forwarders {
    Sfu,
    Relay {
        stop: Arc<AtomicBool>,
        stats: Vec<Arc<RelayStats>>,
        threads: Vec<std::thread::JoinHandle<()>>,
        addr: SocketAddr,
    },
}

fn sample(fwd: &Forwarders, workers: &[Worker<SfuPlane>]) -> Result<FwdSample, String> {
    let mut s = FwdSample::default();
    match fwd {
        Forwarders::Sfu => {
            for w in workers {
                let (forwarded, snap) = w
                    .call_with_context(|p, cx| (p.sfu.stats().forwarded, cx.snapshot()))
                    .map_err(|e| e.to_string())?;
                s.forwarded += forwarded;
                s.cpu += snap.cpu_time;
                s.allocations += snap.allocations;
                s.syscalls += snap.socket.syscalls;
            }
        }
        Forwarders::Relay { stats, .. } => {
            for st in stats {
                let r = st.snapshot();
                s.forwarded += r.forwarded;
                s.cpu += Duration::from_nanos(r.cpu_ns);
                s.syscalls += r.syscalls;
            }
        }
    }
    Ok(s)
}

fn start_relays(system: System, rooms: &[Room], cores: &Cores) -> Result<Forwarders, String> {
    let mode = if system == System::Naive {
        RelayMode::Naive
    } else {
        RelayMode::Tuned
    };
    let mut table = FanOut::new();
    for r in rooms {
        let dests: Vec<SocketAddr> = r
            .subscribers
            .iter()
            .filter_map(|s| s.socket.local_addr().ok())
            .collect();
        for p in &r.publishers {
            if let Ok(a) = p.ep.socket.local_addr() {
                table.insert(a, dests.clone());
            }
        }
    }
    let table = Arc::new(table);
    let stop = Arc::new(AtomicBool::new(false));
    let n = cores.fwd.len();
    let mut config = forwarding_socket_config(mode.socket_config());
    config.reuse_port = n > 1;
    let first = BatchSocket::bind(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0), &config)
        .map_err(|e| format!("relay socket: {e}"))?;
    let addr = first.local_addr().map_err(|e| e.to_string())?;
    let mut sockets = vec![first];
    for _ in 1..n {
        sockets.push(BatchSocket::bind(addr, &config).map_err(|e| format!("relay socket: {e}"))?);
    }
    let mut stats = Vec::new();
    let mut threads = Vec::new();
    for (i, socket) in sockets.into_iter().enumerate() {
        let st = Arc::new(RelayStats::default());
        stats.push(st.clone());
        let (table, stop, core) = (table.clone(), stop.clone(), cores.fwd[i]);
        let send_batch = cores.send_batch;
        threads.push(
            std::thread::Builder::new()
                .name(format!("relay-{i}"))
                .spawn(move || {
                    if let Some(c) = core {
                        let _ = tern_net::pin_to_core(c);
                    }
                    tern_net::relay::run_relay_with_batch(
                        socket, table, mode, stop, st, send_batch,
                    );
                })
                .map_err(|e| e.to_string())?,
        );
    }
    Ok(Forwarders::Relay {
        stop,
        stats,
        threads,
        addr,
    })
}

/// Runs one phase: the generator offers `rate` forwarded packets per
/// second through `system` for `length`.
#[allow(clippy::too_many_arguments)]
fn run_phase(
    system: System,
    rooms: &mut [Room],
    workers: &[Worker<SfuPlane>],
    cores: &Cores,
    subs: usize,
    size: usize,
    rate: f64,
    length: Duration,
    frame_packets: u64,
    pacing: f64,
    epoch: Instant,
    progress: &mut report::Progress,
    kind: PhaseKind,
) -> Result<PhaseResult, String> {
    progress.step(&format!(
        "{} {subs} subscribers {size} B {} ({:.0} pkt/s offered)",
        system.name(),
        kind.label(),
        rate
    ));
    let fwd = match system {
        System::Tern => Forwarders::Sfu,
        _ => start_relays(system, rooms, cores)?,
    };
    let publishers: usize = rooms.iter().map(|r| r.publishers.len()).sum();
    let outputs_per_input = subs.max(1) as f64;
    let traffic = Traffic {
        size,
        rate_per_publisher: rate / outputs_per_input / publishers.max(1) as f64,
        frame_packets,
        pacing,
        relay: system != System::Tern,
    };
    let timing = if system == System::Tern {
        Timing::Decrypt
    } else {
        Timing::Table
    };
    let counters: Vec<Counters> = rooms.iter().map(|_| Counters::default()).collect();
    let warm = length / 5;
    let result = std::thread::scope(|scope| -> Result<PhaseResult, String> {
        let mut handles = Vec::new();
        let mut gen_core = cores.gen.iter().cycle();
        for (room, c) in rooms.iter_mut().zip(&counters) {
            let destination = match &fwd {
                Forwarders::Sfu => workers[room.worker].local_addr(),
                Forwarders::Relay { addr, .. } => *addr,
            };
            let first_ssrc = room.publishers.first().map_or(0, |p| {
                let ssrc = if size <= 300 {
                    p.audio_ssrc
                } else {
                    p.video_ssrc
                };
                if traffic.relay {
                    ssrc + session::RELAY_SSRC_OFFSET
                } else {
                    ssrc
                }
            });
            let send_times: Arc<Vec<AtomicU64>> = Arc::new(
                (0..room.publishers.len() * 65536)
                    .map(|_| AtomicU64::new(0))
                    .collect(),
            );
            let (pubs, subs_eps) = (&mut room.publishers, &mut room.subscribers);
            let (st, core_s, core_r) = (
                send_times.clone(),
                gen_core.next().copied().flatten(),
                gen_core.next().copied().flatten(),
            );
            handles.push(scope.spawn(move || {
                if let Some(k) = core_s {
                    let _ = tern_net::pin_to_core(k);
                }
                session::send_loop(pubs, destination, traffic, epoch, c, &st);
                Ok(LatencySamples::default())
            }));
            // Latency from five subscribers spread over the fan-out order
            // (first, quarters, last): the SFU serves subscribers one
            // after another, so the first alone would flatter it.
            let n = subs_eps.len();
            let mut sampled = vec![false; n];
            for q in 0..=4 {
                if n > 0 {
                    sampled[(n - 1) * q / 4] = true;
                }
            }
            handles.push(scope.spawn(move || {
                if let Some(k) = core_r {
                    let _ = tern_net::pin_to_core(k);
                }
                let mut lat = LatencySamples::with_capacity(1 << 20);
                session::receive_loop(
                    subs_eps,
                    &sampled,
                    timing,
                    first_ssrc,
                    epoch,
                    c,
                    &send_times,
                    // Only where latency is reported: while any socket
                    // asks for them the kernel stamps every packet, a
                    // cost the load phase's CPU figures should not carry.
                    kind == PhaseKind::Latency,
                    &mut lat,
                )?;
                Ok(lat)
            }));
        }
        std::thread::sleep(warm);
        let a = sample(&fwd, workers)?;
        let t0 = Instant::now();
        std::thread::sleep(length.saturating_sub(warm * 2));
        let b = sample(&fwd, workers)?;
        let window = t0.elapsed().as_secs_f64();
        std::thread::sleep(warm);
        for c in &counters {
            c.stop_send.store(true, Ordering::Relaxed);
        }
        // Let the last packets arrive.
        std::thread::sleep(Duration::from_millis(200));
        for c in &counters {
            c.stop_recv.store(true, Ordering::Relaxed);
        }
        let mut latencies = LatencySamples::default();
        for h in handles {
            let lat: Result<LatencySamples, String> = h
                .join()
                .map_err(|_| "generator thread panicked".to_string())?;
            let lat = lat?;
            latencies.arrival.extend(lat.arrival);
            latencies.read.extend(lat.read);
        }
        let sent: u64 = counters
            .iter()
            .map(|c| c.sent.load(Ordering::Relaxed))
            .sum();
        let received: u64 = counters
            .iter()
            .map(|c| c.received.load(Ordering::Relaxed))
            .sum();
        let expected = sent as f64 * outputs_per_input;
        let forwarded = b.forwarded.saturating_sub(a.forwarded);
        let cpu = b.cpu.saturating_sub(a.cpu).as_secs_f64();
        let per = |x: u64| {
            if forwarded == 0 {
                0.0
            } else {
                x as f64 / forwarded as f64
            }
        };
        Ok(PhaseResult {
            offered_pps: rate,
            forwarded_pps: forwarded as f64 / window,
            pkts_per_cpu_s: if cpu > 0.0 {
                forwarded as f64 / cpu
            } else {
                0.0
            },
            cpu_share: cpu / (window * cores.fwd.len().max(1) as f64),
            loss: if expected > 0.0 {
                (1.0 - received as f64 / expected).max(0.0)
            } else {
                0.0
            },
            latencies_us: latencies.arrival,
            read_latencies_us: latencies.read,
            allocs_per_pkt: (system == System::Tern)
                .then(|| per(b.allocations.saturating_sub(a.allocations))),
            syscalls_per_pkt: per(b.syscalls.saturating_sub(a.syscalls)),
        })
    });
    if let Forwarders::Relay { stop, threads, .. } = fwd {
        stop.store(true, Ordering::Relaxed);
        for t in threads {
            let _ = t.join();
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacing_is_zero_or_a_factor_of_at_least_one() {
        assert_eq!(super::parse_pacing("0"), Ok(0.0));
        assert_eq!(super::parse_pacing("1"), Ok(1.0));
        assert_eq!(super::parse_pacing("2.5"), Ok(2.5));
        for bad in ["0.5", "-1", "NaN", "inf", "1001", "x"] {
            assert!(super::parse_pacing(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn half_capacity_is_offered_to_every_system_and_falls_back_to_half_forwarded() {
        let load = PhaseResult {
            forwarded_pps: 200_000.0,
            pkts_per_cpu_s: 800_000.0,
            ..PhaseResult::default()
        };
        // Tern's capacity this round: 2 workers at 800k pkt/CPU-s, half of
        // it 800k pkt/s, whatever the relay's own load phase forwarded.
        let half = Some(800_000.0 * 2.0 * 0.5);
        assert_eq!(
            latency_rate(LatencyLoad::HalfCapacity, half, &load),
            800_000.0
        );
        assert_eq!(
            latency_rate(LatencyLoad::HalfForwarded, half, &load),
            100_000.0
        );
        // Not measured (or a phase that forwarded nothing): half of what
        // was forwarded, at least 1 pkt/s.
        assert_eq!(
            latency_rate(LatencyLoad::HalfCapacity, None, &load),
            100_000.0
        );
        assert_eq!(
            latency_rate(LatencyLoad::HalfCapacity, Some(0.0), &load),
            100_000.0
        );
        let idle = PhaseResult::default();
        assert_eq!(
            latency_rate(LatencyLoad::HalfCapacity, Some(f64::NAN), &idle),
            1.0
        );
    }
}

#[cfg(test)]
mod streams_test;
#[cfg(test)]
mod zero_alloc_test;
