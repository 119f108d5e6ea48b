//! How many threads nesting makes and keeps busy: a binary of its own,
//! since it counts the process's threads.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::watchdog;
use threadpipe::ParallelMapOptions;
use threadpipe::prelude::*;

fn threads_now() -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .count()
}

/// About `micros` microseconds of busy work.
fn busy(micros: u64) {
    let until = std::time::Instant::now() + std::time::Duration::from_micros(micros);
    while std::time::Instant::now() < until {
        std::hint::spin_loop();
    }
}

#[test]
fn nesting_makes_few_threads_and_keeps_the_busy_ones_to_the_cores() {
    let _watchdog = watchdog();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let before = threads_now();
    let inside = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(before));
    for _ in 0..5 {
        // 16 threads per level, as a 16-core machine would ask for.
        let options = ParallelMapOptions::new().threads(16);
        let (inner, inside, most, peak) = (
            options.clone(),
            Arc::clone(&inside),
            Arc::clone(&most),
            Arc::clone(&peak),
        );
        let total: u64 = (0..16u64)
            .parallel_map_with(options, move |outer| {
                let (inside, most, peak) =
                    (Arc::clone(&inside), Arc::clone(&most), Arc::clone(&peak));
                (0..200u64)
                    .parallel_map_with(inner.clone(), move |n| {
                        if n % 50 == 0 {
                            peak.fetch_max(threads_now(), Ordering::SeqCst);
                        }
                        // Only the set's threads count: the consumer's is
                        // the program's own.
                        let counted = threadpipe::current_stage_name().is_some();
                        if counted {
                            let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                        }
                        busy(20);
                        if counted {
                            inside.fetch_sub(1, Ordering::SeqCst);
                        }
                        n ^ outer
                    })
                    .sum::<u64>()
            })
            .sum();
        assert_eq!(
            total,
            (0..16u64)
                .map(|o| (0..200u64).map(|n| n ^ o).sum::<u64>())
                .sum()
        );
    }
    let made = peak.load(Ordering::SeqCst) - before;
    // A thread per core, a few that wait for a seat, and the monitor; never
    // a thread per stage (16 x 16 of them).
    assert!(made <= 20, "{made} threads made");
    let most = most.load(Ordering::SeqCst);
    assert!(
        most <= cores,
        "{most} of the set's threads busy at once on {cores} cores"
    );
}
