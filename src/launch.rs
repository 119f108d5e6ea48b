//! Starting worker threads, detached or inside a scope, and joining them;
//! and whether stages run inline, on the consumer's thread, instead.

use std::sync::{Arc, Mutex, OnceLock};
use std::thread::{self, JoinHandle, Scope, ScopedJoinHandle};

use crate::sync::lock;
use crate::unwind;
use crate::wake::crowding;

/// Where a worker thread lives: detached, or inside a [`Scope`] so it may borrow.
pub(crate) trait Launch<'scope>: Copy {
    /// Starts a thread named `name` that runs `body` on `input`; gives
    /// `input` back if the operating system cannot start a thread (or the
    /// target has none, as `wasm32-unknown-unknown`), so that the caller
    /// can run the work itself.
    fn spawn_with<T: Send + 'scope>(
        self,
        name: String,
        input: T,
        body: impl FnOnce(T) + Send + 'scope,
    ) -> Result<WorkerThread<'scope>, T> {
        // The input waits in a slot the thread empties as it starts: a
        // thread that never starts leaves it there for the caller.
        let slot = Arc::new(Mutex::new(Some(input)));
        let handed = Arc::clone(&slot);
        let started = self.spawn(name, move || {
            let _worker = crowding::Worker::enter();
            let input = lock(&handed).take();
            drop(handed);
            if let Some(input) = input {
                body(input);
            }
        });
        started.map_err(|_| {
            lock(&slot)
                .take()
                .expect("a thread that did not start took nothing")
        })
    }

    /// Starts a thread named `name` running `body`.
    fn spawn(
        self,
        name: String,
        body: impl FnOnce() + Send + 'scope,
    ) -> std::io::Result<WorkerThread<'scope>>;
}

/// Launches detached threads: whatever they run must be `'static`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Detached;

impl Launch<'static> for Detached {
    fn spawn(
        self,
        name: String,
        body: impl FnOnce() + Send + 'static,
    ) -> std::io::Result<WorkerThread<'static>> {
        let handle = thread::Builder::new().name(name).spawn(body)?;
        Ok(WorkerThread::Detached(handle))
    }
}

impl<'scope> Launch<'scope> for &'scope Scope<'scope, '_> {
    fn spawn(
        self,
        name: String,
        body: impl FnOnce() + Send + 'scope,
    ) -> std::io::Result<WorkerThread<'scope>> {
        let handle = thread::Builder::new().name(name).spawn_scoped(self, body)?;
        Ok(WorkerThread::Scoped(handle))
    }
}

/// A worker thread, scoped or not: joined when its stream has ended.
pub(crate) enum WorkerThread<'scope> {
    Detached(JoinHandle<()>),
    Scoped(ScopedJoinHandle<'scope, ()>),
}

impl WorkerThread<'_> {
    /// Waits for the thread to exit.
    pub(crate) fn join(self) {
        let joined = match self {
            WorkerThread::Detached(handle) => handle.join(),
            WorkerThread::Scoped(handle) => handle.join(),
        };
        // Workers catch every panic of the code they run, so a thread itself
        // only panics if threadpipe does; pass that on unchanged.
        if let Err(payload) = joined {
            unwind::resume(payload);
        }
    }
}

/// The environment variable that makes every stage of the program run
/// inline, on its consumer's thread, as if the adapters were not there:
/// set to anything but `0` or nothing.
pub(crate) const INLINE_VARIABLE: &str = "THREADPIPE_INLINE";

/// Whether [`INLINE_VARIABLE`] asks for every stage to run inline; read once.
pub(crate) fn inline_everywhere() -> bool {
    static INLINE: OnceLock<bool> = OnceLock::new();
    *INLINE.get_or_init(|| {
        std::env::var_os(INLINE_VARIABLE).is_some_and(|value| !value.is_empty() && value != "0")
    })
}

/// A launcher for tests that starts a given number of threads and then
/// refuses, as an operating system out of threads, or a target without
/// them, does.
#[cfg(all(test, not(loom)))]
pub(crate) mod refusing {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::{Detached, Launch, WorkerThread};

    #[derive(Clone, Copy, Debug)]
    pub(crate) struct Refusing {
        /// Threads it will still start.
        pub(crate) starts: &'static AtomicUsize,
    }

    impl Refusing {
        /// Starts `starts` threads, then refuses.
        pub(crate) fn after(starts: usize) -> Self {
            Refusing {
                starts: Box::leak(Box::new(AtomicUsize::new(starts))),
            }
        }
    }

    impl Launch<'static> for Refusing {
        fn spawn(
            self,
            name: String,
            body: impl FnOnce() + Send + 'static,
        ) -> std::io::Result<WorkerThread<'static>> {
            let allowed = self
                .starts
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                    left.checked_sub(1)
                });
            match allowed {
                Ok(_) => Detached.spawn(name, body),
                Err(_) => Err(std::io::ErrorKind::Unsupported.into()),
            }
        }
    }
}
