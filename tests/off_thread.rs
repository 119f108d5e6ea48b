//! The `off_thread` contract, one promise per test.

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use common::{
    Boom, Counting, LetGo, PATIENCE, RequestResponse, Tracker, assert_drop_returns,
    assert_early_drop, drain_catching, panicking_at, stage_name, threads_named, wait_until,
    wait_until_no_thread_is_named, wait_until_stopped, watchdog,
};
use threadpipe::OffThreadOptions;
use threadpipe::prelude::*;

fn options(name: &str, capacity: usize) -> OffThreadOptions {
    OffThreadOptions::new().name(name).capacity(capacity)
}

#[test]
fn smoke() {
    let _watchdog = watchdog();
    let items: Vec<i32> = vec![1, 2, 3].into_iter().off_thread().collect();
    assert_eq!(items, [1, 2, 3]);
}

#[test]
fn preserves_order_at_every_edge_length() {
    let _watchdog = watchdog();
    for capacity in [1, 2, 7, threadpipe::DEFAULT_CAPACITY] {
        let lengths = [
            0,
            1,
            capacity - 1,
            capacity,
            capacity + 1,
            2 * capacity + 3,
            if cfg!(miri) { 300 } else { 5000 },
        ];
        for len in lengths {
            let got: Vec<usize> = (0..len)
                .off_thread_with(OffThreadOptions::new().capacity(capacity))
                .collect();
            assert_eq!(
                got,
                (0..len).collect::<Vec<_>>(),
                "capacity {capacity}, length {len}"
            );
        }
    }
}

#[test]
fn heap_items_arrive_exactly_once() {
    let _watchdog = watchdog();
    let items = Tracker::default();
    let made = items.clone();
    let len = if cfg!(miri) { 300 } else { 3000 };
    let got: Vec<String> = (0..len)
        .map(move |n| made.track(n))
        .off_thread_with(OffThreadOptions::new().capacity(5))
        .map(|tracked| tracked.value.clone())
        .collect();
    assert_eq!(got, (0..len).map(|n| n.to_string()).collect::<Vec<_>>());
    items.assert_each_dropped_once("items through off_thread");
}

#[test]
fn items_in_flight_are_dropped_with_the_adapter() {
    let _watchdog = watchdog();
    let items = Tracker::default();
    let made = items.clone();
    let (mut source, dropped) = Counting::with_drop_signal(Some(100));
    let mut stage = std::iter::from_fn(move || source.next())
        .map(move |n| made.track(n))
        .off_thread_with(options("inflight", 8));
    assert_eq!(
        stage.next().map(|tracked| tracked.value.clone()),
        Some("0".to_owned())
    );
    drop(stage);
    dropped
        .recv_timeout(PATIENCE)
        .expect("the worker drops its source");
    items.wait_until_each_dropped_once("items in flight");
}

#[test]
fn chained_stages_preserve_order() {
    let _watchdog = watchdog();
    let len = if cfg!(miri) { 300 } else { 20_000u64 };
    let got: Vec<u64> = (0..len)
        .off_thread_with(OffThreadOptions::new().capacity(3))
        .map(|n| n * 3)
        .off_thread()
        .filter(|n| n % 2 == 0)
        .off_thread_with(OffThreadOptions::new().capacity(1))
        .collect();
    let expected: Vec<u64> = (0..len).map(|n| n * 3).filter(|n| n % 2 == 0).collect();
    assert_eq!(got, expected);
}

#[cfg_attr(miri, ignore = "Miri has no /proc to count threads in")]
#[test]
fn building_pulls_nothing_and_starts_no_thread() {
    let _watchdog = watchdog();
    let source = Counting::new(None);
    let pulls = Arc::clone(&source.pulls);
    let mut stage = source
        .map(|n| (n, stage_name()))
        .off_thread_with(options("lazy-stage", 4));
    assert_eq!(pulls.load(Ordering::SeqCst), 0, "built, not yet pulled");
    assert!(
        threads_named("lazy-stage").is_empty(),
        "built, no thread runs it yet"
    );
    let _ = stage.size_hint();
    let _ = format!("{stage:?}");
    assert_eq!(
        pulls.load(Ordering::SeqCst),
        0,
        "size_hint and Debug pull nothing"
    );
    assert!(threads_named("lazy-stage").is_empty());

    // The first next starts the stage, on a thread that carries its name.
    assert_eq!(stage.next(), Some((0, Some("lazy-stage".to_owned()))));
    assert!(pulls.load(Ordering::SeqCst) >= 1);
}

#[test]
fn building_on_a_panicking_source_does_not_panic() {
    let _watchdog = watchdog();
    #[deny(unused_must_use)]
    let stage = std::iter::repeat_with(|| -> u8 { panic!("pulled too early") }).off_thread();
    drop(stage);
}

/// Runs, through `off_thread` on a consumer thread named `consumer`, a source
/// that yields "first" once `before_first` returns and then blocks until this
/// function releases it: "first" must arrive while the source is blocked
/// (`held_back` says what went wrong if not), and "second" after the release.
fn assert_first_arrives_while_the_source_blocks(
    consumer: &str,
    before_first: impl FnOnce() + Send + 'static,
    held_back: &str,
) {
    let (release, gate) = mpsc::channel::<()>();
    let mut before_first = Some(before_first);
    let mut step = 0;
    let source = std::iter::from_fn(move || {
        step += 1;
        match step {
            1 => {
                if let Some(wait) = before_first.take() {
                    wait();
                }
                Some("first")
            }
            2 => gate.recv().ok().map(|()| "second"),
            _ => None,
        }
    });
    let (report, reports) = mpsc::channel();
    let consumer = thread::Builder::new()
        .name(consumer.into())
        .spawn(move || {
            for item in source.off_thread() {
                report.send(item).unwrap();
            }
        })
        .unwrap();
    assert_eq!(reports.recv_timeout(PATIENCE), Ok("first"), "{held_back}");
    release.send(()).unwrap();
    assert_eq!(reports.recv_timeout(PATIENCE), Ok("second"));
    consumer.join().unwrap();
}

#[test]
fn hands_over_an_item_before_the_source_blocks() {
    let _watchdog = watchdog();
    // An adapter that held "first" back (say, to fill a batch) never
    // delivers it while the source blocks.
    assert_first_arrives_while_the_source_blocks("tp-consumer", || {}, "first item held back");
}

#[cfg_attr(miri, ignore = "Miri has no /proc to read thread states")]
#[test]
fn an_item_pushed_while_the_consumer_sleeps_wakes_it() {
    let _watchdog = watchdog();
    // The consumer spins for a few microseconds, then sleeps; waking it must
    // not depend on a later push or the end of the stream. Here the only item
    // comes once the consumer is asleep, and the source then blocks: a push
    // that failed to wake the sleeper would leave the item stranded.
    const CONSUMER: &str = "tp-sleeper";
    let asleep = || threads_named(CONSUMER).iter().any(|t| t.state == 'S');
    let until_asleep = move || {
        // Asleep twice, 20 ms apart: parked, not passing through.
        wait_until("the consumer sleeps", || {
            asleep() && {
                thread::sleep(Duration::from_millis(20));
                asleep()
            }
        });
    };
    assert_first_arrives_while_the_source_blocks(
        CONSUMER,
        until_asleep,
        "the sleeping consumer was not woken",
    );
}

/// An item of a [`RequestResponse`] source that reports, as it is dropped,
/// that the consumer has handled it: so that a consumer with no closure of
/// its own (`count`, `sum`) answers too.
struct Reply {
    n: usize,
    handled: mpsc::Sender<()>,
}

impl Drop for Reply {
    fn drop(&mut self) {
        let _ = self.handled.send(());
    }
}

/// Adds the replies up through `fold`, as `sum` does for numbers.
impl std::iter::Sum<Reply> for usize {
    fn sum<I: Iterator<Item = Reply>>(replies: I) -> usize {
        replies.fold(0, |total, reply| total + reply.n)
    }
}

/// Consumes `stage` the way `consumer` names, through the stage's own
/// `fold` (never boxed: a `Box<dyn Iterator>` folds through `next`); the
/// sum of the items' numbers.
fn fold_by<I: Iterator<Item = Reply>>(consumer: &str, stage: I) -> usize {
    match consumer {
        "for_each" => {
            let mut total = 0;
            stage.for_each(|reply| total += reply.n);
            total
        }
        "sum" => stage.sum(),
        "count" => {
            // Items 0, 1, 2, ...: their sum follows from their count.
            let count = stage.count();
            count * count.saturating_sub(1) / 2
        }
        _ => unreachable!("no such consumer: {consumer}"),
    }
}

#[test]
fn folding_holds_no_item_back_from_a_source_that_waits_for_it() {
    let _watchdog = watchdog();
    // Each item comes only once the consumer has handled the one before:
    // a fold that kept an item to fill a chunk would leave the source
    // waiting, and it gives up (the stream ends short).
    const LEN: usize = 20;
    let stages: [(&str, OffThreadOptions); 3] = [
        ("default", OffThreadOptions::new()),
        ("capacity 1", OffThreadOptions::new().capacity(1)),
        ("capacity 4", OffThreadOptions::new().capacity(4)),
    ];
    for consumer in ["for_each", "sum", "count"] {
        for scoped in [false, true] {
            for (stage, options) in &stages {
                let (source, handled) = RequestResponse::new(LEN);
                let gave_up = Arc::clone(&source.gave_up);
                let replies = source.map(move |n| Reply {
                    n,
                    handled: handled.clone(),
                });
                let total = if scoped {
                    thread::scope(|scope| {
                        fold_by(
                            consumer,
                            replies.off_thread_scoped_with(scope, options.clone()),
                        )
                    })
                } else {
                    fold_by(consumer, replies.off_thread_with(options.clone()))
                };
                let what = format!("{consumer}, {stage}, scoped: {scoped}");
                assert!(
                    !gave_up.load(Ordering::SeqCst),
                    "{what}: an item was held back"
                );
                assert_eq!(total, LEN * (LEN - 1) / 2, "{what}");
            }
        }
    }
}

#[cfg_attr(miri, ignore = "Miri has no /proc to read thread states")]
#[test]
fn folding_frees_room_a_quarter_of_the_channel_at_a_time() {
    let _watchdog = watchdog();
    // A consumer that folds slowly must not keep the whole channel to itself
    // until it is done: the worker gets room as each quarter is folded.
    let capacity = 8;
    let source = Counting::new(Some(4 * capacity));
    let pulls = Arc::clone(&source.pulls);
    let mut stage = source.off_thread_with(options("tp-fold-room", capacity));
    assert_eq!(stage.next(), Some(0));
    // Item 0 taken, the channel full (but perhaps for the slot item 0 left,
    // which the consumer reports only with a quarter's worth), one item
    // pulled and not pushed, and the stage stopped: its run ended on the
    // full ring, and a report of room asks for another.
    let before = wait_until_stopped("tp-fold-room", capacity + 1, || {
        pulls.load(Ordering::SeqCst)
    });
    let mut folded = Vec::new();
    let folded = stage.fold(&mut folded, |folded, item| {
        if folded.len() == capacity / 4 {
            // The first quarter is folded; this item is in the next chunk.
            wait_until("the worker has room while the fold goes on", || {
                pulls.load(Ordering::SeqCst) > before
            });
        }
        folded.push(item);
        folded
    });
    assert_eq!(*folded, (1..4 * capacity).collect::<Vec<_>>());
}

#[cfg_attr(miri, ignore = "Miri has no /proc to read thread states")]
#[test]
fn reads_ahead_at_most_capacity_plus_one() {
    let _watchdog = watchdog();
    for capacity in [1, 4, 64] {
        let name = format!("bound-{capacity}");
        let source = Counting::new(None);
        let pulls = Arc::clone(&source.pulls);
        let mut stage = source.off_thread_with(options(&name, capacity));
        let taken: Vec<usize> = stage.by_ref().take(3).collect();
        assert_eq!(taken, [0, 1, 2]);

        // The worker fills the channel, then must stop: a worker that kept
        // pulling, or spun instead of giving its thread back, never lets
        // this hold. Small rings report every pop: the worker gets to the
        // bound.
        let reached = if capacity < 8 {
            3 + capacity + 1
        } else {
            capacity + 1
        };
        let pulled = wait_until_stopped(&name, reached, || pulls.load(Ordering::SeqCst));
        if capacity < 8 {
            // Pops are reported at once for such small channels: exactly full.
            assert_eq!(pulled, 3 + capacity + 1, "capacity {capacity}");
        }
        // Never more than the capacity ahead, plus the item in hand...
        assert!(
            pulled <= 3 + capacity + 1,
            "capacity {capacity}: pulled {pulled}"
        );
        // ...and the capacity is really used: it only sleeps on a full channel.
        assert!(pulled > capacity, "capacity {capacity}: pulled {pulled}");
        drop(stage);
    }
}

#[test]
fn panic_payload_reaches_consumer_after_every_earlier_item() {
    let _watchdog = watchdog();
    for capacity in [1, 2, 16] {
        for at in 0..6 {
            let mut stage = panicking_at(at).off_thread_with(options("panics", capacity));
            let (items, payload) = drain_catching(&mut stage);
            assert_eq!(
                items,
                (0..at).collect::<Vec<_>>(),
                "capacity {capacity}, panic at {at}"
            );
            let payload = payload.expect("the panic reaches the consumer, not a short stream");
            assert_eq!(
                payload.downcast_ref::<Boom>(),
                Some(&Boom(at)),
                "original payload"
            );
            assert_eq!(stage.next(), None, "fused after the panic");
        }
    }
}

#[test]
fn panic_crosses_several_stages_with_its_payload() {
    let _watchdog = watchdog();
    let mut chain = (0..10)
        .map(|n| if n == 7 { panic!("boom at seven") } else { n })
        .off_thread_with(options("cross-a", 2))
        .map(|n| n * 10)
        .off_thread_with(options("cross-b", 1))
        .off_thread_with(options("cross-c", 3));
    let (items, payload) = drain_catching(&mut chain);
    assert_eq!(items, [0, 10, 20, 30, 40, 50, 60]);
    let payload = payload.expect("panic re-raised at the end of the chain");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom at seven"));
    // Each let go of its source before the panic was re-raised (see
    // stream_end_means_the_worker_has_let_go), and renames itself after.
    for stage in ["cross-a", "cross-b", "cross-c"] {
        wait_until_no_thread_is_named(stage, "the stage threads are reaped");
    }
}

#[test]
fn dropping_after_a_panic_does_not_panic_again() {
    let _watchdog = watchdog();
    let mut stage = panicking_at(2).off_thread();
    let (_, payload) = drain_catching(&mut stage);
    assert!(payload.is_some());
    assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(stage))).is_ok());
}

#[test]
fn consumer_panic_unwinds_through_a_running_adapter() {
    let _watchdog = watchdog();
    let (source, dropped) = Counting::with_drop_signal(None);
    let outcome = std::panic::catch_unwind(move || {
        let mut stage = source.off_thread_with(options("unwinding", 2));
        stage.next();
        panic!("consumer gives up");
    });
    assert_eq!(
        outcome.unwrap_err().downcast_ref::<&str>(),
        Some(&"consumer gives up")
    );
    dropped
        .recv_timeout(PATIENCE)
        .expect("the worker stops and drops its source");
}

#[test]
fn early_drop_at_every_position_stops_the_worker() {
    let _watchdog = watchdog();
    let len = 8;
    let capacity = 2;
    for taken in 0..=len + 1 {
        let (source, dropped) = Counting::with_drop_signal(Some(len));
        let pulls = Arc::clone(&source.pulls);
        let name = format!("early-{taken}");
        let mut stage = source.off_thread_with(options(&name, capacity));
        let got: Vec<usize> = stage.by_ref().take(taken).collect();
        assert_eq!(got, (0..taken.min(len)).collect::<Vec<_>>());
        if taken == 0 {
            // Never started: the source is dropped right here, pulled never.
            drop(stage);
            assert_eq!(dropped.try_recv(), Ok(thread::current().id()));
            assert_eq!(pulls.load(Ordering::SeqCst), 0);
            continue;
        }
        assert_early_drop(stage, &name, &dropped);
        assert!(
            pulls.load(Ordering::SeqCst) <= taken + capacity + 1 + 1,
            "stopped pulling"
        );
    }
}

#[test]
fn drop_does_not_block_while_the_source_is_stuck() {
    let _watchdog = watchdog();
    let (release, gate) = mpsc::channel::<()>();
    let (mut counting, dropped) = Counting::with_drop_signal(None);
    let source = std::iter::from_fn(move || {
        let n = counting.next()?;
        if n == 1 {
            // Stuck inside next() until the test lets go.
            let _ = gate.recv();
        }
        Some(n)
    });
    let mut stage = source.off_thread_with(options("stuck", 4));
    assert_eq!(stage.next(), Some(0));

    assert_drop_returns(stage, "the source was stuck");

    release.send(()).unwrap();
    dropped
        .recv_timeout(PATIENCE)
        .expect("the worker stops at its next hand-off");
    wait_until_no_thread_is_named("stuck", "the worker thread has exited");
}

#[test]
fn worker_thread_carries_the_stage_name() {
    let _watchdog = watchdog();
    let here = thread::current().id();
    let names: Vec<(Option<String>, bool)> = (0..2)
        .map(move |_| (stage_name(), thread::current().id() == here))
        .off_thread_with(OffThreadOptions::new().name("a-stage-with-a-long-name"))
        .collect();
    let expected = (Some("a-stage-with-a-long-name".to_owned()), false);
    assert_eq!(names, [expected.clone(), expected]);
    let default_name = std::iter::once(())
        .map(|()| stage_name())
        .off_thread()
        .next();
    assert_eq!(default_name, Some(Some("off_thread".to_owned())));
}

/// Linux shows a stage's name where tools look for it: the thread's own
/// name in `/proc`, cut to the 15 bytes the kernel keeps.
#[cfg(target_os = "linux")]
#[cfg_attr(miri, ignore = "Miri has no /proc")]
#[test]
fn the_operating_system_sees_the_stage_name() {
    let _watchdog = watchdog();
    let comm = std::iter::once(())
        .map(|()| std::fs::read_to_string("/proc/thread-self/comm").unwrap())
        .off_thread_with(OffThreadOptions::new().name("a-stage-with-a-long-name"))
        .next()
        .unwrap();
    assert_eq!(comm.trim_end(), "a-stage-with-a-");
}

#[cfg_attr(miri, ignore = "Miri has no /proc to count threads in")]
#[test]
fn every_stage_thread_has_exited_once_the_stream_ends() {
    let _watchdog = watchdog();
    let total: usize = (0..1000)
        .off_thread_with(options("full-a", 4))
        .off_thread_with(options("full-b", 4))
        .off_thread_with(options("full-c", 4))
        .sum();
    assert_eq!(total, 499_500);
    // `None` is only returned once the worker has dropped its source, the
    // stage above it (stream_end_means_the_worker_has_let_go proves it); a
    // thread renames itself as it leaves a stage, a moment after.
    for stage in ["full-a", "full-b", "full-c"] {
        wait_until_no_thread_is_named(stage, "no thread carries the stage's name");
    }
}

#[test]
fn stream_end_means_the_worker_has_let_go() {
    let _watchdog = watchdog();
    for panics in [false, true] {
        let let_go = LetGo::default();
        let token = let_go.token();
        let mut stage = (0..3)
            .inspect(move |&n| {
                let _held = &token;
                if panics && n == 2 {
                    panic!("ends with a panic");
                }
            })
            .off_thread();
        let (items, payload) = drain_catching(&mut stage);
        assert_eq!(items.len(), if panics { 2 } else { 3 });
        assert_eq!(payload.is_some(), panics);
        // The source (and the closure in it) was dropped before the end
        // was reported, and not on this thread.
        assert_eq!(
            let_go.dropped(),
            1,
            "the source was still held (panics: {panics})"
        );
        assert_ne!(let_go.dropped_on(), [thread::current().id()]);
    }
}

#[test]
fn size_hint_is_valid_at_every_step() {
    let _watchdog = watchdog();
    fn check<I: Iterator + Send + 'static>(source: I, what: &str)
    where
        I::Item: Send + 'static,
    {
        let total = source.size_hint();
        let mut stage = source.off_thread_with(OffThreadOptions::new().capacity(3));
        assert_eq!(
            stage.size_hint(),
            total,
            "{what}: before start, the source's hint"
        );
        let mut remaining =
            std::iter::from_fn(|| stage.next().map(|_| stage.size_hint())).collect::<Vec<_>>();
        remaining.reverse();
        for (left, (lower, upper)) in remaining.iter().enumerate() {
            assert!(*lower <= left, "{what}: lower {lower} > {left} left");
            assert!(
                upper.is_none_or(|upper| upper >= left),
                "{what}: upper {upper:?} < {left} left"
            );
        }
        assert_eq!(stage.size_hint(), (0, Some(0)), "{what}: after the end");
    }
    check(0..100, "exact");
    check((0..100).filter(|n| n % 3 == 0), "filter");
    check((0..50).flat_map(|n| 0..n % 4), "flat_map");
    check((0..40).chain(std::iter::repeat_n(7, 9)), "chain");
}

#[test]
fn exact_size_counts_down() {
    let _watchdog = watchdog();
    let mut stage = vec![1, 2, 3].into_iter().off_thread();
    assert_eq!(stage.len(), 3);
    stage.next();
    assert_eq!(stage.len(), 2);
    stage.by_ref().for_each(drop);
    assert_eq!(stage.len(), 0);
}

#[test]
fn stays_ended() {
    let _watchdog = watchdog();
    let mut stage = (0..2).off_thread();
    assert_eq!(stage.by_ref().count(), 2);
    for _ in 0..3 {
        assert_eq!(stage.next(), None);
    }
}

#[test]
fn debug_shows_the_state_and_not_the_items() {
    let _watchdog = watchdog();
    let mut stage = (0..3).off_thread_with(options("dbg", 2));
    assert_eq!(
        format!("{stage:?}"),
        r#"OffThread { state: "idle", name: "dbg", capacity: 2, .. }"#
    );
    stage.next();
    assert_eq!(
        format!("{stage:?}"),
        r#"OffThread { state: "running", size_hint: (2, Some(2)), .. }"#
    );
    stage.by_ref().for_each(drop);
    assert_eq!(
        format!("{stage:?}"),
        r#"OffThread { state: "finished", .. }"#
    );
}

#[test]
fn default_options_are_the_documented_ones() {
    let _watchdog = watchdog();
    assert_eq!(threadpipe::DEFAULT_CAPACITY, 1024);
    let debug = format!("{:?}", OffThreadOptions::new());
    assert!(
        debug.contains("capacity: 1024") && debug.contains(r#"name: "off_thread""#),
        "{debug}"
    );
    assert!(debug.contains("batch: 1"), "{debug}");
}

#[test]
#[should_panic(expected = "capacity must be at least 1")]
fn zero_capacity_is_refused() {
    let _watchdog = watchdog();
    let _ = OffThreadOptions::new().capacity(0);
}
