//! A set of threads that run tickets: the process-wide one, whose threads
//! leave after a keepalive, or one inside a scope, whose threads leave when
//! its stage has ended. See `README.md`, "Threads"; the bells its threads
//! park on are in [`crate::wake`].

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::thread::Scope;
use std::time::{Duration, Instant};

use super::{Spawner, Submit, Ticket, monitor};
use crate::launch::{Detached, Launch};
use crate::sync::Lock as _;
use crate::thread_name;
use crate::wake::cores::{self, CoreBudget, Seat};
use crate::wake::spin::yield_for;
use crate::wake::{Sleepers, Woke};

/// How long a thread that has run out of tickets keeps looking for more
/// before it sleeps. Waking a sleeping thread costs tens of microseconds
/// here (a futex call, then a core to run on), so a thread that finishes a
/// short pipeline is still awake for the next one a moment later; a
/// thread that finds nothing in this while costs no more than the wake-up
/// it saves. Only one idle thread looks at a time, and it yields its core
/// between looks, so that it takes nothing from threads with work.
const IDLE_SPIN: Duration = Duration::from_micros(50);

/// A set of threads, and the tickets waiting for them.
pub(crate) struct Workers<'scope, L> {
    queue: Mutex<VecDeque<Ticket<'scope>>>,
    /// Tickets in the queue: read without the lock by threads that spin.
    queued: AtomicUsize,
    /// Idle threads asleep, waiting for tickets.
    idle: Sleepers,
    /// Idle threads awake, looking for tickets before they sleep.
    spinning: AtomicUsize,
    /// Threads waiting for a seat, with tickets queued for them.
    seat_waiting: AtomicUsize,
    /// Threads launched that have not yet looked at the queue: each will,
    /// so a ticket queued meanwhile needs no thread of its own. Without
    /// this count, a burst of stages starting together launched a thread
    /// per ticket, which then stayed idle for the keepalive (and, with
    /// glibc, kept a malloc arena each: fingertips peaked 60 MB higher).
    starting: AtomicUsize,
    /// Threads alive.
    threads: AtomicUsize,
    /// Stages started on this set and not yet ended: while there are any,
    /// its last thread stays, so that a stage never depends on a thread
    /// being started later.
    stages: AtomicUsize,
    /// The set will get no more tickets: its threads leave once idle.
    closed: AtomicBool,
    /// How long an idle thread waits for a ticket before it leaves; `None`
    /// for a scope's set, whose threads stay until it is closed.
    keepalive: Option<Duration>,
    budget: &'static CoreBudget,
    launcher: L,
    /// The set itself, for the threads it starts to hold.
    me: Weak<Self>,
}

/// The process-wide set, started on first use.
pub(crate) fn global() -> Spawner<'static> {
    static GLOBAL: OnceLock<Arc<Workers<'static, Detached>>> = OnceLock::new();
    let global = GLOBAL.get_or_init(|| {
        let config = super::config::get();
        Workers::new(Detached, cores::global(), Some(config.keepalive))
    });
    Arc::clone(global) as Spawner<'static>
}

/// A set of threads inside `scope`, for one stage that borrows: its threads
/// leave once the stage has ended, and take seats of the process's budget.
pub(crate) fn scoped<'scope>(scope: &'scope Scope<'scope, '_>) -> Spawner<'scope> {
    Workers::new(scope, cores::global(), None) as Spawner<'scope>
}

impl<'scope, L: Launch<'scope> + Send + Sync + 'scope> Workers<'scope, L> {
    pub(crate) fn new(
        launcher: L,
        budget: &'static CoreBudget,
        keepalive: Option<Duration>,
    ) -> Arc<Self> {
        Arc::new_cyclic(|me| Workers {
            queue: Mutex::new(VecDeque::new()),
            queued: AtomicUsize::new(0),
            idle: Sleepers::new(),
            spinning: AtomicUsize::new(0),
            seat_waiting: AtomicUsize::new(0),
            starting: AtomicUsize::new(0),
            threads: AtomicUsize::new(0),
            stages: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            keepalive,
            budget,
            launcher,
            me: me.clone(),
        })
    }

    /// Threads alive now.
    pub(crate) fn threads(&self) -> usize {
        self.threads.load(Ordering::SeqCst)
    }

    /// No more tickets will come: threads leave once they run out.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.idle.ring_all();
    }

    fn pop(&self) -> Option<Ticket<'scope>> {
        let mut queue = self.queue.locked();
        let ticket = queue.pop_front();
        if ticket.is_some() {
            self.queued.fetch_sub(1, Ordering::SeqCst);
        }
        ticket
    }

    /// Starts one more thread; whether the operating system gave one.
    fn spawn(&self) -> bool {
        let Some(workers) = self.me.upgrade() else {
            return false;
        };
        self.threads.fetch_add(1, Ordering::SeqCst);
        self.starting.fetch_add(1, Ordering::SeqCst);
        let _idle = thread_name::IdleForAMoment::enter();
        let started = self
            .launcher
            .spawn(thread_name::IDLE.to_owned(), move || workers.thread_main());
        if started.is_err() {
            self.starting.fetch_sub(1, Ordering::SeqCst);
            self.threads.fetch_sub(1, Ordering::SeqCst);
        }
        started.is_ok()
    }

    /// What each thread of the set runs until it leaves.
    fn thread_main(self: Arc<Self>) {
        let seat = Arc::new(Seat::new());
        monitor::watch_seat(&seat);
        self.budget.on_seat_wanted(monitor::wanted);
        cores::attach(Arc::clone(&seat), self.budget);
        // From here on it looks at the queue before it sleeps (as one
        // spinning does): see `wake_one`.
        self.starting.fetch_sub(1, Ordering::SeqCst);
        loop {
            if self.queued.load(Ordering::SeqCst) > 0 {
                self.run_or_wait_for_a_seat(&seat);
                continue;
            }
            if !self.idle_until_a_ticket() {
                break;
            }
        }
    }

    /// Runs a queued ticket if a seat is free; otherwise waits for one.
    fn run_or_wait_for_a_seat(&self, seat: &Seat) {
        if self.budget.try_take(seat) {
            if let Some(ticket) = self.pop() {
                // One thread per ticket: if more are queued, make sure the
                // next has a thread that will look, even with no seat free
                // (one waiting for a seat). The submit that queued it may
                // have counted on this thread, as starting or spinning, and
                // this ticket may keep it for long: a stage's consumer that
                // waits for the very stage queued behind it would wait for
                // ever.
                if self.queued.load(Ordering::SeqCst) > 0 {
                    let _ = self.wake_one() || self.spawn();
                }
                ticket.run();
                thread_name::set_idle();
            }
            self.budget.give_up(seat);
            return;
        }
        self.seat_waiting.fetch_add(1, Ordering::SeqCst);
        // The budget tells the monitor, which then sees it as a waiter.
        let woke = self
            .budget
            .wait_for_room(|| self.queued.load(Ordering::SeqCst) > 0);
        self.seat_waiting.fetch_sub(1, Ordering::SeqCst);
        if woke == Woke::Rung && self.queued.load(Ordering::SeqCst) == 0 {
            // Chosen for a free seat this set has no ticket for: another
            // set's thread may want it.
            self.budget.pass_on();
        }
    }

    /// Looks for a ticket for a moment, then sleeps until one comes or the
    /// keepalive passes; `false` if the thread should leave.
    fn idle_until_a_ticket(&self) -> bool {
        if self
            .spinning
            .compare_exchange(0, 1, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            let found = yield_for(IDLE_SPIN, || {
                self.queued.load(Ordering::SeqCst) > 0 || self.closed.load(Ordering::Relaxed)
            });
            self.spinning.fetch_sub(1, Ordering::SeqCst);
            if found && self.queued.load(Ordering::SeqCst) > 0 {
                return true;
            }
        }
        let deadline = self.keepalive.map(|keepalive| Instant::now() + keepalive);
        loop {
            let woke = self.idle.sleep_while(
                || self.queued.load(Ordering::SeqCst) == 0 && !self.closed.load(Ordering::SeqCst),
                deadline,
            );
            if self.queued.load(Ordering::SeqCst) > 0 {
                return true;
            }
            let expired = deadline.is_some_and(|deadline| Instant::now() >= deadline);
            if (expired || self.closed.load(Ordering::SeqCst)) && self.may_leave() {
                return false;
            }
            if woke == Woke::Rung && self.queued.load(Ordering::SeqCst) == 0 {
                // Chosen for a ticket another thread took first: nothing
                // is owed, but a ring for a ticket still queued is.
                continue;
            }
        }
    }

    /// Whether an idle thread may leave: never the last one while a stage
    /// is alive (unless the set is closed), and never with tickets queued.
    fn may_leave(&self) -> bool {
        let threads = &self.threads;
        let left = threads.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |alive| {
            let last_needed = alive == 1
                && self.stages.load(Ordering::SeqCst) > 0
                && !self.closed.load(Ordering::SeqCst);
            (!last_needed).then(|| alive - 1)
        });
        if left.is_err() {
            return false;
        }
        // Gone from the count: a ticket queued since must find a thread.
        if self.queued.load(Ordering::SeqCst) > 0 {
            self.threads.fetch_add(1, Ordering::SeqCst);
            return false;
        }
        true
    }

    /// Makes sure a thread will pick up a queued ticket: one starting or
    /// spinning will, or wake a sleeper, or one waiting for a seat will;
    /// `false` if none will, and the caller must start one.
    /// The counts are read with read-modify-writes, as the threads change
    /// them: a thread that stops spinning (or waiting) after this look
    /// then sees the ticket in its own next look, one that stopped before
    /// it is not counted.
    fn wake_one(&self) -> bool {
        self.starting.fetch_add(0, Ordering::SeqCst) > 0
            || self.spinning.fetch_add(0, Ordering::SeqCst) > 0
            || self.idle.ring_one()
            || self.seat_waiting.fetch_add(0, Ordering::SeqCst) > 0
    }
}

impl<'scope, L: Launch<'scope> + Send + Sync + 'scope> Submit<'scope> for Workers<'scope, L> {
    fn submit(&self, ticket: Ticket<'scope>) {
        {
            let mut queue = self.queue.locked();
            queue.push_back(ticket);
            self.queued.fetch_add(1, Ordering::SeqCst);
        }
        if !self.wake_one() && !self.spawn() && self.threads() == 0 {
            // No thread, and none to be had: the ticket would wait for ever.
            // Run it here rather than hang; see `stage_started`, which makes
            // this rare.
            if let Some(ticket) = self.pop() {
                ticket.run();
            }
        }
    }

    fn stage_started(&self) -> bool {
        self.stages.fetch_add(1, Ordering::SeqCst);
        if self.threads() > 0 || self.spawn() {
            return true;
        }
        self.stages.fetch_sub(1, Ordering::SeqCst);
        false
    }

    fn stage_ended(&self) {
        let before = self.stages.fetch_sub(1, Ordering::SeqCst);
        if before == 1 && self.keepalive.is_none() {
            // A scope's set serves one stage: its threads may go now.
            self.close();
        }
    }
}

impl<'scope, L> std::fmt::Debug for Workers<'scope, L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workers")
            .field("threads", &self.threads.load(Ordering::Relaxed))
            .field("queued", &self.queued.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// A set for tests whose launcher starts `starts` threads and then refuses,
/// as an operating system out of threads, or a target without them, does.
#[cfg(all(test, not(loom)))]
pub(crate) fn refusing_after(starts: usize) -> Spawner<'static> {
    use crate::launch::refusing::Refusing;
    let budget = Box::leak(Box::new(CoreBudget::new(cores::cores())));
    Workers::new(
        Refusing::after(starts),
        budget,
        Some(Duration::from_millis(100)),
    ) as Spawner<'static>
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, mpsc};
    use std::time::Duration;

    use super::*;
    use crate::launch::gated::Gated;

    /// Tickets queued in a burst while the set's first thread is still
    /// starting need no thread each: that one will look at the queue, and
    /// starts the next itself if it finds more work and a free seat.
    /// (Before, a burst of stages starting together made a thread per
    /// ticket, each then idle for the keepalive.)
    #[test]
    fn a_burst_of_tickets_waits_for_the_thread_already_starting() {
        let gate = Gated::closed();
        let seats = 2;
        let budget = Box::leak(Box::new(CoreBudget::new(seats)));
        let set = Workers::new(gate, budget, Some(Duration::from_millis(50)));
        let ran = Arc::new(AtomicUsize::new(0));
        let (done, all_done) = mpsc::channel();
        let tickets = 8;
        for _ in 0..tickets {
            let (ran, done) = (Arc::clone(&ran), done.clone());
            set.submit(Ticket::Job(Box::new(move || {
                if ran.fetch_add(1, Ordering::SeqCst) + 1 == tickets {
                    done.send(()).unwrap();
                }
            })));
        }
        assert_eq!(set.threads(), 1, "threads started for one burst");
        gate.open();
        all_done
            .recv_timeout(Duration::from_secs(10))
            .expect("every ticket ran");
        assert!(set.threads() <= seats + 1, "{} threads", set.threads());
    }

    /// The first of two tickets queued in a burst waits, its seat lent, for
    /// the second to run (a stage's consumer waiting for the stage queued
    /// behind it): the thread that took the first makes sure another will
    /// take the second, though no seat was free when it looked.
    #[test]
    fn a_ticket_queued_behind_one_that_waits_for_it_still_runs() {
        let gate = Gated::closed();
        let budget = Box::leak(Box::new(CoreBudget::new(1)));
        let set = Workers::new(gate, budget, Some(Duration::from_millis(50)));
        let (second_ran, wait_for_second) = mpsc::channel();
        let (first_done, wait_for_first) = mpsc::channel();
        set.submit(Ticket::Job(Box::new(move || {
            let _asleep = cores::Asleep::enter();
            let got = wait_for_second.recv_timeout(Duration::from_secs(10));
            first_done.send(got.is_ok()).unwrap();
        })));
        set.submit(Ticket::Job(Box::new(move || {
            second_ran.send(()).unwrap();
        })));
        gate.open();
        let first_saw_second = wait_for_first
            .recv_timeout(Duration::from_secs(20))
            .expect("the first ticket ended");
        assert!(first_saw_second, "the second ticket never ran");
    }
}

/// Exhaustive checks of the hand-shake between `submit` and an idle
/// thread, reduced to what it rests on (as `consumer_bell`'s model reduces
/// the ring): a count of queued tickets, counts of the threads starting
/// and spinning, and the idle threads' bell. Run with
/// `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 cargo test --release --lib -- scheduler::workers`.
#[cfg(all(test, loom))]
mod loom_tests {
    use crate::sync::shim::{AtomicUsize, Ordering};
    use crate::wake::Sleepers;
    use loom::sync::Arc;

    struct Set {
        queued: AtomicUsize,
        taken: AtomicUsize,
        starting: AtomicUsize,
        spinning: AtomicUsize,
        idle: Sleepers,
    }

    impl Set {
        /// `Submit::submit`: queue, then make sure a thread will look.
        fn submit(&self) -> bool {
            self.queued.fetch_add(1, Ordering::SeqCst);
            self.starting.fetch_add(0, Ordering::SeqCst) > 0
                || self.spinning.fetch_add(0, Ordering::SeqCst) > 0
                || self.idle.ring_one()
        }

        /// `Workers::thread_main`, until it has taken `tickets`: take a
        /// ticket if one is queued, else spin a moment (one look here),
        /// then sleep on the idle bell.
        fn work(&self, tickets: usize) {
            self.starting.fetch_sub(1, Ordering::SeqCst);
            while self.taken.load(Ordering::SeqCst) < tickets {
                let queued = self.queued.load(Ordering::SeqCst);
                if queued > 0 {
                    if self
                        .queued
                        .compare_exchange(queued, queued - 1, Ordering::SeqCst, Ordering::SeqCst)
                        .is_ok()
                    {
                        self.taken.fetch_add(1, Ordering::SeqCst);
                    }
                    continue;
                }
                self.spinning.fetch_add(1, Ordering::SeqCst);
                let found = self.queued.load(Ordering::SeqCst) > 0;
                self.spinning.fetch_sub(1, Ordering::SeqCst);
                if !found {
                    self.idle
                        .sleep_while(|| self.queued.load(Ordering::SeqCst) == 0, None);
                }
            }
        }
    }

    /// Two tickets submitted while the set's one thread starts and goes
    /// idle: it takes both. A submit that neither saw it spinning nor woke it, while it
    /// missed the ticket, would leave it asleep: a deadlock to loom. (The
    /// real `submit` starts a thread when it finds none; here there is one,
    /// which must not be missed.)
    #[test]
    fn a_ticket_never_waits_for_an_idle_thread_that_missed_it() {
        loom::model(|| {
            let set = Arc::new(Set {
                queued: AtomicUsize::new(0),
                taken: AtomicUsize::new(0),
                // Just launched: it has not looked at the queue yet.
                starting: AtomicUsize::new(1),
                spinning: AtomicUsize::new(0),
                idle: Sleepers::new(),
            });
            let thread = {
                let set = Arc::clone(&set);
                loom::thread::spawn(move || set.work(2))
            };
            for _ in 0..2 {
                if !set.submit() {
                    // Found nobody to wake: the real set would start a
                    // thread, but that one is here, about to look again.
                }
            }
            thread.join().unwrap();
            assert_eq!(set.taken.load(Ordering::SeqCst), 2);
        });
    }
}
