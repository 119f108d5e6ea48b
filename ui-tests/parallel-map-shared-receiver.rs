// An `mpsc::Receiver` is not `Sync`: workers sharing one by reference could
// race on its insides. Use `threadpipe::shared_channel`
// (see pass/parallel-map-shared-channel.rs).
use std::sync::mpsc;
use std::thread;

use threadpipe::prelude::*;

fn main() {
    let (sender, extra) = mpsc::channel::<u32>();
    sender.send(10).unwrap();
    let totals: Vec<u32> = thread::scope(|scope| {
        (0..3)
            .parallel_map_scoped(scope, |n| n + extra.try_recv().unwrap_or(0))
            .collect()
    });
    println!("{totals:?}");
}
