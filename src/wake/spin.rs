//! Bounded spinning: how long a side that cannot go on keeps looking before
//! it sleeps, and how it looks. See [the protocol](super#spin-then-sleep).

use std::time::{Duration, Instant};

/// How long a side that cannot go on spins before it sleeps. Waking a
/// sleeper costs about as much as this (a futex call on each side), and a
/// consumer about to sleep runs a `membarrier` too, so a wait that ends
/// within it is cheaper spun; a longer one sleeps after it.
pub(crate) const SPIN_BEFORE_SLEEP: Duration = Duration::from_micros(20);

/// For this long a waiting side only spins; after it, it also yields its
/// core between looks, in case the side it waits for is waiting for that
/// core.
pub(crate) const SPIN_ONLY: Duration = Duration::from_micros(2);

/// How long a side that could go on with a few items waits for more, so as
/// not to chase the other side slot by slot: bounded, and short enough
/// that it holds nothing back in any way that matters.
pub(crate) const LINGER: Duration = Duration::from_micros(1);

/// How many `spin_loop`s apart a spinning side looks again: each look
/// pulls a cache line from the other side's core.
const SPINS_PER_LOOK: u32 = 8;

/// Looks until `done` says so, for at most `limit`: spinning for the first
/// [`SPIN_ONLY`], then yielding between looks. Whether `done` said so.
pub(crate) fn spin_for(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if done() {
            return true;
        }
        let spun = start.elapsed();
        if spun >= limit {
            return false;
        }
        if spun < SPIN_ONLY {
            for _ in 0..SPINS_PER_LOOK {
                std::hint::spin_loop();
            }
        } else {
            std::thread::yield_now();
        }
    }
}
