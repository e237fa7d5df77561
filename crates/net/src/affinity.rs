//! Thread placement and CPU-time clocks for workers and benchmarks.
//!
//! Kernel features: sched_setaffinity(2) / sched_getaffinity(2),
//! clock_gettime(2) with `CLOCK_THREAD_CPUTIME_ID` and
//! `CLOCK_PROCESS_CPUTIME_ID`, and prctl(2) `PR_SET_TIMERSLACK`.

use std::io;
use std::time::Duration;

use crate::sys;

/// Largest CPU set we look at (the kernel's `CPU_SETSIZE`).
const MAX_CPUS: usize = 1024;

/// Pins the calling thread to one CPU.
///
/// `core` indexes the CPUs this process may run on (the main thread's
/// affinity mask, in ascending order), wrapping around, so `0..available_cores()`
/// names distinct CPUs even inside a restricted cpuset.
pub fn pin_to_core(core: usize) -> io::Result<()> {
    let mut cpus = [0usize; MAX_CPUS];
    let n = sys::allowed_cpus(&mut cpus)?;
    if n == 0 {
        return Err(io::Error::other("no CPU in the affinity mask"));
    }
    sys::pin_current_thread(cpus[core % n])
}

/// Sets the calling thread's timer slack: how late the kernel may wake a
/// sleep (50 µs by default for normal threads), for a pacer whose gaps are
/// tens of microseconds. 1 ns is the smallest (0 would mean "the default").
pub fn set_timer_slack(slack: Duration) -> io::Result<()> {
    let ns = slack.as_nanos().clamp(1, u128::from(u32::MAX)) as libc::c_ulong;
    sys::set_timer_slack(ns)
}

/// How many CPUs this process may run on (at least 1).
pub fn available_cores() -> usize {
    let mut cpus = [0usize; MAX_CPUS];
    match sys::allowed_cpus(&mut cpus) {
        Ok(n) if n > 0 => n,
        _ => std::thread::available_parallelism().map_or(1, |n| n.get()),
    }
}

/// CPU time the calling thread has used (`CLOCK_THREAD_CPUTIME_ID`).
pub fn thread_cpu_time() -> Duration {
    sys::clock(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// CPU time the whole process has used (`CLOCK_PROCESS_CPUTIME_ID`).
pub fn process_cpu_time() -> Duration {
    sys::clock(libc::CLOCK_PROCESS_CPUTIME_ID)
}
