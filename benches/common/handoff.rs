//! The hand-off scenarios of `benches/handoff.rs`, shared with
//! `benches/handoff_mimalloc.rs`, which runs the heap-item ones again with
//! another global allocator.

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use criterion::{Criterion, Throughput};
use rayon::prelude::*;
use threadpipe::OffThreadOptions;
use threadpipe::prelude::*;

/// One scenario: how to make item `n`, and what the consumer does with it.
#[derive(Clone, Copy)]
pub struct Scenario<T> {
    pub items: u64,
    pub make: fn(u64) -> T,
    pub consume: fn(&T) -> u64,
    /// The batch sizes to run threadpipe's batch mode with.
    pub batches: &'static [usize],
}

pub fn run_all<T: Send + 'static>(c: &mut Criterion, group_name: &str, scenario: Scenario<T>) {
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
    group.bench_function("classic_batched", |b| {
        b.iter(|| batched_through_sync_channel(items, make, fold))
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

/// The hand-made batching: a spawned producer filling `Vec`s of 1024
/// items and sending each full one (and the last) over a `sync_channel(4)`.
fn batched_through_sync_channel<T: Send + 'static>(
    items: u64,
    make: fn(u64) -> T,
    fold: impl Fn(u64, T) -> u64,
) -> u64 {
    const BATCH: usize = 1024;
    let (sender, receiver) = mpsc::sync_channel::<Vec<T>>(4);
    let producer = thread::spawn(move || {
        let mut batch = Vec::with_capacity(BATCH);
        for n in 0..items {
            batch.push(make(n));
            if batch.len() == BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                if sender.send(full).is_err() {
                    return;
                }
            }
        }
        let _ = sender.send(batch);
    });
    let total = receiver.into_iter().flatten().fold(0, fold);
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

/// A fresh `N`-byte vector, as a reader making buffers would.
pub fn bytes<const N: usize>(n: u64) -> Vec<u8> {
    vec![n as u8; N]
}

/// The heap-item groups: a fresh vector per item, which the consumer reads
/// one byte of and frees. `prefix` names the allocator in use.
pub fn heap_items(c: &mut Criterion, prefix: &str) {
    // A `Scenario`'s `consume` takes `&T`, here `&Vec<u8>`.
    #[allow(clippy::ptr_arg)]
    fn read(v: &Vec<u8>) -> u64 {
        v[v.len() / 2] as u64
    }
    let group = |size: &str| format!("{prefix}/heap_{size}");
    let scenario = |items, make| Scenario {
        items,
        make,
        consume: read,
        batches: &[],
    };
    run_all(c, &group("16B"), scenario(1_000_000, bytes::<16>));
    run_all(c, &group("64B"), scenario(1_000_000, bytes::<64>));
    run_all(c, &group("1KiB"), scenario(200_000, bytes::<1024>));
    run_all(c, &group("16KiB"), scenario(20_000, bytes::<16384>));
}
