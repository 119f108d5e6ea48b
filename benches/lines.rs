//! The README's chain on the lines of a real file: threadpipe's two shapes
//! next to rayon's, in one run.
//!
//! Every variant reads a 50 MB text file (made once, see `common`) line by
//! line and sums `work(line)` over its lines:
//! - `sequential`: `lines.map(work).sum()` on one thread, the baseline;
//! - `threadpipe_off_thread_parallel_map`: `lines.off_thread().parallel_map(work).sum()`,
//!   the README's shape (reading on its own thread);
//! - `threadpipe_parallel_map`: `lines.parallel_map(work).sum()`;
//! - `rayon_par_bridge`: `lines.par_bridge().map(work).sum()` (unordered);
//! - `rayon_collect_par_iter`: every line collected into a `Vec` first (the
//!   whole file in memory), then `par_iter().map(work).sum()`.
//!
//! Two kinds of work per line: `light` counts its words (well under a
//! microsecond), `heavy` hashes every word 36 times (a few
//! microseconds). See benches/README.md for the figures.

mod common;

use std::collections::hash_map::DefaultHasher;
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use rayon::prelude::*;
use threadpipe::prelude::*;

fn lines(path: &Path) -> impl Iterator<Item = String> + Send + 'static {
    let file = File::open(path).expect("open the bench file");
    BufReader::new(file)
        .lines()
        .map(|line| line.expect("the bench file is UTF-8"))
}

fn light(line: String) -> u64 {
    line.split_whitespace().count() as u64
}

fn heavy(line: String) -> u64 {
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

fn run_all(c: &mut Criterion, group_name: &str, path: &Path, work: fn(String) -> u64) {
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

fn benches(c: &mut Criterion) {
    let path = common::text_file(50);
    run_all(c, "lines/light", &path, light);
    run_all(c, "lines/heavy", &path, heavy);
}

criterion_group!(lines_benches, benches);
criterion_main!(lines_benches);
