//! `parallel_map` next to its peers, in one run: rayon's indexed `par_iter`,
//! rayon's `par_bridge`, pariter's `parallel_map`, and the sequential `map`;
//! and `parallel_map` with one worker per core, next to the default.
//!
//! Workloads (see benches/README.md): Mandelbrot rows (very uneven work per
//! item), uniform ~20 µs items, small ~1 µs items, and a short job of
//! uneven items (~4 ms in all). Every variant produces
//! the same ordered `Vec` (par_bridge, which does not keep order, sums).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use rayon::prelude::*;
use threadpipe::ParallelMapOptions;
use threadpipe::prelude::*;

const WIDTH: usize = 1200;
const HEIGHT: usize = 900;

/// Escape-time counts for one row of the classic Mandelbrot picture.
fn mandelbrot_row(row: usize) -> Vec<u8> {
    let (left, right, top, bottom) = (-1.20, -1.0, 0.35, 0.20);
    let im = top - (top - bottom) * row as f64 / HEIGHT as f64;
    (0..WIDTH)
        .map(|column| {
            let re = left + (right - left) * column as f64 / WIDTH as f64;
            let (mut x, mut y) = (0.0f64, 0.0f64);
            for count in 0..255u8 {
                if x * x + y * y > 4.0 {
                    return count;
                }
                (x, y) = (x * x - y * y + re, 2.0 * x * y + im);
            }
            255
        })
        .collect()
}

/// About `rounds` * 5 ns of arithmetic that the optimiser cannot skip.
fn spin(seed: u64, rounds: u64) -> u64 {
    let mut x = seed;
    for _ in 0..rounds {
        x = black_box(
            x.wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407),
        );
    }
    x
}

fn workload(c: &mut Criterion, group_name: &str, items: usize, work: fn(usize) -> u64) {
    let mut group = c.benchmark_group(group_name);
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("sequential", |b| {
        b.iter(|| (0..items).map(work).collect::<Vec<_>>())
    });
    group.bench_function("threadpipe_parallel_map", |b| {
        b.iter(|| ParallelMapExt::parallel_map(0..items, work).collect::<Vec<_>>())
    });
    // One worker per core, next to the default (one fewer, the consumer
    // helping): why the default is what it is.
    let per_core = std::thread::available_parallelism().map_or(1, usize::from);
    let per_core = ParallelMapOptions::new().threads(per_core);
    group.bench_function("threadpipe_parallel_map_worker_per_core", |b| {
        b.iter(|| {
            ParallelMapExt::parallel_map_with(0..items, per_core.clone(), work).collect::<Vec<_>>()
        })
    });
    group.bench_function("rayon_par_iter", |b| {
        b.iter(|| (0..items).into_par_iter().map(work).collect::<Vec<_>>())
    });
    group.bench_function("rayon_par_bridge_sum", |b| {
        b.iter(|| (0..items).par_bridge().map(work).sum::<u64>())
    });
    group.bench_function("pariter_parallel_map", |b| {
        b.iter(|| pariter::IteratorExt::parallel_map(0..items, work).collect::<Vec<_>>())
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    workload(c, "parallel_map/mandelbrot_rows", HEIGHT, |row| {
        mandelbrot_row(row).iter().map(|&n| n as u64).sum()
    });
    workload(c, "parallel_map/uniform_20us", 2000, |n| {
        spin(n as u64, 18_000)
    });
    workload(c, "parallel_map/small_1us", 20_000, |n| spin(n as u64, 900));
    // A short job: 2,000 items from about 0.2 to 4 us (skewed, as real work
    // is), about 4 ms in all on one core; does it use every core at all?
    workload(c, "parallel_map/short_uneven_4ms", 2000, |n| {
        let skew = (n * 7919) % 2000;
        spin(n as u64, 200 + (skew * skew / 1000) as u64)
    });
}

criterion_group!(parallel_map_benches, benches);
criterion_main!(parallel_map_benches);
