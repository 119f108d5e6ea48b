// Workers share the closure, so everything it uses must be `Sync`: a `Cell`
// would be updated by several threads at once. Use an atomic
// (see pass/parallel-map-atomic-counter.rs).
use std::cell::Cell;
use std::thread;

use threadpipe::prelude::*;

fn main() {
    let calls = Cell::new(0u64);
    let total: i32 = thread::scope(|scope| {
        (0..10)
            .parallel_map_scoped(scope, |n| {
                calls.set(calls.get() + 1);
                n
            })
            .sum()
    });
    println!("{total} {}", calls.get());
}
