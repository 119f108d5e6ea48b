// The fix for off-thread-guard-captured.rs: the closure captures an `Arc` of
// the mutex, and the worker takes the lock for as short a time as it needs.
use std::sync::{Arc, Mutex};

use threadpipe::prelude::*;

fn main() {
    let offset = Arc::new(Mutex::new(10u64));
    let shared = Arc::clone(&offset);
    let shifted: Vec<u64> = (0..3u64).map(move |n| n + *shared.lock().unwrap()).off_thread().collect();
    assert_eq!(shifted, [10, 11, 12]);
    assert_eq!(*offset.lock().unwrap(), 10);
}
