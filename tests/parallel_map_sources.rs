//! `parallel_map` with sources that block, stall, get stuck, or wait for
//! the consumer: no item and no result ever waits on a thread blocked
//! inside the source, nor does a drop or a panic, and that thread leaves
//! the stage once its call returns.

mod common;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::thread;

use common::{
    Boom, Census, Ended, PATIENCE, RequestResponse, Setup, Source, Stalling, Stuck, StuckAt,
    Tracked, Tracker, assert_drop_returns, drain_to_panic, parallel_map_setups, wait_until,
    watchdog,
};
use threadpipe::ParallelMap;
use threadpipe::prelude::*;

#[test]
fn a_source_that_waits_for_the_consumer_runs_to_the_end() {
    let _watchdog = watchdog();
    for setup in parallel_map_setups("pm-reqresp", 1..=2) {
        let (source, handled) = RequestResponse::new(20);
        let gave_up = Arc::clone(&source.gave_up);
        let mut results = Vec::new();
        for doubled in source.parallel_map_with(setup.options.clone(), |n| n * 2) {
            results.push(doubled);
            // The reply the source waits for before it yields the next item.
            let _ = handled.send(());
        }
        results.sort_unstable();
        assert_eq!(
            results,
            (0..20).map(|n| n * 2).collect::<Vec<_>>(),
            "{setup}"
        );
        assert!(
            !gave_up.load(Ordering::SeqCst),
            "{setup}: a result was held back"
        );
    }
}

/// The same source under a stage whose source is the stage: the inner one
/// starts on the outer's run, where it may find every seat taken. In
/// completion order it then had no run and never stepped through its work
/// alone, and its first result never came (found by `tests/soak.rs`).
#[test]
fn a_stage_under_another_stage_runs_a_waiting_source_to_the_end() {
    let _watchdog = watchdog();
    for inner in parallel_map_setups("pm-inner", 1..=2) {
        for outer in parallel_map_setups("pm-outer", 2..=2) {
            // A few rounds: the seats are taken at its start only now and
            // then.
            for _ in 0..10 {
                let (source, handled) = RequestResponse::new(4);
                let gave_up = Arc::clone(&source.gave_up);
                let mut results = Vec::new();
                let chain = source
                    .parallel_map_with(inner.options.clone(), |n| n + 1)
                    .parallel_map_with(outer.options.clone(), |n| n * 2);
                for result in chain {
                    results.push(result);
                    let _ = handled.send(());
                }
                results.sort_unstable();
                assert_eq!(results, [2, 4, 6, 8], "{inner} under {outer}");
                assert!(
                    !gave_up.load(Ordering::SeqCst),
                    "{inner} under {outer}: a result was held back"
                );
            }
        }
    }
}

#[test]
fn results_before_a_stall_arrive_before_it_ends() {
    let _watchdog = watchdog();
    let stall_after = 1;
    // One item before the stall is slow, so that whoever runs it is busy
    // while the other thread could reach the stall: a consumer that pulled
    // items itself would then sit in the source while a result waits.
    for slow in 0..=stall_after {
        for setup in parallel_map_setups("pm-stall", 1..=2) {
            let (source, release) = Stalling::new(8, stall_after);
            let timed_out = Arc::clone(&source.timed_out);
            let mut stage = source.parallel_map_with(setup.options.clone(), move |n| {
                if n == slow {
                    thread::sleep(std::time::Duration::from_millis(5));
                }
                n + 100
            });
            // Every result of the items before the stall comes while it
            // lasts; one held back would keep this waiting until the stall
            // times out.
            let mut before: Vec<usize> = (0..=stall_after).map(|_| stage.next().unwrap()).collect();
            release.send(()).unwrap();
            let mut after: Vec<usize> = stage.collect();
            let setup = format!("{setup}, item {slow} slow");
            assert!(
                !timed_out.load(Ordering::SeqCst),
                "{setup}: held back until the stall ended"
            );
            before.sort_unstable();
            after.sort_unstable();
            assert_eq!(
                before,
                (100..=100 + stall_after).collect::<Vec<_>>(),
                "{setup}"
            );
            assert_eq!(after, (102..108).collect::<Vec<_>>(), "{setup}");
        }
    }
}

#[test]
fn the_consumer_never_calls_the_source() {
    let _watchdog = watchdog();
    for setup in parallel_map_setups("pm-caller", 1..=2) {
        let callers = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&callers);
        let source = (0..500).inspect(move |_| {
            recorded.lock().unwrap().push(thread::current().id());
        });
        let total: u64 = source
            .parallel_map_with(setup.options.clone(), |n| n as u64)
            .sum();
        assert_eq!(total, 124_750, "{setup}");
        let here = thread::current().id();
        assert!(
            callers.lock().unwrap().iter().all(|caller| *caller != here),
            "{setup}: the consumer pulled from the source"
        );
    }
}

#[test]
fn a_source_fed_by_a_channel_delivers_each_result_as_it_comes() {
    let _watchdog = watchdog();
    for setup in parallel_map_setups("pm-chan", 1..=2) {
        let (requests, incoming) = std::sync::mpsc::channel::<u32>();
        let mut stage = incoming
            .into_iter()
            .parallel_map_with(setup.options.clone(), |n| n * 3);
        // One request at a time: each answer must come while the channel
        // is still open and empty, with the source blocked in `recv`.
        for n in 0..10 {
            requests.send(n).unwrap();
            assert_eq!(stage.next(), Some(n * 3), "{setup}");
        }
        drop(requests);
        assert_eq!(stage.next(), None, "{setup}");
    }
}

/// The stage of [`a_run_stuck_in_the_source`]'s tests: `StuckAt` items
/// tracked by `items`, mapped to results tracked by `results`, through the
/// census; `f` runs `on_item` first.
fn over_a_stuck_source(
    source: StuckAt,
    setup: &Setup,
    census: &Census,
    (items, results): (&Tracker, &Tracker),
    on_item: impl Fn(usize) + Send + Sync + 'static,
) -> ParallelMap<impl Iterator<Item = Tracked> + Send + 'static, Tracked> {
    let (made, f_census, f_results) = (items.clone(), census.clone(), results.clone());
    census
        .source(source)
        .map(move |n| made.track(n))
        .parallel_map_with(setup.options.clone(), move |item: Tracked| {
            let _f = f_census.in_f();
            on_item(item.id);
            f_results.track(item.id)
        })
}

/// Checks what happens once the stuck call of `stuck`, made on
/// `stuck_on`, is released, after the stream of `setup` has ended or been
/// dropped: that thread leaves the stage once the call returns. It drops
/// the source, neither the source nor `f` is called again (not even once
/// more), no thread carries the stage's name, and every item and result
/// is dropped once.
fn assert_the_stuck_run_leaves(
    setup: &Setup,
    stuck: &Stuck,
    stuck_on: thread::ThreadId,
    census: &Census,
    ended: Ended,
    (items, results): (&Tracker, &Tracker),
) {
    // Nothing calls the source while the call is stuck, nor after it.
    let calls = stuck.calls();
    assert!(stuck.is_stuck(), "{setup}: the stuck call returned early");
    stuck.release();
    let dropped_on = stuck
        .dropped
        .recv_timeout(PATIENCE)
        .unwrap_or_else(|_| panic!("{setup}: the source was never dropped"));
    assert_eq!(
        dropped_on, stuck_on,
        "{setup}: the source was not dropped by the thread inside it"
    );
    census.assert_nothing_after(&setup.name, ended);
    assert_eq!(stuck.calls(), calls, "{setup}: the source was called again");
    items.wait_until_each_dropped_once(&format!("{setup}: items"));
    results.wait_until_each_dropped_once(&format!("{setup}: results"));
    assert!(!stuck.timed_out(), "{setup}: the stuck call was waited for");
}

#[test]
fn a_run_stuck_in_the_source_does_not_hold_up_dropping_the_stage() {
    let _watchdog = watchdog();
    for setup in parallel_map_setups("stkd", 1..=3) {
        // Items 0, 1 and 2, then the call for item 3 sticks.
        let (source, stuck) = StuckAt::new(100, 3);
        let census = Census::default();
        let trackers = (&Tracker::default(), &Tracker::default());
        let mut stage = over_a_stuck_source(source, &setup, &census, trackers, |_| {});
        let taken: Vec<usize> = stage.by_ref().take(3).map(|result| result.id).collect();
        assert_eq!(taken, [0, 1, 2], "{setup}");
        let (stuck_on, stuck_in) = stuck
            .entered
            .recv_timeout(PATIENCE)
            .unwrap_or_else(|_| panic!("{setup}: no run got stuck in the source"));
        assert!(stuck_in.is_some(), "{setup}: stuck, but not on a run");
        let ended = census.calls_so_far(Source::MayBeInNext);
        // Returns while the call is stuck, and before it returns.
        assert_drop_returns(stage, &format!("{setup}: a run was inside the source"));
        assert_the_stuck_run_leaves(&setup, &stuck, stuck_on, &census, ended, trackers);
    }
}

#[test]
fn a_panic_in_f_does_not_wait_for_a_run_stuck_in_the_source() {
    let _watchdog = watchdog();
    // The run that pulls goes from item 0 into the stuck call for item 4
    // in one go, leaving items 0 to 3 to the other takers: so the window
    // must have room for all five, and someone else must take them (in
    // completion order with one thread, the run runs each item before it
    // pulls the next, and no call of `f` can overlap the stuck one).
    let setups = parallel_map_setups("stkp", 1..=3)
        .into_iter()
        .filter(|setup| setup.window >= 8 && (setup.threads > 1 || !setup.completion));
    for setup in setups {
        let (source, stuck) = StuckAt::new(100, 4);
        let is_stuck = stuck.stuck_flag();
        let census = Census::default();
        let trackers = (&Tracker::default(), &Tracker::default());
        // Item 3 panics, but only once the call for item 4 is stuck.
        let on_item = move |n| {
            if n == 3 {
                wait_until("a run is stuck in the source", || {
                    is_stuck.load(Ordering::SeqCst)
                });
                std::panic::panic_any(Boom(3));
            }
        };
        let mut stage = over_a_stuck_source(source, &setup, &census, trackers, on_item);
        let mut ids = stage.by_ref().map(|result| result.id);
        let mut got = drain_to_panic(&setup.to_string(), &mut ids, 3);
        got.sort_unstable();
        assert_eq!(got, [0, 1, 2], "{setup}: not the items before the panic");
        let (stuck_on, _) = stuck
            .entered
            .try_recv()
            .unwrap_or_else(|_| panic!("{setup}: no run was stuck"));
        // Right at the panic: no call of f runs, and no thread but the
        // one stuck in the source carries the stage's name.
        let ended = census.assert_ended(&setup.name, Source::MayBeInNext);
        drop(stage);
        assert_the_stuck_run_leaves(&setup, &stuck, stuck_on, &census, ended, trackers);
    }
}
