//! The bell a pool's workers sleep on: any number of sleepers, rung with a
//! plain load while none sleeps. See [the protocol](super#waking-a-pools-workers-many-sleepers).

use super::crowding::Asleep;
use super::fence::FencePair;
use crate::sync::shim::{AtomicUsize, Condvar, Mutex, Ordering, lock};

/// Where the workers of one pool sleep when there is nothing for them to do.
#[derive(Debug)]
pub(crate) struct WorkersBell {
    /// Threads asleep, or about to be: ringers read it with a plain load.
    sleepers: AtomicUsize,
    /// How many times the bell has woken its sleepers; a sleeper waits until
    /// this moves on from what it read as it announced itself.
    wake_ups: Mutex<u64>,
    woken: Condvar,
    fences: FencePair,
}

impl WorkersBell {
    pub(crate) fn new() -> Self {
        WorkersBell {
            sleepers: AtomicUsize::new(0),
            wake_ups: Mutex::new(0),
            woken: Condvar::new(),
            fences: FencePair::new(),
        }
    }

    /// Wakes every sleeper, if there is one; call after every event a
    /// sleeper may be waiting for. Costs a plain load while nobody sleeps.
    #[inline]
    pub(crate) fn ring(&self) {
        self.fences.light();
        if self.sleepers.load(Ordering::Relaxed) != 0 {
            self.wake_all();
        }
    }

    /// Sleeps until rung, unless `nothing_new` (which looks for the events
    /// the caller waits for) says something has happened as the sleeper
    /// announces itself. Spurious returns are possible; callers look again.
    pub(crate) fn sleep_while(&self, nothing_new: impl Fn() -> bool) {
        // Held from before the announcement until the wait releases it, so
        // a ringer that sees the announcement can only bump the count once
        // this thread waits, or after it has left.
        let mut wake_ups = lock(&self.wake_ups);
        let seen = *wake_ups;
        self.sleepers.fetch_add(1, Ordering::AcqRel);
        let ordered = self.fences.heavy();
        if nothing_new() {
            if ordered {
                let _asleep = Asleep::enter();
                while *wake_ups == seen {
                    wake_ups = self
                        .woken
                        .wait(wake_ups)
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                }
            } else {
                drop(wake_ups);
                super::fence::nap_unfenced();
            }
        }
        self.sleepers.fetch_sub(1, Ordering::AcqRel);
    }

    #[cold]
    fn wake_all(&self) {
        *lock(&self.wake_ups) += 1;
        self.woken.notify_all();
    }
}

/// Exhaustive checks of the protocol: run with
/// `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 cargo test --release --lib -- wake::workers_bell`.
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;

    /// Two sleepers wait for an event (a counter reaching 1) that a third
    /// thread makes and rings for. Neither sleeps through it: a lost
    /// wake-up would leave one parked, which loom reports as a deadlock.
    #[test]
    fn no_sleeper_misses_the_event() {
        loom::model(|| {
            let bell = Arc::new(WorkersBell::new());
            let events = Arc::new(AtomicUsize::new(0));
            let sleepers: Vec<_> = (0..2)
                .map(|_| {
                    let (bell, events) = (Arc::clone(&bell), Arc::clone(&events));
                    loom::thread::spawn(move || {
                        while events.load(Ordering::Acquire) == 0 {
                            bell.sleep_while(|| events.load(Ordering::Acquire) == 0);
                        }
                    })
                })
                .collect();
            events.store(1, Ordering::Release);
            bell.ring();
            for sleeper in sleepers {
                sleeper.join().unwrap();
            }
        });
    }
}
