//! Media workers: one OS thread per worker that owns its socket and its
//! media plane (the SFU core, or anything else implementing [`Plane`]).
//!
//! The per-packet path takes no lock: the thread alone touches the plane.
//! The control plane reaches it through a channel of closures
//! ([`Worker::call`], [`Worker::post`]); after queueing one it sends an
//! empty datagram from a private waker socket to the worker's socket so a
//! worker blocked in `recvmmsg` runs the command at once (the worker skips
//! datagrams from that address before the plane sees them).
//!
//! One iteration of the loop:
//!
//! ```text
//! run queued commands
//! recv_batch (blocks until a datagram, the plane's next timer or max_wait)
//! for each datagram: plane.handle_receive → drain plane.poll_transmit into the SendBatch
//!                    (a full batch is sent at once)
//!   or, when plane.drain_after_batch(): handle_receive for every datagram, then drain once
//!   (and early whenever plane.wants_drain())
//! plane.handle_timeout when due → drain
//! send_batch (sendmmsg; GSO for runs to one destination)
//! plane.after_iteration (events to the control plane)
//! ```
//!
//! In steady state nothing in the loop allocates: the receive and send
//! batches are allocated once, the plane writes each datagram straight
//! into its send slot, and the pins of a wildcard-bound socket (remote →
//! local address, for `IP_PKTINFO` replies) only change when a remote's
//! destination address does.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tern_sfu::AddrKey;

use crate::{BatchSocket, RecvBatch, SendBatch, SocketStats};

/// What a worker drives: a sans-IO media plane.
pub trait Plane: Send + 'static {
    /// A datagram from `source`, received on `local` (the worker's
    /// announced address), mutable in place.
    fn handle_receive(
        &mut self,
        now: Instant,
        source: SocketAddr,
        local: SocketAddr,
        data: &mut [u8],
    );
    /// The next datagram to send, written into `buf`: its destination and
    /// length. Drained until `None` after every `handle_*` call, or, when
    /// [`Plane::drain_after_batch`] says so, after the `handle_receive`
    /// calls of a whole receive batch.
    fn poll_transmit(&mut self, buf: &mut [u8]) -> Option<(SocketAddr, usize)>;
    /// Whether the plane may be fed every datagram of a receive batch
    /// (at most [`WorkerConfig::recv_messages`]) before `poll_transmit` is
    /// drained. A plane that says yes keeps what it queues meanwhile
    /// bounded and says when it must be drained early
    /// ([`Plane::wants_drain`]); it can then order the batch's output as
    /// it likes (the SFU emits it subscriber by subscriber, so the send
    /// batch holds long runs to one destination: long GSO runs). Default:
    /// no, drain after every datagram.
    fn drain_after_batch(&self) -> bool {
        false
    }
    /// With [`Plane::drain_after_batch`]: asked after each
    /// `handle_receive`; true drains `poll_transmit` before the next
    /// datagram of the batch.
    fn wants_drain(&self) -> bool {
        false
    }
    /// The timer fired.
    fn handle_timeout(&mut self, now: Instant);
    /// When `handle_timeout` is next due.
    fn poll_timeout(&self) -> Option<Instant>;
    /// Called once per loop iteration after the sends (report events).
    fn after_iteration(&mut self) {}
}

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// The thread's name.
    pub name: String,
    /// The address the plane is told datagrams arrive on (the announced
    /// media address; for a specific bind, the bound address).
    pub announced: SocketAddr,
    /// Pin the thread to this core.
    pub core: Option<usize>,
    /// Kernel messages per `recvmmsg`.
    pub recv_messages: usize,
    /// Largest datagram received (without GRO).
    pub max_datagram: usize,
    /// Datagrams per send batch (a full batch is sent at once).
    pub send_datagrams: usize,
    /// Bytes per send slot: at least the plane's largest datagram.
    pub send_slot: usize,
    /// Longest the thread blocks in `recv` with nothing due.
    pub max_wait: Duration,
    /// Loss emulation for tests: drop every Nth RTP packet received
    /// before the plane sees it (0: off).
    pub drop_rtp_every: u32,
}

impl WorkerConfig {
    /// Defaults for a worker whose plane is told datagrams arrive at
    /// `announced`.
    pub fn new(name: impl Into<String>, announced: SocketAddr) -> Self {
        WorkerConfig {
            name: name.into(),
            announced,
            core: None,
            recv_messages: 64,
            max_datagram: 2048,
            send_datagrams: crate::relay::SEND_DATAGRAMS,
            send_slot: 2048,
            max_wait: Duration::from_millis(20),
            drop_rtp_every: 0,
        }
    }
}

/// What [`Worker::snapshot`] reads on the worker's thread.
#[derive(Debug, Clone, Copy, Default)]
pub struct WorkerSnapshot {
    /// The worker thread's CPU time so far.
    pub cpu_time: Duration,
    /// Heap allocations made on the worker thread so far (counted only
    /// when the binary's global allocator is
    /// `tern_alloc_count::CountingAlloc`; 0 otherwise).
    pub allocations: u64,
    /// The socket's counters (syscalls, datagrams).
    pub socket: SocketStats,
    /// Loop iterations.
    pub iterations: u64,
    /// Datagrams received that the plane was given.
    pub delivered: u64,
}

/// The worker's view of itself that commands may read.
#[derive(Debug)]
pub struct WorkerContext {
    socket_stats: SocketStats,
    iterations: u64,
    delivered: u64,
}

impl WorkerContext {
    /// The counters now, read on the worker thread.
    pub fn snapshot(&self) -> WorkerSnapshot {
        WorkerSnapshot {
            cpu_time: crate::thread_cpu_time(),
            allocations: tern_alloc_count::allocations(),
            socket: self.socket_stats,
            iterations: self.iterations,
            delivered: self.delivered,
        }
    }
}

type Command<P> = Box<dyn FnOnce(&mut P, &WorkerContext) + Send>;

/// The worker has stopped (or panicked): its plane is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerGone;

impl std::fmt::Display for WorkerGone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("media worker stopped")
    }
}

impl std::error::Error for WorkerGone {}

/// A running worker: its thread, its command channel and its waker.
#[derive(Debug)]
pub struct Worker<P: Plane> {
    commands: Sender<Command<P>>,
    waker: UdpSocket,
    wake_to: SocketAddr,
    local: SocketAddr,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

/// Where a datagram to a socket bound at `bound` can be sent from this
/// host: the bound address, or loopback for a wildcard bind.
fn reachable(bound: SocketAddr) -> SocketAddr {
    match bound.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), bound.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), bound.port())
        }
        _ => bound,
    }
}

impl<P: Plane> Worker<P> {
    /// Starts a worker thread that owns `socket` and `plane`.
    pub fn spawn(socket: BatchSocket, plane: P, config: WorkerConfig) -> io::Result<Worker<P>> {
        let local = socket.local_addr()?;
        let wake_to = reachable(local);
        let waker = UdpSocket::bind(SocketAddr::new(wake_to.ip(), 0))?;
        let waker_addr = waker.local_addr()?;
        let (tx, rx) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::Builder::new()
            .name(config.name.clone())
            .spawn(move || run(socket, plane, config, rx, waker_addr, &flag))?;
        Ok(Worker {
            commands: tx,
            waker,
            wake_to,
            local,
            stop,
            handle: Some(handle),
        })
    }

    /// The socket's bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    fn wake(&self) {
        // An empty datagram; a lost one only delays the command until the
        // worker's next wake-up (at most `max_wait`).
        let _ = self.waker.send_to(&[], self.wake_to);
    }

    /// Runs `f` on the worker's thread with its plane and returns the
    /// result (blocks until the worker has run it: one loop iteration).
    pub fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut P) -> R + Send + 'static,
    ) -> Result<R, WorkerGone> {
        self.call_with_context(move |p, _| f(p))
    }

    /// As [`Worker::call`], with the worker's own counters at hand.
    pub fn call_with_context<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut P, &WorkerContext) -> R + Send + 'static,
    ) -> Result<R, WorkerGone> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.commands
            .send(Box::new(move |p, cx| {
                let _ = tx.send(f(p, cx));
            }))
            .map_err(|_| WorkerGone)?;
        self.wake();
        rx.recv().map_err(|_| WorkerGone)
    }

    /// Queues `f` to run on the worker's thread; does not wait.
    pub fn post(&self, f: impl FnOnce(&mut P) + Send + 'static) -> Result<(), WorkerGone> {
        self.commands
            .send(Box::new(move |p, _| f(p)))
            .map_err(|_| WorkerGone)?;
        self.wake();
        Ok(())
    }

    /// The worker's CPU time, allocations and socket counters, read on its
    /// own thread.
    pub fn snapshot(&self) -> Result<WorkerSnapshot, WorkerGone> {
        self.call_with_context(|_, cx| cx.snapshot())
    }

    /// Tells the thread to stop (it finishes its current iteration);
    /// dropping the worker waits for it.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
        self.wake();
    }
}

impl<P: Plane> Drop for Worker<P> {
    fn drop(&mut self) {
        self.stop();
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// RTP by RFC 7983's first byte and RFC 5761's payload-type rule
/// (tern-rtp's demultiplexer), at least a fixed header long.
fn is_rtp(d: &[u8]) -> bool {
    d.len() >= 12 && tern_rtp::classify(d) == tern_rtp::PacketKind::Rtp
}

/// Most remotes whose destination address a wildcard-bound socket
/// remembers; past it the table starts afresh (remotes in a call send
/// constantly and are relearned at once).
const MAX_PINS: usize = 16 * 1024;

/// Sends what `out` holds. Errors are per datagram and counted by the
/// socket; a batch that could not be sent at all is dropped (UDP: loss).
fn flush(socket: &mut BatchSocket, out: &mut SendBatch) {
    if !out.is_empty() && socket.send_batch(out).is_err() {
        out.clear();
    }
}

/// Drains the plane's transmits into `out`, sending whenever it fills.
fn drain<P: Plane>(
    plane: &mut P,
    socket: &mut BatchSocket,
    out: &mut SendBatch,
    pins: Option<&HashMap<AddrKey, IpAddr>>,
) {
    loop {
        if out.is_full() {
            flush(socket, out);
        }
        let Some(buf) = out.next_buf() else { return };
        let Some((destination, len)) = plane.poll_transmit(buf) else {
            return;
        };
        let source = pins.and_then(|p| p.get(&AddrKey(destination)).copied());
        out.commit(len, destination, source);
    }
}

fn run<P: Plane>(
    mut socket: BatchSocket,
    mut plane: P,
    config: WorkerConfig,
    commands: Receiver<Command<P>>,
    waker: SocketAddr,
    stop: &AtomicBool,
) {
    if let Some(core) = config.core {
        // Best effort: a core that does not exist leaves the thread free.
        let _ = crate::pin_to_core(core);
    }
    let local = config.announced;
    let mut input = RecvBatch::new(config.recv_messages, config.max_datagram);
    let mut out = SendBatch::new(config.send_datagrams, config.send_slot);
    let mut pins: Option<HashMap<AddrKey, IpAddr>> = socket.caps().pktinfo.then(HashMap::new);
    let mut cx = WorkerContext {
        socket_stats: socket.stats(),
        iterations: 0,
        delivered: 0,
    };
    let mut rtp_seen: u32 = 0;
    while !stop.load(Ordering::Relaxed) {
        cx.socket_stats = socket.stats();
        loop {
            match commands.try_recv() {
                Ok(c) => c(&mut plane, &cx),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => return,
            }
        }
        // Commands may have produced datagrams (ICE checks, reports).
        drain(&mut plane, &mut socket, &mut out, pins.as_ref());
        flush(&mut socket, &mut out);
        let now = Instant::now();
        let wait = match plane.poll_timeout() {
            Some(t) => t.saturating_duration_since(now).min(config.max_wait),
            None => config.max_wait,
        };
        // Round up to whole milliseconds so the socket option rarely
        // changes; a due timer polls without blocking.
        let wait = if wait.is_zero() {
            Duration::ZERO
        } else {
            Duration::from_millis(wait.as_millis().max(1).try_into().unwrap_or(u64::MAX))
        };
        // Receive errors that matter to a server (none are fatal) come
        // back as Ok(0); anything else is treated the same way.
        let n = socket.recv_batch(&mut input, Some(wait)).unwrap_or(0);
        let now = Instant::now();
        let batched = plane.drain_after_batch();
        for i in 0..n {
            let Some(r) = input.get_mut(i) else { break };
            if r.source == waker {
                continue;
            }
            if config.drop_rtp_every > 0 && is_rtp(r.data) {
                rtp_seen = rtp_seen.wrapping_add(1);
                if rtp_seen % config.drop_rtp_every == 0 {
                    continue;
                }
            }
            if let (Some(p), Some(dst)) = (pins.as_mut(), r.destination) {
                if p.get(&AddrKey(r.source)) != Some(&dst) {
                    if p.len() >= MAX_PINS {
                        p.clear();
                    }
                    p.insert(AddrKey(r.source), dst);
                }
            }
            cx.delivered += 1;
            plane.handle_receive(now, r.source, local, r.data);
            if !batched || plane.wants_drain() {
                drain(&mut plane, &mut socket, &mut out, pins.as_ref());
            }
        }
        if batched {
            drain(&mut plane, &mut socket, &mut out, pins.as_ref());
        }
        if plane.poll_timeout().is_some_and(|t| t <= now) {
            plane.handle_timeout(now);
            drain(&mut plane, &mut socket, &mut out, pins.as_ref());
        }
        flush(&mut socket, &mut out);
        plane.after_iteration();
        cx.iterations += 1;
    }
}
