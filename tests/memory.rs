//! The capacity (or window) is the memory bound: 1 MiB items through a
//! stage of capacity 4 keep a handful of MiB alive however slow the
//! consumer is.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{wait_until_stopped, watchdog};
use peak_alloc::PeakAlloc;
use threadpipe::prelude::*;
use threadpipe::{OffThreadOptions, ParallelMapOptions};

/// Counts live heap bytes and remembers the peak.
#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;

const MIB: usize = 1 << 20;

/// How many items go through each stage.
const ITEMS: usize = 40;

/// Runs the stage `stage_with` makes, named `name`, over [`ITEMS`] one-MiB
/// items, with a slow consumer: before it lets go of each item it waits
/// until the stage has made every item it may (`ahead` past those taken)
/// and stopped. The peak of live bytes above what was live before, in MiB.
fn peak_mib(
    name: &str,
    ahead: usize,
    stage_with: impl FnOnce(
        Box<dyn Iterator<Item = Vec<u8>> + Send>,
    ) -> Box<dyn Iterator<Item = Vec<u8>>>,
) -> f64 {
    let made = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&made);
    let before = ALLOCATOR.current_usage();
    ALLOCATOR.reset_peak_usage();
    let items = (0..ITEMS).map(move |n| {
        counter.fetch_add(1, Ordering::SeqCst);
        vec![n as u8; MIB]
    });
    for (taken, item) in stage_with(Box::new(items)).enumerate() {
        let may_have_made = (taken + 1 + ahead).min(ITEMS);
        wait_until_stopped(name, may_have_made, || made.load(Ordering::SeqCst));
        drop(item);
    }
    (ALLOCATOR.peak_usage() - before) as f64 / MIB as f64
}

#[test]
fn peaks_follow_the_capacity_and_the_window() {
    let _watchdog = watchdog();
    // One test per binary would be cleaner; one function keeps the global
    // counters from being shared by tests running at once.
    let off_thread = peak_mib("mem-off", 4, |items| {
        let options = OffThreadOptions::new().capacity(4).name("mem-off");
        Box::new(items.off_thread_with(options))
    });
    println!("off_thread, capacity 4, 1 MiB items: peak {off_thread:.1} MiB");
    // 4 in the channel, 1 in the worker's hand, 1 here, 1 being built.
    assert!(off_thread <= 7.5, "off_thread peak {off_thread:.1} MiB");
    assert!(
        off_thread >= 5.0,
        "the channel was not used: {off_thread:.1} MiB"
    );

    for completion in [false, true] {
        let name = if completion { "mem-parc" } else { "mem-pari" };
        let parallel = peak_mib(name, 4, |items| {
            let options = ParallelMapOptions::new().threads(2).window(4).name(name);
            let options = if completion {
                options.in_completion_order()
            } else {
                options
            };
            Box::new(items.parallel_map_with(options, |item| item))
        });
        println!("{name}, window 4, 1 MiB items: peak {parallel:.1} MiB");
        // The window of 4, 1 here, 1 being built by the source.
        assert!(parallel <= 6.5, "{name}: peak {parallel:.1} MiB");
        assert!(
            parallel >= 4.0,
            "{name}: the window was not used: {parallel:.1} MiB"
        );
    }
}
