//! A `parallel_map` chained right after another: the two run as one stage.
//!
//! These methods of [`ParallelMap`] and [`ParallelMapScoped`] take the
//! place of [`ParallelMapExt`]'s when a `parallel_map` is called on a
//! `parallel_map` stage directly (Rust prefers a type's own methods to a
//! trait's). They take the same arguments and keep every promise of the
//! trait's; they differ in one thing, which the caller does not see: if
//! the stage they follow has not started, the two become one stage over
//! its source, whose threads carry each item through both closures, so
//! that no item waits between the two in a queue (see the crate's
//! [performance notes](crate#one-set-of-threads)).

use std::thread::Scope;

use super::stage::{self, Threads};
use super::{ParallelMap, ParallelMapOptions, ParallelMapScoped};
use crate::bounds::SendItem;
use crate::scheduler;

impl<I, U> ParallelMap<I, U>
where
    I: Iterator + Send + 'static,
    I::Item: Send + 'static,
    U: Send + 'static,
{
    /// Applies `f` to every result of this stage, as
    /// [`ParallelMapExt::parallel_map`](super::ParallelMapExt::parallel_map)
    /// does, fused with this stage into one when it has not started.
    ///
    /// Fused, the two are one stage over this stage's source: each thread
    /// that takes an item runs this stage's closure on it and then `f`,
    /// and the results come in input order (in completion order if either
    /// stage asked for it). Every promise holds for each stage as written:
    /// order, completeness, panics in their turn with their payloads,
    /// bounded memory (the smaller of the two windows bounds both), each
    /// `init` once on each thread that runs its closure. The threads carry
    /// the second stage's name, and a [`Profile`](crate::Profile) keeps a
    /// row for each (the first counts items; the time is the second's).
    /// The two stay apart, each a stage of its own, when this one has
    /// started, when either runs inline, or when their
    /// [`threads`](ParallelMapOptions::threads) differ.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadpipe::prelude::*;
    ///
    /// let lengths: Vec<usize> = (1..=4u32)
    ///     .parallel_map(|n| "ab".repeat(n as usize)) // these two run as one stage
    ///     .parallel_map(|text| text.len())
    ///     .collect();
    /// assert_eq!(lengths, [2, 4, 6, 8]);
    /// ```
    pub fn parallel_map<F, V>(self, f: F) -> ParallelMap<I, V>
    where
        // Each bound on a line of its own: the compiler shows the line that
        // fails, with its comment, under "required by a bound".
        F: Fn(U) -> V + 'static,
        F: Sync, // all workers share `f`: `Cell` -> atomic, `RefCell` -> `parallel_map_init`, `Receiver` -> `shared_channel`
        F: Send, // `f` moves to the workers: `Arc` for `Rc`; take a lock inside `f`, never hold a guard outside
        V: SendItem + 'static, // results cross back to the consumer: `Arc` for `Rc`
    {
        self.parallel_map_with(ParallelMapOptions::default(), f)
    }

    /// Like [`parallel_map`](ParallelMap::parallel_map), with chosen
    /// [options](ParallelMapOptions), as
    /// [`ParallelMapExt::parallel_map_with`](super::ParallelMapExt::parallel_map_with).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadpipe::prelude::*;
    /// use threadpipe::ParallelMapOptions;
    ///
    /// let options = ParallelMapOptions::new().window(16).name("double");
    /// let total: u64 = (0..100u64)
    ///     .parallel_map(|n| n + 1)
    ///     .parallel_map_with(options, |n| n * 2)
    ///     .sum();
    /// assert_eq!(total, 10_100);
    /// ```
    pub fn parallel_map_with<F, V>(self, options: ParallelMapOptions, f: F) -> ParallelMap<I, V>
    where
        // Each bound on a line of its own: the compiler shows the line that
        // fails, with its comment, under "required by a bound".
        F: Fn(U) -> V + 'static,
        F: Sync, // all workers share `f`: `Cell` -> atomic, `RefCell` -> `parallel_map_init`, `Receiver` -> `shared_channel`
        F: Send, // `f` moves to the workers: `Arc` for `Rc`; take a lock inside `f`, never hold a guard outside
        V: SendItem + 'static, // results cross back to the consumer: `Arc` for `Rc`
    {
        let threads: Threads<'static> = Box::new(scheduler::global);
        ParallelMap {
            stage: stage::chained(
                self.stage,
                |stage| ParallelMap { stage },
                options,
                false,
                || (),
                move |(), item| f(item),
                threads,
            ),
        }
    }

    /// Like [`parallel_map`](ParallelMap::parallel_map), with a state of
    /// each thread's own, as
    /// [`ParallelMapExt::parallel_map_init`](super::ParallelMapExt::parallel_map_init).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadpipe::prelude::*;
    ///
    /// let words = ["pipe", "thread", "stage"];
    /// let upper: Vec<String> = words
    ///     .into_iter()
    ///     .parallel_map(str::to_owned)
    ///     .parallel_map_init(String::new, |scratch: &mut String, word| {
    ///         scratch.clear();
    ///         scratch.push_str(&word.to_uppercase());
    ///         scratch.clone()
    ///     })
    ///     .collect();
    /// assert_eq!(upper, ["PIPE", "THREAD", "STAGE"]);
    /// ```
    pub fn parallel_map_init<Init, S, F, V>(self, init: Init, f: F) -> ParallelMap<I, V>
    where
        Init: Fn() -> S + Send + Sync + 'static, // `init` runs on every worker
        S: Send + 'static, // a state moves to the thread that uses it: `Arc` for `Rc`
        // Each bound on a line of its own: the compiler shows the line that
        // fails, with its comment, under "required by a bound".
        F: Fn(&mut S, U) -> V + 'static,
        F: Sync, // all workers share `f`: per-thread things go in the state, a shared counter in an atomic
        F: Send, // `f` moves to the workers: `Arc` for `Rc`; take a lock inside `f`, never hold a guard outside
        V: SendItem + 'static, // results cross back to the consumer: `Arc` for `Rc`
    {
        self.parallel_map_init_with(ParallelMapOptions::default(), init, f)
    }

    /// Like [`parallel_map_init`](ParallelMap::parallel_map_init), with
    /// chosen [options](ParallelMapOptions), as
    /// [`ParallelMapExt::parallel_map_init_with`](super::ParallelMapExt::parallel_map_init_with).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadpipe::prelude::*;
    /// use threadpipe::ParallelMapOptions;
    ///
    /// let total: usize = (0..50u32)
    ///     .parallel_map(|n| n.to_string())
    ///     .parallel_map_init_with(ParallelMapOptions::new(), Vec::new, |seen: &mut Vec<u8>, text| {
    ///         seen.extend(text.bytes());
    ///         text.len()
    ///     })
    ///     .sum();
    /// assert_eq!(total, 10 + 40 * 2);
    /// ```
    pub fn parallel_map_init_with<Init, S, F, V>(
        self,
        options: ParallelMapOptions,
        init: Init,
        f: F,
    ) -> ParallelMap<I, V>
    where
        Init: Fn() -> S + Send + Sync + 'static, // `init` runs on every worker
        S: Send + 'static, // a state moves to the thread that uses it: `Arc` for `Rc`
        // Each bound on a line of its own: the compiler shows the line that
        // fails, with its comment, under "required by a bound".
        F: Fn(&mut S, U) -> V + 'static,
        F: Sync, // all workers share `f`: per-thread things go in the state, a shared counter in an atomic
        F: Send, // `f` moves to the workers: `Arc` for `Rc`; take a lock inside `f`, never hold a guard outside
        V: SendItem + 'static, // results cross back to the consumer: `Arc` for `Rc`
    {
        let threads: Threads<'static> = Box::new(scheduler::global);
        ParallelMap {
            stage: stage::chained(
                self.stage,
                |stage| ParallelMap { stage },
                options,
                true,
                init,
                f,
                threads,
            ),
        }
    }
}

impl<'scope, 'env, I, U> ParallelMapScoped<'scope, 'env, I, U>
where
    I: Iterator + Send + 'scope,
    I::Item: Send + 'scope,
    U: Send + 'scope,
{
    /// Applies `f` to every result of this stage inside the same `scope`, as
    /// [`ParallelMapExt::parallel_map_scoped`](super::ParallelMapExt::parallel_map_scoped)
    /// does, fused with this stage into one when it has not started (see
    /// [`ParallelMap::parallel_map`] for what that means).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::thread;
    /// use threadpipe::prelude::*;
    ///
    /// let offset = 100;
    /// let shifted: Vec<u32> = thread::scope(|scope| {
    ///     (0..4u32)
    ///         .parallel_map_scoped(scope, |n| n * 2)
    ///         .parallel_map_scoped(scope, |n| n + offset)
    ///         .collect()
    /// });
    /// assert_eq!(shifted, [100, 102, 104, 106]);
    /// ```
    pub fn parallel_map_scoped<F, V>(
        self,
        scope: &'scope Scope<'scope, 'env>,
        f: F,
    ) -> ParallelMapScoped<'scope, 'env, I, V>
    where
        // Each bound on a line of its own: the compiler shows the line that
        // fails, with its comment, under "required by a bound".
        F: Fn(U) -> V + 'scope,
        F: Sync, // all workers share `f`: `Cell` -> atomic, `RefCell` -> `parallel_map_init`, `Receiver` -> `shared_channel`
        F: Send, // `f` moves to the workers: `Arc` for `Rc`; take a lock inside `f`, never hold a guard outside
        V: SendItem + 'scope, // results cross back to the consumer: `Arc` for `Rc`
    {
        self.parallel_map_scoped_with(scope, ParallelMapOptions::default(), f)
    }

    /// Like [`parallel_map_scoped`](ParallelMapScoped::parallel_map_scoped),
    /// with chosen [options](ParallelMapOptions).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::thread;
    /// use threadpipe::prelude::*;
    /// use threadpipe::ParallelMapOptions;
    ///
    /// let names = ["a", "bb"];
    /// let lengths: Vec<usize> = thread::scope(|scope| {
    ///     names
    ///         .iter()
    ///         .parallel_map_scoped(scope, |name| name.to_uppercase())
    ///         .parallel_map_scoped_with(scope, ParallelMapOptions::new().window(8), |name| name.len())
    ///         .collect()
    /// });
    /// assert_eq!(lengths, [1, 2]);
    /// ```
    pub fn parallel_map_scoped_with<F, V>(
        self,
        scope: &'scope Scope<'scope, 'env>,
        options: ParallelMapOptions,
        f: F,
    ) -> ParallelMapScoped<'scope, 'env, I, V>
    where
        // Each bound on a line of its own: the compiler shows the line that
        // fails, with its comment, under "required by a bound".
        F: Fn(U) -> V + 'scope,
        F: Sync, // all workers share `f`: `Cell` -> atomic, `RefCell` -> `parallel_map_init`, `Receiver` -> `shared_channel`
        F: Send, // `f` moves to the workers: `Arc` for `Rc`; take a lock inside `f`, never hold a guard outside
        V: SendItem + 'scope, // results cross back to the consumer: `Arc` for `Rc`
    {
        let threads: Threads<'scope> = Box::new(move || scheduler::scoped(scope));
        ParallelMapScoped {
            stage: stage::chained(
                self.stage,
                |stage| ParallelMapScoped {
                    stage,
                    scope: std::marker::PhantomData,
                },
                options,
                false,
                || (),
                move |(), item| f(item),
                threads,
            ),
            scope: std::marker::PhantomData,
        }
    }

    /// Like [`parallel_map_scoped`](ParallelMapScoped::parallel_map_scoped),
    /// with a state of each thread's own.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::thread;
    /// use threadpipe::prelude::*;
    ///
    /// let suffix = "!";
    /// let loud: Vec<String> = thread::scope(|scope| {
    ///     ["hi", "yo"]
    ///         .into_iter()
    ///         .parallel_map_scoped(scope, str::to_uppercase)
    ///         .parallel_map_init_scoped(scope, String::new, |scratch: &mut String, word| {
    ///             scratch.clear();
    ///             scratch.push_str(&word);
    ///             scratch.push_str(suffix);
    ///             scratch.clone()
    ///         })
    ///         .collect()
    /// });
    /// assert_eq!(loud, ["HI!", "YO!"]);
    /// ```
    pub fn parallel_map_init_scoped<Init, S, F, V>(
        self,
        scope: &'scope Scope<'scope, 'env>,
        init: Init,
        f: F,
    ) -> ParallelMapScoped<'scope, 'env, I, V>
    where
        Init: Fn() -> S + Send + Sync + 'scope, // `init` runs on every worker
        S: Send + 'scope, // a state moves to the thread that uses it: `Arc` for `Rc`
        // Each bound on a line of its own: the compiler shows the line that
        // fails, with its comment, under "required by a bound".
        F: Fn(&mut S, U) -> V + 'scope,
        F: Sync, // all workers share `f`: per-thread things go in the state, a shared counter in an atomic
        F: Send, // `f` moves to the workers: `Arc` for `Rc`; take a lock inside `f`, never hold a guard outside
        V: SendItem + 'scope, // results cross back to the consumer: `Arc` for `Rc`
    {
        self.parallel_map_init_scoped_with(scope, ParallelMapOptions::default(), init, f)
    }

    /// Like [`parallel_map_init_scoped`](ParallelMapScoped::parallel_map_init_scoped),
    /// with chosen [options](ParallelMapOptions).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::thread;
    /// use threadpipe::prelude::*;
    /// use threadpipe::ParallelMapOptions;
    ///
    /// let total: usize = thread::scope(|scope| {
    ///     (0..10u32)
    ///         .parallel_map_scoped(scope, |n| n.to_string())
    ///         .parallel_map_init_scoped_with(
    ///             scope,
    ///             ParallelMapOptions::new().threads(2),
    ///             || 0usize,
    ///             |calls: &mut usize, text| {
    ///                 *calls += 1;
    ///                 text.len()
    ///             },
    ///         )
    ///         .sum()
    /// });
    /// assert_eq!(total, 10);
    /// ```
    pub fn parallel_map_init_scoped_with<Init, S, F, V>(
        self,
        scope: &'scope Scope<'scope, 'env>,
        options: ParallelMapOptions,
        init: Init,
        f: F,
    ) -> ParallelMapScoped<'scope, 'env, I, V>
    where
        Init: Fn() -> S + Send + Sync + 'scope, // `init` runs on every worker
        S: Send + 'scope, // a state moves to the thread that uses it: `Arc` for `Rc`
        // Each bound on a line of its own: the compiler shows the line that
        // fails, with its comment, under "required by a bound".
        F: Fn(&mut S, U) -> V + 'scope,
        F: Sync, // all workers share `f`: per-thread things go in the state, a shared counter in an atomic
        F: Send, // `f` moves to the workers: `Arc` for `Rc`; take a lock inside `f`, never hold a guard outside
        V: SendItem + 'scope, // results cross back to the consumer: `Arc` for `Rc`
    {
        let threads: Threads<'scope> = Box::new(move || scheduler::scoped(scope));
        ParallelMapScoped {
            stage: stage::chained(
                self.stage,
                |stage| ParallelMapScoped {
                    stage,
                    scope: std::marker::PhantomData,
                },
                options,
                true,
                init,
                f,
                threads,
            ),
            scope: std::marker::PhantomData,
        }
    }
}
