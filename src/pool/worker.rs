//! What a pool's threads run: the worker loop (claim, run, pull, wait),
//! the pulling, and the running of claimed entries, which the consumer
//! shares when it helps.

use std::collections::VecDeque;
use std::sync::Mutex;

use crossbeam_utils::CachePadded;
use rtrb::Producer;

use super::control::Control;
use super::queue::{self, Entry, Indexed, Publisher, Queue};
use super::{Outcome, Sent, claim_size};
use crate::pace::Pace;
use crate::unwind::{self, FirstPanic};
use crate::wake::spin::spin_before_sleep;

/// The source and where it stands; held by one worker at a time.
struct Feed<I: Iterator> {
    /// `None` once it has ended, panicked or been dropped.
    source: Option<I>,
    /// The queue's publishing end, which goes with the source.
    publisher: Publisher<I::Item>,
    /// The index the next pulled entry gets.
    next_index: usize,
    /// Below this index the window certainly has room: the limit as last
    /// read, so the consumer's counter is read only when it is reached.
    room_below: usize,
}

/// Everything a pool's threads share.
pub(super) struct Shared<I: Iterator, F, Init> {
    pub(super) control: Control,
    /// Written at every pull: on a cache line of its own, away from `f`
    /// and `init`, which every thread reads for every item.
    feed: CachePadded<Mutex<Feed<I>>>,
    pub(super) queue: Queue<I::Item>,
    /// Workers pull more when fewer than this many entries are unclaimed.
    refill_below: usize,
    f: F,
    init: Init,
}

impl<I: Iterator, F, Init> Shared<I, F, Init> {
    /// A pool's shared state, whose queue holds at most `queue_capacity`
    /// unclaimed entries.
    pub(super) fn new(
        source: I,
        f: F,
        init: Init,
        control: Control,
        queue_capacity: usize,
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
            f,
            init,
        }
    }
}

impl<I: Iterator, F, Init> Shared<I, F, Init> {
    /// The source (if no worker has taken it), `f` and `init` back, for a
    /// pool that could start no worker.
    pub(super) fn into_parts(self) -> (I, F, Init) {
        let feed = CachePadded::into_inner(self.feed)
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let source = feed.source.expect("no worker ever pulled");
        (source, self.f, self.init)
    }
}

impl<I, F, Init, S, U> Shared<I, F, Init>
where
    I: Iterator,
    F: Fn(&mut S, I::Item) -> U,
    Init: Fn() -> S,
{
    /// A worker's life: claim and run entries, pull when nothing is left to
    /// claim, wait when neither can be done, until nothing more will come
    /// or the consumer has gone. Results go to `results`, in the order run.
    pub(super) fn work(&self, me: usize, results: &mut Producer<Sent<U>>) {
        let mut state = None;
        let mut pace = Pace::default();
        let mut claimed = VecDeque::new();
        loop {
            if self.control.is_cancelled() {
                break;
            }
            // Refill before the queue runs dry, so that the other threads
            // never wait for this one to finish its chunk and pull.
            if self.queue.unclaimed() < self.refill_below
                && self.control.could_pull(self.queue.published())
            {
                self.try_pull(me);
            }
            let chunk = claim_size(&pace, self.queue.unclaimed(), self.control.takers());
            if self.queue.claim(chunk, &mut claimed) > 0 {
                self.run_claimed(&mut claimed, &mut state, &mut pace, |index, outcome| {
                    self.send(results, index, outcome);
                });
                continue;
            }
            if self.control.pulling_stopped() {
                // Whatever was published before the stop is visible now.
                if self.queue.unclaimed() == 0 {
                    break;
                }
                continue;
            }
            if !self.try_pull(me) {
                self.wait_for_work();
            }
        }
        self.leave(me, claimed, state);
    }

    /// Runs `f` on each claimed entry, in order, handing each outcome to
    /// `deliver` as soon as it is made; entries the stream no longer needs
    /// are dropped unrun.
    pub(super) fn run_claimed(
        &self,
        claimed: &mut VecDeque<Indexed<I::Item>>,
        state: &mut Option<S>,
        pace: &mut Pace,
        mut deliver: impl FnMut(usize, Outcome<U>),
    ) {
        let started = pace.start();
        let mut ran = 0;
        while let Some((index, entry)) = claimed.pop_front() {
            if self.control.skips(index) {
                // A panic here would come after the one that stopped the
                // stream, which is the one the consumer gets.
                let _ = unwind::catch_drop(entry);
                continue;
            }
            let outcome = match entry {
                // `init` runs here, on this thread, before its first item.
                Entry::Item(item) => {
                    unwind::catch(|| (self.f)(state.get_or_insert_with(&self.init), item))
                }
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

    /// Hands one outcome to the consumer, waiting while the worker's results
    /// ring is full; drops it if the consumer has gone.
    fn send(&self, results: &mut Producer<Sent<U>>, index: usize, outcome: Outcome<U>) {
        let mut sent = (index, outcome);
        let mut waiting_since = None;
        loop {
            // After a cancel the consumer may have emptied the ring for the
            // last time: a result pushed now would be dropped with the ring,
            // on whichever thread lets go of it last, outside any catch.
            if self.control.is_cancelled() {
                let _ = unwind::catch_drop(sent);
                return;
            }
            match results.push(sent) {
                Ok(()) => break,
                Err(rtrb::PushError::Full(back)) => sent = back,
            }
            waiting_since = waiting_since.or_else(|| self.control.stats.clock());
            let full = || results.is_full() && !self.control.is_cancelled();
            if !spin_before_sleep(|| !full()) {
                self.control.workers_bell.sleep_while(full);
            }
        }
        self.control.stats.waited_output_full(waiting_since);
        self.control.consumer_bell.ring();
    }

    /// Pulls from the source if no other worker holds it; whether anything
    /// was pulled (or learnt about its end).
    fn try_pull(&self, me: usize) -> bool {
        let mut feed = match self.feed.try_lock() {
            Ok(feed) => feed,
            // Every call into the source is caught, so only a bug of
            // threadpipe's could have poisoned it; carry on regardless.
            Err(std::sync::TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return false,
        };
        self.control.set_feed_busy(true);
        let pulled = self.pull(&mut feed, me);
        self.control.set_feed_busy(false);
        drop(feed);
        // Another worker may pull now, or see that nothing more will come.
        self.control.workers_bell.ring();
        pulled
    }

    /// Pulls entries and publishes each at once, while the window has room
    /// and another thread could take them; one entry if none could, so that
    /// no entry waits on a worker stuck inside the source.
    fn pull(&self, feed: &mut Feed<I>, me: usize) -> bool {
        let mut progressed = false;
        while feed.source.is_some() {
            if self.control.is_cancelled() || self.control.is_poisoned() {
                self.drop_source(feed, me);
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
            // be room for it; claimers make room, and nobody sleeps while
            // the queue is full, since there is so much to claim.
            if !feed.publisher.has_room() {
                break;
            }
            if !self.control.enter_source(me) {
                continue; // cancelled: dropped at the top of the loop
            }
            let source = feed.source.as_mut().expect("looked at above");
            match unwind::catch(|| source.next()) {
                Ok(Some(item)) => {
                    self.control.leave_source(me);
                    if self.control.is_cancelled() || self.control.is_poisoned() {
                        let _ = unwind::catch_drop(item);
                        continue;
                    }
                    feed.next_index += 1;
                    self.queue
                        .publish(&mut feed.publisher, index, Entry::Item(item));
                }
                Ok(None) => {
                    // Its drop may panic too; that panic is the last entry.
                    let dropped = unwind::catch_drop(feed.source.take());
                    self.control.leave_source(me);
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
                    let _ = unwind::catch_drop(feed.source.take());
                    self.control.leave_source(me);
                    self.publish_panic(feed, index, payload);
                    self.control.set_end(index + 1);
                }
            }
            progressed = true;
            self.control.workers_bell.ring();
            self.control.consumer_bell.ring();
            if !self.control.others_take() {
                break;
            }
        }
        progressed
    }

    fn publish_panic(&self, feed: &mut Feed<I>, index: usize, payload: unwind::PanicPayload) {
        self.control.poison(index);
        self.queue
            .publish(&mut feed.publisher, index, Entry::Panicked(payload));
    }

    /// Drops the source here, on a worker thread: the stream no longer
    /// wants it. Its panic, if any, is dropped: the stream has ended.
    fn drop_source(&self, feed: &mut Feed<I>, me: usize) {
        if let Some(source) = feed.source.take() {
            self.control.enter_source_to_drop_it(me);
            let _ = unwind::catch_drop(source);
            self.control.leave_source(me);
        }
    }

    /// Waits until there is something to claim, or to pull, or the stream
    /// is over: spinning first, then asleep.
    fn wait_for_work(&self) {
        let nothing_to_do = || {
            self.queue.unclaimed() == 0
                && !self.control.is_cancelled()
                && !self.control.pulling_stopped()
                && !self.control.could_pull(self.queue.published())
        };
        if !spin_before_sleep(|| !nothing_to_do()) {
            self.control.workers_bell.sleep_while(nothing_to_do);
        }
    }

    /// A worker leaves: what it holds is dropped here, the source too if
    /// the stream no longer wants it and no other worker is inside it.
    fn leave(&self, me: usize, claimed: VecDeque<Indexed<I::Item>>, state: Option<S>) {
        // Panics here come after the stream's end or its first panic.
        let _ = unwind::catch_drop(claimed);
        let _ = unwind::catch_drop(state);
        if self.control.is_cancelled() || self.control.is_poisoned() {
            // Another worker inside the source drops it when it comes back.
            if let Ok(mut feed) = self.feed.try_lock() {
                self.drop_source(&mut feed, me);
            }
        }
        self.control.exited(me);
    }
}

/// The consumer's view of what a pool's threads share, with the item types
/// hidden.
pub(super) trait Core: Send + Sync {
    fn control(&self) -> &Control;
    /// How many entries are published and not yet claimed; may be stale.
    fn unclaimed(&self) -> usize;
    /// Drops the entries nobody claimed, each under a catch; the first
    /// panic of those drops.
    fn drop_unclaimed(&self) -> FirstPanic;
}

impl<I, F, Init> Core for Shared<I, F, Init>
where
    I: Iterator + Send,
    I::Item: Send,
    F: Send + Sync,
    Init: Send + Sync,
{
    fn control(&self) -> &Control {
        &self.control
    }

    fn unclaimed(&self) -> usize {
        self.queue.unclaimed()
    }

    fn drop_unclaimed(&self) -> FirstPanic {
        self.queue.drop_unclaimed()
    }
}
