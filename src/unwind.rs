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

/// Lets go of what a call left that nobody will see (the panic of a drop
/// after the stream's first panic, or after its end): a payload is dropped
/// under a catch, and should its own drop panic too, that second payload is
/// forgotten rather than dropped, so that no panic escapes from here.
pub(crate) fn discard<T>(outcome: Result<T, PanicPayload>) {
    if let Err(payload) = outcome
        && let Err(worse) = catch(move || drop(payload))
    {
        std::mem::forget(worse);
    }
}

/// Keeps the first of several panics: the one that reaches the consumer.
/// Later ones (a second part failing while the first unwinds) are dropped,
/// as rayon's `join` drops the second of two panics.
#[derive(Default)]
pub(crate) struct FirstPanic(Option<PanicPayload>);

impl FirstPanic {
    /// Records `outcome`'s panic, unless an earlier one is already kept;
    /// a later one is [discarded](discard).
    pub(crate) fn keep(&mut self, outcome: Result<(), PanicPayload>) {
        match (&self.0, outcome) {
            (_, Ok(())) => {}
            (None, Err(payload)) => self.0 = Some(payload),
            (Some(_), later) => discard(later),
        }
    }

    /// The kept panic, if any, as an error.
    pub(crate) fn into_result(mut self) -> Result<(), PanicPayload> {
        self.0.take().map_or(Ok(()), Err)
    }

    /// Raises the kept panic, if any.
    pub(crate) fn resume_if_any(mut self) {
        if let Some(payload) = self.0.take() {
            resume(payload);
        }
    }
}

impl Drop for FirstPanic {
    /// A panic kept and never raised has nobody to go to.
    fn drop(&mut self) {
        discard(self.0.take().map_or(Ok(()), Err));
    }
}

impl std::fmt::Debug for FirstPanic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("FirstPanic")
            .field(&self.0.is_some())
            .finish()
    }
}

/// For the engines' tests of a run that dies outside every catch, which
/// only a bug of this crate could make: a fail point, and a consumer that
/// watches what becomes of its stream.
#[cfg(test)]
pub(crate) mod dying_run {
    /// The stage name whose runs die at the fail point.
    pub(crate) const STAGE: &str = "test-a-run-dies";

    /// The fail point: a run of the stage named [`STAGE`] panics here,
    /// outside every catch of the engine.
    pub(crate) fn fail_point(stage: &str) {
        if stage == STAGE {
            panic!("{STAGE}");
        }
    }

    /// Starts a stream with `start` on a thread of its own and pulls it
    /// with `next` until it ends or panics: the panic's message, and
    /// whether the stream then stays ended. Panics if that takes more than
    /// 20 s: the consumer hangs.
    #[cfg(not(loom))] // the engines' tests that use it are not loom models
    pub(crate) fn what_the_consumer_sees<S: 'static, T: 'static>(
        start: impl FnOnce() -> S + Send + 'static,
        next: fn(&mut S) -> Option<T>,
    ) -> (Option<String>, bool) {
        use std::sync::mpsc;
        use std::time::Duration;

        use super::catch;

        let (done, finished) = mpsc::channel();
        std::thread::spawn(move || {
            let mut stream = start();
            let raised = catch(|| while next(&mut stream).is_some() {});
            let message = raised
                .err()
                .and_then(|payload| payload.downcast::<String>().ok())
                .map(|message| *message);
            let ended = next(&mut stream).is_none();
            drop(stream);
            let _ = done.send((message, ended));
        });
        finished
            .recv_timeout(Duration::from_secs(20))
            .expect("the consumer hangs")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A payload whose drop panics, as a user's may.
    struct Cursed;

    impl Drop for Cursed {
        fn drop(&mut self) {
            panic!("dropping the payload");
        }
    }

    fn cursed() -> Result<(), PanicPayload> {
        Err(Box::new(Cursed))
    }

    #[test]
    fn discarding_a_payload_whose_drop_panics_raises_nothing() {
        assert!(catch(|| discard(cursed())).is_ok());
    }

    #[test]
    fn later_panics_kept_or_never_raised_raise_nothing() {
        let kept = catch(|| {
            let mut first = FirstPanic::default();
            first.keep(cursed());
            first.keep(cursed());
            first
        });
        let first = kept.expect("a second payload's drop escaped keep");
        assert!(
            catch(move || drop(first)).is_ok(),
            "an unraised one escaped"
        );
    }
}
