//! A watchdog for tests that run threads: a deadlock fails the run with
//! the test's name instead of hanging it. Shared with the examples' tests,
//! which include this file by path.
#![allow(dead_code, unreachable_pub)]

use std::sync::mpsc::{self, Sender};
use std::time::Duration;

/// How long a whole test may run before its [`watchdog`] declares it hung
/// (under Miri, which runs the code about a thousand times slower, on a
/// clock that counts its steps, longer).
pub const HANG: Duration = Duration::from_secs(if cfg!(miri) { 600 } else { 60 });

/// How long a hung test's process stays, once declared hung, when
/// `THREADPIPE_HOLD_HUNG_TESTS` is set: time to attach a debugger.
const HOLD: Duration = Duration::from_secs(600);

/// Fails the test run if it is still alive after [`HANG`]: a deadlock in the
/// code under test then ends in a clear message under plain `cargo test`,
/// as it does under nextest's timeout, instead of a run that never ends.
/// Keep the guard alive for the whole test: `let _watchdog = watchdog();`.
/// The test is named by its thread, which the test harness names after it.
#[must_use = "the watchdog stops watching when the guard is dropped"]
pub fn watchdog() -> Watchdog {
    let test = std::thread::current()
        .name()
        .unwrap_or("a test on an unnamed thread")
        .to_owned();
    watchdog_for(&format!("test `{test}`"), HANG)
}

/// A [`watchdog`] for one piece of a test, `what`, allowed `patience`.
#[must_use = "the watchdog stops watching when the guard is dropped"]
pub fn watchdog_for(what: &str, patience: Duration) -> Watchdog {
    let (done, finished) = mpsc::channel::<()>();
    let what = what.to_owned();
    std::thread::Builder::new()
        .name("watchdog".to_owned())
        .spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = finished.recv_timeout(patience) {
                // Straight to stderr: the harness captures `eprintln!` of
                // the test's threads, and would lose it with the process.
                let message =
                    format!("watchdog: {what} is still running after {patience:?}: it hangs\n");
                let _ = std::io::Write::write_all(&mut std::io::stderr(), message.as_bytes());
                if std::env::var_os("THREADPIPE_HOLD_HUNG_TESTS").is_some() {
                    // Keeps the hung threads as they are, for a debugger
                    // (`gdb -p <pid> -batch -ex "thread apply all bt"`).
                    let _ = std::io::Write::write_all(
                        &mut std::io::stderr(),
                        format!(
                            "watchdog: holding process {} for {HOLD:?}\n",
                            std::process::id()
                        )
                        .as_bytes(),
                    );
                    std::thread::sleep(HOLD);
                }
                std::process::exit(101);
            }
        })
        .expect("spawn the watchdog");
    Watchdog { _done: done }
}

/// Keeps a [`watchdog`] watching until dropped.
pub struct Watchdog {
    _done: Sender<()>,
}
