//! What every thread of a pool reads to decide what to do next: the
//! counters, flags and bells, none of which depends on the item types.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crossbeam_utils::CachePadded;

use super::Order;
use crate::stats::Stats;
use crate::wake::{ConsumerBell, FencePair, WorkersBell};

/// Not known yet, or never happened: the value of [`Control::end`] and
/// [`Control::poisoned_at`] until then.
const NONE: usize = usize::MAX;

/// Where one worker stands, for a consumer that waits for the workers to
/// leave.
#[derive(Debug, Default)]
struct WorkerState {
    /// Inside the source's `next` or drop, where nothing can interrupt it.
    in_source: AtomicBool,
    /// The worker has left its loop and let go of everything but its thread.
    exited: AtomicBool,
}

/// The shared, type-free state of one pool.
#[derive(Debug)]
pub(super) struct Control {
    pub(super) window: usize,
    pub(super) order: Order,
    /// Threads that claim entries: the running workers, and the consumer in
    /// input order. Zero until every worker has been started, so that until
    /// then a worker runs what it pulls before it pulls more.
    takers: AtomicUsize,
    /// Results the consumer has handed over; written by it alone.
    delivered: CachePadded<AtomicUsize>,
    /// How many entries there are, once the source has ended.
    end: AtomicUsize,
    /// The index of the first entry whose outcome is a panic: nothing is
    /// pulled after it, and nothing after it is run.
    poisoned_at: AtomicUsize,
    /// The consumer has ended or dropped the stream: every worker leaves.
    cancelled: AtomicBool,
    /// A worker holds the source (a hint for the others, which wait).
    feed_busy: AtomicBool,
    workers: Box<[CachePadded<WorkerState>]>,
    pub(super) workers_bell: WorkersBell,
    pub(super) consumer_bell: ConsumerBell,
    /// Orders a worker's entering the source against the consumer's cancel.
    fences: FencePair,
    pub(super) stats: Stats,
}

impl Control {
    pub(super) fn new(workers: usize, window: usize, order: Order, stats: Stats) -> Self {
        Control {
            window,
            order,
            takers: AtomicUsize::new(0),
            delivered: CachePadded::new(AtomicUsize::new(0)),
            end: AtomicUsize::new(NONE),
            poisoned_at: AtomicUsize::new(NONE),
            cancelled: AtomicBool::new(false),
            feed_busy: AtomicBool::new(false),
            workers: (0..workers).map(|_| CachePadded::default()).collect(),
            workers_bell: WorkersBell::new(),
            consumer_bell: ConsumerBell::new(),
            fences: FencePair::new(),
            stats,
        }
    }

    /// Every worker has been started: `workers` of them, plus the consumer
    /// if it runs entries too.
    pub(super) fn set_takers(&self, takers: usize) {
        self.takers.store(takers, Ordering::Release);
        self.workers_bell.ring();
    }

    #[inline]
    pub(super) fn takers(&self) -> usize {
        self.takers.load(Ordering::Acquire)
    }

    /// Whether what a puller publishes can be taken by another thread while
    /// it pulls on; if not, it runs each entry before it pulls the next.
    #[inline]
    pub(super) fn others_take(&self) -> bool {
        self.takers() > 1
    }

    /// Records that `delivered` results have been handed over, and wakes
    /// workers that wait for the window (or for room for their results).
    #[inline]
    pub(super) fn delivered(&self, delivered: usize) {
        self.delivered.store(delivered, Ordering::Release);
        self.workers_bell.ring();
    }

    /// The first index the window does not reach yet: an entry is pulled
    /// only below it.
    #[inline]
    pub(super) fn window_limit(&self) -> usize {
        self.delivered
            .load(Ordering::Acquire)
            .saturating_add(self.window)
    }

    /// The number of entries, once the source has ended.
    #[inline]
    pub(super) fn end(&self) -> Option<usize> {
        Some(self.end.load(Ordering::Acquire)).filter(|&end| end != NONE)
    }

    /// The source has ended: there are `entries` entries, all published,
    /// and the source has been dropped ([`cancel`](Control::cancel) relies
    /// on it).
    pub(super) fn set_end(&self, entries: usize) {
        self.end.store(entries, Ordering::Release);
    }

    /// The entry at `index` holds a panic: stop pulling, and skip what
    /// follows it.
    pub(super) fn poison(&self, index: usize) {
        self.poisoned_at.fetch_min(index, Ordering::AcqRel);
    }

    #[inline]
    pub(super) fn is_poisoned(&self) -> bool {
        self.poisoned_at.load(Ordering::Acquire) != NONE
    }

    #[inline]
    pub(super) fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    /// Whether no entry will ever be published again.
    #[inline]
    pub(super) fn pulling_stopped(&self) -> bool {
        self.end().is_some() || self.is_poisoned() || self.is_cancelled()
    }

    /// Whether the entry at `index`, claimed but not yet run, should be
    /// dropped unrun: after a cancel; after a panic, in input order the
    /// entries behind it (their results would never be delivered), and in
    /// completion order every other entry.
    #[inline]
    pub(super) fn skips(&self, index: usize) -> bool {
        let poisoned_at = self.poisoned_at.load(Ordering::Acquire);
        self.is_cancelled()
            || match self.order {
                Order::Input => index > poisoned_at,
                Order::Completion => poisoned_at != NONE && index != poisoned_at,
            }
    }

    /// Says a worker holds the source, or has let go of it.
    pub(super) fn set_feed_busy(&self, busy: bool) {
        self.feed_busy.store(busy, Ordering::Release);
    }

    /// Whether a worker could pull the entry at `next_index` now.
    #[inline]
    pub(super) fn could_pull(&self, next_index: usize) -> bool {
        !self.feed_busy.load(Ordering::Acquire)
            && !self.pulling_stopped()
            && next_index < self.window_limit()
    }

    /// Worker `me` is about to call the source's `next`; `false` if the
    /// stream is cancelled, and then it must not, and must drop the source
    /// instead (it stays marked as inside it). Paired with the fence in
    /// [`cancel`](Control::cancel): either the worker sees the cancel, or
    /// the consumer sees the worker inside the source and does not wait
    /// for it.
    #[inline]
    pub(super) fn enter_source(&self, me: usize) -> bool {
        self.workers[me].in_source.store(true, Ordering::Relaxed);
        self.fences.light();
        // On a cancel the mark stays: had it been cleared here, the consumer
        // could have seen it set for a moment and taken this worker for
        // one stuck inside the source, though it was on its way out.
        !self.cancelled.load(Ordering::Relaxed)
    }

    /// Worker `me` is about to drop the source, which nothing can interrupt
    /// either: the consumer, if it waits for the workers, stops waiting for
    /// this one.
    pub(super) fn enter_source_to_drop_it(&self, me: usize) {
        self.workers[me].in_source.store(true, Ordering::Release);
        self.consumer_bell.ring();
    }

    #[inline]
    pub(super) fn leave_source(&self, me: usize) {
        self.workers[me].in_source.store(false, Ordering::Release);
    }

    /// Worker `me` has let go of everything; its thread is about to end.
    pub(super) fn exited(&self, me: usize) {
        self.workers[me].exited.store(true, Ordering::Release);
        self.consumer_bell.ring();
    }

    pub(super) fn has_exited(&self, worker: usize) -> bool {
        self.workers[worker].exited.load(Ordering::Acquire)
    }

    /// Whether waiting for `worker` to leave could wait for ever: it is
    /// inside the source.
    pub(super) fn is_in_source(&self, worker: usize) -> bool {
        self.workers[worker].in_source.load(Ordering::Acquire)
    }

    /// Every worker has left (a pool whose workers all exited while the
    /// consumer still waits has a bug; this lets the consumer see it).
    pub(super) fn all_exited(&self) -> bool {
        (0..self.workers.len()).all(|worker| self.has_exited(worker))
    }

    /// Tells every worker to leave, and wakes those asleep. After this, no
    /// worker enters the source's `next` unseen (see
    /// [`enter_source`](Control::enter_source)).
    pub(super) fn cancel(&self) {
        self.cancelled.store(true, Ordering::Release);
        // Once the end is known the source has been dropped, so no worker
        // can enter it again and the fence (a system call that interrupts
        // every running thread of the process) has nothing to order: every
        // stream that runs to its end skips it.
        if self.end().is_none() {
            // If the heavy fence fails, the consumer may for a moment not
            // see a worker that has just entered the source; it looks again
            // while it waits, and at worst waits until that `next` returns.
            self.fences.heavy();
        }
        self.workers_bell.ring();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn control(order: Order) -> Control {
        Control::new(2, 8, order, Stats::off())
    }

    #[test]
    fn the_window_moves_with_deliveries() {
        let control = control(Order::Input);
        assert_eq!(control.window_limit(), 8);
        control.delivered(5);
        assert_eq!(control.window_limit(), 13);
        assert!(control.could_pull(12));
        assert!(!control.could_pull(13));
    }

    #[test]
    fn in_input_order_only_entries_after_a_panic_are_skipped() {
        let control = control(Order::Input);
        assert!(!control.skips(9));
        control.poison(4);
        control.poison(6); // a later panic does not move the first
        assert!(!control.skips(3) && !control.skips(4));
        assert!(control.skips(5) && control.skips(6));
        assert!(control.pulling_stopped());
    }

    #[test]
    fn in_completion_order_every_entry_but_the_panic_is_skipped() {
        let control = control(Order::Completion);
        control.poison(4);
        assert!(control.skips(3) && control.skips(5));
        assert!(!control.skips(4));
    }

    #[test]
    fn after_a_cancel_nothing_runs_and_nobody_enters_the_source() {
        let control = control(Order::Input);
        assert!(control.enter_source(0));
        control.leave_source(0);
        control.cancel();
        assert!(control.skips(0));
        assert!(!control.enter_source(1));
        // Turned away, it drops the source next: the consumer must not wait
        // for it, so it stays marked as inside.
        assert!(control.is_in_source(1));
    }

    #[test]
    fn the_end_is_known_once_set() {
        let control = control(Order::Input);
        assert_eq!(control.end(), None);
        assert!(!control.pulling_stopped());
        control.set_end(12);
        assert_eq!(control.end(), Some(12));
        assert!(control.pulling_stopped());
    }
}
