//! Bounded spinning: how long a side that cannot go on keeps looking before
//! it sleeps, and how it looks. See [the protocol](super#spin-then-sleep).

use std::time::{Duration, Instant};

/// How long a side that cannot go on spins before it sleeps. Waking a
/// sleeper costs about as much as this (a futex call on each side), and a
/// consumer about to sleep runs a `membarrier` too, so a wait that ends
/// within it is cheaper spun; a longer one sleeps after it.
pub(crate) const SPIN_BEFORE_SLEEP: Duration = Duration::from_micros(20);

/// When the process has more worker threads than cores, a waiting side
/// spins only this long, then yields its core between looks: the thread it
/// waits for may well be waiting for a core.
pub(crate) const SPIN_WHEN_CROWDED: Duration = Duration::from_micros(2);

/// Looks until `done` says so, for up to [`SPIN_BEFORE_SLEEP`], before a
/// side that cannot go on sleeps; whether `done` said so.
///
/// While every awake worker (and a consumer) can have a core of its own, it
/// only spins (see [`crowded`](super::cores::crowded)): yielding would
/// not help the thread it waits for, which runs on another core, and a
/// thread that yields to the very thread it waits for, when both sit on one
/// core (a new thread is often placed on its spawner's), keeps the two
/// together, since the scheduler does not move a thread that ran a moment
/// ago, while an idle core waits; one that sleeps instead is placed on an
/// idle core when it is woken. When there are more threads than cores, it
/// yields after [`SPIN_WHEN_CROWDED`]: the thread it waits for may be
/// waiting for this very core.
pub(crate) fn spin_before_sleep(mut done: impl FnMut() -> bool) -> bool {
    let crowded = super::cores::crowded();
    let start = Instant::now();
    loop {
        if done() {
            return true;
        }
        let waited = start.elapsed();
        if waited >= SPIN_BEFORE_SLEEP {
            return false;
        }
        if crowded && waited >= SPIN_WHEN_CROWDED {
            std::thread::yield_now();
        } else {
            for _ in 0..SPINS_PER_LOOK {
                std::hint::spin_loop();
            }
        }
    }
}

/// How long a side that could go on with a few items waits for more, so as
/// not to chase the other side slot by slot: bounded, and short enough
/// that it holds nothing back in any way that matters.
pub(crate) const LINGER: Duration = Duration::from_micros(1);

/// How many `spin_loop`s apart a spinning side looks again: each look
/// pulls a cache line from the other side's core.
const SPINS_PER_LOOK: u32 = 8;

/// Spins until `done` says so, for at most `limit` (a short one, such as
/// [`LINGER`]); whether it said so.
pub(crate) fn spin_for(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if done() {
            return true;
        }
        if start.elapsed() >= limit {
            return false;
        }
        for _ in 0..SPINS_PER_LOOK {
            std::hint::spin_loop();
        }
    }
}

/// Looks until `done` says so, for at most `limit`, yielding the core
/// between looks: for a thread with nothing to do that would rather stay
/// awake a moment, without taking a core from a thread that has work.
/// Whether `done` said so.
pub(crate) fn yield_for(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if done() {
            return true;
        }
        if start.elapsed() >= limit {
            return false;
        }
        std::thread::yield_now();
    }
}
