//! Test doubles shared by the integration tests: sources that count, block,
//! panic or report their drop, and a view of this process's threads.
#![allow(dead_code, unreachable_pub)] // each test binary uses a different part

mod census;
mod checks;
mod tracked;
mod watchdog;

#[allow(unused_imports)]
pub use census::{Census, Ended, Source};
#[allow(unused_imports)]
pub use checks::{
    assert_early_drop, assert_panics_after, assert_results_before_panic, drain_to_panic,
    wait_until_stopped,
};
#[allow(unused_imports)]
pub use tracked::{Tracked, Tracker};
#[allow(unused_imports)]
pub use watchdog::{watchdog, watchdog_for};

use std::fmt;
use std::fs;
use std::ops::RangeInclusive;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use threadpipe::ParallelMapOptions;

/// How long a test waits for something that should happen at once before it
/// fails; only reached when the code under test is broken. Miri runs the
/// code about a thousand times slower, on a clock that counts its steps.
pub const PATIENCE: Duration = Duration::from_secs(if cfg!(miri) { 300 } else { 20 });

/// Yields 0, 1, 2, ... up to `len` (or forever), counting every pull, and
/// reports on `dropped` when it is dropped: the thread it is dropped on
/// (one of the stage's, never the consumer's).
pub struct Counting {
    next: usize,
    len: Option<usize>,
    pub pulls: Arc<AtomicUsize>,
    dropped: Option<Sender<ThreadId>>,
}

impl Counting {
    pub fn new(len: Option<usize>) -> Self {
        Counting {
            next: 0,
            len,
            pulls: Arc::new(AtomicUsize::new(0)),
            dropped: None,
        }
    }

    /// Also returns a receiver that gets a message when the source is
    /// dropped: the id of the thread that dropped it.
    pub fn with_drop_signal(len: Option<usize>) -> (Self, Receiver<ThreadId>) {
        let (sender, receiver) = mpsc::channel();
        let mut source = Counting::new(len);
        source.dropped = Some(sender);
        (source, receiver)
    }
}

impl Iterator for Counting {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        self.pulls.fetch_add(1, Ordering::SeqCst);
        if self.len.is_some_and(|len| self.next >= len) {
            return None;
        }
        self.next += 1;
        Some(self.next - 1)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self.len {
            Some(len) => (len - self.next.min(len), Some(len - self.next.min(len))),
            None => (usize::MAX, None),
        }
    }
}

impl Drop for Counting {
    fn drop(&mut self) {
        if let Some(sender) = &self.dropped {
            let _ = sender.send(std::thread::current().id());
        }
    }
}

/// The panic payload the test sources raise, so a test can tell it apart.
#[derive(Debug, PartialEq, Eq)]
pub struct Boom(pub usize);

/// Yields `0..at`, then panics with `Boom(at)`.
pub fn panicking_at(at: usize) -> impl Iterator<Item = usize> + Send + 'static {
    (0..=at).inspect(move |&n| {
        if n == at {
            std::panic::panic_any(Boom(at));
        }
    })
}

/// Pulls `iter` to its end, catching a panic: the items, then the payload if any.
pub fn drain_catching<I: Iterator>(
    iter: &mut I,
) -> (Vec<I::Item>, Option<Box<dyn std::any::Any + Send>>) {
    let mut items = Vec::new();
    loop {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| iter.next())) {
            Ok(Some(item)) => items.push(item),
            Ok(None) => return (items, None),
            Err(payload) => return (items, Some(payload)),
        }
    }
}

/// This process's threads whose name starts with `prefix` (Linux truncates
/// thread names to 15 bytes, so keep test stage names shorter than that).
/// Miri has no `/proc`: a test that needs this is ignored under Miri, or
/// uses [`wait_until_no_thread_is_named`].
pub fn threads_named(prefix: &str) -> Vec<ThreadInfo> {
    if cfg!(miri) {
        panic!("Miri has no /proc: ignore this test under Miri");
    }
    let mut found = Vec::new();
    for entry in fs::read_dir("/proc/self/task").expect("/proc/self/task is readable") {
        let path = entry.expect("task entry").path();
        // A thread may exit between listing and reading; skip it then.
        let Ok(comm) = fs::read_to_string(path.join("comm")) else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(path.join("stat")) else {
            continue;
        };
        if comm.trim_end().starts_with(prefix) {
            // The state follows the parenthesised name, which may hold spaces.
            let state = stat
                .rsplit(')')
                .next()
                .and_then(|rest| rest.trim_start().chars().next());
            found.push(ThreadInfo {
                state: state.unwrap_or('?'),
                name: comm.trim_end().to_owned(),
            });
        }
    }
    found
}

/// Waits until no thread's name starts with `prefix` (see [`wait_until`]):
/// the stage's threads have left it. Under Miri, which has no `/proc` (and
/// under which threadpipe names no thread), this checks nothing: call it
/// only where nothing after it relies on the wait.
pub fn wait_until_no_thread_is_named(prefix: &str, what: &str) {
    if !cfg!(miri) {
        wait_until(what, || threads_named(prefix).is_empty());
    }
}

/// What `/proc` says about one thread.
#[derive(Debug)]
pub struct ThreadInfo {
    /// `R` running, `S` sleeping, ... (proc(5)).
    pub state: char,
    pub name: String,
}

/// Drops `value` on another thread and fails, naming `what`, unless the
/// drop returns within [`PATIENCE`]: a drop that blocked would hang here.
/// The id of the thread that dropped it.
pub fn assert_drop_returns<T: Send + 'static>(value: T, what: &str) -> ThreadId {
    let (done, drop_finished) = mpsc::channel();
    let dropper = std::thread::spawn(move || {
        drop(value);
        let _ = done.send(());
    });
    assert!(
        drop_finished.recv_timeout(PATIENCE).is_ok(),
        "drop did not return: {what}"
    );
    dropper.thread().id()
}

/// Polls `condition` until it holds; panics with `what` after [`PATIENCE`].
pub fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Tells when a stage has let go of what it held: hand a [`LetGo::token`]
/// to the code the stage runs (a closure's capture, a source's field); the
/// token notes, as it is dropped, that it was and on which thread.
#[derive(Clone, Default)]
pub struct LetGo {
    dropped_on: Arc<std::sync::Mutex<Vec<std::thread::ThreadId>>>,
}

/// Held by a stage; see [`LetGo`].
pub struct Token(Arc<std::sync::Mutex<Vec<std::thread::ThreadId>>>);

impl Drop for Token {
    fn drop(&mut self) {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(std::thread::current().id());
    }
}

impl LetGo {
    pub fn token(&self) -> Token {
        Token(Arc::clone(&self.dropped_on))
    }

    /// How many tokens have been dropped so far.
    pub fn dropped(&self) -> usize {
        self.dropped_on.lock().unwrap().len()
    }

    /// The threads the tokens were dropped on.
    pub fn dropped_on(&self) -> Vec<std::thread::ThreadId> {
        self.dropped_on.lock().unwrap().clone()
    }
}

/// The name of the stage the calling thread runs, as threadpipe tells it.
pub fn stage_name() -> Option<String> {
    threadpipe::current_stage_name()
}

/// A source that answers a consumer: it yields item `k + 1` only once the
/// consumer has handled `k + 1` results (see [`RequestResponse::handled`]),
/// as a server loop reading requests that depend on its replies does. If
/// the consumer's next result does not come within [`PATIENCE`], it gives
/// up and ends early, so a pipeline that held a result back ends short
/// instead of hanging.
pub struct RequestResponse {
    next: usize,
    len: usize,
    handled: Receiver<()>,
    pub gave_up: Arc<std::sync::atomic::AtomicBool>,
}

impl RequestResponse {
    /// The source, and where the consumer reports each result it handled.
    pub fn new(len: usize) -> (Self, Sender<()>) {
        let (report, handled) = mpsc::channel();
        let source = RequestResponse {
            next: 0,
            len,
            handled,
            gave_up: Arc::default(),
        };
        (source, report)
    }
}

impl Iterator for RequestResponse {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        if self.next == self.len {
            return None;
        }
        if self.next > 0 && self.handled.recv_timeout(PATIENCE).is_err() {
            self.gave_up.store(true, Ordering::SeqCst);
            return None;
        }
        self.next += 1;
        Some(self.next - 1)
    }
}

/// Yields `0..len`, but after item `stall_after` waits until released (or
/// [`PATIENCE`] has passed, which it records), as a socket that goes quiet.
pub struct Stalling {
    next: usize,
    len: usize,
    stall_after: usize,
    release: Receiver<()>,
    pub timed_out: Arc<std::sync::atomic::AtomicBool>,
}

impl Stalling {
    /// The source, and the sender that releases the stall.
    pub fn new(len: usize, stall_after: usize) -> (Self, Sender<()>) {
        let (release, released) = mpsc::channel();
        let source = Stalling {
            next: 0,
            len,
            stall_after,
            release: released,
            timed_out: Arc::default(),
        };
        (source, release)
    }
}

impl Iterator for Stalling {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        if self.next == self.stall_after + 1 && self.release.recv_timeout(PATIENCE).is_err() {
            self.timed_out.store(true, Ordering::SeqCst);
        }
        if self.next == self.len {
            return None;
        }
        self.next += 1;
        Some(self.next - 1)
    }
}

/// Yields `0..len`, but its call of `next` for item `stuck_at` gets stuck
/// until released (or [`PATIENCE`] has passed, which it records), as a
/// socket that goes quiet: [`Stuck`] tells the test when a thread is
/// stuck in it, and which, and on which thread it was dropped.
pub struct StuckAt {
    next: usize,
    len: usize,
    stuck_at: usize,
    gate: Receiver<()>,
    entered: Sender<(ThreadId, Option<String>)>,
    dropped: Sender<ThreadId>,
    calls: Arc<AtomicUsize>,
    is_stuck: Arc<std::sync::atomic::AtomicBool>,
    timed_out: Arc<std::sync::atomic::AtomicBool>,
}

/// The test's end of a [`StuckAt`] source.
pub struct Stuck {
    /// Gets the thread that got stuck, and the stage name it carried.
    pub entered: Receiver<(ThreadId, Option<String>)>,
    /// Gets the thread the source was dropped on.
    pub dropped: Receiver<ThreadId>,
    release: Sender<()>,
    calls: Arc<AtomicUsize>,
    is_stuck: Arc<std::sync::atomic::AtomicBool>,
    timed_out: Arc<std::sync::atomic::AtomicBool>,
}

impl StuckAt {
    /// The source, and the test's end of it. Dropping [`Stuck`] releases
    /// the source too, so a failing test does not leave it stuck.
    pub fn new(len: usize, stuck_at: usize) -> (Self, Stuck) {
        let (release, gate) = mpsc::channel();
        let (entered_sender, entered) = mpsc::channel();
        let (dropped_sender, dropped) = mpsc::channel();
        let (calls, is_stuck, timed_out) = (Arc::default(), Arc::default(), Arc::default());
        let source = StuckAt {
            next: 0,
            len,
            stuck_at,
            gate,
            entered: entered_sender,
            dropped: dropped_sender,
            calls: Arc::clone(&calls),
            is_stuck: Arc::clone(&is_stuck),
            timed_out: Arc::clone(&timed_out),
        };
        let stuck = Stuck {
            entered,
            dropped,
            release,
            calls,
            is_stuck,
            timed_out,
        };
        (source, stuck)
    }
}

impl Stuck {
    /// Lets the stuck call return.
    pub fn release(&self) {
        // The source may have gone already (it gave up waiting).
        let _ = self.release.send(());
    }

    /// Whether a thread is inside the stuck call now.
    pub fn is_stuck(&self) -> bool {
        self.is_stuck.load(Ordering::SeqCst)
    }

    /// What [`is_stuck`](Self::is_stuck) reads, for a closure to share.
    pub fn stuck_flag(&self) -> Arc<std::sync::atomic::AtomicBool> {
        Arc::clone(&self.is_stuck)
    }

    /// How many calls of `next` have begun.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// Whether the stuck call gave up waiting for its release.
    pub fn timed_out(&self) -> bool {
        self.timed_out.load(Ordering::SeqCst)
    }
}

impl Iterator for StuckAt {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.next == self.stuck_at {
            self.is_stuck.store(true, Ordering::SeqCst);
            let _ = self
                .entered
                .send((std::thread::current().id(), stage_name()));
            match self.gate.recv_timeout(PATIENCE) {
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    self.timed_out.store(true, Ordering::SeqCst);
                }
                Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => {}
            }
            self.is_stuck.store(false, Ordering::SeqCst);
        }
        if self.next == self.len {
            return None;
        }
        self.next += 1;
        Some(self.next - 1)
    }
}

impl Drop for StuckAt {
    fn drop(&mut self) {
        let _ = self.dropped.send(std::thread::current().id());
    }
}

/// A value whose drop panics with `Boom(id)` when `panics` is set.
#[derive(Debug)]
pub struct Fragile {
    pub id: usize,
    pub panics: bool,
}

impl Drop for Fragile {
    fn drop(&mut self) {
        if self.panics && !std::thread::panicking() {
            std::panic::panic_any(Boom(self.id));
        }
    }
}

/// Wraps a source so that dropping it panics with `Boom(usize::MAX)`.
pub struct PanicsOnDrop<I>(pub I);

impl<I: Iterator> Iterator for PanicsOnDrop<I> {
    type Item = I::Item;

    fn next(&mut self) -> Option<I::Item> {
        self.0.next()
    }
}

impl<I> Drop for PanicsOnDrop<I> {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            std::panic::panic_any(Boom(usize::MAX));
        }
    }
}

/// The `Boom` a payload carries, if it is one.
pub fn boom_of(payload: &(dyn std::any::Any + Send)) -> Option<usize> {
    payload.downcast_ref::<Boom>().map(|boom| boom.0)
}

/// A value whose drop always panics, even while its thread is already
/// panicking: a drop that is not caught then aborts the process.
#[derive(Debug)]
pub struct Stubborn(pub usize);

impl Drop for Stubborn {
    fn drop(&mut self) {
        std::panic::panic_any(Boom(self.0));
    }
}

/// A window larger than a `parallel_map` stage's queue of pulled entries
/// and than each of its results rings (4096 each), so that those fill
/// before the window does, for a source that does not tell its length.
pub const LARGE_WINDOW: usize = 5000;

/// One configuration of a `parallel_map` stage that a promise must hold in.
pub struct Setup {
    /// Unique to the setup, and the start of its threads' names.
    pub name: String,
    pub threads: usize,
    /// Completion order rather than input order.
    pub completion: bool,
    pub window: usize,
    pub options: ParallelMapOptions,
}

impl fmt::Display for Setup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let order = if self.completion {
            "completion"
        } else {
            "input"
        };
        write!(
            f,
            "{} ({} threads, {order} order, window {})",
            self.name, self.threads, self.window
        )
    }
}

/// Every thread count in `threads`, in both orders, each with a window of
/// 1, of 8 and of [`LARGE_WINDOW`]; each setup's threads are named `tag`,
/// the count, `i` or `c` for the order, then `1`, `8` or `L` for the
/// window (keep `tag` to four bytes or so: `/proc` shows 15).
pub fn parallel_map_setups(tag: &str, threads: RangeInclusive<usize>) -> Vec<Setup> {
    let mut setups = Vec::new();
    for threads in threads {
        for completion in [false, true] {
            for (window, code) in [(1, '1'), (8, '8'), (LARGE_WINDOW, 'L')] {
                let order = if completion { 'c' } else { 'i' };
                let name = format!("{tag}{threads}{order}{code}");
                let options = ParallelMapOptions::new()
                    .name(&name)
                    .threads(threads)
                    .window(window);
                let options = if completion {
                    options.in_completion_order()
                } else {
                    options
                };
                setups.push(Setup {
                    name,
                    threads,
                    completion,
                    window,
                    options,
                });
            }
        }
    }
    setups
}
