//! Shared state between threads: the `Mutex`, `RwLock`, `Condvar`, atomics
//! and poisoning half of Rust's classic concurrency lessons (channels are in
//! `examples/logger.rs`). Uses only std, not threadpipe:
//!
//! - (a) `Mutex`: a game server's waiting list; whoever makes it 8 players
//!   takes that game out and starts it after releasing the lock.
//! - (b) `RwLock`: configuration read by many threads, reloaded meanwhile.
//! - (c) `Condvar`: a coordinator sleeps until a quorum of workers is ready.
//! - (d) `AtomicBool`: cancelling a long computation on another thread.
//! - (e) globals: a `static` `AtomicUsize` counter and a `LazyLock`.
//! - (f) poisoning: a thread panics holding a `Mutex`; main takes the data
//!   back with `PoisonError::into_inner`, repairs it and carries on.
//!
//! Run it with `cargo run --example waiting_list`. It checks its own results
//! and exits non-zero if any check fails.

use std::collections::HashSet;
use std::panic;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Barrier, Condvar, LazyLock, Mutex, RwLock};
use std::thread;
use std::time::Instant;

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
    println!("(d) AtomicBool: {}", cancellation()?);
    println!("(e) statics:    {}", globals()?);
    println!("(f) poisoning:  {}", poisoning()?);
    Ok(())
}

// ---- (a) Mutex ----

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct PlayerId(u32);

const GAME_SIZE: usize = 8;
const JOINERS: u32 = 6;
const PLAYERS_EACH: u32 = 16; // 96 players: exactly 12 games

// Relaxed is enough for a pure counter: it is read only after the threads
// are joined, and joining orders their increments before the read.
static GAMES_STARTED: AtomicUsize = AtomicUsize::new(0);

fn waiting_list() -> Result<String, String> {
    let (waiting, games) = (Mutex::new(Vec::new()), Mutex::new(Vec::new()));
    // Leaving the scope joins its threads, and panics if any of them did.
    thread::scope(|s| {
        for t in 0..JOINERS {
            let (waiting, games) = (&waiting, &games);
            s.spawn(move || {
                for id in t * PLAYERS_EACH..(t + 1) * PLAYERS_EACH {
                    if let Some(game) = join(waiting, PlayerId(id)) {
                        games.lock().unwrap().push(game);
                    }
                }
            });
        }
    });
    let (left, games) = (waiting.into_inner().unwrap(), games.into_inner().unwrap());

    let total = (JOINERS * PLAYERS_EACH) as usize;
    let everyone: HashSet<&PlayerId> = games.iter().flatten().collect();
    ensure!(left.is_empty(), "players left waiting: {left:?}");
    ensure!(games.iter().all(|g| g.len() == GAME_SIZE), "bad game size");
    // 12 full games hold 96 places; 96 distinct players means no one is
    // missing and no one plays twice.
    ensure!(games.len() * GAME_SIZE == total, "{} games", games.len());
    ensure!(everyone.len() == total, "someone is missing or plays twice");
    let started = GAMES_STARTED.load(Relaxed);
    ensure!(started == games.len(), "counted {started} games");
    Ok(format!(
        "{total} players joined from {JOINERS} threads; {} games of \
         {GAME_SIZE}; everyone in exactly one",
        games.len()
    ))
}

/// Adds `player`; if that makes a full game, takes it out and starts it.
fn join(waiting: &Mutex<Vec<PlayerId>>, player: PlayerId) -> Option<Vec<PlayerId>> {
    // unwrap: a poisoned lock here means a bug already panicked; (f) shows
    // recovering instead.
    let mut list = waiting.lock().unwrap();
    list.push(player);
    if list.len() < GAME_SIZE {
        return None;
    }
    let game: Vec<PlayerId> = list.drain(..GAME_SIZE).collect();
    // Starting a game is slow (a real server contacts eight clients).
    // Holding the guard through it would stall every player trying to
    // join, so release the list as soon as the game is out of it.
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

const READERS: usize = 4;
const FINAL_VERSION: u32 = 5;

fn config_reload() -> Result<String, String> {
    // The lock guards only an `Arc`: readers clone it and let go at once,
    // and a reload is a pointer swap, so neither side holds it for long.
    let current = RwLock::new(config(1));
    // Lets the first reload through only once every reader has read v1.
    let all_reading = Barrier::new(READERS + 1);
    let reads = thread::scope(|s| {
        let readers: Vec<_> = (0..READERS)
            .map(|_| s.spawn(|| read_until_final(&current, &all_reading)))
            .collect();
        all_reading.wait();
        for version in 2..=FINAL_VERSION {
            let fresh = config(version); // built before taking the lock
            *current.write().unwrap() = fresh;
            thread::yield_now(); // a chance for readers to see this version
        }
        let results = readers.into_iter().map(|r| r.join().unwrap());
        results.collect::<Result<Vec<usize>, String>>()
    })?;
    Ok(format!(
        "{READERS} readers started on v1 and read on through {} reloads to \
         v{FINAL_VERSION} ({reads:?} reads each), never torn or stale",
        FINAL_VERSION - 1
    ))
}

/// Reads until the final version shows up; returns how many reads it took.
fn read_until_final(current: &RwLock<Arc<Config>>, all_reading: &Barrier) -> Result<usize, String> {
    let mut last_version = current.read().unwrap().version;
    all_reading.wait();
    let mut reads = 1;
    while last_version < FINAL_VERSION {
        thread::yield_now();
        let snapshot = Arc::clone(&current.read().unwrap());
        let version = snapshot.version;
        ensure!(snapshot.max_players == 8 * version, "torn: {snapshot:?}");
        ensure!(version >= last_version, "went back to v{version}");
        (last_version, reads) = (version, reads + 1);
    }
    Ok(reads)
}

// ---- (c) Condvar ----

const WORKERS: usize = 7;
const QUORUM: usize = 5;

#[derive(Debug, Default)]
struct Roster {
    ready: usize,
    go: bool,
    started: usize,
}

fn quorum() -> Result<String, String> {
    let (roster, changed) = (Mutex::new(Roster::default()), Condvar::new());
    let ready_at_go = thread::scope(|s| {
        for w in 0..WORKERS as u64 {
            let (roster, changed) = (&roster, &changed);
            s.spawn(move || {
                // Uneven warm-ups, so workers get ready in any order.
                std::hint::black_box((0..(w + 1) * 30_000).sum::<u64>());
                roster.lock().unwrap().ready += 1;
                // notify_all: the coordinator and the workers waiting for
                // "go" share this Condvar, and notify_one might wake a
                // worker instead of the coordinator.
                changed.notify_all();
                let guard = roster.lock().unwrap();
                changed.wait_while(guard, |r| !r.go).unwrap().started += 1;
            });
        }
        // wait_while re-checks after every wake-up, covering spurious ones
        // and notifications meant for someone else.
        let guard = roster.lock().unwrap();
        let mut roster = changed.wait_while(guard, |r| r.ready < QUORUM).unwrap();
        roster.go = true;
        changed.notify_all();
        roster.ready
    });
    let started = roster.into_inner().unwrap().started;
    ensure!(ready_at_go >= QUORUM, "went with only {ready_at_go} ready");
    ensure!(started == WORKERS, "only {started} workers started");
    Ok(format!(
        "coordinator woke with {ready_at_go} of {WORKERS} ready (quorum \
         {QUORUM}), then all {started} started"
    ))
}

// ---- (d) AtomicBool ----

fn cancellation() -> Result<String, String> {
    let (cancel, progress) = (AtomicBool::new(false), AtomicU64::new(0));
    let (found, latency) = thread::scope(|s| {
        let search = s.spawn(|| find_odd_perfect_number(&cancel, &progress));
        // Let it get going, so the cancel provably interrupts real work.
        while progress.load(Relaxed) < 20_000 && !search.is_finished() {
            thread::yield_now();
        }
        let cancelled_at = Instant::now();
        // Relaxed is enough: the flag publishes no other data, and the
        // store reaches the searching thread promptly regardless.
        cancel.store(true, Relaxed);
        (search.join().unwrap(), cancelled_at.elapsed())
    });
    ensure!(found.is_none(), "found an odd perfect number?! {found:?}");
    let checked = progress.load(Relaxed);
    ensure!(checked >= 20_000, "stopped early, at {checked}");
    Ok(format!(
        "search stopped after ~{checked} candidates, {latency:?} after the cancel"
    ))
}

/// None is known (none exists below 10^1500), so this runs until cancelled.
fn find_odd_perfect_number(cancel: &AtomicBool, progress: &AtomicU64) -> Option<u64> {
    for (checked, n) in (3_u64..).step_by(2).enumerate() {
        // Every 1024th candidate keeps the checks off the hot path and
        // still stops within milliseconds.
        if checked.is_multiple_of(1024) {
            progress.store(checked as u64, Relaxed);
            if cancel.load(Relaxed) {
                return None;
            }
        }
        let proper_divisor_sum: u64 = (1..)
            .take_while(|d| d * d <= n)
            .filter(|d| n.is_multiple_of(*d))
            .map(|d| if d == 1 || d * d == n { d } else { d + n / d })
            .sum();
        if proper_divisor_sum == n {
            return Some(n);
        }
    }
    None
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
    const THREADS: usize = 8;
    let start = Barrier::new(THREADS); // so they race for the first touch
    thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                start.wait();
                std::hint::black_box(SERVER_NAME.len());
            });
        }
    });
    let inits = NAME_INITS.load(Relaxed);
    ensure!(inits == 1, "the lazy global was initialised {inits} times");
    // GAMES_STARTED, the other static counter, was bumped from many
    // threads in (a) without losing a count.
    let games = GAMES_STARTED.load(Relaxed);
    Ok(format!(
        "{THREADS} threads raced for {:?}, initialised once; \
         GAMES_STARTED = {games}",
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
    let ledger = Mutex::new(Ledger::default());
    ledger.lock().unwrap().record(100);
    ledger.lock().unwrap().record(250);

    // The panic is expected, so a silent hook keeps it off stderr. Only the
    // poisoner runs while it is installed, so no other panic is hidden.
    let previous_hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let poisoner = thread::scope(|s| s.spawn(|| ledger.lock().unwrap().record(i64::MAX)).join());
    panic::set_hook(previous_hook);
    ensure!(poisoner.is_err() && ledger.is_poisoned(), "not poisoned");

    let mut repaired = match ledger.lock() {
        Ok(_) => return Err("lock() should report the poisoning".into()),
        // The data is all there, just possibly inconsistent.
        Err(poisoned) => poisoned.into_inner(),
    };
    ensure!(!repaired.is_consistent(), "expected a half-updated ledger");
    // Roll back the entries that the total never took in, then validate.
    while !repaired.is_consistent() && repaired.entries.pop().is_some() {}
    ensure!(repaired.is_consistent(), "cannot repair {repaired:?}");
    drop(repaired);
    // Repaired, so later lockers need not each deal with the poison again.
    ledger.clear_poison();

    let mut book = ledger.lock().map_err(|_| "still poisoned")?;
    book.record(50);
    ensure!(book.total == 400 && book.entries.len() == 3, "{book:?}");
    Ok(format!(
        "a thread panicked mid-update; main rolled back its entry, cleared \
         the poison and went on: entries {:?}, total {}",
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
