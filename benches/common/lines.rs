//! The lines scenario of `benches/lines.rs`, shared with
//! `benches/lines_mimalloc.rs`, which runs it again with another global
//! allocator.

use std::collections::hash_map::DefaultHasher;
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::time::Duration;

use criterion::Criterion;
use rayon::prelude::*;
use threadpipe::ParallelMapOptions;
use threadpipe::prelude::*;

pub fn lines(path: &Path) -> impl Iterator<Item = String> + Send + 'static {
    let file = File::open(path).expect("open the bench file");
    BufReader::new(file)
        .lines()
        .map(|line| line.expect("the bench file is UTF-8"))
}

pub fn light(line: String) -> u64 {
    line.split_whitespace().count() as u64
}

pub fn heavy(line: String) -> u64 {
    line.split_whitespace()
        .map(|word| {
            (0..36u64).fold(0, |acc, seed| {
                let mut hasher = DefaultHasher::new();
                (seed, word).hash(&mut hasher);
                acc ^ hasher.finish()
            })
        })
        .fold(0, u64::wrapping_add)
}

pub fn run_all(c: &mut Criterion, group_name: &str, path: &Path, work: fn(String) -> u64) {
    let mut group = c.benchmark_group(group_name);
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    group.bench_function("sequential", |b| {
        b.iter(|| lines(path).map(work).fold(0, u64::wrapping_add))
    });
    group.bench_function("threadpipe_off_thread_parallel_map", |b| {
        b.iter(|| {
            lines(path)
                .off_thread()
                .parallel_map(work)
                .fold(0, u64::wrapping_add)
        })
    });
    // The README's shape with a small window: the two stages then trade
    // items a few at a time (see `DEFAULT_WINDOW`).
    group.bench_function("threadpipe_off_thread_parallel_map_window_64", |b| {
        b.iter(|| {
            lines(path)
                .off_thread()
                .parallel_map_with(ParallelMapOptions::new().window(64), work)
                .fold(0, u64::wrapping_add)
        })
    });
    group.bench_function("threadpipe_parallel_map", |b| {
        b.iter(|| lines(path).parallel_map(work).fold(0, u64::wrapping_add))
    });
    group.bench_function("rayon_par_bridge", |b| {
        b.iter(|| {
            lines(path)
                .par_bridge()
                .map(work)
                .reduce(|| 0, u64::wrapping_add)
        })
    });
    group.bench_function("rayon_collect_par_iter", |b| {
        b.iter(|| {
            let all: Vec<String> = lines(path).collect();
            all.into_par_iter()
                .map(work)
                .reduce(|| 0, u64::wrapping_add)
        })
    });
    group.finish();
}
