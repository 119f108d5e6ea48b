//! The capacity is the memory bound: 1 MiB items through a stage of
//! capacity 4 keep a handful of MiB alive however slow the consumer is.

mod common;

use common::{threads_named, wait_until, watchdog};
use peak_alloc::PeakAlloc;
use threadpipe::prelude::*;
use threadpipe::{OffThreadOptions, ParallelMapOptions};

/// Counts live heap bytes and remembers the peak.
#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;

const MIB: usize = 1 << 20;

/// Runs `consume` over 40 one-MiB items and returns the peak of live bytes
/// above what was live before, in MiB.
fn peak_mib(consume: impl FnOnce(Box<dyn Iterator<Item = Vec<u8>> + Send>)) -> f64 {
    let before = ALLOCATOR.current_usage();
    ALLOCATOR.reset_peak_usage();
    consume(Box::new((0..40).map(|n| vec![n as u8; MIB])));
    (ALLOCATOR.peak_usage() - before) as f64 / MIB as f64
}

#[test]
fn off_thread_peak_follows_the_capacity() {
    let _watchdog = watchdog();
    // One test per binary would be cleaner; one function keeps the global
    // counters from being shared by tests running at once.
    let off_thread = peak_mib(|items| {
        let stage = items.off_thread_with(OffThreadOptions::new().capacity(4).name("mem-off"));
        for item in stage {
            // A slow consumer: let the worker fill the channel every time.
            wait_until("the worker waits for room or is done", || {
                threads_named("mem-off").iter().all(|t| t.state == 'S')
            });
            drop(item);
        }
    });
    println!("off_thread, capacity 4, 1 MiB items: peak {off_thread:.1} MiB");
    // 4 in the channel, 1 in the worker's hand, 1 here, 1 being built.
    assert!(off_thread <= 7.5, "off_thread peak {off_thread:.1} MiB");
    assert!(
        off_thread >= 5.0,
        "the channel was not used: {off_thread:.1} MiB"
    );

    let parallel = peak_mib(|items| {
        let options = ParallelMapOptions::new()
            .threads(2)
            .window(4)
            .name("mem-par");
        let stage = items.parallel_map_with(options, |item| item);
        for item in stage {
            wait_until("the workers wait for room or are done", || {
                threads_named("mem-par").iter().all(|t| t.state == 'S')
            });
            drop(item);
        }
    });
    println!("parallel_map, window 4, 1 MiB items: peak {parallel:.1} MiB");
    // The window of 4, 1 here, 1 being built by the source.
    assert!(parallel <= 6.5, "parallel_map peak {parallel:.1} MiB");
}
