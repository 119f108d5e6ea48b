//! The bell a consumer sleeps on: a flag word, rung with a plain load and
//! no locked instruction. See [the protocol](super#waking-a-consumer-a-flag-and-an-asymmetric-fence-pair).

use super::Sleeper;
use super::cores::Asleep;
use super::fence::FencePair;
use crate::sync::shim::{AtomicUsize, Ordering, fence, thread};

/// The consumer is asleep, or about to be.
const SLEEPING: usize = 1;
/// The producer has gone; nothing more will come.
const CLOSED: usize = 2;
/// The consumer has gone; nothing more is wanted.
const HUNG_UP: usize = 4;

/// Where the consumer of one ring sleeps.
#[derive(Debug)]
pub(crate) struct ConsumerBell {
    /// `HUNG_UP? | CLOSED? | SLEEPING?`: one word, which the producer reads
    /// at every push and the consumer writes only to sleep or leave.
    word: AtomicUsize,
    sleeper: Sleeper,
    fences: FencePair,
}

impl ConsumerBell {
    pub(crate) fn new() -> Self {
        ConsumerBell {
            word: AtomicUsize::new(0),
            sleeper: Sleeper::new(),
            fences: FencePair::new(),
        }
    }

    /// Wakes the consumer if it sleeps; call after every event it can see
    /// for itself (a push). Costs a plain load while nobody sleeps.
    #[inline]
    pub(crate) fn ring(&self) {
        self.fences.light();
        if self.word.load(Ordering::Relaxed) & SLEEPING != 0 {
            self.wake();
        }
    }

    /// Says nothing more will come, and wakes the consumer if it sleeps.
    pub(crate) fn close(&self) {
        let before = self.word.fetch_or(CLOSED, Ordering::AcqRel);
        if before & SLEEPING != 0 {
            self.wake();
        }
    }

    /// Says the consumer has gone, so the producer can stop.
    pub(crate) fn hang_up(&self) {
        self.word.fetch_or(HUNG_UP, Ordering::Release);
    }

    /// Whether [`hang_up`](ConsumerBell::hang_up) has been called; may answer
    /// late, never wrongly "yes". A plain load of a line the producer reads
    /// at every push anyway.
    #[inline]
    pub(crate) fn hung_up(&self) -> bool {
        self.word.load(Ordering::Relaxed) & HUNG_UP != 0
    }

    /// Whether [`close`](ConsumerBell::close) has been called. Every event before
    /// it is visible once this says `true`.
    #[inline]
    pub(crate) fn is_closed(&self) -> bool {
        self.word.load(Ordering::Acquire) & CLOSED != 0
    }

    /// Sleeps until rung or closed, unless `nothing_new` (which looks at the
    /// ring) says there is something to take as the consumer announces
    /// itself. Spurious returns are possible; callers look again and call
    /// again.
    pub(crate) fn sleep_while(&self, nothing_new: impl Fn() -> bool) {
        self.sleeper.register_current();
        let before = self.word.fetch_or(SLEEPING, Ordering::AcqRel);
        let ordered = self.fences.heavy();
        if before & CLOSED == 0 && nothing_new() {
            if ordered {
                // A ring whose load comes after the heavy fence sees SLEEPING
                // and unparks; an unpark before this park makes it return.
                let _asleep = Asleep::enter();
                thread::park();
            } else {
                // Without the fence a ring may miss us: look again soon.
                super::fence::nap_unfenced();
            }
        }
        self.word.fetch_and(!SLEEPING, Ordering::AcqRel);
    }

    #[cold]
    fn wake(&self) {
        // The flag was read with a plain load: this fence makes it
        // synchronise with the sleeper's announcement, and so with its
        // storing of the handle below, before the handle is read.
        fence(Ordering::Acquire);
        self.sleeper.wake();
    }
}

/// Exhaustive checks of the protocol: run with
/// `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 cargo test --release --lib -- wake::consumer_bell`.
//
// The spawned thread is never joined: loom would deliver a late `unpark`
// (which the protocol allows) to a thread blocked in `join` as the end of
// that join. The model still runs every thread to its end.
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;
    use loom::sync::atomic::AtomicUsize;

    /// `ring.rs` reduced to counters: a ring of `capacity` slots whose head
    /// (`popped`) the consumer stores at every pop, with pops reported every
    /// `report_every` and before the consumer waits. The producer, which
    /// in `ring.rs` ends its run on a full ring and gets another when a
    /// report comes (see `scheduler::Runs`), here sleeps on a bell of its
    /// own until one does.
    struct Channel {
        capacity: usize,
        report_every: usize,
        pushed: AtomicUsize,
        popped: AtomicUsize,
        bell: ConsumerBell,
        reports: super::super::Sleepers,
    }

    impl Channel {
        fn new(capacity: usize, report_every: usize) -> Self {
            Channel {
                capacity,
                report_every,
                pushed: AtomicUsize::new(0),
                popped: AtomicUsize::new(0),
                bell: ConsumerBell::new(),
                reports: super::super::Sleepers::new(),
            }
        }

        /// Pushes item number `count` (from 1) once there is room, as
        /// `RingSender::send` does; `false` if the receiver has gone.
        fn send(&self, count: usize) -> bool {
            let full = || count - self.popped.load(Ordering::Acquire) > self.capacity;
            loop {
                if self.bell.hung_up() {
                    return false;
                }
                if !full() {
                    break;
                }
                self.reports
                    .sleep_while(|| full() && !self.bell.hung_up(), None);
            }
            self.pushed.store(count, Ordering::Release);
            self.bell.ring();
            true
        }

        /// Takes `wanted` items (or all, if the sender closes first), as
        /// `RingReceiver` does; how many it took.
        fn receive(&self, wanted: usize) -> usize {
            let (mut taken, mut unreported) = (0, 0);
            while taken < wanted {
                if self.pushed.load(Ordering::Acquire) > taken {
                    taken += 1;
                    self.popped.store(taken, Ordering::Release);
                    unreported += 1;
                    if unreported >= self.report_every {
                        self.reports.ring_one();
                        unreported = 0;
                    }
                    continue;
                }
                if unreported > 0 {
                    self.reports.ring_one();
                    unreported = 0;
                }
                if self.bell.is_closed() {
                    if self.pushed.load(Ordering::Acquire) == taken {
                        break;
                    }
                    continue;
                }
                self.bell
                    .sleep_while(|| self.pushed.load(Ordering::Acquire) == taken);
            }
            taken
        }
    }

    /// A worker thread that sends items `1..=items` while the receiver is
    /// there, then closes the channel if `then_close`.
    fn spawn_sender(channel: &Arc<Channel>, items: usize, then_close: bool) {
        let channel = Arc::clone(channel);
        loom::thread::spawn(move || {
            let mut count = 1;
            while count <= items && channel.send(count) {
                count += 1;
            }
            if then_close {
                channel.bell.close();
            }
        });
    }

    /// A producer that pushes and then blocks for ever (here: ends without
    /// closing) never strands an item: the consumer, sleeping whenever it has
    /// seen everything, gets both items in every interleaving. A lost
    /// wake-up would leave it parked, which loom reports as a deadlock.
    #[test]
    fn no_item_is_stranded_without_a_close() {
        loom::model(|| {
            let channel = Arc::new(Channel::new(2, 2));
            spawn_sender(&channel, 2, false);
            assert_eq!(channel.receive(2), 2);
        });
    }

    /// The end of the stream is never missed either, and every item pushed
    /// before the close is taken once the close is seen.
    #[test]
    fn close_wakes_the_consumer_after_every_item() {
        loom::model(|| {
            let channel = Arc::new(Channel::new(1, 1));
            spawn_sender(&channel, 1, true);
            assert_eq!(channel.receive(usize::MAX), 1);
        });
    }

    /// Both directions at once: a ring of one slot and three items, so the
    /// producer sleeps on `reports` (the stand-in for a run that ends on a
    /// full ring) while the ring is full and the consumer on the
    /// `ConsumerBell` while it is empty. Neither sleeps for ever, and every
    /// item arrives.
    #[test]
    fn bounded_hand_off_never_deadlocks() {
        loom::model(|| {
            let channel = Arc::new(Channel::new(1, 1));
            spawn_sender(&channel, 3, true);
            assert_eq!(channel.receive(usize::MAX), 3);
        });
    }

    /// Pops reported two at a time, and before the consumer waits: neither
    /// side sleeps for ever, and every item arrives.
    #[test]
    fn batched_reports_never_deadlock() {
        loom::model(|| {
            let channel = Arc::new(Channel::new(2, 2));
            spawn_sender(&channel, 3, true);
            assert_eq!(channel.receive(usize::MAX), 3);
        });
    }

    /// A consumer that hangs up after one item stops a producer that is
    /// pushing, or asleep waiting for room: it never sleeps for ever.
    #[test]
    fn hanging_up_stops_the_producer() {
        loom::model(|| {
            let channel = Arc::new(Channel::new(1, 1));
            spawn_sender(&channel, 3, true);
            assert_eq!(channel.receive(1), 1);
            // What `RingReceiver::drop` does: hang up, and say so as room.
            channel.bell.hang_up();
            channel.reports.ring_all();
        });
    }
}
