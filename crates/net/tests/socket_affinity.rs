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
