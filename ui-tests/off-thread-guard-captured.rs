// A `MutexGuard` must be released by the thread that locked the mutex, so a
// closure that captures one cannot move to a worker. Share the mutex itself
// (in an `Arc`) and lock inside the stage (see pass/off-thread-arc-mutex-inside.rs).
use std::sync::Mutex;

use threadpipe::prelude::*;

fn main() {
    let offset = Mutex::new(10u64);
    let guard = offset.lock().unwrap();
    let shifted: Vec<u64> = (0..3u64).map(move |n| n + *guard).off_thread().collect();
    println!("{shifted:?}");
}
