//! How many items to take at once: as many as take about a given time to
//! handle, so that what each take costs (a lock, a cache line brought over
//! from another core, a slot freed for the producer) stays small next to
//! the work, while a slow item is taken on its own, and a slow consumer
//! frees room, and memory, a little at a time.

use std::time::{Duration, Instant};

/// One thread's running estimate of what an item costs it.
#[derive(Debug, Default)]
pub(crate) struct Pace {
    /// Nanoseconds per item, smoothed; 0 until something has been timed.
    nanos_per_item: u64,
}

impl Pace {
    /// How many items take about `target` to handle, by what was timed so
    /// far: one until anything has been timed (which times it), and never
    /// more than `most`.
    pub(crate) fn items_in(&self, target: Duration, most: usize) -> usize {
        let items = match self.nanos_per_item {
            0 => 1,
            nanos => usize::try_from(target.as_nanos() as u64 / nanos).unwrap_or(usize::MAX),
        };
        items.clamp(1, most.max(1))
    }

    /// Times `items` handled since `started`.
    pub(crate) fn ran(&mut self, items: usize, started: Instant) {
        if items == 0 {
            return;
        }
        let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let per_item = (nanos / items as u64).max(1);
        // An average that follows changes within a few takes.
        self.nanos_per_item = match self.nanos_per_item {
            0 => per_item,
            before => (before * 3 + per_item) / 4,
        };
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    const TARGET: Duration = Duration::from_micros(5);

    #[test]
    fn starts_with_one_item_to_time_it() {
        assert_eq!(Pace::default().items_in(TARGET, 100), 1);
    }

    #[test]
    fn cheap_items_come_in_chunks_of_about_the_target() {
        let pace = Pace {
            nanos_per_item: 1_000,
        };
        assert_eq!(pace.items_in(TARGET, 100), 5);
        let tiny = Pace { nanos_per_item: 1 };
        assert_eq!(tiny.items_in(TARGET, 64), 64);
    }

    #[test]
    fn slow_items_come_one_at_a_time() {
        let pace = Pace {
            nanos_per_item: 50_000,
        };
        assert_eq!(pace.items_in(TARGET, 100), 1);
    }

    #[test]
    fn timing_moves_the_estimate_towards_what_it_saw() {
        let mut pace = Pace::default();
        let long_ago = Instant::now() - Duration::from_millis(10);
        pace.ran(10, long_ago);
        assert!(pace.nanos_per_item >= 1_000_000);
        assert_eq!(pace.items_in(TARGET, 100), 1);
    }
}
