//! The `parallel_map` contract, one promise per test.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;

use common::{
    Boom, Counting, LARGE_WINDOW, LetGo, PATIENCE, assert_drop_returns, assert_early_drop,
    assert_panics_after, drain_catching, drain_to_panic, panicking_at, stage_name, threads_named,
    wait_until, wait_until_no_thread_is_named, wait_until_stopped, watchdog,
};
use threadpipe::ParallelMapOptions;
use threadpipe::prelude::*;

fn options(name: &str, threads: usize, window: usize) -> ParallelMapOptions {
    ParallelMapOptions::new()
        .name(name)
        .threads(threads)
        .window(window)
}

#[test]
fn smoke() {
    let _watchdog = watchdog();
    let got: Vec<u32> = (0..5u32).parallel_map(|n| n * n).collect();
    assert_eq!(got, [0, 1, 4, 9, 16]);
}

#[test]
fn preserves_order_at_every_edge_length() {
    let _watchdog = watchdog();
    for (threads, window) in [(1, 1), (2, 1), (2, 2), (3, 4), (4, 64)] {
        for len in [
            0,
            1,
            window - 1,
            window,
            window + 1,
            3 * window + 2,
            if cfg!(miri) { 40 } else { 3000 },
        ] {
            let got: Vec<String> = (0..len)
                .parallel_map_with(options("order", threads, window), |n| n.to_string())
                .collect();
            let expected: Vec<String> = (0..len).map(|n| n.to_string()).collect();
            assert_eq!(
                got, expected,
                "threads {threads}, window {window}, length {len}"
            );
        }
    }
}

#[cfg_attr(miri, ignore = "Miri has no /proc to read thread states")]
#[test]
fn a_window_larger_than_the_queue_keeps_order_and_its_bound() {
    let _watchdog = watchdog();
    // The queue of pulled entries, and each slot's ring of results, hold
    // 4096: a larger window fills the queue while the pullers run ahead,
    // and they must stop there rather than lose or overwrite an entry.
    // The queue and the rings together hold more than the window, so the
    // window is what stops the pullers. (Not in completion order with one
    // thread: its one ring fills first, since that run runs each item
    // before it pulls the next.)
    let window = LARGE_WINDOW;
    for (threads, completion) in [(1, false), (3, false), (2, true), (3, true)] {
        let name = format!("bigw{threads}{}", if completion { 'c' } else { 'i' });
        let source = Counting::new(Some(60_000));
        let pulls = Arc::clone(&source.pulls);
        let options = options(&name, threads, window);
        let options = if completion {
            options.in_completion_order()
        } else {
            options
        };
        let mut stage = source.parallel_map_with(options, |n| n);
        let first = stage.next().expect("a first result");
        // One delivered: the pullers go up to the window past it (a run
        // that waits in place for room in its ring may stop one short,
        // having read the window's limit before the delivery), and stop.
        let pulled = wait_until_stopped(&name, window, || pulls.load(Ordering::SeqCst));
        assert!(
            pulled <= 1 + window,
            "{name}: pulled {pulled}, past the window"
        );
        let mut rest: Vec<usize> = stage.collect();
        if completion {
            rest.push(first);
            rest.sort_unstable();
            assert_eq!(rest, (0..60_000).collect::<Vec<_>>(), "{name}");
        } else {
            assert_eq!(first, 0, "{name}");
            assert_eq!(rest, (1..60_000).collect::<Vec<_>>(), "{name}");
        }
    }
}

#[test]
fn preserves_order_when_items_finish_out_of_order() {
    let _watchdog = watchdog();
    // Within each group of eight, later items take less time, so with
    // several threads they finish before the earlier ones. (Not by waiting
    // for each other: a call of `f` that waits for another may wait for ever,
    // see the docs.)
    let len = 200;
    let got: Vec<usize> = (0..len)
        .parallel_map_with(options("ooo", 2, 16), |n| {
            thread::sleep(std::time::Duration::from_micros(50 * (7 - n as u64 % 8)));
            n
        })
        .collect();
    assert_eq!(got, (0..len).collect::<Vec<_>>());
}

#[test]
fn a_result_is_handed_over_without_waiting_for_later_ones() {
    let _watchdog = watchdog();
    // Item 1, on a worker, waits until the consumer has result 0: a pool
    // that held result 0 back (to batch it, say) would never deliver it.
    // Item 1 must run on a worker for this to test anything (on the
    // consumer's own thread it could not wait for that, see the docs), so:
    // the source yields item 1 only once the consumer runs item 0 (the
    // worker, inside the source, cannot take item 0), and the consumer
    // finishes item 0 only once a worker has taken item 1.
    let consumer_runs_zero = Arc::new(AtomicBool::new(false));
    let worker_runs_one = Arc::new(AtomicBool::new(false));
    let (runs_zero, runs_one) = (
        Arc::clone(&consumer_runs_zero),
        Arc::clone(&worker_runs_one),
    );
    let source = (0..2).inspect(move |&n| {
        if n == 1 {
            wait_until("the consumer runs item 0", || {
                consumer_runs_zero.load(Ordering::SeqCst)
            });
        }
    });
    let (got_zero, zero_delivered) = mpsc::channel::<()>();
    let zero_delivered = std::sync::Mutex::new(zero_delivered);
    let (report, reports) = mpsc::channel();
    let consumer = thread::spawn(move || {
        let stage = source.parallel_map_with(options("pm-eager", 1, 4), move |n| {
            let on_worker = stage_name().as_deref() == Some("pm-eager-0");
            match (n, on_worker) {
                (0, false) => {
                    runs_zero.store(true, Ordering::SeqCst);
                    wait_until("a worker runs item 1", || runs_one.load(Ordering::SeqCst));
                }
                (1, true) => {
                    runs_one.store(true, Ordering::SeqCst);
                    let _ = zero_delivered.lock().unwrap().recv_timeout(PATIENCE);
                }
                _ => panic!("item {n} ran on the wrong thread (on a worker: {on_worker})"),
            }
            n
        });
        for item in stage {
            report.send(item).unwrap();
        }
    });
    assert_eq!(reports.recv_timeout(PATIENCE), Ok(0), "result 0 held back");
    got_zero.send(()).unwrap_or(());
    assert_eq!(reports.recv_timeout(PATIENCE), Ok(1));
    consumer.join().unwrap();
    assert!(
        worker_runs_one.load(Ordering::SeqCst),
        "item 1 ran on a worker"
    );
}

#[test]
fn completion_order_yields_every_result_once() {
    let _watchdog = watchdog();
    let len = if cfg!(miri) { 100 } else { 5000 };
    let mut got: Vec<usize> = (0..len)
        .parallel_map_with(options("unordered", 3, 8).in_completion_order(), |n| n * 2)
        .collect();
    got.sort_unstable();
    assert_eq!(got, (0..len).map(|n| n * 2).collect::<Vec<_>>());
}

#[test]
fn completion_order_lets_a_fast_item_overtake_a_slow_one() {
    let _watchdog = watchdog();
    // Item 0 cannot finish until item 1 has been delivered: only completion
    // order gets out of this without deadlock.
    let (delivered_one, wait_for_one) = mpsc::channel::<()>();
    let wait_for_one = std::sync::Mutex::new(wait_for_one);
    let mut stage =
        (0..2).parallel_map_with(options("overtake", 2, 2).in_completion_order(), move |n| {
            if n == 0 {
                wait_for_one
                    .lock()
                    .unwrap()
                    .recv_timeout(PATIENCE)
                    .expect("item 1 overtook item 0");
            }
            n
        });
    assert_eq!(stage.next(), Some(1));
    delivered_one.send(()).unwrap();
    assert_eq!(stage.next(), Some(0));
    assert_eq!(stage.next(), None);
}

#[cfg_attr(miri, ignore = "Miri has no /proc to count threads in")]
#[test]
fn building_pulls_nothing_and_starts_no_thread() {
    let _watchdog = watchdog();
    let source = Counting::new(None);
    let pulls = Arc::clone(&source.pulls);
    let mut stage = source
        .map(|n| (n, stage_name()))
        .parallel_map_with(options("pm-lazy", 2, 4), |pulled| pulled);
    let _ = (stage.size_hint(), format!("{stage:?}"));
    assert_eq!(pulls.load(Ordering::SeqCst), 0);
    assert!(threads_named("pm-lazy").is_empty());
    // The first next starts the stage: a thread of the set, named after
    // it, pulls the source (the consumer never does).
    let (n, puller) = stage.next().unwrap();
    assert_eq!(n, 0);
    assert!(
        matches!(puller.as_deref(), Some("pm-lazy-0" | "pm-lazy-1")),
        "{puller:?}"
    );
}

#[cfg_attr(miri, ignore = "Miri has no /proc to read thread states")]
#[test]
fn window_bounds_how_far_workers_run_ahead() {
    let _watchdog = watchdog();
    // `None`: the default window, which is documented as DEFAULT_WINDOW.
    let cases = [(1, Some(1)), (2, Some(3)), (3, Some(8)), (1, None)];
    for completion in [false, true] {
        for (threads, chosen) in cases {
            let window = chosen.unwrap_or(threadpipe::DEFAULT_WINDOW);
            let order = if completion { 'c' } else { 'i' };
            let name = format!("pm-win{order}{window}");
            let source = Counting::new(None);
            let pulls = Arc::clone(&source.pulls);
            let live = Arc::new(AtomicUsize::new(0));
            let calls = Arc::clone(&live);
            let options = ParallelMapOptions::new().name(&name).threads(threads);
            let options = match chosen {
                Some(window) => options.window(window),
                None => options,
            };
            let options = if completion {
                options.in_completion_order()
            } else {
                options
            };
            let mut stage = source.parallel_map_with(options, move |n| {
                calls.fetch_add(1, Ordering::SeqCst);
                n
            });
            let mut taken: Vec<usize> = stage.by_ref().take(5).collect();
            taken.sort_unstable();
            // In completion order too, only items pulled can be delivered:
            // five of those pulled, none twice.
            taken.dedup();
            assert_eq!(taken.len(), 5, "{name}");
            // Workers fill the window, then stop, and start again only once
            // a quarter of it is free: with 5 delivered, they have pulled at
            // least this much, and never more than the window allows.
            let quarter = (window / 4).max(1);
            let at_least = (5 + window + 1).saturating_sub(quarter).max(window);
            let at_most = 5 + window;
            // A worker that kept going, or spun, never lets this hold.
            let pulled = wait_until_stopped(&name, at_least, || pulls.load(Ordering::SeqCst));
            assert!(
                pulled <= at_most,
                "{name}, threads {threads}: pulled {pulled}, more than {at_most}"
            );
            assert_eq!(
                live.load(Ordering::SeqCst),
                pulled,
                "{name}: stopped with items pulled and not run"
            );
        }
    }
}

#[test]
fn panic_in_f_reaches_consumer_after_every_earlier_result() {
    let _watchdog = watchdog();
    for (threads, window) in [(1, 1), (2, 2), (3, 16)] {
        for at in 0..8 {
            let mut stage =
                (0..20).parallel_map_with(options("pm-panic", threads, window), move |n| {
                    if n == at {
                        std::panic::panic_any(Boom(at));
                    }
                    n
                });
            let (items, payload) = drain_catching(&mut stage);
            assert_eq!(
                items,
                (0..at).collect::<Vec<_>>(),
                "threads {threads}, panic at {at}"
            );
            let payload = payload.expect("a panic, not a short stream");
            assert_eq!(payload.downcast_ref::<Boom>(), Some(&Boom(at)));
            assert_eq!(stage.next(), None, "fused after the panic");
        }
    }
}

#[test]
fn panic_in_the_source_reaches_consumer_after_every_earlier_result() {
    let _watchdog = watchdog();
    for at in 0..6 {
        let mut stage =
            panicking_at(at).parallel_map_with(options("pm-srcpanic", 2, 3), |n| n * 10);
        let (items, payload) = drain_catching(&mut stage);
        assert_eq!(items, (0..at).map(|n| n * 10).collect::<Vec<_>>());
        assert_eq!(
            payload.and_then(|p| p.downcast::<Boom>().ok()).map(|b| *b),
            Some(Boom(at))
        );
    }
}

#[test]
fn panic_in_completion_order_comes_after_the_other_results() {
    let _watchdog = watchdog();
    let mut stage =
        (0..10).parallel_map_with(options("pm-cpanic", 2, 4).in_completion_order(), |n| {
            if n == 3 {
                std::panic::panic_any(Boom(3));
            }
            n
        });
    let mut items = drain_to_panic("pm-cpanic", &mut stage, 3);
    items.sort_unstable();
    // 0..3 were pulled before 3 and come before its panic; items pulled
    // after it may have run (and been delivered) before it ran, once each.
    let (before, after) = items.split_at(items.len().min(3));
    assert_eq!(before, [0, 1, 2], "{items:?}");
    assert!(
        after.windows(2).all(|pair| pair[0] < pair[1])
            && after.iter().all(|&n| (4..10).contains(&n)),
        "{items:?}"
    );
}

/// Regression: a panic held back in completion order never moved the window,
/// so a worker waiting for room (holding the source) waited for ever, and
/// the consumer with it. With a window of one, nothing runs ahead: the
/// results before the panic come in order, and none after it.
#[test]
fn completion_order_panic_with_a_window_smaller_than_the_pool() {
    let _watchdog = watchdog();
    for at in [0, 3] {
        let options = options("pm-small-window", 2, 1).in_completion_order();
        let mut stage = (0..10).parallel_map_with(options, move |n| {
            if n == at {
                std::panic::panic_any(Boom(at));
            }
            n
        });
        let expected: Vec<usize> = (0..at).collect();
        assert_panics_after(&format!("panic at {at}"), &mut stage, &expected, at);
    }
}

#[test]
fn panic_crosses_a_chain_of_stages() {
    let _watchdog = watchdog();
    let mut chain = (0..50)
        .off_thread()
        .parallel_map_with(options("pm-chain", 2, 4), |n| {
            if n == 33 { panic!("deep") } else { n }
        })
        .off_thread()
        .parallel_map(|n| n + 1);
    let (items, payload) = drain_catching(&mut chain);
    assert_eq!(items, (1..34).collect::<Vec<_>>());
    assert_eq!(payload.unwrap().downcast_ref::<&str>(), Some(&"deep"));
}

#[test]
fn early_drop_at_every_position_stops_the_workers() {
    let _watchdog = watchdog();
    for taken in 0..=10 {
        let (source, dropped) = Counting::with_drop_signal(Some(8));
        let name = format!("pm-early-{taken}");
        let mut stage = source.parallel_map_with(options(&name, 2, 3), |n| n);
        let got: Vec<usize> = stage.by_ref().take(taken).collect();
        assert_eq!(got, (0..taken.min(8)).collect::<Vec<_>>());
        if taken == 0 {
            // Never started: the source is dropped right here.
            drop(stage);
            assert_eq!(dropped.try_recv(), Ok(thread::current().id()));
            continue;
        }
        assert_early_drop(stage, &name, &dropped);
    }
}

#[test]
fn drop_does_not_block_while_f_is_stuck() {
    let _watchdog = watchdog();
    // Every call of `f` on a worker gets stuck until the gate's sender is
    // gone; calls on the consumer's own thread (it helps) pass straight on,
    // so the consumer itself never gets stuck.
    let (release, gate) = mpsc::channel::<()>();
    let (entered, stuck) = mpsc::channel::<()>();
    let gate = std::sync::Mutex::new(gate);
    let entered = std::sync::Mutex::new(entered);
    let mut stage = (0..100).parallel_map_with(options("pm-stuck", 2, 8), move |n| {
        let on_worker = stage_name().is_some_and(|name| name.starts_with("pm-stuck"));
        if n > 0 && on_worker {
            let _ = entered.lock().unwrap().send(());
            let _ = gate.lock().unwrap().recv();
        }
        n
    });
    assert_eq!(stage.next(), Some(0));
    stuck.recv_timeout(PATIENCE).expect("a worker is inside f");
    assert_drop_returns(stage, "f was stuck");
    drop(release);
    wait_until_no_thread_is_named("pm-stuck", "every worker has left the stage");
}

#[cfg_attr(miri, ignore = "Miri has no /proc to count threads in")]
#[test]
fn every_worker_has_let_go_once_the_stream_ends() {
    let _watchdog = watchdog();
    let let_go = LetGo::default();
    let token = let_go.token();
    let ran_elsewhere = Arc::new(AtomicUsize::new(0));
    let elsewhere = Arc::clone(&ran_elsewhere);
    let here = thread::current().id();
    let mut stage = (0..1000).parallel_map_with(options("pm-full", 3, 8), move |n| {
        let _held = &token;
        // Enough work that the workers, not only the consumer, get items.
        let started = std::time::Instant::now();
        while started.elapsed() < std::time::Duration::from_micros(20) {
            std::hint::spin_loop();
        }
        if thread::current().id() != here {
            elsewhere.fetch_add(1, Ordering::SeqCst);
        }
        n
    });
    let total: usize = stage.by_ref().sum();
    assert_eq!(total, 499_500);
    assert!(
        ran_elsewhere.load(Ordering::SeqCst) >= 1,
        "some worker ran f"
    );
    // The end waits for every run: no thread runs the stage or carries its
    // name any more, and none holds `f` but the adapter.
    assert!(threads_named("pm-full").is_empty());
    assert_eq!(let_go.dropped(), 0, "the adapter still holds f");
    drop(stage);
    assert_eq!(let_go.dropped_on(), [here], "f is dropped with the adapter");
}

#[test]
fn workers_carry_the_stage_name() {
    let _watchdog = watchdog();
    for completion in [false, true] {
        // In input order the consumer runs items too: the first it runs
        // waits until a worker has run one, so that some name is seen.
        let worker_ran = Arc::new(AtomicBool::new(false));
        let ran = Arc::clone(&worker_ran);
        let options = options("resize", 2, 4);
        let options = if completion {
            options.in_completion_order()
        } else {
            options
        };
        let names: Vec<Option<String>> = (0..200)
            .parallel_map_with(options, move |_| {
                let name = stage_name();
                if name.is_some() {
                    ran.store(true, Ordering::SeqCst);
                } else {
                    wait_until("a worker runs an item", || ran.load(Ordering::SeqCst));
                }
                name
            })
            .collect();
        let workers: Vec<&String> = names.iter().flatten().collect();
        assert!(!workers.is_empty(), "no worker ran an item");
        assert!(
            workers
                .iter()
                .all(|name| *name == "resize-0" || *name == "resize-1"),
            "{names:?}"
        );
        if completion {
            assert_eq!(workers.len(), 200, "the consumer ran items");
        }
    }
}

#[test]
fn borrows_inside_a_scope() {
    let _watchdog = watchdog();
    let glossary: HashMap<usize, String> = (0..300).map(|n| (n, format!("w{n}"))).collect();
    let keys: Vec<usize> = (0..300).rev().collect();
    let words: Vec<&str> = thread::scope(|scope| {
        keys.iter()
            .parallel_map_scoped(scope, |key| glossary[key].as_str())
            .collect()
    });
    assert_eq!(
        words,
        (0..300).rev().map(|n| format!("w{n}")).collect::<Vec<_>>()
    );
}

#[test]
fn size_hint_is_valid_at_every_step() {
    let _watchdog = watchdog();
    for completion in [false, true] {
        for source in [(0..100).collect::<Vec<usize>>(), vec![], vec![7]] {
            let len = source.len();
            let options = options("pm-hint", 2, 3);
            let options = if completion {
                options.in_completion_order()
            } else {
                options
            };
            let mut stage = source
                .into_iter()
                .filter(|_| true)
                .parallel_map_with(options, |n| n);
            let what = format!("completion order: {completion}");
            assert_eq!(stage.size_hint(), (0, Some(len)), "{what}");
            for left in (0..len).rev() {
                assert!(stage.next().is_some(), "{what}");
                let (lower, upper) = stage.size_hint();
                assert!(
                    lower <= left && upper.is_some_and(|upper| upper >= left),
                    "{what}: {left} left"
                );
            }
            assert_eq!(stage.next(), None, "{what}");
            assert_eq!(stage.size_hint(), (0, Some(0)), "{what}");
            assert_eq!(stage.next(), None, "{what}");
        }
    }
}

#[test]
fn debug_shows_the_state() {
    let _watchdog = watchdog();
    let mut stage = (0..3).parallel_map_with(options("pm-dbg", 1, 2), |n| n);
    assert_eq!(
        format!("{stage:?}"),
        r#"ParallelMap { state: "idle", name: "pm-dbg", threads: 1, window: 2, order: Input, .. }"#
    );
    stage.next();
    assert_eq!(
        format!("{stage:?}"),
        r#"ParallelMap { state: "running", size_hint: (2, Some(2)), .. }"#
    );
    stage.by_ref().for_each(drop);
    assert_eq!(
        format!("{stage:?}"),
        r#"ParallelMap { state: "finished", .. }"#
    );
}

/// The most threads of the set that ran `f` at once, and the names they
/// carried, for a stage built with `options` over items that each block
/// for a moment (so that a stage with room for more threads gets them).
fn peak_workers(options: ParallelMapOptions) -> (usize, Vec<String>) {
    let inside = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (now, most) = (Arc::clone(&inside), Arc::clone(&peak));
    let mut names: Vec<String> = (0..200)
        .parallel_map_with(options, move |_| {
            // Long enough that the set's monitor finds a blocked thread.
            let blocked = std::time::Duration::from_millis(5);
            let Some(name) = stage_name() else {
                // The consumer, helping: not one of the set's threads.
                thread::sleep(blocked);
                return None;
            };
            let running = now.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(running, Ordering::SeqCst);
            thread::sleep(blocked);
            now.fetch_sub(1, Ordering::SeqCst);
            Some(name)
        })
        .flatten()
        .collect();
    names.sort_unstable();
    names.dedup();
    (peak.load(Ordering::SeqCst), names)
}

#[cfg_attr(miri, ignore = "timing, which Miri's clock skews")]
#[test]
fn defaults_to_one_worker_per_busy_thread_but_one() {
    let _watchdog = watchdog();
    // The set's budget is one busy thread per core here (no
    // THREADPIPE_NUM_THREADS in the test environment).
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    let (peak, names) = peak_workers(ParallelMapOptions::new().name("pm-default"));
    assert_eq!(peak, (cores - 1).max(1), "{names:?}");
    assert!(names.len() <= (cores - 1).max(1), "{names:?}");
    let unordered = ParallelMapOptions::new()
        .name("pm-unord")
        .in_completion_order();
    let (peak, names) = peak_workers(unordered);
    assert_eq!(peak, cores, "{names:?}");
}

#[cfg_attr(miri, ignore = "timing, which Miri's clock skews")]
#[test]
fn threads_caps_how_many_run_f_at_once() {
    let _watchdog = watchdog();
    // Items that block do not count against the set's budget, so a cap
    // above the number of cores is reached, and never passed.
    let (peak, names) = peak_workers(ParallelMapOptions::new().name("pm-cap").threads(4));
    assert_eq!(peak, 4, "{names:?}");
    assert!(names.len() <= 4, "{names:?}");
}

#[test]
#[should_panic(expected = "at least 1 thread")]
fn zero_threads_are_refused() {
    let _watchdog = watchdog();
    let _ = ParallelMapOptions::new().threads(0);
}

#[test]
#[should_panic(expected = "window must be at least 1")]
fn zero_window_is_refused() {
    let _watchdog = watchdog();
    let _ = ParallelMapOptions::new().window(0);
}
