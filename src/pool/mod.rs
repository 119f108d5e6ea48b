//! The machinery behind `parallel_map`: workers that share one source, a
//! window that bounds how far they run ahead, and a consumer that puts
//! results back in order and helps with the work when it would otherwise wait.
//!
//! Invariants the code below relies on:
//!
//! - An item's index is fixed when it is pulled, under the feed lock, so
//!   indices are dense and follow the source's order.
//! - An item is pulled only while `index < delivered + window`, so at most
//!   `window` items are pulled and not yet delivered, wherever they are.
//! - Every pulled item ends up, exactly once, either in the results channel
//!   (pulled by a worker) or in the consumer's reorder buffer (pulled by the
//!   consumer), as a value or as the panic it caused. So while the stream has
//!   not ended, the result the consumer waits for is always on its way.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Instant;

use crossbeam_utils::Backoff;

use crate::launch::{Launch, WorkerThread};
use crate::lazy::{DebugFields, Engine};
use crate::size_hint::{self, SizeHint};
use crate::stats::Stats;
use crate::sync::lock;
use crate::unwind::PanicPayload;

/// What became of one item: `f`'s result, or the panic of the source or of `f`.
type Outcome<U> = Result<U, PanicPayload>;

/// State shared by the workers and the consumer.
struct Shared<I, F> {
    feed: Mutex<Feed<I>>,
    window: Mutex<Window>,
    /// Signalled when the window moves on or the consumer hangs up.
    window_moved: Condvar,
    window_size: usize,
    /// Set once `f` has panicked: nothing more is pulled.
    stopped: AtomicBool,
    stats: Stats,
    f: F,
}

/// The source, and where it stands.
struct Feed<I> {
    /// `None` once the source has ended or panicked, or the stream stopped.
    source: Option<I>,
    /// The index the next pulled item gets.
    next_index: usize,
    /// The number of items, once the source has returned `None`.
    total: Option<usize>,
}

struct Window {
    /// Items the consumer has delivered, in order: indices below this are done.
    delivered: usize,
    /// Workers asleep on `window_moved`.
    sleepers: usize,
    /// The consumer has hung up.
    cancelled: bool,
}

/// One pull from the feed: an indexed item, an indexed panic, or nothing.
enum Pulled<T> {
    Item(usize, T),
    Panicked(usize, PanicPayload),
    /// The source has ended, or the stream has stopped.
    Nothing,
}

impl<I, F, U> Shared<I, F>
where
    I: Iterator,
    F: Fn(I::Item) -> U,
{
    /// Whether items may still be pulled from `feed`.
    fn open(&self, feed: &Feed<I>) -> bool {
        feed.source.is_some() && !self.stopped.load(Ordering::Relaxed)
    }

    /// Pulls the next item from `feed`; the caller has checked the window.
    fn pull(&self, feed: &mut Feed<I>) -> Pulled<I::Item> {
        let Some(source) = feed
            .source
            .as_mut()
            .filter(|_| !self.stopped.load(Ordering::Relaxed))
        else {
            return Pulled::Nothing;
        };
        let index = feed.next_index;
        match crate::unwind::catch(|| source.next()) {
            Ok(Some(item)) => {
                feed.next_index += 1;
                Pulled::Item(index, item)
            }
            Ok(None) => {
                feed.source = None;
                feed.total = Some(index);
                Pulled::Nothing
            }
            Err(payload) => {
                feed.source = None;
                feed.next_index += 1;
                Pulled::Panicked(index, payload)
            }
        }
    }

    /// Runs `f`, catching its panic; after one, no more items are pulled.
    fn apply(&self, item: I::Item) -> Outcome<U> {
        let outcome = crate::unwind::catch(|| (self.f)(item));
        if outcome.is_err() {
            self.stopped.store(true, Ordering::Relaxed);
        }
        outcome
    }

    /// Waits until `index` fits in the window; `false` if the consumer hung up.
    fn wait_for_room(&self, index: usize) -> bool {
        let mut window = lock(&self.window);
        let has_room = |window: &Window| index < window.delivered.saturating_add(self.window_size);
        if has_room(&window) || window.cancelled {
            return !window.cancelled;
        }
        let since = Instant::now();
        while !has_room(&window) && !window.cancelled {
            window.sleepers += 1;
            window = self
                .window_moved
                .wait(window)
                .unwrap_or_else(PoisonError::into_inner);
            window.sleepers -= 1;
        }
        self.stats.waited_output_full(Some(since));
        !window.cancelled
    }

    /// A worker's life: pull, apply, send, until the feed or the consumer ends.
    fn work(&self, results: &Sender<(usize, Outcome<U>)>) {
        loop {
            let pulled = {
                let mut feed = lock(&self.feed);
                if !self.open(&feed) || !self.wait_for_room(feed.next_index) {
                    return;
                }
                self.pull(&mut feed)
            };
            let sent = match pulled {
                Pulled::Item(index, item) => results.send((index, self.apply(item))),
                Pulled::Panicked(index, payload) => results.send((index, Err(payload))),
                Pulled::Nothing => return,
            };
            if sent.is_err() {
                return; // the consumer hung up
            }
        }
    }
}

/// How results are handed to the consumer: in input order, or as they finish.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Order {
    Input,
    Completion,
}

/// The consumer's side of a running pool.
pub(crate) struct Pool<'scope, U> {
    feeder: Arc<dyn Feeder<U> + 'scope>,
    results: Receiver<(usize, Outcome<U>)>,
    /// Results that came early; slot `k` holds index `delivered + k` (input
    /// order), or results in arrival order (completion order).
    early: VecDeque<Option<Outcome<U>>>,
    order: Order,
    /// A panic held back, in completion order, until the items before it are out.
    pending_panic: Option<PanicPayload>,
    delivered: usize,
    /// Outcomes that have reached this thread, delivered or not.
    received: usize,
    remaining: SizeHint,
    threads: Vec<WorkerThread<'scope>>,
    finished: bool,
    stats: Stats,
}

/// How a pool is set up; see `ParallelMapOptions`.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) threads: usize,
    pub(crate) window_size: usize,
    pub(crate) order: Order,
    pub(crate) name: String,
    pub(crate) stats: Stats,
}

impl DebugFields for Settings {
    fn debug_fields(&self, debug: &mut fmt::DebugStruct<'_, '_>) {
        debug
            .field("name", &self.name)
            .field("threads", &self.threads)
            .field("window", &self.window_size)
            .field("order", &self.order);
    }
}

impl<'scope, U: Send + 'scope> Pool<'scope, U> {
    /// Starts the workers, named `name-0`, `name-1`, ...
    pub(crate) fn start<I, F, L>(launcher: L, source: I, f: F, settings: Settings) -> Self
    where
        I: Iterator + Send + 'scope,
        I::Item: Send + 'scope,
        F: Fn(I::Item) -> U + Send + Sync + 'scope,
        L: Launch<'scope>,
    {
        let Settings {
            threads,
            window_size,
            order,
            name,
            stats,
        } = settings;
        let remaining = source.size_hint();
        stats.start();
        let shared = Arc::new(Shared {
            feed: Mutex::new(Feed {
                source: Some(source),
                next_index: 0,
                total: None,
            }),
            window: Mutex::new(Window {
                delivered: 0,
                sleepers: 0,
                cancelled: false,
            }),
            window_moved: Condvar::new(),
            window_size,
            stopped: AtomicBool::new(false),
            stats: stats.clone(),
            f,
        });
        let (sender, results) = mpsc::channel();
        let threads = (0..threads)
            .map(|n| {
                let shared = Arc::clone(&shared);
                let sender = sender.clone();
                launcher.spawn(format!("{name}-{n}"), move || {
                    let since = shared.stats.clock();
                    shared.work(&sender);
                    shared.stats.worker_done(since);
                })
            })
            .collect();
        Pool {
            feeder: shared,
            results,
            // Grows as results come early; a huge window costs nothing up front.
            early: VecDeque::with_capacity(window_size.min(64)),
            order,
            pending_panic: None,
            delivered: 0,
            received: 0,
            remaining,
            threads,
            finished: false,
            stats,
        }
    }
}

impl<U> Pool<'_, U> {
    /// The next result, in the pool's order; re-raises a panic in its turn.
    fn next_result(&mut self) -> Option<U> {
        if self.finished {
            return None;
        }
        // Sleeping costs a wake-up (about 10 µs) per result, far more than a
        // small item's work: look again a few times before blocking.
        let backoff = Backoff::new();
        loop {
            if let Some(outcome) = self.take_ready() {
                return self.deliver(outcome);
            }
            match self.results.try_recv() {
                Ok((index, outcome)) => {
                    self.place(index, outcome);
                    continue;
                }
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => {}
            }
            // In completion order nothing may wait behind a slow item, so the
            // consumer never takes one on itself.
            let may_help = self.order == Order::Input;
            match self.feeder.help(self.delivered, self.received, may_help) {
                Help::Helped(outcome) => {
                    if let Some((index, outcome)) = outcome {
                        self.place(index, outcome);
                    }
                    continue;
                }
                Help::Ended => return self.end(),
                Help::Wait => {}
            }
            if !backoff.is_completed() {
                backoff.snooze();
                continue;
            }
            // An error means every worker has exited: what is left is on this
            // thread, so `help` decides next time round, without blocking.
            let since = self.stats.clock();
            let received = self.results.recv();
            self.stats.waited_input_empty(since);
            if let Ok((index, outcome)) = received {
                self.place(index, outcome);
            }
        }
    }

    /// The result whose turn has come, if it is here.
    fn take_ready(&mut self) -> Option<Outcome<U>> {
        match self.order {
            Order::Input => match self.early.front() {
                Some(Some(_)) => self.early.pop_front().flatten(),
                _ => None,
            },
            Order::Completion => self.early.pop_front().flatten(),
        }
    }

    /// Files a result that has arrived.
    fn place(&mut self, index: usize, outcome: Outcome<U>) {
        self.received += 1;
        match (self.order, outcome) {
            (Order::Input, outcome) => {
                let slot = index - self.delivered;
                if self.early.len() <= slot {
                    self.early.resize_with(slot + 1, || None);
                }
                self.early[slot] = Some(outcome);
            }
            // In completion order a panic waits until the items in flight
            // are out. It never moves the window, so a worker waiting for
            // room would wait for ever: stop them all now.
            (Order::Completion, Err(payload)) => {
                self.pending_panic.get_or_insert(payload);
                self.feeder.cancel();
            }
            (Order::Completion, Ok(value)) => self.early.push_back(Some(Ok(value))),
        }
    }

    /// Hands one outcome to the caller and moves the window on.
    fn deliver(&mut self, outcome: Outcome<U>) -> Option<U> {
        self.delivered += 1;
        self.stats.delivered(1);
        self.remaining = size_hint::after_one(self.remaining);
        self.feeder.advance(self.delivered);
        match outcome {
            Ok(value) => Some(value),
            Err(payload) => {
                self.stop();
                crate::unwind::resume(payload)
            }
        }
    }

    /// Every result is out and nothing is left to pull: the workers are
    /// leaving, so wait for them; then end, or raise a held-back panic.
    fn end(&mut self) -> Option<U> {
        let pending = self.pending_panic.take();
        self.stop();
        for thread in self.threads.drain(..) {
            thread.join();
        }
        if let Some(payload) = pending {
            crate::unwind::resume(payload);
        }
        None
    }

    /// Ends the stream and tells every worker to stop at its next hand-off,
    /// without waiting: after a panic a worker may be stuck in the source.
    fn stop(&mut self) {
        self.stats.end();
        self.finished = true;
        self.remaining = size_hint::EMPTY;
        self.early.clear();
        self.feeder.cancel();
    }
}

impl<U> Engine for Pool<'_, U> {
    type Item = U;

    fn next(&mut self) -> Option<U> {
        self.next_result()
    }

    fn size_hint(&self) -> SizeHint {
        self.remaining
    }

    fn is_finished(&self) -> bool {
        self.finished
    }
}

impl<U> Drop for Pool<'_, U> {
    fn drop(&mut self) {
        // Not joined: a worker may be stuck in the source. Dropping `results`
        // makes every later send fail, so busy workers stop too.
        self.feeder.cancel();
        self.stats.end();
    }
}

/// What the consumer's offer to help came to.
enum Help<U> {
    /// It ran one item (or found the source's end): here is what it made.
    Helped(Option<(usize, Outcome<U>)>),
    /// Results are still on their way from workers: wait for them.
    Wait,
    /// Nothing is left anywhere.
    Ended,
}

/// The consumer's view of the shared state, with the source and `f` hidden,
/// so adapter types need not name `f`'s type.
trait Feeder<U>: Send + Sync {
    /// Pulls and runs one item here if that can be done without waiting and
    /// `may_help`; tells whether the stream has ended either way.
    fn help(&self, delivered: usize, received: usize, may_help: bool) -> Help<U>;
    /// Moves the window on to `delivered` and wakes a worker waiting for it.
    fn advance(&self, delivered: usize);
    /// Tells every worker to stop at its next hand-off. Never blocks for long:
    /// nobody holds the window lock while running user code.
    fn cancel(&self);
}

impl<I, F, U> Feeder<U> for Shared<I, F>
where
    I: Iterator + Send,
    I::Item: Send,
    F: Fn(I::Item) -> U + Send + Sync,
{
    fn help(&self, delivered: usize, received: usize, may_help: bool) -> Help<U> {
        // A worker holding the feed may be stuck in the source; then wait for
        // results instead, which may arrive first.
        let Ok(mut feed) = self.feed.try_lock() else {
            return Help::Wait;
        };
        if !self.open(&feed) {
            // Workers still hold what was pulled and has not reached us.
            if feed.next_index > received {
                return Help::Wait;
            }
            return Help::Ended;
        }
        if !may_help || feed.next_index >= delivered.saturating_add(self.window_size) {
            return Help::Wait;
        }
        let pulled = self.pull(&mut feed);
        drop(feed);
        Help::Helped(match pulled {
            Pulled::Item(index, item) => Some((index, self.apply(item))),
            Pulled::Panicked(index, payload) => Some((index, Err(payload))),
            Pulled::Nothing => None,
        })
    }

    fn advance(&self, delivered: usize) {
        let mut window = lock(&self.window);
        window.delivered = delivered;
        if window.sleepers > 0 {
            self.window_moved.notify_all();
        }
    }

    fn cancel(&self) {
        lock(&self.window).cancelled = true;
        self.window_moved.notify_all();
    }
}
