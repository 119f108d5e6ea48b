//! How many items to take at once: as many as take about a given time to
//! handle, so that what each take costs (a lock, a cache line brought over
//! from another core, a slot freed for the producer) stays small next to
//! the work, while a slow item is taken on its own, and a slow consumer
//! frees room, and memory, a little at a time.
//!
//! Reading the clock costs tens of nanoseconds, a few percent of a chunk of
//! microsecond items, so once the estimate has settled only one take in
//! [`TIMED_EVERY`] is timed.

use std::time::{Duration, Instant};

/// After the first few takes, one take in this many is timed.
const TIMED_EVERY: u32 = 4;

/// One thread's running estimate of what an item costs it.
#[derive(Debug, Default)]
pub(crate) struct Pace {
    /// Nanoseconds per item, smoothed; 0 until something has been timed.
    nanos_per_item: u64,
    /// Takes started so far, wrapping (the first few are timed again
    /// then, which does no harm), so that a stream of any length goes on
    /// timing one take in [`TIMED_EVERY`].
    takes: u32,
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

    /// Starts a take: the time it starts at, if this take is to be timed
    /// (the first [`TIMED_EVERY`], then one in [`TIMED_EVERY`]).
    #[inline]
    pub(crate) fn start(&mut self) -> Option<Instant> {
        let take = self.takes;
        self.takes = take.wrapping_add(1);
        (take < TIMED_EVERY || take.is_multiple_of(TIMED_EVERY)).then(Instant::now)
    }

    /// Ends a take of `items` items, started by [`start`](Self::start);
    /// times it if it was to be timed.
    pub(crate) fn ran(&mut self, items: usize, started: Option<Instant>) {
        let Some(started) = started.filter(|_| items > 0) else {
            return;
        };
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
            takes: 0,
        };
        assert_eq!(pace.items_in(TARGET, 100), 5);
        let tiny = Pace {
            nanos_per_item: 1,
            takes: 0,
        };
        assert_eq!(tiny.items_in(TARGET, 64), 64);
    }

    #[test]
    fn slow_items_come_one_at_a_time() {
        let pace = Pace {
            nanos_per_item: 50_000,
            takes: 0,
        };
        assert_eq!(pace.items_in(TARGET, 100), 1);
    }

    #[test]
    fn timing_moves_the_estimate_towards_what_it_saw() {
        let mut pace = Pace::default();
        let long_ago = Instant::now() - Duration::from_millis(10);
        pace.ran(10, Some(long_ago));
        assert!(pace.nanos_per_item >= 1_000_000);
        assert_eq!(pace.items_in(TARGET, 100), 1);
    }

    #[test]
    fn after_the_first_takes_one_in_timed_every_is_timed() {
        let mut pace = Pace::default();
        let timed: Vec<bool> = (0..12).map(|_| pace.start().is_some()).collect();
        let expected: Vec<bool> = (0..12u32)
            .map(|take| take < TIMED_EVERY || take % TIMED_EVERY == 0)
            .collect();
        assert_eq!(timed, expected);
        assert_eq!(timed.iter().filter(|&&t| t).count(), 6);
    }

    #[test]
    fn an_untimed_take_leaves_the_estimate_alone() {
        let mut pace = Pace::default();
        pace.ran(10, Some(Instant::now() - Duration::from_millis(10)));
        let before = pace.nanos_per_item;
        pace.ran(10, None);
        assert_eq!(pace.nanos_per_item, before);
    }

    #[test]
    fn timing_goes_on_however_many_takes_there_were() {
        let mut pace = Pace {
            nanos_per_item: 1_000,
            takes: u32::MAX - 1,
        };
        let timed = (0..2 * TIMED_EVERY)
            .filter(|_| pace.start().is_some())
            .count();
        assert!(
            timed >= 2,
            "only {timed} of {} takes timed",
            2 * TIMED_EVERY
        );
    }
}
