//! The shared set of threads, next to rayon's pool and pariter, in one run:
//! what a call costs when the pipeline is short, nesting a `parallel_map`
//! inside another's closure, and a chain of stages against one fused stage.
//!
//! Workloads (see benches/README.md): `short/<n>` runs `n` items of about
//! 0.5 us each through each shape, time per call; `nesting/<threads>` runs
//! 16 outer items, each an inner stage over 2,000 items of about 0.5 us,
//! with the default thread counts and with 16 threads per level (what a
//! 16-core machine would get); `chain` runs 200,000 items through
//! `off_thread` and three `parallel_map`s of about 0.3 us each, next to one
//! `parallel_map` doing the three in one closure.

mod common;

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rayon::prelude::*;
use threadpipe::ParallelMapOptions;
use threadpipe::prelude::*;

use common::spin;

/// About 0.5 us of arithmetic.
fn half_micro(n: u64) -> u64 {
    spin(n, 500)
}

/// About 0.3 us of arithmetic.
fn third_of_a_micro(n: u64) -> u64 {
    spin(n, 300)
}

fn short(c: &mut Criterion) {
    let mut group = c.benchmark_group("short");
    group
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for items in [10u64, 100, 1000] {
        group.bench_with_input(
            BenchmarkId::new("sequential", items),
            &items,
            |b, &items| b.iter(|| (0..items).map(half_micro).sum::<u64>()),
        );
        group.bench_with_input(
            BenchmarkId::new("rayon_par_bridge", items),
            &items,
            |b, &items| b.iter(|| (0..items).par_bridge().map(half_micro).sum::<u64>()),
        );
        group.bench_with_input(
            BenchmarkId::new("pariter_parallel_map", items),
            &items,
            |b, &items| {
                b.iter(|| pariter::IteratorExt::parallel_map(0..items, half_micro).sum::<u64>())
            },
        );
        group.bench_with_input(
            BenchmarkId::new("threadpipe_off_thread", items),
            &items,
            |b, &items| b.iter(|| (0..items).map(half_micro).off_thread().sum::<u64>()),
        );
        group.bench_with_input(
            BenchmarkId::new("threadpipe_parallel_map", items),
            &items,
            |b, &items| b.iter(|| (0..items).parallel_map(half_micro).sum::<u64>()),
        );
        group.bench_with_input(
            BenchmarkId::new("threadpipe_off_thread_parallel_map", items),
            &items,
            |b, &items| {
                b.iter(|| {
                    (0..items)
                        .off_thread()
                        .parallel_map(half_micro)
                        .sum::<u64>()
                })
            },
        );
    }
    group.finish();
}

/// The nested workload, sequentially: 16 outer items, 2,000 inner ones each.
fn nested_sequential() -> u64 {
    (0..16u64)
        .map(|outer| (0..2000u64).map(|n| half_micro(n ^ outer)).sum::<u64>())
        .sum()
}

fn nesting(c: &mut Criterion) {
    let mut group = c.benchmark_group("nesting");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("sequential", |b| b.iter(nested_sequential));
    for threads in [None, Some(16)] {
        let label = threads.map_or("default".to_owned(), |n| n.to_string());
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.unwrap_or(0))
            .build()
            .expect("a rayon pool");
        group.bench_function(BenchmarkId::new("rayon", &label), |b| {
            b.iter(|| {
                pool.install(|| {
                    (0..16u64)
                        .into_par_iter()
                        .map(|outer| {
                            (0..2000u64)
                                .into_par_iter()
                                .map(|n| half_micro(n ^ outer))
                                .sum::<u64>()
                        })
                        .sum::<u64>()
                })
            })
        });
        let options = match threads {
            Some(threads) => ParallelMapOptions::new().threads(threads),
            None => ParallelMapOptions::new(),
        };
        group.bench_function(BenchmarkId::new("threadpipe", &label), |b| {
            b.iter(|| {
                let inner = options.clone();
                (0..16u64)
                    .parallel_map_with(options.clone(), move |outer| {
                        (0..2000u64)
                            .parallel_map_with(inner.clone(), move |n| half_micro(n ^ outer))
                            .sum::<u64>()
                    })
                    .sum::<u64>()
            })
        });
    }
    group.finish();
}

fn chain(c: &mut Criterion) {
    const ITEMS: u64 = 200_000;
    let mut group = c.benchmark_group("chain");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("sequential", |b| {
        b.iter(|| {
            (0..ITEMS)
                .map(third_of_a_micro)
                .map(third_of_a_micro)
                .map(third_of_a_micro)
                .sum::<u64>()
        })
    });
    group.bench_function("threadpipe_one_fused_parallel_map", |b| {
        b.iter(|| {
            (0..ITEMS)
                .parallel_map(|n| third_of_a_micro(third_of_a_micro(third_of_a_micro(n))))
                .sum::<u64>()
        })
    });
    group.bench_function("threadpipe_off_thread_three_parallel_maps", |b| {
        b.iter(|| {
            (0..ITEMS)
                .off_thread()
                .parallel_map(third_of_a_micro)
                .parallel_map(third_of_a_micro)
                .parallel_map(third_of_a_micro)
                .sum::<u64>()
        })
    });
    group.bench_function("rayon_par_bridge", |b| {
        b.iter(|| {
            (0..ITEMS)
                .par_bridge()
                .map(third_of_a_micro)
                .map(third_of_a_micro)
                .map(third_of_a_micro)
                .sum::<u64>()
        })
    });
    group.finish();
}

criterion_group!(scheduler_benches, short, nesting, chain);
criterion_main!(scheduler_benches);
