//! A census of the code a stage runs, to check that its threads have let
//! go once its stream has ended: no call of its closure still running, no
//! thread carrying its name but one inside its source's `next`, and no
//! call of either after the end but that one.
#![allow(dead_code, unreachable_pub)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::ThreadId;

use super::{stage_name, threads_named, wait_until, wait_until_no_thread_is_named};

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
    /// The stage name of the thread that made each call of the source's
    /// `next`, in order (calls of `next` never overlap), as `/proc` shows
    /// it: its first 15 bytes.
    pullers: Mutex<Vec<Option<String>>>,
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

/// What the census saw as a stream ended: see [`Census::assert_ended`].
#[derive(Clone, Debug)]
pub struct Ended {
    source: Source,
    next_calls: usize,
    f_calls: usize,
    /// The threads that carried the stage's name at the end.
    named: Vec<String>,
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
        lock(&self.inner.pullers).len()
    }

    /// The thread the source was dropped on, once it was.
    pub fn source_dropped_on(&self) -> Option<ThreadId> {
        *lock(&self.inner.source_dropped_on)
    }

    /// What has been called so far, for a stream that ends with a drop
    /// while `source` may be inside `next`: see
    /// [`assert_nothing_after`](Self::assert_nothing_after).
    pub fn calls_so_far(&self, source: Source) -> Ended {
        Ended {
            source,
            next_calls: self.next_calls(),
            f_calls: self.f_calls(),
            named: Vec::new(),
        }
    }

    /// Checks, right after the stream of the stage named `name` has ended
    /// (`next` returned `None` or raised a panic), what can be checked at
    /// once of the threads letting go, as the contract says: no call of
    /// the closure runs, and no thread carries the stage's name, unless
    /// `source` may be inside `next`; then one may (calls of `next` never
    /// overlap), which [`assert_nothing_after`](Self::assert_nothing_after)
    /// checks once that call has returned.
    pub fn assert_ended(&self, name: &str, source: Source) -> Ended {
        let mut ended = self.calls_so_far(source);
        assert_eq!(
            self.inner.f_running.load(Ordering::SeqCst),
            0,
            "{name}: a call of f still runs after the end"
        );
        // Miri has no `/proc` to read thread names in.
        let named = if cfg!(miri) {
            Vec::new()
        } else {
            threads_named(name)
        };
        let most = match source {
            Source::Finished => 0,
            Source::MayBeInNext => 1,
        };
        assert!(
            named.len() <= most,
            "{name}: threads still run the stage after the end: {named:?}"
        );
        ended.named = named.into_iter().map(|thread| thread.name).collect();
        ended
    }

    /// Checks, after the end `ended` records, that the source is dropped
    /// (waiting for it: a call of `next` in progress must return first),
    /// on a thread other than this one; that `f` is not called again; that
    /// `next` is not either, but for the one call that may have been under
    /// way at the end (its run had entered it, or was entering it, as the
    /// stream ended), and that a thread that carried the stage's name at
    /// the end made that call; and that then no thread carries the name.
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
            self.f_calls(),
            ended.f_calls,
            "{name}: f was called after the end"
        );
        let pullers = lock(&self.inner.pullers).clone();
        let after = pullers.len() - ended.next_calls;
        let may_be_in_next = ended.source == Source::MayBeInNext;
        assert!(
            after == 0 || (after == 1 && may_be_in_next),
            "{name}: the source was called {after} times after the end"
        );
        // The call under way at the end: the last before it, or the one
        // begun just after it.
        let under_way = if after == 1 {
            pullers.last()
        } else {
            ended.next_calls.checked_sub(1).map(|last| &pullers[last])
        };
        let under_way = under_way.cloned().flatten();
        assert!(
            ended
                .named
                .iter()
                .all(|thread| Some(thread) == under_way.as_ref()),
            "{name}: threads ran the stage after the end: {:?}, and only {under_way:?} \
             may have been inside the source",
            ended.named
        );
        wait_until_no_thread_is_named(name, &format!("no thread carries {name}'s name"));
    }

    /// [`assert_ended`](Self::assert_ended), then
    /// [`assert_nothing_after`](Self::assert_nothing_after).
    pub fn assert_let_go(&self, name: &str, source: Source) {
        let ended = self.assert_ended(name, source);
        self.assert_nothing_after(name, ended);
    }
}

impl<I: Iterator> Iterator for Watched<I> {
    type Item = I::Item;

    fn next(&mut self) -> Option<I::Item> {
        // As /proc shows it: the first 15 bytes.
        let puller = stage_name().map(|name| name.chars().take(15).collect());
        lock(&self.census.inner.pullers).push(puller);
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
