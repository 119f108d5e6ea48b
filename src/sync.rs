//! Locks that ignore poison, and the switch between std's primitives and
//! loom's for the protocols loom checks (the wake-up ones in
//! [`crate::wake`], a stage's runs, the pool's hand-back of its source), so
//! that `loom` can explore every interleaving of them (run with
//! `--cfg loom`; the models sit at the bottom of each protocol's file).

/// The atomics, mutexes and threads those protocols use: loom's under
/// `--cfg loom`, std's otherwise. Everything else uses std's directly.
pub(crate) mod shim {
    #[cfg(loom)]
    pub(crate) use loom::sync::Mutex;
    #[cfg(loom)]
    pub(crate) use loom::sync::atomic::{AtomicUsize, Ordering, fence};
    #[cfg(loom)]
    pub(crate) use loom::thread::{self, Thread};

    #[cfg(not(loom))]
    pub(crate) use std::sync::Mutex;
    #[cfg(not(loom))]
    pub(crate) use std::sync::atomic::{AtomicUsize, Ordering, fence};
    #[cfg(not(loom))]
    pub(crate) use std::thread::{self, Thread};
}

/// A mutex, std's or (under `--cfg loom`) loom's, locked ignoring poison.
///
/// The one lock threadpipe holds across user code, a `parallel_map`'s
/// source (held by whoever pulls, for the calls of its `next` and its
/// drop), calls it under a catch, so a panic never unwinds through the
/// lock; every other lock guards a store or a take of a whole value. So no
/// panic can leave the data behind a lock half-changed, and poison would
/// only tell of a bug of threadpipe's own.
pub(crate) trait Lock {
    type Guard<'a>
    where
        Self: 'a;

    /// The lock's guard, whether or not a panic poisoned it.
    fn locked(&self) -> Self::Guard<'_>;
}

impl<T> Lock for std::sync::Mutex<T> {
    type Guard<'a>
        = std::sync::MutexGuard<'a, T>
    where
        T: 'a;

    fn locked(&self) -> Self::Guard<'_> {
        self.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(loom)]
impl<T> Lock for loom::sync::Mutex<T> {
    type Guard<'a>
        = loom::sync::MutexGuard<'a, T>
    where
        T: 'a;

    fn locked(&self) -> Self::Guard<'_> {
        self.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
