//! Finding threads blocked inside user code, and lending their seats to
//! threads that wait for one. See `README.md`, "Blocked threads".
//!
//! A source that waits on a socket, a channel or the consumer's answer
//! keeps its thread inside `next()` for as long as it likes, and nothing
//! can interrupt it; were its seat still counted, enough such sources would
//! starve every other stage. So while some thread waits for a seat, a
//! monitor thread looks at the seated threads every [`TICK`]: one that has
//! been inside the same call of user code since its last look, and that
//! the operating system says is not running (Linux: its state in
//! `/proc/self/task/<tid>/stat` is not `R`), is blocked; its seat is lent
//! to a waiter. It takes it back when the call returns, as a sleeper does
//! when it wakes (see [`crate::wake::cores`]). Where the operating system
//! cannot say, a call that has lasted two looks counts as blocked.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use crate::launch::{Detached, Launch};
use crate::sync::Lock as _;
use crate::wake::cores::{self, Seat};

/// How often the monitor looks while threads wait for a seat: a blocked
/// thread's seat is lent within one to two of these.
pub(crate) const TICK: Duration = Duration::from_micros(500);

/// How long the monitor waits without anyone waiting for a seat before it
/// exits (it starts again when needed).
const MONITOR_KEEPALIVE: Duration = Duration::from_secs(1);

const STOPPED: u8 = 0;
const RUNNING: u8 = 1;

static STATE: AtomicU8 = AtomicU8::new(STOPPED);
static HANDLE: Mutex<Option<std::thread::Thread>> = Mutex::new(None);
/// Every thread that may take a seat, as the monitor looks at them.
static SEATS: Mutex<Vec<Weak<Seat>>> = Mutex::new(Vec::new());

/// Puts the calling thread's seat under watch.
pub(crate) fn watch_seat(seat: &Arc<Seat>) {
    SEATS.locked().push(Arc::downgrade(seat));
}

/// Some thread waits for a seat: makes sure the monitor looks. Call after
/// the waiter has announced itself (from inside its sleep's check), so that
/// the monitor sees it once woken.
pub(crate) fn wanted() {
    match STATE.load(Ordering::SeqCst) {
        RUNNING => {
            if let Some(monitor) = HANDLE.locked().as_ref() {
                monitor.unpark();
            }
        }
        _ => start(),
    }
}

fn start() {
    if STATE
        .compare_exchange(STOPPED, RUNNING, Ordering::SeqCst, Ordering::SeqCst)
        .is_err()
    {
        return;
    }
    let started = Detached.spawn("threadpipe-monitor".to_owned(), || {
        *HANDLE.locked() = Some(std::thread::current());
        run();
    });
    if started.is_err() {
        // Without a monitor a blocked thread keeps its seat: stages wait
        // for it, as they would for a busy one.
        STATE.store(STOPPED, Ordering::SeqCst);
    }
}

/// What the monitor remembers of one seat between two looks.
struct Watched {
    seat: Weak<Seat>,
    calls: usize,
    /// Looks in a row that found the thread inside the same call.
    unchanged: u32,
}

fn run() {
    let budget = cores::global();
    let mut watched: Vec<Watched> = Vec::new();
    let mut idle_since = Instant::now();
    loop {
        if !budget.anyone_waiting() {
            if idle_since.elapsed() >= MONITOR_KEEPALIVE {
                STATE.store(STOPPED, Ordering::SeqCst);
                // A waiter that came as the state changed may have seen
                // RUNNING and only unparked: carry on for it.
                if budget.anyone_waiting()
                    && STATE
                        .compare_exchange(STOPPED, RUNNING, Ordering::SeqCst, Ordering::SeqCst)
                        .is_ok()
                {
                    continue;
                }
                *HANDLE.locked() = None;
                return;
            }
            std::thread::park_timeout(MONITOR_KEEPALIVE);
            continue;
        }
        idle_since = Instant::now();
        std::thread::park_timeout(TICK);
        look(&mut watched, budget);
    }
}

/// One look at every seat: lends out the seats of blocked threads.
fn look(watched: &mut Vec<Watched>, budget: &'static cores::CoreBudget) {
    {
        let mut seats = SEATS.locked();
        seats.retain(|seat| seat.strong_count() > 0);
        for seat in seats.iter() {
            if !watched.iter().any(|w| w.seat.ptr_eq(seat)) {
                watched.push(Watched {
                    seat: seat.clone(),
                    calls: usize::MAX,
                    unchanged: 0,
                });
            }
        }
    }
    watched.retain(|w| w.seat.strong_count() > 0);
    for w in watched.iter_mut() {
        let Some(seat) = w.seat.upgrade() else {
            continue;
        };
        let (calls, depth) = seat.user_code();
        if depth > 0 && calls == w.calls && seat.counts() {
            w.unchanged += 1;
        } else {
            w.unchanged = 0;
        }
        w.calls = calls;
        if w.unchanged >= 1 && is_blocked(&seat, w.unchanged) {
            budget.lend(&seat);
        }
    }
}

/// Whether a thread found inside one call for `looks` looks in a row is
/// blocked rather than computing.
#[cfg(all(any(target_os = "linux", target_os = "android"), not(miri)))]
fn is_blocked(seat: &Seat, looks: u32) -> bool {
    let path = format!("/proc/self/task/{}/stat", seat.tid);
    match std::fs::read_to_string(path) {
        // The state follows the parenthesised name, which may hold spaces.
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .and_then(|rest| rest.trim_start().chars().next())
            .is_some_and(|state| state != 'R'),
        Err(_) => looks >= 2,
    }
}

// Miri runs no file system call under its default isolation, and its
// threads have no `/proc` entry anyway: under Miri a call that has lasted
// two looks counts as blocked, as where the operating system cannot say.
#[cfg(any(miri, not(any(target_os = "linux", target_os = "android"))))]
fn is_blocked(_seat: &Seat, looks: u32) -> bool {
    looks >= 2
}
