//! The media plane of `tern serve`: the sans-IO SFU core (tern-sfu) run by
//! a tern-net media worker.
//!
//! - The worker is a dedicated OS thread (not a tokio task) that owns the
//!   UDP socket and the [`Sfu`]: batched receive (`recvmmsg`, GRO) →
//!   `handle_receive` → drain `poll_transmit` straight into send slots →
//!   batched send (`sendmmsg`, GSO) — no lock on the per-packet path and
//!   no allocation per packet.
//! - [`MediaHandle`] is the [`MediaPlane`] the signaling hub calls: each
//!   call travels to the worker over its command channel (calls that
//!   return something wait for the worker's answer; the others are
//!   posted). Events (DTLS connected or failed, consent expiry) come back
//!   through the plane's event callback; consent expiry removes the
//!   participant in signaling too, so the others get `participant-left`.
//! - A media socket bound to a wildcard (0.0.0.0, ::) learns the real
//!   destination address of each datagram (IP_PKTINFO / IPV6_PKTINFO) and
//!   replies to a remote from the address that remote sent to, as ICE
//!   requires (a STUN response from another address is not matched to its
//!   request).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tern_dtls::Certificate;
use tern_net::{BatchSocket, SfuPlane, SocketConfig, Worker, WorkerConfig};
use tern_sfu::{Event, Sfu, SfuConfig};
use tern_signal::{
    IceCandidateInit, MediaError, MediaPlane, ParticipantTransports, Pc, PublishNegotiation,
    SubscribeNegotiation,
};

/// 64 bits from the operating system's RNG.
pub fn os_seed() -> Result<u64, String> {
    getrandom::u64().map_err(|e| format!("operating system random source: {e}"))
}

/// Binds a media socket with tern-net's defaults (4 MiB kernel buffers,
/// GRO/GSO where the kernel has them) and packet info on a wildcard bind.
/// Port 0 picks one.
pub fn bind_media_socket(addr: SocketAddr) -> Result<BatchSocket, String> {
    let config = SocketConfig {
        pktinfo: addr.ip().is_unspecified(),
        ..SocketConfig::default()
    };
    let socket = BatchSocket::bind(addr, &config)
        .map_err(|e| format!("cannot bind media UDP {addr}: {e}"))?;
    if config.pktinfo && !socket.caps().pktinfo {
        tracing::error!("media socket: no packet info; replies may leave from the wrong address");
    }
    Ok(socket)
}

/// Creates the SFU for a media address (the announced IP and the bound
/// port).
pub fn new_sfu(media_addr: SocketAddr, consent_timeout: Duration) -> Result<Sfu, String> {
    let certificate = Certificate::generate().map_err(|e| format!("DTLS certificate: {e:?}"))?;
    let mut config = SfuConfig::new(media_addr, certificate, os_seed()?);
    config.consent_timeout = consent_timeout;
    // The wall clock at the instant the SFU starts from: its sender
    // reports carry NTP time derived from it.
    let now = Instant::now();
    config.wall_clock_at_start = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| format!("system clock before 1970: {e}"))?;
    Ok(Sfu::new(config, now))
}

/// Logs an SFU event; consent expiry goes to `expired` as well.
fn on_event(e: Event, expired: &tokio::sync::mpsc::UnboundedSender<String>) {
    match e {
        Event::Connected { participant, dir } => {
            tracing::info!(participant, ?dir, "media: DTLS-SRTP connected");
        }
        Event::DtlsFailed { participant, dir } => {
            tracing::info!(participant, ?dir, "media: DTLS failed");
        }
        Event::ConsentExpired { participant } => {
            tracing::info!(participant, "media: consent expired; participant removed");
            let _ = expired.send(participant);
        }
    }
}

/// Starts the media worker: it owns `socket` and `sfu`. `announced` is
/// the address the SFU was created with: every datagram is handed to it
/// as arriving there, whatever local address it reached a wildcard-bound
/// socket on. Participants whose consent expired are sent to `expired`
/// (the SFU has already freed them). With `drop_rtp_every` = N > 0, every
/// Nth RTP packet received is dropped before the SFU sees it (loss
/// emulation).
pub fn spawn_worker(
    socket: BatchSocket,
    announced: SocketAddr,
    sfu: Sfu,
    expired: tokio::sync::mpsc::UnboundedSender<String>,
    drop_rtp_every: u32,
) -> Result<MediaHandle, String> {
    let plane = SfuPlane::new(sfu, move |e| on_event(e, &expired));
    let mut config = WorkerConfig::new("tern-media", announced);
    config.drop_rtp_every = drop_rtp_every;
    let worker = Worker::spawn(socket, plane, config).map_err(|e| format!("media worker: {e}"))?;
    tracing::info!(local = %announced, "media worker started");
    Ok(MediaHandle {
        worker: Arc::new(worker),
    })
}

/// The control plane's handle on the media worker; the [`MediaPlane`]
/// signaling drives. Cloning shares the one worker.
#[derive(Debug, Clone)]
pub struct MediaHandle {
    worker: Arc<Worker<SfuPlane>>,
}

fn gone() -> MediaError {
    MediaError::new("media worker stopped")
}

impl MediaHandle {
    /// Runs `f` on the worker with the SFU (its clock set to now).
    pub fn with_sfu<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Sfu) -> R + Send + 'static,
    ) -> Result<R, MediaError> {
        self.worker.with_sfu(f).map_err(|_| gone())
    }

    /// Queues `f` to run on the worker with the SFU; does not wait.
    fn post(&self, f: impl FnOnce(&mut Sfu) + Send + 'static) {
        if self.worker.post_to_sfu(f).is_err() {
            tracing::error!("media worker stopped; a signaling call was lost");
        }
    }

    /// Stops the worker (dropping the last handle waits for it).
    pub fn stop(&self) {
        self.worker.stop();
    }
}

impl MediaPlane for MediaHandle {
    fn create_participant(
        &mut self,
        participant: &str,
        room: &str,
    ) -> Result<ParticipantTransports, MediaError> {
        let (p, r) = (participant.to_owned(), room.to_owned());
        let t = self.with_sfu(move |s| s.create_participant(&p, &r))??;
        tracing::debug!(participant, room, publish_ufrag = %t.publish.ice_ufrag,
            subscribe_ufrag = %t.subscribe.ice_ufrag, "media: transports allocated");
        Ok(t)
    }

    fn publish_changed(
        &mut self,
        participant: &str,
        publish: &PublishNegotiation<'_>,
    ) -> Result<(), MediaError> {
        let p = participant.to_owned();
        let remote = publish.remote.clone();
        let media = publish.media.to_vec();
        let tracks = publish.tracks.to_vec();
        let (dtls_role, ice_restart) = (publish.dtls_role, publish.ice_restart);
        let r = self.with_sfu(move |s| {
            s.publish_changed(
                &p,
                &PublishNegotiation {
                    remote: &remote,
                    dtls_role,
                    ice_restart,
                    media: &media,
                    tracks: &tracks,
                },
            )
        })?;
        match &r {
            Ok(()) => tracing::debug!(
                participant,
                tracks = publish.tracks.len(),
                "media: publishing"
            ),
            Err(e) => tracing::info!(participant, error = ?e, "media: publish refused"),
        }
        r
    }

    fn subscribe_changed(&mut self, participant: &str, subscribe: &SubscribeNegotiation<'_>) {
        let p = participant.to_owned();
        let remote = subscribe.remote.clone();
        let tracks = subscribe.tracks.to_vec();
        let refused = subscribe.refused.to_vec();
        let (dtls_role, ice_restart) = (subscribe.dtls_role, subscribe.ice_restart);
        self.post(move |s| {
            s.subscribe_changed(
                &p,
                &SubscribeNegotiation {
                    remote: &remote,
                    dtls_role,
                    ice_restart,
                    tracks: &tracks,
                    refused: &refused,
                },
            );
        });
        tracing::debug!(
            participant,
            tracks = subscribe.tracks.len(),
            refused = subscribe.refused.len(),
            "media: subscription settled"
        );
    }

    fn remote_candidate(
        &mut self,
        participant: &str,
        pc: Pc,
        candidate: Option<&IceCandidateInit>,
    ) {
        let p = participant.to_owned();
        let c = candidate.cloned();
        self.post(move |s| s.remote_candidate(&p, pc, c.as_ref()));
    }

    fn remove_participant(&mut self, participant: &str) {
        let p = participant.to_owned();
        self.post(move |s| s.remove_participant(&p));
        tracing::debug!(participant, "media: participant freed");
    }
}
