//! Stages run inline, on the consumer's thread, when asked to (per stage,
//! or for the whole program through `THREADPIPE_INLINE`): the same items,
//! order and panics, and no thread.

mod common;

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::thread;

use common::{Boom, boom_of, drain_catching, panicking_at, watchdog};
use threadpipe::prelude::*;
use threadpipe::{OffThreadOptions, ParallelMapOptions, Profile};

#[test]
fn an_inline_off_thread_stage_is_the_plain_chain() {
    let _watchdog = watchdog();
    let here = thread::current().id();
    let pulled = Arc::new(Mutex::new(0));
    let counter = Arc::clone(&pulled);
    let profile = Profile::new();
    let options = OffThreadOptions::new()
        .inline(true)
        .name("inline")
        .profile(&profile);
    let mut stage = (0..5)
        .inspect(move |_| *counter.lock().unwrap() += 1)
        .map(|n| (n, thread::current().id()))
        .off_thread_with(options);
    assert_eq!(*pulled.lock().unwrap(), 0, "building pulled");
    assert_eq!(stage.size_hint(), (5, Some(5)));
    let got: Vec<(i32, thread::ThreadId)> = stage.by_ref().collect();
    assert_eq!(got, (0..5).map(|n| (n, here)).collect::<Vec<_>>());
    assert_eq!(stage.next(), None);
    let report = profile.report();
    assert_eq!(
        (report.stages()[0].threads(), report.stages()[0].items()),
        (0, 5)
    );
}

#[test]
fn an_inline_parallel_map_stage_is_a_plain_map_with_one_state() {
    let _watchdog = watchdog();
    let here = thread::current().id();
    let options = ParallelMapOptions::new().inline(true).threads(4);
    let got: Vec<(u32, u32, bool)> = (0..6u32)
        .parallel_map_init_with(
            options,
            || 0,
            move |calls: &mut u32, n| {
                *calls += 1;
                (n, *calls, thread::current().id() == here)
            },
        )
        .collect();
    let expected: Vec<(u32, u32, bool)> = (0..6).map(|n| (n, n + 1, true)).collect();
    assert_eq!(got, expected);
}

#[test]
fn an_inline_stage_raises_a_panic_once_and_ends() {
    let _watchdog = watchdog();
    let mut stage = panicking_at(3).off_thread_with(OffThreadOptions::new().inline(true));
    let (items, payload) = drain_catching(&mut stage);
    assert_eq!(items, [0, 1, 2]);
    assert_eq!(boom_of(payload.expect("the panic").as_ref()), Some(3));
    assert_eq!(stage.next(), None);

    let options = ParallelMapOptions::new().inline(true);
    let mut stage = (0..10).parallel_map_with(options, |n| {
        if n == 4 {
            std::panic::panic_any(Boom(4));
        }
        n
    });
    let (results, payload) = drain_catching(&mut stage);
    assert_eq!(results, [0, 1, 2, 3]);
    assert_eq!(boom_of(payload.expect("the panic").as_ref()), Some(4));
    assert_eq!(stage.next(), None);
}

/// Runs itself again, in a child process with `THREADPIPE_INLINE=1`, where
/// it checks that every stage runs on the consumer's thread.
#[test]
fn the_environment_variable_makes_every_stage_inline() {
    let _watchdog = watchdog();
    if std::env::var_os("THREADPIPE_INLINE").is_some() {
        let here = thread::current().id();
        let on_here = move |_| thread::current().id() == here;
        assert!((0..100).map(on_here).off_thread().all(|here| here));
        assert!((0..100).parallel_map(on_here).all(|here| here));
        let completion = ParallelMapOptions::new().in_completion_order();
        assert!(
            (0..100)
                .parallel_map_with(completion, on_here)
                .all(|here| here)
        );
        return;
    }
    let child = Command::new(std::env::current_exe().expect("this test's own binary"))
        .args([
            "--exact",
            "the_environment_variable_makes_every_stage_inline",
        ])
        .env("THREADPIPE_INLINE", "1")
        .output()
        .expect("run this test again");
    assert!(
        child.status.success(),
        "the inline run failed:\n{}",
        String::from_utf8_lossy(&child.stdout)
    );
    // The child ran the test, rather than filtering it out.
    assert!(String::from_utf8_lossy(&child.stdout).contains("1 passed"));
}
