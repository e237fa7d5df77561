//! [`BatchSocket`]: a blocking UDP socket that moves datagrams in batches.
//!
//! Kernel features (Linux):
//! - recvmmsg(2) with `MSG_WAITFORONE` and `SO_RCVTIMEO` (socket(7)): block
//!   for the first datagram only, then take whatever else is queued;
//! - sendmmsg(2): many messages per system call;
//! - udp(7) `UDP_SEGMENT` (GSO): one message carries a run of equal-size
//!   datagrams to one destination, segmented by the kernel (or the NIC);
//! - udp(7) `UDP_GRO`: the kernel may hand us several datagrams of one flow
//!   as one buffer, with the segment size in a cmsg; we split them again;
//! - ip(7) `IP_PKTINFO`, ipv6(7) `IPV6_RECVPKTINFO`/`IPV6_PKTINFO`: the
//!   destination address of each received datagram, and the source address
//!   of each sent one;
//! - socket(7) `SO_TIMESTAMPNS`: the kernel's receive time of each
//!   datagram, for measuring latency without the reader's own delay;
//! - socket(7) `SO_REUSEPORT`, `SO_RCVBUF`/`SO_SNDBUF` (and the `FORCE`
//!   variants when permitted).

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

use crate::batch::{RecvBatch, SendBatch};
use crate::sys;

/// How to open a [`BatchSocket`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketConfig {
    /// `SO_REUSEPORT` before bind (one socket per worker on one port).
    pub reuse_port: bool,
    /// `SO_RCVBUF` in bytes (best effort: the kernel caps it at `rmem_max`
    /// unless `SO_RCVBUFFORCE` is permitted, which is tried silently).
    pub recv_buffer: usize,
    /// `SO_SNDBUF` in bytes (same rules).
    pub send_buffer: usize,
    /// Ask for `UDP_GRO`; [`Caps::gro`] says whether the kernel took it.
    pub gro: bool,
    /// Send runs of equal-size datagrams with `UDP_SEGMENT` when the kernel
    /// supports it; [`Caps::gso`] says whether it is in use.
    pub gso: bool,
    /// `IP_PKTINFO` / `IPV6_RECVPKTINFO`: report each datagram's destination
    /// IP; lets sends pick their source IP.
    pub pktinfo: bool,
}

impl Default for SocketConfig {
    fn default() -> Self {
        SocketConfig {
            reuse_port: false,
            recv_buffer: 4 << 20,
            send_buffer: 4 << 20,
            gro: true,
            gso: true,
            pktinfo: false,
        }
    }
}

/// What the socket actually does (the kernel may refuse what was asked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// Sends use `UDP_SEGMENT`.
    pub gso: bool,
    /// Receives may return GRO-coalesced buffers (split by [`RecvBatch`]).
    pub gro: bool,
    /// pktinfo is on.
    pub pktinfo: bool,
    /// Receive timestamps are on ([`crate::Received::rx_time`]).
    pub rx_timestamps: bool,
}

/// Counters kept by a [`BatchSocket`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SocketStats {
    /// System calls on the data path (recvmmsg + sendmmsg).
    pub syscalls: u64,
    /// recvmmsg calls.
    pub recv_calls: u64,
    /// sendmmsg calls.
    pub send_calls: u64,
    /// Datagrams received (GRO segments counted one by one).
    pub datagrams_received: u64,
    /// Datagrams handed to the kernel (GSO segments counted one by one).
    pub datagrams_sent: u64,
    /// Messages sent with `UDP_SEGMENT`.
    pub gso_sends: u64,
    /// Messages the kernel refused (skipped; the batch went on).
    pub send_errors: u64,
    /// Received messages dropped: larger than the batch's slot, or with no
    /// usable source address.
    pub recv_dropped: u64,
}

/// A blocking UDP socket with batched receive and send.
#[derive(Debug)]
pub struct BatchSocket {
    socket: UdpSocket,
    v6: bool,
    caps: Caps,
    stats: SocketStats,
    /// The `SO_RCVTIMEO` currently set (`None` = block forever).
    recv_timeout: Option<Duration>,
}

impl AsRawFd for BatchSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}

fn set_buffer(fd: RawFd, opt: libc::c_int, force: libc::c_int, bytes: usize) {
    let want = bytes.min(i32::MAX as usize) as libc::c_int;
    // Best effort: the FORCE variant needs CAP_NET_ADMIN; fall back silently.
    if sys::set_int(fd, libc::SOL_SOCKET, force, want).is_err() {
        let _ = sys::set_int(fd, libc::SOL_SOCKET, opt, want);
    }
}

impl BatchSocket {
    /// Opens a UDP socket bound to `addr` with `cfg`.
    pub fn bind(addr: SocketAddr, cfg: &SocketConfig) -> io::Result<BatchSocket> {
        let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
        let v6 = addr.is_ipv6();
        if cfg.reuse_port {
            socket.set_reuse_port(true)?;
        }
        let fd = socket.as_raw_fd();
        if cfg.recv_buffer > 0 {
            set_buffer(fd, libc::SO_RCVBUF, sys::SO_RCVBUFFORCE, cfg.recv_buffer);
        }
        if cfg.send_buffer > 0 {
            set_buffer(fd, libc::SO_SNDBUF, sys::SO_SNDBUFFORCE, cfg.send_buffer);
        }
        let mut pktinfo = false;
        if cfg.pktinfo {
            if v6 {
                sys::set_int(fd, libc::IPPROTO_IPV6, libc::IPV6_RECVPKTINFO, 1)?;
            } else {
                sys::set_int(fd, libc::IPPROTO_IP, libc::IP_PKTINFO, 1)?;
            }
            pktinfo = true;
        }
        socket.bind(&addr.into())?;
        let gro = cfg.gro && sys::set_int(fd, libc::SOL_UDP, sys::UDP_GRO, 1).is_ok();
        // Probing UDP_SEGMENT with getsockopt succeeds exactly on kernels
        // that accept the send-side cmsg (4.18+).
        let gso = cfg.gso && sys::get_int(fd, libc::SOL_UDP, sys::UDP_SEGMENT).is_ok();
        let socket: UdpSocket = socket.into();
        Ok(BatchSocket {
            socket,
            v6,
            caps: Caps {
                gso,
                gro,
                pktinfo,
                rx_timestamps: false,
            },
            stats: SocketStats::default(),
            recv_timeout: None,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// What the socket does.
    pub fn caps(&self) -> Caps {
        self.caps
    }

    /// Counters so far.
    pub fn stats(&self) -> SocketStats {
        self.stats
    }

    /// The file descriptor.
    pub fn as_raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }

    /// The underlying std socket (for options this type does not cover).
    pub fn as_std(&self) -> &UdpSocket {
        &self.socket
    }

    /// Turns GSO off (always possible) or back on (only when the kernel
    /// supports it); returns whether it is on now.
    pub fn set_gso(&mut self, on: bool) -> bool {
        self.caps.gso =
            on && sys::get_int(self.as_raw_fd(), libc::SOL_UDP, sys::UDP_SEGMENT).is_ok();
        self.caps.gso
    }

    /// Turns GRO on or off; returns whether it is on now.
    pub fn set_gro(&mut self, on: bool) -> bool {
        let fd = self.as_raw_fd();
        if sys::set_int(fd, libc::SOL_UDP, sys::UDP_GRO, i32::from(on)).is_ok() {
            self.caps.gro = on;
        }
        self.caps.gro
    }

    /// Turns `SO_TIMESTAMPNS` on or off: with it on, every received
    /// datagram carries the kernel's receive time
    /// ([`crate::Received::rx_time`]), so a reader can tell how long it sat
    /// in the socket queue. Returns whether it is on now. (While any socket
    /// on the machine has it on, the kernel stamps every packet it
    /// receives, a clock read per packet. The first socket to ask turns
    /// that on in deferred kernel work: until it has run, which is usually
    /// well under a millisecond, a datagram's stamp is the time it is
    /// read.)
    pub fn set_rx_timestamps(&mut self, on: bool) -> bool {
        let fd = self.as_raw_fd();
        if sys::set_int(fd, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, i32::from(on)).is_ok() {
            self.caps.rx_timestamps = on;
        }
        self.caps.rx_timestamps
    }

    fn set_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        if self.recv_timeout != timeout {
            sys::set_recv_timeout(self.as_raw_fd(), timeout)?;
            self.recv_timeout = timeout;
        }
        Ok(())
    }

    /// Blocks until at least one datagram arrives or `timeout` passes
    /// (`None` = block; `Duration::ZERO` = don't block), then takes every
    /// datagram already queued, up to the batch's capacity, in one
    /// recvmmsg. Fills `batch` (cleared first), splitting GRO buffers into
    /// their segments. Returns the number of datagrams in the batch;
    /// `Ok(0)` on timeout, `EAGAIN`, `EINTR` or `ECONNREFUSED` (an ICMP
    /// error is not fatal to a server).
    pub fn recv_batch(
        &mut self,
        batch: &mut RecvBatch,
        timeout: Option<Duration>,
    ) -> io::Result<usize> {
        batch.clear();
        let flags = match timeout {
            Some(d) if d.is_zero() => libc::MSG_DONTWAIT,
            _ => {
                self.set_timeout(timeout)?;
                libc::MSG_WAITFORONE
            }
        };
        let fd = self.as_raw_fd();
        let hdrs = batch.prepare(self.caps.gro);
        self.stats.syscalls += 1;
        self.stats.recv_calls += 1;
        match sys::recvmmsg(fd, hdrs, flags) {
            Ok(n) => {
                let (datagrams, dropped) = batch.finish(n);
                self.stats.datagrams_received += datagrams as u64;
                self.stats.recv_dropped += dropped as u64;
                Ok(datagrams)
            }
            Err(e) => match e.raw_os_error() {
                Some(libc::EAGAIN | libc::EINTR | libc::ECONNREFUSED) => Ok(0),
                _ => Err(e),
            },
        }
    }

    /// Sends every datagram queued in `batch` with as few sendmmsg calls as
    /// possible, then clears it.
    ///
    /// With GSO, datagrams are grouped by (destination, source) — order kept
    /// within a group — and each group is cut into runs of equal length (the
    /// last of a run may be shorter), at most 64 segments and 65,000 bytes,
    /// each sent as one message with a `UDP_SEGMENT` cmsg and one iovec per
    /// segment pointing into the batch. If the kernel refuses a GSO message
    /// with `EIO`/`EINVAL`, the rest of the batch is resent without GSO, and
    /// when that works GSO stays off on this socket ([`Caps::gso`]).
    ///
    /// A message the kernel refuses (`ECONNREFUSED`, `EHOSTUNREACH`,
    /// `EMSGSIZE`, ...) is skipped and counted in `send_errors`. Returns the
    /// number of datagrams handed to the kernel.
    pub fn send_batch(&mut self, batch: &mut SendBatch) -> io::Result<usize> {
        if batch.is_empty() {
            return Ok(0);
        }
        let fd = self.as_raw_fd();
        let mut gso = self.caps.gso;
        batch.order(gso);
        let mut messages = batch.build_messages(0, gso, self.v6);
        let mut m = 0;
        let mut sent = 0usize;
        // Set while resending after a GSO message failed with EIO/EINVAL:
        // the next call tells whether GSO or the destination was at fault.
        let mut probing = false;
        let result = loop {
            if m >= messages {
                break Ok(sent);
            }
            let end = messages.min(m + libc::UIO_MAXIOV as usize);
            self.stats.syscalls += 1;
            self.stats.send_calls += 1;
            match sys::sendmmsg(fd, batch.headers(m, end)) {
                Ok(0) => {
                    // Not expected from a blocking socket; never spin.
                    self.stats.send_errors += 1;
                    m += 1;
                }
                Ok(k) => {
                    if probing && m == 0 {
                        // The same datagrams go out without UDP_SEGMENT:
                        // this path cannot segment, so stop asking it to.
                        self.caps.gso = false;
                        probing = false;
                    }
                    for i in m..m + k {
                        let info = batch.info(i);
                        sent += info.count;
                        if info.gso {
                            self.stats.gso_sends += 1;
                        }
                    }
                    m += k;
                }
                Err(e) => {
                    let code = e.raw_os_error().unwrap_or(0);
                    let info = batch.info(m);
                    if code == libc::EINTR {
                        continue;
                    }
                    if gso && info.gso && (code == libc::EIO || code == libc::EINVAL) {
                        // Maybe no usable segmentation offload on this path:
                        // resend the rest of the batch without GSO. If that
                        // succeeds, GSO was the problem and stays off on this
                        // socket; if it fails the same way, the destination
                        // was, and later batches use GSO again.
                        gso = false;
                        probing = true;
                        messages = batch.build_messages(info.first, false, self.v6);
                        m = 0;
                        continue;
                    }
                    if probing && m == 0 {
                        probing = false;
                    }
                    if is_per_message_error(code) {
                        self.stats.send_errors += 1;
                        m += 1;
                        continue;
                    }
                    break Err(e);
                }
            }
        };
        self.stats.datagrams_sent += sent as u64;
        batch.clear();
        result
    }
}

/// Errors that concern one message (its destination, its size, a transient
/// lack of buffers), not the socket.
fn is_per_message_error(code: i32) -> bool {
    matches!(
        code,
        libc::ECONNREFUSED
            | libc::EHOSTUNREACH
            | libc::ENETUNREACH
            | libc::EHOSTDOWN
            | libc::ENETDOWN
            | libc::EPERM
            | libc::EACCES
            | libc::EMSGSIZE
            | libc::EINVAL
            | libc::EIO
            | libc::EAFNOSUPPORT
            | libc::EADDRNOTAVAIL
            | libc::ENOBUFS
            | libc::EAGAIN
    )
}
