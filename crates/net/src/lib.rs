//! tern-net: the sockets on Tern's media path, and the only crate that does
//! I/O there.
//!
//! It owns:
//! - [`BatchSocket`]: a blocking UDP socket that receives with recvmmsg(2)
//!   and sends with sendmmsg(2), many datagrams per system call;
//! - [`RecvBatch`] / [`SendBatch`]: the preallocated storage those calls
//!   use;
//! - [`affinity`]: pinning threads to cores and reading CPU-time clocks;
//! - [`relay`]: the plain UDP relays the SFU is benchmarked against;
//! - [`worker`]: the per-core media workers.
//!
//! Kernel features used (Linux only): recvmmsg(2) with `MSG_WAITFORONE` and
//! socket(7) `SO_RCVTIMEO`; sendmmsg(2); udp(7) `UDP_SEGMENT` (GSO: a run of
//! equal-size datagrams to one destination as one message) and `UDP_GRO`
//! (coalesced receive, split again here); ip(7) `IP_PKTINFO` and ipv6(7)
//! `IPV6_RECVPKTINFO` (per-datagram destination address, chosen source
//! address); socket(7) `SO_REUSEPORT` and `SO_RCVBUF`/`SO_SNDBUF`;
//! sched_setaffinity(2); clock_gettime(2).
//!
//! Zero-allocation contract: once a batch has been used once, receiving and
//! sending allocate nothing. Every `mmsghdr`, `iovec`, cmsg buffer, socket
//! address and data buffer lives in the batch structs and is reused; the
//! pointers the kernel needs are rebuilt from that owned storage on every
//! call, so no structure points into itself between calls.
//!
//! Unsafe policy: the workspace denies `unsafe_code`; only the private
//! `sys` module allows it, for the libc calls themselves, each with a
//! `// SAFETY:` comment. cmsg and socket-address encoding is safe byte
//! arithmetic.

mod affinity;
mod batch;
pub mod relay;
mod sfu_plane;
mod socket;
mod sys;
pub mod worker;

pub use affinity::{
    available_cores, pin_to_core, process_cpu_time, set_timer_slack, thread_cpu_time,
};
pub use batch::{Received, RecvBatch, SendBatch};
pub use relay::{run_relay, FanOut, RelayMode, RelaySnapshot, RelayStats};
pub use sfu_plane::SfuPlane;
pub use socket::{BatchSocket, Caps, SocketConfig, SocketStats};
pub use worker::{Plane, Worker, WorkerConfig, WorkerContext, WorkerGone, WorkerSnapshot};
