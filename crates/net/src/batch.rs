//! Receive and send batches: all storage the kernel reads or writes during
//! recvmmsg(2)/sendmmsg(2), preallocated once and reused.
//!
//! A batch owns its data buffers, socket-address slots, iovecs, control
//! (cmsg) buffers and message headers. Before every call the headers are
//! rebuilt from that owned storage (no pointer survives from one call to the
//! next), and afterwards the results are decoded with plain safe byte
//! parsing. Nothing here allocates per datagram.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::time::{Duration, SystemTime};

use crate::sys::{self, IoVecs, MsgVec};

/// Bytes reserved per socket-address slot (`sockaddr_in6` is the largest we
/// use; `sockaddr_in` fits in its first 16 bytes).
const NAME_LEN: usize = 28;
/// Control bytes per received message: a UDP_GRO cmsg, pktinfo (both
/// families, in case a dual-stack socket reports both) and a receive
/// timestamp, with room to spare.
const RECV_CONTROL: usize = 160;
/// Control bytes per sent message: UDP_SEGMENT plus one pktinfo.
const SEND_CONTROL: usize = 64;
/// Receive slot size when the socket coalesces with UDP_GRO.
pub(crate) const GRO_SLOT: usize = 65_535;
/// The most segments one GSO message carries (the kernel's historical
/// `UDP_MAX_SEGMENTS`).
pub(crate) const GSO_MAX_SEGMENTS: usize = 64;
/// The most payload bytes one GSO message carries.
pub(crate) const GSO_MAX_BYTES: usize = 65_000;
/// Segments one received GRO message can hold at most (64 from a NIC,
/// up to `UDP_MAX_SEGMENTS` from a local GSO sender on newer kernels).
const GRO_MAX_SEGMENTS: usize = 128;

// ---------------------------------------------------------------------------
// cmsg(3) layout, done with safe byte arithmetic (Linux: `size_t` alignment).

const CMSG_ALIGN_TO: usize = std::mem::size_of::<usize>();
const fn cmsg_align(len: usize) -> usize {
    (len + CMSG_ALIGN_TO - 1) & !(CMSG_ALIGN_TO - 1)
}
const CMSG_HDR: usize = cmsg_align(std::mem::size_of::<libc::cmsghdr>());
const fn cmsg_space(len: usize) -> usize {
    CMSG_HDR + cmsg_align(len)
}

/// Writes one cmsg at the start of `buf`; returns the bytes it takes
/// (`CMSG_SPACE(data.len())`).
fn write_cmsg(buf: &mut [u8], level: libc::c_int, ty: libc::c_int, data: &[u8]) -> usize {
    let space = cmsg_space(data.len());
    let buf = &mut buf[..space];
    buf.fill(0);
    let len = CMSG_HDR + data.len();
    buf[..CMSG_ALIGN_TO].copy_from_slice(&len.to_ne_bytes());
    buf[CMSG_ALIGN_TO..CMSG_ALIGN_TO + 4].copy_from_slice(&level.to_ne_bytes());
    buf[CMSG_ALIGN_TO + 4..CMSG_ALIGN_TO + 8].copy_from_slice(&ty.to_ne_bytes());
    buf[CMSG_HDR..CMSG_HDR + data.len()].copy_from_slice(data);
    space
}

/// What the kernel told us about one received message through cmsgs.
#[derive(Debug, Default, Clone, Copy)]
struct RecvMeta {
    gro_segment: usize,
    destination: Option<IpAddr>,
    rx_time: Option<SystemTime>,
}

fn parse_cmsgs(control: &[u8]) -> RecvMeta {
    let mut meta = RecvMeta::default();
    let mut off = 0;
    while off + CMSG_HDR <= control.len() {
        let mut lenb = [0u8; CMSG_ALIGN_TO];
        lenb.copy_from_slice(&control[off..off + CMSG_ALIGN_TO]);
        let len = usize::from_ne_bytes(lenb);
        if len < CMSG_HDR || off + len > control.len() {
            break;
        }
        let i32_at = |at: usize| {
            i32::from_ne_bytes([
                control[at],
                control[at + 1],
                control[at + 2],
                control[at + 3],
            ])
        };
        let level = i32_at(off + CMSG_ALIGN_TO);
        let ty = i32_at(off + CMSG_ALIGN_TO + 4);
        let data = &control[off + CMSG_HDR..off + len];
        match (level, ty) {
            (libc::SOL_UDP, sys::UDP_GRO) if data.len() >= 4 => {
                let seg = i32::from_ne_bytes([data[0], data[1], data[2], data[3]]);
                meta.gro_segment = seg.max(0) as usize;
            }
            (libc::IPPROTO_IP, libc::IP_PKTINFO) if data.len() >= 12 => {
                // struct in_pktinfo { int ifindex; in_addr spec_dst; in_addr addr; }
                // `addr` is the destination address in the IP header.
                let a = Ipv4Addr::new(data[8], data[9], data[10], data[11]);
                if meta.destination.is_none() {
                    meta.destination = Some(IpAddr::V4(a));
                }
            }
            (libc::SOL_SOCKET, libc::SCM_TIMESTAMPNS) => {
                meta.rx_time = timespec_to_system_time(data);
            }
            (libc::IPPROTO_IPV6, libc::IPV6_PKTINFO) if data.len() >= 16 => {
                // struct in6_pktinfo { in6_addr addr; unsigned ifindex; }
                let mut b = [0u8; 16];
                b.copy_from_slice(&data[..16]);
                meta.destination = Some(IpAddr::V6(Ipv6Addr::from(b)));
            }
            _ => {}
        }
        off += cmsg_align(len);
    }
    meta
}

/// The timespec of an `SCM_TIMESTAMPNS` cmsg (socket(7)): the
/// CLOCK_REALTIME instant the kernel took the datagram in. Two native
/// `long`s, or two 64-bit words where `SO_TIMESTAMPNS` is the 64-bit-time
/// variant on a 32-bit target; the cmsg's length says which.
fn timespec_to_system_time(data: &[u8]) -> Option<SystemTime> {
    let (sec, nsec) = match data.len() {
        16 => (
            i64::from_ne_bytes(data[..8].try_into().ok()?),
            i64::from_ne_bytes(data[8..16].try_into().ok()?),
        ),
        8 => (
            i64::from(i32::from_ne_bytes(data[..4].try_into().ok()?)),
            i64::from(i32::from_ne_bytes(data[4..8].try_into().ok()?)),
        ),
        _ => return None,
    };
    let secs = u64::try_from(sec).ok()?;
    let nanos = u32::try_from(nsec).ok().filter(|n| *n < 1_000_000_000)?;
    SystemTime::UNIX_EPOCH.checked_add(Duration::new(secs, nanos))
}

// ---------------------------------------------------------------------------
// Socket addresses as raw `sockaddr_in` / `sockaddr_in6` bytes.

fn decode_name(b: &[u8; NAME_LEN], len: usize) -> Option<SocketAddr> {
    if len < 4 {
        return None;
    }
    let family = libc::c_int::from(u16::from_ne_bytes([b[0], b[1]]));
    let port = u16::from_be_bytes([b[2], b[3]]);
    if family == libc::AF_INET && len >= 16 {
        let ip = Ipv4Addr::new(b[4], b[5], b[6], b[7]);
        Some(SocketAddr::V4(SocketAddrV4::new(ip, port)))
    } else if family == libc::AF_INET6 && len >= NAME_LEN {
        let flowinfo = u32::from_ne_bytes([b[4], b[5], b[6], b[7]]);
        let mut a = [0u8; 16];
        a.copy_from_slice(&b[8..24]);
        let scope = u32::from_ne_bytes([b[24], b[25], b[26], b[27]]);
        Some(SocketAddr::V6(SocketAddrV6::new(
            Ipv6Addr::from(a),
            port,
            flowinfo,
            scope,
        )))
    } else {
        None
    }
}

/// Encodes `addr` for a socket of the given family (IPv4 destinations are
/// v4-mapped on IPv6 sockets, v4-mapped ones unmapped on IPv4 sockets);
/// returns the address length.
fn encode_name(addr: SocketAddr, v6_socket: bool, out: &mut [u8; NAME_LEN]) -> u32 {
    let addr = match (addr, v6_socket) {
        (SocketAddr::V4(a), true) => {
            SocketAddr::V6(SocketAddrV6::new(a.ip().to_ipv6_mapped(), a.port(), 0, 0))
        }
        (SocketAddr::V6(a), false) => match a.ip().to_ipv4_mapped() {
            Some(v4) => SocketAddr::V4(SocketAddrV4::new(v4, a.port())),
            None => addr,
        },
        _ => addr,
    };
    out.fill(0);
    match addr {
        SocketAddr::V4(a) => {
            out[..2].copy_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
            out[2..4].copy_from_slice(&a.port().to_be_bytes());
            out[4..8].copy_from_slice(&a.ip().octets());
            16
        }
        SocketAddr::V6(a) => {
            out[..2].copy_from_slice(&(libc::AF_INET6 as u16).to_ne_bytes());
            out[2..4].copy_from_slice(&a.port().to_be_bytes());
            out[4..8].copy_from_slice(&a.flowinfo().to_ne_bytes());
            out[8..24].copy_from_slice(&a.ip().octets());
            out[24..28].copy_from_slice(&a.scope_id().to_ne_bytes());
            NAME_LEN as u32
        }
    }
}

/// Writes the pktinfo cmsg that picks the source address; returns its size.
fn write_source_cmsg(buf: &mut [u8], source: IpAddr, v6_socket: bool) -> usize {
    if v6_socket {
        let ip = match source {
            IpAddr::V4(a) => a.to_ipv6_mapped(),
            IpAddr::V6(a) => a,
        };
        let mut d = [0u8; 20];
        d[..16].copy_from_slice(&ip.octets());
        write_cmsg(buf, libc::IPPROTO_IPV6, libc::IPV6_PKTINFO, &d)
    } else {
        let ip = match source {
            IpAddr::V4(a) => a,
            IpAddr::V6(a) => a.to_ipv4_mapped().unwrap_or(Ipv4Addr::UNSPECIFIED),
        };
        let mut d = [0u8; 12];
        // ipi_ifindex = 0, ipi_spec_dst = source, ipi_addr unused on send.
        d[4..8].copy_from_slice(&ip.octets());
        write_cmsg(buf, libc::IPPROTO_IP, libc::IP_PKTINFO, &d)
    }
}

// ---------------------------------------------------------------------------

/// One datagram of a [`RecvBatch`], mutable in place.
///
/// `repr(C)`, fields in order of alignment, and [`RecvBatch::get_mut`]
/// inlined: with the compiler's layout the 4-aligned 32-byte address sat
/// at offset 12, after the timestamp, and building and moving the value
/// went through stack copies whose 16-byte reloads straddled the stores
/// before them. Every received datagram paid a store-forwarding stall
/// (about 60 ns of the 1.6 µs per packet at one subscriber in a
/// `tern bench` profile; the worker loop's and `get_mut`'s samples went
/// from about 4.5 % of the forwarding thread to 0.5 %).
#[derive(Debug)]
#[repr(C)]
pub struct Received<'a> {
    /// Who sent it.
    pub source: SocketAddr,
    /// Its bytes.
    pub data: &'a mut [u8],
    /// The IP it was sent to (the IP header's destination), when the socket
    /// has `pktinfo` on.
    pub destination: Option<IpAddr>,
    /// When the kernel took it in (its software receive timestamp, on the
    /// CLOCK_REALTIME clock), when the socket has receive timestamps on
    /// ([`crate::BatchSocket::set_rx_timestamps`]).
    pub rx_time: Option<SystemTime>,
}

#[derive(Debug, Clone, Copy)]
struct Segment {
    message: usize,
    offset: usize,
    len: usize,
}

/// Storage for one recvmmsg(2): `messages` kernel messages, each split into
/// its GRO segments after the call.
#[derive(Debug)]
pub struct RecvBatch {
    messages: usize,
    max_datagram: usize,
    /// Bytes per message slot; 0 until the first receive allocates storage.
    slot_len: usize,
    data: Vec<u8>,
    names: Vec<[u8; NAME_LEN]>,
    control: Vec<u8>,
    iovs: IoVecs,
    hdrs: MsgVec,
    sources: Vec<SocketAddr>,
    destinations: Vec<Option<IpAddr>>,
    rx_times: Vec<Option<SystemTime>>,
    segments: Vec<Segment>,
    /// Whether the headers point at the current storage.
    built: bool,
    /// Headers `..dirty` may have been written by the kernel since they
    /// were last reset (the kernel writes only the messages it fills).
    dirty: usize,
}

impl RecvBatch {
    /// Room for `messages` kernel messages of up to `max_datagram` bytes
    /// each (65,535 bytes each when the socket uses GRO). The buffers are
    /// allocated on the first receive, when the socket's capabilities are
    /// known.
    pub fn new(messages: usize, max_datagram: usize) -> RecvBatch {
        let messages = messages.clamp(1, libc::UIO_MAXIOV as usize);
        RecvBatch {
            messages,
            max_datagram: max_datagram.max(1),
            slot_len: 0,
            data: Vec::new(),
            names: Vec::new(),
            control: Vec::new(),
            iovs: IoVecs { iovs: Vec::new() },
            hdrs: MsgVec { msgs: Vec::new() },
            sources: Vec::new(),
            destinations: Vec::new(),
            rx_times: Vec::new(),
            segments: Vec::new(),
            built: false,
            dirty: 0,
        }
    }

    /// Datagrams (GRO segments counted one by one) in the batch.
    pub fn len(&self) -> usize {
        self.segments.len()
    }

    /// Whether the batch holds no datagram.
    pub fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }

    /// Kernel messages the last receive returned (fewer than [`Self::len`]
    /// when GRO coalesced datagrams).
    pub fn message_count(&self) -> usize {
        self.sources.len()
    }

    /// How many kernel messages one receive can take.
    pub fn messages(&self) -> usize {
        self.messages
    }

    /// Empties the batch (storage is kept).
    pub fn clear(&mut self) {
        self.segments.clear();
        self.sources.clear();
        self.destinations.clear();
        self.rx_times.clear();
    }

    /// Datagram `i`: its source, its destination IP (with pktinfo) and its
    /// bytes, mutable in place.
    #[inline]
    pub fn get_mut(&mut self, i: usize) -> Option<Received<'_>> {
        let s = *self.segments.get(i)?;
        Some(Received {
            source: self.sources[s.message],
            destination: self.destinations[s.message],
            rx_time: self.rx_times[s.message],
            data: &mut self.data[s.offset..s.offset + s.len],
        })
    }

    /// Datagram `i`: its source and its bytes.
    pub fn get(&self, i: usize) -> Option<(SocketAddr, &[u8])> {
        let s = *self.segments.get(i)?;
        Some((
            self.sources[s.message],
            &self.data[s.offset..s.offset + s.len],
        ))
    }

    /// The destination IP of datagram `i` (pktinfo sockets only).
    pub fn destination(&self, i: usize) -> Option<IpAddr> {
        let s = self.segments.get(i)?;
        self.destinations[s.message]
    }

    /// Makes sure storage exists for the socket's mode (allocates only the
    /// first time, or once when a batch first meets a GRO socket).
    fn ensure_storage(&mut self, gro: bool) {
        let want = if gro {
            GRO_SLOT.max(self.max_datagram)
        } else {
            self.max_datagram
        };
        if self.slot_len >= want {
            return;
        }
        let n = self.messages;
        self.slot_len = want;
        self.data = vec![0; n * want];
        self.names = vec![[0; NAME_LEN]; n];
        self.control = vec![0; n * RECV_CONTROL];
        self.iovs.iovs = vec![sys::empty_iovec(); n];
        self.hdrs.msgs = vec![sys::empty_mmsghdr(); n];
        self.sources = Vec::with_capacity(n);
        self.destinations = Vec::with_capacity(n);
        self.rx_times = Vec::with_capacity(n);
        let per = if gro { GRO_MAX_SEGMENTS } else { 1 };
        self.segments = Vec::with_capacity(n * per);
        self.built = false;
    }

    /// Clears the batch and readies the message headers for recvmmsg:
    /// built once to point at this batch's storage, then only the fields
    /// the kernel writes (lengths, flags) are reset, and only in the
    /// headers the last receive may have filled. Returns the headers.
    pub(crate) fn prepare(&mut self, gro: bool) -> &mut [libc::mmsghdr] {
        self.ensure_storage(gro);
        self.clear();
        if self.built {
            for h in &mut self.hdrs.msgs[..self.dirty.min(self.messages)] {
                h.msg_len = 0;
                h.msg_hdr.msg_namelen = NAME_LEN as libc::socklen_t;
                h.msg_hdr.msg_controllen = RECV_CONTROL;
                h.msg_hdr.msg_flags = 0;
            }
            // Until `finish` says how many the kernel filled.
            self.dirty = self.messages;
            return &mut self.hdrs.msgs[..self.messages];
        }
        self.built = true;
        self.dirty = self.messages;
        let slot = self.slot_len;
        for i in 0..self.messages {
            let iov = &mut self.iovs.iovs[i];
            iov.iov_base = self.data[i * slot..].as_mut_ptr().cast();
            iov.iov_len = slot;
            let h = &mut self.hdrs.msgs[i];
            h.msg_len = 0;
            h.msg_hdr.msg_name = self.names[i].as_mut_ptr().cast();
            h.msg_hdr.msg_namelen = NAME_LEN as libc::socklen_t;
            h.msg_hdr.msg_iov = iov;
            h.msg_hdr.msg_iovlen = 1;
            h.msg_hdr.msg_control = self.control[i * RECV_CONTROL..].as_mut_ptr().cast();
            h.msg_hdr.msg_controllen = RECV_CONTROL;
            h.msg_hdr.msg_flags = 0;
        }
        &mut self.hdrs.msgs[..self.messages]
    }

    /// Decodes the first `n` messages the kernel filled; returns
    /// (datagrams now in the batch, messages dropped as truncated or
    /// unaddressed).
    pub(crate) fn finish(&mut self, n: usize) -> (usize, usize) {
        self.dirty = n.min(self.messages);
        let slot = self.slot_len;
        let mut dropped = 0;
        for m in 0..n.min(self.messages) {
            let h = &self.hdrs.msgs[m];
            let len = (h.msg_len as usize).min(slot);
            let truncated = h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0;
            let namelen = h.msg_hdr.msg_namelen as usize;
            let controllen = h.msg_hdr.msg_controllen.min(RECV_CONTROL);
            let Some(source) = decode_name(&self.names[m], namelen) else {
                dropped += 1;
                continue;
            };
            if truncated {
                dropped += 1;
                continue;
            }
            let meta = parse_cmsgs(&self.control[m * RECV_CONTROL..m * RECV_CONTROL + controllen]);
            let message = self.sources.len();
            self.sources.push(source);
            self.destinations.push(meta.destination);
            self.rx_times.push(meta.rx_time);
            let base = m * slot;
            let seg = meta.gro_segment;
            if seg == 0 || len <= seg {
                self.segments.push(Segment {
                    message,
                    offset: base,
                    len,
                });
            } else {
                let mut off = 0;
                while off < len {
                    let l = seg.min(len - off);
                    self.segments.push(Segment {
                        message,
                        offset: base + off,
                        len: l,
                    });
                    off += l;
                }
            }
        }
        (self.segments.len(), dropped)
    }
}

// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
struct Queued {
    len: usize,
    destination: SocketAddr,
    source: Option<IpAddr>,
}

/// One kernel message built by [`SendBatch::build_messages`].
/// `(destination, source, i)` packed so that integer order is tuple order,
/// for an IPv4 destination with no or an IPv4 source (`None` otherwise):
/// destination address (32 bits), port (16), source present (1), source
/// address (32), queue index (32).
fn v4_key(q: &Queued, i: usize) -> Option<u128> {
    let SocketAddr::V4(d) = q.destination else {
        return None;
    };
    let (present, src) = match q.source {
        None => (0u128, 0u128),
        Some(IpAddr::V4(a)) => (1, u128::from(u32::from(a))),
        Some(IpAddr::V6(_)) => return None,
    };
    let i = u32::try_from(i).ok()?;
    Some(
        u128::from(u32::from(*d.ip())) << 81
            | u128::from(d.port()) << 65
            | present << 64
            | src << 32
            | u128::from(i),
    )
}

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct MessageInfo {
    /// Position in the send order of its first datagram.
    pub(crate) first: usize,
    /// Datagrams (segments) it carries.
    pub(crate) count: usize,
    /// Whether it carries a UDP_SEGMENT cmsg.
    pub(crate) gso: bool,
}

/// Datagrams queued for one [`crate::BatchSocket::send_batch`]: fixed slots
/// written in place, plus all the message storage sendmmsg(2) needs.
#[derive(Debug)]
pub struct SendBatch {
    slot_len: usize,
    capacity: usize,
    data: Vec<u8>,
    queued: Vec<Queued>,
    order: Vec<usize>,
    /// Packed sort keys (see `v4_key`), preallocated.
    keys: Vec<u128>,
    names: Vec<[u8; NAME_LEN]>,
    control: Vec<u8>,
    iovs: IoVecs,
    hdrs: MsgVec,
    info: Vec<MessageInfo>,
}

impl SendBatch {
    /// `datagrams` slots of `slot_len` bytes each.
    pub fn new(datagrams: usize, slot_len: usize) -> SendBatch {
        let n = datagrams.max(1);
        let slot_len = slot_len.max(1);
        SendBatch {
            slot_len,
            capacity: n,
            data: vec![0; n * slot_len],
            queued: Vec::with_capacity(n),
            order: vec![0; n],
            keys: Vec::with_capacity(n),
            names: vec![[0; NAME_LEN]; n],
            control: vec![0; n * SEND_CONTROL],
            iovs: IoVecs {
                iovs: vec![sys::empty_iovec(); n],
            },
            hdrs: MsgVec {
                msgs: vec![sys::empty_mmsghdr(); n],
            },
            info: vec![MessageInfo::default(); n],
        }
    }

    /// Datagrams queued.
    pub fn len(&self) -> usize {
        self.queued.len()
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.queued.is_empty()
    }

    /// Whether every slot is taken.
    pub fn is_full(&self) -> bool {
        self.queued.len() == self.capacity
    }

    /// Drops every queued datagram.
    pub fn clear(&mut self) {
        self.queued.clear();
    }

    /// How many datagrams the batch holds at most.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Bytes per slot.
    pub fn slot_len(&self) -> usize {
        self.slot_len
    }

    /// The next free slot (`slot_len` bytes) to write a datagram into;
    /// `None` when full.
    pub fn next_buf(&mut self) -> Option<&mut [u8]> {
        let i = self.queued.len();
        if i == self.capacity {
            return None;
        }
        Some(&mut self.data[i * self.slot_len..(i + 1) * self.slot_len])
    }

    /// Queues the datagram written at the start of [`Self::next_buf`]'s
    /// slot. `source`: local IP to send from (pktinfo sockets; `None` = the
    /// kernel's choice).
    ///
    /// Inlined: out of line, the caller passed `source` through its stack,
    /// where only the one-byte `None` tag had just been written, and the
    /// 16-byte reload of it could not forward from that store (a stall per
    /// datagram: `commit` and `drain` were 1.2 % of the forwarding thread
    /// at 100 × 1200 B, 0.55 % after).
    ///
    /// # Panics
    /// When the batch is full or `len` exceeds the slot: both are caller
    /// bugs (check [`Self::is_full`]; size slots for the largest datagram).
    #[inline]
    pub fn commit(&mut self, len: usize, destination: SocketAddr, source: Option<IpAddr>) {
        assert!(!self.is_full(), "SendBatch::commit on a full batch");
        assert!(len <= self.slot_len, "datagram longer than the slot");
        self.queued.push(Queued {
            len,
            destination,
            source,
        });
    }

    /// Copies `data` into the next slot and queues it; false when the batch
    /// is full (or `data` is longer than a slot).
    pub fn push(&mut self, data: &[u8], destination: SocketAddr, source: Option<IpAddr>) -> bool {
        if data.len() > self.slot_len {
            return false;
        }
        match self.next_buf() {
            Some(buf) => {
                buf[..data.len()].copy_from_slice(data);
                self.commit(data.len(), destination, source);
                true
            }
            None => false,
        }
    }

    /// Fixes the send order: queue order, or with GSO grouped by
    /// (destination, source), stable within a group. Sorting a key that
    /// ends in the original index makes the unstable (in-place,
    /// allocation-free) sort stable.
    pub(crate) fn order(&mut self, gso: bool) {
        let n = self.queued.len();
        for (i, o) in self.order[..n].iter_mut().enumerate() {
            *o = i;
        }
        if gso {
            // IPv4 only (the common case): the same order from one packed
            // integer per datagram, much cheaper to sort than comparing
            // (SocketAddr, Option<IpAddr>, usize) tuples.
            self.keys.clear();
            let packed = self.queued.iter().enumerate().map(|(i, q)| v4_key(q, i));
            for k in packed {
                match k {
                    Some(k) => self.keys.push(k),
                    None => {
                        self.keys.clear();
                        break;
                    }
                }
            }
            if self.keys.len() == n {
                self.keys.sort_unstable();
                for (o, k) in self.order[..n].iter_mut().zip(&self.keys) {
                    *o = (*k & u128::from(u32::MAX)) as usize;
                }
            } else {
                let queued = &self.queued;
                self.order[..n].sort_unstable_by_key(|&i| {
                    let q = &queued[i];
                    (q.destination, q.source, i)
                });
            }
        }
    }

    /// Builds the kernel messages for the datagrams at send-order positions
    /// `from..`, into headers `0..`; returns how many messages.
    pub(crate) fn build_messages(&mut self, from: usize, gso: bool, v6_socket: bool) -> usize {
        let n = self.queued.len();
        let slot = self.slot_len;
        let mut pos = from;
        let mut m = 0;
        let mut iov_at = 0;
        while pos < n {
            let first = self.queued[self.order[pos]];
            let mut count = 1;
            let mut total = first.len;
            if gso && first.len > 0 {
                while pos + count < n && count < GSO_MAX_SEGMENTS {
                    let q = self.queued[self.order[pos + count]];
                    if q.destination != first.destination
                        || q.source != first.source
                        || q.len > first.len
                        || q.len == 0
                        || total + q.len > GSO_MAX_BYTES
                    {
                        break;
                    }
                    count += 1;
                    total += q.len;
                    if q.len < first.len {
                        // A shorter datagram can only end a run.
                        break;
                    }
                }
            }
            for k in 0..count {
                let d = self.order[pos + k];
                let iov = &mut self.iovs.iovs[iov_at + k];
                iov.iov_base = self.data[d * slot..].as_mut_ptr().cast();
                iov.iov_len = self.queued[d].len;
            }
            let namelen = encode_name(first.destination, v6_socket, &mut self.names[m]);
            let ctl = &mut self.control[m * SEND_CONTROL..(m + 1) * SEND_CONTROL];
            let mut ctl_len = 0;
            let segmented = count > 1;
            if segmented {
                let seg = (first.len as u16).to_ne_bytes();
                ctl_len += write_cmsg(&mut ctl[ctl_len..], libc::SOL_UDP, sys::UDP_SEGMENT, &seg);
            }
            if let Some(src) = first.source {
                ctl_len += write_source_cmsg(&mut ctl[ctl_len..], src, v6_socket);
            }
            let h = &mut self.hdrs.msgs[m];
            h.msg_len = 0;
            h.msg_hdr.msg_name = self.names[m].as_mut_ptr().cast();
            h.msg_hdr.msg_namelen = namelen;
            h.msg_hdr.msg_iov = self.iovs.iovs[iov_at..].as_mut_ptr();
            h.msg_hdr.msg_iovlen = count;
            h.msg_hdr.msg_control = if ctl_len == 0 {
                std::ptr::null_mut()
            } else {
                ctl.as_mut_ptr().cast()
            };
            h.msg_hdr.msg_controllen = ctl_len;
            h.msg_hdr.msg_flags = 0;
            self.info[m] = MessageInfo {
                first: pos,
                count,
                gso: segmented,
            };
            m += 1;
            iov_at += count;
            pos += count;
        }
        m
    }

    /// Headers `range` of the last [`Self::build_messages`].
    pub(crate) fn headers(&mut self, start: usize, end: usize) -> &mut [libc::mmsghdr] {
        &mut self.hdrs.msgs[start..end]
    }

    /// What message `m` of the last build carries.
    pub(crate) fn info(&self, m: usize) -> MessageInfo {
        self.info[m]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receive_timestamps_decode_from_both_timespec_layouts() {
        let at = SystemTime::UNIX_EPOCH + Duration::new(1_764_633_600, 123_456_789);
        let mut wide = [0u8; 16];
        wide[..8].copy_from_slice(&1_764_633_600i64.to_ne_bytes());
        wide[8..].copy_from_slice(&123_456_789i64.to_ne_bytes());
        assert_eq!(timespec_to_system_time(&wide), Some(at));
        let mut narrow = [0u8; 8];
        narrow[..4].copy_from_slice(&1_764_633_600i32.to_ne_bytes());
        narrow[4..].copy_from_slice(&123_456_789i32.to_ne_bytes());
        assert_eq!(timespec_to_system_time(&narrow), Some(at));
        // Out of range fields and other lengths are no timestamp.
        wide[..8].copy_from_slice(&(-1i64).to_ne_bytes());
        assert_eq!(timespec_to_system_time(&wide), None);
        narrow[4..].copy_from_slice(&1_000_000_000i32.to_ne_bytes());
        assert_eq!(timespec_to_system_time(&narrow), None);
        assert_eq!(timespec_to_system_time(&wide[..12]), None);
        assert_eq!(timespec_to_system_time(&[]), None);
        // And through the cmsg walk, beside a GRO segment size.
        let mut control = [0u8; 2 * CMSG_HDR + 24];
        let mut ts = [0u8; 16];
        ts[..8].copy_from_slice(&1_764_633_600i64.to_ne_bytes());
        ts[8..].copy_from_slice(&123_456_789i64.to_ne_bytes());
        let n = write_cmsg(
            &mut control,
            libc::SOL_UDP,
            sys::UDP_GRO,
            &1200i32.to_ne_bytes(),
        );
        let m = write_cmsg(
            &mut control[n..],
            libc::SOL_SOCKET,
            libc::SCM_TIMESTAMPNS,
            &ts,
        );
        let meta = parse_cmsgs(&control[..n + m]);
        assert_eq!(meta.gro_segment, 1200);
        assert_eq!(meta.rx_time, Some(at));
    }

    #[test]
    fn names_round_trip() {
        let mut b = [0u8; NAME_LEN];
        let a: SocketAddr = "127.0.0.2:4000".parse().unwrap();
        let l = encode_name(a, false, &mut b);
        assert_eq!(decode_name(&b, l as usize), Some(a));
        let l = encode_name(a, true, &mut b);
        assert_eq!(
            decode_name(&b, l as usize),
            Some("[::ffff:127.0.0.2]:4000".parse().unwrap())
        );
        let a6: SocketAddr = "[::1]:9".parse().unwrap();
        let l = encode_name(a6, true, &mut b);
        assert_eq!(decode_name(&b, l as usize), Some(a6));
    }

    #[test]
    fn cmsg_round_trip() {
        let mut buf = [0u8; 128];
        let mut n = write_cmsg(
            &mut buf,
            libc::SOL_UDP,
            sys::UDP_GRO,
            &1200i32.to_ne_bytes(),
        );
        n += write_source_cmsg(&mut buf[n..], "10.0.0.1".parse().unwrap(), false);
        let meta = parse_cmsgs(&buf[..n]);
        assert_eq!(meta.gro_segment, 1200);
        // The send-side in_pktinfo puts the address in spec_dst, so the
        // receive-side parser (which reads ipi_addr) sees 0.0.0.0.
        assert_eq!(meta.destination, Some("0.0.0.0".parse().unwrap()));
    }

    #[test]
    fn packed_v4_order_is_tuple_order() {
        let mut b = SendBatch::new(600, 16);
        let mut rnd = tern_testkit::xorshift64(0x2545_f491_4f6c_dd1du64);
        for _ in 0..500 {
            let x = rnd();
            let ip = Ipv4Addr::new(10, (x >> 8) as u8 % 3, 0, (x >> 16) as u8 % 4);
            let d = SocketAddr::V4(SocketAddrV4::new(ip, 4000 + (x >> 24) as u16 % 3));
            let src = match (x >> 32) % 3 {
                0 => None,
                1 => Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1))),
                _ => Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2))),
            };
            assert!(b.push(&[1], d, src));
        }
        b.order(true);
        let mut want: Vec<usize> = (0..b.len()).collect();
        want.sort_by_key(|&i| (b.queued[i].destination, b.queued[i].source, i));
        assert_eq!(&b.order[..b.len()], &want[..]);
        // With an IPv6 destination the tuple comparison is used.
        assert!(b.push(&[1], "[::1]:9".parse().unwrap(), None));
        b.order(true);
        let mut want: Vec<usize> = (0..b.len()).collect();
        want.sort_by_key(|&i| (b.queued[i].destination, b.queued[i].source, i));
        assert_eq!(&b.order[..b.len()], &want[..]);
    }

    #[test]
    fn gso_runs_are_grouped_and_cut() {
        let mut b = SendBatch::new(300, 1500);
        let a: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let c: SocketAddr = "127.0.0.1:2".parse().unwrap();
        for i in 0..100 {
            let d = if i % 2 == 0 { a } else { c };
            assert!(b.push(&[0; 1000], d, None));
        }
        b.push(&[0; 10], a, None);
        b.order(true);
        let m = b.build_messages(0, true, false);
        // a: 50 + 1 tail -> 1 run of 51 (one message); c: 50 -> one message.
        assert_eq!(m, 2);
        assert_eq!(b.info(0).count, 51);
        assert_eq!(b.info(1).count, 50);
        b.order(false);
        assert_eq!(b.build_messages(0, false, false), 101);
    }
}
