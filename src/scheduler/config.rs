//! How the process-wide set is sized: by [`ThreadSetBuilder`](crate::ThreadSetBuilder)
//! before first use, else by the environment, else by the machine.

use std::sync::OnceLock;
use std::time::Duration;

use crate::wake::cores;

/// The environment variable that sets how many threads may be busy at
/// once, as `RAYON_NUM_THREADS` does for rayon: a positive number; unset,
/// empty or `0` means one per core.
pub(crate) const THREADS_VARIABLE: &str = "THREADPIPE_NUM_THREADS";

/// How long an idle thread of the set waits for work before it exits, by
/// default: long enough that a program that runs pipelines in a loop keeps
/// its threads, short enough that one that is done with them gets its
/// memory back within a second.
pub(crate) const DEFAULT_KEEPALIVE: Duration = Duration::from_secs(1);

/// The settings of the process-wide set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Config {
    /// At most this many threads run stages' work at once.
    pub(crate) threads: usize,
    /// Idle threads exit after this long without work.
    pub(crate) keepalive: Duration,
}

static CONFIG: OnceLock<Config> = OnceLock::new();

/// The settings in force: those [`configure`] set, or the defaults, fixed
/// at the first call.
pub(crate) fn get() -> Config {
    *CONFIG.get_or_init(|| {
        let config = Config {
            threads: default_threads(),
            keepalive: DEFAULT_KEEPALIVE,
        };
        sync_budget(config);
        config
    })
}

/// How many threads may be busy, unless configured: what
/// [`THREADS_VARIABLE`] says, else one per core.
pub(crate) fn default_threads() -> usize {
    from_environment().unwrap_or_else(cores::cores)
}

/// Sets the settings before the set is first used; `false` if it already
/// has been (or was configured before), and then nothing changes.
pub(crate) fn configure(config: Config) -> bool {
    let set = CONFIG.set(config).is_ok();
    if set {
        sync_budget(config);
    }
    set
}

/// Sizes the budget the set's threads share. It may have been made already
/// (a consumer asked whether the machine is crowded): then it keeps one
/// thread per core, which is what `threads` defaults to anyway.
fn sync_budget(config: Config) {
    let _ = cores::configure(config.threads);
}

/// The thread count [`THREADS_VARIABLE`] asks for, if it asks for one. A
/// value that is not a number is reported once, on stderr, and ignored,
/// rather than failing a program over a tuning knob.
fn from_environment() -> Option<usize> {
    let value = std::env::var_os(THREADS_VARIABLE)?;
    let text = value.to_string_lossy();
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    match text.parse::<usize>() {
        Ok(0) => None,
        Ok(threads) => Some(threads),
        Err(_) => {
            eprintln!(
                "threadpipe: ignoring {THREADS_VARIABLE}={text:?}: not a number of threads; \
                 using one per core ({})",
                cores::cores()
            );
            None
        }
    }
}
