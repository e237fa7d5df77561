//! The thin layer of raw Linux calls: the only module of `tern-net` that uses
//! `unsafe`.
//!
//! Every function here wraps one libc call (setsockopt(2)/getsockopt(2),
//! recvmmsg(2), sendmmsg(2), sched_setaffinity(2), clock_gettime(2)) and turns
//! its result into an `io::Result`. The message arrays handed to the kernel
//! are built by safe code in `batch.rs` (creating raw pointers is safe; only
//! the kernel dereferences them, inside the calls below).
#![allow(unsafe_code)]

use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

/// `SO_RCVBUFFORCE` (socket(7)): like `SO_RCVBUF` but may exceed
/// `rmem_max` when the caller has `CAP_NET_ADMIN`.
pub(crate) const SO_RCVBUFFORCE: libc::c_int = 33;
/// `SO_SNDBUFFORCE` (socket(7)).
pub(crate) const SO_SNDBUFFORCE: libc::c_int = 32;
/// `UDP_SEGMENT` (udp(7)): GSO segment size, as a socket option or a cmsg.
pub(crate) const UDP_SEGMENT: libc::c_int = 103;
/// `UDP_GRO` (udp(7)): receive coalesced datagrams; the cmsg gives the
/// segment size.
pub(crate) const UDP_GRO: libc::c_int = 104;

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// setsockopt(2) with an `int` value.
pub(crate) fn set_int(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: `value` is a live `c_int` on the stack and the length passed is
    // exactly its size; the kernel only reads it during the call.
    let r = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    cvt(r).map(drop)
}

/// getsockopt(2) of an `int` option.
pub(crate) fn get_int(fd: RawFd, level: libc::c_int, name: libc::c_int) -> io::Result<libc::c_int> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `value` and `len` are live locals; `len` tells the kernel how
    // many bytes it may write into `value`.
    let r = unsafe {
        libc::getsockopt(
            fd,
            level,
            name,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    cvt(r).map(|_| value)
}

/// Sets `SO_RCVTIMEO`; `None` or a zero duration means "block forever".
pub(crate) fn set_recv_timeout(fd: RawFd, timeout: Option<Duration>) -> io::Result<()> {
    let tv = match timeout {
        None => libc::timeval {
            tv_sec: 0,
            tv_usec: 0,
        },
        Some(d) => {
            let secs = d.as_secs().min(libc::time_t::MAX as u64) as libc::time_t;
            let mut usec = d.subsec_micros() as libc::suseconds_t;
            if secs == 0 && usec == 0 {
                // A zero timeval means "no timeout"; round up instead.
                usec = 1;
            }
            libc::timeval {
                tv_sec: secs,
                tv_usec: usec,
            }
        }
    };
    // SAFETY: `tv` is a live `timeval` and the length passed is its size.
    let r = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&tv as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    cvt(r).map(drop)
}

/// The message headers handed to recvmmsg/sendmmsg, owned and reused.
///
/// The raw pointers inside are rebuilt from the batch's owned storage right
/// before every call and are never dereferenced by Rust code, which is why
/// the array may move between threads with its batch.
pub(crate) struct MsgVec {
    pub(crate) msgs: Vec<libc::mmsghdr>,
}

// SAFETY: the pointers in `msgs` are plain addresses that Rust code never
// dereferences; they are overwritten before each syscall from storage owned
// by the same batch (which is itself `Send`), so sending the array to
// another thread cannot create shared access to anything.
unsafe impl Send for MsgVec {}

impl std::fmt::Debug for MsgVec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MsgVec")
            .field("capacity", &self.msgs.len())
            .finish()
    }
}

/// An empty message header (all pointers null, all lengths zero).
pub(crate) fn empty_mmsghdr() -> libc::mmsghdr {
    libc::mmsghdr {
        msg_hdr: libc::msghdr {
            msg_name: std::ptr::null_mut(),
            msg_namelen: 0,
            msg_iov: std::ptr::null_mut(),
            msg_iovlen: 0,
            msg_control: std::ptr::null_mut(),
            msg_controllen: 0,
            msg_flags: 0,
        },
        msg_len: 0,
    }
}

/// The owned iovec array of a batch; see [`MsgVec`] for why it is `Send`.
pub(crate) struct IoVecs {
    pub(crate) iovs: Vec<libc::iovec>,
}

// SAFETY: as for `MsgVec`: addresses rebuilt before each call, never
// dereferenced by Rust code.
unsafe impl Send for IoVecs {}

impl std::fmt::Debug for IoVecs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IoVecs")
            .field("capacity", &self.iovs.len())
            .finish()
    }
}

/// An empty iovec.
pub(crate) fn empty_iovec() -> libc::iovec {
    libc::iovec {
        iov_base: std::ptr::null_mut(),
        iov_len: 0,
    }
}

/// recvmmsg(2) into `msgs`, with no kernel-side timeout (the socket's
/// `SO_RCVTIMEO` bounds the wait for the first datagram).
///
/// # Contract
/// Every header in `msgs` must point at live, writable storage of the
/// lengths it states (name, iovecs and their buffers, control); `batch.rs`
/// builds them from storage it owns and does not touch until this returns.
pub(crate) fn recvmmsg(
    fd: RawFd,
    msgs: &mut [libc::mmsghdr],
    flags: libc::c_int,
) -> io::Result<usize> {
    let vlen = msgs.len().min(libc::UIO_MAXIOV as usize) as libc::c_uint;
    // SAFETY: `msgs` is a live, exclusively borrowed array of `vlen` headers
    // whose pointers, per this function's contract, reference writable
    // storage of the stated lengths that outlives the call.
    let r = unsafe { libc::recvmmsg(fd, msgs.as_mut_ptr(), vlen, flags, std::ptr::null_mut()) };
    cvt(r).map(|n| n as usize)
}

/// sendmmsg(2) of `msgs`; returns how many messages the kernel took.
///
/// # Contract
/// As for [`recvmmsg`], with readable storage.
pub(crate) fn sendmmsg(fd: RawFd, msgs: &mut [libc::mmsghdr]) -> io::Result<usize> {
    let vlen = msgs.len().min(libc::UIO_MAXIOV as usize) as libc::c_uint;
    // SAFETY: `msgs` is a live array of `vlen` headers whose pointers, per
    // this function's contract, reference readable storage of the stated
    // lengths that outlives the call.
    let r = unsafe { libc::sendmmsg(fd, msgs.as_mut_ptr(), vlen, 0) };
    cvt(r).map(|n| n as usize)
}

fn empty_cpu_set() -> libc::cpu_set_t {
    // SAFETY: `cpu_set_t` is a plain bit array for which all-zero bytes is
    // the valid empty set.
    unsafe { std::mem::zeroed() }
}

/// The CPUs the process (its main thread) may run on, in ascending order,
/// written into `out`; returns how many.
pub(crate) fn allowed_cpus(out: &mut [usize]) -> io::Result<usize> {
    let mut set = empty_cpu_set();
    // SAFETY: `set` is a live `cpu_set_t` and the size passed is its size.
    // getpid() names the main thread, whose mask is the process's.
    let r = unsafe {
        libc::sched_getaffinity(
            libc::getpid(),
            std::mem::size_of::<libc::cpu_set_t>(),
            &mut set,
        )
    };
    cvt(r)?;
    let mut n = 0;
    for cpu in 0..libc::CPU_SETSIZE as usize {
        // SAFETY: `cpu` < CPU_SETSIZE, so the bit lies inside `set`.
        if unsafe { libc::CPU_ISSET(cpu, &set) } {
            if n < out.len() {
                out[n] = cpu;
            }
            n += 1;
        }
    }
    Ok(n.min(out.len()))
}

/// Pins the calling thread to one CPU (sched_setaffinity(2) with tid 0).
pub(crate) fn pin_current_thread(cpu: usize) -> io::Result<()> {
    if cpu >= libc::CPU_SETSIZE as usize {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    let mut set = empty_cpu_set();
    // SAFETY: `cpu` < CPU_SETSIZE was checked above, so the bit lies
    // inside `set`.
    unsafe { libc::CPU_SET(cpu, &mut set) };
    // SAFETY: `set` is a live `cpu_set_t`, the size passed is its size, and
    // pid 0 means the calling thread.
    let r = unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) };
    cvt(r).map(drop)
}

/// prctl(2) `PR_SET_TIMERSLACK` for the calling thread.
pub(crate) fn set_timer_slack(ns: libc::c_ulong) -> io::Result<()> {
    // SAFETY: PR_SET_TIMERSLACK takes one integer argument and touches no
    // memory of ours; the unused arguments are zero as prctl(2) asks.
    let r = unsafe {
        libc::prctl(
            libc::PR_SET_TIMERSLACK,
            ns,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    };
    cvt(r).map(drop)
}

/// clock_gettime(2) of `clock` as a duration.
pub(crate) fn clock(clock: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a live `timespec` the kernel writes into.
    let r = unsafe { libc::clock_gettime(clock, &mut ts) };
    if r != 0 {
        return Duration::ZERO;
    }
    Duration::new(
        ts.tv_sec.max(0) as u64,
        ts.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}
