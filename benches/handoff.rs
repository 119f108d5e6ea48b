//! Moving items between two threads: threadpipe's `off_thread` next to the
//! hand-offs users write or reach for, in one run.
//!
//! Every variant runs the same chain: a producer makes items (the work named
//! by the group), the consumer folds them (its own work). Peers:
//! - `sequential`: the same chain on one thread, the baseline of every ratio;
//! - `classic_sync_channel`: a spawned thread, one `sync_channel(1024)` send per item;
//! - `crossbeam_bounded`: the same with crossbeam-channel's `bounded(1024)`;
//! - `pariter_readahead`: pariter's `readahead` with a 1024-item buffer;
//! - `rayon_par_bridge`: rayon's `par_bridge` (unordered, so it only sums);
//! - `rtrb_spinning`: a bare rtrb ring of 1024 whose ends spin instead of
//!   ever sleeping, the consumer taking what is ready in chunks: not a usable
//!   channel, but the floor of any per-item hand-off on this machine;
//! - `threadpipe_off_thread` (default, nothing held back) and
//!   `threadpipe_batch_<n>` (opt-in batches of `n` items: 1024 everywhere,
//!   and 65536 for tiny items), and
//!   `threadpipe_off_thread_profiled` (the default with a `Profile`: what
//!   profiling costs when the report is never printed).
//!
//! See benches/README.md for the scenarios and the latest figures.

use std::hint::black_box;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rayon::prelude::*;
use threadpipe::OffThreadOptions;
use threadpipe::prelude::*;

/// About `rounds` * 1 ns of dependent arithmetic the optimiser cannot skip.
fn spin(seed: u64, rounds: u32) -> u64 {
    let mut x = seed;
    for _ in 0..rounds {
        x = black_box(x.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(7));
    }
    x
}

/// One scenario: how to make item `n`, and what the consumer does with it.
#[derive(Clone, Copy)]
struct Scenario<T> {
    items: u64,
    make: fn(u64) -> T,
    consume: fn(&T) -> u64,
    /// The batch sizes to run threadpipe's batch mode with.
    batches: &'static [usize],
}

fn run_all<T: Send + 'static>(c: &mut Criterion, group_name: &str, scenario: Scenario<T>) {
    let Scenario {
        items,
        make,
        consume,
        batches,
    } = scenario;
    let mut group = c.benchmark_group(group_name);
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2))
        .throughput(Throughput::Elements(items));
    let fold = move |total: u64, item: T| total.wrapping_add(consume(&item));
    group.bench_function("sequential", |b| {
        b.iter(|| (0..items).map(make).fold(0, fold))
    });
    group.bench_function("classic_sync_channel", |b| {
        b.iter(|| {
            let channel = mpsc::sync_channel(1024);
            through_channel(items, make, fold, channel, |sender, item| {
                sender.send(item).is_ok()
            })
        })
    });
    group.bench_function("crossbeam_bounded", |b| {
        b.iter(|| {
            let channel = crossbeam_channel::bounded(1024);
            through_channel(items, make, fold, channel, |sender, item| {
                sender.send(item).is_ok()
            })
        })
    });
    group.bench_function("threadpipe_off_thread_profiled", |b| {
        b.iter(|| {
            let profile = threadpipe::Profile::new();
            (0..items)
                .map(make)
                .off_thread_with(OffThreadOptions::new().profile(&profile))
                .fold(0, fold)
        })
    });
    group.bench_function("pariter_readahead", |b| {
        b.iter(|| {
            pariter::IteratorExt::readahead_custom((0..items).map(make), |builder| {
                builder.buffer_size(1024)
            })
            .fold(0, fold)
        })
    });
    group.bench_function("rayon_par_bridge", |b| {
        b.iter(|| {
            (0..items)
                .map(make)
                .par_bridge()
                .map(|item| consume(&item))
                .reduce(|| 0, u64::wrapping_add)
        })
    });
    group.bench_function("rtrb_spinning", |b| {
        b.iter(|| spinning_ring(items, make, fold))
    });
    group.bench_function("threadpipe_off_thread", |b| {
        b.iter(|| (0..items).map(make).off_thread().fold(0, fold))
    });
    for &batch in batches {
        group.bench_function(format!("threadpipe_batch_{batch}"), |b| {
            b.iter(|| {
                (0..items)
                    .map(make)
                    .off_thread_with(OffThreadOptions::new().batch(batch))
                    .fold(0, fold)
            })
        });
    }
    group.finish();
}

/// The hand-written pipeline users write: a spawned producer sending each
/// item through `channel`, the consumer folding what arrives.
fn through_channel<T, S, R>(
    items: u64,
    make: fn(u64) -> T,
    fold: impl Fn(u64, T) -> u64,
    (sender, receiver): (S, R),
    send: impl Fn(&S, T) -> bool + Send + 'static,
) -> u64
where
    T: Send + 'static,
    S: Send + 'static,
    R: IntoIterator<Item = T>,
{
    let producer = thread::spawn(move || {
        for n in 0..items {
            if !send(&sender, make(n)) {
                break;
            }
        }
    });
    let total = receiver.into_iter().fold(0, fold);
    producer.join().unwrap();
    total
}

/// A worker pushing each item into a bare rtrb ring, spinning while it is
/// full; the consumer spinning while it is empty and folding whatever is
/// ready in one chunk. Nothing ever sleeps, so nothing needs waking.
fn spinning_ring<T: Send + 'static>(
    items: u64,
    make: fn(u64) -> T,
    fold: impl Fn(u64, T) -> u64,
) -> u64 {
    let (mut producer, mut consumer) = rtrb::RingBuffer::new(1024);
    let worker = thread::spawn(move || {
        for n in 0..items {
            let mut item = make(n);
            while let Err(rtrb::PushError::Full(back)) = producer.push(item) {
                item = back;
                std::hint::spin_loop();
            }
        }
    });
    let (mut total, mut taken) = (0, 0);
    while taken < items {
        let ready = consumer.slots();
        if ready == 0 {
            std::hint::spin_loop();
            continue;
        }
        let chunk = consumer
            .read_chunk(ready)
            .expect("slots said these are ready");
        total = chunk.into_iter().fold(total, &fold);
        taken += ready as u64;
    }
    worker.join().unwrap();
    total
}

fn tiny(n: u64) -> u64 {
    spin(n, 3)
}

fn bytes<const N: usize>(n: u64) -> Vec<u8> {
    vec![n as u8; N]
}

fn benches(c: &mut Criterion) {
    run_all(
        c,
        "handoff/tiny_u64",
        Scenario {
            items: 2_000_000,
            make: tiny,
            consume: |&x| x,
            // 64 Ki items (512 KiB) per batch: larger than a core's share of
            // L2 here, see benches/README.md.
            batches: &[1024, 65536],
        },
    );
    run_all(
        c,
        "handoff/bytes_1KiB",
        Scenario {
            items: 100_000,
            make: bytes::<1024>,
            consume: |v| v[7] as u64,
            batches: &[1024],
        },
    );
    run_all(
        c,
        "handoff/bytes_64KiB",
        Scenario {
            items: 5_000,
            make: bytes::<65536>,
            consume: |v| v[7] as u64,
            batches: &[1024],
        },
    );
    run_all(
        c,
        "handoff/slow_consumer",
        Scenario {
            items: 20_000,
            make: tiny,
            consume: |&x| spin(x, 1000),
            batches: &[1024],
        },
    );
    run_all(
        c,
        "handoff/slow_producer",
        Scenario {
            items: 20_000,
            make: |n| spin(n, 1000),
            consume: |&x| x,
            batches: &[1024],
        },
    );
    run_all(
        c,
        "handoff/balanced_1us_1us",
        Scenario {
            items: 20_000,
            make: |n| spin(n, 1000),
            consume: |&x| spin(x, 1000),
            batches: &[1024],
        },
    );
}

criterion_group!(handoff_benches, benches);
criterion_main!(handoff_benches);
