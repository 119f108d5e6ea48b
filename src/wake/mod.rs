//! How a thread that cannot go on waits, and how it is woken: the protocol
//! both engines ([`crate::handoff`] and [`crate::pool`]) rest on, told once.
//!
//! # Spin, then sleep
//!
//! A side that finds nothing to take (or no room to put) first spins for up
//! to [`SPIN_BEFORE_SLEEP`](spin::SPIN_BEFORE_SLEEP), and only then sleeps:
//! parking and unparking a thread costs about as much as the whole spin, so
//! a partner that answers within it is cheaper waited for awake. The wait
//! is timed, not counted, because a `spin_loop` costs very different
//! amounts on different CPUs. It yields its core only when the process has
//! more busy threads than the machine has cores: two threads that yield to
//! each other on one core otherwise stay there (see [`spin::spin_for`] and
//! [`cores::crowded`]). A side that could go on with only a few items lingers up
//! to [`LINGER`](spin::LINGER) for more, so that the two sides do not chase
//! each other slot by slot (each cache line that crosses between two cores
//! costs tens of nanoseconds).
//!
//! # Waking a consumer: a flag, and an asymmetric fence pair
//!
//! [`ConsumerBell`]: the thread that takes items sleeps on it; whoever
//! makes something it can take (a ring's producer, a pool's workers) rings
//! it after every such event. The sleeper can see for itself whether
//! something is waiting (it looks at the ring, or the pool), so ringing
//! only has to notice a sleeper: a compiler fence and a plain load of one
//! flag word, no locked instruction. The sleeper sets the flag with a
//! read-modify-write, runs the heavy half of an [asymmetric fence
//! pair](fence) (Linux's `membarrier`, which runs a full fence on every
//! running thread of the process), then looks once more before it parks.
//! Wherever that heavy fence lands in a ringer's program, either the ringer's
//! event comes before it, and the sleeper's last look sees it, or the
//! ringer's load of the flag comes after it, and the ringer wakes the
//! sleeper. Where `membarrier` is missing, both halves are full fences.
//!
//! # A producer does not sleep
//!
//! The producer of a ring that finds it full spins a moment for room, then
//! ends its run and gives its thread back (see [`crate::handoff`]). The
//! consumer reports its pops a quarter of the ring at a time, and before it
//! waits; each report asks the scheduler for another run (see
//! [`crate::scheduler`]), whose run counts order a run's end against the
//! request, so no report is lost and no fence is needed.
//!
//! # Waking one of many sleepers
//!
//! [`Sleepers`]: any number of threads sleep on it (idle threads of the
//! [scheduler](crate::scheduler), threads waiting for a core, stage runs
//! that wait in place), each listed by its handle; ringers pay the same
//! compiler fence and plain load as for a [`ConsumerBell`], and when someone
//! sleeps they take the most recent sleeper off the list and unpark it:
//! one thread per event, never all of them (ringing all is for events
//! every sleeper must see: an end, a cancel). The list's lock is never held
//! across the heavy fence. A sleeper taken off the list learns that it was
//! chosen ([`Woke::Rung`]), so that one that will not act on the event can
//! pass the ring on instead of losing it.
//!
//! # The budget of busy threads
//!
//! [`cores`]: a thread takes a seat before it runs a stage's work, lends it
//! while it sleeps on any bell here (so a consumer or a run waiting for
//! another costs no core), and takes it back when it wakes. Threads waiting
//! for a seat sleep on the budget's [`Sleepers`], rung when one is given up
//! or lent.
//!
//! # Checked by loom
//!
//! A lost wake-up would strand an item (or the end of a stream) and hang
//! the pipeline. Each bell's file ends with loom models that run its
//! protocol, as the engines use it, over every interleaving of two or three
//! threads up to three preemptions:
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 cargo test --release --lib -- wake`.

mod consumer_bell;
pub(crate) mod cores;
mod fence;
mod sleepers;
pub(crate) mod spin;

pub(crate) use consumer_bell::ConsumerBell;
pub(crate) use fence::FencePair;
pub(crate) use sleepers::{Sleepers, Woke};

use crate::sync::Lock as _;
use crate::sync::shim::{Mutex, Thread, thread};

/// Whom a single-sleeper bell wakes: the thread that sleeps on it names
/// itself here before it announces, in the bell's word, that it sleeps.
#[derive(Debug)]
struct Sleeper(Mutex<Option<Thread>>);

impl Sleeper {
    fn new() -> Self {
        Sleeper(Mutex::new(None))
    }

    /// Names the current thread as the one to wake.
    fn register_current(&self) {
        *self.0.locked() = Some(thread::current());
    }

    /// Wakes the named thread, if there is one; an unpark that comes before
    /// its park makes that park return at once.
    #[cold]
    fn wake(&self) {
        if let Some(sleeper) = self.0.locked().as_ref() {
            sleeper.unpark();
        }
    }
}
