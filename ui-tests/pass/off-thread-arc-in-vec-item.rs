// The fix for off-thread-rc-in-vec-item.rs: a `Vec` of `Arc`s may cross.
use std::sync::Arc;

use threadpipe::prelude::*;

fn main() {
    let batches: Vec<Vec<Arc<u32>>> = (0..3u32).map(|n| vec![Arc::new(n)]).off_thread().collect();
    assert_eq!(*batches[2][0], 2);
}
