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
use std::mem;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Instant;

use crate::launch::{Launch, Thread};
use crate::off_thread::OffThreadOptions;
use crate::profile::StageStats;
use crate::ring::{self, RingReceiver, RingSender};
use crate::size_hint::{self, SizeHint};

/// What a panicking thread leaves behind; re-raised with [`panic::resume_unwind`].
pub(crate) type PanicPayload = Box<dyn Any + Send + 'static>;

/// One message from a worker to its consumer.
enum Message<T> {
    Item(T),
    /// Several items, in order (batch mode).
    Batch(Vec<T>),
    /// The source panicked; nothing follows.
    Panicked(PanicPayload),
}

/// Runs `source` to its end, sending every item (alone, or in batches of
/// `batch`), then the panic if there was one.
///
/// Returns early, dropping `source` here on the worker thread, once the
/// consumer has hung up.
fn drain_into<I: Iterator>(
    source: I,
    sender: &mut RingSender<Message<I::Item>>,
    batch: usize,
    stats: Option<&StageStats>,
) {
    let mut filling = Vec::new();
    // AssertUnwindSafe is sound here: after a panic the source is dropped
    // without being used again, and `filling` holds only finished items.
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        if batch == 1 {
            for item in source {
                if sender.send(Message::Item(item), stats).is_err() {
                    return;
                }
            }
            return;
        }
        filling.reserve_exact(batch);
        for item in source {
            filling.push(item);
            if filling.len() == batch {
                let full = mem::replace(&mut filling, Vec::with_capacity(batch));
                if sender.send(Message::Batch(full), stats).is_err() {
                    return;
                }
            }
        }
    }));
    // The source ended, panicked, or the consumer hung up (then these sends
    // fail, and nobody is left to tell).
    if !filling.is_empty() {
        let _ = sender.send(Message::Batch(filling), stats);
    }
    if let Err(payload) = outcome {
        let _ = sender.send(Message::Panicked(payload), stats);
    }
}

/// The consumer's end of one worker thread: a fused stream of its items.
pub(crate) struct Handoff<'scope, T> {
    /// `None` once the stream has ended, so it stays ended.
    receiver: Option<RingReceiver<Message<T>>>,
    /// What is left of the batch being handed out.
    batch: std::vec::IntoIter<T>,
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
        let batch = options.batch;
        // The bound is on items: in batch mode, that many items in whole batches.
        let slots = options.capacity.div_ceil(batch);
        let (mut sender, receiver) = ring::channel(slots);
        if let Some(stats) = &stats {
            stats.start();
        }
        let worker_stats = stats.clone();
        let thread = launcher.spawn(options.name.clone(), move || {
            let since = Instant::now();
            drain_into(source, &mut sender, batch, worker_stats.as_deref());
            // Closes the channel before the thread reports itself done.
            drop(sender);
            if let Some(stats) = worker_stats {
                stats.worker_done(since);
            }
        });
        Handoff {
            receiver: Some(receiver),
            batch: Vec::new().into_iter(),
            thread: Some(thread),
            remaining,
            stats,
        }
    }

    /// A stream that has already ended, with no thread behind it.
    pub(crate) fn ended() -> Self {
        Handoff {
            receiver: None,
            batch: Vec::new().into_iter(),
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
    pub(crate) fn recv(&mut self) -> Option<T> {
        let item = loop {
            if let Some(item) = self.batch.next() {
                break item;
            }
            let receiver = self.receiver.as_mut()?;
            match receiver.recv(self.stats.as_deref()) {
                Some(Message::Item(item)) => break item,
                Some(Message::Batch(items)) => self.batch = items.into_iter(),
                Some(Message::Panicked(payload)) => {
                    self.finish();
                    panic::resume_unwind(payload)
                }
                None => {
                    self.finish();
                    return None;
                }
            }
        };
        self.remaining = size_hint::after_one(self.remaining);
        if let Some(stats) = &self.stats {
            stats.delivered();
        }
        Some(item)
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
        self.receiver = None;
        self.remaining = size_hint::EMPTY;
        if let Some(thread) = self.thread.take() {
            thread.join();
        }
    }

    /// Whether the stream has ended (the worker is gone too).
    pub(crate) fn is_finished(&self) -> bool {
        self.receiver.is_none()
    }
}
