//! A census of the code a stage runs, to check that its threads have let
//! go once its stream has ended: no call of its closure still running, no
//! thread carrying its name but one inside its source's `next`, and no
//! call of either after the end.
#![allow(dead_code, unreachable_pub)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::ThreadId;

use super::{stage_name, threads_named, wait_until};

/// Watches a stage's source (wrap it with [`Census::source`]) and its
/// closure (which holds a [`Census::in_f`] guard while it runs). Clones
/// share the counts.
#[derive(Clone, Default)]
pub struct Census {
    inner: Arc<Counts>,
}

#[derive(Default)]
struct Counts {
    f_running: AtomicUsize,
    f_calls: AtomicUsize,
    next_calls: AtomicUsize,
    /// The stage name of the thread that entered the source's `next`
    /// last: calls of `next` never overlap, so that thread is the only one
    /// that may be inside it.
    last_puller: Mutex<Option<String>>,
    source_dropped_on: Mutex<Option<ThreadId>>,
}

/// The source a [`Census`] watches.
pub struct Watched<I> {
    source: I,
    census: Census,
}

/// Counts one call of the closure while alive.
pub struct InF(Census);

/// Whether the source may be inside `next` as the stream ends: a stage
/// whose stream ends with the source's own end or panic has no call of
/// `next` left; one that ends for another reason (a panic of `f`) may have
/// a thread inside it, which nothing can interrupt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Finished,
    MayBeInNext,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Census {
    /// Wraps `source`, counting its calls of `next` and noting its drop.
    pub fn source<I>(&self, source: I) -> Watched<I> {
        Watched {
            source,
            census: self.clone(),
        }
    }

    /// Held by the closure while it runs: `let _f = census.in_f();`.
    pub fn in_f(&self) -> InF {
        self.inner.f_calls.fetch_add(1, Ordering::SeqCst);
        self.inner.f_running.fetch_add(1, Ordering::SeqCst);
        InF(self.clone())
    }

    /// How many calls of the closure have begun.
    pub fn f_calls(&self) -> usize {
        self.inner.f_calls.load(Ordering::SeqCst)
    }

    /// How many calls of the source's `next` have begun.
    pub fn next_calls(&self) -> usize {
        self.inner.next_calls.load(Ordering::SeqCst)
    }

    /// What has been called so far: for a stream that ends by a drop,
    /// see [`assert_nothing_after`](Self::assert_nothing_after).
    pub fn calls_so_far(&self) -> Ended {
        Ended {
            next_calls: self.next_calls(),
            f_calls: self.f_calls(),
        }
    }

    /// The thread the source was dropped on, once it was.
    pub fn source_dropped_on(&self) -> Option<ThreadId> {
        *lock(&self.inner.source_dropped_on)
    }

    /// Checks, right after the stream of the stage named `name` has ended
    /// (`next` returned `None` or raised a panic), that its threads have
    /// let go, as the contract says: no call of the closure runs; no thread
    /// carries the stage's name, unless `source` may be inside `next` (then
    /// only the thread that entered it last may, which drops the source
    /// once the call returns). Then, once that call has returned, see
    /// [`assert_nothing_after`](Self::assert_nothing_after).
    pub fn assert_ended(&self, name: &str, source: Source) -> Ended {
        let ended = self.calls_so_far();
        assert_eq!(
            self.inner.f_running.load(Ordering::SeqCst),
            0,
            "{name}: a call of f still runs after the end"
        );
        let named = threads_named(name);
        match source {
            Source::Finished => assert!(
                named.is_empty(),
                "{name}: threads still run the stage after the end: {named:?}"
            ),
            Source::MayBeInNext => {
                // As /proc shows it: the first 15 bytes.
                let puller: Option<String> = lock(&self.inner.last_puller)
                    .as_ref()
                    .map(|puller| puller.chars().take(15).collect());
                assert!(
                    named.iter().all(|t| Some(&t.name) == puller.as_ref()),
                    "{name}: threads still run the stage after the end: {named:?}, \
                     and only {puller:?} may be inside the source"
                );
            }
        }
        ended
    }

    /// Checks that, after the end `ended` records, the source is dropped
    /// (waiting for it: a call of `next` in progress must return first),
    /// on a thread other than this one; that neither it nor the closure is
    /// called again; and that then no thread carries the stage's name.
    pub fn assert_nothing_after(&self, name: &str, ended: Ended) {
        wait_until(&format!("{name}'s source is dropped"), || {
            self.source_dropped_on().is_some()
        });
        assert_ne!(
            self.source_dropped_on(),
            Some(std::thread::current().id()),
            "{name}: the source was dropped on the consumer's thread"
        );
        assert_eq!(
            (self.next_calls(), self.f_calls()),
            (ended.next_calls, ended.f_calls),
            "{name}: (calls of next, calls of f) went on after the end"
        );
        wait_until(&format!("no thread carries {name}'s name"), || {
            threads_named(name).is_empty()
        });
    }

    /// [`assert_ended`](Self::assert_ended), then
    /// [`assert_nothing_after`](Self::assert_nothing_after).
    pub fn assert_let_go(&self, name: &str, source: Source) {
        let ended = self.assert_ended(name, source);
        self.assert_nothing_after(name, ended);
    }
}

/// What had been called when a stream ended: see [`Census::assert_ended`].
#[derive(Clone, Copy, Debug)]
pub struct Ended {
    next_calls: usize,
    f_calls: usize,
}

impl<I: Iterator> Iterator for Watched<I> {
    type Item = I::Item;

    fn next(&mut self) -> Option<I::Item> {
        let counts = &self.census.inner;
        *lock(&counts.last_puller) = stage_name();
        counts.next_calls.fetch_add(1, Ordering::SeqCst);
        self.source.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.source.size_hint()
    }
}

impl<I> Drop for Watched<I> {
    fn drop(&mut self) {
        *lock(&self.census.inner.source_dropped_on) = Some(std::thread::current().id());
    }
}

impl Drop for InF {
    fn drop(&mut self) {
        self.0.inner.f_running.fetch_sub(1, Ordering::SeqCst);
    }
}
