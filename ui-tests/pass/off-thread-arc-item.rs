// The fix for off-thread-rc-item.rs: `Arc` counts atomically, so it may cross.
use std::sync::Arc;

use threadpipe::prelude::*;

fn main() {
    let shared: Vec<Arc<u32>> = (0..3).map(Arc::new).off_thread().collect();
    assert_eq!(*shared[2], 2);
}
