//! The scoped stages: the contract, with borrowed sources, closures and
//! states.

mod common;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::thread;

use common::{
    Boom, Census, Counting, PanicsOnDrop, Setup, Source, assert_results_before_panic,
    drain_catching, drain_to_panic, panicking_at, parallel_map_setups, stage_name, threads_named,
    watchdog,
};
use threadpipe::OffThreadOptions;
use threadpipe::prelude::*;

#[test]
fn borrows_a_glossary_and_keeps_order() {
    let _watchdog = watchdog();
    let glossary: HashMap<usize, String> = (0..500).map(|n| (n, format!("word{n}"))).collect();
    let keys: Vec<usize> = (0..500).rev().collect();
    let words: Vec<&str> = thread::scope(|scope| {
        keys.iter()
            .map(|key| glossary[key].as_str())
            .off_thread_scoped_with(scope, OffThreadOptions::new().capacity(3))
            .collect()
    });
    let expected: Vec<String> = (0..500).rev().map(|n| format!("word{n}")).collect();
    assert_eq!(words, expected);
}

#[test]
fn building_pulls_nothing_and_starts_no_thread() {
    let _watchdog = watchdog();
    let source = Counting::new(None);
    let pulls = Arc::clone(&source.pulls);
    thread::scope(|scope| {
        let mut stage = source
            .map(|n| (n, stage_name()))
            .off_thread_scoped_with(scope, OffThreadOptions::new().name("scoped-lazy"));
        assert_eq!(pulls.load(Ordering::SeqCst), 0);
        assert!(threads_named("scoped-lazy").is_empty());
        assert_eq!(stage.next(), Some((0, Some("scoped-lazy".to_owned()))));
    });
    // The scope waits for its threads, which leave the stage first.
    assert!(threads_named("scoped-lazy").is_empty());
}

#[test]
fn panic_payload_reaches_consumer_and_not_the_scope() {
    let _watchdog = watchdog();
    for at in 0..4 {
        let (items, payload) = thread::scope(|scope| {
            let mut stage = panicking_at(at).off_thread_scoped(scope);
            drain_catching(&mut stage)
        });
        assert_eq!(items, (0..at).collect::<Vec<_>>());
        assert_eq!(
            payload.and_then(|p| p.downcast::<Boom>().ok()).map(|b| *b),
            Some(Boom(at))
        );
    }
}

#[test]
fn early_drop_lets_the_scope_end() {
    let _watchdog = watchdog();
    let seen = Mutex::new(Vec::new());
    let (source, dropped) = Counting::with_drop_signal(None);
    thread::scope(|scope| {
        let mut stage = source
            .inspect(|n| seen.lock().unwrap().push(*n))
            .off_thread_scoped_with(scope, OffThreadOptions::new().capacity(2));
        assert_eq!(stage.next(), Some(0));
        drop(stage);
    });
    // The scope could only end once the worker had stopped and dropped its source.
    assert!(dropped.try_recv().is_ok());
    assert!(seen.lock().unwrap().len() <= 1 + 2 + 1);
}

#[test]
fn size_hint_and_debug() {
    let _watchdog = watchdog();
    let data = [1, 2, 3];
    thread::scope(|scope| {
        let mut stage = data.iter().off_thread_scoped(scope);
        assert_eq!(stage.len(), 3);
        assert!(format!("{stage:?}").starts_with(r#"OffThreadScoped { state: "idle""#));
        stage.next();
        assert_eq!(stage.size_hint(), (2, Some(2)));
        stage.by_ref().for_each(drop);
        assert_eq!(
            format!("{stage:?}"),
            r#"OffThreadScoped { state: "finished", .. }"#
        );
    });
}

/// Items in the scoped `parallel_map` panic tests; panics happen at [`AT`]
/// unless at the end.
const LEN: usize = 40;
const AT: usize = 17;

/// Checks that `stage`, a scoped `parallel_map` stage of `setup` over
/// `0..LEN` watched by `census`, raises `Boom(boom)` after the results
/// before `first_lost`, once, and stays ended; and that its threads let
/// go (see `Census::assert_let_go`), all inside the scope.
fn assert_scoped_panic_arrives(
    setup: &Setup,
    stage: impl Iterator<Item = usize>,
    census: &Census,
    (boom, first_lost): (usize, usize),
    source: Source,
) {
    let mut stage = stage;
    let results = drain_to_panic(&setup.to_string(), &mut stage, boom);
    census.assert_let_go(&setup.name, source);
    assert_results_before_panic(setup, &results, first_lost, LEN);
}

#[test]
fn parallel_map_scoped_raises_each_panic_in_its_turn_and_not_at_the_scope() {
    let _watchdog = watchdog();
    // Borrowed by every closure below: what needs the scope.
    let offset = 0;
    let offset = &offset;
    for setup in parallel_map_setups("scp", 1..=3) {
        for case in ["source", "drop", "f", "init", "state"] {
            let census = Census::default();
            let (watching, options) = (census.clone(), setup.options.clone());
            // Panics at AT in the cases that say so.
            let f = move |n: usize| {
                let _f = watching.in_f();
                if n == AT && (case == "f" || case == "state") {
                    std::panic::panic_any(Boom(AT));
                }
                n + offset
            };
            let setup = &setup;
            let census = &census;
            // A panic that escaped to one of the scope's threads would be
            // raised again as the scope ends.
            thread::scope(|scope| match case {
                "source" => {
                    let stage = census
                        .source(panicking_at(AT))
                        .parallel_map_scoped_with(scope, options, f);
                    assert_scoped_panic_arrives(setup, stage, census, (AT, AT), Source::Finished);
                }
                "drop" => {
                    let stage = census
                        .source(PanicsOnDrop(0..LEN))
                        .parallel_map_scoped_with(scope, options, f);
                    let boom = (usize::MAX, LEN);
                    assert_scoped_panic_arrives(setup, stage, census, boom, Source::Finished);
                }
                "f" => {
                    let stage = census
                        .source(0..LEN)
                        .parallel_map_scoped_with(scope, options, f);
                    assert_scoped_panic_arrives(
                        setup,
                        stage,
                        census,
                        (AT, AT),
                        Source::MayBeInNext,
                    );
                }
                "init" => {
                    let init = || -> &usize { std::panic::panic_any(Boom(0)) };
                    let stage = census.source(0..LEN).parallel_map_init_scoped_with(
                        scope,
                        options,
                        init,
                        move |_state: &mut &usize, n| f(n),
                    );
                    assert_scoped_panic_arrives(setup, stage, census, (0, 0), Source::MayBeInNext);
                }
                "state" => {
                    // A state that borrows, and f panics.
                    let stage = census.source(0..LEN).parallel_map_init_scoped_with(
                        scope,
                        options,
                        || offset,
                        move |state: &mut &usize, n| f(n) + **state,
                    );
                    assert_scoped_panic_arrives(
                        setup,
                        stage,
                        census,
                        (AT, AT),
                        Source::MayBeInNext,
                    );
                }
                _ => unreachable!(),
            });
        }
    }
}
