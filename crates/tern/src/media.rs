//! The media plane of `tern serve`: the sans-IO SFU core (tern-sfu) on one
//! UDP socket.
//!
//! - [`SfuPlane`] is the [`MediaPlane`] the signaling hub calls: it locks
//!   the shared [`Sfu`], gives it the current time and forwards the call.
//! - [`MediaThread`] is a dedicated OS thread (not a tokio task: the
//!   per-packet path must not wait behind signaling work) that owns the UDP
//!   socket: receive with a short timeout → `handle_receive` → drain
//!   `poll_transmit` into a reused buffer → send; `handle_timeout` when
//!   due; events go to the control plane over a channel (consent expiry
//!   removes the participant in signaling too, so the others get
//!   `participant-left`). The loop allocates nothing per packet.
//! - A media socket bound to a wildcard (0.0.0.0, ::) gives the SFU every
//!   datagram as arriving at the announced address, and learns the real
//!   destination address of each datagram (IP_PKTINFO / IPV6_PKTINFO):
//!   replies to a remote leave from the address that remote sent to, as
//!   ICE requires (a STUN response from another address is not matched to
//!   its request).

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tern_dtls::Certificate;
use tern_sfu::{Event, Sfu, SfuConfig};
use tern_signal::{
    IceCandidateInit, MediaError, MediaPlane, ParticipantTransports, Pc, PublishNegotiation,
    SubscribeNegotiation,
};

/// Datagram buffers: larger than any datagram the SFU sends
/// ([`tern_sfu::MIN_TRANSMIT_BUF`]) and than a typical path MTU.
const BUF_LEN: usize = 2048;
/// Longest the media thread sleeps in `recv` (it also wakes for SFU
/// timers, and to notice shutdown).
const MAX_WAIT: Duration = Duration::from_millis(20);
/// Socket buffer size requested for receive and send.
const SOCKET_BUFFER: usize = 4 * 1024 * 1024;
/// Most remotes whose destination address a wildcard-bound socket
/// remembers; past it the table starts afresh (remotes in a call send
/// constantly and are relearned at once).
const MAX_SOURCE_PINS: usize = 16 * 1024;

/// Receiving and sending on a wildcard-bound socket with the destination
/// address of each datagram (IP_PKTINFO, IPV6_RECVPKTINFO), so replies go
/// out from the local address the remote sent to.
#[derive(Debug)]
struct Pktinfo {
    cmsg: Vec<u8>,
    /// Remote → the local address its datagrams arrive at.
    pins: HashMap<SocketAddr, IpAddr>,
}

impl Pktinfo {
    /// Turns the option on; `None` for a socket bound to a specific address.
    fn enable(socket: &UdpSocket, bound: SocketAddr) -> Result<Option<Pktinfo>, String> {
        use nix::sys::socket::{setsockopt, sockopt};
        if !bound.ip().is_unspecified() {
            return Ok(None);
        }
        let fd = socket.as_raw_fd();
        let r = match bound {
            SocketAddr::V4(_) => setsockopt(fd, sockopt::Ipv4PacketInfo, &true),
            SocketAddr::V6(_) => setsockopt(fd, sockopt::Ipv6RecvPacketInfo, &true),
        };
        r.map_err(|e| format!("media socket: packet info option: {e}"))?;
        Ok(Some(Pktinfo {
            cmsg: nix::cmsg_space!(nix::libc::in6_pktinfo),
            pins: HashMap::new(),
        }))
    }

    /// `recv_from` that also remembers the datagram's destination address.
    fn recv(&mut self, socket: &UdpSocket, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags, SockaddrStorage};
        let mut iov = [io::IoSliceMut::new(buf)];
        let msg = recvmsg::<SockaddrStorage>(
            socket.as_raw_fd(),
            &mut iov,
            Some(&mut self.cmsg),
            MsgFlags::empty(),
        )
        .map_err(io::Error::from)?;
        let from = msg.address.as_ref().and_then(|a| {
            a.as_sockaddr_in()
                .map(|v4| SocketAddr::from(std::net::SocketAddrV4::from(*v4)))
                .or_else(|| {
                    a.as_sockaddr_in6()
                        .map(|v6| SocketAddr::from(std::net::SocketAddrV6::from(*v6)))
                })
        });
        let mut dst = None;
        for c in msg.cmsgs() {
            match c {
                ControlMessageOwned::Ipv4PacketInfo(i) => {
                    dst = Some(IpAddr::from(Ipv4Addr::from(u32::from_be(
                        i.ipi_addr.s_addr,
                    ))));
                }
                ControlMessageOwned::Ipv6PacketInfo(i) => {
                    dst = Some(IpAddr::from(Ipv6Addr::from(i.ipi6_addr.s6_addr)));
                }
                _ => {}
            }
        }
        let n = msg.bytes;
        let from = from.ok_or_else(|| io::Error::other("datagram without a source address"))?;
        if let Some(dst) = dst {
            if self.pins.get(&from) != Some(&dst) {
                if self.pins.len() >= MAX_SOURCE_PINS {
                    self.pins.clear();
                }
                self.pins.insert(from, dst);
            }
        }
        Ok((n, from))
    }

    /// `send_to` from the address `to` last sent to (the kernel's choice
    /// when unknown).
    fn send(&self, socket: &UdpSocket, data: &[u8], to: SocketAddr) -> io::Result<usize> {
        use nix::libc;
        use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags, SockaddrIn, SockaddrIn6};
        let iov = [io::IoSlice::new(data)];
        let fd = socket.as_raw_fd();
        let r = match (to, self.pins.get(&to)) {
            (SocketAddr::V4(to), Some(IpAddr::V4(src))) => {
                let info = libc::in_pktinfo {
                    ipi_ifindex: 0,
                    ipi_spec_dst: libc::in_addr {
                        s_addr: u32::from(*src).to_be(),
                    },
                    ipi_addr: libc::in_addr { s_addr: 0 },
                };
                let cmsg = [ControlMessage::Ipv4PacketInfo(&info)];
                sendmsg(
                    fd,
                    &iov,
                    &cmsg,
                    MsgFlags::empty(),
                    Some(&SockaddrIn::from(to)),
                )
            }
            (SocketAddr::V6(to), Some(IpAddr::V6(src))) => {
                let info = libc::in6_pktinfo {
                    ipi6_addr: libc::in6_addr {
                        s6_addr: src.octets(),
                    },
                    ipi6_ifindex: 0,
                };
                let cmsg = [ControlMessage::Ipv6PacketInfo(&info)];
                sendmsg(
                    fd,
                    &iov,
                    &cmsg,
                    MsgFlags::empty(),
                    Some(&SockaddrIn6::from(to)),
                )
            }
            _ => return socket.send_to(data, to),
        };
        r.map_err(io::Error::from)
    }
}

/// The SFU shared by the signaling hub and the media thread.
pub type SharedSfu = Arc<Mutex<Sfu>>;

/// Locks the SFU; a panic while it was held (a bug) does not stop the
/// other side from using it.
pub fn lock(sfu: &SharedSfu) -> MutexGuard<'_, Sfu> {
    sfu.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// 64 bits from the operating system's RNG.
pub fn os_seed() -> Result<u64, String> {
    getrandom::u64().map_err(|e| format!("operating system random source: {e}"))
}

/// Binds the media socket with large kernel buffers. Port 0 picks one.
pub fn bind_media_socket(addr: SocketAddr) -> Result<UdpSocket, String> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))
        .map_err(|e| format!("media socket: {e}"))?;
    // The kernel may cap these (net.core.rmem_max); smaller is still fine.
    if let Err(e) = socket.set_recv_buffer_size(SOCKET_BUFFER) {
        tracing::debug!(error = %e, "SO_RCVBUF not set");
    }
    if let Err(e) = socket.set_send_buffer_size(SOCKET_BUFFER) {
        tracing::debug!(error = %e, "SO_SNDBUF not set");
    }
    socket
        .bind(&addr.into())
        .map_err(|e| format!("cannot bind media UDP {addr}: {e}"))?;
    Ok(socket.into())
}

/// Creates the SFU for a bound media socket address.
pub fn new_sfu(media_addr: SocketAddr, consent_timeout: Duration) -> Result<SharedSfu, String> {
    let certificate = Certificate::generate().map_err(|e| format!("DTLS certificate: {e:?}"))?;
    let mut config = SfuConfig::new(media_addr, certificate, os_seed()?);
    config.consent_timeout = consent_timeout;
    // The wall clock at the instant the SFU starts from: its sender
    // reports carry NTP time derived from it.
    let now = Instant::now();
    config.wall_clock_at_start = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| format!("system clock before 1970: {e}"))?;
    Ok(Arc::new(Mutex::new(Sfu::new(config, now))))
}

/// The [`MediaPlane`] signaling drives: each call locks the SFU, sets its
/// clock and forwards.
#[derive(Debug, Clone)]
pub struct SfuPlane {
    sfu: SharedSfu,
}

impl SfuPlane {
    /// A plane over the shared SFU.
    pub fn new(sfu: SharedSfu) -> Self {
        SfuPlane { sfu }
    }

    fn sfu(&self) -> MutexGuard<'_, Sfu> {
        let mut s = lock(&self.sfu);
        s.set_now(Instant::now());
        s
    }
}

impl MediaPlane for SfuPlane {
    fn create_participant(
        &mut self,
        participant: &str,
        room: &str,
    ) -> Result<ParticipantTransports, MediaError> {
        let t = self.sfu().create_participant(participant, room)?;
        tracing::debug!(participant, room, publish_ufrag = %t.publish.ice_ufrag,
            subscribe_ufrag = %t.subscribe.ice_ufrag, "media: transports allocated");
        Ok(t)
    }

    fn publish_changed(
        &mut self,
        participant: &str,
        publish: &PublishNegotiation<'_>,
    ) -> Result<(), MediaError> {
        let r = self.sfu().publish_changed(participant, publish);
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
        self.sfu().subscribe_changed(participant, subscribe);
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
        self.sfu().remote_candidate(participant, pc, candidate);
    }

    fn remove_participant(&mut self, participant: &str) {
        self.sfu().remove_participant(participant);
        tracing::debug!(participant, "media: participant freed");
    }
}

/// The media thread; stopped and joined by [`MediaThread::stop`] (or on drop).
#[derive(Debug)]
pub struct MediaThread {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl MediaThread {
    /// Starts the loop on `socket`. `announced` is the media address the
    /// SFU was created with (the announced IP and the bound port): every
    /// datagram is handed to the SFU as arriving there, whatever local
    /// address it reached a wildcard-bound socket on. There is one media
    /// socket, so the announced address names it exactly; the SFU keys
    /// 5-tuples by it and ICE answers for it. Participants whose consent expired are
    /// sent to `expired` (the SFU has already freed them). With
    /// `drop_rtp_every` = N > 0, every Nth RTP packet received is dropped
    /// before the SFU sees it (loss emulation).
    pub fn spawn(
        socket: UdpSocket,
        announced: SocketAddr,
        sfu: SharedSfu,
        expired: tokio::sync::mpsc::UnboundedSender<String>,
        drop_rtp_every: u32,
    ) -> Result<Self, String> {
        let local = announced;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::Builder::new()
            .name("tern-media".into())
            .spawn(move || media_loop(&socket, local, &sfu, &expired, &flag, drop_rtp_every))
            .map_err(|e| format!("media thread: {e}"))?;
        Ok(MediaThread {
            stop,
            handle: Some(handle),
        })
    }

    /// Stops the loop and waits for the thread (at most one receive timeout).
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            if h.join().is_err() {
                tracing::error!("media thread panicked");
            }
        }
    }
}

impl Drop for MediaThread {
    fn drop(&mut self) {
        self.stop();
    }
}

/// RTP by RFC 7983's first byte (128–191) and not RTCP by RFC 5761's
/// packet-type range (second byte 192–223).
fn is_rtp(d: &[u8]) -> bool {
    d.len() >= 12 && (128..=191).contains(&d[0]) && !(192..=223).contains(&d[1])
}

fn media_loop(
    socket: &UdpSocket,
    local: SocketAddr,
    sfu: &SharedSfu,
    expired: &tokio::sync::mpsc::UnboundedSender<String>,
    stop: &AtomicBool,
    drop_rtp_every: u32,
) {
    /// Says so at once if the loop dies of a panic (a bug): the server
    /// keeps serving signaling, but no media flows.
    struct PanicAlarm;
    impl Drop for PanicAlarm {
        fn drop(&mut self) {
            if std::thread::panicking() {
                tracing::error!("media thread panicked: media forwarding has stopped");
            }
        }
    }
    let _alarm = PanicAlarm;
    let mut pktinfo = match socket
        .local_addr()
        .map_err(|e| e.to_string())
        .and_then(|bound| Pktinfo::enable(socket, bound))
    {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "media socket: replies may leave from the wrong address");
            None
        }
    };
    let mut rtp_seen: u32 = 0;
    let mut buf = vec![0u8; BUF_LEN];
    let mut out = vec![0u8; BUF_LEN];
    let mut wait = MAX_WAIT;
    let mut current_timeout = Duration::ZERO;
    tracing::info!(%local, "media thread started");
    while !stop.load(Ordering::Relaxed) {
        if wait != current_timeout {
            // A zero timeout means "block forever" to the OS: never pass it.
            if socket.set_read_timeout(Some(wait)).is_ok() {
                current_timeout = wait;
            }
        }
        let received = match match pktinfo.as_mut() {
            Some(p) => p.recv(socket, &mut buf),
            None => socket.recv_from(&mut buf),
        } {
            Ok((n, remote)) => {
                let dropped = drop_rtp_every > 0 && is_rtp(&buf[..n]) && {
                    rtp_seen = rtp_seen.wrapping_add(1);
                    rtp_seen % drop_rtp_every == 0
                };
                (!dropped).then_some((n, remote))
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) =>
            {
                None
            }
            Err(e) => {
                // E.g. ICMP port unreachable reported on Linux as
                // ECONNREFUSED for a later recv: not fatal for a server.
                tracing::debug!(error = %e, "media recv error");
                None
            }
        };
        let mut s = lock(sfu);
        let now = Instant::now();
        if let Some((n, remote)) = received {
            s.handle_receive(now, remote, local, &mut buf[..n]);
        }
        if s.poll_timeout().is_some_and(|t| t <= now) {
            s.handle_timeout(now);
        }
        while let Some(t) = s.poll_transmit(&mut out) {
            let sent = match &pktinfo {
                Some(p) => p.send(socket, &out[..t.len], t.destination),
                None => socket.send_to(&out[..t.len], t.destination),
            };
            if let Err(e) = sent {
                tracing::debug!(error = %e, to = %t.destination, "media send failed");
            }
        }
        while let Some(ev) = s.poll_event() {
            match ev {
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
        // Whole milliseconds, so the socket option changes rarely.
        wait = match s.poll_timeout() {
            Some(t) => Duration::from_millis(
                t.saturating_duration_since(Instant::now())
                    .as_millis()
                    .try_into()
                    .unwrap_or(u64::MAX),
            )
            .clamp(Duration::from_millis(1), MAX_WAIT),
            None => MAX_WAIT,
        };
    }
    tracing::info!("media thread stopped");
}
