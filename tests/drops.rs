//! What the adapters drop for the user (a source at its end, items and
//! results nobody will take), and that a drop which panics never aborts the
//! process, never hangs, and never hides the panic that came first.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;

use common::{
    Boom, Counting, LetGo, PanicsOnDrop, Setup, Stubborn, Tracked, Tracker, assert_early_drop,
    assert_panics_after, assert_results_before_panic, boom_of, drain_catching, drain_to_panic,
    parallel_map_setups, threads_named, wait_until, watchdog,
};
use threadpipe::prelude::*;
use threadpipe::{OffThreadOptions, ParallelMapOptions};

/// Checks that `stage`, over `PanicsOnDrop(0..5)`, raises the source's
/// drop panic after every item, by `next` and by `fold`.
fn assert_source_drop_panic_arrives<I: Iterator<Item = usize>>(
    what: &str,
    stage: impl Fn(PanicsOnDrop<std::ops::Range<usize>>) -> I,
) {
    let mut by_next = stage(PanicsOnDrop(0..5));
    assert_panics_after(
        &format!("{what}, by next"),
        &mut by_next,
        &[0, 1, 2, 3, 4],
        usize::MAX,
    );
    let mut folded = Vec::new();
    let by_fold = stage(PanicsOnDrop(0..5));
    let payload = catch_unwind(AssertUnwindSafe(|| by_fold.for_each(|n| folded.push(n))))
        .expect_err("the drop's panic, by fold");
    assert_eq!(folded, [0, 1, 2, 3, 4], "{what}, by fold");
    assert_eq!(
        boom_of(payload.as_ref()),
        Some(usize::MAX),
        "{what}, by fold"
    );
}

#[test]
fn off_thread_raises_a_panic_of_its_source_s_drop_after_every_item() {
    let _watchdog = watchdog();
    let options = [
        ("default options", OffThreadOptions::new()),
        ("capacity 1", OffThreadOptions::new().capacity(1)),
        ("batches of 2", OffThreadOptions::new().batch(2)),
        (
            "batches of 4, capacity 1",
            OffThreadOptions::new().batch(4).capacity(1),
        ),
        ("inline", OffThreadOptions::new().inline(true)),
    ];
    for (what, options) in options {
        assert_source_drop_panic_arrives(what, |source| source.off_thread_with(options.clone()));
        // Scoped: the panic reaches the consumer, not the scope's end.
        thread::scope(|scope| {
            assert_source_drop_panic_arrives(&format!("{what}, scoped"), |source| {
                source.off_thread_scoped_with(scope, options.clone())
            });
        });
    }
}

/// Runs `consumer`, which panics as a consumer that gives up would, and
/// checks that its panic, not one of the drops it set off, comes out.
fn consumer_gives_up(consumer: impl FnOnce()) {
    let outcome = catch_unwind(AssertUnwindSafe(move || {
        consumer();
        unreachable!("the consumer gives up before this");
    }));
    let payload = outcome.expect_err("the consumer's panic");
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"the consumer gives up")
    );
}

#[cfg_attr(miri, ignore = "Miri has no /proc to see a worker let go")]
#[test]
fn off_thread_items_left_behind_a_consumer_panic_do_not_abort() {
    let _watchdog = watchdog();
    let let_go = LetGo::default();
    let token = let_go.token();
    consumer_gives_up(move || {
        let items = (0..4).map(move |n| {
            let _held = &token;
            Stubborn(n)
        });
        let mut stage = items.off_thread_with(OffThreadOptions::new().name("drops-ot"));
        std::mem::forget(stage.next());
        // Once the worker has let go of the source and of its end of the
        // ring (it leaves the stage's name after both), the items left in
        // the ring are the adapter's alone: it drops them as this panic
        // unwinds through it, and each of those drops panics.
        wait_until("the worker has let go", || {
            let_go.dropped() == 1 && threads_named("drops-ot").is_empty()
        });
        std::panic::panic_any("the consumer gives up");
    });
}

/// A fold over batches runs a whole batch in one tight loop; a panic of
/// its closure must leave the rest of the batch to the stage, not to the
/// unwinding, where the first drop that panics would abort.
#[test]
fn off_thread_batch_items_left_behind_a_panic_in_fold_do_not_abort() {
    let _watchdog = watchdog();
    // Each drop that panics while the consumer's panic unwinds makes std
    // print a backtrace, which Miri takes seconds to write: fewer there.
    let len = if cfg!(miri) { 3 } else { 8 };
    consumer_gives_up(|| {
        let items = (0..len).map(Stubborn);
        items
            .off_thread_with(OffThreadOptions::new().batch(len))
            .for_each(|item| {
                // Gives up at the first item, with the rest left in its batch.
                let first = item.0 == 0;
                std::mem::forget(item);
                if first {
                    std::panic::panic_any("the consumer gives up");
                }
            });
    });
}

#[cfg_attr(miri, ignore = "Miri has no /proc to see a worker let go")]
#[test]
fn parallel_map_results_left_behind_a_consumer_panic_do_not_abort() {
    let _watchdog = watchdog();
    let made = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&made);
    consumer_gives_up(move || {
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
        wait_until("the worker has let go of its slot", || {
            threads_named("drops-pm").is_empty()
        });
        std::panic::panic_any("the consumer gives up");
    });
}

#[test]
fn parallel_map_items_left_in_its_queue_behind_a_panic_do_not_abort() {
    let _watchdog = watchdog();
    let rounds = if cfg!(miri) { 2 } else { 20 };
    for _ in 0..rounds {
        // `f` gives up on the first item while the worker is still pulling
        // the ones behind it: those wait unclaimed in the queue, and the
        // stage drops them as `f`'s panic travels up, after the worker has
        // left; each of those drops panics.
        let options = ParallelMapOptions::new()
            .name("drops-pmq")
            .threads(1)
            .window(64);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            (0..64)
                .map(Stubborn)
                .parallel_map_with(options, |item: Stubborn| {
                    let n = item.0;
                    std::mem::forget(item);
                    if n == 0 {
                        std::panic::panic_any("f gives up");
                    }
                    n
                })
                .count()
        }));
        let payload = outcome.expect_err("f's panic");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"f gives up"));
    }
}

#[cfg_attr(miri, ignore = "Miri has no /proc to see a worker let go")]
#[test]
fn dropping_an_off_thread_stage_raises_a_panic_of_an_item_it_drops() {
    let _watchdog = watchdog();
    let let_go = LetGo::default();
    let token = let_go.token();
    let items = (0..4).map(move |n| {
        let _held = &token;
        Stubborn(n)
    });
    let mut stage = items.off_thread_with(OffThreadOptions::new().name("drops-ot2"));
    std::mem::forget(stage.next());
    wait_until("the worker has let go", || {
        let_go.dropped() == 1 && threads_named("drops-ot2").is_empty()
    });
    // Not unwinding: the first of the drops' panics is raised once every
    // item is dropped, as a `Vec` of them would.
    let payload = catch_unwind(AssertUnwindSafe(move || drop(stage))).expect_err("a drop's panic");
    assert!(matches!(payload.downcast_ref::<Boom>(), Some(Boom(1..=3))));
}

/// Items the consumer let go of while the worker was still running are
/// dropped on the worker, as it lets go of its end of the ring: under a
/// catch, so that their panics do not end the worker's thread (which a
/// scope would report, at its end, as a panic of its own).
#[test]
fn off_thread_items_the_worker_drops_after_a_hang_up_stay_caught() {
    let _watchdog = watchdog();
    // One item at a time, and in batches, where the last one is partial.
    for batch in [1, 2] {
        let let_go = AtomicBool::new(false);
        let asked = AtomicUsize::new(0);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            thread::scope(|scope| {
                let source = (0..).map_while(|n| {
                    asked.fetch_add(1, Ordering::SeqCst);
                    if n < 3 {
                        return Some(Stubborn(n));
                    }
                    wait_until("the consumer has let go", || let_go.load(Ordering::SeqCst));
                    None
                });
                let options = OffThreadOptions::new().batch(batch);
                let mut stage = source.off_thread_scoped_with(scope, options);
                std::mem::forget(stage.next());
                wait_until("every item is made", || asked.load(Ordering::SeqCst) == 4);
                // The adapter drops a batch it holds itself, and raises
                // that drop's panic: not what this test is about.
                let _ = catch_unwind(AssertUnwindSafe(move || drop(stage)));
                let_go.store(true, Ordering::SeqCst);
            });
        }));
        assert!(
            outcome.is_ok(),
            "batch {batch}: a drop on the worker escaped its catch"
        );
    }
}

/// A result finished after the consumer let go is dropped by its worker,
/// under a catch, whichever of the two lets go of the results ring last.
#[test]
fn parallel_map_results_finished_after_an_early_drop_stay_caught() {
    let _watchdog = watchdog();
    let let_go = AtomicBool::new(false);
    let running = AtomicUsize::new(0);
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        thread::scope(|scope| {
            // In completion order the consumer runs no item itself, so the
            // slow ones are all on the workers.
            let options = ParallelMapOptions::new().threads(2).in_completion_order();
            let mut stage = (0..4).parallel_map_scoped_with(scope, options, |n| {
                if n > 0 {
                    running.fetch_add(1, Ordering::SeqCst);
                    wait_until("the consumer has let go", || let_go.load(Ordering::SeqCst));
                }
                Stubborn(n)
            });
            std::mem::forget(stage.next());
            wait_until("a worker runs a slow item", || {
                running.load(Ordering::SeqCst) > 0
            });
            let _ = catch_unwind(AssertUnwindSafe(move || drop(stage)));
            let_go.store(true, Ordering::SeqCst);
        });
    }));
    assert!(outcome.is_ok(), "a drop on a worker escaped its catch");
}

/// A source that panics in `next` at `at`, and again whenever it is
/// dropped, even while that first panic unwinds; the payload of that second
/// panic panics once more as it is dropped.
struct PanicsTwice {
    next: usize,
    at: usize,
}

impl Iterator for PanicsTwice {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        if self.next == self.at {
            std::panic::panic_any(Boom(self.at));
        }
        self.next += 1;
        Some(self.next - 1)
    }
}

impl Drop for PanicsTwice {
    fn drop(&mut self) {
        std::panic::panic_any(CursedPayload);
    }
}

/// A panic payload whose drop panics: letting go of a second panic that
/// nobody will see must not let that third one escape onto a thread.
struct CursedPayload;

impl Drop for CursedPayload {
    fn drop(&mut self) {
        std::panic::panic_any(Boom(usize::MAX));
    }
}

/// A source whose drop panics after its `next` did must not abort the
/// process (a panic during unwinding does): it is dropped outside the first
/// panic's unwinding, and the first panic is the one raised, through `next`
/// and through `fold`, on threads and inline.
#[test]
fn a_source_that_panics_again_as_it_is_dropped_does_not_abort() {
    let _watchdog = watchdog();
    fn check<I: Iterator<Item = usize>>(what: &str, stage: impl Fn(PanicsTwice) -> I) {
        let source = || PanicsTwice { next: 0, at: 3 };
        let mut by_next = stage(source());
        let (items, payload) = drain_catching(&mut by_next);
        assert_eq!(items, [0, 1, 2], "{what}, by next");
        assert_eq!(
            boom_of(payload.expect("a panic").as_ref()),
            Some(3),
            "{what}"
        );
        let mut folded = Vec::new();
        let by_fold = stage(source());
        let payload = catch_unwind(AssertUnwindSafe(|| by_fold.for_each(|n| folded.push(n))))
            .expect_err("a panic");
        assert_eq!(folded, [0, 1, 2], "{what}, by fold");
        assert_eq!(boom_of(payload.as_ref()), Some(3), "{what}, by fold");
    }
    for batch in [1, 4] {
        check(&format!("off_thread, batch {batch}"), |source| {
            source.off_thread_with(OffThreadOptions::new().batch(batch))
        });
    }
    check("off_thread, inline", |source| {
        source.off_thread_with(OffThreadOptions::new().inline(true))
    });
    check("parallel_map", |source| source.parallel_map(|n| n));
    check("parallel_map, inline", |source| {
        source.parallel_map_with(ParallelMapOptions::new().inline(true), |n| n)
    });
}

/// Items in the exactly-once tests; `f` panics at [`AT`] where asked to.
const LEN: usize = 30;
const AT: usize = 11;

/// A `parallel_map` stage of `setup` over `LEN` tracked items (made by
/// `items` as the source yields them), each mapped to a result made by
/// `results`; `f` panics with `Boom(AT)` on item `AT` if `panics`. Also
/// the receiver that tells where the source was dropped.
fn tracked_stage(
    setup: &Setup,
    (items, results): (&Tracker, &Tracker),
    panics: bool,
) -> (
    impl Iterator<Item = Tracked> + Send + 'static,
    std::sync::mpsc::Receiver<thread::ThreadId>,
) {
    let (source, dropped) = Counting::with_drop_signal(Some(LEN));
    let (made, making) = (items.clone(), results.clone());
    let stage = source.map(move |n| made.track(n)).parallel_map_with(
        setup.options.clone(),
        move |item: Tracked| {
            if panics && item.id == AT {
                std::panic::panic_any(Boom(AT));
            }
            making.track(item.id)
        },
    );
    (stage, dropped)
}

#[test]
fn parallel_map_drops_every_item_and_result_once_at_the_end() {
    let _watchdog = watchdog();
    for setup in parallel_map_setups("once", 1..=3) {
        let (items, results) = (Tracker::default(), Tracker::default());
        let (stage, _) = tracked_stage(&setup, (&items, &results), false);
        let mut ids: Vec<usize> = stage.map(|result| result.id).collect();
        if setup.completion {
            ids.sort_unstable();
        }
        assert_eq!(ids, (0..LEN).collect::<Vec<_>>(), "{setup}");
        // The stream has ended: no thread holds an item any more.
        items.assert_each_dropped_once(&format!("{setup}: items"));
        results.assert_each_dropped_once(&format!("{setup}: results"));
    }
}

#[test]
fn parallel_map_drops_every_item_and_result_once_after_an_early_drop() {
    let _watchdog = watchdog();
    for setup in parallel_map_setups("oncd", 1..=3) {
        for taken in [1, 2, 9, LEN] {
            let (items, results) = (Tracker::default(), Tracker::default());
            let (mut stage, dropped) = tracked_stage(&setup, (&items, &results), false);
            let mut ids: Vec<usize> = stage.by_ref().take(taken).map(|r| r.id).collect();
            ids.sort_unstable();
            ids.dedup();
            assert_eq!(ids.len(), taken, "{setup}: taken {taken}");
            assert_early_drop(stage, &setup.name, &dropped);
            // Items and results in flight are dropped by the stage's
            // threads, or by the drop, once each.
            let what = format!("{setup}, {taken} taken");
            items.wait_until_each_dropped_once(&format!("{what}: items"));
            results.wait_until_each_dropped_once(&format!("{what}: results"));
        }
    }
}

#[test]
fn parallel_map_drops_every_item_and_result_once_after_a_panic() {
    let _watchdog = watchdog();
    for setup in parallel_map_setups("oncp", 1..=3) {
        let (items, results) = (Tracker::default(), Tracker::default());
        let (mut stage, _) = tracked_stage(&setup, (&items, &results), true);
        let mut ids = stage.by_ref().map(|result| result.id);
        let got = drain_to_panic(&setup.to_string(), &mut ids, AT);
        assert_results_before_panic(&setup, &got, AT, LEN);
        // Right at the panic, results made after it are dropped already;
        // an item may still be being pulled (a run inside the source's
        // `next` is not waited for), and is dropped once that returns.
        results.assert_each_dropped_once(&format!("{setup}: results"));
        drop(stage);
        items.wait_until_each_dropped_once(&format!("{setup}: items"));
    }
}
