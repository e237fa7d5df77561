//! The two plain UDP relays `tern bench` compares the SFU against.
//!
//! Both forward every datagram from a known source to a fixed list of
//! destinations, with no parsing and no crypto:
//! - [`RelayMode::Naive`]: recvmmsg a batch, then one message per copy
//!   through sendmmsg (no GSO; GRO turned off);
//! - [`RelayMode::Tuned`]: the same with GRO on receive and GSO on send, so
//!   a batch of equal-size packets fanned out to N destinations leaves as N
//!   segmented messages.
//!
//! Datagrams from unknown sources are dropped.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tern_sfu::AddrKey;

use crate::affinity::thread_cpu_time;
use crate::batch::{RecvBatch, SendBatch};
use crate::socket::{BatchSocket, SocketConfig};

/// Who gets a copy of what: source address → destinations.
#[derive(Debug, Clone, Default)]
pub struct FanOut {
    routes: HashMap<AddrKey, Vec<SocketAddr>>,
}

impl FanOut {
    /// An empty table.
    pub fn new() -> FanOut {
        FanOut::default()
    }

    /// Sets the destinations of `source` (replacing earlier ones).
    pub fn insert(&mut self, source: SocketAddr, destinations: Vec<SocketAddr>) {
        self.routes.insert(AddrKey(source), destinations);
    }

    /// The destinations of `source`; empty when unknown.
    pub fn get(&self, source: &SocketAddr) -> &[SocketAddr] {
        self.routes
            .get(&AddrKey(*source))
            .map_or(&[], Vec::as_slice)
    }

    /// Known sources.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// Whether no source is known.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }
}

/// Which baseline relay to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayMode {
    /// recvmmsg + sendmmsg, one message per copy.
    Naive,
    /// recvmmsg with GRO + sendmmsg with GSO.
    Tuned,
}

impl RelayMode {
    /// The socket configuration this mode is meant to run on.
    pub fn socket_config(self) -> SocketConfig {
        let tuned = self == RelayMode::Tuned;
        SocketConfig {
            gro: tuned,
            gso: tuned,
            ..SocketConfig::default()
        }
    }
}

/// Live counters of a running relay, shared through an `Arc`.
#[derive(Debug, Default)]
pub struct RelayStats {
    /// Datagrams received (from any source).
    pub received: AtomicU64,
    /// Datagrams handed to the kernel (copies counted one by one).
    pub forwarded: AtomicU64,
    /// System calls on the data path.
    pub syscalls: AtomicU64,
    /// CPU time of the relay thread, in nanoseconds.
    pub cpu_ns: AtomicU64,
    /// 1 when the relay stopped on a socket error rather than on `stop`.
    pub errors: AtomicU64,
}

/// A plain copy of [`RelayStats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelaySnapshot {
    /// Datagrams received.
    pub received: u64,
    /// Datagrams forwarded.
    pub forwarded: u64,
    /// System calls.
    pub syscalls: u64,
    /// CPU time of the relay thread, in nanoseconds.
    pub cpu_ns: u64,
    /// 1 when the relay stopped on a socket error.
    pub errors: u64,
}

impl RelayStats {
    /// All zero.
    pub fn new() -> RelayStats {
        RelayStats::default()
    }

    /// The counters now.
    pub fn snapshot(&self) -> RelaySnapshot {
        RelaySnapshot {
            received: self.received.load(Ordering::Relaxed),
            forwarded: self.forwarded.load(Ordering::Relaxed),
            syscalls: self.syscalls.load(Ordering::Relaxed),
            cpu_ns: self.cpu_ns.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
        }
    }
}

/// How long one receive waits before looking at `stop` again.
const POLL: Duration = Duration::from_millis(5);
/// Kernel messages per receive.
const RECV_MESSAGES: usize = 64;
/// Largest datagram the relays forward.
const MAX_DATAGRAM: usize = 2048;
/// Datagrams per send batch (flushed when full), the same default as a
/// media worker's ([`crate::WorkerConfig`]).
pub const SEND_DATAGRAMS: usize = 256;

/// Runs a relay on the calling thread until `stop` is set, publishing
/// `stats` after every batch. Returns early only on a socket error (other
/// than the per-datagram ones [`BatchSocket`] absorbs), counted in
/// [`RelayStats::errors`].
pub fn run_relay(
    socket: BatchSocket,
    table: Arc<FanOut>,
    mode: RelayMode,
    stop: Arc<AtomicBool>,
    stats: Arc<RelayStats>,
) {
    run_relay_with_batch(socket, table, mode, stop, stats, SEND_DATAGRAMS);
}

/// As [`run_relay`] with `send_datagrams` per send batch.
pub fn run_relay_with_batch(
    mut socket: BatchSocket,
    table: Arc<FanOut>,
    mode: RelayMode,
    stop: Arc<AtomicBool>,
    stats: Arc<RelayStats>,
    send_datagrams: usize,
) {
    if relay_loop(
        &mut socket,
        &table,
        mode,
        &stop,
        &stats,
        send_datagrams.max(1),
    )
    .is_err()
    {
        stats.errors.fetch_add(1, Ordering::Relaxed);
    }
    publish(&socket, &stats);
}

fn publish(socket: &BatchSocket, stats: &RelayStats) {
    stats
        .syscalls
        .store(socket.stats().syscalls, Ordering::Relaxed);
    let cpu = thread_cpu_time().as_nanos().min(u128::from(u64::MAX)) as u64;
    stats.cpu_ns.store(cpu, Ordering::Relaxed);
}

fn relay_loop(
    socket: &mut BatchSocket,
    table: &FanOut,
    mode: RelayMode,
    stop: &AtomicBool,
    stats: &RelayStats,
    send_datagrams: usize,
) -> io::Result<()> {
    if mode == RelayMode::Naive {
        socket.set_gso(false);
        socket.set_gro(false);
    }
    let mut recv = RecvBatch::new(RECV_MESSAGES, MAX_DATAGRAM);
    let mut send = SendBatch::new(send_datagrams, MAX_DATAGRAM);
    while !stop.load(Ordering::Relaxed) {
        let n = socket.recv_batch(&mut recv, Some(POLL))?;
        let mut forwarded = 0;
        for i in 0..n {
            let Some((source, data)) = recv.get(i) else {
                continue;
            };
            if mode == RelayMode::Naive {
                for &dest in table.get(&source) {
                    if send.is_full() {
                        forwarded += socket.send_batch(&mut send)?;
                    }
                    // False only for a datagram longer than a slot: drop it.
                    let _ = send.push(data, dest, None);
                }
                continue;
            }
            // Tuned: destination-major, as the SFU's fan-out is: each
            // destination gets all of this source's datagrams in the
            // batch back to back (long GSO runs whatever the fan-out).
            // A source is handled at its first datagram in the batch.
            let seen = (0..i).any(|j| recv.get(j).is_some_and(|(s, _)| s == source));
            if seen {
                continue;
            }
            for &dest in table.get(&source) {
                for j in i..n {
                    let Some((s, d)) = recv.get(j) else { continue };
                    if s != source {
                        continue;
                    }
                    if send.is_full() {
                        forwarded += socket.send_batch(&mut send)?;
                    }
                    let _ = send.push(d, dest, None);
                }
            }
        }
        forwarded += socket.send_batch(&mut send)?;
        stats.received.fetch_add(n as u64, Ordering::Relaxed);
        stats
            .forwarded
            .fetch_add(forwarded as u64, Ordering::Relaxed);
        publish(socket, stats);
    }
    Ok(())
}
