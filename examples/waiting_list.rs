//! Shared state between threads, where it meets threadpipe's stages: the
//! `Mutex`, `RwLock`, `Condvar`, atomics and poisoning half of Rust's
//! classic concurrency lessons (channels are in `examples/logger.rs`).
//!
//! A `parallel_map` closure is called by several threads at once, through a
//! shared reference: whatever it captures must be `Sync`, and whatever it
//! changes must be changed through a lock or an atomic (a `RefCell` or a
//! `Cell` is refused at compile time; see `threadpipe::guide`).
//!
//! - (a) `Mutex`: a waiting list filled by a `parallel_map` stage; whichever
//!   call makes it 8 players takes that game out, then starts it unlocked.
//! - (b) `RwLock`: a stage's calls read the configuration while it is
//!   reloaded; a per-thread state (`parallel_map_init`) sees it never go back.
//! - (c) `Condvar`: a coordinator sleeps until a quorum of a stage's calls
//!   are ready; the waiting is outside the stage, never between its calls.
//! - (d) cancelling: the consumer drops the adapter; anyone else sets an
//!   `AtomicBool` the source checks.
//! - (e) globals: a `static` `AtomicUsize` and a `LazyLock`, used from a
//!   stage's closure that then captures nothing.
//! - (f) poisoning: a stage's call panics holding a `Mutex`; the panic
//!   reaches the consumer with its payload, and main takes the data back
//!   with `PoisonError::into_inner`, repairs it and carries on.
//!
//! Run it with `cargo run --release --example waiting_list`. It checks its
//! own results and exits non-zero if any check fails.

use std::collections::HashSet;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Condvar, LazyLock, Mutex, RwLock};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use threadpipe::prelude::*;

/// Returns early with a formatted message when a self-check fails.
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

/// Returning `Err` from `main` prints it and exits with status 1.
fn main() -> Result<(), String> {
    println!("(a) Mutex:      {}", waiting_list()?);
    println!("(b) RwLock:     {}", config_reload()?);
    println!("(c) Condvar:    {}", quorum()?);
    println!("(d) cancelling: {}", cancellation()?);
    println!("(e) statics:    {}", globals()?);
    println!("(f) poisoning:  {}", poisoning()?);
    Ok(())
}

// ---- (a) Mutex ----

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct PlayerId(u32);

const GAME_SIZE: usize = 8;
const PLAYERS: u32 = 96; // exactly 12 games

// Relaxed is enough for a pure counter: it is read only after the stage
// has ended, and its end orders every call's increments before the read.
static GAMES_STARTED: AtomicUsize = AtomicUsize::new(0);

fn waiting_list() -> Result<String, String> {
    // A `Mutex`, because every thread of the stage changes the list; in an
    // `Arc`, because a plain `parallel_map` may outlive this function, so
    // its closure must own what it uses.
    let waiting = Arc::new(Mutex::new(Vec::new()));
    let list = Arc::clone(&waiting);
    let games: Vec<Vec<PlayerId>> = (0..PLAYERS)
        .map(PlayerId)
        .parallel_map(move |player| join(&list, player))
        .flatten() // only the calls that filled a game return one
        .collect();
    let left = waiting.lock().map_err(|_| "poisoned")?.len();

    let everyone: HashSet<&PlayerId> = games.iter().flatten().collect();
    let places = games.len() * GAME_SIZE;
    ensure!(left == 0, "{left} players left waiting");
    ensure!(games.iter().all(|g| g.len() == GAME_SIZE), "bad game size");
    // As many places as distinct players, and all of them: no one is
    // missing and no one plays twice.
    ensure!(places == everyone.len(), "someone plays twice");
    ensure!(places == PLAYERS as usize, "someone is missing");
    let started = GAMES_STARTED.load(Relaxed);
    ensure!(started == games.len(), "counted {started} games");
    Ok(format!(
        "{PLAYERS} players joined from a parallel_map stage; {} games of \
         {GAME_SIZE}; everyone in exactly one",
        games.len()
    ))
}

/// Adds `player`; if that makes a full game, takes it out and starts it.
fn join(waiting: &Mutex<Vec<PlayerId>>, player: PlayerId) -> Option<Vec<PlayerId>> {
    // unwrap: a poisoned lock here means a bug already panicked; (f) shows
    // what else a stage can do, and recovering.
    let mut list = waiting.lock().unwrap();
    list.push(player);
    if list.len() < GAME_SIZE {
        return None;
    }
    let game: Vec<PlayerId> = list.drain(..GAME_SIZE).collect();
    // Starting a game is slow (a real server contacts eight clients).
    // Holding the guard through it would stall every other thread of the
    // stage, so release the list as soon as the game is out of it.
    drop(list);
    std::hint::black_box((0..20_000_u32).fold(player.0, |h, i| h.rotate_left(5) ^ i));
    GAMES_STARTED.fetch_add(1, Relaxed);
    Some(game)
}

// ---- (b) RwLock ----

/// A half-applied reload would break `max_players == 8 * version`.
#[derive(Debug)]
struct Config {
    version: u32,
    max_players: u32,
}

fn config(version: u32) -> Arc<Config> {
    let max_players = 8 * version;
    Arc::new(Config {
        version,
        max_players,
    })
}

const FINAL_VERSION: u32 = 5;
const BURST: usize = 200; // requests per version

fn config_reload() -> Result<String, String> {
    // The lock guards only an `Arc`: readers clone it and let go at once,
    // and a reload is a pointer swap, so neither side holds it for long.
    let current = RwLock::new(config(1));
    let handled = AtomicUsize::new(0);
    let (requests, incoming) = mpsc::channel::<usize>();
    let seen = thread::scope(|s| {
        let (current, handled) = (&current, &handled);
        // A server: requests from a channel, handled on several threads.
        // Scoped, so the stage may borrow `current`. Each thread keeps the
        // last version it saw in a state of its own, which needs no lock.
        let server = s.spawn(move || {
            let handle = |last: &mut u32, _request| {
                let config = Arc::clone(&current.read().unwrap());
                handled.fetch_add(1, Relaxed);
                ensure!(config.max_players == 8 * config.version, "torn: {config:?}");
                ensure!(config.version >= *last, "went back: {config:?}");
                *last = config.version;
                Ok(config.version)
            };
            let stage = incoming
                .into_iter()
                .parallel_map_init_scoped(s, || 0, handle);
            stage.collect::<Result<Vec<u32>, String>>()
        });
        // The admin: a burst of requests; once half of it is handled, a
        // reload, while the rest is in flight; then the next burst.
        for version in 1..=FINAL_VERSION {
            for request in 0..BURST {
                let _ = requests.send(request); // fails only if the server failed
            }
            if version == FINAL_VERSION {
                break;
            }
            // Relaxed is enough: the count only says when to reload; the
            // RwLock orders each read against the reload.
            let half = version as usize * BURST - BURST / 2;
            while handled.load(Relaxed) < half && !server.is_finished() {
                thread::sleep(Duration::from_micros(100));
            }
            let fresh = config(version + 1); // built before taking the lock
            *current.write().unwrap() = fresh;
        }
        drop(requests); // the server's source ends
        server.join().unwrap()
    })?;
    // Sent after the last reload, it can only have read the last version;
    // and half of each burst was handled before the next reload.
    ensure!(seen.last() == Some(&FINAL_VERSION), "ended on {seen:?}");
    let versions: HashSet<u32> = seen.iter().copied().collect();
    ensure!(versions.len() == FINAL_VERSION as usize, "saw {versions:?}");
    Ok(format!(
        "{} requests read the config through {} reloads, every version \
         seen, never torn, no thread ever going back",
        seen.len(),
        FINAL_VERSION - 1,
    ))
}

// ---- (c) Condvar ----

const SHARDS: u64 = 7;
const QUORUM: usize = 5;

#[derive(Debug, Default)]
struct Roster {
    ready: usize,
    open: bool,
}

fn quorum() -> Result<String, String> {
    let (shared, changed) = (Mutex::new(Roster::default()), Condvar::new());
    let (ready_at_open, late) = thread::scope(|s| {
        let (roster, changed) = (&shared, &changed);
        // Each call warms one shard up and reports it ready; it never waits
        // for the others. A thread of the stage takes a few items at a
        // time, so the call another waits for may be queued behind it on
        // the same thread: a barrier inside the closure could wait forever.
        // The waiting is the coordinator's, outside the stage.
        let warm_up = s.spawn(move || {
            let warm = |shard| {
                // Uneven warm-ups (loading a shard from disk, say).
                thread::sleep(Duration::from_millis(2 * shard + 1));
                let mut roster = roster.lock().unwrap();
                roster.ready += 1;
                let late = roster.open;
                drop(roster);
                changed.notify_one(); // enough: only the coordinator waits
                late
            };
            let stage = (0..SHARDS).parallel_map_scoped(s, warm);
            stage.filter(|&late| late).count()
        });
        // wait_while re-checks after every wake-up, covering spurious ones
        // and a notification sent before the coordinator started waiting.
        let guard = roster.lock().unwrap();
        let mut roster = changed.wait_while(guard, |r| r.ready < QUORUM).unwrap();
        roster.open = true;
        let ready_at_open = roster.ready;
        drop(roster); // the stage's calls need the lock to finish
        (ready_at_open, warm_up.join().unwrap())
    });
    let ready = shared.into_inner().unwrap().ready;
    ensure!(ready_at_open >= QUORUM, "opened at {ready_at_open}");
    ensure!(ready == SHARDS as usize, "only {ready} got ready");
    ensure!(late == ready - ready_at_open, "{late} came late");
    Ok(format!(
        "coordinator woke with {ready_at_open} of {SHARDS} shards ready \
         (quorum {QUORUM}) and opened; {late} more joined the open lobby"
    ))
}

// ---- (d) cancelling ----

/// Odd numbers from 3, on and on; says on which thread it is dropped.
struct Candidates(u64, Sender<ThreadId>);

impl Iterator for Candidates {
    type Item = u64;
    fn next(&mut self) -> Option<u64> {
        self.0 += 2;
        Some(self.0)
    }
}

impl Drop for Candidates {
    fn drop(&mut self) {
        let _ = self.1.send(thread::current().id());
    }
}

/// None is known (none exists below 10^1500), so a search never ends.
fn is_perfect(n: u64) -> bool {
    let proper_divisors = (1..)
        .take_while(|d| d * d <= n)
        .filter(|d| n.is_multiple_of(*d))
        .map(|d| if d == 1 || d * d == n { d } else { d + n / d });
    proper_divisors.sum::<u64>() == n
}

fn cancellation() -> Result<String, String> {
    // 1. The consumer gives up: it drops the adapter. (One it only stopped
    // pulling would stop itself a window ahead, but hold on to its source.)
    // The drop never blocks; the stage's threads stop at their next step,
    // and the source is dropped on one of them, never on the dropper's.
    let (dropped, dropped_on) = mpsc::channel();
    let mut search = Candidates(1, dropped).parallel_map(|n| (n, is_perfect(n)));
    let found = search.by_ref().take(20_000).find(|&(_, perfect)| perfect);
    drop(search);
    let on = (dropped_on.recv_timeout(Duration::from_secs(10)))
        .map_err(|_| "dropping the adapter did not stop the search")?;
    ensure!(found.is_none(), "found an odd perfect number?! {found:?}");
    ensure!(on != thread::current().id(), "dropped on the dropper");

    // 2. Someone else cancels. The consumer is inside `next`, and nobody
    // else can drop an adapter it is using, so the source checks a flag:
    // once it is set, the source ends, the stage finishes what it has in
    // flight, and the consumer sees the end of the stream.
    let (cancel, progress) = (AtomicBool::new(false), AtomicUsize::new(0));
    let (found, latency) = thread::scope(|s| {
        let (cancel, progress) = (&cancel, &progress);
        let search = s.spawn(move || {
            let candidates = (3_u64..).step_by(2).take_while(|_| !cancel.load(Relaxed));
            let check = |n| {
                progress.fetch_add(1, Relaxed);
                is_perfect(n).then_some(n)
            };
            candidates.parallel_map_scoped(s, check).flatten().next()
        });
        // Let it get going, so the cancel provably interrupts real work.
        while progress.load(Relaxed) < 20_000 && !search.is_finished() {
            thread::sleep(Duration::from_millis(1));
        }
        let cancelled_at = Instant::now();
        // Relaxed is enough: the flag publishes no other data, and the
        // store reaches the stage's threads promptly regardless.
        cancel.store(true, Relaxed);
        (search.join().unwrap(), cancelled_at.elapsed())
    });
    ensure!(found.is_none(), "found an odd perfect number?! {found:?}");
    let checked = progress.load(Relaxed);
    ensure!(checked >= 20_000, "stopped early, at {checked}");
    Ok(format!(
        "dropped after 20000 candidates, the source went on another thread; \
         flagged after ~{checked}, the stream ended {latency:?} later"
    ))
}

// ---- (e) globals ----

static NAME_INITS: AtomicUsize = AtomicUsize::new(0);
// LazyLock: the initialiser is fixed at compile time. OnceLock is the same
// idea when the value comes from runtime input.
static SERVER_NAME: LazyLock<String> = LazyLock::new(|| {
    NAME_INITS.fetch_add(1, Relaxed);
    format!("lobby-{}", std::process::id())
});

fn globals() -> Result<String, String> {
    // A closure that uses only statics captures nothing: it is `Sync` and
    // `'static` as it stands, with no `Arc` to clone. The stage's threads
    // race for the first touch; LazyLock lets one initialise, the others wait.
    let calls = (0..64).parallel_map(|_| SERVER_NAME.len()).count();
    let inits = NAME_INITS.load(Relaxed);
    ensure!(inits == 1, "the lazy global was initialised {inits} times");
    // GAMES_STARTED, the other static counter, was bumped from the stage's
    // threads in (a) without losing a count.
    let games = GAMES_STARTED.load(Relaxed);
    Ok(format!(
        "{calls} calls read {:?}, initialised once; GAMES_STARTED = {games}",
        *SERVER_NAME
    ))
}

// ---- (f) poisoning ----

#[derive(Debug, Default)]
struct Ledger {
    entries: Vec<i64>,
    total: i64,
}

impl Ledger {
    fn record(&mut self, amount: i64) {
        self.entries.push(amount);
        // Can panic after `entries` changed but before `total` did, leaving
        // the ledger half-updated: exactly what poisoning warns about.
        self.total = self.total.checked_add(amount).expect("total overflowed");
    }

    fn is_consistent(&self) -> bool {
        let sum: i128 = self.entries.iter().map(|&e| i128::from(e)).sum();
        sum == i128::from(self.total)
    }
}

fn poisoning() -> Result<String, String> {
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    // An opening balance, so that adding i64::MAX overflows whichever call
    // of the stage below runs first: they may run in any order.
    ledger.lock().map_err(|_| "poisoned")?.record(1_000);
    let book = Arc::clone(&ledger);
    let record = move |amount: i64| -> Result<i64, i64> {
        // Poisoned by a call that ran first? Refuse, rather than panic
        // again: a panic on an earlier item would reach the consumer
        // first, in place of the real one.
        let mut book = book.lock().map_err(|_| amount)?;
        book.record(amount);
        Ok(amount)
    };
    let mut refused = 0;

    // The panic is expected, so a silent hook keeps it off stderr. Only this
    // stage runs while it is installed, so no other panic is hidden.
    let previous_hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let caught = panic::catch_unwind(AssertUnwindSafe(|| {
        for result in [100, 250, i64::MAX].into_iter().parallel_map(record) {
            refused += usize::from(result.is_err());
        }
    }));
    panic::set_hook(previous_hook);

    // The panic crossed from the stage's thread with its own payload.
    let payload = caught.err().ok_or("the panic did not reach the consumer")?;
    let message = (payload.downcast_ref::<&str>().copied())
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
    ensure!(message == Some("total overflowed"), "payload {message:?}");
    ensure!(ledger.is_poisoned(), "not poisoned");

    let mut repaired = match ledger.lock() {
        Ok(_) => return Err("lock() should report the poisoning".into()),
        // The data is all there, just possibly inconsistent.
        Err(poisoned) => poisoned.into_inner(),
    };
    ensure!(!repaired.is_consistent(), "expected a half-updated ledger");
    // Roll back the entries that the total never took in, then validate.
    while !repaired.is_consistent() && repaired.entries.pop().is_some() {}
    ensure!(repaired.is_consistent(), "cannot repair {repaired:?}");
    // Every item before the one that panicked delivers its result first:
    // besides the opening balance, 100 and 250 were each recorded or refused.
    ensure!(repaired.entries.len() + refused == 3, "{repaired:?}");
    drop(repaired);
    // Repaired, so later lockers need not each deal with the poison again.
    ledger.clear_poison();

    let mut book = ledger.lock().map_err(|_| "still poisoned")?;
    book.record(50);
    ensure!(book.is_consistent(), "{book:?}");
    Ok(format!(
        "a stage's call panicked mid-update (\"total overflowed\" reached \
         main; {refused} call(s) refused the poisoned lock); main rolled \
         back, cleared the poison and went on: entries {:?}, total {}",
        book.entries, book.total
    ))
}

/// Runs with the test suite (`test = true` in Cargo.toml), so the README's
/// test command proves the example's own checks.
/// Fails a hung test run instead of letting it hang (shared with tests/).
#[cfg(test)]
#[path = "../tests/common/watchdog.rs"]
mod watchdog;

#[cfg(test)]
mod tests {
    #[test]
    fn every_section_passes_its_checks() {
        let _watchdog = crate::watchdog::watchdog();
        super::main().unwrap();
    }
}
