//! The engine of `off_thread`: runs on threads of the scheduler's set pull
//! the source and push its items into a bounded ring; this module is the
//! consumer's end.
//!
//! Everything [`OffThread`](crate::OffThread) promises about threads rests
//! on a few rules, kept here and in [`worker`]:
//!
//! - **One run at a time holds the source.** A run pulls and pushes until
//!   the ring is full, then spins a moment and ends; the consumer's report
//!   of room (a quarter of the ring) asks the scheduler for another (see
//!   [`crate::scheduler`]). So a stage whose consumer is slow holds no
//!   thread while it waits, and a stage whose source blocks holds one,
//!   which the scheduler replaces if other work needs it.
//! - **Panics in order.** A run catches a panic of the source (in `next` or
//!   in its drop), pushes every item made before it (a partial batch too),
//!   and leaves the payload in a slot before it closes the ring; the
//!   consumer looks in the slot only once the ring is closed, so it sees
//!   every earlier item first and then the panic.
//! - **Closing is the last act.** Whatever finishes the stage drops the
//!   source, then the sending end, on a thread of the set; so "the stream
//!   is over" also means "no thread holds the source or runs its code".
//! - **Dropping never waits.** The consumer that leaves early hangs up and
//!   hands its end to the producing side: a run that holds the source sees
//!   the hang-up at its next push, and a parked stage is finished by a job
//!   on a thread of the set, which drops the source, and the items left in
//!   the ring one by one, there.
//! - **Below a `parallel_map`, no thread of its own.** A stage first pulled
//!   by a `parallel_map`'s puller (a thread of the set, never the
//!   consumer's) runs inline on that puller: the chain above still runs off
//!   the consumer's thread, with no ring in between (see
//!   [`crate::scheduler::pulling_for_a_stage`]).
//!
//! The ring itself is [`ring`]: every item is visible to the consumer as
//! soon as it is pushed, and the consumer spins a little before it sleeps,
//! as [`crate::wake`] describes.

pub(crate) mod ring;
mod worker;

use std::collections::VecDeque;
use std::fmt;
use std::mem;
use std::sync::Arc;
use std::thread;

use rtrb::{Producer, RingBuffer};

use self::ring::{RingReceiver, RoomMade};
use self::worker::{Orphan, Out, Side};
use crate::launch;
use crate::lazy::{DebugFields, Engine, Inline, Started};
use crate::scheduler::{self, Runs, Spawner, Unmarked, Work};
use crate::size_hint::{self, SizeHint};
use crate::stats::Recorder;
use crate::unwind::{self, FirstPanic, PanicPayload};

pub(crate) use self::worker::TIME_SLICE;

/// How one hand-off is set up; the adapter's options, turned into what the
/// engine needs.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    /// Items that may wait in the ring (rounded up to whole batches).
    pub(crate) capacity: usize,
    /// Items per push: 1, or a batch.
    pub(crate) batch: usize,
    pub(crate) name: String,
    pub(crate) stats: Recorder,
    /// Run on the consumer's thread instead of a worker.
    pub(crate) inline: bool,
}

impl DebugFields for Settings {
    fn debug_fields(&self, debug: &mut fmt::DebugStruct<'_, '_>) {
        debug
            .field("name", &self.name)
            .field("capacity", &self.capacity);
        if self.batch > 1 {
            debug.field("batch", &self.batch);
        }
    }
}

/// The ring of one stage, seen from the consumer: items one by one, or in
/// batches.
enum Lane<'scope, T> {
    Items(RingReceiver<'scope, T>),
    Batches {
        receiver: RingReceiver<'scope, VecDeque<T>>,
        /// What is left of the batch being handed out.
        current: VecDeque<T>,
        /// Emptied batches go back to the producer, which refills them
        /// rather than allocate on one thread what the other frees.
        emptied: Producer<VecDeque<T>>,
    },
}

impl<'scope, T> Lane<'scope, T> {
    /// The next item; `None` once the producer has closed the ring and
    /// every item it sent has been taken.
    fn recv(&mut self, stats: &Recorder) -> Option<T> {
        match self {
            Lane::Items(receiver) => receiver.recv(stats),
            Lane::Batches {
                receiver,
                current,
                emptied,
            } => loop {
                if let Some(item) = current.pop_front() {
                    return Some(item);
                }
                let next = receiver.recv(stats)?;
                // If the producer has enough spare batches, this one is dropped.
                let _ = emptied.push(mem::replace(current, next));
            },
        }
    }

    /// Hangs up, drops the items of a batch being handed out (one by one,
    /// each under a catch), and gives back the end that may still receive
    /// items, for whoever finishes the stage to drain.
    fn leave(self, first: &mut FirstPanic) -> Orphan<'scope, T> {
        match self {
            Lane::Items(receiver) => {
                receiver.hang_up();
                Orphan::Items(receiver)
            }
            Lane::Batches {
                receiver, current, ..
            } => {
                receiver.hang_up();
                current
                    .into_iter()
                    .for_each(|item| first.keep(unwind::catch_drop(item)));
                Orphan::Batches(receiver)
            }
        }
    }
}

/// The producing side, as the consumer sees it: its item type only.
trait Producing<'scope, T>: Send + Sync {
    /// The source's panic, once the ring has closed.
    fn take_panic(&self) -> Option<PanicPayload>;
    /// The consumer leaves early, handing over its end; the first panic of
    /// an item dropped on the consumer's thread.
    fn abandon(self: Arc<Self>, orphan: Orphan<'scope, T>) -> Result<(), PanicPayload>;
}

impl<'scope, I> Producing<'scope, I::Item> for worker::Producer<'scope, I>
where
    I: Iterator + Send + 'scope,
    I::Item: Send + 'scope,
{
    fn take_panic(&self) -> Option<PanicPayload> {
        worker::Producer::take_panic(self)
    }

    fn abandon(self: Arc<Self>, orphan: Orphan<'scope, I::Item>) -> Result<(), PanicPayload> {
        worker::Producer::abandon(&self, orphan)
    }
}

/// The consumer's end of one stage: a fused stream of its items.
pub(crate) struct Handoff<'scope, T> {
    /// `None` once the stream has ended, so it stays ended.
    lane: Option<Lane<'scope, T>>,
    producer: Arc<dyn Producing<'scope, T> + 'scope>,
    spawner: Spawner<'scope>,
    /// The source's hint when the stage started, minus what was delivered.
    remaining: SizeHint,
    stats: Recorder,
}

/// Starts the stage `settings` describe for `source`: on threads of
/// `spawner`'s set, or inline, on the consumer's thread, if it was asked
/// to be (or the whole program was), if no thread can be had, or if the
/// consumer is a `parallel_map`'s puller, itself a thread of the set.
pub(crate) fn start<'scope, I>(
    spawner: Spawner<'scope>,
    source: I,
    settings: Settings,
) -> Started<Handoff<'scope, I::Item>, Unmarked<I>>
where
    I: Iterator + Send + 'scope,
    I::Item: Send + 'scope,
{
    let inline = settings.inline || launch::inline_everywhere() || scheduler::pulling_for_a_stage();
    if inline || !spawner.stage_started() {
        return Started::Inline(Inline::new(Unmarked(source), settings.stats));
    }
    Started::Threads(Handoff::spawn(spawner, source, settings))
}

impl<'scope, T: Send + 'scope> Handoff<'scope, T> {
    /// Sets up the stage and asks for its first run.
    fn spawn<I>(spawner: Spawner<'scope>, source: I, settings: Settings) -> Self
    where
        I: Iterator<Item = T> + Send + 'scope,
    {
        let Settings {
            capacity,
            batch,
            name,
            stats,
            inline: _,
        } = settings;
        let remaining = source.size_hint();
        let mut lane = None;
        let producer = Arc::new_cyclic(|me: &std::sync::Weak<worker::Producer<'scope, I>>| {
            let room: Arc<dyn RoomMade + 'scope> = Arc::new(RoomHook(me.clone()));
            let out = if batch == 1 {
                let (sender, receiver) = ring::channel(capacity, room);
                lane = Some(Lane::Items(receiver));
                Out::Items {
                    sender,
                    pending: None,
                }
            } else {
                // The bound is on items: that many, in whole batches.
                let slots = capacity.div_ceil(batch);
                let (sender, receiver) = ring::channel(slots, room);
                let (emptied, recycled) = RingBuffer::new(slots + 1);
                lane = Some(Lane::Batches {
                    receiver,
                    current: VecDeque::new(),
                    emptied,
                });
                Out::Batches {
                    sender,
                    filling: VecDeque::with_capacity(batch),
                    recycled,
                    batch,
                    pending: None,
                }
            };
            let work: std::sync::Weak<dyn Work + 'scope> = me.clone();
            let runs = Runs::new(work, 1, false, Arc::clone(&spawner));
            worker::Producer::new(Side::new(source, out), runs, name, stats.clone())
        });
        stats.start();
        producer.runs.request();
        Handoff {
            lane,
            producer,
            spawner,
            remaining,
            stats,
        }
    }
}

/// Tells the producing side about room, without keeping it alive: a ring
/// whose stage has gone has nobody to tell.
struct RoomHook<'scope, I: Iterator>(std::sync::Weak<worker::Producer<'scope, I>>);

impl<'scope, I> RoomMade for RoomHook<'scope, I>
where
    I: Iterator + Send + 'scope,
    I::Item: Send + 'scope,
{
    fn room_made(&self) {
        if let Some(producer) = self.0.upgrade() {
            producer.room_made();
        }
    }
}

impl<T> Handoff<'_, T> {
    /// The stream is over: the ring is closed, so the source has been
    /// dropped; re-raises its panic, if any.
    fn end(&mut self) {
        self.stats.end();
        self.lane = None;
        self.remaining = size_hint::EMPTY;
        self.spawner.stage_ended();
        if let Some(payload) = self.producer.take_panic() {
            unwind::resume(payload);
        }
    }
}

impl<T> Engine for Handoff<'_, T> {
    type Item = T;

    /// Waits for the next item; `None` once the stage has finished, and
    /// from then on.
    ///
    /// # Panics
    ///
    /// Re-raises the source's panic, with its original payload, after every
    /// item produced before it; the source has been dropped by then, and
    /// the stream is ended.
    #[inline]
    fn next(&mut self) -> Option<T> {
        let Some(item) = self.lane.as_mut()?.recv(&self.stats) else {
            self.end();
            return None;
        };
        self.remaining = size_hint::after_one(self.remaining);
        self.stats.delivered(1);
        Some(item)
    }

    /// Folds every remaining item, a ring chunk or a batch at a time; ends
    /// as [`next`](Engine::next) does, re-raising a panic of the source.
    fn fold<B>(&mut self, init: B, mut f: impl FnMut(B, T) -> B) -> B {
        let mut accumulated = init;
        let stats = &self.stats;
        match &mut self.lane {
            None => return accumulated,
            Some(Lane::Items(receiver)) => {
                accumulated = receiver.fold(accumulated, &mut f, stats, |items| {
                    stats.delivered(items);
                });
            }
            Some(Lane::Batches {
                receiver,
                current,
                emptied,
            }) => loop {
                accumulated = fold_batch(current, accumulated, &mut f, stats);
                let Some(next) = receiver.recv(stats) else {
                    break;
                };
                let _ = emptied.push(mem::replace(current, next));
            },
        }
        self.end();
        accumulated
    }

    fn size_hint(&self) -> SizeHint {
        self.remaining
    }

    fn is_finished(&self) -> bool {
        self.lane.is_none()
    }
}

impl<T> Drop for Handoff<'_, T> {
    /// Hangs up and hands the ring to the producing side, which drops the
    /// source and the items left, one by one, on a thread of the set, never
    /// waiting for it. A panic of a drop made here is raised once
    /// everything is dropped, unless the thread is already panicking.
    fn drop(&mut self) {
        // A stage dropped early ends here, for its profile.
        self.stats.end();
        let Some(lane) = self.lane.take() else {
            return;
        };
        let mut first = FirstPanic::default();
        let orphan = lane.leave(&mut first);
        first.keep(Arc::clone(&self.producer).abandon(orphan));
        // After the hand-over, which may need a thread of a scope's set.
        self.spawner.stage_ended();
        if !thread::panicking() {
            first.resume_if_any();
        }
    }
}

/// Folds every item of `batch` into `accumulated`, in one tight loop. Should
/// `f` panic, the items after the one it was given go back into `batch`,
/// to be dropped one by one with the stage (each under a catch), rather
/// than while the panic unwinds, where a second panic aborts.
fn fold_batch<T, B>(
    batch: &mut VecDeque<T>,
    accumulated: B,
    f: &mut impl FnMut(B, T) -> B,
    stats: &Recorder,
) -> B {
    let len = batch.len();
    let mut items = batch.drain(..);
    match unwind::catch(|| items.by_ref().fold(accumulated, &mut *f)) {
        Ok(folded) => {
            drop(items);
            stats.delivered(len);
            folded
        }
        Err(payload) => {
            let rest: VecDeque<T> = items.collect();
            stats.delivered(len - rest.len() - 1);
            *batch = rest;
            unwind::resume(payload)
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::scheduler::refusing_after;

    fn settings() -> Settings {
        Settings {
            capacity: 4,
            batch: 1,
            name: "handoff-test".to_owned(),
            stats: Recorder::off(),
            inline: false,
        }
    }

    #[test]
    fn with_no_thread_to_be_had_it_runs_inline() {
        let mut running = start(refusing_after(0), 0..10, settings());
        assert!(matches!(running, Started::Inline(_)));
        assert_eq!(running.size_hint(), (10, Some(10)));
        let got: Vec<i32> = std::iter::from_fn(|| running.next()).collect();
        assert_eq!(got, (0..10).collect::<Vec<_>>());
        assert!(running.is_finished());
    }

    #[test]
    fn inline_raises_the_source_panic_once_then_ends() {
        let panicking = (0..5).map(|n| if n == 3 { panic!("boom") } else { n });
        let mut running = start(refusing_after(0), panicking, settings());
        let mut got = Vec::new();
        let payload = loop {
            match unwind::catch(|| running.next()) {
                Ok(Some(n)) => got.push(n),
                Ok(None) => panic!("the panic was lost"),
                Err(payload) => break payload,
            }
        };
        assert_eq!(got, [0, 1, 2]);
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
        assert_eq!(running.next(), None, "the stream ended with the panic");
    }

    #[test]
    fn given_a_thread_it_uses_it() {
        let mut running = start(refusing_after(1), 0..10, settings());
        assert!(matches!(running, Started::Threads(_)));
        let got: Vec<i32> = std::iter::from_fn(|| running.next()).collect();
        assert_eq!(got, (0..10).collect::<Vec<_>>());
    }

    /// A run that unwinds past every catch (only a bug of this crate could
    /// make one) ends the stream with its panic: neither a hang nor a
    /// stream that ends short as if it were complete.
    #[test]
    fn a_run_that_dies_outside_every_catch_ends_the_stream_with_its_panic() {
        use crate::unwind::dying_run;
        let start = || {
            let mut settings = settings();
            settings.name = dying_run::STAGE.to_owned();
            start(refusing_after(1), 0..10, settings)
        };
        let (message, ended) = dying_run::what_the_consumer_sees(start, Engine::next);
        assert_eq!(message.as_deref(), Some(dying_run::STAGE));
        assert!(ended, "the stream went on");
    }
}
