//! The bell any number of threads sleep on, woken one at a time: idle
//! threads of the shared set, threads waiting for a core, and stage runs
//! that wait in place. Rung with one read-modify-write while nobody sleeps.
//! See [the protocol](super#waking-one-of-many-sleepers).

use std::time::Instant;

use super::cores::Asleep;
use crate::sync::Lock as _;
use crate::sync::shim::{AtomicUsize, Mutex, Ordering, Thread, thread};

/// Where threads sleep until one of them is needed.
#[derive(Debug)]
pub(crate) struct Sleepers {
    /// Threads asleep, or about to be: ringers read it with a plain load.
    count: AtomicUsize,
    /// Who to wake, in the order they went to sleep; a ringer takes the
    /// most recent (its cache is the warmest).
    waiting: Mutex<Vec<Thread>>,
}

/// How a [`Sleepers::sleep_while`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Woke {
    /// A ringer chose this thread: whatever it rang for is this thread's to
    /// look at (or to pass on with another ring, if it will not).
    Rung,
    /// It found something new before it slept, was woken for no reason, or
    /// its deadline passed.
    Otherwise,
}

impl Sleepers {
    pub(crate) fn new() -> Self {
        Sleepers {
            count: AtomicUsize::new(0),
            waiting: Mutex::new(Vec::new()),
        }
    }

    /// Wakes one sleeper, if there is one; call after every event a sleeper
    /// may be waiting for. Costs one read-modify-write of the count while
    /// nobody sleeps: it orders the event before the look at the count, as
    /// the sleeper's own read-modify-write of it orders its announcement
    /// before its look at the events, so one of the two sees the other.
    /// Whether it woke a thread.
    #[inline]
    pub(crate) fn ring_one(&self) -> bool {
        self.count.fetch_add(0, Ordering::AcqRel) != 0 && self.wake(1)
    }

    /// Wakes every sleeper: for events every one of them must see (a
    /// stream's end, a cancel).
    pub(crate) fn ring_all(&self) {
        if self.count.fetch_add(0, Ordering::AcqRel) != 0 {
            self.wake(usize::MAX);
        }
    }

    /// How many threads sleep here, or are about to; may be stale.
    #[inline]
    pub(crate) fn count(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    /// Sleeps until rung (or `deadline`, if any, passes), unless
    /// `nothing_new` (which looks for the events the caller waits for) says
    /// something has happened as the sleeper announces itself. Spurious
    /// returns are possible; callers look again.
    pub(crate) fn sleep_while(
        &self,
        nothing_new: impl Fn() -> bool,
        deadline: Option<Instant>,
    ) -> Woke {
        let me = thread::current();
        self.waiting.locked().push(me.clone());
        self.count.fetch_add(1, Ordering::AcqRel);
        if nothing_new() {
            let _asleep = Asleep::enter();
            park_until(deadline);
        }
        // Still listed: nobody chose this thread. Gone: a ringer took it, and
        // its unpark (perhaps still to come) makes some later park return
        // at once, which callers tolerate as spurious.
        let rung = {
            let mut waiting = self.waiting.locked();
            match waiting.iter().rposition(|t| t.id() == me.id()) {
                Some(at) => {
                    waiting.remove(at);
                    false
                }
                None => true,
            }
        };
        self.count.fetch_sub(1, Ordering::AcqRel);
        if rung { Woke::Rung } else { Woke::Otherwise }
    }

    /// Wakes up to `how_many` of the listed sleepers; whether it woke any.
    #[cold]
    fn wake(&self, how_many: usize) -> bool {
        let chosen: Vec<Thread> = {
            let mut waiting = self.waiting.locked();
            let keep = waiting.len().saturating_sub(how_many);
            waiting.split_off(keep)
        };
        for sleeper in &chosen {
            sleeper.unpark();
        }
        !chosen.is_empty()
    }
}

#[cfg(not(loom))]
fn park_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => {
            let left = deadline.saturating_duration_since(Instant::now());
            if !left.is_zero() {
                thread::park_timeout(left);
            }
        }
        None => thread::park(),
    }
}

/// Loom has no timed park: a model's sleeper sleeps until rung.
#[cfg(loom)]
fn park_until(_deadline: Option<Instant>) {
    thread::park();
}

/// Exhaustive checks of the protocol: run with
/// `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 cargo test --release --lib -- wake::sleepers`.
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;

    /// Two sleepers wait for one event each (a counter of events to take);
    /// a third thread makes two events and rings once per event. Each
    /// sleeper takes an event: a ring that woke nobody who could take it
    /// would leave one parked for ever, which loom reports as a deadlock.
    #[test]
    fn each_event_wakes_a_sleeper_that_takes_it() {
        loom::model(|| {
            let bell = Arc::new(Sleepers::new());
            let events = Arc::new(AtomicUsize::new(0));
            let take = |events: &AtomicUsize| {
                events
                    .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
                    .is_ok()
            };
            let sleepers: Vec<_> = (0..2)
                .map(|_| {
                    let (bell, events) = (Arc::clone(&bell), Arc::clone(&events));
                    loom::thread::spawn(move || {
                        while !take(&events) {
                            let woke =
                                bell.sleep_while(|| events.load(Ordering::Acquire) == 0, None);
                            // Rung, it owes the ringer a look: the loop takes it.
                            let _ = woke;
                        }
                    })
                })
                .collect();
            for _ in 0..2 {
                events.fetch_add(1, Ordering::AcqRel);
                bell.ring_one();
            }
            for sleeper in sleepers {
                sleeper.join().unwrap();
            }
        });
    }

    /// Ringing all wakes every sleeper of an event all of them must see.
    #[test]
    fn ring_all_wakes_everyone() {
        loom::model(|| {
            let bell = Arc::new(Sleepers::new());
            let ended = Arc::new(AtomicUsize::new(0));
            let sleepers: Vec<_> = (0..2)
                .map(|_| {
                    let (bell, ended) = (Arc::clone(&bell), Arc::clone(&ended));
                    loom::thread::spawn(move || {
                        while ended.load(Ordering::Acquire) == 0 {
                            bell.sleep_while(|| ended.load(Ordering::Acquire) == 0, None);
                        }
                    })
                })
                .collect();
            ended.store(1, Ordering::Release);
            bell.ring_all();
            for sleeper in sleepers {
                sleeper.join().unwrap();
            }
        });
    }
}
