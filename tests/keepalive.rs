//! Idle threads of the set exit once the keepalive has passed: a binary of
//! its own, since it configures the process-wide set and counts threads.

mod common;

use std::time::Duration;

use common::{threads_named, wait_until, watchdog};
use threadpipe::ThreadSetBuilder;
use threadpipe::prelude::*;

#[test]
fn idle_threads_exit_after_the_keepalive() {
    let _watchdog = watchdog();
    ThreadSetBuilder::new()
        .keepalive(Duration::from_millis(50))
        .build_global()
        .expect("nothing in this binary used the set before");
    // Too late now: the set is configured.
    assert!(ThreadSetBuilder::new().threads(1).build_global().is_err());
    for _ in 0..3 {
        let total: u64 = (0..10_000u64).parallel_map(|n| n ^ 5).sum();
        assert_eq!(total, (0..10_000u64).map(|n| n ^ 5).sum());
        let passed: usize = (0..1_000).off_thread().count();
        assert_eq!(passed, 1_000);
        // The stages are over, and every thread of the set is idle: all of
        // them go within a keepalive (and a monitor's own).
        wait_until("every thread of the set has exited", || {
            threads_named("threadpipe").is_empty()
        });
    }
}
