//! The budget of busy threads: at most one thread per core runs a stage's
//! work at any moment, however many stages, pipelines and nesting levels
//! there are. See [the protocol](super#the-budget-of-busy-threads).
//!
//! A thread takes a *seat* before it runs a stage's work and gives it up
//! after. It lends its seat out while it sleeps on one of threadpipe's
//! bells (a consumer waiting for results, a stage run waiting in place),
//! and while the scheduler's monitor finds it blocked inside user code (a
//! source waiting on a socket); it takes the seat back as soon as it wakes
//! or returns, even if that puts the budget over its limit for a moment:
//! it holds work that must not wait. Threads over the limit give their seat
//! up at their next step (see [`CoreBudget::over`]).

use std::cell::{Cell, RefCell};
use std::sync::{Arc, OnceLock};

use super::sleepers::{Sleepers, Woke};
use crate::sync::shim::{AtomicUsize, Ordering};

/// The thread is seated: it counts towards the budget's busy threads.
const SEATED: usize = 1;
/// Its seat is lent out: it does not count while it sleeps or is blocked.
const LENT: usize = 2;

/// How many threads may run stages' work at once, and how many do.
#[derive(Debug)]
pub(crate) struct CoreBudget {
    limit: usize,
    /// Seated threads whose seat is not lent out.
    busy: AtomicUsize,
    /// Threads that hold work and wait for a seat.
    waiters: Sleepers,
    /// Called by each of them (see [`CoreBudget::on_seat_wanted`]).
    on_seat_wanted: OnceLock<fn()>,
}

/// One thread's claim on the budget, shared with the scheduler's monitor,
/// which reads how long the thread has been inside user code.
#[derive(Debug)]
pub(crate) struct Seat {
    /// `SEATED? | LENT?`
    state: AtomicUsize,
    /// Bumped each time the thread enters or leaves user code: unchanged
    /// between two looks means one call has lasted all that while.
    calls: AtomicUsize,
    /// How deep in user code the thread is (0: in threadpipe's own code).
    depth: AtomicUsize,
    /// The thread's id for the operating system, to ask it whether the
    /// thread is running or asleep. (Not under Miri, whose threads have no
    /// `/proc` entry to ask: see `scheduler::monitor::is_blocked`.)
    #[cfg(all(any(target_os = "linux", target_os = "android"), not(miri)))]
    pub(crate) tid: i32,
}

impl Seat {
    pub(crate) fn new() -> Self {
        Seat {
            state: AtomicUsize::new(0),
            calls: AtomicUsize::new(0),
            depth: AtomicUsize::new(0),
            #[cfg(all(any(target_os = "linux", target_os = "android"), not(loom), not(miri)))]
            tid: rustix::thread::gettid().as_raw_nonzero().get(),
            #[cfg(all(any(target_os = "linux", target_os = "android"), loom, not(miri)))]
            tid: 0,
        }
    }

    /// Whether the thread holds a seat it has not lent out.
    pub(crate) fn counts(&self) -> bool {
        self.state.load(Ordering::Acquire) == SEATED
    }

    /// Whether the thread's seat is lent out (it is asleep on a bell, or
    /// the monitor found it blocked in user code).
    pub(crate) fn is_lent(&self) -> bool {
        self.state.load(Ordering::Acquire) & LENT != 0
    }

    /// Where the thread stands in user code: `(calls, depth)`, for the
    /// monitor to compare from one look to the next.
    pub(crate) fn user_code(&self) -> (usize, usize) {
        (
            self.calls.load(Ordering::Relaxed),
            self.depth.load(Ordering::Relaxed),
        )
    }
}

impl CoreBudget {
    pub(crate) fn new(limit: usize) -> Self {
        CoreBudget {
            limit: limit.max(1),
            busy: AtomicUsize::new(0),
            waiters: Sleepers::new(),
            on_seat_wanted: OnceLock::new(),
        }
    }

    /// Sets what a thread about to wait for a seat calls, once it has
    /// announced itself as a waiter: the scheduler's monitor, which lends
    /// out the seats of threads blocked in user code, must then be looking.
    /// Every wait for a seat calls it, whatever it waits for (a ticket to
    /// run, a bell woken from, a turn given back): a waiter the monitor
    /// does not know of may wait for ever behind seats held by blocked
    /// threads. The first call wins.
    pub(crate) fn on_seat_wanted(&self, hook: fn()) {
        let _ = self.on_seat_wanted.set(hook);
    }

    fn seat_wanted(&self) {
        if let Some(hook) = self.on_seat_wanted.get() {
            hook();
        }
    }

    /// Seated threads that count (their seats not lent out); may be stale.
    pub(crate) fn busy(&self) -> usize {
        self.busy.load(Ordering::Relaxed)
    }

    /// Whether a seat is free.
    #[inline]
    pub(crate) fn has_room(&self) -> bool {
        self.busy.load(Ordering::Acquire) < self.limit
    }

    /// Whether more threads count than the limit: one of them should give
    /// its seat up at its next step.
    #[inline]
    pub(crate) fn over(&self) -> bool {
        self.busy.load(Ordering::Relaxed) > self.limit
    }

    /// Whether threads with work wait for a seat.
    #[inline]
    pub(crate) fn anyone_waiting(&self) -> bool {
        self.waiters.count() > 0
    }

    /// Seats `seat`'s thread if a seat is free; whether it did.
    pub(crate) fn try_take(&self, seat: &Seat) -> bool {
        let taken = self.take_room();
        if taken {
            seat.state.store(SEATED, Ordering::Release);
        }
        taken
    }

    /// Counts one more busy thread if a seat is free; whether it did.
    fn take_room(&self) -> bool {
        self.busy
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |busy| {
                (busy < self.limit).then_some(busy + 1)
            })
            .is_ok()
    }

    /// The thread leaves its seat, which goes to a thread waiting for one.
    pub(crate) fn give_up(&self, seat: &Seat) {
        if seat.state.swap(0, Ordering::AcqRel) == SEATED {
            self.busy.fetch_sub(1, Ordering::AcqRel);
            self.waiters.ring_one();
        }
    }

    /// Lends the thread's seat out (it sleeps, or is blocked); whether this
    /// call lent it (it was seated and not lent already).
    pub(crate) fn lend(&self, seat: &Seat) -> bool {
        let lent = seat
            .state
            .compare_exchange(SEATED, SEATED | LENT, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        if lent {
            self.busy.fetch_sub(1, Ordering::AcqRel);
            self.waiters.ring_one();
        }
        lent
    }

    /// Takes a lent seat back, whatever the count: the thread has work in
    /// hand. Whether it had been lent.
    pub(crate) fn take_back(&self, seat: &Seat) -> bool {
        let back = seat
            .state
            .compare_exchange(SEATED | LENT, SEATED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        if back {
            self.busy.fetch_add(1, Ordering::AcqRel);
        }
        back
    }

    /// A seat for `seat`'s thread, which holds none that counts, while the
    /// guard lives, if one is free: for a thread of the set that takes on a
    /// share of a stage's work (a consumer helping). A thread whose own
    /// seat is lent (blocked in user code it is still inside) borrows that
    /// one back and lends it again after; taking a fresh one instead would
    /// drop the lent seat, and the thread would go on uncounted.
    pub(crate) fn seat_for_a_while<'a>(&'a self, seat: &'a Seat) -> Option<SeatForAWhile<'a>> {
        let lent = seat.is_lent();
        if !self.take_room() {
            return None;
        }
        let from = if lent { SEATED | LENT } else { 0 };
        if seat
            .state
            .compare_exchange(from, SEATED, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            // Only the thread itself changes its state this way: never.
            self.busy.fetch_sub(1, Ordering::AcqRel);
            self.waiters.ring_one();
            return None;
        }
        Some(SeatForAWhile {
            seat,
            budget: self,
            lent,
        })
    }

    /// The thread's own seat, lent out, taken back whatever the count while
    /// the guard lives, and lent again after: for a thread that must run
    /// work no other thread will (see [`crate::scheduler::in_its_own_seat`]).
    /// `None` if the seat was not lent.
    pub(crate) fn seat_back_for_a_while<'a>(&'a self, seat: &'a Seat) -> Option<SeatForAWhile<'a>> {
        self.take_back(seat).then_some(SeatForAWhile {
            seat,
            budget: self,
            lent: true,
        })
    }

    /// Takes a lent seat back once one is free (waiting for it, asleep, if
    /// none is): for a thread that wakes from a bell, which may wait a
    /// little longer, so that the busy threads never outnumber the seats.
    pub(crate) fn take_back_when_free(&self, seat: &Seat) {
        loop {
            if self.take_room() {
                seat.state.store(SEATED, Ordering::Release);
                return;
            }
            self.waiters.sleep_while(
                || {
                    self.seat_wanted();
                    !self.has_room()
                },
                None,
            );
        }
    }

    /// Sleeps while no seat is free and `still_wanted` says the caller
    /// still has work for one; spurious returns are possible. A waiter
    /// that was chosen ([`Woke::Rung`]) and will not take the seat must
    /// [`pass_on`](Self::pass_on) the ring.
    pub(crate) fn wait_for_room(&self, still_wanted: impl Fn() -> bool) -> Woke {
        self.waiters.sleep_while(
            || {
                self.seat_wanted();
                !self.has_room() && still_wanted()
            },
            None,
        )
    }

    /// Wakes another thread waiting for a seat: for a waiter that was woken
    /// for a free seat it will not take.
    pub(crate) fn pass_on(&self) {
        self.waiters.ring_one();
    }
}

/// The budget this process's stages share, sized by [`configure`] or, if
/// nothing configured it before its first use, one thread per core. (Loom's
/// models make budgets of their own.)
pub(crate) fn global() -> &'static CoreBudget {
    GLOBAL.get_or_init(|| CoreBudget::new(cores()))
}

static GLOBAL: OnceLock<CoreBudget> = OnceLock::new();

/// Sizes the [`global`] budget; `false` if it was already in use.
pub(crate) fn configure(limit: usize) -> bool {
    GLOBAL.set(CoreBudget::new(limit)).is_ok()
}

/// The number of cores the process may use.
pub(crate) fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

thread_local! {
    /// The seat of this thread, if it is one of the budget's threads.
    static CURRENT: RefCell<Option<(Arc<Seat>, &'static CoreBudget)>> = const { RefCell::new(None) };
}

/// Makes `seat`, in `budget`, the seat of the calling thread, for
/// [`Asleep`] and [`UserCode`] to find.
pub(crate) fn attach(seat: Arc<Seat>, budget: &'static CoreBudget) {
    CURRENT.with(|current| *current.borrow_mut() = Some((seat, budget)));
}

fn with_current<R>(f: impl FnOnce(&Seat, &'static CoreBudget) -> R) -> Option<R> {
    CURRENT.with(|current| {
        current
            .borrow()
            .as_ref()
            .map(|(seat, budget)| f(seat, budget))
    })
}

/// A seat held for a while (see [`CoreBudget::seat_for_a_while`]): given
/// up when dropped, or lent out again if it was a lent seat borrowed back.
#[derive(Debug)]
pub(crate) struct SeatForAWhile<'a> {
    seat: &'a Seat,
    budget: &'a CoreBudget,
    lent: bool,
}

impl Drop for SeatForAWhile<'_> {
    fn drop(&mut self) {
        if self.lent {
            self.budget.lend(self.seat);
        } else {
            self.budget.give_up(self.seat);
        }
    }
}

/// While alive, the calling thread, if it holds a seat, lends it out: it
/// sleeps on a bell and needs no core.
#[derive(Debug)]
pub(crate) struct Asleep(bool);

impl Asleep {
    pub(crate) fn enter() -> Self {
        Asleep(with_current(|seat, budget| budget.lend(seat)).unwrap_or(false))
    }
}

impl Drop for Asleep {
    fn drop(&mut self) {
        if self.0 {
            with_current(|seat, budget| budget.take_back_when_free(seat));
        }
    }
}

thread_local! {
    /// How deep in a stage's user code a thread without a seat is (a
    /// program's own thread, helping a stage it consumes).
    static DEPTH_WITHOUT_A_SEAT: Cell<usize> = const { Cell::new(0) };
}

/// Marks the calling thread as inside a stage's user code (a source's
/// `next`, a closure) until dropped, so that the monitor can tell a thread
/// blocked there; on the way out it takes its seat back if the monitor
/// lent it. Costs two plain stores and a load on the thread's own line (a
/// thread-local counter, for a thread without a seat).
#[derive(Debug)]
pub(crate) struct UserCode<'a>(Option<(&'a Seat, &'static CoreBudget)>);

impl<'a> UserCode<'a> {
    /// Enters user code on the thread that owns `seat`, or on a thread
    /// without one (`None`).
    #[inline]
    pub(crate) fn enter(seat: Option<&'a (Arc<Seat>, &'static CoreBudget)>) -> Self {
        match seat {
            Some((seat, _)) => {
                seat.depth
                    .store(seat.depth.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
                seat.calls
                    .store(seat.calls.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
            }
            None => DEPTH_WITHOUT_A_SEAT.with(|depth| depth.set(depth.get() + 1)),
        }
        UserCode(seat.map(|(seat, budget)| (&**seat, *budget)))
    }
}

impl Drop for UserCode<'_> {
    #[inline]
    fn drop(&mut self) {
        match self.0 {
            Some((seat, budget)) => {
                seat.calls
                    .store(seat.calls.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
                seat.depth
                    .store(seat.depth.load(Ordering::Relaxed) - 1, Ordering::Relaxed);
                // Lent while the thread was inside: it was blocked, and is
                // back with work in hand.
                if seat.state.load(Ordering::Relaxed) & LENT != 0 {
                    budget.take_back(seat);
                }
            }
            None => DEPTH_WITHOUT_A_SEAT.with(|depth| depth.set(depth.get() - 1)),
        }
    }
}

/// The calling thread's seat and budget, if it is one of the budget's
/// threads: hold it for a run, and pass it to [`UserCode::enter`] for each
/// call into user code, which saves a thread-local look-up per call.
pub(crate) fn current_seat() -> Option<(Arc<Seat>, &'static CoreBudget)> {
    CURRENT.with(|current| current.borrow().clone())
}

/// Runs `f` with the calling thread's seat and budget, if it is one of
/// the budget's threads, without cloning them: for paths taken once per
/// chunk of items.
pub(crate) fn with_seat<R>(f: impl FnOnce(Option<&(Arc<Seat>, &'static CoreBudget)>) -> R) -> R {
    CURRENT.with(|current| f(current.borrow().as_ref()))
}

/// Whether the calling thread is inside user code a stage runs (a
/// closure, a source): a consumer there serves a stage nested in another
/// stage's work, not the program's own consuming loop. Whatever its seat's
/// state, which the monitor may change at any moment: a decision taken on
/// it must hold whether the seat counts or not.
pub(crate) fn inside_a_stage() -> bool {
    CURRENT.with(|current| match current.borrow().as_ref() {
        Some((seat, _)) => seat.depth.load(Ordering::Relaxed) > 0,
        None => DEPTH_WITHOUT_A_SEAT.with(Cell::get) > 0,
    })
}

/// Whether the threads that run stages' work (and one consumer) are more
/// than the cores, so that some of them wait for a core whenever all are
/// busy. (Consumers are the callers' threads, which the budget does not
/// count; one is assumed.)
pub(crate) fn crowded() -> bool {
    GLOBAL.get().is_some_and(|budget| budget.busy() >= cores())
}

/// Exhaustive checks of the protocol: run with
/// `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 cargo test --release --lib -- wake::cores`.
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;

    /// A budget of one seat: a thread that holds it lends it while it
    /// sleeps, then takes it back; a second thread waits for a seat, takes
    /// it once lent, and gives it up. The waiter never sleeps through the
    /// moment the seat is free (loom would report a deadlock), and the
    /// count of busy threads comes back to 0.
    #[test]
    fn a_lent_seat_reaches_a_waiter() {
        loom::model(|| {
            let budget = Arc::new(CoreBudget::new(1));
            let holder = Arc::new(Seat::new());
            assert!(budget.try_take(&holder));
            let waiter = {
                let budget = Arc::clone(&budget);
                loom::thread::spawn(move || {
                    let seat = Seat::new();
                    while !budget.try_take(&seat) {
                        budget.wait_for_room(|| true);
                    }
                    budget.give_up(&seat);
                })
            };
            assert!(budget.lend(&holder));
            waiter.join().unwrap();
            budget.take_back(&holder);
            budget.give_up(&holder);
            assert_eq!(budget.busy(), 0);
        });
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::atomic::AtomicUsize as StdAtomicUsize;
    use std::time::{Duration, Instant};

    use super::*;

    /// A thread inside user code is inside a stage whatever its seat's
    /// state: the monitor may lend the seat between two looks of a
    /// consumer, which must not then forget that it is nested (it would
    /// wait for a run that nobody asks for).
    #[test]
    fn a_thread_in_user_code_is_inside_a_stage_with_its_seat_lent() {
        std::thread::spawn(|| {
            let budget: &'static CoreBudget = Box::leak(Box::new(CoreBudget::new(1)));
            let seat = Arc::new(Seat::new());
            attach(Arc::clone(&seat), budget);
            assert!(budget.try_take(&seat));
            assert!(!inside_a_stage());
            with_seat(|current| {
                let _user = UserCode::enter(current);
                assert!(inside_a_stage());
                assert!(budget.lend(&seat), "as the monitor lends it");
                assert!(inside_a_stage(), "the lent seat changed nothing");
            });
        })
        .join()
        .unwrap();
    }

    static TOLD: StdAtomicUsize = StdAtomicUsize::new(0);

    fn tell() {
        TOLD.fetch_add(1, Ordering::SeqCst);
    }

    /// Every wait for a seat tells the scheduler (whose monitor lends out
    /// the seats of blocked threads), the wait of a thread woken from a
    /// bell included: without it, a thread waking while every seat is held
    /// by threads blocked in user code waited for ever once the monitor had
    /// stopped for want of waiters.
    #[test]
    fn every_wait_for_a_seat_tells_the_scheduler() {
        let budget: &'static CoreBudget = Box::leak(Box::new(CoreBudget::new(1)));
        budget.on_seat_wanted(tell);
        let holder = Seat::new();
        assert!(budget.try_take(&holder));
        let waiter = std::thread::spawn(move || {
            // A seat lent out, as a sleeper's is, with none free to take.
            let seat = Seat::new();
            seat.state.store(SEATED | LENT, Ordering::Release);
            budget.take_back_when_free(&seat);
            assert!(seat.counts());
            budget.give_up(&seat);
        });
        let deadline = Instant::now() + Duration::from_secs(10);
        while TOLD.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
            std::thread::yield_now();
        }
        assert!(TOLD.load(Ordering::SeqCst) > 0, "the waiter told nobody");
        budget.give_up(&holder);
        waiter.join().unwrap();
    }
}
