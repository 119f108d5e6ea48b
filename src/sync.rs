//! The synchronisation primitives the hand-off protocol uses: std's, or
//! loom's when built with `--cfg loom`, so that `loom` can explore every
//! interleaving of the protocol (see `bell.rs`).

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicUsize, Ordering, fence};
#[cfg(loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};
#[cfg(loom)]
pub(crate) use loom::thread::{self, Thread};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicUsize, Ordering, fence};
#[cfg(not(loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};
#[cfg(not(loom))]
pub(crate) use std::thread::{self, Thread};

/// Locks `mutex`, ignoring poison: the data behind these locks is only ever
/// replaced whole, so a panic cannot leave it half-changed.
///
/// [`lock_std`] is the same for std's mutexes, which the rest of the crate
/// uses even under loom.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Locks a std `mutex`, ignoring poison: threadpipe never leaves the data
/// behind its locks half-changed, and user code runs outside them.
pub(crate) fn lock_std<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Whom a bell wakes: the thread that sleeps on it names itself here before
/// it announces, in the bell's word, that it sleeps.
#[derive(Debug)]
pub(crate) struct Sleeper(Mutex<Option<Thread>>);

impl Sleeper {
    pub(crate) fn new() -> Self {
        Sleeper(Mutex::new(None))
    }

    /// Names the current thread as the one to wake.
    pub(crate) fn register_current(&self) {
        *lock(&self.0) = Some(thread::current());
    }

    /// Wakes the named thread, if there is one; an unpark that comes before
    /// its park makes that park return at once.
    #[cold]
    pub(crate) fn wake(&self) {
        if let Some(sleeper) = lock(&self.0).as_ref() {
            sleeper.unpark();
        }
    }
}
