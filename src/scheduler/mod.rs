//! The threads every stage runs on: one set for the whole process, started
//! lazily, shared by every stage and every call, with at most one busy
//! thread per core. Its protocol (who parks, who wakes whom, how a blocked
//! thread is replaced, when threads exit) is told in `README.md`, beside
//! this file; this module is what the engines above use of it.
//!
//! A stage is [`Work`]: the engines ([`crate::handoff`], [`crate::pool`])
//! implement it, and ask for runs of it through its [`Runs`], which hands
//! [`Ticket`]s to a [`Workers`]: the process-wide set ([`global`]), or a
//! set of threads inside a [`std::thread::Scope`] for a stage that borrows.
//! A run goes on until it has nothing to do, then ends; the events that
//! give it something to do again ask for another run.

mod config;
mod monitor;
mod runs;
#[cfg(test)]
pub(crate) mod testing;
mod workers;

use std::sync::{Arc, Weak};

use crate::unwind;
use crate::wake::cores;

pub(crate) use self::config::{Config, DEFAULT_KEEPALIVE, configure, default_threads};
pub(crate) use self::runs::Runs;
#[cfg(all(test, not(loom)))]
pub(crate) use self::workers::refusing_after;
pub(crate) use self::workers::{global, scoped};

/// Runs `work` (a share of a stage's work the consumer takes on) as the
/// budget allows: a thread of the set runs it in the seat it holds, or in
/// a free one, taken for the while (`None`, and nothing run, if there is
/// none: the stage's runs, in their seats, do it); a program's own thread
/// runs it with no seat, as it would run the chain without threadpipe.
pub(crate) fn in_a_seat<R>(work: impl FnOnce() -> R) -> Option<R> {
    cores::with_seat(|seat| {
        let Some((seat, budget)) = seat else {
            return Some(work());
        };
        if seat.counts() {
            return Some(work());
        }
        if budget.anyone_waiting() {
            return None;
        }
        let _seat = budget.seat_for_a_while(seat)?;
        Some(work())
    })
}

/// Runs `work` (a share of a stage's work that no other thread will do)
/// in the calling thread's own seat, taken back if it was lent, whatever
/// the count: the budget is over by one for the while, as when a blocked
/// call returns (see `README.md`, "Seats"), and a run gives its seat up at
/// its next step. A thread without a seat just runs it.
pub(crate) fn in_its_own_seat<R>(work: impl FnOnce() -> R) -> R {
    cores::with_seat(|seat| {
        let _seat = seat.and_then(|(seat, budget)| budget.seat_back_for_a_while(seat));
        work()
    })
}

/// How many threads may run stages' work at once: the budget of the
/// process-wide set, fixed at its first use.
pub(crate) fn busy_threads() -> usize {
    config::get().threads
}

/// A stage, as the scheduler sees it: something with runs to be made.
pub(crate) trait Work: Send + Sync {
    /// Does the stage's work on the calling thread, which holds a seat of
    /// the [budget](crate::wake::cores), until there is nothing to do for
    /// now; the stage's [`Runs`] asks for another run when there is. The
    /// run holds the stage alive until it returns, and lets go of it there.
    fn run(self: Arc<Self>);
}

/// What a [`Workers`] queues: a run to make, or a job that must be done.
pub(crate) enum Ticket<'scope> {
    /// A run of a stage, unless the stage has gone by the time a thread
    /// picks it up: a queued run keeps nothing of the stage alive, so a
    /// stage that ends leaves no closure or item behind in the queue.
    Run(Weak<dyn Work + 'scope>),
    /// A job that must run on one of the set's threads, whatever has
    /// become of its stage: dropping a source that a stage dropped early
    /// left behind, off the consumer's thread.
    Job(Box<dyn FnOnce() + Send + 'scope>),
}

impl Ticket<'_> {
    /// Runs the ticket on the calling thread.
    ///
    /// Runs and jobs catch every panic of user code themselves. One that
    /// escapes anyway is a bug of this crate; it is caught here all the same,
    /// so that it costs the set neither the thread nor the seat it holds.
    pub(crate) fn run(self) {
        unwind::discard(unwind::catch(move || match self {
            Ticket::Run(work) => {
                if let Some(work) = work.upgrade() {
                    work.run();
                }
            }
            Ticket::Job(job) => job(),
        }));
    }
}

impl std::fmt::Debug for Ticket<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Ticket::Run(_) => "Ticket::Run",
            Ticket::Job(_) => "Ticket::Job",
        })
    }
}

/// Where a stage's tickets go: the process-wide set, or a set inside a
/// scope. Type-erased, so that a stage need not name its launcher.
pub(crate) trait Submit<'scope>: Send + Sync {
    /// Queues `ticket` and makes sure a thread will pick it up.
    fn submit(&self, ticket: Ticket<'scope>);

    /// A stage that submits here has started; the set keeps at least one
    /// thread until it ends (see [`Workers::stage_started`]).
    fn stage_started(&self) -> bool;

    /// A stage that submits here has ended.
    fn stage_ended(&self);
}

/// A handle on the set of threads a stage runs on.
pub(crate) type Spawner<'scope> = Arc<dyn Submit<'scope> + 'scope>;

thread_local! {
    /// Whether the calling thread is pulling a stage's source for a
    /// `parallel_map` (see [`PullingForAStage`]).
    static PULLING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Marks the calling thread, until dropped, as one of the set's threads
/// pulling a source on behalf of a stage whose consumer never pulls it
/// (`parallel_map`'s pullers). An `off_thread` stage first pulled there
/// runs inline: its chain still runs on a thread other than the user's,
/// and the items need no ring.
#[derive(Debug)]
pub(crate) struct PullingForAStage(bool);

impl PullingForAStage {
    pub(crate) fn enter() -> Self {
        PullingForAStage(PULLING.with(|pulling| pulling.replace(true)))
    }

    /// Leaves the mark for a while: for user code reached from inside the
    /// pull that is a consumer in its own right (a `parallel_map` whose
    /// results the source reads).
    pub(crate) fn suspend() -> Self {
        PullingForAStage(PULLING.with(|pulling| pulling.replace(false)))
    }
}

impl Drop for PullingForAStage {
    fn drop(&mut self) {
        PULLING.with(|pulling| pulling.set(self.0));
    }
}

/// Whether the calling thread is pulling a source for a stage (see
/// [`PullingForAStage`]).
pub(crate) fn pulling_for_a_stage() -> bool {
    PULLING.with(std::cell::Cell::get)
}

/// An iterator whose `next` runs without the [`PullingForAStage`] mark:
/// for a stage that runs inline, whose source is consumed right there, on
/// the calling thread, so that a stage inside it must not run inline too.
#[derive(Debug)]
pub(crate) struct Unmarked<I>(pub(crate) I);

impl<I: Iterator> Iterator for Unmarked<I> {
    type Item = I::Item;

    #[inline]
    fn next(&mut self) -> Option<I::Item> {
        let _unmarked = PullingForAStage::suspend();
        self.0.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }

    fn fold<B, F: FnMut(B, I::Item) -> B>(self, init: B, f: F) -> B {
        let _unmarked = PullingForAStage::suspend();
        self.0.fold(init, f)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::Arc;

    use super::in_a_seat;
    use crate::wake::cores::{self, CoreBudget, Seat};

    /// A thread whose seat was lent while it was blocked in user code helps
    /// in that seat, borrowed back, and lends it again after: it neither
    /// loses it nor counts twice.
    #[test]
    fn helping_with_a_lent_seat_borrows_it_back_and_lends_it_again() {
        std::thread::spawn(|| {
            let budget: &'static CoreBudget = Box::leak(Box::new(CoreBudget::new(2)));
            let seat = Arc::new(Seat::new());
            cores::attach(Arc::clone(&seat), budget);
            assert!(budget.try_take(&seat));
            assert!(budget.lend(&seat));
            assert_eq!(budget.busy(), 0);
            let helped = in_a_seat(|| (seat.counts(), budget.busy()));
            assert_eq!(helped, Some((true, 1)), "helps in its own seat");
            assert!(seat.is_lent(), "the seat is lent again after");
            assert_eq!(budget.busy(), 0);
        })
        .join()
        .unwrap();
    }
}
