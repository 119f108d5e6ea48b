//! What every thread of a pool reads to decide what to do next: the
//! counters, flags and bells, none of which depends on the item types.
//!
//! Entries are numbered with `u64`, never `usize`: a stream of 2^32 items
//! (minutes, at a tenth of a microsecond each) must not wrap on a 32-bit
//! target.

use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};

use crossbeam_utils::CachePadded;

use super::Order;
use crate::stats::Recorder;
use crate::sync::Lock as _;
use crate::sync::shim::{AtomicUsize, Ordering};
use crate::unwind::{self, PanicPayload};
use crate::wake::{ConsumerBell, FencePair};

/// Not known yet, or never happened: the value of [`Control::end`],
/// [`Control::poisoned_at`] and [`Control::room_wanted_at`] until then.
const UNSET: u64 = u64::MAX;

/// In [`Control::feed`]: someone holds the source.
const FEED_BUSY: usize = 1;
/// In [`Control::feed`]: a run stopped for the source, held by a consumer
/// stepping alone.
const FEED_WANTED: usize = 2;

/// Where one slot's run stands, for a consumer that waits for the runs to
/// end.
#[derive(Debug, Default)]
struct SlotState {
    /// A run holds the slot.
    busy: AtomicBool,
    /// Its run is inside the source's `next`, where nothing can interrupt
    /// it (and not in the source's drop, which the consumer waits for).
    in_next: AtomicBool,
}

/// The shared, type-free state of one pool.
#[derive(Debug)]
pub(super) struct Control {
    pub(super) window: u64,
    pub(super) order: Order,
    /// Threads that may claim entries: the stage's runs at most, and the
    /// consumer in input order.
    takers: usize,
    /// Results the consumer has handed over; written by it alone.
    delivered: CachePadded<AtomicU64>,
    /// A run stopped because the window was full: the consumer asks for a
    /// run again once it has delivered this many (a quarter of the window
    /// later, so that pullers do not restart for every result).
    room_wanted_at: CachePadded<AtomicU64>,
    /// How many entries there are, once the source has ended.
    end: AtomicU64,
    /// The index of the first entry whose outcome is a panic: nothing is
    /// pulled after it, and nothing after it is run.
    poisoned_at: AtomicU64,
    /// The consumer has ended or dropped the stream: every run leaves.
    cancelled: AtomicBool,
    /// A run died of a panic that escaped every catch (a bug of this
    /// crate: user code runs under catches of its own), with what it held;
    /// the consumer raises it rather than wait for that forever.
    run_lost: AtomicBool,
    lost_payload: Mutex<Option<PanicPayload>>,
    /// Who holds the source, and who wants it: [`FEED_BUSY`] while a run
    /// or a consumer stepping alone holds it (a hint for the runs, which do
    /// not wait for it), [`FEED_WANTED`] once a run found it held and
    /// stopped (or waits in place) rather than look again and again: the
    /// consumer asks for a run when it lets go.
    /// One word, changed by read-modify-writes only, so that the wish and
    /// the letting go are ordered one way or the other (see
    /// [`want_feed`](Control::want_feed)).
    feed: AtomicUsize,
    /// The source has been dropped, and its drop has run.
    source_gone: AtomicBool,
    /// The consumer waits for a result (see `consumer_takes`).
    consumer_waiting: CachePadded<AtomicBool>,
    slots: Box<[CachePadded<SlotState>]>,
    /// Where the consumer sleeps; shared, so that a run can ring it after
    /// it has let go of the stage.
    pub(super) consumer_bell: Arc<ConsumerBell>,
    /// Orders a run's entering the source against the consumer's cancel,
    /// and a run's stopping at the window against the consumer's delivery.
    fences: FencePair,
    pub(super) stats: Recorder,
}

impl Control {
    /// The control of a pool of `slots` runs at most, which the consumer
    /// helps (`consumer_takes`) or not.
    pub(super) fn new(
        slots: usize,
        consumer_takes: bool,
        window: usize,
        order: Order,
        stats: Recorder,
    ) -> Self {
        Control {
            window: window as u64,
            order,
            takers: slots + usize::from(consumer_takes),
            delivered: CachePadded::new(AtomicU64::new(0)),
            room_wanted_at: CachePadded::new(AtomicU64::new(UNSET)),
            end: AtomicU64::new(UNSET),
            poisoned_at: AtomicU64::new(UNSET),
            cancelled: AtomicBool::new(false),
            run_lost: AtomicBool::new(false),
            lost_payload: Mutex::new(None),
            feed: AtomicUsize::new(0),
            source_gone: AtomicBool::new(false),
            consumer_waiting: CachePadded::new(AtomicBool::new(false)),
            slots: (0..slots).map(|_| CachePadded::default()).collect(),
            consumer_bell: Arc::new(ConsumerBell::new()),
            fences: FencePair::new(),
            stats,
        }
    }

    #[inline]
    pub(super) fn takers(&self) -> usize {
        self.takers
    }

    /// How many published entries the consumer will take on itself: one,
    /// if it helps (input order) and waits for a result now (it wakes for
    /// the entry), else none (it is busy with its own work, and a run
    /// should take the entry meanwhile).
    #[inline]
    pub(super) fn consumer_takes(&self) -> usize {
        usize::from(self.order == Order::Input && self.consumer_waiting.load(Ordering::Relaxed))
    }

    /// Says whether the consumer waits for a result.
    #[inline]
    pub(super) fn set_consumer_waiting(&self, waiting: bool) {
        self.consumer_waiting.store(waiting, Ordering::Relaxed);
    }

    /// Whether what a puller publishes can be taken by another thread while
    /// it pulls on; if not, it runs each entry before it pulls the next.
    #[inline]
    pub(super) fn others_take(&self) -> bool {
        self.takers > 1
    }

    /// Records that `delivered` results have been handed over; whether a
    /// run that stopped at the window should be asked for now.
    #[inline]
    pub(super) fn delivered(&self, delivered: u64) -> bool {
        self.delivered.store(delivered, Ordering::Release);
        // Paired with the heavy fence a run that stops at the window runs
        // after it says so (see `Runs::end`).
        self.fences.light();
        delivered >= self.room_wanted_at.load(Ordering::Relaxed)
            && self.room_wanted_at.swap(UNSET, Ordering::AcqRel) != UNSET
    }

    /// A run stops because the window is full at `next_index`: it wants
    /// another once a quarter of the window is free.
    pub(super) fn want_room(&self, next_index: u64) {
        let quarter = (self.window / 4).max(1);
        let at = (next_index + quarter).saturating_sub(self.window);
        self.room_wanted_at.store(at, Ordering::Release);
        // The consumer delivers with a compiler fence only (this is rare,
        // a delivery is not): the heavy half of the pair is here.
        self.fences.heavy();
    }

    /// Whether the room a run stopping at the window wants is there: the
    /// last look, after its heavy fence.
    pub(super) fn room_came(&self) -> bool {
        let at = self.room_wanted_at.load(Ordering::Acquire);
        at != UNSET && self.delivered.load(Ordering::Acquire) >= at
    }

    /// The first index the window does not reach yet: an entry is pulled
    /// only below it.
    #[inline]
    pub(super) fn window_limit(&self) -> u64 {
        self.delivered
            .load(Ordering::Acquire)
            .saturating_add(self.window)
    }

    /// The number of entries, once the source has ended.
    #[inline]
    pub(super) fn end(&self) -> Option<u64> {
        Some(self.end.load(Ordering::Acquire)).filter(|&end| end != UNSET)
    }

    /// The source has ended: there are `entries` entries, all published,
    /// and the source has been dropped ([`cancel`](Control::cancel) relies
    /// on it).
    pub(super) fn set_end(&self, entries: u64) {
        self.end.store(entries, Ordering::Release);
    }

    /// The entry at `index` holds a panic: stop pulling, and skip what
    /// follows it.
    pub(super) fn poison(&self, index: u64) {
        self.poisoned_at.fetch_min(index, Ordering::AcqRel);
    }

    #[inline]
    pub(super) fn is_poisoned(&self) -> bool {
        self.poisoned_at.load(Ordering::Acquire) != UNSET
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
    /// dropped unrun: after a cancel, and the entries behind a panic (their
    /// results would never be delivered). Those before it run, in either
    /// order: the panic reaches the consumer after them.
    #[inline]
    pub(super) fn skips(&self, index: u64) -> bool {
        self.is_cancelled() || index > self.poisoned_at.load(Ordering::Acquire)
    }

    /// A run died outside every catch with `payload`: the stream cannot go
    /// on without what it held, so the consumer is woken to raise the panic
    /// (the first, if several runs die).
    pub(super) fn run_lost(&self, payload: PanicPayload) {
        {
            let mut lost = self.lost_payload.locked();
            if lost.is_none() {
                *lost = Some(payload);
            } else {
                unwind::discard(Err::<(), _>(payload));
            }
        }
        self.run_lost.store(true, Ordering::Release);
        self.consumer_bell.ring();
    }

    /// Whether a run has died outside every catch.
    #[inline]
    pub(super) fn lost_a_run(&self) -> bool {
        self.run_lost.load(Ordering::Acquire)
    }

    /// The panic of a run that died outside every catch, once.
    pub(super) fn take_lost_run(&self) -> Option<PanicPayload> {
        if !self.lost_a_run() {
            return None;
        }
        self.lost_payload.locked().take()
    }

    /// The source has been dropped: wakes a consumer that waits for it.
    pub(super) fn source_dropped(&self) {
        self.source_gone.store(true, Ordering::Release);
        self.consumer_bell.ring();
    }

    #[inline]
    pub(super) fn source_gone(&self) -> bool {
        self.source_gone.load(Ordering::Acquire)
    }

    /// Says the caller (a run, or a consumer stepping alone) holds the
    /// source.
    pub(super) fn take_feed(&self) {
        self.feed.fetch_or(FEED_BUSY, Ordering::AcqRel);
    }

    /// A run lets go of the source. A wish of another run's goes with it:
    /// this run goes on with the stage's work, the wish's included, and
    /// looks for more before it ends.
    pub(super) fn feed_given_back(&self) {
        self.feed
            .fetch_and(!(FEED_BUSY | FEED_WANTED), Ordering::AcqRel);
    }

    /// A run stops because it found the source held (by a consumer
    /// stepping alone, say): it wishes for a run once the holder lets go.
    /// Either the wish comes before the letting go in the word's order, and
    /// the holder sees it, or after, and the run's last look (after it
    /// stops counting, see `Runs::end`, or as it waits in place) sees the
    /// source free. The wish is made whether or not the source is said
    /// held yet: a holder takes its lock a moment before it says so, and a
    /// run that found the lock taken in that moment, wishing only while
    /// the source was said held, could make no wish and then, its last look
    /// seeing the source held, sleep through the letting go. A wish made
    /// while the source is free costs at most one needless ring.
    pub(super) fn want_feed(&self) {
        self.feed.fetch_or(FEED_WANTED, Ordering::AcqRel);
    }

    /// A consumer stepping alone lets go of the source; whether a run
    /// stopped for it meanwhile and should be asked for again.
    pub(super) fn feed_let_go(&self) -> bool {
        self.feed.swap(0, Ordering::AcqRel) & FEED_WANTED != 0
    }

    /// Whether a run could pull the entry at `next_index` now.
    #[inline]
    pub(super) fn could_pull(&self, next_index: u64) -> bool {
        self.feed.load(Ordering::Acquire) & FEED_BUSY == 0
            && !self.pulling_stopped()
            && next_index < self.window_limit()
    }

    /// Whether the entry at `next_index` is inside the window: for a
    /// consumer that pulls while no run holds the source.
    pub(super) fn could_pull_alone(&self, next_index: u64) -> bool {
        next_index < self.window_limit()
    }

    /// A run takes slot `me`; `false` if the stream is cancelled, and then
    /// it must run nothing, only drop the source if it is left. Paired with
    /// the fence in [`cancel`](Control::cancel): either the run sees the
    /// cancel, or the consumer sees the slot taken and waits for the run.
    pub(super) fn slot_taken(&self, me: usize) -> bool {
        self.slots[me].busy.store(true, Ordering::Relaxed);
        self.fences.light();
        !self.cancelled.load(Ordering::Relaxed)
    }

    /// The run in slot `me` has let go of everything it held of the stage.
    pub(super) fn slot_freed(&self, me: usize) {
        self.slots[me].busy.store(false, Ordering::Release);
        self.consumer_bell.ring();
    }

    /// The run in slot `me` is about to call the source's `next`; `false`
    /// if the stream is cancelled, and then it must not.
    #[inline]
    pub(super) fn enter_next(&self, me: usize) -> bool {
        if self.is_cancelled() {
            return false;
        }
        self.slots[me].in_next.store(true, Ordering::Release);
        self.consumer_bell.ring();
        true
    }

    #[inline]
    pub(super) fn leave_next(&self, me: usize) {
        self.slots[me].in_next.store(false, Ordering::Release);
    }

    /// Whether a consumer that finishes the stream may stop waiting for
    /// slot `me`: no run holds it, or its run is inside the source's
    /// `next`, which nothing can interrupt.
    pub(super) fn slot_settled(&self, me: usize) -> bool {
        let slot = &self.slots[me];
        !slot.busy.load(Ordering::Acquire) || slot.in_next.load(Ordering::Acquire)
    }

    /// Whether slot `me`'s run is inside the source's `next`.
    pub(super) fn slot_in_next(&self, me: usize) -> bool {
        self.slots[me].in_next.load(Ordering::Acquire)
    }

    pub(super) fn slots(&self) -> usize {
        self.slots.len()
    }

    /// Tells every run to leave. After this, no run takes a slot unseen (see
    /// [`slot_taken`](Control::slot_taken)); the caller then wakes the runs.
    pub(super) fn cancel(&self) {
        self.cancelled.store(true, Ordering::Release);
        // Once the end is known the source has been dropped, so no run can
        // enter it again and the fence (a system call that interrupts every
        // running thread of the process) has nothing to order: every
        // stream that runs to its end skips it.
        if self.end().is_none() {
            // If the heavy fence fails, the consumer may for a moment not
            // see a run that has just taken a slot; that run sees the
            // cancel at its next step.
            self.fences.heavy();
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn control(order: Order) -> Control {
        Control::new(2, true, 8, order, Recorder::off())
    }

    #[test]
    fn the_window_moves_with_deliveries() {
        let control = control(Order::Input);
        assert_eq!(control.window_limit(), 8);
        let _ = control.delivered(5);
        assert_eq!(control.window_limit(), 13);
        assert!(control.could_pull(12));
        assert!(!control.could_pull(13));
    }

    #[test]
    fn in_either_order_only_entries_after_a_panic_are_skipped() {
        for order in [Order::Input, Order::Completion] {
            let control = control(order);
            assert!(!control.skips(9), "{order:?}");
            control.poison(6);
            control.poison(4); // an earlier panic moves the point back
            control.poison(5); // a later one does not
            assert!(!control.skips(3) && !control.skips(4), "{order:?}");
            assert!(control.skips(5) && control.skips(6), "{order:?}");
            assert!(control.pulling_stopped(), "{order:?}");
        }
    }

    #[test]
    fn after_a_cancel_nothing_runs_and_nobody_enters_the_source() {
        let control = control(Order::Input);
        assert!(control.slot_taken(0));
        assert!(control.enter_next(0));
        control.leave_next(0);
        control.slot_freed(0);
        control.cancel();
        assert!(control.skips(0));
        assert!(
            !control.slot_taken(1),
            "a run that comes after the cancel sees it"
        );
        assert!(!control.enter_next(1));
        // Turned away, it drops the source next, which the consumer waits
        // for: a run is settled only once it has let go.
        assert!(!control.slot_settled(1));
        control.slot_freed(1);
        assert!(control.slot_settled(1));
    }

    #[test]
    fn a_run_inside_next_is_not_waited_for() {
        let control = control(Order::Input);
        assert!(control.slot_taken(0));
        assert!(!control.slot_settled(0));
        assert!(control.enter_next(0));
        assert!(
            control.slot_settled(0),
            "nothing can interrupt a call of next"
        );
        control.leave_next(0);
        assert!(!control.slot_settled(0));
    }

    #[test]
    fn room_is_wanted_a_quarter_of_the_window_later() {
        let control = control(Order::Input);
        // Window 8, stopped at index 8 with nothing delivered.
        control.want_room(8);
        assert!(!control.room_came());
        assert!(!control.delivered(1));
        assert!(control.delivered(2), "a quarter of the window is free");
        assert!(!control.delivered(3), "asked for once");
    }

    #[test]
    fn indices_go_past_32_bits() {
        let control = control(Order::Input);
        let far = u64::from(u32::MAX) + 10;
        let _ = control.delivered(far);
        assert!(control.could_pull(far + 7));
        assert!(!control.could_pull(far + 8));
        control.set_end(far + 3);
        assert_eq!(control.end(), Some(far + 3));
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

/// Exhaustive checks of the protocol: run with
/// `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 cargo test --release --lib -- pool`.
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::scheduler::testing::counted_runs;

    /// A run that finds the source held by a consumer stepping alone stops
    /// for it, as the consumer lets go: a run is asked for all the same, by
    /// the consumer (it sees the wish) or by the run's last look (it sees
    /// the source free). Otherwise the stage would be left with work, no
    /// run, and a consumer that waits for one.
    #[test]
    fn a_run_that_stops_for_the_source_as_the_consumer_lets_go_is_not_lost() {
        loom::model(|| {
            let control =
                loom::sync::Arc::new(Control::new(1, false, 8, Order::Input, Recorder::off()));
            let (runs, tickets) = counted_runs(1, false);
            let runs = loom::sync::Arc::new(runs);
            control.take_feed();
            assert!(runs.request());
            runs.begin();
            let consumer = {
                let (control, runs) = (control.clone(), runs.clone());
                loom::thread::spawn(move || {
                    if control.feed_let_go() {
                        runs.notify();
                    }
                })
            };
            control.want_feed();
            runs.end(|| control.could_pull(0));
            consumer.join().unwrap();
            assert!(
                tickets.count() >= 2,
                "the source is free, and no run will come"
            );
        });
    }

    /// A run of a `parallel_map_init` stage finds the source's lock taken
    /// by a consumer about to step alone, before the consumer has said it
    /// holds the source, and waits in place: the consumer, letting go,
    /// wakes it. (Its wish was once made only while the source was said
    /// held, and so was lost in that gap: the run slept, with the source
    /// free, while the consumer waited for the run.) The source's lock is
    /// a flag taken by compare-and-swap, as `try_lock` takes it (loom's
    /// own `try_lock` never fails: it makes the caller wait); a run left
    /// asleep for ever fails the model as a deadlock.
    #[test]
    fn a_run_that_finds_the_lock_taken_before_the_source_is_said_held_is_woken() {
        use loom::sync::atomic::AtomicBool;
        loom::model(|| {
            let control =
                loom::sync::Arc::new(Control::new(1, false, 8, Order::Input, Recorder::off()));
            let locked = loom::sync::Arc::new(AtomicBool::new(false));
            let try_lock = |locked: &AtomicBool| {
                locked
                    .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            };
            let (runs, _tickets) = counted_runs(1, true);
            let runs = loom::sync::Arc::new(runs);
            assert!(runs.request());
            runs.begin();
            let consumer = {
                let (control, runs, locked) = (control.clone(), runs.clone(), locked.clone());
                loom::thread::spawn(move || {
                    if try_lock(&locked) {
                        control.take_feed();
                        if control.feed_let_go() {
                            runs.notify();
                        }
                        locked.store(false, Ordering::Release);
                    }
                })
            };
            if try_lock(&locked) {
                control.take_feed();
                control.feed_given_back();
                locked.store(false, Ordering::Release);
            } else {
                control.want_feed();
                // As the engine's run does: it looks again after each
                // return, and sleeps again while there is nothing to do.
                while !control.could_pull(0) {
                    runs.wait_in_place(|| !control.could_pull(0));
                }
            }
            consumer.join().unwrap();
        });
    }
}
