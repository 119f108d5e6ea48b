//! Checks of the contract that many tests repeat: a panic after exactly
//! these items, then a stream that stays ended; the results before a
//! `parallel_map` panic in either order; a stage that has stopped (and how
//! far it got); an early drop.
#![allow(dead_code, unreachable_pub)]

use std::fmt::Debug;
use std::sync::mpsc::Receiver;
use std::thread::ThreadId;

use super::{
    PATIENCE, Setup, assert_drop_returns, boom_of, drain_catching, threads_named, wait_until,
    wait_until_no_thread_is_named,
};

/// Pulls `stage` to its end and checks that it ended with the panic
/// `Boom(boom)`, raised once, and then stays ended: `None`, again and
/// again, never another panic. The items that came before the panic, for
/// the caller to check.
pub fn drain_to_panic<I: Iterator>(what: &str, stage: &mut I, boom: usize) -> Vec<I::Item> {
    let (items, payload) = drain_catching(stage);
    let payload = payload.unwrap_or_else(|| panic!("{what}: the stream ended without the panic"));
    assert_eq!(
        boom_of(payload.as_ref()),
        Some(boom),
        "{what}: another payload"
    );
    for _ in 0..3 {
        let after = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| stage.next()));
        match after {
            Ok(None) => {}
            Ok(Some(_)) => panic!("{what}: the stream went on after the panic"),
            Err(_) => panic!("{what}: a second panic after the first"),
        }
    }
    items
}

/// Pulls `stage` to its end and checks that it yields exactly `expected`,
/// in this order, then the panic `Boom(boom)` once, then stays ended.
pub fn assert_panics_after<I>(what: &str, stage: &mut I, expected: &[I::Item], boom: usize)
where
    I: Iterator,
    I::Item: PartialEq + Debug,
{
    let items = drain_to_panic(what, stage, boom);
    assert_eq!(
        items, expected,
        "{what}: not exactly the items before the panic"
    );
}

/// Checks the `results` a `parallel_map` stage of `setup` over `0..len`
/// (mapping each item to itself) delivered before a panic at item
/// `first_lost`: in input order exactly those before it, in order; in
/// completion order each of those, in any order, and perhaps some after
/// it (run before the panic), none twice, never `first_lost` itself.
pub fn assert_results_before_panic(
    setup: &Setup,
    results: &[usize],
    first_lost: usize,
    len: usize,
) {
    if !setup.completion {
        let expected: Vec<usize> = (0..first_lost).collect();
        assert_eq!(
            results, expected,
            "{setup}: not the results before the panic"
        );
        return;
    }
    let mut sorted = results.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), results.len(), "{setup}: a result came twice");
    assert!(
        sorted.iter().all(|&n| n < len && n != first_lost),
        "{setup}: {results:?}"
    );
    let before = sorted.iter().take_while(|&&n| n < first_lost).count();
    assert_eq!(
        before, first_lost,
        "{setup}: results before the panic are missing: {results:?}"
    );
}

/// Waits until a stage has stopped, and returns how far it got: until
/// `progress` (its pulls, say) has reached `at_least` and, on two looks in
/// a row, has not moved while none of the threads carrying the stage's
/// `name` was running: each was asleep (waiting in place, say), or there
/// were none (a stage with nothing to do gives its threads back). Never
/// true of a stage that has not got as far as `at_least`.
pub fn wait_until_stopped(name: &str, at_least: usize, progress: impl Fn() -> usize) -> usize {
    let mut last_look = None;
    let mut stopped_at = 0;
    wait_until(
        &format!("{name} stops, having got to {at_least} at least"),
        || {
            let before = progress();
            // Miri has no `/proc` to read thread states in.
            let asleep = cfg!(miri) || threads_named(name).iter().all(|t| t.state == 'S');
            let now = progress();
            let look = (before >= at_least && asleep && before == now).then_some(now);
            let still = look.is_some() && look == last_look;
            last_look = look;
            stopped_at = now;
            still
        },
    );
    stopped_at
}

/// Drops `stage` early, as a consumer that stops does, and checks what the
/// contract promises: the drop returns at once; the source is dropped (as
/// `source_dropped` tells) on one of the stage's threads, neither this
/// thread nor the dropper's; and no thread carries the stage's `name` (or
/// runs its code) once that has happened. The thread the source was
/// dropped on.
pub fn assert_early_drop<S: Send + 'static>(
    stage: S,
    name: &str,
    source_dropped: &Receiver<ThreadId>,
) -> ThreadId {
    let dropper = assert_drop_returns(stage, &format!("{name} dropped early"));
    let dropped_on = source_dropped
        .recv_timeout(PATIENCE)
        .unwrap_or_else(|_| panic!("{name}: the source was never dropped"));
    assert_ne!(
        dropped_on,
        std::thread::current().id(),
        "{name}: the source was dropped on the consumer's thread"
    );
    assert_ne!(
        dropped_on, dropper,
        "{name}: the source was dropped by the drop itself"
    );
    wait_until_no_thread_is_named(name, &format!("no thread carries {name}'s name"));
    dropped_on
}
