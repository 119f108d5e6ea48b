//! The scoped stages: the `off_thread` contract, with borrowed sources.

mod common;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::thread;

use common::{Boom, Counting, drain_catching, panicking_at, stage_name, threads_named, watchdog};
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
