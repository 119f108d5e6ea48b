//! How many entries a thread claims at once: as many as take about
//! [`CHUNK_WORK`] to run, so that claiming costs little next to the work,
//! but never so many that other idle threads would be left without any.

use std::time::{Duration, Instant};

/// About how long one claimed chunk takes to run. It bounds how long a
/// result whose turn has come can wait for a consumer that is running a
/// chunk it took on, and it is long enough that the claim (a lock whose
/// cache line usually comes from another core) costs a few percent of it.
pub(super) const CHUNK_WORK: Duration = Duration::from_micros(5);

/// The most entries one claim takes, however cheap they are.
pub(super) const MAX_CHUNK: usize = 64;

/// One thread's running estimate of what an entry costs it.
#[derive(Debug, Default)]
pub(super) struct Pace {
    /// Nanoseconds per entry, smoothed; 0 until the first chunk is timed.
    nanos_per_entry: u64,
}

impl Pace {
    /// The chunk to claim now, with `unclaimed` entries waiting and `takers`
    /// threads that may claim them.
    pub(super) fn chunk(&self, unclaimed: usize, takers: usize) -> usize {
        let by_cost = match self.nanos_per_entry {
            // Nothing timed yet: one entry, which times it.
            0 => 1,
            nanos => usize::try_from(CHUNK_WORK.as_nanos() as u64 / nanos).unwrap_or(MAX_CHUNK),
        };
        // Leave half of what waits to the others (guided self-scheduling),
        // so that uneven entries still spread over every thread.
        let fair_share = unclaimed.div_ceil(2 * takers.max(1));
        by_cost.clamp(1, MAX_CHUNK).min(fair_share.max(1))
    }

    /// Times a chunk of `entries` that began at `started`.
    pub(super) fn ran(&mut self, entries: usize, started: Instant) {
        if entries == 0 {
            return;
        }
        let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let per_entry = (nanos / entries as u64).max(1);
        // An average that follows changes within a few chunks.
        self.nanos_per_entry = match self.nanos_per_entry {
            0 => per_entry,
            before => (before * 3 + per_entry) / 4,
        };
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn starts_with_one_entry_to_time_it() {
        assert_eq!(Pace::default().chunk(100, 2), 1);
    }

    #[test]
    fn cheap_entries_come_in_chunks_of_about_the_chunk_work() {
        let pace = Pace {
            nanos_per_entry: 1_000,
        };
        assert_eq!(pace.chunk(1_000, 2), 5);
        let tiny = Pace { nanos_per_entry: 1 };
        assert_eq!(tiny.chunk(1_000, 2), MAX_CHUNK);
    }

    #[test]
    fn slow_entries_come_one_at_a_time() {
        let pace = Pace {
            nanos_per_entry: 50_000,
        };
        assert_eq!(pace.chunk(1_000, 2), 1);
    }

    #[test]
    fn leaves_half_of_what_waits_to_the_other_takers() {
        let tiny = Pace { nanos_per_entry: 1 };
        assert_eq!(tiny.chunk(8, 2), 2);
        assert_eq!(tiny.chunk(1, 4), 1);
    }
}
