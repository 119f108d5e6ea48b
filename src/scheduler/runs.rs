//! A stage's runs: how many are running or queued, at most the stage's
//! cap; who asks for another, and how a run that ends never strands work
//! that came as it was ending. See `README.md`, "A stage's runs".

use std::sync::Weak;

use super::{Spawner, Ticket, Work};
use crate::sync::shim::{AtomicUsize, Ordering};
use crate::wake::Sleepers;

/// Runs queued are counted in the low half of the word, runs running in
/// the high half, so that "is there room for one more?" and "one more
/// queued" are one compare-and-swap.
const HALF: u32 = usize::BITS / 2;
const ONE_QUEUED: usize = 1;
const ONE_RUNNING: usize = 1 << HALF;
const QUEUED_MASK: usize = ONE_RUNNING - 1;

/// The runs of one stage.
pub(crate) struct Runs<'scope> {
    /// `running << HALF | queued`
    counts: AtomicUsize,
    cap: usize,
    /// Runs that wait in place for work rather than end (see
    /// [`wait_in_place`](Runs::wait_in_place)).
    waiting: Sleepers,
    /// Runs that wait for room in their results ring (see
    /// [`wait_for_room`](Runs::wait_for_room)): a bell of their own, so
    /// that a ring for work never wakes one of them instead of a run that
    /// waits for work, which would then sleep through it.
    waiting_for_room: Sleepers,
    /// Whether the stage's runs wait in place for work.
    wait_for_work: bool,
    work: Weak<dyn Work + 'scope>,
    spawner: Spawner<'scope>,
}

impl<'scope> Runs<'scope> {
    /// The runs of the stage `work` (the stage itself, while it is being
    /// built), at most `cap` at a time, made by `spawner`'s threads;
    /// `wait_for_work` if they wait in place for work rather than end.
    pub(crate) fn new(
        work: Weak<dyn Work + 'scope>,
        cap: usize,
        wait_for_work: bool,
        spawner: Spawner<'scope>,
    ) -> Self {
        Runs {
            counts: AtomicUsize::new(0),
            cap: cap.clamp(1, QUEUED_MASK),
            waiting: Sleepers::new(),
            waiting_for_room: Sleepers::new(),
            wait_for_work,
            work,
            spawner,
        }
    }

    /// Runs running now (those waiting in place included).
    pub(crate) fn running(&self) -> usize {
        self.counts.load(Ordering::Acquire) >> HALF
    }

    /// Runs asked for and not yet begun.
    pub(crate) fn queued(&self) -> usize {
        self.counts.load(Ordering::Acquire) & QUEUED_MASK
    }

    /// Asks for one more run, if the stage has fewer than its cap running
    /// or queued; whether it asked.
    pub(crate) fn request(&self) -> bool {
        let asked = self
            .counts
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |counts| {
                let total = (counts >> HALF) + (counts & QUEUED_MASK);
                (total < self.cap).then_some(counts + ONE_QUEUED)
            })
            .is_ok();
        if asked {
            self.spawner.submit(Ticket::Run(self.work.clone()));
        }
        asked
    }

    /// Asks for a helper: one more run, unless one is already queued. A
    /// run that finds more work than it takes calls this, so that threads
    /// join a stage one at a time, each as the last finds work for it.
    /// Whether a run is on its way: woken, queued before, or queued now
    /// (`false` if the stage's runs are all running, at its cap).
    pub(crate) fn request_helper(&self) -> bool {
        // A stage whose runs wait in place for work wakes one of those (the
        // ring orders the new work before its look at the sleepers); runs
        // of other stages never wait for work, so a look costs nothing.
        if self.wait_for_work && self.waiting.ring_one() {
            return true;
        }
        self.queued() > 0 || self.request()
    }

    /// A queued run begins (the stage's [`Work::run`] calls this first).
    pub(crate) fn begin(&self) {
        self.counts
            .fetch_add(ONE_RUNNING - ONE_QUEUED, Ordering::AcqRel);
    }

    /// A run ends: it found nothing to do. `has_work` is asked once more
    /// after the run stops counting, so that an event that came as it was
    /// ending, whose maker saw the run still running and so asked for no
    /// other, gets a run all the same. (Both this and
    /// [`notify`](Runs::notify) read-modify-write the counts, which orders
    /// them: either the maker of an event sees this run gone, or this look
    /// sees the event.)
    pub(crate) fn end(&self, has_work: impl Fn() -> bool) {
        self.counts.fetch_sub(ONE_RUNNING, Ordering::AcqRel);
        if has_work() {
            self.request();
        }
    }

    /// A run gives its thread back without having run out of work (its
    /// seat is wanted elsewhere): it ends, and another is queued in its
    /// place, behind the tickets already waiting.
    pub(crate) fn requeue(&self) {
        self.counts
            .fetch_sub(ONE_RUNNING - ONE_QUEUED, Ordering::AcqRel);
        self.spawner.submit(Ticket::Run(self.work.clone()));
    }

    /// Call after every event that gives the stage something to do (room
    /// made, the window moved on, a cancel): wakes a run that waits in
    /// place, or asks for a run if none is running or queued. Costs two
    /// read-modify-writes while runs are going.
    #[inline]
    pub(crate) fn notify(&self) {
        let counts = self.counts.fetch_add(0, Ordering::AcqRel);
        if !self.waiting.ring_one() && counts == 0 {
            self.request();
        }
    }

    /// Like [`notify`](Runs::notify), for an event every waiting run must
    /// see (the stream's end, a cancel), whatever it waits for.
    pub(crate) fn notify_all(&self) {
        let counts = self.counts.fetch_add(0, Ordering::AcqRel);
        self.waiting.ring_all();
        self.waiting_for_room.ring_all();
        if counts == 0 {
            self.request();
        }
    }

    /// Wakes the runs that wait for room in their results ring, asking for
    /// no new one: the consumer has made room in one ring, which only one
    /// of them may want.
    pub(crate) fn room_made(&self) {
        self.waiting_for_room.ring_all();
    }

    /// Waits until [`room_made`](Runs::room_made) (or a
    /// [`notify_all`](Runs::notify_all)) says there may be room, unless
    /// `full` says there is already: for a run whose results ring is full.
    /// Its seat is lent out while it sleeps.
    pub(crate) fn wait_for_room(&self, full: impl Fn() -> bool) {
        self.waiting_for_room.sleep_while(full, None);
    }

    /// Waits, instead of ending the run, until [`notify`](Runs::notify)
    /// says there may be work, unless `nothing_new` says there is already:
    /// for a run that keeps something of its thread's own (a
    /// `parallel_map_init` state). Its seat is lent out while it sleeps.
    pub(crate) fn wait_in_place(&self, nothing_new: impl Fn() -> bool) {
        self.waiting.sleep_while(nothing_new, None);
    }

    /// Hands `job` to a thread of the stage's set, to run there whatever
    /// becomes of the stage.
    pub(crate) fn submit_job(&self, job: Box<dyn FnOnce() + Send + 'scope>) {
        self.spawner.submit(Ticket::Job(job));
    }
}

impl std::fmt::Debug for Runs<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runs")
            .field("running", &self.running())
            .field("queued", &self.queued())
            .field("cap", &self.cap)
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;
    use std::time::{Duration, Instant};

    use super::*;
    use crate::scheduler::testing::counted_runs;

    fn eventually(what: &str, done: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done() {
            assert!(Instant::now() < deadline, "{what}: not within 10 s");
            std::thread::yield_now();
        }
    }

    /// A run waiting in place for work is woken by the news of work even
    /// while another run of the stage waits for room in its results ring.
    /// On one bell, the ring for work woke the run waiting for room (the
    /// last to sleep), which slept again, and the news was lost: a sticky
    /// stage hung (found by `tests/soak.rs`).
    #[test]
    fn news_of_work_never_goes_to_a_run_waiting_for_room() {
        let (runs, tickets) = counted_runs(2, true);
        let runs = Arc::new(runs);
        let (has_work, room) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicBool::new(false)),
        );
        let waiting_for_work = {
            let (runs, has_work) = (Arc::clone(&runs), Arc::clone(&has_work));
            std::thread::spawn(move || {
                while !has_work.load(Ordering::SeqCst) {
                    runs.wait_in_place(|| !has_work.load(Ordering::SeqCst));
                }
            })
        };
        eventually("the first run sleeps", || runs.waiting.count() == 1);
        let waiting_for_room = {
            let (runs, room) = (Arc::clone(&runs), Arc::clone(&room));
            std::thread::spawn(move || {
                while !room.load(Ordering::SeqCst) {
                    runs.wait_for_room(|| !room.load(Ordering::SeqCst));
                }
            })
        };
        eventually("the second run sleeps", || {
            runs.waiting.count() + runs.waiting_for_room.count() == 2
        });
        has_work.store(true, Ordering::SeqCst);
        runs.notify();
        eventually("the run waiting for work wakes", || {
            waiting_for_work.is_finished()
        });
        assert_eq!(tickets.count(), 0, "a run was asked for, not woken");
        room.store(true, Ordering::SeqCst);
        runs.room_made();
        waiting_for_room.join().unwrap();
        waiting_for_work.join().unwrap();
    }
}

/// Exhaustive checks of the protocol: run with
/// `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 cargo test --release --lib -- scheduler::runs`.
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::scheduler::testing::counted_runs;

    fn runs(
        cap: usize,
    ) -> (
        Runs<'static>,
        std::sync::Arc<crate::scheduler::testing::CountedTickets>,
    ) {
        counted_runs(cap, false)
    }

    /// A run ends as an event comes whose maker saw it running: the event
    /// still gets a run, asked for by one of the two (loom runs the two
    /// sides in every interleaving; a lost event would leave no ticket).
    #[test]
    fn an_event_as_the_last_run_ends_gets_a_run() {
        loom::model(|| {
            let (runs, counted) = runs(1);
            let runs = loom::sync::Arc::new(runs);
            assert!(runs.request());
            runs.begin();
            let event = loom::sync::Arc::new(AtomicUsize::new(0));
            let maker = {
                let (runs, event) = (runs.clone(), event.clone());
                loom::thread::spawn(move || {
                    event.store(1, Ordering::Release);
                    runs.notify();
                })
            };
            runs.end(|| event.load(Ordering::Acquire) == 1);
            maker.join().unwrap();
            assert!(counted.count() >= 2, "the event was lost");
        });
    }

    /// Runs never outnumber the cap, however requests race.
    #[test]
    fn requests_never_pass_the_cap() {
        loom::model(|| {
            let (runs, counted) = runs(1);
            let runs = loom::sync::Arc::new(runs);
            let other = {
                let runs = runs.clone();
                loom::thread::spawn(move || {
                    runs.request();
                })
            };
            runs.request();
            other.join().unwrap();
            assert_eq!(counted.count(), 1);
            assert_eq!(runs.queued(), 1);
        });
    }
}
