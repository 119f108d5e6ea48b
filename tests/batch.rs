//! Batch mode: the flush rules, and the rest of the contract intact.

mod common;

use std::sync::mpsc;
use std::thread;

use common::{Boom, Counting, PATIENCE, drain_catching, panicking_at, watchdog};
use threadpipe::OffThreadOptions;
use threadpipe::prelude::*;

fn batched(batch: usize, capacity: usize) -> OffThreadOptions {
    OffThreadOptions::new().batch(batch).capacity(capacity)
}

#[test]
fn preserves_order_at_every_edge_length() {
    let _watchdog = watchdog();
    for (batch, capacity) in [(1, 1), (2, 1), (4, 8), (16, 64), (100, 10)] {
        for len in [0, 1, batch - 1, batch, batch + 1, 3 * batch + 2, 5000] {
            let got: Vec<usize> = (0..len).off_thread_with(batched(batch, capacity)).collect();
            assert_eq!(
                got,
                (0..len).collect::<Vec<_>>(),
                "batch {batch}, length {len}"
            );
        }
    }
}

#[test]
fn a_partial_batch_is_flushed_when_the_source_ends() {
    let _watchdog = watchdog();
    let got: Vec<u8> = vec![1, 2, 3]
        .into_iter()
        .off_thread_with(batched(64, 64))
        .collect();
    assert_eq!(got, [1, 2, 3]);
}

#[test]
fn a_partial_batch_is_flushed_before_the_panic() {
    let _watchdog = watchdog();
    for at in 0..10 {
        let mut stage = panicking_at(at).off_thread_with(batched(4, 4));
        let (items, payload) = drain_catching(&mut stage);
        assert_eq!(items, (0..at).collect::<Vec<_>>(), "panic at {at}");
        assert_eq!(
            payload.and_then(|p| p.downcast::<Boom>().ok()).map(|b| *b),
            Some(Boom(at))
        );
    }
}

#[test]
fn a_full_batch_is_handed_over_while_the_source_blocks() {
    let _watchdog = watchdog();
    // Four items fill a batch of four; then the source blocks until the
    // consumer has them all. (A fifth item would wait, as documented.)
    let (release, gate) = mpsc::channel::<()>();
    let mut step = 0;
    let source = std::iter::from_fn(move || {
        step += 1;
        match step {
            1..=4 => Some(step),
            5 => gate.recv().ok().map(|()| 5),
            _ => None,
        }
    });
    let (report, reports) = mpsc::channel();
    let consumer = thread::spawn(move || {
        for item in source.off_thread_with(batched(4, 8)) {
            report.send(item).unwrap();
        }
    });
    for expected in 1..=4 {
        assert_eq!(
            reports.recv_timeout(PATIENCE),
            Ok(expected),
            "full batch held back"
        );
    }
    release.send(()).unwrap();
    assert_eq!(reports.recv_timeout(PATIENCE), Ok(5));
    consumer.join().unwrap();
}

#[test]
fn reads_ahead_at_most_capacity_in_whole_batches_plus_one_batch() {
    let _watchdog = watchdog();
    let source = Counting::new(None);
    let pulls = std::sync::Arc::clone(&source.pulls);
    let mut stage = source.off_thread_with(batched(4, 8).name("batch-bound"));
    assert_eq!(stage.next(), Some(0));
    // Two batches in the ring (8 items), the batch just taken (minus the item
    // delivered), and a full batch in the worker's hand.
    let bound = 4 + 8 + 4;
    let pulled = common::wait_until_stopped("batch-bound", bound, || {
        pulls.load(std::sync::atomic::Ordering::SeqCst)
    });
    assert_eq!(pulled, bound);
}

#[test]
fn early_drop_stops_the_worker() {
    let _watchdog = watchdog();
    for taken in [0, 1, 5, 17] {
        let (source, dropped) = Counting::with_drop_signal(None);
        let mut stage = source.off_thread_with(batched(4, 4));
        let got: Vec<usize> = stage.by_ref().take(taken).collect();
        assert_eq!(got, (0..taken).collect::<Vec<_>>());
        drop(stage);
        dropped
            .recv_timeout(PATIENCE)
            .expect("the worker drops its source");
    }
}

#[test]
fn a_worker_filling_a_batch_stops_pulling_once_the_consumer_is_gone() {
    let _watchdog = watchdog();
    // The source runs freely to item 150, in the middle of the second batch,
    // then waits until the consumer has dropped the stage.
    let (release, gate) = mpsc::channel::<()>();
    let pulls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = std::sync::Arc::clone(&pulls);
    let source = (0..).inspect(move |&n| {
        counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if n == 150 {
            let _ = gate.recv();
        }
    });
    let mut stage = source.off_thread_with(batched(100, 100).name("batch-hangup"));
    assert_eq!(stage.next(), Some(0));
    drop(stage);
    // The worker may have let go of the source, gate and all, already.
    let _ = release.send(());
    common::wait_until("the worker has stopped", || {
        common::threads_named("batch-hangup").is_empty()
    });
    // Item 150 was in hand; a worker that went on to fill its batch would
    // have pulled up to 199.
    assert!(pulls.load(std::sync::atomic::Ordering::SeqCst) <= 152);
}

#[test]
#[should_panic(expected = "batch must hold at least 1 item")]
fn zero_batch_is_refused() {
    let _watchdog = watchdog();
    let _ = OffThreadOptions::new().batch(0);
}

#[test]
fn fold_gives_what_next_gives_in_both_modes() {
    let _watchdog = watchdog();
    for batch in [1, 3, 64] {
        let options = || batched(batch, 16);
        let folded = (0..1000u64)
            .off_thread_with(options())
            .fold(Vec::new(), |mut seen, n| {
                seen.push(n);
                seen
            });
        assert_eq!(folded, (0..1000).collect::<Vec<_>>(), "batch {batch}");
        // After some `next` calls, fold takes the rest, in batch mode from
        // the middle of a batch.
        let mut stage = (0..1000u64).off_thread_with(options());
        let first: Vec<u64> = stage.by_ref().take(5).collect();
        #[allow(clippy::unnecessary_fold)] // the test is about `fold` itself
        let rest = stage.fold(0, |sum, n| sum + n);
        assert_eq!((first, rest), (vec![0, 1, 2, 3, 4], (5..1000).sum()));
    }
}

#[test]
fn fold_reraises_the_source_panic() {
    let _watchdog = watchdog();
    for batch in [1, 4] {
        let outcome = std::panic::catch_unwind(|| {
            panicking_at(7)
                .off_thread_with(batched(batch, 4))
                .fold(0, |count, _| count + 1)
        });
        let payload = outcome.expect_err("the panic reaches the fold");
        assert_eq!(
            payload.downcast_ref::<Boom>(),
            Some(&Boom(7)),
            "batch {batch}"
        );
    }
}
