//! The options of a `parallel_map` stage, and the settings the engine gets.

use std::num::NonZeroUsize;

use crate::pool::{Order, Settings};
use crate::profile::Profile;
use crate::scheduler;
use crate::stats::Recorder;

/// How many items may be pulled and not yet delivered by default.
///
/// The same as [`DEFAULT_CAPACITY`](crate::DEFAULT_CAPACITY), so that a
/// `parallel_map` fed by an `off_thread` stage can take in everything that
/// stage's channel holds at once: with a smaller window the two stages
/// trade items a few at a time, and on a machine with fewer cores than
/// threads every such trade is a context switch (`benches/README.md` has
/// the figures). Lower it for big items (see
/// [`ParallelMapOptions::window`]).
pub const DEFAULT_WINDOW: usize = 1024;

/// Settings for one [`parallel_map`](crate::ParallelMapExt::parallel_map_with)
/// stage: threads, window, thread names, order, profile.
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
    inline: bool,
}

impl ParallelMapOptions {
    /// The defaults: input order; at most one worker per busy thread the
    /// [shared set](crate#one-set-of-threads) allows (one per core, unless
    /// configured) but one, since the consumer runs `f` too whenever it
    /// would otherwise wait (in completion order, where it does not, one
    /// per busy thread); a window of [`DEFAULT_WINDOW`] items; threads
    /// named `parallel_map-0`, `parallel_map-1`, ... while they run the
    /// stage; no profile.
    ///
    /// Why one worker fewer: on a machine with `n` cores, `n` workers and a
    /// consumer that helps would be `n + 1` threads busy on `n` cores. The
    /// two choices measured equally fast on every `parallel_map` benchmark
    /// (`benches/README.md` has the figures), and one fewer leaves room for
    /// the stages around the pool.
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
            inline: false,
        }
    }

    /// Sets how many threads may run the stage's `f` at once (its
    /// consumer, which helps, aside): a cap, not a number of threads to
    /// start. The stage takes threads of the
    /// [shared set](crate#one-set-of-threads) as it finds work for them, up
    /// to this cap, and within the set's budget of busy threads: a cap above
    /// the number of cores lets threads whose `f` blocks (on a socket, a
    /// lock, a sleep) be replaced by others, each stopping counting against
    /// the cores while it is blocked.
    ///
    /// In input order the consumer runs `f` too while it waits for a result,
    /// on its own thread, which the budget does not count (it is the
    /// program's). So a stage of CPU-bound work whose consumer does little
    /// else keeps the cores busy with `threads(cores - 1)`: `threads(cores)`
    /// makes one thread more than cores, which costs time slices (pzip
    /// measured 8 to 14% at `cores`, against `cores - 1`, on 2 cores).
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
    /// This is the memory bound: at most `window` items and results are
    /// alive in the stage at once, whatever the number of threads. The
    /// buffers the stage allocates as it starts have a slot for each item
    /// it may pull (`window`, at most 4,096) and, for each of its
    /// [`threads`](ParallelMapOptions::threads), a ring with a slot for
    /// each result it may make (`window` again, at most 4,096), so that any
    /// one thread may run as far ahead as the window lets it. A value is
    /// moved into its slot: a large result held by value, not boxed, takes
    /// its whole size in each of `threads × window` slots. A window smaller
    /// than the number of threads leaves threads idle; a larger one absorbs
    /// items of uneven cost.
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

    /// Names the stage: a thread that runs it carries the name `name-<n>`
    /// while it does (`n` counts from 0 up to the stage's
    /// [`threads`](ParallelMapOptions::threads)), as
    /// [`current_stage_name`](crate::current_stage_name) tells, and as
    /// debuggers and `top -H` show where the operating system lets a thread
    /// rename itself.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadpipe::prelude::*;
    /// use threadpipe::ParallelMapOptions;
    ///
    /// let options = ParallelMapOptions::new().threads(1).name("resize");
    /// let names: Vec<Option<String>> = (0..3)
    ///     .parallel_map_with(options, |_| threadpipe::current_stage_name())
    ///     .collect();
    /// // The consumer may run an item itself when it would otherwise wait:
    /// // it runs no stage of its own, so it has no stage name.
    /// assert!(names.iter().all(|name| matches!(name.as_deref(), Some("resize-0") | None)));
    /// ```
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Yields results as they finish rather than in input order.
    ///
    /// A slow item then holds up no result but those of its own chunk (a run
    /// claims a few cheap items at a time): in this mode the consumer never
    /// runs `f` itself, it only waits for the workers. Completeness, the
    /// window bound and panic propagation stay: a panic is raised after the
    /// result of every item before it (every item pulled before the source
    /// panicked, or before the item whose `f` panicked), in whatever order
    /// those finish; the items after it are dropped unrun.
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
    /// result, and time its consumer spent running `f` itself.
    ///
    /// Only waits and the consumer's help are timed, so the cost is near
    /// zero; see [`Profile`].
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

    /// Runs the stage inline when `inline` is `true`: on the consumer's
    /// thread, as a plain `map` would (with one state, for
    /// [`parallel_map_init`](crate::ParallelMapExt::parallel_map_init)). No
    /// thread is started; the results, their order and every panic are the
    /// same, and the thread count, window and order no longer matter.
    ///
    /// For debugging, for deterministic runs, and for a program's
    /// single-threaded mode, whose chain stays the same. The environment
    /// variable `THREADPIPE_INLINE=1` makes every stage of a program inline
    /// without a change to its code. A stage also runs inline, rather than
    /// fail, where no thread can be started: on targets without threads
    /// (`wasm32-unknown-unknown`), or when the operating system refuses
    /// every thread of the set; if it gives some, the stage runs on those.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadpipe::prelude::*;
    /// use threadpipe::ParallelMapOptions;
    ///
    /// let here = std::thread::current().id();
    /// let options = ParallelMapOptions::new().inline(true);
    /// let squares: Vec<(u32, bool)> = (1..4u32)
    ///     .parallel_map_with(options, move |n| (n * n, std::thread::current().id() == here))
    ///     .collect();
    /// assert_eq!(squares, [(1, true), (4, true), (9, true)]);
    /// ```
    #[must_use]
    pub fn inline(mut self, inline: bool) -> Self {
        self.inline = inline;
        self
    }

    /// How many threads may run the stage's `f` at once.
    fn thread_count(&self) -> usize {
        if let Some(threads) = self.threads {
            return threads.get();
        }
        let busy = scheduler::busy_threads();
        match self.order {
            Order::Input => (busy - 1).max(1),
            Order::Completion => busy,
        }
    }

    /// What the engine needs. A profile registers the stage now, so that it
    /// lists stages in the order the chain is written, upstream first.
    /// `sticky` asks for runs that keep their thread (per-thread states).
    pub(super) fn into_settings(self, sticky: bool) -> Settings {
        let threads = self.thread_count();
        let stats = match &self.profile {
            Some(profile) => profile.register(&self.name, if self.inline { 0 } else { threads }),
            None => Recorder::off(),
        };
        Settings {
            threads,
            window: self.window.map_or(DEFAULT_WINDOW, NonZeroUsize::get),
            order: self.order,
            name: self.name,
            stats,
            inline: self.inline,
            sticky,
        }
    }
}

impl Default for ParallelMapOptions {
    fn default() -> Self {
        ParallelMapOptions::new()
    }
}
