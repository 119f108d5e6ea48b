//! The engine of `parallel_map`: runs on threads of the scheduler's set
//! pull items from one source, run `f` on them, and hand the results to the
//! consumer, which puts them back in order and runs `f` itself on pulled
//! items when it would otherwise wait. This module is the consumer's end.
//!
//! The rules everything else rests on:
//!
//! - **Only runs call the source.** One run at a time holds it
//!   ([`worker`]), gives each pulled item the next index and publishes it at
//!   once in the [`queue`], before it calls the source again; so an item
//!   never waits on a thread that is blocked inside the source, however
//!   long the source blocks. It pulls on only while another thread could
//!   take what it publishes (otherwise it runs each item first), only
//!   while the index is inside the window, and only while the queue has
//!   room (it holds at most [`MAX_QUEUE`] entries: a full queue leaves
//!   every thread that runs `f` plenty to claim, so nobody waits on it).
//! - **Runs come and go.** A stage has at most `threads` runs at once,
//!   each in a slot of its own, with the slot's results ring. A run that
//!   finds more work than it takes asks for one more; a run that finds
//!   nothing to do ends, and gives its thread back to the set; the events
//!   that give it work again (an item published, a quarter of the window
//!   freed by the consumer, the stream's end or cancel) ask for another
//!   (see [`crate::scheduler`]). A `parallel_map_init` stage's runs wait in
//!   place instead of ending, so that each thread's state is made once and
//!   dropped there, when the stage ends.
//! - **The window bounds everything.** An entry is pulled only while its
//!   index is below `delivered + window`, so at most `window` items are
//!   pulled and not yet delivered, wherever they are. The buffers follow:
//!   the queue holds at most `window` entries, and each slot's ring as many
//!   results, up to [`MAX_RING`].
//! - **Every entry ends exactly once**: as a result (or the panic it
//!   caused) in its runner's results ring or in the consumer's own list,
//!   or dropped unrun once the stream no longer needs it (after a cancel,
//!   or behind a panic). Each run claims entries in index order and
//!   produces results in that order into its slot's ring, and a slot is
//!   held by one run at a time, so in input order the result the consumer
//!   waits for is always at the front of one ring, in its own list, in the
//!   queue, in a run's hands, or not yet pulled but inside the window: it
//!   never waits behind a full ring.
//! - **A panic is an outcome.** The source's panic (in `next`, or in its
//!   drop after the last item) takes the next index; `f`'s takes its
//!   item's. Either stops pulling; the entries before it still run, those
//!   after it are dropped unrun. The consumer raises it in its turn (in
//!   completion order too: once every entry before it has been handed over;
//!   see [`turn`]), once every run has let go but one that may be stuck
//!   inside the source's `next`, and once the source is dropped (or is
//!   being called).
//! - **Runs claim in chunks** of about [`CHUNK_WORK`] of work (see
//!   [`crate::pace`]), so that claiming costs little next to cheap items,
//!   while a slow item is claimed on its own; never more than half of what
//!   waits per taker, so that uneven items still spread over every thread.

mod control;
mod queue;
mod states;
mod turn;
mod worker;

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Weak};
use std::thread::{self, ThreadId};
use std::time::Duration;

use rtrb::{Consumer, RingBuffer};

use self::control::Control;
use self::states::States;
use self::turn::PanicTurn;
use self::worker::{Shared, SharedView, Stepped};
use crate::launch;
use crate::lazy::{DebugFields, Engine, Inline, Started};
use crate::pace::Pace;
use crate::scheduler::{self, PullingForAStage, Runs, Spawner, Unmarked, Work};
use crate::size_hint::{self, SizeHint};
use crate::stats::Recorder;
use crate::unwind::{self, FirstPanic, PanicPayload};
use crate::wake::cores;
use crate::wake::spin::spin_before_sleep;

/// What became of one item: `f`'s result, or the panic of the source or of `f`.
type Outcome<U> = Result<U, PanicPayload>;

/// An outcome and the index of its item, as a run sends it.
type Sent<U> = (u64, Outcome<U>);

/// About how long one claimed chunk takes to run. It bounds how long a
/// result whose turn has come can wait for a consumer that is running a
/// chunk it took on, and it is long enough that the claim (a lock whose
/// cache line usually comes from another core) costs a few percent of it.
const CHUNK_WORK: Duration = Duration::from_micros(5);

/// The most entries one claim takes, however cheap they are.
const MAX_CHUNK: usize = 64;

/// How many entries to claim now, with `unclaimed` waiting and `takers`
/// threads that may claim them: about [`CHUNK_WORK`] of them, but no more
/// than half of what waits per taker (guided self-scheduling).
fn claim_size(pace: &Pace, unclaimed: usize, takers: usize) -> usize {
    let fair_share = unclaimed.div_ceil(2 * takers.max(1)).max(1);
    pace.items_in(CHUNK_WORK, MAX_CHUNK).min(fair_share)
}

/// The most results a slot's ring holds, whatever the window. Up to it,
/// a ring holds the whole window, so that a run may get as far ahead of
/// the consumer as the window lets it, whichever runs are going: so a
/// stage allocates `threads` rings of that many slots (see
/// `ParallelMapOptions::window`). Rings sized as shares of the window were
/// tried, and cut a lone run's lead to its share. A run whose ring is full
/// waits in place for the consumer, which is never waiting for that run's
/// later results (see the module docs).
const MAX_RING: usize = 4096;

/// The most unclaimed entries the queue holds, whatever the window: while
/// it is full nobody pulls, and every thread that runs `f` has plenty to
/// claim.
const MAX_QUEUE: usize = 4096;

/// How results are handed to the consumer: in input order, or as they finish.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Order {
    Input,
    Completion,
}

/// How a pool is set up; the adapter's options, turned into what the
/// engine needs.
#[derive(Debug)]
pub(crate) struct Settings {
    /// At most this many runs at once.
    pub(crate) threads: usize,
    pub(crate) window: usize,
    pub(crate) order: Order,
    pub(crate) name: String,
    /// The stage's profile rows, those of stages fused into it included.
    pub(crate) stats: Recorder,
    /// Run on the consumer's thread instead of the set's threads.
    pub(crate) inline: bool,
    /// Runs keep their thread until the stage ends (per-thread states).
    pub(crate) sticky: bool,
}

impl DebugFields for Settings {
    fn debug_fields(&self, debug: &mut fmt::DebugStruct<'_, '_>) {
        debug
            .field("name", &self.name)
            .field("threads", &self.threads)
            .field("window", &self.window)
            .field("order", &self.order);
        if self.inline {
            debug.field("inline", &true);
        }
    }
}

/// What the consumer takes on of its stage's work.
#[derive(Clone, Copy, Debug)]
enum Share {
    /// A chunk of the published entries.
    Claimed,
    /// The entry with this index, pulled here: see [`Shared::step_alone`].
    Alone(u64),
}

/// The consumer's share of the work, with the item types hidden: runs
/// entries here, into the consumer's own list; whether there was any.
type Help<'scope, U> = Box<dyn FnMut(Share, &mut VecDeque<Sent<U>>) -> bool + Send + 'scope>;

/// The consumer's end of a running pool.
pub(crate) struct Pool<'scope, U> {
    core: Arc<dyn SharedView<'scope> + 'scope>,
    help: Help<'scope, U>,
    /// One per slot, each in the order its runs ran their entries.
    rings: Vec<Consumer<Sent<U>>>,
    /// Whether a ring can fill (more in flight than a ring holds): then a
    /// pop from a ring that was full wakes the runs that wait for room.
    rings_can_fill: bool,
    /// The ring the last result came from, looked at first next time.
    last_ring: usize,
    /// Results of entries the consumer ran itself, in index order.
    own: VecDeque<Sent<U>>,
    /// Outcomes taken from the rings and from `own` so far: while it
    /// equals the entries claimed, no ring holds anything, and the rings
    /// need no look (a consumer stepping through its stage alone would
    /// otherwise look at every ring for every item).
    taken: u64,
    /// Results handed over so far.
    delivered: u64,
    /// In completion order, which entries have been handed over, and the
    /// panic that waits for those before it.
    panic_turn: PanicTurn,
    remaining: SizeHint,
    finished: bool,
    spawner: Spawner<'scope>,
}

/// A stage run inline, on the consumer's thread: the source with `f`
/// chained on, its types hidden as a pool's are.
pub(crate) type InlineMap<'scope, U> = Box<dyn Iterator<Item = U> + Send + 'scope>;

/// Starts the stage `settings` describe: at most `threads` runs at once on
/// `spawner`'s threads, each running `f` with a state of its thread's own,
/// made by `init` before its first item there; or inline, on the
/// consumer's thread, if it was asked to be (or the whole program was) or
/// no thread could be had.
pub(crate) fn start<'scope, I, F, Init, S, U>(
    spawner: Spawner<'scope>,
    source: I,
    f: F,
    init: Init,
    settings: Settings,
) -> Started<Pool<'scope, U>, InlineMap<'scope, U>>
where
    I: Iterator + Send + 'scope,
    I::Item: Send + 'scope,
    F: Fn(&mut S, I::Item) -> U + Send + Sync + 'scope,
    Init: Fn() -> S + Send + Sync + 'scope,
    S: Send + 'scope,
    U: Send + 'scope,
{
    let Settings {
        threads,
        window,
        order,
        name,
        stats,
        inline,
        sticky,
    } = settings;
    if inline || launch::inline_everywhere() || !spawner.stage_started() {
        return run_inline(source, f, init, stats);
    }
    let remaining = source.size_hint();
    // No more can be in flight than the window, nor than the source holds.
    let in_flight = window.min(remaining.1.unwrap_or(usize::MAX)).max(1);
    let ring_capacity = in_flight.min(MAX_RING);
    let (producers, rings): (Vec<_>, Vec<_>) =
        (0..threads).map(|_| RingBuffer::new(ring_capacity)).unzip();
    let consumer_takes = order == Order::Input;
    let control = Control::new(threads, consumer_takes, window, order, stats.clone());
    let shared = Arc::new_cyclic(|me: &Weak<Shared<'scope, I, F, Init, U>>| {
        let work: Weak<dyn Work + 'scope> = me.clone();
        let runs = Runs::new(work, threads, sticky, Arc::clone(&spawner));
        let queue_capacity = in_flight.min(MAX_QUEUE);
        Shared::new(
            source,
            f,
            init,
            control,
            queue_capacity,
            producers,
            runs,
            sticky,
            name,
        )
    });
    stats.start();
    // A stage nested in another's work runs on its consumer, which steps
    // through it alone (see `Shared::step_alone`), until a core is free
    // for a run: asking for one now would only queue it behind the work
    // that holds every seat.
    if !cores::inside_a_stage() || cores::global().has_room() {
        shared.runs.request();
    }
    Started::Threads(Pool {
        core: Arc::clone(&shared) as Arc<dyn SharedView<'scope> + 'scope>,
        help: consumer_help(shared),
        rings,
        rings_can_fill: ring_capacity < in_flight,
        last_ring: 0,
        own: VecDeque::new(),
        taken: 0,
        delivered: 0,
        panic_turn: PanicTurn::default(),
        remaining,
        finished: false,
        spawner,
    })
}

/// The stage on the consumer's thread: `f` chained onto `source`, with one
/// state, made by `init` before the first item.
fn run_inline<'scope, I, F, Init, S, U>(
    source: I,
    f: F,
    init: Init,
    stats: Recorder,
) -> Started<Pool<'scope, U>, InlineMap<'scope, U>>
where
    I: Iterator + Send + 'scope,
    F: Fn(&mut S, I::Item) -> U + Send + 'scope,
    Init: Fn() -> S + Send + 'scope,
    S: Send + 'scope,
{
    let mut states = States::new();
    let mapped = source.map(move |item| f(states.of(()).get_or_insert_with(&init), item));
    Started::Inline(Inline::new(Box::new(Unmarked(mapped)), stats))
}

/// The consumer's share of the work: entries it claims run here, with a
/// state of this thread's own (made by `init` when it first runs one, and
/// again if the adapter moves to another thread).
fn consumer_help<'scope, I, F, Init, S, U>(
    shared: Arc<Shared<'scope, I, F, Init, U>>,
) -> Help<'scope, U>
where
    I: Iterator + Send + 'scope,
    I::Item: Send + 'scope,
    F: Fn(&mut S, I::Item) -> U + Send + Sync + 'scope,
    Init: Fn() -> S + Send + Sync + 'scope,
    S: Send + 'scope,
    U: Send + 'scope,
{
    let mut states = States::new();
    let mut pace = Pace::default();
    let mut claimed = VecDeque::new();
    Box::new(move |share, own| {
        let control = &shared.control;
        let here = THIS_THREAD.with(|here| *here);
        let state = states.of(here);
        // It helps in a seat (see `next_in_order`): the monitor watches its
        // calls of `f` as it does a run's.
        cores::with_seat(|seat| {
            if let Share::Alone(wanted) = share {
                let since = control.stats.clock();
                let stepped = shared.step_alone(wanted, state, seat);
                control.stats.helped(since);
                // An end known before is no news: taking it for some had
                // the consumer step again and again, in its seat, while
                // the runs that held the last results waited for a seat.
                return match stepped {
                    Stepped::Ran(index, outcome) => {
                        own.push_back((index, outcome));
                        true
                    }
                    Stepped::Ended => true,
                    Stepped::Refused => false,
                };
            }
            let chunk = claim_size(&pace, shared.queue.unclaimed(), control.takers());
            if shared.queue.claim(chunk, &mut claimed) == 0 {
                return false;
            }
            let since = control.stats.clock();
            shared.run_claimed(&mut claimed, state, &mut pace, seat, |index, outcome| {
                own.push_back((index, outcome));
            });
            control.stats.helped(since);
            true
        })
    })
}

thread_local! {
    /// The calling thread's id, without the reference count `thread::current`
    /// costs: the consumer's help looks it up at every chunk.
    static THIS_THREAD: ThreadId = thread::current().id();
}

impl<U> Pool<'_, U> {
    fn control(&self) -> &Control {
        self.core.control()
    }

    /// The next result in input order, running entries here while it is
    /// not ready.
    fn next_in_order(&mut self) -> Option<U> {
        loop {
            if let Some(outcome) = self.take_in_order() {
                return self.deliver(outcome);
            }
            if let Some(panic) = self.stream_over() {
                return self.finish(panic);
            }
            // The consumer's help is stage work: it runs in a seat of the
            // budget, or not at all.
            let (help, own, delivered) = (&mut self.help, &mut self.own, self.delivered);
            let helped = scheduler::in_a_seat(|| {
                help(Share::Claimed, own)
                    || (cores::inside_a_stage() && help(Share::Alone(delivered), own))
            });
            match helped {
                Some(true) => {}
                Some(false) => self.wait_for_results(true),
                // No seat free for it: a run is to take the entries, but
                // if none will, it takes them itself, in its own seat, and
                // the next ones too, waking for them.
                None => {
                    let run_coming = self.leave_it_to_a_run();
                    if !run_coming
                        && self.core.unclaimed() > 0
                        && scheduler::in_its_own_seat(|| self.help_now())
                    {
                        continue;
                    }
                    self.wait_for_results(!run_coming);
                }
            }
        }
    }

    /// The consumer runs a chunk of the published entries; whether there
    /// were any.
    fn help_now(&mut self) -> bool {
        (self.help)(Share::Claimed, &mut self.own)
    }

    /// The next result to finish, whichever it is; a panic once every
    /// entry before it has been handed over (see [`turn`]).
    fn next_to_finish(&mut self) -> Option<U> {
        loop {
            match self.pop_own().or_else(|| self.take_any()) {
                Some((index, Ok(value))) => {
                    self.panic_turn.delivered(index);
                    return self.deliver(Ok(value));
                }
                Some((index, Err(payload))) => {
                    self.panic_turn.hold(index, payload);
                    continue;
                }
                None => {}
            }
            if let Some(payload) = self.panic_turn.due() {
                return self.deliver(Err(payload));
            }
            if let Some(panic) = self.stream_over() {
                return self.finish(panic);
            }
            // Nested in another stage's work, it may have no run of its own
            // (none is asked for while every seat is taken): it steps
            // through the stage alone meanwhile, as in input order, or
            // nothing would ever run its entries.
            if cores::inside_a_stage() {
                let (help, own, delivered) = (&mut self.help, &mut self.own, self.delivered);
                match scheduler::in_a_seat(|| help(Share::Alone(delivered), own)) {
                    Some(true) => continue,
                    Some(false) => {}
                    // Completion order's runs never count on the consumer
                    // to take an entry: a run always comes for those.
                    None => {
                        let _ = self.leave_it_to_a_run();
                    }
                }
            }
            self.wait_for_results(true);
        }
    }

    /// The consumer finds no seat free to help in (its own was lent while
    /// it was blocked in the user code it is still inside): a run must do
    /// what it would have done. Whether one is on its way for the entries
    /// published and unclaimed: a helper, if the stage is under its cap.
    /// If it is not, no run will come (the stage's one run may be blocked
    /// inside the source, on this very consumer), and the consumer, which
    /// may have been counted on to take one (see
    /// [`Control::consumer_takes`](control::Control::consumer_takes)),
    /// must take them itself. A stage nested in another's work may have no
    /// run at all, none being asked for while every seat is taken: one is
    /// asked for. A run asked for waits for a seat, which makes the runs
    /// that hold the seats give theirs up at their next step.
    fn leave_it_to_a_run(&self) -> bool {
        let runs = self.core.runs();
        if self.core.unclaimed() > 0 {
            return runs.request_helper();
        }
        if runs.running() == 0 && runs.queued() == 0 {
            runs.notify();
        }
        false
    }

    /// Whether the stream is over with nothing ready to hand over: at its
    /// end (`Some(None)`), or because a run died outside every catch
    /// (`Some` of its panic). Asked only when no result is ready, so that
    /// handing one over costs no look at either.
    fn stream_over(&self) -> Option<Option<PanicPayload>> {
        let control = self.control();
        if control.end() == Some(self.delivered) {
            return Some(None);
        }
        control.take_lost_run().map(Some)
    }

    /// The result numbered `delivered`, if it has been made.
    fn take_in_order(&mut self) -> Option<Outcome<U>> {
        let wanted = self.delivered;
        if self.own.front().is_some_and(|(index, _)| *index == wanted) {
            return self.pop_own().map(|(_, outcome)| outcome);
        }
        if !self.rings_may_hold_results() {
            return None;
        }
        let rings = self.rings.len();
        for offset in 0..rings {
            let at = (self.last_ring + offset) % rings;
            if matches!(self.rings[at].peek(), Ok((index, _)) if *index == wanted) {
                self.last_ring = at;
                return self.pop(at).map(|(_, outcome)| outcome);
            }
        }
        None
    }

    /// Any result that has been made, and its index, looking at each ring
    /// in turn.
    fn take_any(&mut self) -> Option<Sent<U>> {
        if !self.rings_may_hold_results() {
            return None;
        }
        let rings = self.rings.len();
        for offset in 0..rings {
            let at = (self.last_ring + offset) % rings;
            if let Some(sent) = self.pop(at) {
                self.last_ring = (at + 1) % rings;
                return Some(sent);
            }
        }
        None
    }

    /// The front result of the consumer's own list, if any.
    fn pop_own(&mut self) -> Option<Sent<U>> {
        let sent = self.own.pop_front()?;
        self.taken += 1;
        Some(sent)
    }

    /// Whether a ring may hold a result: some claimed entry's outcome has
    /// not been taken yet. (A stale count of claims only delays a look,
    /// which the consumer's wait makes anyway.)
    fn rings_may_hold_results(&self) -> bool {
        self.core.claimed() > self.taken
    }

    /// The front result of ring `at`, if any; a run waiting for room in a
    /// full ring is told there is. (It is told only when the ring was full,
    /// or filled again since: a run that fills it after this look is told
    /// at the next pop from it, which comes, since the consumer wants what
    /// the ring holds before anything that run could add.)
    fn pop(&mut self, at: usize) -> Option<Sent<U>> {
        let ring = &mut self.rings[at];
        let sent = ring.pop().ok()?;
        self.taken += 1;
        if self.rings_can_fill && ring.slots() + 1 >= ring.buffer().capacity() {
            self.core.runs().room_made();
        }
        Some(sent)
    }

    /// Whether the consumer has something to do: a result to take, an
    /// entry to run (in input order, if it `may_help`), the end of the
    /// stream to see, or a run lost.
    fn anything_new(&self, may_help: bool) -> bool {
        let control = self.control();
        let result_ready = match control.order {
            Order::Input => {
                let wanted = self.delivered;
                self.rings
                    .iter()
                    .any(|ring| matches!(ring.peek(), Ok((index, _)) if *index == wanted))
                    || (may_help && self.core.unclaimed() > 0)
            }
            Order::Completion => self.rings.iter().any(|ring| !ring.is_empty()),
        };
        result_ready || control.end() == Some(self.delivered) || control.lost_a_run()
    }

    /// Waits until [`anything_new`](Self::anything_new) says so: spinning
    /// first, then asleep until a run rings. A consumer that `takes` entries
    /// (it helps, or must, no run being on its way for them) wakes for
    /// them too, and says so, so that a run that publishes one counts on
    /// it; one that leaves them to a run coming waits for its result. (Its
    /// spin is a consumer's wait, as in any hand-off: brief, and yielding
    /// when the machine is crowded; see [`spin_before_sleep`].)
    fn wait_for_results(&self, takes: bool) {
        let control = self.control();
        let since = control.stats.clock();
        let anything_new = || self.anything_new(takes);
        control.set_consumer_waiting(takes);
        if !spin_before_sleep(anything_new) {
            control.consumer_bell.sleep_while(|| !anything_new());
        }
        control.set_consumer_waiting(false);
        control.stats.waited_input_empty(since);
    }

    /// Hands one outcome over and moves the window on; a panic ends the
    /// stream and is raised here.
    fn deliver(&mut self, outcome: Outcome<U>) -> Option<U> {
        self.delivered += 1;
        self.remaining = size_hint::after_one(self.remaining);
        let control = self.core.control();
        control.stats.delivered(1);
        if control.delivered(self.delivered) {
            self.core.runs().notify();
        }
        match outcome {
            Ok(value) => Some(value),
            Err(payload) => self.finish(Some(payload)),
        }
    }

    /// Tells the runs to leave and wakes them.
    fn cancel(&mut self) {
        let control = self.core.control();
        control.stats.end();
        control.cancel();
        self.core.runs().notify_all();
        if !self.finished {
            self.finished = true;
            self.spawner.stage_ended();
        }
    }

    /// The stream is over, at its end or at a panic: tells the runs to
    /// leave and waits until every one has let go, all but one stuck
    /// inside the source's `next` (which drops the source when the call
    /// returns, as after an early drop), and until the source has been
    /// dropped, on one of the set's threads; then raises the panic, if
    /// there is one.
    fn finish(&mut self, panic: Option<PanicPayload>) -> Option<U> {
        self.remaining = size_hint::EMPTY;
        self.cancel();
        let core = &self.core;
        let control = core.control();
        // Every run has let go of its slot (and renamed its thread), and of
        // the stage itself (only the adapter holds it then: `core` and the
        // consumer's help), and the source is gone; a run inside `next` is
        // the one exception, which nothing can interrupt.
        let in_next = || (0..control.slots()).any(|me| control.slot_in_next(me));
        let settled = || {
            (0..control.slots()).all(|me| control.slot_settled(me))
                && (!core.source_left() || in_next())
                && (Arc::strong_count(core) <= 2 || in_next())
        };
        if !spin_before_sleep(settled) {
            while !settled() {
                control.consumer_bell.sleep_while(|| !settled());
            }
        }
        // Results left behind a panic; their own panics come after it.
        let _ = self.drop_leftovers();
        match panic {
            Some(payload) => unwind::resume(payload),
            None => None,
        }
    }

    /// Drops the results still waiting for the consumer, and the entries
    /// nobody claimed (which the pool's last owner, often this thread,
    /// would otherwise drop as a panic unwinds through it), catching their
    /// panics; the first one is kept.
    fn drop_leftovers(&mut self) -> FirstPanic {
        let mut first = FirstPanic::default();
        for ring in &mut self.rings {
            while let Ok(sent) = ring.pop() {
                first.keep(unwind::catch_drop(sent));
            }
        }
        for sent in std::mem::take(&mut self.own) {
            first.keep(unwind::catch_drop(sent));
        }
        first.keep(self.core.drop_unclaimed().into_result());
        first
    }
}

impl<U> Engine for Pool<'_, U> {
    type Item = U;

    /// The next result, in the pool's order; `None` at the end, and from
    /// then on.
    ///
    /// # Panics
    ///
    /// Raises the panic of the source or of `f` in its turn.
    fn next(&mut self) -> Option<U> {
        if self.finished {
            return None;
        }
        // The consumer runs `f` here: a stage `f` starts is its own, not
        // part of a source some puller is pulling.
        let _unmarked = PullingForAStage::suspend();
        match self.control().order {
            Order::Input => self.next_in_order(),
            Order::Completion => self.next_to_finish(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        self.remaining
    }

    fn is_finished(&self) -> bool {
        self.finished
    }
}

impl<U> Drop for Pool<'_, U> {
    /// Tells the runs to leave, without waiting for them, and drops the
    /// results waiting here; a source no run holds is dropped by a job on
    /// one of the set's threads. A panic of one of those drops is raised
    /// once everything is dropped, unless this thread is already panicking.
    fn drop(&mut self) {
        if !self.finished {
            self.cancel();
            if self.core.source_left() {
                let core = Arc::clone(&self.core);
                self.core
                    .runs()
                    .submit_job(Box::new(move || core.drop_source_if_left()));
            }
        }
        let mut first = self.drop_leftovers();
        // A run may still push a result it made before it saw the cancel;
        // if it has let go of its slot already, the result is dropped here.
        for ring in std::mem::take(&mut self.rings) {
            first.keep(unwind::catch_drop(ring));
        }
        // The consumer's own states, made by `init`, are dropped here, their
        // panics discarded (see `states`); the stage itself may go with them.
        let help = std::mem::replace(&mut self.help, Box::new(|_, _| false));
        first.keep(unwind::catch_drop(help));
        if !thread::panicking() {
            first.resume_if_any();
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::scheduler::refusing_after;

    fn settings(threads: usize, order: Order) -> Settings {
        Settings {
            threads,
            window: 8,
            order,
            name: "pool-test".to_owned(),
            stats: Recorder::off(),
            inline: false,
            sticky: false,
        }
    }

    fn squares(launcher: Spawner<'static>, threads: usize, order: Order) -> (Vec<u64>, bool) {
        let mut running = start(
            launcher,
            0..100u64,
            |(), n| n * n,
            || (),
            settings(threads, order),
        );
        let inline = matches!(running, Started::Inline(_));
        let mut got: Vec<u64> = std::iter::from_fn(|| running.next()).collect();
        got.sort_unstable();
        (got, inline)
    }

    #[test]
    fn with_no_thread_to_be_had_it_runs_inline() {
        for order in [Order::Input, Order::Completion] {
            let (got, inline) = squares(refusing_after(0), 3, order);
            assert!(inline);
            assert_eq!(got, (0..100u64).map(|n| n * n).collect::<Vec<_>>());
        }
    }

    #[test]
    fn with_some_threads_it_runs_with_those() {
        for order in [Order::Input, Order::Completion] {
            let (got, inline) = squares(refusing_after(1), 3, order);
            assert!(!inline);
            assert_eq!(got, (0..100u64).map(|n| n * n).collect::<Vec<_>>());
        }
    }

    #[test]
    fn inline_keeps_one_state_and_the_order() {
        let mut settings = settings(4, Order::Input);
        settings.inline = true;
        let mut running = start(
            refusing_after(4),
            0..5u32,
            |count: &mut u32, n| {
                *count += 1;
                (n, *count)
            },
            || 0,
            settings,
        );
        assert!(matches!(running, Started::Inline(_)));
        let got: Vec<(u32, u32)> = std::iter::from_fn(|| running.next()).collect();
        assert_eq!(got, [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]);
    }

    /// Stepping alone through a stage whose end is known does nothing, and
    /// says so. Taking the known end for news had a nested consumer step
    /// again and again, in its seat, while the runs that held the last
    /// results waited for a seat: a livelock found by `tests/soak.rs`.
    #[test]
    fn stepping_alone_past_the_end_reports_nothing_done() {
        let running = start(
            refusing_after(2),
            0..3u64,
            |(), n| n,
            || (),
            settings(1, Order::Input),
        );
        let Started::Threads(mut pool) = running else {
            panic!("ran inline");
        };
        let got: Vec<u64> = std::iter::from_fn(|| pool.next()).collect();
        assert_eq!(got, [0, 1, 2]);
        let mut own = VecDeque::new();
        assert!(!(pool.help)(Share::Alone(pool.delivered), &mut own));
        assert!(own.is_empty());
    }

    /// A consumer nested in another stage's work, its seat lent out (as
    /// the monitor lends a blocked thread's) and none free, whose stage's
    /// one run has published an entry and pulled on, into a source that
    /// waits for this very consumer: the stage is at its cap, so no run
    /// can come for the entry, and the consumer runs it in its own seat,
    /// taken back. It waited for a run for ever before (found by
    /// `tests/soak.rs`); the source gives up after a while, so the stream
    /// then ends short instead.
    #[test]
    fn a_consumer_no_run_can_serve_runs_the_entries_in_its_own_seat() {
        use crate::wake::cores::{CoreBudget, Seat, UserCode};
        use std::sync::mpsc;
        thread::spawn(|| {
            let budget: &'static CoreBudget = Box::leak(Box::new(CoreBudget::new(1)));
            let seat = Arc::new(Seat::new());
            cores::attach(Arc::clone(&seat), budget);
            assert!(budget.try_take(&seat));
            cores::with_seat(|current| {
                let _user = UserCode::enter(current);
                assert!(budget.lend(&seat));
                let other = Seat::new();
                assert!(budget.try_take(&other), "every seat is taken");
                let (reply, replies) = mpsc::channel::<()>();
                let mut next = 0u64;
                let source = std::iter::from_fn(move || {
                    if next > 0 {
                        replies.recv_timeout(Duration::from_secs(5)).ok()?;
                    }
                    (next < 10).then(|| {
                        next += 1;
                        next - 1
                    })
                });
                let mut running = start(
                    refusing_after(4),
                    source,
                    |(), n| n * 2,
                    || (),
                    settings(1, Order::Input),
                );
                let mut got = Vec::new();
                while let Some(doubled) = running.next() {
                    got.push(doubled);
                    let _ = reply.send(());
                }
                assert_eq!(got, (0..10).map(|n| n * 2).collect::<Vec<_>>());
                assert!(!seat.counts(), "its seat is lent again after");
            });
        })
        .join()
        .unwrap();
    }

    /// A run that unwinds past every catch (only a bug of this crate could
    /// make one) must not leave the consumer waiting for the slot it held
    /// or the work it had: the consumer raises its panic, the stream ends,
    /// and the stage drops.
    #[test]
    fn a_run_that_dies_outside_every_catch_ends_the_stream_with_its_panic() {
        use crate::unwind::dying_run;
        for order in [Order::Input, Order::Completion] {
            let start = move || {
                let mut settings = settings(1, order);
                settings.name = dying_run::STAGE.to_owned();
                start(refusing_after(1), 0..100u64, |(), n| n, || (), settings)
            };
            let (message, ended) = dying_run::what_the_consumer_sees(start, Engine::next);
            assert_eq!(message.as_deref(), Some(dying_run::STAGE), "{order:?}");
            assert!(ended, "{order:?}: the stream went on");
        }
    }
}
