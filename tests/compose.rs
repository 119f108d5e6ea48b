//! `parallel_map` composed with the standard adapters instead of variants
//! of its own: filtering, flattening, `for_each`, and stopping at the first
//! error.

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use common::{Counting, threads_named, wait_until, watchdog};
use threadpipe::ParallelMapOptions;
use threadpipe::prelude::*;

#[test]
fn filter_map_is_parallel_map_then_flatten() {
    let _watchdog = watchdog();
    let kept: Vec<u32> = (0..1000u32)
        .parallel_map(|n| (n % 7 == 0).then_some(n * 2))
        .flatten()
        .collect();
    let expected: Vec<u32> = (0..1000u32)
        .filter_map(|n| (n % 7 == 0).then_some(n * 2))
        .collect();
    assert_eq!(kept, expected);
}

#[test]
fn flat_map_is_parallel_map_to_a_vec_then_flatten() {
    let _watchdog = watchdog();
    let flat: Vec<u32> = (0..300u32)
        .parallel_map(|n| vec![n; (n % 4) as usize])
        .flatten()
        .collect();
    let expected: Vec<u32> = (0..300u32)
        .flat_map(|n| vec![n; (n % 4) as usize])
        .collect();
    assert_eq!(flat, expected);
}

#[test]
fn for_each_sees_every_result_in_order_on_the_consumer() {
    let _watchdog = watchdog();
    let here = std::thread::current().id();
    let mut seen = Vec::new();
    (0..500u32).parallel_map(|n| n + 1).for_each(|n| {
        assert_eq!(std::thread::current().id(), here);
        seen.push(n);
    });
    assert_eq!(seen, (1..=500).collect::<Vec<_>>());
}

#[test]
fn collecting_into_a_result_stops_at_the_first_error_in_input_order() {
    let _watchdog = watchdog();
    let first_err = 100;
    for (threads, window) in [(1, 4), (2, 16), (4, 64)] {
        let name = format!("pm-ff-{threads}");
        let source = Counting::new(None);
        let pulls = Arc::clone(&source.pulls);
        let options = ParallelMapOptions::new()
            .name(&name)
            .threads(threads)
            .window(window);
        let parsed: Result<Vec<usize>, String> = source
            .parallel_map_with(options, move |n| {
                // Later items fail too, and may finish first: the first one
                // in input order is the one reported.
                if n >= first_err && n % 3 == 1 {
                    Err(format!("item {n}"))
                } else {
                    Ok(n)
                }
            })
            .collect();
        assert_eq!(
            parsed,
            Err(format!("item {first_err}")),
            "threads {threads}"
        );
        // Collecting dropped the adapter, which cancelled the pool: the
        // workers stop, having pulled at most the window (and the item one
        // of them holds) past the error.
        wait_until("the workers have exited", || {
            threads_named(&name).is_empty()
        });
        let pulled = pulls.load(Ordering::SeqCst);
        assert!(
            pulled <= first_err + 1 + window + threads,
            "threads {threads}, window {window}: pulled {pulled}"
        );
    }
}
