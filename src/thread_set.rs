//! The public face of the process-wide set of threads: how many may be
//! busy at once, and how long an idle one waits before it exits.

use std::fmt;
use std::time::Duration;

use crate::scheduler::{self, Config, DEFAULT_KEEPALIVE};
use crate::thread_name;

/// Sizes the set of threads every stage of the process runs on, before
/// its first use, as rayon's `ThreadPoolBuilder::build_global` does.
///
/// Every `off_thread` and `parallel_map` stage, in every pipeline and at
/// every nesting depth, runs on one set of threads, started when first
/// needed: at most [`threads`](ThreadSetBuilder::threads) of them run
/// stages' work at once (one per core by default, or as many as the
/// `THREADPIPE_NUM_THREADS` environment variable says). A thread blocked
/// inside a source or a closure (a socket, a channel, stdin) does not
/// count while it is blocked: another takes its place within about a
/// millisecond. An idle thread exits after the
/// [`keepalive`](ThreadSetBuilder::keepalive), one second by default.
///
/// Configure the set once, early in `main`, before any stage has run;
/// afterwards [`build_global`](ThreadSetBuilder::build_global) returns an
/// error and changes nothing.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadpipe::ThreadSetBuilder;
///
/// // At most two busy threads; idle ones leave after 100 ms.
/// let configured = ThreadSetBuilder::new()
///     .threads(2)
///     .keepalive(Duration::from_millis(100))
///     .build_global();
/// // Only the first configuration of a process counts.
/// if configured.is_err() {
///     eprintln!("the thread set was already in use");
/// }
/// ```
#[derive(Clone, Debug, Default)]
#[must_use = "a builder does nothing until `build_global` is called"]
pub struct ThreadSetBuilder {
    threads: Option<usize>,
    keepalive: Option<Duration>,
}

impl ThreadSetBuilder {
    /// A builder with the defaults: one busy thread per core (or what
    /// `THREADPIPE_NUM_THREADS` says), idle threads kept one second.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = threadpipe::ThreadSetBuilder::new();
    /// # let _ = builder;
    /// ```
    pub fn new() -> Self {
        ThreadSetBuilder::default()
    }

    /// Sets how many threads may run stages' work at once, across every
    /// pipeline of the process; `ParallelMapOptions::threads` caps one
    /// stage within this.
    ///
    /// # Panics
    ///
    /// If `threads` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = threadpipe::ThreadSetBuilder::new().threads(8);
    /// # let _ = builder;
    /// ```
    pub fn threads(mut self, threads: usize) -> Self {
        assert!(
            threads > 0,
            "threadpipe: the thread set needs at least 1 thread"
        );
        self.threads = Some(threads);
        self
    }

    /// Sets how long an idle thread waits for work before it exits.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let builder = threadpipe::ThreadSetBuilder::new().keepalive(Duration::from_millis(250));
    /// # let _ = builder;
    /// ```
    pub fn keepalive(mut self, keepalive: Duration) -> Self {
        self.keepalive = Some(keepalive);
        self
    }

    /// Applies the settings to the process-wide set.
    ///
    /// # Errors
    ///
    /// [`ThreadSetError`] if the set was already configured or in use
    /// (any stage has started); nothing changes then.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadpipe::prelude::*;
    /// use threadpipe::ThreadSetBuilder;
    ///
    /// let _ = ThreadSetBuilder::new().threads(4).build_global();
    /// let sum: u64 = (0..100u64).parallel_map(|n| n * 2).sum();
    /// assert_eq!(sum, 9900);
    /// // Too late now: the set is in use.
    /// assert!(ThreadSetBuilder::new().threads(2).build_global().is_err());
    /// ```
    pub fn build_global(self) -> Result<(), ThreadSetError> {
        let threads = self.threads.unwrap_or_else(scheduler::default_threads);
        let config = Config {
            threads,
            keepalive: self.keepalive.unwrap_or(DEFAULT_KEEPALIVE),
        };
        if scheduler::configure(config) {
            Ok(())
        } else {
            Err(ThreadSetError(()))
        }
    }
}

/// The error of [`ThreadSetBuilder::build_global`]: the set was already
/// configured, or already in use.
///
/// # Examples
///
/// ```
/// use threadpipe::ThreadSetBuilder;
///
/// let _ = ThreadSetBuilder::new().build_global();
/// let error = ThreadSetBuilder::new().build_global().unwrap_err();
/// assert_eq!(error.to_string(), "the thread set was already configured or in use");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadSetError(());

impl fmt::Display for ThreadSetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the thread set was already configured or in use")
    }
}

impl std::error::Error for ThreadSetError {}

/// The name of the stage the calling thread is running, if it is one of
/// threadpipe's threads running a stage: the [`OffThreadOptions::name`](crate::OffThreadOptions::name)
/// of an `off_thread` stage, or `name-<n>` for a `parallel_map` stage
/// (see [`ParallelMapOptions::name`](crate::ParallelMapOptions::name)).
/// `None` on any other thread, and inside a stage that runs inline.
///
/// The threads of the shared set take a stage's name while they run it:
/// this function tells it, on every platform; where the operating system
/// lets a thread rename itself (Linux), `top -H`, `ps -L`, debuggers and
/// panic messages show it too. (Rust's own name for the thread,
/// [`std::thread::Thread::name`], is fixed when a thread starts, and stays
/// `threadpipe`.)
///
/// # Examples
///
/// ```
/// use threadpipe::prelude::*;
/// use threadpipe::OffThreadOptions;
///
/// let mut stage = std::iter::once(())
///     .map(|()| threadpipe::current_stage_name())
///     .off_thread_with(OffThreadOptions::new().name("parser"));
/// assert_eq!(stage.next(), Some(Some("parser".to_owned())));
/// // The consumer's thread runs no stage.
/// assert_eq!(threadpipe::current_stage_name(), None);
/// ```
pub fn current_stage_name() -> Option<String> {
    thread_name::current()
}
