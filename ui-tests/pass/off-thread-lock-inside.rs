// The fix for off-thread-mutex-guard.rs: the worker locks for itself, for as
// short a time as it needs.
use std::sync::Mutex;

use threadpipe::prelude::*;

static OFFSET: Mutex<i32> = Mutex::new(10);

fn main() {
    let shifted: Vec<i32> = (0..3).map(|n| n + *OFFSET.lock().unwrap()).off_thread().collect();
    assert_eq!(shifted, [10, 11, 12]);
}
