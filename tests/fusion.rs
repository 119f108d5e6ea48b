//! A `parallel_map` chained right after another runs as one stage with it,
//! keeping every promise of each: order, completeness, panics in their
//! turn, each `init` once per thread, profile rows; and the two stay apart
//! when they must.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, ThreadId};

use common::{Boom, Counting, drain_catching, stage_name, watchdog};
use threadpipe::prelude::*;
use threadpipe::{ParallelMapOptions, Profile};

fn options(name: &str) -> ParallelMapOptions {
    ParallelMapOptions::new().name(name)
}

#[test]
fn three_chained_stages_keep_the_order_and_every_item() {
    let _watchdog = watchdog();
    for window in [1, 3, 64] {
        let got: Vec<u64> = (0..3_000u64)
            .parallel_map_with(ParallelMapOptions::new().window(window), |n| n * 3)
            .parallel_map(|n| n + 1)
            .parallel_map_with(ParallelMapOptions::new().window(window * 2), |n| {
                n.to_string()
            })
            .map(|text| text.parse::<u64>().unwrap())
            .collect();
        assert_eq!(got, (0..3_000u64).map(|n| n * 3 + 1).collect::<Vec<_>>());
    }
}

#[test]
fn chained_stages_fuse_into_one_whose_threads_run_both() {
    let _watchdog = watchdog();
    // The first closure runs on the second stage's threads (or the
    // consumer's), the sign that the two are one stage.
    let firsts: Vec<Option<String>> = (0..500)
        .parallel_map_with(options("fst"), |_| stage_name())
        .parallel_map_with(options("snd"), |name| name)
        .collect();
    assert!(
        firsts
            .iter()
            .all(|name| name.as_deref().is_none_or(|name| name.starts_with("snd-"))),
        "{firsts:?}"
    );
}

#[test]
fn stages_with_other_thread_caps_stay_apart_and_keep_the_order() {
    let _watchdog = watchdog();
    // Fused, the first stage's closure would run on the second's threads
    // only; apart, it has threads of its own (and its consumer, the second
    // stage's puller, may run some of its items).
    let firsts: Vec<(u32, Option<String>)> = (0..500u32)
        .parallel_map_with(options("fst").threads(1), |n| (n, stage_name()))
        .parallel_map_with(options("snd").threads(2), |named| named)
        .collect();
    let order: Vec<u32> = firsts.iter().map(|(n, _)| *n).collect();
    assert_eq!(order, (0..500).collect::<Vec<_>>());
    assert!(
        firsts.iter().all(|(_, name)| name
            .as_deref()
            .is_none_or(|name| name == "fst-0" || name.starts_with("snd-"))),
        "{firsts:?}"
    );
}

#[test]
fn a_started_stage_is_chained_not_fused() {
    let _watchdog = watchdog();
    let mut first = (0..100u32).parallel_map(|n| n + 1);
    assert_eq!(first.next(), Some(1));
    let rest: Vec<u32> = first.parallel_map(|n| n * 10).collect();
    assert_eq!(rest, (2..=100).map(|n| n * 10).collect::<Vec<_>>());
}

#[test]
fn a_panic_in_either_stage_arrives_in_its_turn() {
    let _watchdog = watchdog();
    for first_panics in [true, false] {
        for at in [0u64, 17, 99] {
            let mut stage = (0..100u64)
                .parallel_map(move |n| {
                    if first_panics && n == at {
                        std::panic::panic_any(Boom(at as usize));
                    }
                    n
                })
                .parallel_map(move |n| {
                    if !first_panics && n == at {
                        std::panic::panic_any(Boom(at as usize));
                    }
                    n * 2
                });
            let (results, payload) = drain_catching(&mut stage);
            assert_eq!(results, (0..at).map(|n| n * 2).collect::<Vec<_>>());
            assert_eq!(
                payload.expect("the panic").downcast_ref::<Boom>(),
                Some(&Boom(at as usize))
            );
            assert_eq!(stage.next(), None);
        }
    }
}

#[test]
fn each_init_runs_once_on_each_thread_that_runs_its_closure() {
    let _watchdog = watchdog();
    let made: Arc<Mutex<HashMap<(&'static str, ThreadId), usize>>> = Arc::default();
    let count = |stage: &'static str,
                 made: &Arc<Mutex<HashMap<(&'static str, ThreadId), usize>>>| {
        let made = Arc::clone(made);
        move || {
            *made
                .lock()
                .unwrap()
                .entry((stage, thread::current().id()))
                .or_default() += 1;
            thread::current().id()
        }
    };
    let total: u64 = (0..5_000u64)
        .parallel_map_init(count("first", &made), |made_on: &mut ThreadId, n| {
            assert_eq!(
                *made_on,
                thread::current().id(),
                "a state used on another thread"
            );
            n
        })
        .parallel_map_init(count("second", &made), |made_on: &mut ThreadId, n| {
            assert_eq!(
                *made_on,
                thread::current().id(),
                "a state used on another thread"
            );
            n + 1
        })
        .sum();
    assert_eq!(total, (1..=5_000u64).sum());
    let made = made.lock().unwrap();
    assert!(made.values().all(|&count| count == 1), "{made:?}");
    // Every thread that ran one ran the other (they are one stage).
    for (stage, thread) in made.keys() {
        let other = if *stage == "first" { "second" } else { "first" };
        assert!(made.contains_key(&(other, *thread)), "{made:?}");
    }
}

#[test]
fn the_smaller_window_bounds_the_fused_stage() {
    let _watchdog = watchdog();
    let source = Counting::new(None);
    let pulls = Arc::clone(&source.pulls);
    let mut stage = source
        .parallel_map_with(ParallelMapOptions::new().window(4), |n| n)
        .parallel_map_with(ParallelMapOptions::new().window(64), |n| n);
    assert_eq!(stage.by_ref().take(3).collect::<Vec<_>>(), [0, 1, 2]);
    common::wait_until("the runs stop at the window", || {
        pulls.load(Ordering::SeqCst) >= 4 && common::threads_named("parallel_map").is_empty()
    });
    assert!(
        pulls.load(Ordering::SeqCst) <= 3 + 4,
        "pulled {}",
        pulls.load(Ordering::SeqCst)
    );
}

#[test]
fn each_fused_stage_keeps_its_profile_row() {
    let _watchdog = watchdog();
    let profile = Profile::new();
    let count = (0..1_000u64)
        .parallel_map_with(options("one").profile(&profile), |n| n)
        .parallel_map_with(options("two").profile(&profile), |n| n)
        .count();
    assert_eq!(count, 1_000);
    let report = profile.report();
    let names: Vec<&str> = report.stages().iter().map(|stage| stage.name()).collect();
    assert_eq!(names, ["one", "two"]);
    assert!(
        report.stages().iter().all(|stage| stage.items() == 1_000),
        "{report}"
    );
}

#[test]
fn calls_run_once_per_item_through_both() {
    let _watchdog = watchdog();
    let (first, second) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (a, b) = (Arc::clone(&first), Arc::clone(&second));
    let total: usize = (0..10_000usize)
        .parallel_map(move |n| {
            a.fetch_add(1, Ordering::Relaxed);
            n
        })
        .parallel_map(move |n| {
            b.fetch_add(1, Ordering::Relaxed);
            n
        })
        .sum();
    assert_eq!(total, (0..10_000).sum());
    assert_eq!(
        (
            first.load(Ordering::Relaxed),
            second.load(Ordering::Relaxed)
        ),
        (10_000, 10_000)
    );
}
