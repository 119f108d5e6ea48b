//! What the adapters drop for the user (a source at its end, items and
//! results nobody will take), and that a drop which panics never aborts the
//! process, never hangs, and never hides the panic that came first.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{
    Boom, ExitWatch, PanicsOnDrop, Stubborn, boom_of, drain_catching, threads_named, wait_until,
    watchdog,
};
use threadpipe::prelude::*;
use threadpipe::{OffThreadOptions, ParallelMapOptions};

#[test]
fn off_thread_raises_a_panic_of_its_source_s_drop_after_every_item() {
    let _watchdog = watchdog();
    let mut stage = PanicsOnDrop(0..5).off_thread();
    let (items, payload) = drain_catching(&mut stage);
    assert_eq!(items, [0, 1, 2, 3, 4]);
    assert_eq!(
        boom_of(payload.expect("the drop's panic").as_ref()),
        Some(usize::MAX)
    );
    assert_eq!(stage.next(), None);
}

#[test]
fn off_thread_items_left_behind_a_consumer_panic_do_not_abort() {
    let _watchdog = watchdog();
    let watch = ExitWatch::default();
    let worker_watch = watch.clone();
    let outcome = catch_unwind(AssertUnwindSafe(move || {
        let items = (0..4).map(move |n| {
            worker_watch.register();
            Stubborn(n)
        });
        let mut stage = items.off_thread_with(OffThreadOptions::new().name("drops-ot"));
        std::mem::forget(stage.next());
        // Once the worker has exited, the items left in the ring are the
        // adapter's alone: it drops them as this panic unwinds through it,
        // and each of those drops panics.
        wait_until("the worker has exited", || watch.exited() == 1);
        std::panic::panic_any("the consumer gives up");
    }));
    let payload = outcome.expect_err("the consumer's panic");
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"the consumer gives up")
    );
}

#[test]
fn parallel_map_results_left_behind_a_consumer_panic_do_not_abort() {
    let _watchdog = watchdog();
    let made = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&made);
    let outcome = catch_unwind(AssertUnwindSafe(move || {
        let options = ParallelMapOptions::new()
            .name("drops-pm")
            .threads(1)
            .window(6)
            .in_completion_order();
        let mut stage = (0..6).parallel_map_with(options, move |n| {
            counter.fetch_add(1, Ordering::SeqCst);
            Stubborn(n)
        });
        std::mem::forget(stage.next());
        // Every result is made, all but one wait in the ring: the adapter
        // drops them as this panic unwinds through it.
        wait_until("every result is made", || made.load(Ordering::SeqCst) == 6);
        wait_until("the worker has exited", || {
            threads_named("drops-pm").is_empty()
        });
        std::panic::panic_any("the consumer gives up");
    }));
    let payload = outcome.expect_err("the consumer's panic");
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"the consumer gives up")
    );
}

#[test]
fn dropping_an_off_thread_stage_raises_a_panic_of_an_item_it_drops() {
    let _watchdog = watchdog();
    let watch = ExitWatch::default();
    let worker_watch = watch.clone();
    let items = (0..4).map(move |n| {
        worker_watch.register();
        Stubborn(n)
    });
    let mut stage = items.off_thread_with(OffThreadOptions::new().name("drops-ot2"));
    std::mem::forget(stage.next());
    wait_until("the worker has exited", || watch.exited() == 1);
    // Not unwinding: the first of the drops' panics is raised once every
    // item is dropped, as a `Vec` of them would.
    let payload = catch_unwind(AssertUnwindSafe(move || drop(stage))).expect_err("a drop's panic");
    assert!(matches!(payload.downcast_ref::<Boom>(), Some(Boom(1..=3))));
}
