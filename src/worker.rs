//! The one place where threadpipe hands items from a worker thread to its
//! consumer. Everything the `off_thread` adapters promise about threads rests
//! on the few rules written here:
//!
//! - the worker catches a panic of its source, hands over every item made
//!   before it (a partial batch too), and then the payload as the last message,
//!   so the consumer sees every earlier item first and then the panic;
//! - a send that fails means the consumer has hung up, so the worker stops
//!   pulling and drops its source on its own thread;
//! - the consumer joins the worker once the stream has ended, so "the stream is
//!   over" also means "the thread is gone", and never joins it on drop, so that
//!   dropping never waits for a source stuck inside `next()`.
//!
//! The channel itself is [`ring`](crate::ring): every item is visible to the
//! consumer as soon as it is pushed, and nobody sleeps while the other side
//! keeps up.

use std::any::Any;
use std::collections::VecDeque;
use std::mem;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Instant;

use rtrb::{Consumer, Producer, RingBuffer};

use crate::launch::{Launch, Thread};
use crate::off_thread::OffThreadOptions;
use crate::profile::StageStats;
use crate::ring::{self, RingReceiver, RingSender};
use crate::size_hint::{self, SizeHint};
use crate::sync::lock_std as lock;

/// What a panicking thread leaves behind; re-raised with [`panic::resume_unwind`].
pub(crate) type PanicPayload = Box<dyn Any + Send + 'static>;

/// Where a worker leaves its source's panic for the consumer, which looks
/// once the channel is closed and the worker joined.
type PanicSlot = Arc<Mutex<Option<PanicPayload>>>;

/// The channel of one stage: items one by one, or in batches.
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
    /// The next item; `None` once the worker has closed the channel and
    /// every item it sent has been taken.
    fn recv(&mut self, stats: Option<&StageStats>) -> Option<T> {
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

/// Runs `source` to its end, sending every item, unless the consumer hangs
/// up first; then `source` is dropped here, on the worker thread.
fn send_items<I: Iterator>(
    source: I,
    sender: &mut RingSender<I::Item>,
    stats: Option<&StageStats>,
) -> thread::Result<()> {
    // AssertUnwindSafe is sound here: after a panic the source is dropped
    // without being used again, and only the payload leaves this function.
    panic::catch_unwind(AssertUnwindSafe(|| {
        for item in source {
            if sender.send(item, stats).is_err() {
                return;
            }
        }
    }))
}

/// Like [`send_items`], in batches of `batch` items; a partial batch is sent
/// when the source ends or panics. Batches come from `emptied` when the
/// consumer has handed some back.
fn send_batches<I: Iterator>(
    source: I,
    sender: &mut RingSender<VecDeque<I::Item>>,
    emptied: &mut Consumer<VecDeque<I::Item>>,
    batch: usize,
    stats: Option<&StageStats>,
) -> thread::Result<()> {
    let mut fresh = || {
        emptied
            .pop()
            .unwrap_or_else(|_| VecDeque::with_capacity(batch))
    };
    let mut filling = fresh();
    // AssertUnwindSafe is sound here: after a panic the source is dropped
    // without being used again, and `filling` holds only finished items.
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        for item in source {
            // A hang-up shows only when a batch is sent: look for it at every
            // item, so that no more are pulled for nobody.
            if sender.receiver_gone() {
                return;
            }
            filling.push_back(item);
            if filling.len() == batch {
                let full = mem::replace(&mut filling, fresh());
                if sender.send(full, stats).is_err() {
                    return;
                }
            }
        }
    }));
    // If the consumer has hung up this fails, and nobody is left to tell.
    if !filling.is_empty() {
        let _ = sender.send(filling, stats);
    }
    outcome
}

/// The consumer's end of one worker thread: a fused stream of its items.
pub(crate) struct Handoff<'scope, T> {
    /// `None` once the stream has ended, so it stays ended.
    lane: Option<Lane<T>>,
    panic: PanicSlot,
    thread: Option<Thread<'scope>>,
    /// The source's hint when the worker started, minus what was delivered.
    remaining: SizeHint,
    stats: Option<Arc<StageStats>>,
}

impl<'scope, T> Handoff<'scope, T> {
    /// Starts a worker thread, as `options` say, that runs `source`.
    pub(crate) fn spawn<I, L>(
        launcher: L,
        source: I,
        options: &OffThreadOptions,
        stats: Option<Arc<StageStats>>,
    ) -> Self
    where
        I: Iterator<Item = T> + Send + 'scope,
        T: Send + 'scope,
        L: Launch<'scope>,
    {
        let remaining = source.size_hint();
        if let Some(stats) = &stats {
            stats.start();
        }
        let panic = PanicSlot::default();
        let worker_panic = Arc::clone(&panic);
        let worker_stats = stats.clone();
        let batch = options.batch;
        let (lane, body): (
            Lane<T>,
            Box<dyn FnOnce() -> thread::Result<()> + Send + 'scope>,
        ) = if batch == 1 {
            let (mut sender, receiver) = ring::channel(options.capacity);
            let stats = worker_stats.clone();
            let body = move || send_items(source, &mut sender, stats.as_deref());
            (Lane::Items(receiver), Box::new(body))
        } else {
            // The bound is on items: that many, in whole batches.
            let slots = options.capacity.div_ceil(batch);
            let (mut sender, receiver) = ring::channel(slots);
            let (emptied, mut recycled) = RingBuffer::new(slots + 1);
            let stats = worker_stats.clone();
            let body =
                move || send_batches(source, &mut sender, &mut recycled, batch, stats.as_deref());
            let lane = Lane::Batches {
                receiver,
                current: VecDeque::new(),
                emptied,
            };
            (lane, Box::new(body))
        };
        let thread = launcher.spawn(options.name.clone(), move || {
            let since = Instant::now();
            // The sender lives in `body` and closes the channel as `body`
            // returns; the consumer then joins this thread before it looks
            // in the slot, so the panic is there by then.
            if let Err(payload) = body() {
                *lock(&worker_panic) = Some(payload);
            }
            if let Some(stats) = worker_stats {
                stats.worker_done(since);
            }
        });
        Handoff {
            lane: Some(lane),
            panic,
            thread: Some(thread),
            remaining,
            stats,
        }
    }

    /// A stream that has already ended, with no thread behind it.
    pub(crate) fn ended() -> Self {
        Handoff {
            lane: None,
            panic: PanicSlot::default(),
            thread: None,
            remaining: size_hint::EMPTY,
            stats: None,
        }
    }

    /// Waits for the next item; `None` once the worker has finished and
    /// exited, and from then on.
    ///
    /// # Panics
    ///
    /// Re-raises the source's panic, with its original payload, after every
    /// item produced before it; the worker has exited by then, and the stream
    /// is ended.
    #[inline]
    pub(crate) fn recv(&mut self) -> Option<T> {
        let Some(item) = self.lane.as_mut()?.recv(self.stats.as_deref()) else {
            self.end();
            return None;
        };
        self.remaining = size_hint::after_one(self.remaining);
        if let Some(stats) = &self.stats {
            stats.delivered();
        }
        Some(item)
    }

    /// Folds every remaining item, a batch at a time in batch mode; ends as
    /// [`recv`](Self::recv) does, re-raising a panic of the source.
    pub(crate) fn fold<B>(&mut self, init: B, mut f: impl FnMut(B, T) -> B) -> B {
        let mut accumulated = init;
        let stats = self.stats.clone();
        let counted = |items: usize| {
            if let Some(stats) = &stats {
                stats.delivered_many(items);
            }
        };
        match &mut self.lane {
            None => return accumulated,
            Some(Lane::Items(receiver)) => {
                accumulated = receiver.fold(accumulated, &mut f, stats.as_deref(), counted);
            }
            Some(Lane::Batches {
                receiver,
                current,
                emptied,
            }) => loop {
                let batch = current.len();
                accumulated = current.drain(..).fold(accumulated, &mut f);
                counted(batch);
                let Some(next) = receiver.recv(stats.as_deref()) else {
                    break;
                };
                let _ = emptied.push(mem::replace(current, next));
            },
        }
        self.end();
        accumulated
    }

    /// The stream is over: joins the worker and re-raises its panic, if any.
    fn end(&mut self) {
        self.finish();
        // `finish` has joined the worker: if the source panicked, the payload
        // is in its slot by now.
        if let Some(payload) = lock(&self.panic).take() {
            panic::resume_unwind(payload);
        }
    }

    /// A hint valid for what [`recv`](Self::recv) will still return.
    pub(crate) fn size_hint(&self) -> SizeHint {
        self.remaining
    }

    /// Ends the stream and waits for the worker thread to exit, which it is
    /// about to: it has sent its last message.
    fn finish(&mut self) {
        if let Some(stats) = &self.stats {
            stats.end();
        }
        self.lane = None;
        self.remaining = size_hint::EMPTY;
        if let Some(thread) = self.thread.take() {
            thread.join();
        }
    }

    /// Whether the stream has ended (the worker is gone too).
    pub(crate) fn is_finished(&self) -> bool {
        self.lane.is_none()
    }
}

impl<T> Drop for Handoff<'_, T> {
    fn drop(&mut self) {
        // A stage dropped early ends here, for its profile.
        if let Some(stats) = &self.stats {
            stats.end();
        }
    }
}
