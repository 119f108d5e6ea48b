//! What idle threads cost: a source that yields an item every 200 us, 2,000
//! items, through `parallel_map` (default threads, and `threads(8)`) and
//! `off_thread`, next to the sequential chain and rayon's `par_bridge`, in
//! one run. Prints the CPU time each used (the process's, all threads
//! included) and the wall time; not a criterion bench, since what it
//! measures is not speed. Median of five rounds each.
//!
//!     cargo bench --bench idle

use std::time::{Duration, Instant};

use rayon::prelude::*;
use threadpipe::ParallelMapOptions;
use threadpipe::prelude::*;

const ITEMS: u64 = 2000;
const GAP: Duration = Duration::from_micros(200);
const ROUNDS: usize = 5;

/// The process's CPU time so far, every thread's, those gone included.
fn cpu() -> Duration {
    let spent = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Duration::new(spent.tv_sec as u64, spent.tv_nsec as u32)
}

/// A source that yields an item every [`GAP`]: a socket, a sensor, a log.
fn trickle() -> impl Iterator<Item = u64> + Send + 'static {
    (0..ITEMS).inspect(|_| std::thread::sleep(GAP))
}

/// A little work per item.
fn work(n: u64) -> u64 {
    (0..100).fold(n, |acc, k| acc.wrapping_mul(31).wrapping_add(k))
}

fn measure(name: &str, run: impl Fn() -> u64) {
    let mut rounds: Vec<(Duration, Duration)> = (0..ROUNDS)
        .map(|_| {
            let (cpu_before, wall_before) = (cpu(), Instant::now());
            std::hint::black_box(run());
            (cpu() - cpu_before, wall_before.elapsed())
        })
        .collect();
    rounds.sort();
    let (cpu, wall) = rounds[ROUNDS / 2];
    println!(
        "| {name} | {:.3} s | {:.3} s | {:.0}% |",
        cpu.as_secs_f64(),
        wall.as_secs_f64(),
        100.0 * cpu.as_secs_f64() / wall.as_secs_f64()
    );
}

fn main() {
    // `cargo bench` passes `--bench`; nothing here is filtered.
    println!("| variant | CPU | wall | CPU / wall |");
    println!("|---|---:|---:|---:|");
    measure("sequential", || trickle().map(work).sum());
    measure("rayon_par_bridge", || {
        trickle().par_bridge().map(work).sum()
    });
    measure("threadpipe_off_thread", || {
        trickle().off_thread().map(work).sum()
    });
    measure("threadpipe_parallel_map", || {
        trickle().parallel_map(work).sum()
    });
    measure("threadpipe_parallel_map_threads_8", || {
        trickle()
            .parallel_map_with(ParallelMapOptions::new().threads(8), work)
            .sum()
    });
}
