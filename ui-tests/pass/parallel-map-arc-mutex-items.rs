// The fix for parallel-map-rc-refcell-items.rs: `Arc` counts atomically and a
// `Mutex` makes threads take turns, so the items may cross.
use std::sync::{Arc, Mutex};

use threadpipe::prelude::*;

fn main() {
    let cells: Vec<Arc<Mutex<u32>>> = (0..3).map(|n| Arc::new(Mutex::new(n))).collect();
    let doubled: Vec<u32> = cells.into_iter().parallel_map(|cell| *cell.lock().unwrap() * 2).collect();
    assert_eq!(doubled, [0, 2, 4]);
}
