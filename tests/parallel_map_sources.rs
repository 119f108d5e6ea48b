//! `parallel_map` with sources that block, stall, or wait for the consumer:
//! no item and no result ever waits on a thread blocked inside the source.

mod common;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::thread;

use common::{RequestResponse, Stalling, parallel_map_setups, watchdog};
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
