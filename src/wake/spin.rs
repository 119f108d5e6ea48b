//! Bounded spinning: how long a side that cannot go on keeps looking before
//! it sleeps, and how it looks. See [the protocol](super#spin-then-sleep).

use std::time::{Duration, Instant};

/// How long a side that cannot go on spins before it sleeps. Waking a
/// sleeper costs about as much as this (a futex call on each side), and a
/// consumer about to sleep runs a `membarrier` too, so a wait that ends
/// within it is cheaper spun; a longer one sleeps after it.
pub(crate) const SPIN_BEFORE_SLEEP: Duration = Duration::from_micros(20);

/// How long a side that could go on with a few items waits for more, so as
/// not to chase the other side slot by slot: bounded, and short enough
/// that it holds nothing back in any way that matters.
pub(crate) const LINGER: Duration = Duration::from_micros(1);

/// How many `spin_loop`s apart a spinning side looks again: each look
/// pulls a cache line from the other side's core.
const SPINS_PER_LOOK: u32 = 8;

/// Looks until `done` says so, for at most `limit`; whether it said so.
///
/// It never yields its core between looks: a thread that yields to the
/// thread it waits for, when both sit on one core (a new thread is often
/// placed on its spawner's), keeps the two together, since the scheduler
/// leaves a thread that ran a moment ago where it is. One that spins, then
/// sleeps, leaves the core to the other, and is placed on an idle core
/// when it is woken.
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
