use std::marker::PhantomData;
use std::num::NonZeroUsize;
use std::thread::{self, Scope};

use crate::launch::{Detached, Launch};
use crate::lazy::{Lazy, lazy_adapter};
use crate::pool::{Order, Pool, Settings};
use crate::profile::Profile;
use crate::stats::Stats;

/// Spreads one stage of an iterator chain over several threads.
///
/// This trait is implemented for every [`Iterator`]; import it with
/// `use threadpipe::prelude::*;`.
pub trait ParallelMapExt: Iterator + Sized {
    /// Applies `f` to every item on a pool of worker threads, and yields the
    /// results **in input order**.
    ///
    /// Iterator element type is `U`, what `f` returns. This iterator is *fused*.
    ///
    /// The workers take turns pulling items from this iterator, so it must be
    /// `Send`; they share `f`, so it must be `Send + Sync`; items and results
    /// cross threads, so they must be `Send`; and all of it must be `'static`
    /// (see [`parallel_map_scoped`](ParallelMapExt::parallel_map_scoped) to
    /// borrow). Uses [`ParallelMapOptions::default()`]: one worker per core
    /// but one ([`std::thread::available_parallelism`] minus the consumer's
    /// thread, which works too) and a window of 16 items per thread running
    /// `f`.
    ///
    /// # What is guaranteed
    ///
    /// - **Order and completeness**: exactly one result per item, in the
    ///   order of the items (unless [`in_completion_order`](ParallelMapOptions::in_completion_order)
    ///   is chosen).
    /// - **Lazy**: no thread starts and nothing is pulled before the first
    ///   [`next`](Iterator::next).
    /// - **Bounded**: at most `window` items are pulled and not yet delivered,
    ///   counting those being worked on, those finished early and waiting for
    ///   their turn, and those waiting in channels. A worker that would go
    ///   further sleeps until the consumer takes a result.
    /// - **Threads end**: once the source is spent and `next` has returned
    ///   `None`, every worker has exited. (After a panic they exit at their
    ///   next hand-off instead; see below.)
    /// - **`size_hint`** is the source's hint when the pool started, minus the
    ///   results delivered since.
    ///
    /// # What is not guaranteed
    ///
    /// - Which thread runs `f` on which item. In input order, when the consumer
    ///   would otherwise sleep waiting for the next result, it runs `f` on the
    ///   next item itself
    ///   (as rayon's callers do), which keeps every core busy without waking a
    ///   thread per item. A result whose turn has come may then wait for that
    ///   one call of `f` to finish.
    /// - The order in which `f` runs: up to `window` calls may run ahead of
    ///   the consumer, so `f` should not depend on side effects of earlier calls.
    ///   Nor should one call of `f` wait for another: the one it waits for may
    ///   lie beyond the window, which only moves on when the consumer, perhaps
    ///   the very thread that is waiting, delivers.
    ///
    /// # Panics
    ///
    /// If `f` or the source panics, the consumer first receives every result
    /// before it, in order; then `next` re-raises the panic with its original
    /// payload and the adapter yields `None` from then on. Results of items
    /// after it are dropped, no further items are pulled, and the workers exit
    /// at their next hand-off.
    ///
    /// `next` also panics if the operating system cannot start a thread.
    ///
    /// # Dropping early
    ///
    /// Dropping the adapter never blocks. Each worker stops at its next
    /// hand-off: sleeping workers wake and exit, a worker running `f` exits
    /// once its call returns. The last one to leave drops the source.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadpipe::prelude::*;
    ///
    /// let lengths: Vec<usize> = ["a", "bb", "ccc", "dddd"]
    ///     .into_iter()
    ///     .parallel_map(|word| word.len()) // runs on several threads
    ///     .collect(); // in the input order
    /// assert_eq!(lengths, [1, 2, 3, 4]);
    /// ```
    ///
    /// The closure is shared by every worker, so what it captures must be
    /// `Sync`: a [`Cell`](std::cell::Cell) counter would be raced on.
    ///
    /// ```compile_fail,E0277
    /// use std::cell::Cell;
    /// use std::sync::Arc;
    /// use threadpipe::prelude::*;
    ///
    /// let calls = Arc::new(Cell::new(0));
    /// let total: u32 = (0..10u32)
    ///     .parallel_map(move |n| { calls.set(calls.get() + 1); n })
    ///     .sum();
    /// ```
    ///
    /// An atomic counter is safe to share:
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use threadpipe::prelude::*;
    ///
    /// let calls = Arc::new(AtomicU32::new(0));
    /// let counter = Arc::clone(&calls);
    /// let total: u32 = (0..10u32)
    ///     .parallel_map(move |n| { counter.fetch_add(1, Ordering::Relaxed); n })
    ///     .sum();
    /// assert_eq!((total, calls.load(Ordering::Relaxed)), (45, 10));
    /// ```
    fn parallel_map<F, U>(self, f: F) -> ParallelMap<Self, U>
    where
        Self: Send + 'static,
        Self::Item: Send + 'static,
        F: Fn(Self::Item) -> U + Send + Sync + 'static,
        U: Send + 'static,
    {
        self.parallel_map_with(ParallelMapOptions::default(), f)
    }

    /// Like [`parallel_map`](ParallelMapExt::parallel_map), with a chosen
    /// number of threads, window, name and order.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadpipe::prelude::*;
    /// use threadpipe::ParallelMapOptions;
    ///
    /// let options = ParallelMapOptions::new().threads(3).window(6).name("hasher");
    /// let sums: Vec<u64> = (0..100u64)
    ///     .parallel_map_with(options, |n| (0..=n).sum::<u64>())
    ///     .collect();
    /// assert_eq!(sums[99], 4950);
    /// ```
    fn parallel_map_with<F, U>(self, options: ParallelMapOptions, f: F) -> ParallelMap<Self, U>
    where
        Self: Send + 'static,
        Self::Item: Send + 'static,
        F: Fn(Self::Item) -> U + Send + Sync + 'static,
        U: Send + 'static,
    {
        ParallelMap {
            stage: lazy_stage(self, options, f, Detached),
        }
    }

    /// Like [`parallel_map`](ParallelMapExt::parallel_map), with the workers
    /// inside a [`std::thread::scope`], so the iterator, `f`, the items and the
    /// results may borrow from the caller: nothing needs to be `'static`.
    ///
    /// Every promise of `parallel_map` holds; dropping the adapter still never
    /// blocks, but the scope waits at its end for the workers to leave.
    ///
    /// # Examples
    ///
    /// Workers read a borrowed glossary, without an `Arc`:
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use std::thread;
    /// use threadpipe::prelude::*;
    ///
    /// let glossary = HashMap::from([("pipe", 1), ("stage", 2)]);
    /// let words = vec!["stage", "pipe", "stage"];
    /// let codes: Vec<i32> = thread::scope(|scope| {
    ///     words.iter().parallel_map_scoped(scope, |word| glossary[word]).collect()
    /// });
    /// assert_eq!(codes, [2, 1, 2]);
    /// ```
    fn parallel_map_scoped<'scope, 'env, F, U>(
        self,
        scope: &'scope Scope<'scope, 'env>,
        f: F,
    ) -> ParallelMapScoped<'scope, 'env, Self, U>
    where
        Self: Send + 'scope,
        Self::Item: Send + 'scope,
        F: Fn(Self::Item) -> U + Send + Sync + 'scope,
        U: Send + 'scope,
    {
        self.parallel_map_scoped_with(scope, ParallelMapOptions::default(), f)
    }

    /// Like [`parallel_map_scoped`](ParallelMapExt::parallel_map_scoped), with
    /// chosen options.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::thread;
    /// use threadpipe::prelude::*;
    /// use threadpipe::ParallelMapOptions;
    ///
    /// let offset = 10;
    /// let shifted: Vec<i32> = thread::scope(|scope| {
    ///     (0..4)
    ///         .parallel_map_scoped_with(scope, ParallelMapOptions::new().threads(2), |n| n + offset)
    ///         .collect()
    /// });
    /// assert_eq!(shifted, [10, 11, 12, 13]);
    /// ```
    fn parallel_map_scoped_with<'scope, 'env, F, U>(
        self,
        scope: &'scope Scope<'scope, 'env>,
        options: ParallelMapOptions,
        f: F,
    ) -> ParallelMapScoped<'scope, 'env, Self, U>
    where
        Self: Send + 'scope,
        Self::Item: Send + 'scope,
        F: Fn(Self::Item) -> U + Send + Sync + 'scope,
        U: Send + 'scope,
    {
        ParallelMapScoped {
            stage: lazy_stage(self, options, f, scope),
            scope: PhantomData,
        }
    }
}

impl<I: Iterator> ParallelMapExt for I {}

/// Settings for one [`parallel_map`](ParallelMapExt::parallel_map_with) stage.
///
/// # Examples
///
/// ```
/// use threadpipe::ParallelMapOptions;
///
/// // Four workers, at most 32 items in flight, results as they finish.
/// let options = ParallelMapOptions::new().threads(4).window(32).in_completion_order();
/// # let _ = options;
/// ```
#[derive(Clone, Debug)]
pub struct ParallelMapOptions {
    threads: Option<NonZeroUsize>,
    window: Option<NonZeroUsize>,
    name: String,
    order: Order,
    profile: Option<Profile>,
}

/// The window per thread running `f` when none is chosen: room for uneven items.
const WINDOW_PER_THREAD: usize = 16;

impl ParallelMapOptions {
    /// The defaults: input order; one worker per core but one, since the
    /// consumer runs `f` too whenever it would otherwise wait (in completion
    /// order, where it does not, one worker per core); a window of 16 items
    /// per thread running `f`; threads named `parallel_map-0`, `parallel_map-1`, ...
    ///
    /// Why one worker fewer: on a machine with `n` cores, `n` workers plus a
    /// consumer that helps would be `n + 1` busy threads, and the consumer
    /// that does not help sleeps and wakes once per item, which costs more
    /// than a small item's work (see `benches/README.md`).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadpipe::prelude::*;
    /// use threadpipe::ParallelMapOptions;
    ///
    /// let doubled: Vec<i32> = (1..4).parallel_map_with(ParallelMapOptions::new(), |n| n * 2).collect();
    /// assert_eq!(doubled, [2, 4, 6]);
    /// ```
    pub fn new() -> Self {
        ParallelMapOptions {
            threads: None,
            window: None,
            name: "parallel_map".to_owned(),
            order: Order::Input,
            profile: None,
        }
    }

    /// Sets the number of worker threads.
    ///
    /// # Panics
    ///
    /// If `threads` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadpipe::prelude::*;
    /// use threadpipe::ParallelMapOptions;
    ///
    /// let one_worker = ParallelMapOptions::new().threads(1);
    /// assert_eq!((0..5).parallel_map_with(one_worker, |n| n + 1).sum::<i32>(), 15);
    /// ```
    #[must_use]
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = Some(
            NonZeroUsize::new(threads).expect("threadpipe: parallel_map needs at least 1 thread"),
        );
        self
    }

    /// Sets the window: how many items may be pulled and not yet delivered.
    ///
    /// This is the memory bound. A window smaller than the number of threads
    /// leaves threads idle; a larger one absorbs items of uneven cost.
    ///
    /// # Panics
    ///
    /// If `window` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadpipe::prelude::*;
    /// use threadpipe::ParallelMapOptions;
    ///
    /// // Big results: at most 4 alive at once.
    /// let options = ParallelMapOptions::new().window(4);
    /// let total: usize = (0..8).parallel_map_with(options, |_| vec![0u8; 1 << 20]).map(|v| v.len()).sum();
    /// assert_eq!(total, 8 << 20);
    /// ```
    #[must_use]
    pub fn window(mut self, window: usize) -> Self {
        self.window = Some(
            NonZeroUsize::new(window)
                .expect("threadpipe: a parallel_map window must be at least 1"),
        );
        self
    }

    /// Names the worker threads `name-0`, `name-1`, ...
    ///
    /// # Examples
    ///
    /// ```
    /// use threadpipe::prelude::*;
    /// use threadpipe::ParallelMapOptions;
    ///
    /// let options = ParallelMapOptions::new().threads(1).name("resize");
    /// let names: Vec<String> = (0..3)
    ///     .parallel_map_with(options, |_| std::thread::current().name().unwrap().to_owned())
    ///     .collect();
    /// // The consumer may run an item itself when it would otherwise wait.
    /// assert!(names.iter().all(|name| name == "resize-0" || name == "main"));
    /// ```
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Yields results as they finish rather than in input order.
    ///
    /// A slow item then holds nobody up: in this mode the consumer never runs
    /// `f` itself, it only waits for the workers. Completeness, the window
    /// bound and panic propagation stay: a panic is re-raised once every other
    /// item in flight has been delivered.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadpipe::prelude::*;
    /// use threadpipe::ParallelMapOptions;
    ///
    /// let options = ParallelMapOptions::new().in_completion_order();
    /// let mut squares: Vec<u32> = (0..10u32).parallel_map_with(options, |n| n * n).collect();
    /// squares.sort();
    /// assert_eq!(squares, [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
    /// ```
    #[must_use]
    pub fn in_completion_order(mut self) -> Self {
        self.order = Order::Completion;
        self
    }

    /// Records this stage's figures in `profile`: results delivered, time its
    /// workers waited for room in the window, time its consumer waited for a
    /// result.
    ///
    /// Only waits are timed, so the cost is near zero; see [`Profile`].
    ///
    /// # Examples
    ///
    /// ```
    /// use threadpipe::prelude::*;
    /// use threadpipe::{ParallelMapOptions, Profile};
    ///
    /// let profile = Profile::new();
    /// let options = ParallelMapOptions::new().threads(2).name("double").profile(&profile);
    /// let count = (0..500).parallel_map_with(options, |n| n * 2).count();
    /// assert_eq!(count, 500);
    /// let report = profile.report();
    /// let stage = &report.stages()[0];
    /// assert_eq!((stage.name(), stage.threads(), stage.items()), ("double", 2, 500));
    /// ```
    #[must_use]
    pub fn profile(mut self, profile: &Profile) -> Self {
        self.profile = Some(profile.clone());
        self
    }

    /// The number of workers to spawn.
    fn thread_count(&self) -> usize {
        if let Some(threads) = self.threads {
            return threads.get();
        }
        let cores = thread::available_parallelism().map_or(1, NonZeroUsize::get);
        match self.order {
            Order::Input => (cores - 1).max(1),
            Order::Completion => cores,
        }
    }

    /// The window: pulled items not yet delivered.
    fn window_size(&self) -> usize {
        let computing = self.thread_count() + usize::from(self.order == Order::Input);
        self.window
            .map_or(WINDOW_PER_THREAD * computing, NonZeroUsize::get)
    }

    /// What the engine needs. A profile registers the stage now, so that it
    /// lists stages in the order the chain is written, upstream first.
    fn into_settings(self) -> Settings {
        let threads = self.thread_count();
        let stats = match &self.profile {
            Some(profile) => profile.register(&self.name, threads),
            None => Stats::off(),
        };
        Settings {
            threads,
            window_size: self.window_size(),
            order: self.order,
            name: self.name,
            stats,
        }
    }
}

impl Default for ParallelMapOptions {
    fn default() -> Self {
        ParallelMapOptions::new()
    }
}

/// The stage a `parallel_map` adapter runs: idle until its first `next()`.
type Stage<'scope, I, U> = Lazy<'scope, I, Settings, Pool<'scope, U>>;

fn lazy_stage<'scope, I, F, U, L>(
    source: I,
    options: ParallelMapOptions,
    f: F,
    launcher: L,
) -> Stage<'scope, I, U>
where
    I: Iterator + Send + 'scope,
    I::Item: Send + 'scope,
    F: Fn(I::Item) -> U + Send + Sync + 'scope,
    U: Send + 'scope,
    L: Launch<'scope> + Send + 'scope,
{
    Lazy::new(
        source,
        options.into_settings(),
        Box::new(move |source, settings| Pool::start(launcher, source, f, settings)),
    )
}

/// An iterator that applies a function to its source's items on a pool of
/// worker threads.
///
/// This struct is created by [`parallel_map`](ParallelMapExt::parallel_map)
/// and [`parallel_map_with`](ParallelMapExt::parallel_map_with). See their
/// documentation for more. `U` is the type `f` returns; the type of `f` itself
/// is not part of the name, so the adapter can be named in signatures.
///
/// It is `Send` when the source and the results are, never `Sync` (one
/// consumer at a time), always `Unpin`, and not `Clone`.
#[must_use = "iterator adaptors are lazy and do nothing unless consumed"]
pub struct ParallelMap<I, U> {
    stage: Stage<'static, I, U>,
}

lazy_adapter!("ParallelMap", [I: Iterator, U: Send] ParallelMap<I, U>, item = U);

/// An iterator that applies a function to its source's items on a pool of
/// worker threads inside a [`Scope`], so everything may borrow.
///
/// This struct is created by [`parallel_map_scoped`](ParallelMapExt::parallel_map_scoped)
/// and [`parallel_map_scoped_with`](ParallelMapExt::parallel_map_scoped_with).
/// See their documentation for more.
///
/// It is `Send` when the source and the results are, never `Sync`, always
/// `Unpin`, and not `Clone`.
#[must_use = "iterator adaptors are lazy and do nothing unless consumed"]
pub struct ParallelMapScoped<'scope, 'env, I, U> {
    stage: Stage<'scope, I, U>,
    scope: PhantomData<&'scope Scope<'scope, 'env>>,
}

lazy_adapter!(
    "ParallelMapScoped",
    ['scope, 'env, I: Iterator, U: Send] ParallelMapScoped<'scope, 'env, I, U>,
    item = U
);
