//! The SFU core (tern-sfu) as a worker's [`Plane`].

use std::net::SocketAddr;
use std::time::Instant;

use tern_sfu::{Event, Sfu};

use crate::worker::{Plane, Worker, WorkerGone};

/// A [`Sfu`] run by a [`crate::Worker`]; its events go to `on_event` once
/// per loop iteration (they are rare: connections, failures, expiries).
pub struct SfuPlane {
    /// The SFU core, for commands run on the worker's thread.
    pub sfu: Sfu,
    on_event: Box<dyn FnMut(Event) + Send>,
}

impl std::fmt::Debug for SfuPlane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SfuPlane").finish_non_exhaustive()
    }
}

impl SfuPlane {
    /// Runs `sfu`, reporting its events to `on_event`.
    pub fn new(sfu: Sfu, on_event: impl FnMut(Event) + Send + 'static) -> Self {
        SfuPlane {
            sfu,
            on_event: Box::new(on_event),
        }
    }
}

impl Plane for SfuPlane {
    fn handle_receive(
        &mut self,
        now: Instant,
        source: SocketAddr,
        local: SocketAddr,
        data: &mut [u8],
    ) {
        self.sfu.handle_receive(now, source, local, data);
    }

    fn poll_transmit(&mut self, buf: &mut [u8]) -> Option<(SocketAddr, usize)> {
        self.sfu.poll_transmit(buf).map(|t| (t.destination, t.len))
    }

    /// The SFU queues one job per run of a track's packets (bounded) and
    /// emits each run subscriber by subscriber.
    fn drain_after_batch(&self) -> bool {
        true
    }

    fn wants_drain(&self) -> bool {
        self.sfu.wants_drain()
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.sfu.handle_timeout(now);
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.sfu.poll_timeout()
    }

    fn after_iteration(&mut self) {
        while let Some(e) = self.sfu.poll_event() {
            (self.on_event)(e);
        }
    }
}

impl Worker<SfuPlane> {
    /// Runs `f` on the worker's thread with its SFU, after moving the
    /// SFU's clock to now (a command arrives between datagrams, so the
    /// SFU learns the time the way a receive would tell it), and returns
    /// the result.
    pub fn with_sfu<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Sfu) -> R + Send + 'static,
    ) -> Result<R, WorkerGone> {
        self.call(move |p| {
            p.sfu.set_now(Instant::now());
            f(&mut p.sfu)
        })
    }

    /// As [`Worker::with_sfu`] without waiting for the worker.
    pub fn post_to_sfu(&self, f: impl FnOnce(&mut Sfu) + Send + 'static) -> Result<(), WorkerGone> {
        self.post(move |p| {
            p.sfu.set_now(Instant::now());
            f(&mut p.sfu);
        })
    }
}
