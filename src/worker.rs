//! The one place where threadpipe starts threads and hands items across them.
//!
//! A worker runs a source iterator to its end and sends each item through a
//! bounded channel. Everything the adapters promise about threads rests on the
//! few rules written here:
//!
//! - the worker catches a panic of its source and sends the payload as the last
//!   message, so the consumer sees every earlier item first and then the panic;
//! - a send that fails means the consumer has hung up, so the worker stops
//!   pulling and drops its source on its own thread;
//! - the consumer joins the worker once the stream has ended, so "the stream is
//!   over" also means "the thread is gone", and never joins it on drop, so that
//!   dropping never waits for a source stuck inside `next()`.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError, TrySendError};
use std::thread::{self, JoinHandle, Scope, ScopedJoinHandle};
use std::time::Instant;

use crate::profile::StageStats;
use crate::size_hint::{self, SizeHint};

/// What a panicking thread leaves behind; re-raised with [`panic::resume_unwind`].
pub(crate) type PanicPayload = Box<dyn Any + Send + 'static>;

/// One message from a worker to its consumer.
pub(crate) enum Message<T> {
    Item(T),
    /// The source panicked; nothing follows.
    Panicked(PanicPayload),
}

/// Runs `source` to its end, sending every item, then the panic if there was one.
///
/// Returns early, dropping `source` here on the worker thread, once the
/// consumer has hung up.
pub(crate) fn drain_into<I: Iterator>(
    source: I,
    sender: &SyncSender<Message<I::Item>>,
    stats: Option<&StageStats>,
) {
    // AssertUnwindSafe is sound here: after a panic the source is dropped
    // without being used again, and only the payload leaves this function.
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        for item in source {
            if send(sender, Message::Item(item), stats).is_err() {
                return;
            }
        }
    }));
    if let Err(payload) = outcome {
        // If the consumer is gone, nobody is left to tell.
        let _ = sender.send(Message::Panicked(payload));
    }
}

/// Sends `message`, timing the wait for room if the stage is profiled.
fn send<T>(sender: &SyncSender<T>, message: T, stats: Option<&StageStats>) -> Result<(), ()> {
    let Some(stats) = stats else {
        return sender.send(message).map_err(drop);
    };
    match sender.try_send(message) {
        Ok(()) => Ok(()),
        Err(TrySendError::Disconnected(_)) => Err(()),
        Err(TrySendError::Full(message)) => {
            let since = Instant::now();
            let sent = sender.send(message).map_err(drop);
            stats.waited_output_full(since);
            sent
        }
    }
}

/// Where a worker thread lives: detached, or inside a [`Scope`] so it may borrow.
pub(crate) trait Launch<'scope>: Copy {
    /// Starts a thread named `name` running `body`.
    ///
    /// # Panics
    ///
    /// If the operating system cannot start a thread.
    fn spawn(self, name: String, body: impl FnOnce() + Send + 'scope) -> Thread<'scope>;
}

/// Launches detached threads: whatever they run must be `'static`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Detached;

impl Launch<'static> for Detached {
    fn spawn(self, name: String, body: impl FnOnce() + Send + 'static) -> Thread<'static> {
        let builder = thread::Builder::new().name(name.clone());
        match builder.spawn(body) {
            Ok(handle) => Thread::Detached(handle),
            Err(error) => spawn_failed(&name, &error),
        }
    }
}

impl<'scope> Launch<'scope> for &'scope Scope<'scope, '_> {
    fn spawn(self, name: String, body: impl FnOnce() + Send + 'scope) -> Thread<'scope> {
        let builder = thread::Builder::new().name(name.clone());
        match builder.spawn_scoped(self, body) {
            Ok(handle) => Thread::Scoped(handle),
            Err(error) => spawn_failed(&name, &error),
        }
    }
}

/// A worker thread, scoped or not.
pub(crate) enum Thread<'scope> {
    Detached(JoinHandle<()>),
    Scoped(ScopedJoinHandle<'scope, ()>),
}

impl Thread<'_> {
    /// Waits for the thread to exit.
    pub(crate) fn join(self) {
        let joined = match self {
            Thread::Detached(handle) => handle.join(),
            Thread::Scoped(handle) => handle.join(),
        };
        // Workers catch every panic of the code they run, so a thread itself
        // only panics if threadpipe does; pass that on unchanged.
        if let Err(payload) = joined {
            panic::resume_unwind(payload);
        }
    }
}

fn spawn_failed(name: &str, error: &std::io::Error) -> ! {
    panic!("threadpipe: failed to spawn worker thread `{name}`: {error}")
}

/// The consumer's end of one worker thread: a fused stream of its items.
pub(crate) struct Handoff<'scope, T> {
    /// `None` once the stream has ended, so it stays ended.
    receiver: Option<Receiver<Message<T>>>,
    thread: Option<Thread<'scope>>,
    /// The source's hint when the worker started, minus what was delivered.
    remaining: SizeHint,
    stats: Option<Arc<StageStats>>,
}

impl<'scope, T> Handoff<'scope, T> {
    /// Starts a worker thread named `name` that runs `source`.
    pub(crate) fn spawn<I, L>(
        launcher: L,
        source: I,
        capacity: usize,
        name: &str,
        stats: Option<Arc<StageStats>>,
    ) -> Self
    where
        I: Iterator<Item = T> + Send + 'scope,
        T: Send + 'scope,
        L: Launch<'scope>,
    {
        let remaining = source.size_hint();
        let (sender, receiver) = mpsc::sync_channel(capacity);
        if let Some(stats) = &stats {
            stats.start();
        }
        let worker_stats = stats.clone();
        let thread = launcher.spawn(name.to_owned(), move || {
            let since = Instant::now();
            drain_into(source, &sender, worker_stats.as_deref());
            if let Some(stats) = worker_stats {
                stats.worker_done(since);
            }
        });
        Handoff {
            receiver: Some(receiver),
            thread: Some(thread),
            remaining,
            stats,
        }
    }

    /// A stream that has already ended, with no thread behind it.
    pub(crate) fn ended() -> Self {
        Handoff {
            receiver: None,
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
        let message = self.receive()?;
        match message {
            Ok(Message::Item(item)) => {
                self.remaining = size_hint::after_one(self.remaining);
                if let Some(stats) = &self.stats {
                    stats.delivered();
                }
                Some(item)
            }
            Ok(Message::Panicked(payload)) => {
                self.finish();
                panic::resume_unwind(payload)
            }
            Err(mpsc::RecvError) => {
                self.finish();
                None
            }
        }
    }

    /// Waits for the next message, timing the wait if the stage is profiled.
    fn receive(&self) -> Option<Result<Message<T>, mpsc::RecvError>> {
        let receiver = self.receiver.as_ref()?;
        let Some(stats) = &self.stats else {
            return Some(receiver.recv());
        };
        Some(match receiver.try_recv() {
            Ok(message) => Ok(message),
            Err(TryRecvError::Disconnected) => Err(mpsc::RecvError),
            Err(TryRecvError::Empty) => {
                let since = Instant::now();
                let message = receiver.recv();
                stats.waited_input_empty(since);
                message
            }
        })
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
