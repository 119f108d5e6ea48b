//! Stage profiles: counts, waits, and the verdict on which stage limits.

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::{Counting, wait_until_stopped, watchdog};
use threadpipe::prelude::*;
use threadpipe::{OffThreadOptions, ParallelMapOptions, Profile};

/// Keeps this thread busy (not asleep) for `duration`.
fn busy_for(duration: Duration) {
    let start = Instant::now();
    while start.elapsed() < duration {
        std::hint::spin_loop();
    }
}

#[test]
fn counts_items_per_stage_in_chain_order() {
    let _watchdog = watchdog();
    let profile = Profile::new();
    let total: usize = (0..1000)
        .off_thread_with(OffThreadOptions::new().name("first").profile(&profile))
        .filter(|n| n % 2 == 0)
        .parallel_map_with(
            ParallelMapOptions::new()
                .threads(2)
                .name("second")
                .profile(&profile),
            |n| n,
        )
        .off_thread_with(OffThreadOptions::new().name("third").profile(&profile))
        .count();
    assert_eq!(total, 500);
    let report = profile.report();
    let rows: Vec<(&str, usize, u64)> = report
        .stages()
        .iter()
        .map(|stage| (stage.name(), stage.threads(), stage.items()))
        .collect();
    assert_eq!(
        rows,
        [("first", 1, 1000), ("second", 2, 500), ("third", 1, 500)]
    );
    assert!(
        report
            .stages()
            .iter()
            .all(|stage| stage.elapsed() > Duration::ZERO)
    );
}

#[test]
fn a_slow_consumer_is_named_and_the_stage_waited_for_room() {
    let _watchdog = watchdog();
    let profile = Profile::new();
    let source = Counting::new(Some(100));
    let pulls = Arc::clone(&source.pulls);
    let mut stage = source.off_thread_with(
        OffThreadOptions::new()
            .name("prof-fast")
            .capacity(4)
            .profile(&profile),
    );
    assert_eq!(stage.next(), Some(0));
    // The worker has filled the ring again, and waits for room.
    wait_until_stopped("prof-fast", 1 + 4, || pulls.load(Ordering::SeqCst));
    busy_for(Duration::from_millis(50));
    assert_eq!(stage.count(), 99);
    let report = profile.report();
    assert!(
        report.stages()[0].waited_output_full() >= Duration::from_millis(40),
        "{report}"
    );
    assert_eq!(
        report.limiting_stage().as_deref(),
        Some("consumer of prof-fast"),
        "{report}"
    );
}

#[test]
fn a_slow_source_is_named_and_its_consumer_waited() {
    let _watchdog = watchdog();
    let profile = Profile::new();
    let count = (0..20)
        .inspect(|_| busy_for(Duration::from_millis(2)))
        .off_thread_with(
            OffThreadOptions::new()
                .name("slow-source")
                .profile(&profile),
        )
        .count();
    assert_eq!(count, 20);
    let report = profile.report();
    assert!(
        report.stages()[0].waited_input_empty() >= Duration::from_millis(20),
        "{report}"
    );
    assert_eq!(
        report.limiting_stage().as_deref(),
        Some("slow-source"),
        "{report}"
    );
}

#[test]
fn a_slow_parallel_stage_is_named() {
    let _watchdog = watchdog();
    let profile = Profile::new();
    let count = (0..40)
        .off_thread_with(
            OffThreadOptions::new()
                .name("feed")
                .capacity(2)
                .profile(&profile),
        )
        .parallel_map_with(
            ParallelMapOptions::new()
                .threads(1)
                .window(2)
                .name("heavy")
                .profile(&profile),
            |n| {
                busy_for(Duration::from_millis(1));
                n
            },
        )
        .count();
    assert_eq!(count, 40);
    let report = profile.report();
    // The feed, right below the heavy stage, runs on its pullers: its
    // items are counted, and the heavy stage's threads never waited.
    assert_eq!(report.stages()[0].items(), 40, "{report}");
    // The heavy work runs on its worker and, when it helps (not always, on
    // one core), on its consumer; the consumer's share counts for the stage.
    assert_eq!(
        report.limiting_stage().as_deref(),
        Some("heavy"),
        "{report}"
    );
}

/// Regression: a slow stage in input order, between two `off_thread`
/// stages, was reported as limited by the stage after it, whose thread
/// spent its time running the slow stage's `f` (helping) rather than
/// waiting.
#[test]
fn a_slow_parallel_stage_between_two_others_is_named() {
    let _watchdog = watchdog();
    let profile = Profile::new();
    let off_thread = |name: &str| {
        OffThreadOptions::new()
            .name(name)
            .capacity(4)
            .profile(&profile)
    };
    let count = (0..60)
        .off_thread_with(off_thread("feed"))
        .parallel_map_with(
            ParallelMapOptions::new()
                .threads(1)
                .window(4)
                .name("heavy")
                .profile(&profile),
            |n| {
                busy_for(Duration::from_millis(1));
                n
            },
        )
        .off_thread_with(off_thread("after"))
        .count();
    assert_eq!(count, 60);
    let report = profile.report();
    assert_eq!(
        report.limiting_stage().as_deref(),
        Some("heavy"),
        "{report}"
    );
}

#[test]
fn report_is_a_table_with_a_verdict() {
    let _watchdog = watchdog();
    let profile = Profile::new();
    assert_eq!(profile.report().limiting_stage(), None);
    assert!(
        profile
            .report()
            .to_string()
            .ends_with("limited by: (nothing has run yet)")
    );
    let _ = (0..10)
        .off_thread_with(OffThreadOptions::new().name("tiny").profile(&profile))
        .count();
    let table = profile.report().to_string();
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("threads"), "{table}");
    assert!(lines[1].starts_with("tiny (1 thread)"), "{table}");
    assert!(lines[2].starts_with("consumer of tiny"), "{table}");
    assert!(lines[3].starts_with("limited by: "), "{table}");
}
