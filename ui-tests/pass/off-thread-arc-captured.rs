// The fix for off-thread-rc-captured.rs: an `Arc` may travel with the closure.
use std::sync::Arc;

use threadpipe::prelude::*;

fn main() {
    let offset = Arc::new(10);
    let shifted: Vec<i32> = (0..3).map(move |n| n + *offset).off_thread().collect();
    assert_eq!(shifted, [10, 11, 12]);
}
