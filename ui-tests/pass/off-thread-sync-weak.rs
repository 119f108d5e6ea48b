// The fix for off-thread-weak-captured.rs: a weak reference to an `Arc`
// counts atomically, so it may travel with the closure.
use std::sync::Arc;

use threadpipe::prelude::*;

fn main() {
    let owner = Arc::new(5u32);
    let link = Arc::downgrade(&owner);
    let shifted: Vec<u32> = (0..3u32)
        .map(move |n| n + link.upgrade().map_or(0, |value| *value))
        .off_thread()
        .collect();
    assert_eq!(shifted, [5, 6, 7]);
    drop(owner);
}
