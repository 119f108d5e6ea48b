//! The bell a ring's producer sleeps on while the ring is full: a counting
//! word. See [the protocol](super#waking-a-producer-a-counting-word).

use super::Sleeper;
use super::crowding::Asleep;
use crate::sync::shim::{AtomicUsize, Ordering, thread};

/// Bit 0: the other side is asleep, or about to be.
const SLEEPING: usize = 1;
/// Bit 1: the ringing side has gone; nothing more will come.
const CLOSED: usize = 2;
/// The event count lives above the two flag bits.
const ONE: usize = 4;

/// An event counter that one thread may sleep on.
#[derive(Debug)]
pub(crate) struct ProducerBell {
    /// `count * ONE | CLOSED? | SLEEPING?`
    word: AtomicUsize,
    sleeper: Sleeper,
}

/// What a [`ProducerBell`] says when its sleeper looks at it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Reading {
    /// Events rung so far, wrapping at `usize::MAX / 4`: compare readings
    /// for equality only.
    pub(crate) count: usize,
    pub(crate) closed: bool,
}

impl ProducerBell {
    pub(crate) fn new() -> Self {
        ProducerBell {
            word: AtomicUsize::new(0),
            sleeper: Sleeper::new(),
        }
    }

    /// Counts `events` more and wakes the sleeper, if there is one.
    #[inline]
    pub(crate) fn ring(&self, events: usize) {
        let before = self
            .word
            .fetch_add(events.wrapping_mul(ONE), Ordering::AcqRel);
        if before & SLEEPING != 0 {
            self.sleeper.wake();
        }
    }

    /// Says nothing more will come, and wakes the sleeper, if there is one.
    pub(crate) fn close(&self) {
        let before = self.word.fetch_or(CLOSED, Ordering::AcqRel);
        if before & SLEEPING != 0 {
            self.sleeper.wake();
        }
    }

    /// The count and whether it is closed, as of now.
    pub(crate) fn read(&self) -> Reading {
        decode(self.word.load(Ordering::Acquire))
    }

    /// Sleeps until rung or closed, unless `keep_waiting` says otherwise for
    /// the reading taken as the sleeper announces itself. Spurious returns are
    /// possible; callers re-check their own state and call again.
    pub(crate) fn sleep_while(&self, keep_waiting: impl Fn(Reading) -> bool) {
        self.sleeper.register_current();
        let before = self.word.fetch_or(SLEEPING, Ordering::AcqRel);
        if keep_waiting(decode(before)) {
            // A ring after the `fetch_or` sees SLEEPING and unparks; an unpark
            // that comes before this park makes it return at once.
            let _asleep = Asleep::enter();
            thread::park();
        }
        self.word.fetch_and(!SLEEPING, Ordering::AcqRel);
    }
}

fn decode(word: usize) -> Reading {
    Reading {
        count: word / ONE,
        closed: word & CLOSED != 0,
    }
}

/// Exhaustive checks of the protocol: run with
/// `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 cargo test --release --lib -- wake::producer_bell`.
//
// The spawned thread is never joined: loom would deliver a late `unpark`
// (which the protocol allows) to a thread blocked in `join` as the end of
// that join. The model still runs every thread to its end.
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;
    use loom::sync::atomic::AtomicUsize;

    /// The producer's wait for room, as `ring.rs` runs it: read the bell,
    /// look at the ring (here `popped`, which the consumer stores before it
    /// reports), and sleep while the bell still reads the same. It never
    /// sleeps through the report that makes room: a lost wake-up would leave
    /// it parked, which loom reports as a deadlock.
    #[test]
    fn a_report_after_the_look_is_not_missed() {
        loom::model(|| {
            let bell = Arc::new(ProducerBell::new());
            let popped = Arc::new(AtomicUsize::new(0));
            let _consumer = {
                let (bell, popped) = (Arc::clone(&bell), Arc::clone(&popped));
                loom::thread::spawn(move || {
                    for count in 1..=2 {
                        popped.store(count, Ordering::Release);
                        bell.ring(1);
                    }
                })
            };
            loop {
                let seen = bell.read();
                if popped.load(Ordering::Acquire) == 2 {
                    break;
                }
                bell.sleep_while(|now| now == seen);
            }
        });
    }

    /// Closing wakes a sleeper too, and every event rung before the close is
    /// counted by then.
    #[test]
    fn close_is_not_missed() {
        loom::model(|| {
            let bell = Arc::new(ProducerBell::new());
            let _ringer = {
                let bell = Arc::clone(&bell);
                loom::thread::spawn(move || {
                    bell.ring(1);
                    bell.close();
                })
            };
            loop {
                let seen = bell.read();
                if seen.closed {
                    assert_eq!(seen.count, 1);
                    break;
                }
                bell.sleep_while(|now| now == seen);
            }
        });
    }
}
