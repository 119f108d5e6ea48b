// The fix for off-thread-raw-pointer-item.rs: move owned values across.
use threadpipe::prelude::*;

fn main() {
    let values = vec![1u8, 2, 3];
    let doubled: Vec<u8> = values.into_iter().map(|value| value * 2).off_thread().collect();
    assert_eq!(doubled, [2, 4, 6]);
}
