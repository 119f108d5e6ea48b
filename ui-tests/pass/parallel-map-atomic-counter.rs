// The fix for parallel-map-cell-closure.rs: an atomic may be updated from
// several threads at once.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use threadpipe::prelude::*;

fn main() {
    let calls = AtomicUsize::new(0);
    let total: i32 = thread::scope(|scope| {
        (0..10)
            .parallel_map_scoped(scope, |n| {
                calls.fetch_add(1, Ordering::Relaxed);
                n
            })
            .sum()
    });
    assert_eq!((total, calls.load(Ordering::Relaxed)), (45, 10));
}
