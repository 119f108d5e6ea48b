//! A panic from every part of a `parallel_map` stage reaches the consumer
//! exactly once, after every earlier result in input order; then the
//! stream ends for good, and no thread is left behind: in both orders, with
//! one to four workers (two under Miri).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use common::{
    Boom, Census, Fragile, PATIENCE, PanicsOnDrop, Setup, Source, assert_results_before_panic,
    boom_of, drain_catching, drain_to_panic, panicking_at, parallel_map_setups, wait_until,
    wait_until_no_thread_is_named, watchdog,
};
use threadpipe::ParallelMapOptions;
use threadpipe::prelude::*;

/// Items in every stream here; panics happen at [`AT`] unless at the end.
/// (Fewer under Miri, which runs the code about a thousand times slower.)
const LEN: usize = if cfg!(miri) { 20 } else { 40 };
const AT: usize = 17;

/// The most workers a stage here is given.
const MOST_THREADS: usize = if cfg!(miri) { 2 } else { 4 };

/// Pulls `stage` to its end and checks what the contract promises: the
/// payload `Boom(boom)` exactly once; in input order every result before
/// `first_lost`, in order, and nothing else; in completion order every
/// result before `first_lost` too, in any order, and perhaps some after it
/// (items that ran before the panic), none twice; then `None` for good.
/// And the threads let go (see [`Census::assert_let_go`]): right at the
/// panic no call of `f` runs and no thread carries the stage's name, but
/// the one inside the source's `next` if `source` says there may be one;
/// neither is called after it, and no thread carries the name once that
/// call has returned.
fn assert_panic_arrives(
    setup: &Setup,
    stage: impl Iterator<Item = usize>,
    census: &Census,
    (boom, first_lost): (usize, usize),
    source: Source,
) {
    let name = &setup.name;
    let mut stage = stage;
    let results = drain_to_panic(&setup.to_string(), &mut stage, boom);
    census.assert_let_go(name, source);
    assert_results_before_panic(setup, &results, first_lost, LEN);
}

/// Checks [`assert_panic_arrives`] in every setup of
/// [`parallel_map_setups`], one to [`MOST_THREADS`] workers, on the stage
/// `stage_with` builds with the setup's options, watched by the census it
/// is given.
fn assert_panic_arrives_in_every_setup<S: Iterator<Item = usize>>(
    tag: &str,
    stage_with: impl Fn(ParallelMapOptions, &Census) -> S,
    (boom, first_lost): (usize, usize),
    source: Source,
) {
    for setup in parallel_map_setups(tag, 1..=MOST_THREADS) {
        let census = Census::default();
        let stage = stage_with(setup.options.clone(), &census);
        assert_panic_arrives(&setup, stage, &census, (boom, first_lost), source);
    }
}

/// `f` as the census sees it: counted while it runs.
fn watched<T, U, F>(census: &Census, f: F) -> impl Fn(T) -> U + Send + Sync + use<T, U, F>
where
    F: Fn(T) -> U + Send + Sync,
{
    let census = census.clone();
    move |item| {
        let _f = census.in_f();
        f(item)
    }
}

#[test]
fn a_panic_in_the_source_arrives_after_every_earlier_result() {
    let _watchdog = watchdog();
    assert_panic_arrives_in_every_setup(
        "ps",
        |options, census| {
            census
                .source(panicking_at(AT))
                .parallel_map_with(options, watched(census, |n| n))
        },
        (AT, AT),
        Source::Finished,
    );
}

#[test]
fn a_panic_as_the_source_is_dropped_arrives_after_every_result() {
    let _watchdog = watchdog();
    assert_panic_arrives_in_every_setup(
        "pd",
        |options, census| {
            census
                .source(PanicsOnDrop(0..LEN))
                .parallel_map_with(options, watched(census, |n| n))
        },
        (usize::MAX, LEN),
        Source::Finished,
    );
}

/// In completion order a run that pulled the last item drops the source,
/// and its panic, the stream's last entry, is made at once; the other
/// entries may still be queued or running. It must still come after all of
/// them, in every run, not only when the timing is kind.
#[test]
fn in_completion_order_a_panic_as_the_source_is_dropped_waits_for_every_item() {
    let _watchdog = watchdog();
    const ITEMS: usize = if cfg!(miri) { 30 } else { 200 };
    let rounds = if cfg!(miri) { 2 } else { 30 };
    for threads in 1..=MOST_THREADS {
        for round in 0..rounds {
            let name = format!("pdc{threads}");
            let options = ParallelMapOptions::new()
                .name(&name)
                .threads(threads)
                .in_completion_order();
            let census = Census::default();
            let f = watched(&census, |n| {
                // Uneven, so that runs finish out of step.
                if n % 7 == 0 {
                    std::thread::yield_now();
                }
                n
            });
            let mut stage = census
                .source(PanicsOnDrop(0..ITEMS))
                .parallel_map_with(options, f);
            let what = format!("{name}/{round}");
            let mut results = drain_to_panic(&what, &mut stage, usize::MAX);
            census.assert_let_go(&name, Source::Finished);
            results.sort_unstable();
            assert_eq!(
                results,
                (0..ITEMS).collect::<Vec<_>>(),
                "{what}: the panic came before these"
            );
        }
    }
}

#[test]
fn a_panic_in_f_arrives_after_every_earlier_result() {
    let _watchdog = watchdog();
    let f = |n| {
        if n == AT {
            std::panic::panic_any(Boom(AT));
        }
        n
    };
    assert_panic_arrives_in_every_setup(
        "pf",
        |options, census| {
            census
                .source(0..LEN)
                .parallel_map_with(options, watched(census, f))
        },
        (AT, AT),
        Source::MayBeInNext,
    );
}

#[test]
fn a_panic_in_init_counts_as_one_in_f() {
    let _watchdog = watchdog();
    let init = || -> usize { std::panic::panic_any(Boom(0)) };
    assert_panic_arrives_in_every_setup(
        "pn",
        |options, census| {
            let census = census.clone();
            census
                .source(0..LEN)
                .parallel_map_init_with(options, init, move |_state, n| {
                    let _f = census.in_f();
                    n
                })
        },
        (0, 0),
        Source::MayBeInNext,
    );
}

#[test]
fn a_panic_as_an_item_is_dropped_arrives_in_its_turn() {
    let _watchdog = watchdog();
    assert_panic_arrives_in_every_setup(
        "pi",
        |options, census| {
            let items = (0..LEN).map(|id| Fragile {
                id,
                panics: id == AT,
            });
            // `f` drops the item, so its panic is `f`'s, in the item's turn.
            census
                .source(items)
                .parallel_map_with(options, watched(census, |item: Fragile| item.id))
        },
        (AT, AT),
        Source::MayBeInNext,
    );
}

#[test]
fn results_dropped_after_a_panic_do_not_replace_it() {
    let _watchdog = watchdog();
    // Results after the first panic are dropped unseen, and each of those
    // drops panics too: the first panic still wins, once.
    let f = |n| {
        if n == AT {
            std::panic::panic_any(Boom(AT));
        }
        Fragile {
            id: n,
            panics: n > AT,
        }
    };
    assert_panic_arrives_in_every_setup(
        "pr",
        |options, census| {
            census
                .source(0..LEN)
                .parallel_map_with(options, watched(census, f))
                .map(|fragile| {
                    let id = fragile.id;
                    std::mem::forget(fragile);
                    id
                })
        },
        (AT, AT),
        Source::MayBeInNext,
    );
}

#[test]
fn dropping_the_stage_raises_a_panic_of_a_result_it_drops() {
    let _watchdog = watchdog();
    // More results made than the workers can hold in hand: the window
    // must have room for them.
    let setups = parallel_map_setups("pe", 1..=MOST_THREADS)
        .into_iter()
        .filter(|setup| setup.window > setup.threads + 2);
    for setup in setups {
        let Setup {
            name,
            options,
            threads,
            ..
        } = setup;
        let made = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&made);
        let mut stage = (0..LEN).parallel_map_with(options, move |n| {
            counter.fetch_add(1, Ordering::SeqCst);
            Fragile {
                id: n,
                panics: true,
            }
        });
        std::mem::forget(stage.next());
        // Wait until results are waiting to be taken (more are made than
        // taken and than the workers can hold in hand), then drop the stage:
        // it drops them, and re-raises the first of their panics (as a `Vec`
        // of such values would) after dropping the rest.
        wait_until("results are waiting", || {
            made.load(Ordering::SeqCst) > threads + 2
        });
        let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(stage)));
        let payload = dropped.expect_err("dropping the stage dropped no result");
        assert!(
            boom_of(payload.as_ref()).is_some(),
            "{name}: another payload"
        );
        wait_until_no_thread_is_named(&name, &format!("{name}'s workers have exited"));
    }
}

/// A panic payload whose own drop panics: the payloads of later panics,
/// which nobody sees, must be let go of without that second panic escaping
/// onto a worker thread (where it would leave the stage waiting forever
/// for a run that died) or out of the consumer's drop.
#[derive(Debug)]
struct CursedPayload(usize);

impl Drop for CursedPayload {
    fn drop(&mut self) {
        std::panic::panic_any(Boom(self.0));
    }
}

#[test]
fn payloads_whose_drop_panics_do_not_stop_the_stream_ending() {
    let _watchdog = watchdog();
    // Two or more threads, so that items after AT can panic first, on
    // another thread, while AT waits for one of them: AT's panic then wins
    // by its index, and theirs are the payloads dropped unseen. (The run
    // that takes AT may have claimed the next few with it, so several
    // later items panic, not just AT+1.) On one core the set has one seat
    // (no THREADPIPE_NUM_THREADS in the test environment), AT's run holds
    // it, and nothing else can run while AT waits: AT panics at once.
    let others_can_run = std::thread::available_parallelism().map_or(1, |n| n.get()) > 1;
    // A window of one item would keep the later items from being pulled
    // while AT waits for them.
    let setups = parallel_map_setups("pk", 2..=MOST_THREADS)
        .into_iter()
        .filter(|setup| setup.window > 1);
    for setup in setups {
        let Setup {
            name, completion, ..
        } = &setup;
        let later_panicked = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&later_panicked);
        let mut stage = (0..LEN).parallel_map_with(setup.options.clone(), move |n| {
            if n > AT {
                flag.store(true, Ordering::SeqCst);
                std::panic::panic_any(CursedPayload(n));
            }
            if n == AT {
                // Bounded: should no second thread take a later item meanwhile
                // (every core busy elsewhere), AT simply panics first.
                let since = Instant::now();
                while others_can_run && !flag.load(Ordering::SeqCst) && since.elapsed() < PATIENCE {
                    std::thread::yield_now();
                }
                std::panic::panic_any(CursedPayload(n));
            }
            n
        });
        let (results, payload) = drain_catching(&mut stage);
        let payload = payload.unwrap_or_else(|| panic!("{name}: no panic arrived"));
        let cursed = payload
            .downcast::<CursedPayload>()
            .unwrap_or_else(|_| panic!("{name}: another payload"));
        if !completion {
            assert_eq!(cursed.0, AT, "{name}: not the first panic");
            assert_eq!(results, (0..AT).collect::<Vec<_>>(), "{name}");
        }
        std::mem::forget(cursed);
        assert_eq!(stage.next(), None, "{name}: the stream went on");
        drop(stage);
        wait_until_no_thread_is_named(name, &format!("{name}'s runs have ended"));
    }
    // The set's threads and seats survived: a new stage runs to its end.
    let len = if cfg!(miri) { 100 } else { 1000 };
    let sum: usize = (0..len).parallel_map(|n| n).sum();
    assert_eq!(sum, len * (len - 1) / 2);
}
