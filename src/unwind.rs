//! The one place where threadpipe catches a panic of user code and raises it
//! again on another thread.
//!
//! Every call into user code that runs on a worker (a source's `next` and
//! `drop`, a `parallel_map` closure, the drop of an item or result that
//! threadpipe owns) goes through [`catch`]; the payload travels to the
//! consumer as a value, in order with the items, and [`resume`] raises it
//! there unchanged, as [`std::thread::JoinHandle::join`] and rayon's `join`
//! do. Catching is sound wherever it happens here: after a panic the
//! value that panicked is never used again, only dropped, and only the
//! payload leaves.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};

/// What a panicking thread leaves behind: the value given to `panic!`.
pub(crate) type PanicPayload = Box<dyn Any + Send + 'static>;

/// Runs `body`, returning its panic as a value instead of unwinding.
#[inline]
pub(crate) fn catch<R>(body: impl FnOnce() -> R) -> Result<R, PanicPayload> {
    panic::catch_unwind(AssertUnwindSafe(body))
}

/// Drops `value`, returning the panic of its `Drop`, if any, as a value.
pub(crate) fn catch_drop<T>(value: T) -> Result<(), PanicPayload> {
    catch(move || drop(value))
}

/// Raises `payload` again on this thread, unchanged.
pub(crate) fn resume(payload: PanicPayload) -> ! {
    panic::resume_unwind(payload)
}

/// Keeps the first of several panics: the one that reaches the consumer.
/// Later ones (a second part failing while the first unwinds) are dropped,
/// as rayon's `join` drops the second of two panics.
#[derive(Default)]
pub(crate) struct FirstPanic(Option<PanicPayload>);

impl FirstPanic {
    /// Records `outcome`'s panic, unless an earlier one is already kept.
    pub(crate) fn keep(&mut self, outcome: Result<(), PanicPayload>) {
        if let Err(payload) = outcome {
            self.0.get_or_insert(payload);
        }
    }

    /// The kept panic, if any, as an error.
    pub(crate) fn into_result(self) -> Result<(), PanicPayload> {
        self.0.map_or(Ok(()), Err)
    }

    /// Raises the kept panic, if any.
    pub(crate) fn resume_if_any(self) {
        if let Some(payload) = self.0 {
            resume(payload);
        }
    }
}

impl std::fmt::Debug for FirstPanic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("FirstPanic")
            .field(&self.0.is_some())
            .finish()
    }
}
