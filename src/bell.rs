//! The wake-up protocol between the two ends of a hand-off.
//!
//! One side counts events (items pushed, or items popped) in a [`Bell`];
//! the other side sleeps on it when it cannot go on. Everything that decides
//! whether to sleep or to wake lives in one atomic word, so the decision
//! needs no fences: read-modify-writes of one location are totally ordered,
//! and in that order either the sleeper's "I am going to sleep" comes first,
//! and the ringer sees it and wakes it, or the ringer's event comes first,
//! and the sleeper sees it and does not sleep. A lost wake-up, which would be
//! a deadlock, cannot happen; the loom model at the bottom checks this over
//! every interleaving.

use crate::sync::{AtomicUsize, Mutex, Ordering, Thread, lock, thread};

/// Bit 0: the other side is asleep, or about to be.
const SLEEPING: usize = 1;
/// Bit 1: the ringing side has gone; nothing more will come.
const CLOSED: usize = 2;
/// The event count lives above the two flag bits.
const ONE: usize = 4;

/// Counts wrap at this many events plus one (`usize::MAX / 4`): both sides
/// must keep their own counts with [`count_after`] to compare them.
const COUNT_MASK: usize = usize::MAX / ONE;

/// `count` plus `events`, wrapping as a bell's count does.
pub(crate) fn count_after(count: usize, events: usize) -> usize {
    count.wrapping_add(events) & COUNT_MASK
}

/// How far `later` is ahead of `earlier`, two counts kept with [`count_after`].
pub(crate) fn count_distance(later: usize, earlier: usize) -> usize {
    later.wrapping_sub(earlier) & COUNT_MASK
}

/// An event counter that one thread may sleep on.
#[derive(Debug)]
pub(crate) struct Bell {
    /// `count * ONE | CLOSED? | SLEEPING?`
    word: AtomicUsize,
    /// Whom to wake; set by the sleeper before it announces itself.
    sleeper: Mutex<Option<Thread>>,
}

/// What a [`Bell`] says when its sleeper looks at it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Reading {
    /// Events rung so far, wrapping as [`count_after`] does.
    pub(crate) count: usize,
    pub(crate) closed: bool,
}

impl Bell {
    pub(crate) fn new() -> Self {
        Bell {
            word: AtomicUsize::new(0),
            sleeper: Mutex::new(None),
        }
    }

    /// Counts `events` more and wakes the sleeper, if there is one.
    #[inline]
    pub(crate) fn ring(&self, events: usize) {
        let before = self
            .word
            .fetch_add(events.wrapping_mul(ONE), Ordering::AcqRel);
        if before & SLEEPING != 0 {
            self.wake();
        }
    }

    /// Says nothing more will come, and wakes the sleeper, if there is one.
    pub(crate) fn close(&self) {
        let before = self.word.fetch_or(CLOSED, Ordering::AcqRel);
        if before & SLEEPING != 0 {
            self.wake();
        }
    }

    /// Whether [`close`](Bell::close) has been called; may lag a little
    /// behind it, so use it only where a late answer is harmless.
    #[inline]
    pub(crate) fn looks_closed(&self) -> bool {
        self.word.load(Ordering::Relaxed) & CLOSED != 0
    }

    /// The count and whether it is closed, as of now.
    pub(crate) fn read(&self) -> Reading {
        decode(self.word.load(Ordering::Acquire))
    }

    /// Sleeps until rung or closed, unless `keep_waiting` says otherwise for
    /// the reading taken as the sleeper announces itself. Spurious returns are
    /// possible; callers re-check their own state and call again.
    pub(crate) fn sleep_while(&self, keep_waiting: impl Fn(Reading) -> bool) {
        *lock(&self.sleeper) = Some(thread::current());
        let before = self.word.fetch_or(SLEEPING, Ordering::AcqRel);
        if keep_waiting(decode(before)) {
            // A ring after the `fetch_or` sees SLEEPING and unparks; an unpark
            // that comes before this park makes it return at once.
            thread::park();
        }
        self.word.fetch_and(!SLEEPING, Ordering::AcqRel);
    }

    #[cold]
    fn wake(&self) {
        if let Some(sleeper) = lock(&self.sleeper).as_ref() {
            sleeper.unpark();
        }
    }
}

fn decode(word: usize) -> Reading {
    Reading {
        count: word / ONE,
        closed: word & CLOSED != 0,
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// A bell's count and the counts its two sides keep wrap at the same
    /// point, so "nothing new" is still recognised after 2^62 (or, on a
    /// 32-bit target, 2^30) events.
    #[test]
    fn counts_wrap_together() {
        let bell = Bell::new();
        bell.word.store(COUNT_MASK * ONE, Ordering::Relaxed);
        let seen = COUNT_MASK;
        assert_eq!(bell.read().count, seen);
        bell.ring(1);
        let seen = count_after(seen, 1);
        assert_eq!((seen, bell.read().count), (0, 0));
        assert_eq!(count_distance(2, COUNT_MASK), 3);
    }
}

/// Exhaustive checks of the protocol: run with
/// `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 cargo test --release --lib bell`.
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;

    /// A consumer that sleeps whenever it has seen every event never misses
    /// one: it ends having seen them all, in every interleaving.
    #[test]
    fn no_lost_wake_up() {
        loom::model(|| {
            let bell = Arc::new(Bell::new());
            let ringer = {
                let bell = Arc::clone(&bell);
                loom::thread::spawn(move || {
                    bell.ring(1);
                    bell.ring(1);
                    bell.close();
                })
            };
            let mut seen = 0;
            loop {
                let reading = bell.read();
                if reading.count > seen {
                    seen = reading.count;
                } else if reading.closed {
                    break;
                } else {
                    bell.sleep_while(|now| now.count == seen && !now.closed);
                }
            }
            assert_eq!(seen, 2);
            ringer.join().unwrap();
        });
    }

    /// Both directions at once, as a hand-off uses them: a producer that
    /// sleeps when two items are outstanding, a consumer that sleeps when none are.
    #[test]
    fn bounded_hand_off_never_deadlocks() {
        loom::model(|| {
            let pushed = Arc::new(Bell::new());
            let popped = Arc::new(Bell::new());
            let producer = {
                let (pushed, popped) = (Arc::clone(&pushed), Arc::clone(&popped));
                loom::thread::spawn(move || {
                    for sent in 0..3 {
                        while sent - popped.read().count >= 2 {
                            popped.sleep_while(|now| sent - now.count >= 2);
                        }
                        pushed.ring(1);
                    }
                    pushed.close();
                })
            };
            let mut taken = 0;
            loop {
                let reading = pushed.read();
                if reading.count > taken {
                    taken += 1;
                    popped.ring(1);
                } else if reading.closed {
                    break;
                } else {
                    pushed.sleep_while(|now| now.count == taken && !now.closed);
                }
            }
            assert_eq!(taken, 3);
            producer.join().unwrap();
        });
    }
}
