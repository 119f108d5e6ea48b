//! The engine of `off_thread`: one worker thread runs the source and pushes
//! its items into a bounded ring; this module is the consumer's end.
//!
//! Everything [`OffThread`](crate::OffThread) promises about threads rests
//! on a few rules, kept here and in [`worker`]:
//!
//! - The worker catches a panic of its source (in `next` or in its drop),
//!   pushes every item made before it (a partial batch too), and leaves the
//!   payload in a slot as its last act; the consumer looks in the slot only
//!   once the ring is closed and the worker joined, so it sees every earlier
//!   item first and then the panic.
//! - A push that fails means the consumer has hung up: the worker stops
//!   pulling and drops its source on its own thread.
//! - The consumer joins the worker once the stream has ended, so "the stream
//!   is over" also means "the thread is gone", and never joins it on drop,
//!   so that dropping never waits for a source stuck inside `next()`.
//!
//! The ring itself is [`ring`]: every item is visible to the consumer as
//! soon as it is pushed, and each side spins a little before it sleeps, as
//! [`crate::wake`] describes.

pub(crate) mod ring;
mod worker;

use std::collections::VecDeque;
use std::fmt;
use std::mem;
use std::sync::{Arc, Mutex};
use std::thread;

use rtrb::{Producer, RingBuffer};

use self::ring::RingReceiver;
use crate::launch::{self, Launch, WorkerThread};
use crate::lazy::{DebugFields, Engine, Inline, Running};
use crate::size_hint::{self, SizeHint};
use crate::stats::Stats;
use crate::sync::lock;
use crate::unwind::{self, FirstPanic, PanicPayload};

/// How one hand-off is set up; the adapter's options, turned into what the
/// engine needs.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    /// Items that may wait in the ring (rounded up to whole batches).
    pub(crate) capacity: usize,
    /// Items per push: 1, or a batch.
    pub(crate) batch: usize,
    pub(crate) name: String,
    pub(crate) stats: Stats,
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

/// What the worker thread runs: its source, to the end; its panic, if any.
type WorkerBody<'scope, I> = Box<dyn FnOnce(I) -> Result<(), PanicPayload> + Send + 'scope>;

/// Where a worker leaves its source's panic for the consumer.
type PanicSlot = Arc<Mutex<Option<PanicPayload>>>;

/// The ring of one stage: items one by one, or in batches.
enum Lane<T> {
    Items(RingReceiver<T>),
    Batches {
        receiver: RingReceiver<VecDeque<T>>,
        /// What is left of the batch being handed out.
        current: VecDeque<T>,
        /// Emptied batches go back to the worker, which refills them rather
        /// than allocate on one thread what the other frees.
        emptied: Producer<VecDeque<T>>,
    },
}

impl<T> Lane<T> {
    /// Hands the items only the consumer holds to `each` (those in the
    /// ring, once the worker has gone), and then drops the ring.
    fn drain_own(self, mut each: impl FnMut(T)) {
        match self {
            Lane::Items(mut receiver) => receiver.drain_if_sender_gone(each),
            Lane::Batches {
                mut receiver,
                current,
                ..
            } => {
                current.into_iter().for_each(&mut each);
                receiver.drain_if_sender_gone(|batch| batch.into_iter().for_each(&mut each));
            }
        }
    }

    /// The next item; `None` once the worker has closed the ring and every
    /// item it sent has been taken.
    fn recv(&mut self, stats: &Stats) -> Option<T> {
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
                // If the worker has enough spare batches, this one is dropped.
                let _ = emptied.push(mem::replace(current, next));
            },
        }
    }
}

/// The consumer's end of one worker thread: a fused stream of its items.
pub(crate) struct Handoff<'scope, T> {
    /// `None` once the stream has ended, so it stays ended.
    lane: Option<Lane<T>>,
    panic: PanicSlot,
    thread: Option<WorkerThread<'scope>>,
    /// The source's hint when the worker started, minus what was delivered.
    remaining: SizeHint,
    stats: Stats,
}

/// Starts the stage `settings` describe for `source`: on a worker thread,
/// or inline, on the consumer's thread, if it was asked to be (or the whole
/// program was) or no thread could be started.
pub(crate) fn start<'scope, I, L>(
    launcher: L,
    source: I,
    settings: Settings,
) -> Running<Handoff<'scope, I::Item>, I>
where
    I: Iterator + Send + 'scope,
    I::Item: Send + 'scope,
    L: Launch<'scope>,
{
    if settings.inline || launch::inline_everywhere() {
        return Running::Inline(Inline::new(source, settings.stats));
    }
    let stats = settings.stats.clone();
    match Handoff::spawn(launcher, source, settings) {
        Ok(handoff) => Running::Threads(handoff),
        Err(source) => Running::Inline(Inline::new(source, stats)),
    }
}

impl<'scope, T> Handoff<'scope, T> {
    /// Starts a worker thread, as `settings` say, that runs `source`; gives
    /// `source` back if no thread could be started.
    fn spawn<I, L>(launcher: L, source: I, settings: Settings) -> Result<Self, I>
    where
        I: Iterator<Item = T> + Send + 'scope,
        T: Send + 'scope,
        L: Launch<'scope>,
    {
        let Settings {
            capacity,
            batch,
            name,
            stats,
            inline: _,
        } = settings;
        let remaining = source.size_hint();
        let panic = PanicSlot::default();
        let worker_panic = Arc::clone(&panic);
        let worker_stats = stats.clone();
        let (lane, body): (Lane<T>, WorkerBody<'scope, I>) = if batch == 1 {
            let (sender, receiver) = ring::channel(capacity);
            let stats = stats.clone();
            let body = move |source| worker::send_items(source, sender, &stats);
            (Lane::Items(receiver), Box::new(body))
        } else {
            // The bound is on items: that many, in whole batches.
            let slots = capacity.div_ceil(batch);
            let (sender, receiver) = ring::channel(slots);
            let (emptied, mut recycled) = RingBuffer::new(slots + 1);
            let stats = stats.clone();
            let body =
                move |source| worker::send_batches(source, sender, &mut recycled, batch, &stats);
            let lane = Lane::Batches {
                receiver,
                current: VecDeque::new(),
                emptied,
            };
            (lane, Box::new(body))
        };
        let thread = launcher.spawn_with(name, source, move |source| {
            let since = worker_stats.clock();
            // `body` drops the sender, which closes the ring, as its last
            // act; the consumer then joins this thread before it looks in
            // the slot, so the panic is there by then.
            if let Err(payload) = body(source) {
                *lock(&worker_panic) = Some(payload);
            }
            worker_stats.worker_done(since);
        })?;
        stats.start();
        Ok(Handoff {
            lane: Some(lane),
            panic,
            thread: Some(thread),
            remaining,
            stats,
        })
    }

    /// The stream is over: joins the worker and re-raises its panic, if any.
    fn end(&mut self) {
        self.stats.end();
        self.lane = None;
        self.remaining = size_hint::EMPTY;
        if let Some(thread) = self.thread.take() {
            // It has closed the ring, its last act but one: this is short.
            thread.join();
        }
        // Joined: if the source panicked, the payload is in its slot by now.
        if let Some(payload) = lock(&self.panic).take() {
            unwind::resume(payload);
        }
    }
}

impl<T> Engine for Handoff<'_, T> {
    type Item = T;

    /// Waits for the next item; `None` once the worker has finished and
    /// exited, and from then on.
    ///
    /// # Panics
    ///
    /// Re-raises the source's panic, with its original payload, after every
    /// item produced before it; the worker has exited by then, and the stream
    /// is ended.
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
                let batch = current.len();
                accumulated = current.drain(..).fold(accumulated, &mut f);
                stats.delivered(batch);
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
    /// Drops the items waiting for the consumer one by one, catching their
    /// panics, so that a drop that panics while this thread unwinds cannot
    /// abort it; once all are dropped, the first such panic is raised,
    /// unless the thread is panicking already. While the worker is there,
    /// it drops what is left as it leaves.
    fn drop(&mut self) {
        // A stage dropped early ends here, for its profile.
        self.stats.end();
        let Some(lane) = self.lane.take() else {
            return;
        };
        let mut first = FirstPanic::default();
        lane.drain_own(|item| first.keep(unwind::catch_drop(item)));
        if !thread::panicking() {
            first.resume_if_any();
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::launch::refusing::Refusing;

    fn settings() -> Settings {
        Settings {
            capacity: 4,
            batch: 1,
            name: "handoff-test".to_owned(),
            stats: Stats::off(),
            inline: false,
        }
    }

    #[test]
    fn with_no_thread_to_be_had_it_runs_inline() {
        let mut running = start(Refusing::after(0), 0..10, settings());
        assert!(matches!(running, Running::Inline(_)));
        assert_eq!(running.size_hint(), (10, Some(10)));
        let got: Vec<i32> = std::iter::from_fn(|| running.next()).collect();
        assert_eq!(got, (0..10).collect::<Vec<_>>());
        assert!(running.is_finished());
    }

    #[test]
    fn inline_raises_the_source_panic_once_then_ends() {
        let panicking = (0..5).map(|n| if n == 3 { panic!("boom") } else { n });
        let mut running = start(Refusing::after(0), panicking, settings());
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
        let mut running = start(Refusing::after(1), 0..10, settings());
        assert!(matches!(running, Running::Threads(_)));
        let got: Vec<i32> = std::iter::from_fn(|| running.next()).collect();
        assert_eq!(got, (0..10).collect::<Vec<_>>());
    }
}
