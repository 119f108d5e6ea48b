// A `MutexGuard` must be released by the thread that locked it, so it cannot
// travel to a worker. Lock inside the stage instead
// (see pass/off-thread-lock-inside.rs).
use std::sync::Mutex;

use threadpipe::prelude::*;

static OFFSET: Mutex<i32> = Mutex::new(10);

fn main() {
    let offset = OFFSET.lock().unwrap();
    let shifted: Vec<i32> = (0..3).map(move |n| n + *offset).off_thread().collect();
    println!("{shifted:?}");
}
