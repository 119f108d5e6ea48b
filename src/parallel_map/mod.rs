//! `parallel_map`: one stage of the chain spread over a pool of threads.

mod chain;
mod options;
mod stage;

use std::marker::PhantomData;
use std::thread::Scope;

pub use self::options::{DEFAULT_WINDOW, ParallelMapOptions};
use self::stage::Stage;
use crate::bounds::{SameAs, SendItem};
use crate::lazy::lazy_adapter;
use crate::scheduler::{self, Spawner};

/// Spreads one stage of an iterator chain over several threads.
///
/// This trait is implemented for every [`Iterator`]; import it with
/// `use threadpipe::prelude::*;`.
pub trait ParallelMapExt: Iterator + Sized {
    /// Applies `f` to every item on several threads, and yields the results
    /// **in input order**.
    ///
    /// Iterator element type is `U`, what `f` returns. This iterator is *fused*.
    ///
    /// Where each part runs: threads of the process's
    /// [shared set](crate#one-set-of-threads), the stage's *workers* while
    /// they run it, take turns pulling items from this iterator and run `f`
    /// on them; the consumer's thread runs `f` too, on items already
    /// pulled, when it would otherwise wait for a result (and, inside
    /// another stage's closure, pulls too when no worker is at it). So the
    /// iterator must be `Send`; `f` is shared by every thread, so it must be
    /// `Send + Sync`; items and results cross threads, so they must be
    /// `Send`; and all of it must be `'static` (see
    /// [`parallel_map_scoped`](ParallelMapExt::parallel_map_scoped) to
    /// borrow). Uses [`ParallelMapOptions::default()`]: at most one worker
    /// per core but one, and a window of [`DEFAULT_WINDOW`] items. Workers
    /// join one at a time, as each finds work for the next, and leave when
    /// there is none.
    ///
    /// # What is guaranteed
    ///
    /// Every promise of [the contract](crate#the-contract), and in numbers:
    ///
    /// - **Order and completeness**: exactly one result per item, in the
    ///   order of the items (unless [`in_completion_order`](ParallelMapOptions::in_completion_order)
    ///   is chosen).
    /// - **Bounded**: at most `window` items are pulled and not yet delivered,
    ///   counting those being worked on, those finished early and waiting for
    ///   their turn, and those waiting to be run. Workers that would go
    ///   further stop, and start again once a quarter of the window is free.
    /// - **Nothing held back**: a worker publishes each item it pulls, where
    ///   any idle thread can take it, before it calls the iterator again, and
    ///   asks for another worker to take it, so no item (and no result)
    ///   waits on a thread that is blocked inside the iterator, however long
    ///   it blocks. A result whose turn has come is handed over at once,
    ///   unless the consumer is itself running `f` on items it took on while
    ///   it waited: a few microseconds of work, or a single call when calls
    ///   take longer.
    /// - **Threads let go**: once `next` has returned `None`, no thread runs
    ///   `f` or holds an item or the iterator (after a panic, see below).
    /// - **`size_hint`** is the iterator's hint when the pool started, minus
    ///   the results delivered since.
    ///
    /// # What is not guaranteed
    ///
    /// - Which thread runs `f` on which item.
    /// - The order in which `f` runs: up to `window` calls may run ahead of
    ///   the consumer, so `f` should not depend on side effects of earlier
    ///   calls. Nor should one call of `f` wait for another: a thread takes
    ///   cheap items a few at a time, so the one it waits for may be queued
    ///   behind it on the same thread, or lie beyond the window, which only
    ///   moves on when the consumer, perhaps the very thread that is
    ///   waiting, delivers.
    ///
    /// # Filtering, flattening, stopping early
    ///
    /// `parallel_map` composes with the standard adapters, so it needs no
    /// variants of its own: return an `Option` and `.flatten()` to filter, a
    /// `Vec` and `.flatten()` to flat-map, and collect into a `Result` to
    /// stop at the first error. Dropping the adapter stops the pool, so a
    /// `collect::<Result<..>>()` that meets an `Err` pulls at most `window`
    /// more items (those already in flight).
    ///
    /// ```
    /// use threadpipe::prelude::*;
    ///
    /// // filter_map: keep the even squares.
    /// let even_squares: Vec<u32> = (1..=6u32)
    ///     .parallel_map(|n| Some(n * n).filter(|square| square % 2 == 0))
    ///     .flatten()
    ///     .collect();
    /// assert_eq!(even_squares, [4, 16, 36]);
    ///
    /// // flat_map: every word of every line, in order.
    /// let words: Vec<String> = ["a b", "c"]
    ///     .into_iter()
    ///     .parallel_map(|line| line.split(' ').map(str::to_owned).collect::<Vec<_>>())
    ///     .flatten()
    ///     .collect();
    /// assert_eq!(words, ["a", "b", "c"]);
    ///
    /// // Fail fast: the first error, in input order, stops everything.
    /// let parsed: Result<Vec<u8>, _> = ["1", "x", "3"]
    ///     .into_iter()
    ///     .parallel_map(|text| text.parse::<u8>())
    ///     .collect();
    /// assert!(parsed.is_err());
    ///
    /// // for_each runs here, on the consumer's thread, in order.
    /// let mut total = 0;
    /// (1..=4).parallel_map(|n| n * 10).for_each(|tens| total += tens);
    /// assert_eq!(total, 100);
    /// ```
    ///
    /// # Panics
    ///
    /// If `f` panics, or the iterator does (in `next`, or as it is dropped
    /// after its last item), the consumer first receives every result
    /// before it, in order; then `next` re-raises the panic with its original
    /// payload and the adapter yields `None` from then on. Nothing more is
    /// pulled; items pulled after it are dropped unrun and results after it
    /// are dropped (should one of those drops panic too, that second panic
    /// is dropped: the first one is the one raised). Before raising, `next`
    /// waits until every worker has let go of the stage and the iterator
    /// has been dropped, but for a worker that is inside the iterator's
    /// `next` at that moment: nothing can interrupt that call (it may be
    /// waiting for the very consumer that is about to panic), so that
    /// worker drops the iterator once the call returns.
    ///
    /// If the operating system cannot start a single thread for the set,
    /// the stage runs on the consumer's thread instead, as with
    /// [`ParallelMapOptions::inline`]; if it starts some, they do the work.
    ///
    /// # Dropping early
    ///
    /// Dropping the adapter never blocks. Each worker stops at its next
    /// step: a worker running `f` leaves once its call returns, a worker
    /// inside the iterator's `next` once that returns, dropping the
    /// iterator there; if no worker is at it, a thread of the set drops the
    /// iterator. It is never dropped on the dropper's thread.
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
    /// The closure is shared by every thread, so what it captures must be
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
    /// ```text
    /// error[E0277]: `Cell<u32>` cannot be shared between threads safely
    ///    = note: required for `Arc<Cell<u32>>` to implement `Sync`
    /// note: required because it's used within this closure
    ///    |         .parallel_map(move |n| { calls.set(calls.get() + 1); n })
    ///    |                       ^^^^^^^^
    /// note: required by a bound in `parallel_map`
    ///    |         F: Sync, // all workers share `f`: `Cell` -> atomic, `RefCell` -> `parallel_map_init`, ...
    /// ```
    ///
    /// An atomic counter is safe to share (and for state each thread keeps
    /// to itself, see [`parallel_map_init`](ParallelMapExt::parallel_map_init)):
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
    ///
    /// A closure that changes what it captures cannot be shared: every
    /// worker calls it, through a shared reference, so the compiler refuses
    /// the mutation (E0596), not a bound.
    ///
    /// ```compile_fail,E0596
    /// use threadpipe::prelude::*;
    ///
    /// let mut calls = 0;
    /// let total: u32 = (0..10u32).parallel_map(move |n| { calls += 1; n }).sum();
    /// ```
    ///
    /// ```text
    /// error[E0596]: cannot borrow `calls` as mutable, as it is a captured variable in a `Fn` closure
    /// ```
    ///
    /// The fix is the same as for the `Cell` above: an atomic for a count
    /// all threads share, or [`parallel_map_init`](ParallelMapExt::parallel_map_init)
    /// for state each thread keeps to itself.
    ///
    /// A closure that borrows from the calling function (a table, say) is
    /// refused too, since the workers may outlive the function (E0521):
    ///
    /// ```compile_fail,E0521
    /// use std::collections::HashMap;
    /// use threadpipe::prelude::*;
    ///
    /// fn codes(words: Vec<&'static str>, table: &HashMap<String, u32>) -> Vec<u32> {
    ///     words.into_iter().parallel_map(|word| table[word]).collect()
    /// }
    /// ```
    ///
    /// ```text
    /// error[E0521]: borrowed data escapes outside of function
    ///    |     words.into_iter().parallel_map(|word| table[word]).collect()
    ///    |     ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
    ///    |     `table` escapes the function body here
    ///    |     argument requires that `'1` must outlive `'static`
    /// ```
    ///
    /// Use [`parallel_map_scoped`](ParallelMapExt::parallel_map_scoped),
    /// whose scope waits for the workers, or move owned data in:
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use std::thread;
    /// use threadpipe::prelude::*;
    ///
    /// fn codes(words: Vec<&'static str>, table: &HashMap<String, u32>) -> Vec<u32> {
    ///     thread::scope(|scope| {
    ///         words.into_iter().parallel_map_scoped(scope, |word| table[word]).collect()
    ///     })
    /// }
    /// let table = HashMap::from([("pipe".to_owned(), 1), ("stage".to_owned(), 2)]);
    /// assert_eq!(codes(vec!["stage", "pipe"], &table), [2, 1]);
    /// ```
    ///
    /// The bounds are written on `Chain`, which is `Self` under another name
    /// ([`SameAs`]), each on a line of its own with the fix in a comment:
    /// when one fails, the compiler names the type at fault and shows that
    /// line (see [the guide](crate::guide#reading-the-error)).
    fn parallel_map<F, U, Chain>(self, f: F) -> ParallelMap<Chain, U>
    where
        Self: SameAs<Chain>,
        Chain: Iterator + 'static,
        // Each bound on a line of its own: the compiler shows the line that
        // fails, with its comment, under "required by a bound".
        Chain::Item: SendItem + 'static, // items cross to the workers: `Arc` for `Rc`, owned data for a pointer
        Chain: Send, // it moves to the workers with what its closures capture: `Arc` for `Rc`, locks taken inside
        F: Fn(Chain::Item) -> U + 'static,
        F: Sync, // all workers share `f`: `Cell` -> atomic, `RefCell` -> `parallel_map_init`, `Receiver` -> `shared_channel`
        F: Send, // `f` moves to the workers: `Arc` for `Rc`; take a lock inside `f`, never hold a guard outside
        U: SendItem + 'static, // results cross back to the consumer: `Arc` for `Rc`
    {
        self.into_same()
            .parallel_map_with(ParallelMapOptions::default(), f)
    }

    /// Like [`parallel_map`](ParallelMapExt::parallel_map), with chosen
    /// [options](ParallelMapOptions): threads, window, thread names, order,
    /// profile.
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
    fn parallel_map_with<F, U, Chain>(
        self,
        options: ParallelMapOptions,
        f: F,
    ) -> ParallelMap<Chain, U>
    where
        Self: SameAs<Chain>,
        Chain: Iterator + 'static,
        // Each bound on a line of its own: the compiler shows the line that
        // fails, with its comment, under "required by a bound".
        Chain::Item: SendItem + 'static, // items cross to the workers: `Arc` for `Rc`, owned data for a pointer
        Chain: Send, // it moves to the workers with what its closures capture: `Arc` for `Rc`, locks taken inside
        F: Fn(Chain::Item) -> U + 'static,
        F: Sync, // all workers share `f`: `Cell` -> atomic, `RefCell` -> `parallel_map_init`, `Receiver` -> `shared_channel`
        F: Send, // `f` moves to the workers: `Arc` for `Rc`; take a lock inside `f`, never hold a guard outside
        U: SendItem + 'static, // results cross back to the consumer: `Arc` for `Rc`
    {
        ParallelMap {
            stage: lazy_stage(
                self.into_same(),
                options,
                false,
                || (),
                move |(), item| f(item),
                scheduler::global,
            ),
        }
    }

    /// Like [`parallel_map`](ParallelMapExt::parallel_map), with a state of
    /// each thread's own: `init` makes it, and `f` gets it, mutably, with
    /// each item.
    ///
    /// `init` runs **exactly once on each thread that runs `f`**, on that
    /// thread, just before its first call of `f` (so never on a thread that
    /// runs no item); the state is dropped on the same thread when it is
    /// done. The consumer's thread, which runs `f` too while it waits,
    /// makes a state of its own the first time it does, kept with the
    /// adapter (a consumer that moves the adapter to another thread makes
    /// one there too, so a state is only ever used on the thread that made
    /// it). The state needs no `Sync`, since no two threads share one; it
    /// must be `Send`, since the consumer's state moves with the adapter.
    ///
    /// Typical states: a scratch buffer reused from item to item, a compiled
    /// regular expression, a connection per worker. What `f` captures is
    /// still shared, and must be `Sync`; a `RefCell` or `Cell` belongs in the
    /// state instead (see the [`guide`](crate::guide)).
    ///
    /// # Panics
    ///
    /// As [`parallel_map`](ParallelMapExt::parallel_map); a panic in `init`
    /// counts as one in `f`, on the item that was about to run (the items
    /// before it still run, and a thread whose `init` panicked may call it
    /// again for one of those). A panic in a state's `Drop` is caught and
    /// discarded, on every thread, in every mode and order: a state is
    /// dropped once the stage is done with it, often after the stream's
    /// end, with nobody to raise it to, so whether it reached you would
    /// otherwise depend on which thread ran which items.
    ///
    /// # Examples
    ///
    /// One scratch buffer per thread, reused for every line, instead of a
    /// fresh `String` per line:
    ///
    /// ```
    /// use threadpipe::prelude::*;
    ///
    /// let lines = ["Hello World", "thread PIPE"];
    /// let shouted: Vec<usize> = lines
    ///     .into_iter()
    ///     .parallel_map_init(String::new, |scratch: &mut String, line| {
    ///         scratch.clear();
    ///         scratch.extend(line.chars().filter(|c| c.is_uppercase()));
    ///         scratch.len()
    ///     })
    ///     .collect();
    /// assert_eq!(shouted, [2, 4]);
    /// ```
    fn parallel_map_init<Init, S, F, U, Chain>(self, init: Init, f: F) -> ParallelMap<Chain, U>
    where
        Self: SameAs<Chain>,
        Chain: Iterator + 'static,
        // Each bound on a line of its own: the compiler shows the line that
        // fails, with its comment, under "required by a bound".
        Chain::Item: SendItem + 'static, // items cross to the workers: `Arc` for `Rc`, owned data for a pointer
        Chain: Send, // it moves to the workers with what its closures capture: `Arc` for `Rc`, locks taken inside
        Init: Fn() -> S + Send + Sync + 'static, // `init` runs on every worker
        S: Send + 'static, // a state moves to the thread that uses it: `Arc` for `Rc`
        F: Fn(&mut S, Chain::Item) -> U + 'static,
        F: Sync, // all workers share `f`: per-thread things go in the state, a shared counter in an atomic
        F: Send, // `f` moves to the workers: `Arc` for `Rc`; take a lock inside `f`, never hold a guard outside
        U: SendItem + 'static, // results cross back to the consumer: `Arc` for `Rc`
    {
        self.into_same()
            .parallel_map_init_with(ParallelMapOptions::default(), init, f)
    }

    /// Like [`parallel_map_init`](ParallelMapExt::parallel_map_init), with
    /// chosen [options](ParallelMapOptions).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use threadpipe::prelude::*;
    /// use threadpipe::ParallelMapOptions;
    ///
    /// static STATES: AtomicUsize = AtomicUsize::new(0);
    /// let options = ParallelMapOptions::new().threads(2).in_completion_order();
    /// let total: u64 = (0..1000u64)
    ///     .parallel_map_init_with(
    ///         options,
    ///         || STATES.fetch_add(1, Ordering::Relaxed),
    ///         |_state: &mut usize, n| n,
    ///     )
    ///     .sum();
    /// assert_eq!(total, 499_500);
    /// // One state per thread that ran an item: at most the two workers.
    /// assert!((1..=2).contains(&STATES.load(Ordering::Relaxed)));
    /// ```
    fn parallel_map_init_with<Init, S, F, U, Chain>(
        self,
        options: ParallelMapOptions,
        init: Init,
        f: F,
    ) -> ParallelMap<Chain, U>
    where
        Self: SameAs<Chain>,
        Chain: Iterator + 'static,
        // Each bound on a line of its own: the compiler shows the line that
        // fails, with its comment, under "required by a bound".
        Chain::Item: SendItem + 'static, // items cross to the workers: `Arc` for `Rc`, owned data for a pointer
        Chain: Send, // it moves to the workers with what its closures capture: `Arc` for `Rc`, locks taken inside
        Init: Fn() -> S + Send + Sync + 'static, // `init` runs on every worker
        S: Send + 'static, // a state moves to the thread that uses it: `Arc` for `Rc`
        F: Fn(&mut S, Chain::Item) -> U + 'static,
        F: Sync, // all workers share `f`: per-thread things go in the state, a shared counter in an atomic
        F: Send, // `f` moves to the workers: `Arc` for `Rc`; take a lock inside `f`, never hold a guard outside
        U: SendItem + 'static, // results cross back to the consumer: `Arc` for `Rc`
    {
        ParallelMap {
            stage: lazy_stage(self.into_same(), options, true, init, f, scheduler::global),
        }
    }

    /// Like [`parallel_map`](ParallelMapExt::parallel_map), with the workers
    /// on threads inside a [`std::thread::scope`], so the iterator, `f`, the
    /// items and the results may borrow from the caller: nothing needs to be
    /// `'static`. Those threads are the scope's (safe Rust can lend borrowed
    /// data to no other), started as the stage needs them, and they count
    /// against the same budget of busy threads as the shared set.
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
    fn parallel_map_scoped<'scope, 'env, F, U, Chain>(
        self,
        scope: &'scope Scope<'scope, 'env>,
        f: F,
    ) -> ParallelMapScoped<'scope, 'env, Chain, U>
    where
        Self: SameAs<Chain>,
        Chain: Iterator + 'scope,
        // Each bound on a line of its own: the compiler shows the line that
        // fails, with its comment, under "required by a bound".
        Chain::Item: SendItem + 'scope, // items cross to the workers: `Arc` for `Rc`, owned data for a pointer
        Chain: Send, // it moves to the workers with what its closures capture: `Arc` for `Rc`, locks taken inside
        F: Fn(Chain::Item) -> U + 'scope,
        F: Sync, // all workers share `f`: `Cell` -> atomic, `RefCell` -> `parallel_map_init`, `Receiver` -> `shared_channel`
        F: Send, // `f` moves to the workers: `Arc` for `Rc`; take a lock inside `f`, never hold a guard outside
        U: SendItem + 'scope, // results cross back to the consumer: `Arc` for `Rc`
    {
        self.into_same()
            .parallel_map_scoped_with(scope, ParallelMapOptions::default(), f)
    }

    /// Like [`parallel_map_scoped`](ParallelMapExt::parallel_map_scoped), with
    /// chosen [options](ParallelMapOptions).
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
    fn parallel_map_scoped_with<'scope, 'env, F, U, Chain>(
        self,
        scope: &'scope Scope<'scope, 'env>,
        options: ParallelMapOptions,
        f: F,
    ) -> ParallelMapScoped<'scope, 'env, Chain, U>
    where
        Self: SameAs<Chain>,
        Chain: Iterator + 'scope,
        // Each bound on a line of its own: the compiler shows the line that
        // fails, with its comment, under "required by a bound".
        Chain::Item: SendItem + 'scope, // items cross to the workers: `Arc` for `Rc`, owned data for a pointer
        Chain: Send, // it moves to the workers with what its closures capture: `Arc` for `Rc`, locks taken inside
        F: Fn(Chain::Item) -> U + 'scope,
        F: Sync, // all workers share `f`: `Cell` -> atomic, `RefCell` -> `parallel_map_init`, `Receiver` -> `shared_channel`
        F: Send, // `f` moves to the workers: `Arc` for `Rc`; take a lock inside `f`, never hold a guard outside
        U: SendItem + 'scope, // results cross back to the consumer: `Arc` for `Rc`
    {
        ParallelMapScoped {
            stage: lazy_stage(
                self.into_same(),
                options,
                false,
                || (),
                move |(), item| f(item),
                move || scheduler::scoped(scope),
            ),
            scope: PhantomData,
        }
    }

    /// Like [`parallel_map_init`](ParallelMapExt::parallel_map_init), inside
    /// a [`std::thread::scope`], so everything may borrow, the state too.
    ///
    /// # Examples
    ///
    /// Each thread keeps its own tally, in a borrowed table of counters. A
    /// table with a counter per item is always big enough, whatever the
    /// machine and the set's configuration: `init` runs only on a thread
    /// about to run an item, so there are never more states than items.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::thread;
    /// use threadpipe::prelude::*;
    ///
    /// let counters: Vec<AtomicUsize> = (0..100).map(|_| AtomicUsize::new(0)).collect();
    /// let next = AtomicUsize::new(0);
    /// let doubled: Vec<u32> = thread::scope(|scope| {
    ///     (0..100u32)
    ///         .parallel_map_init_scoped(
    ///             scope,
    ///             || &counters[next.fetch_add(1, Ordering::Relaxed)],
    ///             |mine: &mut &AtomicUsize, n| {
    ///                 mine.fetch_add(1, Ordering::Relaxed);
    ///                 n * 2
    ///             },
    ///         )
    ///         .collect()
    /// });
    /// assert_eq!(doubled[99], 198);
    /// let counted: usize = counters.iter().map(|c| c.load(Ordering::Relaxed)).sum();
    /// assert_eq!(counted, 100);
    /// ```
    fn parallel_map_init_scoped<'scope, 'env, Init, S, F, U, Chain>(
        self,
        scope: &'scope Scope<'scope, 'env>,
        init: Init,
        f: F,
    ) -> ParallelMapScoped<'scope, 'env, Chain, U>
    where
        Self: SameAs<Chain>,
        Chain: Iterator + 'scope,
        // Each bound on a line of its own: the compiler shows the line that
        // fails, with its comment, under "required by a bound".
        Chain::Item: SendItem + 'scope, // items cross to the workers: `Arc` for `Rc`, owned data for a pointer
        Chain: Send, // it moves to the workers with what its closures capture: `Arc` for `Rc`, locks taken inside
        Init: Fn() -> S + Send + Sync + 'scope, // `init` runs on every worker
        S: Send + 'scope, // a state moves to the thread that uses it: `Arc` for `Rc`
        F: Fn(&mut S, Chain::Item) -> U + 'scope,
        F: Sync, // all workers share `f`: per-thread things go in the state, a shared counter in an atomic
        F: Send, // `f` moves to the workers: `Arc` for `Rc`; take a lock inside `f`, never hold a guard outside
        U: SendItem + 'scope, // results cross back to the consumer: `Arc` for `Rc`
    {
        self.into_same().parallel_map_init_scoped_with(
            scope,
            ParallelMapOptions::default(),
            init,
            f,
        )
    }

    /// Like [`parallel_map_init_scoped`](ParallelMapExt::parallel_map_init_scoped),
    /// with chosen [options](ParallelMapOptions).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::thread;
    /// use threadpipe::prelude::*;
    /// use threadpipe::ParallelMapOptions;
    ///
    /// let prefix = String::from("item ");
    /// let labels: Vec<String> = thread::scope(|scope| {
    ///     (1..=3)
    ///         .parallel_map_init_scoped_with(
    ///             scope,
    ///             ParallelMapOptions::new().threads(1),
    ///             || prefix.clone(),
    ///             |label: &mut String, n| {
    ///                 label.truncate(prefix.len());
    ///                 label.push_str(&n.to_string());
    ///                 label.clone()
    ///             },
    ///         )
    ///         .collect()
    /// });
    /// assert_eq!(labels, ["item 1", "item 2", "item 3"]);
    /// ```
    fn parallel_map_init_scoped_with<'scope, 'env, Init, S, F, U, Chain>(
        self,
        scope: &'scope Scope<'scope, 'env>,
        options: ParallelMapOptions,
        init: Init,
        f: F,
    ) -> ParallelMapScoped<'scope, 'env, Chain, U>
    where
        Self: SameAs<Chain>,
        Chain: Iterator + 'scope,
        // Each bound on a line of its own: the compiler shows the line that
        // fails, with its comment, under "required by a bound".
        Chain::Item: SendItem + 'scope, // items cross to the workers: `Arc` for `Rc`, owned data for a pointer
        Chain: Send, // it moves to the workers with what its closures capture: `Arc` for `Rc`, locks taken inside
        Init: Fn() -> S + Send + Sync + 'scope, // `init` runs on every worker
        S: Send + 'scope, // a state moves to the thread that uses it: `Arc` for `Rc`
        F: Fn(&mut S, Chain::Item) -> U + 'scope,
        F: Sync, // all workers share `f`: per-thread things go in the state, a shared counter in an atomic
        F: Send, // `f` moves to the workers: `Arc` for `Rc`; take a lock inside `f`, never hold a guard outside
        U: SendItem + 'scope, // results cross back to the consumer: `Arc` for `Rc`
    {
        ParallelMapScoped {
            stage: lazy_stage(self.into_same(), options, true, init, f, move || {
                scheduler::scoped(scope)
            }),
            scope: PhantomData,
        }
    }
}

impl<I: Iterator> ParallelMapExt for I {}

/// An idle stage over its own `source` that will run on the threads
/// `threads` gives it; `sticky` for a stage with per-thread states, whose
/// runs keep their threads.
fn lazy_stage<'scope, I, Init, S, F, U>(
    source: I,
    options: ParallelMapOptions,
    sticky: bool,
    init: Init,
    f: F,
    threads: impl FnOnce() -> Spawner<'scope> + Send + 'scope,
) -> Stage<'scope, I, U>
where
    I: Iterator + Send + 'scope,
    I::Item: Send + 'scope,
    Init: Fn() -> S + Send + Sync + 'scope,
    S: Send + 'scope,
    F: Fn(&mut S, I::Item) -> U + Send + Sync + 'scope,
    U: Send + 'scope,
{
    stage::fresh(
        source,
        options.into_settings(sticky),
        init,
        f,
        Box::new(threads),
    )
}

/// An iterator that applies a function to its source's items on a pool of
/// worker threads.
///
/// This struct is created by [`parallel_map`](ParallelMapExt::parallel_map)
/// and the other methods of [`ParallelMapExt`] without a scope. See their
/// documentation for more. `U` is the type `f` returns; the types of `f`
/// and of a per-thread state are not part of the name, so the adapter can
/// be named in signatures.
///
/// It is `Send` when the source and the results are, never `Sync` (one
/// consumer at a time), always `Unpin`, and not `Clone`.
#[must_use = "iterator adaptors are lazy and do nothing unless consumed"]
pub struct ParallelMap<I: Iterator, U> {
    stage: Stage<'static, I, U>,
}

lazy_adapter!("ParallelMap", [I: Iterator, U] ParallelMap<I, U>, item = U);

/// An iterator that applies a function to its source's items on a pool of
/// worker threads inside a [`Scope`], so everything may borrow.
///
/// This struct is created by [`parallel_map_scoped`](ParallelMapExt::parallel_map_scoped)
/// and the other scoped methods of [`ParallelMapExt`]. See their
/// documentation for more.
///
/// It is `Send` when the source and the results are, never `Sync`, always
/// `Unpin`, and not `Clone`.
#[must_use = "iterator adaptors are lazy and do nothing unless consumed"]
pub struct ParallelMapScoped<'scope, 'env, I: Iterator, U> {
    stage: Stage<'scope, I, U>,
    scope: PhantomData<&'scope Scope<'scope, 'env>>,
}

lazy_adapter!(
    "ParallelMapScoped",
    ['scope, 'env, I: Iterator, U] ParallelMapScoped<'scope, 'env, I, U>,
    item = U
);
