//! What a pool's runs do on the threads of the set: claim and run entries,
//! pull when nothing is left to claim, end (or wait in place) when neither
//! can be done; and the running of claimed entries, which the consumer
//! shares when it helps.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crossbeam_utils::CachePadded;
use rtrb::Producer;

use super::control::Control;
use super::queue::{self, Entry, Indexed, Publisher, Queue};
use super::{Outcome, Sent, claim_size};
use crate::handoff::TIME_SLICE;
use crate::pace::Pace;
use crate::scheduler::{PullingForAStage, Runs, Work};
use crate::sync::Lock as _;
use crate::thread_name;
use crate::unwind::{self, FirstPanic, PanicPayload};
use crate::wake::cores::{self, CoreBudget, Seat, UserCode};
use crate::wake::spin::spin_before_sleep;

/// How many entries a consumer steps through alone between two looks for
/// a free core (see [`Shared::step_alone`]).
const ALONE_LOOKS_EVERY: u64 = 16;

/// The source and where it stands; held by one run at a time.
struct Feed<I: Iterator> {
    /// `None` once it has ended, panicked or been dropped.
    source: Option<I>,
    /// The queue's publishing end, which goes with the source.
    publisher: Publisher<I::Item>,
    /// The index the next pulled entry gets.
    next_index: u64,
    /// Below this index the window certainly has room: the limit as last
    /// read, so the consumer's counter is read only when it is reached.
    room_below: u64,
}

/// One slot: the results ring of the run that holds it. A slot is held by
/// one run at a time, so each ring keeps one producer; runs claim entries
/// in index order, so each ring holds its results in index order.
type Slot<U> = Mutex<Option<Producer<Sent<U>>>>;

/// What a consumer stepping through its stage alone did (see
/// [`Shared::step_alone`]).
pub(super) enum Stepped<U> {
    /// It pulled the entry it wanted and ran it: its index and outcome.
    Ran(u64, Outcome<U>),
    /// It found the source at its end (or the source panicked): the end is
    /// set now, and a panic published.
    Ended,
    /// It did nothing: another thread has work of the stage, or the stream
    /// is past pulling (its end may have been known for long).
    Refused,
}

/// How a run's work stopped.
enum Stop {
    /// Nothing to do for now: the run ends; an event asks for another.
    /// With the count of published entries its wish for room was made for.
    Idle(u64),
    /// Its seat is wanted elsewhere: another run is queued in its place.
    Yield,
    /// The stream is over for the runs: nothing more will ever be run.
    Over,
}

/// Everything a pool's runs share.
pub(super) struct Shared<'scope, I: Iterator, F, Init, U> {
    pub(super) control: Control,
    /// Written at every pull: on a cache line of its own, away from `f`
    /// and `init`, which every thread reads for every item.
    feed: CachePadded<Mutex<Feed<I>>>,
    pub(super) queue: Queue<I::Item>,
    /// Runs pull more when fewer than this many entries are unclaimed.
    refill_below: usize,
    slots: Box<[Slot<U>]>,
    pub(super) runs: Runs<'scope>,
    /// Each run keeps its thread until the stage ends, waiting in place
    /// when it has nothing to do, so that a `parallel_map_init` state is
    /// made once on each thread and dropped there when the stage ends.
    sticky: bool,
    /// The stage's name; runs carry `name-<slot>` as their thread's name.
    name: String,
    f: F,
    init: Init,
}

impl<'scope, I: Iterator, F, Init, U> Shared<'scope, I, F, Init, U> {
    /// A pool's shared state, whose queue holds at most `queue_capacity`
    /// unclaimed entries, with a slot for each of `rings`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        source: I,
        f: F,
        init: Init,
        control: Control,
        queue_capacity: usize,
        rings: Vec<Producer<Sent<U>>>,
        runs: Runs<'scope>,
        sticky: bool,
        name: String,
    ) -> Self {
        let (queue, publisher) = queue::queue(queue_capacity);
        Shared {
            control,
            feed: CachePadded::new(Mutex::new(Feed {
                source: Some(source),
                publisher,
                next_index: 0,
                room_below: 0,
            })),
            queue,
            refill_below: queue_capacity / 2,
            slots: rings
                .into_iter()
                .map(|ring| Mutex::new(Some(ring)))
                .collect(),
            runs,
            sticky,
            name,
            f,
            init,
        }
    }

    /// Takes a free slot: its index and its ring.
    fn take_slot(&self) -> Option<(usize, Producer<Sent<U>>)> {
        self.slots.iter().enumerate().find_map(|(me, slot)| {
            slot.try_lock()
                .ok()
                .and_then(|mut ring| ring.take())
                .map(|ring| (me, ring))
        })
    }

    fn give_slot_back(&self, me: usize, ring: Producer<Sent<U>>) {
        *self.slots[me].locked() = Some(ring);
    }

    /// Whether the source has not been dropped yet. (Read without the
    /// feed's lock: a consumer that took the lock to look would keep a run
    /// that wants to drop the source from doing so.)
    pub(super) fn source_left(&self) -> bool {
        !self.control.source_gone()
    }

    /// Whether the stream no longer wants the source and no run holds it:
    /// a run must come to drop it. (A run that holds it drops it itself,
    /// once it sees the stream stopped.)
    fn source_needs_drop(&self) -> bool {
        (self.control.is_cancelled() || self.control.is_poisoned())
            && self.source_left()
            && self.feed.try_lock().is_ok()
    }

    /// Drops the source, if no run holds it, here: for a job on one of the
    /// set's threads, after the consumer has gone.
    pub(super) fn drop_source_if_left(&self) {
        if let Ok(mut feed) = self.feed.try_lock() {
            unwind::discard(drop_source(&mut feed, &self.control));
        }
    }

    /// Pulls from the source if no other run holds it; whether anything
    /// was pulled (or learnt about its end).
    fn try_pull(&self, me: usize) -> bool {
        let mut feed = match self.feed.try_lock() {
            Ok(feed) => feed,
            // Every call into the source is caught, so only a bug of
            // threadpipe's could have poisoned it; carry on regardless.
            Err(std::sync::TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return false,
        };
        self.control.take_feed();
        let pulled = self.pull(&mut feed, me);
        self.control.feed_given_back();
        drop(feed);
        // A run that wanted to drop the source while this one held it left
        // it to this one.
        if self.control.is_cancelled() || self.control.is_poisoned() {
            self.drop_source_if_left();
        }
        pulled
    }

    /// Pulls entries and publishes each at once, while the window has room
    /// and another thread could take them; one entry if none could, so that
    /// no entry waits on a run stuck inside the source.
    fn pull(&self, feed: &mut Feed<I>, me: usize) -> bool {
        let seat = cores::current_seat();
        let mut progressed = false;
        while feed.source.is_some() {
            if self.control.is_cancelled() || self.control.is_poisoned() {
                // Its panic, if any, is dropped: the stream has ended.
                unwind::discard(drop_source(feed, &self.control));
                return true;
            }
            let index = feed.next_index;
            if index >= feed.room_below {
                feed.room_below = self.control.window_limit();
                if index >= feed.room_below {
                    break;
                }
            }
            // Whatever the call leaves is published at once, so there must
            // be room for it; claimers make room, and nobody waits while the
            // queue is full, since there is so much to claim.
            if !feed.publisher.has_room() {
                break;
            }
            if !self.control.enter_next(me) {
                continue; // cancelled: dropped at the top of the loop
            }
            let source = feed.source.as_mut().expect("looked at above");
            let pulled = unwind::catch(|| {
                let _user = UserCode::enter(seat.as_ref());
                let _pulling = PullingForAStage::enter();
                source.next()
            });
            self.control.leave_next(me);
            match pulled {
                Ok(Some(item)) => {
                    if self.control.is_cancelled() || self.control.is_poisoned() {
                        unwind::discard(unwind::catch_drop(item));
                        continue;
                    }
                    feed.next_index += 1;
                    self.queue
                        .publish(&mut feed.publisher, index, Entry::Item(item));
                }
                Ok(None) => {
                    // Its drop may panic too; that panic is the last entry.
                    let dropped = drop_source(feed, &self.control);
                    let entries = match dropped {
                        Ok(()) => index,
                        Err(payload) => {
                            self.publish_panic(feed, index, payload);
                            index + 1
                        }
                    };
                    self.control.set_end(entries);
                }
                Err(payload) => {
                    // A second panic, from its drop, is dropped: the first wins.
                    unwind::discard(drop_source(feed, &self.control));
                    self.publish_panic(feed, index, payload);
                    self.control.set_end(index + 1);
                }
            }
            progressed = true;
            self.control.consumer_bell.ring();
            if !self.control.others_take() {
                break;
            }
            // It pulls on, perhaps into a long wait: what it published must
            // not wait for it. The consumer, if it helps, takes one entry
            // (it wakes for it); a run, asked for, takes the rest.
            if self.queue.unclaimed() > self.control.consumer_takes() {
                self.runs.request_helper();
            }
        }
        progressed
    }

    fn publish_panic(&self, feed: &mut Feed<I>, index: u64, payload: PanicPayload) {
        self.control.poison(index);
        self.queue
            .publish(&mut feed.publisher, index, Entry::Panicked(payload));
    }
}

impl<'scope, I, F, Init, S, U> Shared<'scope, I, F, Init, U>
where
    I: Iterator,
    F: Fn(&mut S, I::Item) -> U,
    Init: Fn() -> S,
{
    /// A run's work, in slot `me`: claim and run entries, pull when nothing
    /// is left to claim, stop when neither can be done (or wait in place,
    /// for a sticky stage), until the stream is over. Results go to
    /// `results`, in the order run.
    fn work(&self, me: usize, results: &mut Producer<Sent<U>>, state: &mut Option<S>) -> Stop {
        #[cfg(test)]
        unwind::dying_run::fail_point(&self.name);
        let seat = cores::current_seat();
        let mut pace = Pace::default();
        let mut claimed = VecDeque::new();
        let started = Instant::now();
        let stop = loop {
            if self.control.is_cancelled() {
                break Stop::Over;
            }
            // Refill before the queue runs dry, so that the other threads
            // never wait for this one to finish its chunk and pull. Not
            // with entries left that only this run takes: it could block
            // inside the source on them (one that waits for their results).
            let unclaimed = self.queue.unclaimed();
            if unclaimed < self.refill_below
                && (unclaimed == 0 || self.control.others_take())
                && self.control.could_pull(self.queue.published())
            {
                self.try_pull(me);
            }
            let chunk = claim_size(&pace, self.queue.unclaimed(), self.control.takers());
            if self.queue.claim(chunk, &mut claimed) > 0 {
                // More than this run takes (and the consumer, if it helps):
                // one more thread may help.
                if self.queue.unclaimed() > self.control.consumer_takes() {
                    self.runs.request_helper();
                }
                self.run_claimed(
                    &mut claimed,
                    state,
                    &mut pace,
                    seat.as_ref(),
                    |index, outcome| {
                        self.send(results, index, outcome);
                    },
                );
                if let Some((seat, budget)) = &seat
                    && seat_wanted(budget, started)
                {
                    if !self.sticky {
                        break Stop::Yield;
                    }
                    give_seat_a_turn(seat, budget);
                }
                continue;
            }
            if self.control.pulling_stopped() {
                // Whatever was published before the stop is visible now.
                if self.queue.unclaimed() == 0 {
                    break Stop::Over;
                }
                continue;
            }
            if self.try_pull(me) {
                continue;
            }
            if let Some(published) = self.wait_for_work(seat.as_ref().map(|(_, budget)| *budget)) {
                break Stop::Idle(published);
            }
        };
        // Entries claimed and not run (after a cancel) are dropped here.
        unwind::discard(unwind::catch_drop(claimed));
        stop
    }

    /// For a consumer inside another stage's work (see
    /// [`cores::inside_a_stage`]) that waits for result `wanted` while no run
    /// of its stage is going and nothing of it is in flight: pulls that
    /// entry and runs it here, as a sequential chain would, rather than
    /// wait for a run to get a seat. No other thread holds work of the
    /// stage, so no result can wait on this thread while it is inside the
    /// source; a run that comes meanwhile finds the source held and
    /// nothing to claim. What it did: see [`Stepped`].
    pub(super) fn step_alone(
        &self,
        wanted: u64,
        state: &mut Option<S>,
        seat: Option<&(Arc<Seat>, &'static CoreBudget)>,
    ) -> Stepped<U> {
        if self.runs.running() != 0 || self.queue.published() != wanted {
            return Stepped::Refused;
        }
        let Ok(mut feed) = self.feed.try_lock() else {
            return Stepped::Refused;
        };
        if feed.next_index != wanted
            || feed.source.is_none()
            || self.control.pulling_stopped()
            || !self.control.could_pull_alone(wanted)
        {
            return Stepped::Refused;
        }
        let source = feed.source.as_mut().expect("looked at above");
        // Said, as a run's pull says it: a run that came meanwhile would
        // otherwise see a source it could pull, fail to take it, and look
        // again at once, for as long as this call lasts, in a seat.
        self.control.take_feed();
        let pulled = unwind::catch(|| {
            let _user = UserCode::enter(seat);
            source.next()
        });
        if self.control.feed_let_go() {
            // A run came meanwhile and stopped, or waits in place: the
            // stage's work goes back to its runs.
            self.runs.notify();
        }
        let item = match pulled {
            Ok(Some(item)) => item,
            Ok(None) => {
                let entries = match drop_source(&mut feed, &self.control) {
                    Ok(()) => wanted,
                    Err(payload) => {
                        self.publish_panic(&mut feed, wanted, payload);
                        wanted + 1
                    }
                };
                self.control.set_end(entries);
                return Stepped::Ended;
            }
            Err(payload) => {
                unwind::discard(drop_source(&mut feed, &self.control));
                self.publish_panic(&mut feed, wanted, payload);
                self.control.set_end(wanted + 1);
                return Stepped::Ended;
            }
        };
        let skipped = self.queue.skip(&mut feed.publisher, wanted);
        debug_assert!(skipped, "the puller publishes in order");
        feed.next_index += 1;
        drop(feed);
        // Now and then, a look for a free core, which a run could use to
        // share the stage's work.
        if wanted.is_multiple_of(ALONE_LOOKS_EVERY)
            && seat.is_some_and(|(_, budget)| budget.has_room())
        {
            self.runs.request_helper();
        }
        let outcome = unwind::catch(|| {
            let _user = UserCode::enter(seat);
            (self.f)(state.get_or_insert_with(&self.init), item)
        });
        if outcome.is_err() {
            self.control.poison(wanted);
        }
        Stepped::Ran(wanted, outcome)
    }

    /// Runs `f` on each claimed entry, in order, handing each outcome to
    /// `deliver` as soon as it is made; entries the stream no longer needs
    /// are dropped unrun.
    pub(super) fn run_claimed(
        &self,
        claimed: &mut VecDeque<Indexed<I::Item>>,
        state: &mut Option<S>,
        pace: &mut Pace,
        seat: Option<&(Arc<Seat>, &'static CoreBudget)>,
        mut deliver: impl FnMut(u64, Outcome<U>),
    ) {
        let started = pace.start();
        let mut ran = 0;
        while let Some((index, entry)) = claimed.pop_front() {
            if self.control.skips(index) {
                // A panic here would come after the one that stopped the
                // stream, which is the one the consumer gets.
                unwind::discard(unwind::catch_drop(entry));
                continue;
            }
            let outcome = match entry {
                // `init` runs here, on this thread, before its first item.
                Entry::Item(item) => unwind::catch(|| {
                    let _user = UserCode::enter(seat);
                    (self.f)(state.get_or_insert_with(&self.init), item)
                }),
                Entry::Panicked(payload) => Err(payload),
            };
            if outcome.is_err() {
                self.control.poison(index);
            }
            ran += 1;
            deliver(index, outcome);
        }
        pace.ran(ran, started);
    }

    /// Hands one outcome to the consumer, waiting in place while the slot's
    /// ring is full (only a window larger than the ring lets it fill);
    /// drops it if the consumer has gone.
    fn send(&self, results: &mut Producer<Sent<U>>, index: u64, outcome: Outcome<U>) {
        let mut sent = (index, outcome);
        let mut waiting_since = None;
        loop {
            // After a cancel the consumer may have emptied the ring for the
            // last time: a result pushed now would be dropped with the ring,
            // on whichever thread lets go of it last, outside any catch.
            if self.control.is_cancelled() {
                unwind::discard(unwind::catch_drop(sent));
                return;
            }
            match results.push(sent) {
                Ok(()) => break,
                Err(rtrb::PushError::Full(back)) => sent = back,
            }
            waiting_since = waiting_since.or_else(|| self.control.stats.clock());
            let full = || results.is_full() && !self.control.is_cancelled();
            if !spin_before_sleep(|| !full()) {
                self.runs.wait_for_room(full);
            }
        }
        self.control.stats.waited_output_full(waiting_since);
        self.control.consumer_bell.ring();
    }

    /// Whether the run could do something now: claim, pull, or see the end.
    fn has_work(&self) -> bool {
        self.queue.unclaimed() > 0
            || self.control.pulling_stopped()
            || self.control.could_pull(self.queue.published())
    }

    /// Waits a moment for work; `None` if some came. A sticky run then
    /// waits in place until some comes (or the stream is over), and says
    /// `None` too; another ends, saying first whether it stopped at the
    /// window, so that the consumer asks for a run once it has made room,
    /// and gives the count of published entries its wish was made for, for
    /// its last look (see [`published_since`](Self::published_since)).
    fn wait_for_work(&self, budget: Option<&'static CoreBudget>) -> Option<u64> {
        let nothing_to_do = || !self.has_work() && !self.control.is_cancelled();
        // A thread waiting for a seat would rather have this one's.
        let others_wait = budget.is_some_and(CoreBudget::anyone_waiting);
        if !others_wait && spin_before_sleep(|| !nothing_to_do()) {
            return None;
        }
        // Before the last look (the run's end, or its wait in place).
        self.control.want_feed();
        let next = self.queue.published();
        if !self.control.pulling_stopped() && next >= self.control.window_limit() {
            // Paired with the consumer's delivery: either it sees the wish,
            // or the run's last look (`room_came`) sees the delivery.
            self.control.want_room(next);
        }
        if self.sticky {
            self.runs
                .wait_in_place(|| nothing_to_do() && !self.published_since(next));
            return None;
        }
        Some(next)
    }

    /// Whether entries were published after the run read `next` as the
    /// count of them and made its wish for room (or none) by it: a consumer
    /// stepping alone publishes too, and the entry it published meanwhile
    /// may fill the window with no wish made for it, so that no delivery
    /// would ever ring for the run. Its last look then sees the change, and
    /// the run looks again rather than sleep.
    fn published_since(&self, next: u64) -> bool {
        self.queue.published() != next
    }

    /// The run in slot `me` leaves: its state is dropped here, on its
    /// thread; so is the source, if the stream no longer wants it and no
    /// other run holds it.
    fn leave(&self, state: Option<S>) {
        // A state's panic is discarded, as every state's is (see `states`).
        unwind::discard(unwind::catch_drop(state));
        if self.control.is_cancelled() || self.control.is_poisoned() {
            // Another run inside the source drops it when it comes back.
            if let Ok(mut feed) = self.feed.try_lock() {
                unwind::discard(drop_source(&mut feed, &self.control));
            }
        }
    }
}

/// Drops the source here, on one of the set's threads, and says so once
/// its drop has run; the panic of that drop, if any.
fn drop_source<I: Iterator>(feed: &mut Feed<I>, control: &Control) -> Result<(), PanicPayload> {
    let Some(source) = feed.source.take() else {
        return Ok(());
    };
    let dropped = unwind::catch_drop(source);
    control.source_dropped();
    dropped
}

/// Slot `me`, held by a run: freed as the run lets go of it, or should the
/// run unwind past every catch, as it dies, so that a consumer finishing
/// the stream does not wait for it.
struct SlotHeld<'a> {
    control: &'a Control,
    me: usize,
}

impl SlotHeld<'_> {
    fn let_go(self) {
        self.control.slot_freed(self.me);
        std::mem::forget(self);
    }
}

impl Drop for SlotHeld<'_> {
    fn drop(&mut self) {
        thread_name::set_idle();
        self.control.slot_freed(self.me);
    }
}

/// Whether a run should give its seat up: more threads count than the
/// budget allows, or others wait for a seat and it has had its slice.
fn seat_wanted(budget: &CoreBudget, started: Instant) -> bool {
    budget.over() || (budget.anyone_waiting() && started.elapsed() >= TIME_SLICE)
}

/// Lets a sticky run's seat go to a waiting thread for a turn, then takes
/// it back: the run keeps its thread, and its state, meanwhile.
fn give_seat_a_turn(seat: &Seat, budget: &CoreBudget) {
    if budget.lend(seat) {
        budget.wait_for_room(|| true);
        budget.take_back(seat);
    }
}

impl<'scope, I, F, Init, S, U> Work for Shared<'scope, I, F, Init, U>
where
    I: Iterator + Send,
    I::Item: Send,
    F: Fn(&mut S, I::Item) -> U + Send + Sync,
    Init: Fn() -> S + Send + Sync,
    U: Send,
{
    fn run(self: Arc<Self>) {
        let bell = Arc::clone(&self.control.consumer_bell);
        if let Err(payload) = unwind::catch(|| self.run_once()) {
            // Only a bug of this crate gets here: user code runs under
            // catches of its own. What the run held is gone, so the stream
            // cannot go on; the consumer raises this rather than wait, once
            // the source is dropped (here, unless another run holds it).
            self.control.run_lost(payload);
            self.drop_source_if_left();
        }
        // A consumer finishing the stream waits until no run holds the
        // stage: tell it once this one does not.
        drop(self);
        bell.ring();
    }
}

impl<'scope, I, F, Init, S, U> Shared<'scope, I, F, Init, U>
where
    I: Iterator + Send,
    I::Item: Send,
    F: Fn(&mut S, I::Item) -> U + Send + Sync,
    Init: Fn() -> S + Send + Sync,
    U: Send,
{
    /// One run, from its begin to its end.
    fn run_once(&self) {
        self.runs.begin();
        let Some((me, mut results)) = self.take_slot() else {
            // Every slot is held: the runs holding them do the work.
            self.runs.end(|| self.source_needs_drop());
            return;
        };
        if !self.control.slot_taken(me) {
            // Cancelled: at most, the source is left to drop, here.
            self.leave(None);
            self.control.slot_freed(me);
            self.give_slot_back(me, results);
            self.runs.end(|| self.source_needs_drop());
            return;
        }
        thread_name::set(&format!("{}-{me}", self.name));
        let held = SlotHeld {
            control: &self.control,
            me,
        };
        let since = self.control.stats.clock();
        let mut state = None;
        let stop = self.work(me, &mut results, &mut state);
        self.leave(state);
        self.control.stats.worker_done(since);
        thread_name::set_idle();
        // Freed before it is given back: the next run to take the slot
        // marks it taken only after this.
        held.let_go();
        // A result pushed as the consumer cancelled may still be in the
        // ring; the consumer drops it, or the ring's last owner does.
        self.give_slot_back(me, results);
        match stop {
            Stop::Yield => self.runs.requeue(),
            // The last look of each covers a source left behind by a run
            // that held it as this one tried to drop it.
            Stop::Idle(published) => self.runs.end(|| {
                self.has_work() || self.control.room_came() || self.published_since(published)
            }),
            Stop::Over => self.runs.end(|| self.source_needs_drop()),
        }
    }
}

/// The consumer's view of what a pool's runs share, with the item types
/// hidden.
pub(super) trait SharedView<'scope>: Send + Sync {
    fn control(&self) -> &Control;
    fn runs(&self) -> &Runs<'scope>;
    /// How many entries are published and not yet claimed; may be stale.
    fn unclaimed(&self) -> usize;
    /// How many entries have been claimed (or skipped); may be stale.
    fn claimed(&self) -> u64;
    /// Drops the entries nobody claimed, each under a catch; the first
    /// panic of those drops.
    fn drop_unclaimed(&self) -> FirstPanic;
    /// Whether the source is left for nobody: see [`Shared::source_left`].
    fn source_left(&self) -> bool;
    /// See [`Shared::drop_source_if_left`].
    fn drop_source_if_left(&self);
}

impl<'scope, I, F, Init, U> SharedView<'scope> for Shared<'scope, I, F, Init, U>
where
    I: Iterator + Send,
    I::Item: Send,
    F: Send + Sync,
    Init: Send + Sync,
    U: Send,
{
    fn control(&self) -> &Control {
        &self.control
    }

    fn runs(&self) -> &Runs<'scope> {
        &self.runs
    }

    fn unclaimed(&self) -> usize {
        self.queue.unclaimed()
    }

    fn claimed(&self) -> u64 {
        self.queue.claimed()
    }

    fn drop_unclaimed(&self) -> FirstPanic {
        self.queue.drop_unclaimed()
    }

    fn source_left(&self) -> bool {
        Shared::source_left(self)
    }

    fn drop_source_if_left(&self) {
        Shared::drop_source_if_left(self);
    }
}
