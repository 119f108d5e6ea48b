//! The pool's queue of pulled entries: published one by one by whichever
//! worker holds the source, claimed a chunk at a time by any thread that
//! runs `f`. Its counters can be read without the lock, so waiting threads
//! spin on them.
//!
//! Only the thread holding the source publishes, so the publishing end is a
//! single producer, kept with the source (a [`Publisher`]): a publish is a
//! slot written and an index stored, with no lock and no read-modify-write,
//! which on small items was the largest cost of pulling (see
//! `benches/README.md`, parallel_map's workers). Claimers share the other
//! end under a lock, taken once per chunk.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam_utils::CachePadded;
use rtrb::{Consumer, Producer, RingBuffer};

use crate::sync::Lock as _;
use crate::unwind::{self, FirstPanic, PanicPayload};

/// What one pull from the source left: an item, or the panic the source
/// raised in its place (in `next`, or in its drop at the end), which then
/// takes the item's turn.
pub(super) enum Entry<T> {
    Item(T),
    Panicked(PanicPayload),
}

/// An entry with its index, as it waits in a claimer's hands.
pub(super) type Indexed<T> = (u64, Entry<T>);

/// The claimers' side of the queue, shared by every thread that runs `f`.
pub(super) struct Queue<T> {
    /// The oldest entries, taken under the lock: one claimer at a time.
    entries: CachePadded<Mutex<Consumer<Entry<T>>>>,
    /// Entries published so far, which is also the next entry's index.
    published: CachePadded<AtomicU64>,
    /// Entries claimed so far, which is also the oldest entry's index;
    /// written under the lock only.
    claimed: CachePadded<AtomicU64>,
}

/// The publishing side of the queue, owned by whoever holds the source.
pub(super) struct Publisher<T> {
    slots: Producer<Entry<T>>,
}

/// A queue with room for `capacity` unclaimed entries, and its publisher.
pub(super) fn queue<T>(capacity: usize) -> (Queue<T>, Publisher<T>) {
    let (slots, entries) = RingBuffer::new(capacity.max(1));
    let queue = Queue {
        entries: CachePadded::new(Mutex::new(entries)),
        published: CachePadded::new(AtomicU64::new(0)),
        claimed: CachePadded::new(AtomicU64::new(0)),
    };
    (queue, Publisher { slots })
}

impl<T> Publisher<T> {
    /// Whether the queue has room for one more entry: the puller looks
    /// before it calls the source, so that whatever the call leaves (an
    /// item, or a panic) can be published at once.
    #[inline]
    pub(super) fn has_room(&self) -> bool {
        !self.slots.is_full()
    }
}

impl<T> Queue<T> {
    /// Adds the entry numbered `index`, which must be the next one, through
    /// the queue's only `publisher`; the caller has seen
    /// [`has_room`](Publisher::has_room).
    pub(super) fn publish(&self, publisher: &mut Publisher<T>, index: u64, entry: Entry<T>) {
        if publisher.slots.push(entry).is_err() {
            unreachable!("threadpipe: an entry was pulled without room to publish it");
        }
        self.published.store(index + 1, Ordering::Release);
    }

    /// How many entries are published and not yet claimed; may be stale.
    #[inline]
    pub(super) fn unclaimed(&self) -> usize {
        let published = self.published.load(Ordering::Acquire);
        let unclaimed = published.saturating_sub(self.claimed.load(Ordering::Acquire));
        // At most the queue's capacity, itself a `usize`.
        usize::try_from(unclaimed).unwrap_or(usize::MAX)
    }

    /// Entries published so far; may be stale.
    pub(super) fn published(&self) -> u64 {
        self.published.load(Ordering::Acquire)
    }

    /// Entries claimed so far (skipped ones included); may be stale.
    pub(super) fn claimed(&self) -> u64 {
        self.claimed.load(Ordering::Acquire)
    }

    /// Moves up to `at_most` of the oldest entries into `into`, with their
    /// indices; how many.
    pub(super) fn claim(&self, at_most: usize, into: &mut VecDeque<Indexed<T>>) -> usize {
        if self.unclaimed() == 0 {
            return 0;
        }
        let mut entries = self.entries.locked();
        let taken = at_most.min(entries.slots());
        if taken == 0 {
            return 0;
        }
        let first = self.claimed.load(Ordering::Relaxed);
        let chunk = entries
            .read_chunk(taken)
            .expect("threadpipe: the queue shrank under its only claimer");
        into.extend((first..).zip(chunk));
        // Under the lock, so the count follows the queue exactly.
        self.claimed.store(first + taken as u64, Ordering::Release);
        taken
    }
}

impl<T> Queue<T> {
    /// Counts the entry numbered `index`, which the puller runs itself
    /// rather than publish, as published and claimed at once, through the
    /// queue's only `publisher`; `false`, and nothing counted, unless every
    /// entry before it has been claimed (so it is the next to publish and
    /// nobody could claim it first).
    ///
    /// No lock: with every published entry claimed, the queue is empty, and
    /// only a publish (which needs `publisher`, held here) could give a
    /// claimer something to take and the count of claims to move.
    pub(super) fn skip(&self, _publisher: &mut Publisher<T>, index: u64) -> bool {
        if self.published.load(Ordering::Acquire) != index
            || self.claimed.load(Ordering::Acquire) != index
        {
            return false;
        }
        self.published.store(index + 1, Ordering::Release);
        self.claimed.store(index + 1, Ordering::Release);
        true
    }
}

impl<T> Queue<T> {
    /// Drops every entry nobody claimed, each under a catch, so that one
    /// whose drop panics keeps none of the others from being dropped; the
    /// first such panic is handed back. For a stream that no longer wants
    /// them: entries published later are dropped with the queue.
    pub(super) fn drop_unclaimed(&self) -> FirstPanic {
        let mut first = FirstPanic::default();
        let mut entries = self.entries.locked();
        let mut dropped: u64 = 0;
        while let Ok(entry) = entries.pop() {
            first.keep(unwind::catch_drop(entry));
            dropped += 1;
        }
        let claimed = self.claimed.load(Ordering::Relaxed);
        self.claimed.store(claimed + dropped, Ordering::Release);
        first
    }
}

impl<T> Drop for Queue<T> {
    /// Drops what is left one entry at a time (the ring's own drop would
    /// stop at the first entry whose drop panics, and leak the rest); the
    /// first panic is raised once every entry is dropped, unless this thread
    /// is already panicking.
    fn drop(&mut self) {
        let first = self.drop_unclaimed();
        if !std::thread::panicking() {
            first.resume_if_any();
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn item(entry: &Indexed<char>) -> (u64, char) {
        match entry {
            (index, Entry::Item(c)) => (*index, *c),
            (index, Entry::Panicked(_)) => (*index, '!'),
        }
    }

    #[test]
    fn claims_come_out_in_publishing_order_and_count() {
        let (queue, mut publisher) = queue(8);
        for (index, c) in "abcde".chars().enumerate() {
            assert!(publisher.has_room());
            queue.publish(&mut publisher, index as u64, Entry::Item(c));
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

    #[test]
    fn a_full_queue_has_room_again_once_claimed_from_and_indices_go_on() {
        let (queue, mut publisher) = queue(2);
        queue.publish(&mut publisher, 0, Entry::Item('a'));
        queue.publish(&mut publisher, 1, Entry::Item('b'));
        assert!(!publisher.has_room());
        let mut claimed = VecDeque::new();
        assert_eq!(queue.claim(1, &mut claimed), 1);
        assert!(publisher.has_room());
        queue.publish(&mut publisher, 2, Entry::Item('c'));
        assert_eq!(queue.claim(9, &mut claimed), 2);
        let got: Vec<_> = claimed.iter().map(item).collect();
        assert_eq!(got, [(0, 'a'), (1, 'b'), (2, 'c')]);
    }

    #[test]
    fn skipping_counts_an_entry_only_once_everything_before_it_is_claimed() {
        let (queue, mut publisher) = queue(4);
        assert!(queue.skip(&mut publisher, 0));
        queue.publish(&mut publisher, 1, Entry::Item('b'));
        // 'b' is published and unclaimed: entry 2 could not be run unseen.
        assert!(!queue.skip(&mut publisher, 2));
        assert_eq!((queue.published(), queue.unclaimed()), (2, 1));
        let mut claimed = VecDeque::new();
        assert_eq!(queue.claim(9, &mut claimed), 1);
        assert!(queue.skip(&mut publisher, 2));
        assert_eq!((queue.published(), queue.unclaimed()), (3, 0));
        assert_eq!(queue.claim(9, &mut claimed), 0);
        assert_eq!(claimed.iter().map(item).collect::<Vec<_>>(), [(1, 'b')]);
    }

    /// Skips take no lock: a claimer racing with a publisher that mixes
    /// skips and publishes still claims every published entry exactly
    /// once, in order, and the counts end equal.
    #[test]
    fn skips_without_a_lock_race_safely_with_claims() {
        // Miri takes a second per 200 entries; 1,000 still wrap the queue
        // of 16 many times over.
        const ENTRIES: u64 = if cfg!(miri) { 1_000 } else { 20_000 };
        let (queue, mut publisher) = queue(16);
        let (claimed, skipped) = std::thread::scope(|scope| {
            let claimer = scope.spawn(|| {
                let mut claimed = VecDeque::new();
                while queue.claimed.load(Ordering::Acquire) < ENTRIES {
                    queue.claim(3, &mut claimed);
                }
                claimed
            });
            let mut skipped = Vec::new();
            let mut index = 0;
            while index < ENTRIES {
                if index % 3 == 0 && queue.skip(&mut publisher, index) {
                    skipped.push(index);
                } else if publisher.has_room() {
                    queue.publish(&mut publisher, index, Entry::Item('x'));
                } else {
                    continue;
                }
                index += 1;
            }
            (claimer.join().expect("the claimer"), skipped)
        });
        let mut seen: Vec<u64> = claimed.iter().map(|(index, _)| *index).collect();
        assert!(
            seen.windows(2).all(|pair| pair[0] < pair[1]),
            "out of order"
        );
        seen.extend(&skipped);
        seen.sort_unstable();
        assert_eq!(seen, (0..ENTRIES).collect::<Vec<_>>());
        assert_eq!((queue.published(), queue.unclaimed()), (ENTRIES, 0));
    }

    struct PanicsOnDrop;

    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            std::panic::panic_any("dropped");
        }
    }

    #[test]
    fn every_entry_left_is_dropped_though_one_drop_panics_and_its_panic_comes_out() {
        let item = std::sync::Arc::new(());
        let (queue, mut publisher) = queue(4);
        queue.publish(&mut publisher, 0, Entry::Item((None, PanicsOnDrop)));
        for index in 1..3 {
            let entry = (Some(std::sync::Arc::clone(&item)), PanicsOnDrop);
            queue.publish(&mut publisher, index, Entry::Item(entry));
        }
        // Each entry's drop panics: the first panic comes out once all of
        // them are dropped (the tuple lets go of its `Arc` first).
        let outcome = unwind::catch(move || drop(queue));
        let payload = outcome.expect_err("the first drop's panic");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"dropped"));
        assert_eq!(std::sync::Arc::strong_count(&item), 1);
    }

    #[test]
    fn entries_left_unclaimed_are_dropped_with_the_queue() {
        let item = std::sync::Arc::new(());
        let (queue, mut publisher) = queue(4);
        queue.publish(&mut publisher, 0, Entry::Item(std::sync::Arc::clone(&item)));
        drop((queue, publisher));
        assert_eq!(std::sync::Arc::strong_count(&item), 1);
    }
}
