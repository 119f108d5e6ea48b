//! The producing side of an `off_thread` stage: its runs, on threads of the
//! set, pull the source and push into the ring, one item or one batch at a
//! time, until the ring is full (the run ends, and the consumer's next
//! report of room asks for another), the source ends, or the consumer
//! hangs up. Whoever finishes the stage drops the source and the sending
//! end there, on a thread of the set, never on the consumer's.

use std::collections::VecDeque;
use std::mem;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rtrb::Consumer;

use super::ring::{RingReceiver, RingSender, RoomMade};
use crate::scheduler::{Runs, Work};
use crate::stats::Recorder;
use crate::sync::Lock as _;
use crate::thread_name;
use crate::unwind::{self, FirstPanic, PanicPayload};
use crate::wake::cores::{self, UserCode};

/// How long a run keeps its seat while other threads wait for one, when
/// it could go on: about a scheduler's time slice, long next to what
/// handing the seat over costs, short next to a person's patience.
pub(crate) const TIME_SLICE: Duration = Duration::from_millis(2);

/// How many items a run pulls between two looks at whether its seat is
/// wanted elsewhere (two loads of lines that rarely change).
const ITEMS_BETWEEN_LOOKS: u32 = 64;

/// Where a stage's items go: one by one, or in batches.
pub(super) enum Out<T> {
    Items {
        sender: RingSender<T>,
        /// Pulled, not yet pushed: the ring was full.
        pending: Option<T>,
    },
    Batches {
        sender: RingSender<VecDeque<T>>,
        /// The batch being filled.
        filling: VecDeque<T>,
        /// Batches the consumer has emptied and handed back.
        recycled: Consumer<VecDeque<T>>,
        batch: usize,
        /// A whole (or last) batch, not yet pushed: the ring was full.
        pending: Option<VecDeque<T>>,
    },
}

/// What became of an attempt to push what is pending.
enum Flush {
    Done,
    Full,
    Gone,
}

impl<T> Out<T> {
    fn receiver_gone(&self) -> bool {
        match self {
            Out::Items { sender, .. } => sender.receiver_gone(),
            Out::Batches { sender, .. } => sender.receiver_gone(),
        }
    }

    fn has_room(&self) -> bool {
        match self {
            Out::Items { sender, .. } => sender.has_room(),
            Out::Batches { sender, .. } => sender.has_room(),
        }
    }

    fn spin_for_room(&self) -> bool {
        match self {
            Out::Items { sender, .. } => sender.spin_for_room(),
            Out::Batches { sender, .. } => sender.spin_for_room(),
        }
    }

    /// Pushes what is pending, if anything.
    fn flush(&mut self) -> Flush {
        fn push<U>(sender: &mut RingSender<U>, pending: &mut Option<U>) -> Flush {
            let Some(item) = pending.take() else {
                return Flush::Done;
            };
            match sender.try_send(item) {
                Ok(()) => Flush::Done,
                Err(back) => {
                    *pending = Some(back);
                    if sender.receiver_gone() {
                        Flush::Gone
                    } else {
                        Flush::Full
                    }
                }
            }
        }
        match self {
            Out::Items { sender, pending } => push(sender, pending),
            Out::Batches {
                sender, pending, ..
            } => push(sender, pending),
        }
    }

    /// Pulls up to `most` items from `source`, pushing each (or each whole
    /// batch) at once; stops early when one cannot be pushed (the ring is
    /// full, or the receiver gone: it stays pending) or when a batch is
    /// ready to go. Whether the source has ended. One tight loop, with no
    /// per-item catch or mark, since on items of a few nanoseconds those
    /// cost as much as the item (see `benches/README.md`, tiny items).
    fn pull_some<I: Iterator<Item = T>>(&mut self, source: &mut I, most: u32) -> bool {
        match self {
            Out::Items { sender, pending } => {
                for _ in 0..most {
                    let Some(item) = source.next() else {
                        return true;
                    };
                    if let Err(back) = sender.try_send(item) {
                        *pending = Some(back);
                        break;
                    }
                }
            }
            Out::Batches {
                sender,
                filling,
                recycled,
                batch,
                pending,
            } => {
                for _ in 0..most {
                    // A hang-up shows only when a batch is pushed: look for
                    // it at every item, so that none is pulled for nobody.
                    if sender.receiver_gone() {
                        break;
                    }
                    let Some(item) = source.next() else {
                        return true;
                    };
                    filling.push_back(item);
                    if filling.len() == *batch {
                        *pending = Some(next_batch(filling, recycled, *batch));
                        break;
                    }
                }
            }
        }
        false
    }

    /// The source is over: the partial batch, if any, is to be pushed.
    fn close_batch(&mut self) {
        if let Out::Batches {
            filling, pending, ..
        } = self
            && !filling.is_empty()
        {
            *pending = Some(mem::take(filling));
        }
    }

    /// Drops what was pulled and never pushed, and then the sending end
    /// (which closes the ring), each under a catch; the first panic.
    fn let_go(self) -> FirstPanic {
        let mut first = FirstPanic::default();
        match self {
            Out::Items { sender, pending } => {
                first.keep(unwind::catch_drop(pending));
                first.keep(unwind::catch_drop(sender));
            }
            Out::Batches {
                sender,
                filling,
                recycled,
                pending,
                ..
            } => {
                let leftovers = pending.into_iter().chain([filling]).flatten();
                leftovers.for_each(|item| first.keep(unwind::catch_drop(item)));
                first.keep(unwind::catch_drop(recycled));
                first.keep(unwind::catch_drop(sender));
            }
        }
        first
    }
}

/// What a run holds while it works: the source, and where its items go.
pub(super) struct Side<I: Iterator> {
    source: I,
    out: Out<I::Item>,
    /// The source has ended (`Ok`) or panicked (`Err`): nothing more is
    /// pulled, and once what is pending is pushed the stage finishes.
    ended: Option<Result<(), PanicPayload>>,
    /// When the last run ended on a full ring, for the profile.
    parked_since: Option<Instant>,
}

impl<I: Iterator> Side<I> {
    pub(super) fn new(source: I, out: Out<I::Item>) -> Self {
        Side {
            source,
            out,
            ended: None,
            parked_since: None,
        }
    }
}

/// Takes the full batch out of `filling`, which goes on with an emptied
/// one handed back by the consumer (so that memory is not allocated on one
/// thread and freed on the other), or a fresh one.
fn next_batch<T>(
    filling: &mut VecDeque<T>,
    recycled: &mut Consumer<VecDeque<T>>,
    batch: usize,
) -> VecDeque<T> {
    let fresh = recycled
        .pop()
        .unwrap_or_else(|_| VecDeque::with_capacity(batch));
    mem::replace(filling, fresh)
}

/// How a run's pulling stopped.
enum Stop {
    /// The ring is full: the run ends, and a report of room asks for another.
    Full,
    /// Its seat is wanted elsewhere: another run is queued in its place.
    Yield,
    /// Nothing more will be pushed: the stage finishes.
    Finished,
}

/// The producing side of one stage, shared by its runs and its consumer.
pub(super) struct Producer<'scope, I: Iterator> {
    /// `None` while a run holds it, and once the stage has finished.
    side: Mutex<Option<Side<I>>>,
    /// Set under `side`'s lock once the stage has finished.
    finished: Mutex<Finish<'scope, I::Item>>,
    pub(super) runs: Runs<'scope>,
    /// The source's panic, for the consumer; stored before the ring closes.
    panic: Mutex<Option<PanicPayload>>,
    name: String,
    stats: Recorder,
}

/// Whether the stage has finished, and what its consumer left behind.
pub(super) struct Finish<'scope, T> {
    done: bool,
    /// The consumer's end, handed over as it left while a run worked: the
    /// run that finishes drops its items one by one, under catches.
    orphan: Option<Orphan<'scope, T>>,
}

/// The receiving end a consumer leaves behind, hung up.
pub(super) enum Orphan<'scope, T> {
    Items(RingReceiver<'scope, T>),
    Batches(RingReceiver<'scope, VecDeque<T>>),
}

impl<T> Orphan<'_, T> {
    /// Drops every item left one by one, each under a catch, then the
    /// receiver; the first panic. Items stay while the sender is there.
    fn drain(self) -> Result<(), PanicPayload> {
        let mut first = FirstPanic::default();
        match self {
            Orphan::Items(mut receiver) => {
                receiver.drain_if_sender_gone(|item| first.keep(unwind::catch_drop(item)));
                first.keep(unwind::catch_drop(receiver));
            }
            Orphan::Batches(mut receiver) => {
                receiver.drain_if_sender_gone(|batch| {
                    batch
                        .into_iter()
                        .for_each(|item| first.keep(unwind::catch_drop(item)));
                });
                first.keep(unwind::catch_drop(receiver));
            }
        }
        first.into_result()
    }
}

impl<'scope, I> Producer<'scope, I>
where
    I: Iterator + Send + 'scope,
    I::Item: Send + 'scope,
{
    pub(super) fn new(side: Side<I>, runs: Runs<'scope>, name: String, stats: Recorder) -> Self {
        Producer {
            side: Mutex::new(Some(side)),
            finished: Mutex::new(Finish {
                done: false,
                orphan: None,
            }),
            runs,
            panic: Mutex::new(None),
            name,
            stats,
        }
    }

    /// The source's panic, once the ring has closed.
    pub(super) fn take_panic(&self) -> Option<PanicPayload> {
        self.panic.locked().take()
    }

    /// The consumer has gone, leaving `receiver` (hung up) with items the
    /// producer may still push: the stage finishes on a thread of the set,
    /// which drops the items, the source and both ends there. A parked
    /// stage is finished by a job; a running one by its run.
    /// A panic of an item dropped here (the stage had finished, so the
    /// consumer drops what is left) is returned.
    pub(super) fn abandon(
        self: &Arc<Self>,
        receiver: Orphan<'scope, I::Item>,
    ) -> Result<(), PanicPayload> {
        let parked = self.side.locked().take();
        let mut finish = self.finished.locked();
        if finish.done {
            drop(finish);
            // The sender is gone: drop what is left here, one by one.
            return receiver.drain();
        }
        match parked {
            Some(side) => {
                drop(finish);
                let producer = Arc::clone(self);
                self.runs.submit_job(Box::new(move || {
                    unwind::discard(producer.finish(side, None));
                    unwind::discard(receiver.drain());
                }));
            }
            None => finish.orphan = Some(receiver),
        }
        Ok(())
    }

    /// Whether a run would find something to do: the side is parked and
    /// there is room, or the consumer has gone.
    fn has_work(&self) -> bool {
        self.side
            .locked()
            .as_ref()
            .is_some_and(|side| side.out.has_room() || side.out.receiver_gone())
    }

    /// Drops the source, stores its panic for the consumer, and lets go of
    /// the sending end, which closes the ring, in that order, so the
    /// consumer that sees the close sees the panic; then drops what a
    /// consumer that left handed over. The first panic of these drops.
    /// `since` is when the run that finishes began, for the profile, which
    /// must have its time before the consumer can see the end.
    fn finish(&self, side: Side<I>, since: Option<Instant>) -> Result<(), PanicPayload> {
        let Side {
            source, out, ended, ..
        } = side;
        // The source's panic: of its `next`, else of its drop.
        let mut source_panic = FirstPanic::default();
        if let Some(Err(payload)) = ended {
            source_panic.keep(Err(payload));
        }
        source_panic.keep(unwind::catch_drop(source));
        if let Err(payload) = source_panic.into_result() {
            *self.panic.locked() = Some(payload);
        }
        self.stats.worker_done(since);
        // Closes the ring: the consumer may return from its last `next` now.
        let mut first = out.let_go();
        // Only now, with the sending end gone, is the stage done: a consumer
        // that leaves after this drains its end itself, and finds every item
        // there; one that left before handed its end over, drained below.
        // (Done before the close, a consumer leaving in between would find
        // the sender still there and drain nothing, and the sender's drop,
        // the ring's last, would drop the items all at once, outside the
        // catch of each.)
        let orphan = {
            let mut finish = self.finished.locked();
            finish.done = true;
            finish.orphan.take()
        };
        // Nothing of the stage's runs on this thread from here on: once no
        // thread carries the stage's name, the ring is closed.
        thread_name::set_idle();
        if let Some(receiver) = orphan {
            first.keep(receiver.drain());
        }
        first.into_result()
    }
}

impl<'scope, I> Work for Producer<'scope, I>
where
    I: Iterator + Send + 'scope,
    I::Item: Send + 'scope,
{
    fn run(self: Arc<Self>) {
        self.runs.begin();
        let Some(mut side) = self.side.locked().take() else {
            // Another run holds it, or the stage has finished.
            self.runs.end(|| false);
            return;
        };
        thread_name::set(&self.name);
        let since = self.stats.clock();
        self.stats.waited_output_full(side.parked_since.take());
        let stop = match unwind::catch(|| {
            #[cfg(test)]
            unwind::dying_run::fail_point(&self.name);
            pull_and_push(&mut side, &self.stats)
        }) {
            Ok(stop) => stop,
            Err(payload) => {
                // Only a bug of this crate gets here: user code runs under
                // catches of its own. The stream cannot go on from a state
                // it left half-made; it ends with this panic, after what
                // was already pushed.
                match side.ended {
                    None | Some(Ok(())) => side.ended = Some(Err(payload)),
                    Some(Err(_)) => unwind::discard(Err::<(), _>(payload)),
                }
                Stop::Finished
            }
        };
        match stop {
            Stop::Full => {
                side.parked_since = self.stats.clock();
                *self.side.locked() = Some(side);
                self.stats.worker_done(since);
                self.runs.end(|| self.has_work());
            }
            Stop::Yield => {
                *self.side.locked() = Some(side);
                self.stats.worker_done(since);
                self.runs.requeue();
            }
            Stop::Finished => {
                // A later panic of a drop, after the stream's end or its
                // first panic, has nobody to go to.
                unwind::discard(self.finish(side, since));
                self.runs.end(|| false);
            }
        }
    }
}

impl<'scope, I> RoomMade for Producer<'scope, I>
where
    I: Iterator + Send + 'scope,
    I::Item: Send + 'scope,
{
    fn room_made(&self) {
        self.runs.notify();
    }
}

/// Pulls the source and pushes its items until the ring is full, the seat
/// is wanted elsewhere, or nothing more will be pushed.
fn pull_and_push<I: Iterator>(side: &mut Side<I>, stats: &Recorder) -> Stop {
    let seat = cores::current_seat();
    let budget = seat.as_ref().map(|(_, budget)| *budget);
    let started = Instant::now();
    loop {
        match side.out.flush() {
            Flush::Done => {}
            Flush::Gone => return Stop::Finished,
            Flush::Full => {
                // Waiting for the consumer, not working: a profile that
                // counted this as work blamed a stage with nothing to do
                // whenever its spin was preempted.
                let since = stats.clock();
                let room = side.out.spin_for_room();
                stats.waited_output_full(since);
                if room {
                    continue;
                }
                return Stop::Full;
            }
        }
        if side.ended.is_some() || side.out.receiver_gone() {
            return Stop::Finished;
        }
        if budget.is_some_and(|budget| {
            budget.over() || (budget.anyone_waiting() && started.elapsed() >= TIME_SLICE)
        }) {
            return Stop::Yield;
        }
        // A few dozen items are one call of user code for the monitor: one
        // that blocks inside the source still shows as a call that does not
        // end.
        let pulled = unwind::catch(|| {
            let _user = UserCode::enter(seat.as_ref());
            side.out.pull_some(&mut side.source, ITEMS_BETWEEN_LOOKS)
        });
        match pulled {
            Ok(false) => {}
            Ok(true) => {
                side.out.close_batch();
                side.ended = Some(Ok(()));
            }
            Err(payload) => {
                // Every item made before the panic is pushed first.
                side.out.close_batch();
                side.ended = Some(Err(payload));
            }
        }
    }
}
