//! The one set of threads every stage runs on: blocked sources do not
//! starve ready work, nesting and many callers at once keep every promise,
//! a stage dropped with work still queued lets go of everything, and one
//! pipeline's panic leaves the others alone.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::thread;

use common::{Counting, LetGo, PATIENCE, assert_drop_returns, drain_catching, watchdog};
use threadpipe::prelude::*;
use threadpipe::{OffThreadOptions, ParallelMapOptions};

/// A source that yields nothing until its gate opens (or closes): a socket
/// with no data yet. Says on `entered` when it starts waiting.
fn blocked_source(
    entered: mpsc::Sender<()>,
    gate: mpsc::Receiver<u32>,
) -> impl Iterator<Item = u32> + Send + 'static {
    let mut entered = Some(entered);
    std::iter::from_fn(move || {
        if let Some(entered) = entered.take() {
            let _ = entered.send(());
        }
        gate.recv().ok()
    })
}

#[test]
fn ready_work_arrives_while_more_sources_block_than_there_are_cores() {
    let _watchdog = watchdog();
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    let blocked = cores + 1;
    let (entered, waiting) = mpsc::channel();
    let mut gates = Vec::new();
    let mut consumers = Vec::new();
    for stage in 0..blocked {
        let (gate, closed) = mpsc::channel::<u32>();
        gates.push(gate);
        let source = blocked_source(entered.clone(), closed);
        let options = OffThreadOptions::new().name(format!("blocked-{stage}"));
        consumers.push(thread::spawn(move || {
            source.off_thread_with(options).count()
        }));
    }
    // Every blocking stage holds a thread of the set, inside its source.
    for _ in 0..blocked {
        waiting
            .recv_timeout(PATIENCE)
            .expect("a blocking stage started");
    }
    // Ready work still gets threads: those stuck in sources do not count.
    let squares: u64 = (0..2_000u64)
        .parallel_map_with(ParallelMapOptions::new().name("ready"), |n| n * n)
        .sum();
    assert_eq!(squares, (0..2_000u64).map(|n| n * n).sum());
    let passed_on: usize = (0..500)
        .off_thread_with(OffThreadOptions::new().name("ready-feed"))
        .count();
    assert_eq!(passed_on, 500);
    // Each blocked source gets one item, then its end.
    for gate in &gates {
        gate.send(7).unwrap();
    }
    drop(gates);
    for consumer in consumers {
        assert_eq!(consumer.join().unwrap(), 1);
    }
}

#[test]
fn parallel_map_nested_three_deep_keeps_order_and_every_item() {
    let _watchdog = watchdog();
    for threads in [None, Some(3), Some(16)] {
        let options = match threads {
            Some(threads) => ParallelMapOptions::new().threads(threads),
            None => ParallelMapOptions::new(),
        };
        let (middle, inner) = (options.clone(), options.clone());
        let got: Vec<Vec<u64>> = (0..6u64)
            .parallel_map_with(options, move |a| {
                let inner = inner.clone();
                (0..5u64)
                    .parallel_map_with(middle.clone(), move |b| {
                        (0..40u64)
                            .parallel_map_with(inner.clone(), move |c| a * 10_000 + b * 100 + c)
                            .sum::<u64>()
                    })
                    .collect()
            })
            .collect();
        let expected: Vec<Vec<u64>> = (0..6u64)
            .map(|a| {
                (0..5u64)
                    .map(|b| (0..40u64).map(|c| a * 10_000 + b * 100 + c).sum())
                    .collect()
            })
            .collect();
        assert_eq!(got, expected, "threads {threads:?}");
    }
}

#[test]
fn a_thousand_short_pipelines_from_sixteen_threads_at_once() {
    let _watchdog = watchdog();
    let start = Arc::new(Barrier::new(16));
    let callers: Vec<_> = (0..16u64)
        .map(|caller| {
            let start = Arc::clone(&start);
            thread::spawn(move || {
                start.wait();
                for round in 0..63u64 {
                    let len = (caller * 7 + round) % 40;
                    let expected: u64 = (0..len).map(|n| n * 3 + caller).sum();
                    let got: u64 = match round % 4 {
                        0 => (0..len).map(move |n| n * 3 + caller).off_thread().sum(),
                        1 => (0..len).parallel_map(move |n| n * 3 + caller).sum(),
                        2 => (0..len)
                            .off_thread()
                            .parallel_map(move |n| n * 3 + caller)
                            .sum(),
                        _ => (0..len)
                            .parallel_map(move |n| n * 3)
                            .parallel_map(move |n| n + caller)
                            .sum(),
                    };
                    assert_eq!(got, expected, "caller {caller}, round {round}");
                }
            })
        })
        .collect();
    for caller in callers {
        caller.join().unwrap();
    }
}

#[test]
fn a_stage_dropped_while_its_work_is_queued_lets_go_of_everything() {
    let _watchdog = watchdog();
    for round in 0..200 {
        let let_go = LetGo::default();
        let token = let_go.token();
        let (source, dropped) = Counting::with_drop_signal(None);
        // A full ring of 2 makes the worker's run end, and each item taken
        // asks for another: the drop comes while that run is queued, or
        // just begun.
        let mut stage = source
            .inspect(move |_| {
                let _held = &token;
            })
            .off_thread_with(OffThreadOptions::new().capacity(2));
        for _ in 0..(round % 5) {
            stage.next();
        }
        assert_drop_returns(stage, "the stage had work queued");
        dropped
            .recv_timeout(PATIENCE)
            .expect("the source is dropped, on a thread of the set");
        common::wait_until("the stage let go of its closure", || let_go.dropped() == 1);
        if round % 5 > 0 {
            // Started: dropped by the stage's own threads, never here.
            assert_ne!(
                let_go.dropped_on(),
                [thread::current().id()],
                "round {round}"
            );
        }
    }
}

#[test]
fn a_panic_in_one_pipeline_leaves_a_concurrent_one_untouched() {
    let _watchdog = watchdog();
    let started = Arc::new(Barrier::new(2));
    let steady = {
        let started = Arc::clone(&started);
        thread::spawn(move || {
            started.wait();
            (0..20_000u64).parallel_map(|n| n % 7).sum::<u64>()
        })
    };
    started.wait();
    for _ in 0..20 {
        let mut failing = (0..1_000u64).parallel_map(|n| {
            if n == 500 {
                std::panic::panic_any(n);
            }
            n
        });
        let (results, payload) = drain_catching(&mut failing);
        assert_eq!(results, (0..500).collect::<Vec<_>>());
        assert_eq!(payload.unwrap().downcast_ref::<u64>(), Some(&500));
    }
    let expected: u64 = (0..20_000u64).map(|n| n % 7).sum();
    assert_eq!(steady.join().unwrap(), expected);
}

#[test]
fn a_stage_in_a_scope_keeps_to_the_same_budget_and_ends_with_it() {
    let _watchdog = watchdog();
    let inside = AtomicUsize::new(0);
    let most = AtomicUsize::new(0);
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    let total: u64 = thread::scope(|scope| {
        (0..400u64)
            .parallel_map_scoped_with(scope, ParallelMapOptions::new().threads(8), |n| {
                if threadpipe::current_stage_name().is_some() {
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    // Busy, not blocked: the budget holds it to the cores.
                    let until = std::time::Instant::now() + std::time::Duration::from_micros(200);
                    while std::time::Instant::now() < until {
                        std::hint::spin_loop();
                    }
                    inside.fetch_sub(1, Ordering::SeqCst);
                }
                n
            })
            .sum()
    });
    assert_eq!(total, (0..400u64).sum());
    let most = most.load(Ordering::SeqCst);
    assert!(
        most >= 1 && most <= cores,
        "{most} threads ran f at once on {cores} cores"
    );
}
