// The fix for parallel-map-shared-receiver.rs: a shared receiver takes turns
// behind a lock, so any number of workers may use it.
use std::thread;

use threadpipe::prelude::*;

fn main() {
    let (sender, extra) = threadpipe::shared_channel::<u32>();
    sender.send(10).unwrap();
    let totals: Vec<u32> = thread::scope(|scope| {
        (0..3)
            .parallel_map_scoped(scope, |n| n + extra.try_recv().unwrap_or(0))
            .collect()
    });
    assert_eq!(totals.iter().sum::<u32>(), 13);
}
