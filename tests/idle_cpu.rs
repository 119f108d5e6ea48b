//! What idle threads cost: a source that trickles items uses about the CPU
//! a sequential chain would, not a core per idle thread. A binary of its
//! own, since it measures the whole process's CPU time.

mod common;

use std::time::{Duration, Instant};

use common::watchdog;
use threadpipe::ParallelMapOptions;
use threadpipe::prelude::*;

/// The process's CPU time so far, every thread's, those gone included.
fn cpu() -> Duration {
    let spent = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Duration::new(spent.tv_sec as u64, spent.tv_nsec as u32)
}

#[test]
fn cpu_used_on_a_trickling_source_stays_bounded() {
    let _watchdog = watchdog();
    for threads in [None, Some(8)] {
        let options = match threads {
            Some(threads) => ParallelMapOptions::new().threads(threads),
            None => ParallelMapOptions::new(),
        };
        // An item every 200 us: a socket, a sensor, a log being written.
        let trickle = (0..1_000u64).inspect(|_| std::thread::sleep(Duration::from_micros(200)));
        let (cpu_before, wall_before) = (cpu(), Instant::now());
        let total: u64 = trickle.parallel_map_with(options, |n| n * 2).sum();
        let (cpu_used, wall) = (cpu() - cpu_before, wall_before.elapsed());
        assert_eq!(total, 999_000);
        // Threads that spun while they waited would use a core each, for
        // the whole run (more than 100% of the wall time); these sleep.
        assert!(
            cpu_used < wall / 2,
            "threads {threads:?}: {cpu_used:?} of CPU in {wall:?}"
        );
    }
}
