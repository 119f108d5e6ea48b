//! Moving items between two threads: threadpipe's `off_thread` next to the
//! hand-offs users write or reach for, in one run.
//!
//! Every variant runs the same chain: a producer makes items (the work named
//! by the group), the consumer folds them (its own work). Peers:
//! - `sequential`: the same chain on one thread, the baseline of every ratio;
//! - `classic_sync_channel`: a spawned thread, one `sync_channel(1024)` send per item;
//! - `classic_batched`: the same thread sending `Vec`s of 1024 items over a
//!   `sync_channel(4)`, the hand-made batching users reach for (items wait
//!   for their batch to fill);
//! - `crossbeam_bounded`: one send per item through crossbeam-channel's `bounded(1024)`;
//! - `pariter_readahead`: pariter's `readahead` with a 1024-item buffer;
//! - `rayon_par_bridge`: rayon's `par_bridge` (unordered, so it only sums);
//! - `rtrb_spinning`: a bare rtrb ring of 1024 whose ends spin instead of
//!   ever sleeping, the consumer taking what is ready in chunks: not a usable
//!   channel, but the floor of any per-item hand-off on this machine;
//! - `threadpipe_off_thread` (default, nothing held back) and
//!   `threadpipe_batch_<n>` (opt-in batches of `n` items), and
//!   `threadpipe_off_thread_profiled` (the default with a `Profile`: what
//!   profiling costs when the report is never printed).
//!
//! The heap-item groups (`heap_16B` to `heap_16KiB`) run again with
//! mimalloc as the global allocator in `benches/handoff_mimalloc.rs`.
//! See benches/README.md for the scenarios and the latest figures.

mod common;

use criterion::{Criterion, criterion_group, criterion_main};

use common::handoff::{Scenario, heap_items, run_all};
use common::spin;

fn tiny(n: u64) -> u64 {
    spin(n, 3)
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
    heap_items(c, "handoff");
    run_all(
        c,
        "handoff/slow_consumer",
        Scenario {
            items: 20_000,
            make: tiny,
            consume: |&x| spin(x, 1000),
            batches: &[],
        },
    );
    run_all(
        c,
        "handoff/slow_producer",
        Scenario {
            items: 20_000,
            make: |n| spin(n, 1000),
            consume: |&x| x,
            batches: &[],
        },
    );
    run_all(
        c,
        "handoff/balanced_1us_1us",
        Scenario {
            items: 20_000,
            make: |n| spin(n, 1000),
            consume: |&x| spin(x, 1000),
            batches: &[],
        },
    );
}

criterion_group!(handoff_benches, benches);
criterion_main!(handoff_benches);
