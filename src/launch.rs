//! Starting worker threads, detached or inside a scope, and joining them.

use std::panic;
use std::thread::{self, JoinHandle, Scope, ScopedJoinHandle};

use crate::wake::crowding;

/// Where a worker thread lives: detached, or inside a [`Scope`] so it may borrow.
pub(crate) trait Launch<'scope>: Copy {
    /// Starts a thread named `name` running `body`.
    ///
    /// # Panics
    ///
    /// If the operating system cannot start a thread.
    fn spawn(self, name: String, body: impl FnOnce() + Send + 'scope) -> WorkerThread<'scope>;
}

/// Launches detached threads: whatever they run must be `'static`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Detached;

impl Launch<'static> for Detached {
    fn spawn(self, name: String, body: impl FnOnce() + Send + 'static) -> WorkerThread<'static> {
        let builder = thread::Builder::new().name(name.clone());
        match builder.spawn(counted(body)) {
            Ok(handle) => WorkerThread::Detached(handle),
            Err(error) => spawn_failed(&name, &error),
        }
    }
}

impl<'scope> Launch<'scope> for &'scope Scope<'scope, '_> {
    fn spawn(self, name: String, body: impl FnOnce() + Send + 'scope) -> WorkerThread<'scope> {
        let builder = thread::Builder::new().name(name.clone());
        match builder.spawn_scoped(self, counted(body)) {
            Ok(handle) => WorkerThread::Scoped(handle),
            Err(error) => spawn_failed(&name, &error),
        }
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
            panic::resume_unwind(payload);
        }
    }
}

/// `body`, counted as a worker while it runs (see [`crowding`]).
fn counted<'scope>(body: impl FnOnce() + Send + 'scope) -> impl FnOnce() + Send + 'scope {
    move || {
        let _worker = crowding::Worker::enter();
        body();
    }
}

fn spawn_failed(name: &str, error: &std::io::Error) -> ! {
    panic!("threadpipe: failed to spawn worker thread `{name}`: {error}")
}
