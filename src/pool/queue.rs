//! The pool's queue of pulled entries: published one by one by whichever
//! worker holds the source, claimed a chunk at a time by any thread that
//! runs `f`. Its counters can be read without the lock, so waiting threads
//! spin on them.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crossbeam_utils::CachePadded;

use crate::sync::lock;
use crate::unwind::PanicPayload;

/// What one pull from the source left: an item, or the panic the source
/// raised in its place (in `next`, or in its drop at the end), which then
/// takes the item's turn.
pub(super) enum Entry<T> {
    Item(T),
    Panicked(PanicPayload),
}

/// An entry with its index, as it waits in the queue or in a claimer's hands.
pub(super) type Indexed<T> = (usize, Entry<T>);

/// A FIFO of `(index, entry)`, indices dense and increasing.
pub(super) struct Queue<T> {
    /// Written by the puller for every entry: on a cache line of its own,
    /// away from what the other threads only read.
    entries: CachePadded<Mutex<VecDeque<Indexed<T>>>>,
    /// Entries published so far, which is also the next entry's index.
    published: CachePadded<AtomicUsize>,
    /// Entries claimed so far.
    claimed: CachePadded<AtomicUsize>,
}

impl<T> Queue<T> {
    pub(super) fn new() -> Self {
        Queue {
            entries: CachePadded::new(Mutex::new(VecDeque::new())),
            published: CachePadded::new(AtomicUsize::new(0)),
            claimed: CachePadded::new(AtomicUsize::new(0)),
        }
    }

    /// Adds the entry numbered `index`, which must be the next one. Only
    /// the thread holding the source publishes, so indices follow its order.
    pub(super) fn publish(&self, index: usize, entry: Entry<T>) {
        lock(&self.entries).push_back((index, entry));
        self.published.store(index + 1, Ordering::Release);
    }

    /// How many entries are published and not yet claimed; may be stale.
    #[inline]
    pub(super) fn unclaimed(&self) -> usize {
        let published = self.published.load(Ordering::Acquire);
        published.saturating_sub(self.claimed.load(Ordering::Acquire))
    }

    /// Entries published so far; may be stale.
    pub(super) fn published(&self) -> usize {
        self.published.load(Ordering::Acquire)
    }

    /// Moves up to `at_most` of the oldest entries into `into`; how many.
    pub(super) fn claim(&self, at_most: usize, into: &mut VecDeque<Indexed<T>>) -> usize {
        if self.unclaimed() == 0 {
            return 0;
        }
        let mut entries = lock(&self.entries);
        let taken = at_most.min(entries.len());
        into.extend(entries.drain(..taken));
        // Under the lock, so the count follows the queue exactly.
        self.claimed.fetch_add(taken, Ordering::AcqRel);
        taken
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn item(entry: &Indexed<char>) -> (usize, char) {
        match entry {
            (index, Entry::Item(c)) => (*index, *c),
            (index, Entry::Panicked(_)) => (*index, '!'),
        }
    }

    #[test]
    fn claims_come_out_in_publishing_order_and_count() {
        let queue = Queue::new();
        for (index, c) in "abcde".chars().enumerate() {
            queue.publish(index, Entry::Item(c));
        }
        assert_eq!((queue.published(), queue.unclaimed()), (5, 5));
        let mut claimed = VecDeque::new();
        assert_eq!(queue.claim(2, &mut claimed), 2);
        assert_eq!(queue.claim(9, &mut claimed), 3);
        assert_eq!(queue.claim(9, &mut claimed), 0);
        let got: Vec<_> = claimed.iter().map(item).collect();
        assert_eq!(got, [(0, 'a'), (1, 'b'), (2, 'c'), (3, 'd'), (4, 'e')]);
        assert_eq!(queue.unclaimed(), 0);
    }
}
