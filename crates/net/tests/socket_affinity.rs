//! Thread pinning and CPU-time clocks used by workers and `tern bench`.

use std::thread;
use std::time::{Duration, Instant};

use tern_net::{available_cores, pin_to_core, process_cpu_time, thread_cpu_time};

#[test]
fn pinning_and_cpu_clocks() {
    let cores = available_cores();
    assert!(cores >= 1);
    let last = cores - 1;
    thread::spawn(move || {
        pin_to_core(last).expect("pin to an allowed core");
        // Indexes wrap around the allowed set.
        pin_to_core(last + cores).expect("pin wraps");
        let before = thread_cpu_time();
        let start = Instant::now();
        let mut x = 0u64;
        while start.elapsed() < Duration::from_millis(20) {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        }
        assert!(thread_cpu_time() > before);
        assert!(process_cpu_time() >= thread_cpu_time());
    })
    .join()
    .unwrap();
}

/// The calling thread's timer slack as the kernel reports it
/// (/proc/TID/timerslack_ns; TID from the /proc/thread-self link).
fn timer_slack_ns() -> u64 {
    let link = std::fs::read_link("/proc/thread-self").expect("/proc/thread-self");
    let tid = link.file_name().unwrap().to_str().unwrap().to_owned();
    let s = std::fs::read_to_string(format!("/proc/{tid}/timerslack_ns")).expect("timerslack_ns");
    s.trim().parse().unwrap()
}

#[test]
fn timer_slack_is_set_for_the_calling_thread_only() {
    thread::spawn(|| {
        let before = timer_slack_ns();
        tern_net::set_timer_slack(Duration::from_micros(1)).expect("set timer slack");
        assert_eq!(timer_slack_ns(), 1000);
        // Zero would mean "the default" to the kernel: clamped to 1 ns.
        tern_net::set_timer_slack(Duration::ZERO).expect("set timer slack");
        assert_eq!(timer_slack_ns(), 1);
        thread::spawn(move || {
            // A thread inherits its creator's slack.
            assert_eq!(timer_slack_ns(), 1);
        })
        .join()
        .unwrap();
        assert!(before > 1);
    })
    .join()
    .unwrap();
    // The test harness thread that spawned the one above kept its own.
    assert!(timer_slack_ns() > 1);
}
