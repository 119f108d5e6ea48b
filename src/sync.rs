//! Locks that ignore poison, and the switch between std's primitives and
//! loom's for the wake-up protocols in [`crate::wake`], so that `loom` can
//! explore every interleaving of them (run with `--cfg loom`; the models sit
//! at the bottom of each protocol's file).

/// The atomics, mutexes and threads the wake-up protocols use: loom's under
/// `--cfg loom`, std's otherwise. Everything else uses std's directly.
pub(crate) mod shim {
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

    /// Locks `mutex`, ignoring poison: the protocols hold these locks only
    /// to store or take a value whole, never across user code.
    pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
        mutex
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Locks a std `mutex`, ignoring poison: threadpipe never runs user code
/// while it holds a lock of its own, so a panic cannot leave the data
/// behind one half-changed.
pub(crate) fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
