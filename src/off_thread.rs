//! `off_thread`: the chain above runs on a thread other than the consumer's.

use std::marker::PhantomData;
use std::thread::Scope;

use crate::bounds::{SameAs, SendItem};
use crate::handoff::{self, Handoff, Settings};
use crate::lazy::{LazyStage, Started, Waiting, lazy_adapter};
use crate::profile::Profile;
use crate::scheduler::{self, Spawner, Unmarked};
use crate::stats::Stats;

/// How many items may wait between a worker and its consumer by default.
///
/// Enough for a worker and its consumer to run at full speed side by side
/// with tiny items; lower it for big items (see
/// [`OffThreadOptions::capacity`]).
pub const DEFAULT_CAPACITY: usize = 1024;

/// The name a stage's thread carries by default.
const DEFAULT_NAME: &str = "off_thread";

/// Runs the iterator above on a thread other than the consumer's.
///
/// This trait is implemented for every [`Iterator`]; import it with
/// `use threadpipe::prelude::*;`.
pub trait OffThreadExt: Iterator + Sized {
    /// Runs this iterator, and everything chained before it, on a thread
    /// other than yours, and yields its items here, on the consumer's
    /// thread.
    ///
    /// Iterator element type is `Self::Item`. This iterator is *fused*.
    ///
    /// The iterator and its items move to another thread, so they must be
    /// `Send`; the thread may outlive the current function, so they must be
    /// `'static` too (nothing borrowed; see
    /// [`off_thread_scoped`](OffThreadExt::off_thread_scoped) to borrow).
    /// Uses [`OffThreadOptions::default()`]: up to [`DEFAULT_CAPACITY`]
    /// items in flight, a stage named `off_thread`.
    ///
    /// The thread is one of the process's [shared set](crate#one-set-of-threads),
    /// held while the stage has work: pulling the source and pushing items
    /// until the channel is full; then the stage gives it back, and gets one
    /// again when the consumer has made room. Right below a
    /// [`parallel_map`](crate::ParallelMapExt::parallel_map) the stage runs
    /// on that stage's threads instead, with no channel between them (still
    /// never on the consumer's thread): its items go to the `parallel_map`
    /// as soon as they are pulled.
    ///
    /// # What is guaranteed
    ///
    /// Every promise of [the contract](crate#the-contract), and in numbers:
    ///
    /// - **Nothing held back**: each item is handed over as soon as the
    ///   source yields it, even if the source then blocks for a long time
    ///   (unless [`batch`](OffThreadOptions::batch) mode is chosen).
    /// - **Bounded**: at most `capacity` items wait in the channel, plus one
    ///   pulled and not yet pushed, so the stage pulls at most
    ///   `capacity + 1` items ahead of the consumer. The capacity is the
    ///   memory bound.
    /// - **Threads let go**: once `next` has returned `None` (or re-raised a
    ///   panic), the source has been dropped, on the stage's thread, and no
    ///   thread runs any of the chain above.
    /// - **`size_hint`** is the source's hint when the stage started, minus
    ///   the items delivered since; the adapter is an
    ///   [`ExactSizeIterator`] when the source is.
    ///
    /// Items cross through a lock-free ring that costs a few nanoseconds per
    /// item; a side that has to wait spins briefly, then sleeps, and is
    /// woken when the other side moves on. `benches/README.md` has the
    /// figures, next to the classic `sync_channel` pipeline's.
    ///
    /// # Panics
    ///
    /// If the iterator panics on the stage's thread (in `next` or as it is
    /// dropped), the consumer first receives every item yielded before the
    /// panic; then its `next` re-raises the panic with the original payload
    /// (see [`std::panic::resume_unwind`]), and the adapter yields `None`
    /// from then on. Through several `off_thread` stages, the payload
    /// arrives unchanged at the end of the chain.
    ///
    /// If the operating system cannot start a single thread for the set, the
    /// stage runs on the consumer's thread instead, as with
    /// [`OffThreadOptions::inline`].
    ///
    /// # Dropping early
    ///
    /// Dropping the adapter never blocks, even when the source is stuck inside
    /// its own `next`. A thread running the stage notices at its next
    /// hand-off: it stops pulling and drops the iterator there; a stage that
    /// waits for room has a thread of the set drop it. Items already in the
    /// channel are dropped one by one on that thread, or with the adapter
    /// if the stage had already finished. A source that never returns from
    /// `next` keeps its thread (and those items) there; nothing can
    /// interrupt it, but that thread stops counting against the cores.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadpipe::prelude::*;
    ///
    /// let squares: Vec<u64> = (1..=5u64)
    ///     .map(|n| n * n) // runs on another thread
    ///     .off_thread()
    ///     .collect(); // runs here
    /// assert_eq!(squares, [1, 4, 9, 16, 25]);
    /// ```
    ///
    /// Items must be `Send`; an `Rc` would let two threads change one reference
    /// count at once, so the compiler refuses it:
    ///
    /// ```compile_fail,E0277
    /// use std::rc::Rc;
    /// use threadpipe::prelude::*;
    ///
    /// let shared: Vec<Rc<u32>> = (0..3).map(Rc::new).off_thread().collect();
    /// ```
    ///
    /// ```text
    /// error[E0277]: `Rc<{integer}>` cannot be sent between threads safely
    ///   |     let shared: Vec<Rc<u32>> = (0..3).map(Rc::new).off_thread().collect();
    ///   |                                                    ^^^^^^^^^^ `Rc<{integer}>` crosses between threads here, ...
    ///   = note: for an `Rc`, use `std::sync::Arc` (and `Arc<Mutex<T>>` for `Rc<RefCell<T>>`): it counts its owners atomically
    /// note: required by a bound in `off_thread`
    ///   |         Chain::Item: SendItem + 'static, // items cross to the consumer: `Arc` for `Rc`, owned data for a pointer
    /// ```
    ///
    /// An [`Arc`](std::sync::Arc) counts atomically, and may cross:
    ///
    /// ```
    /// use std::sync::Arc;
    /// use threadpipe::prelude::*;
    ///
    /// let shared: Vec<Arc<u32>> = (0..3).map(Arc::new).off_thread().collect();
    /// assert_eq!(*shared[2], 2);
    /// ```
    ///
    /// Nothing may be borrowed from the calling function, which the stage's
    /// thread may outlive; the compiler says so as a lifetime error (E0521):
    ///
    /// ```compile_fail,E0521
    /// use threadpipe::prelude::*;
    ///
    /// fn total_length(words: &[String]) -> usize {
    ///     words.iter().map(String::len).off_thread().sum()
    /// }
    /// ```
    ///
    /// ```text
    /// error[E0521]: borrowed data escapes outside of function
    ///   |     words.iter().map(String::len).off_thread().sum()
    ///   |     `words` escapes the function body here
    /// ```
    ///
    /// Use [`off_thread_scoped`](OffThreadExt::off_thread_scoped) to borrow,
    /// or move owned data in:
    ///
    /// ```
    /// use std::thread;
    /// use threadpipe::prelude::*;
    ///
    /// fn total_length(words: &[String]) -> usize {
    ///     thread::scope(|scope| words.iter().map(String::len).off_thread_scoped(scope).sum())
    /// }
    /// assert_eq!(total_length(&["pipe".to_owned(), "line".to_owned()]), 8);
    /// ```
    ///
    /// The bounds are written on `Chain`, which is `Self` under another name
    /// ([`SameAs`]), each on a line of its own with the fix in a comment:
    /// when one fails, the compiler names the type at fault (an `Rc` among
    /// a closure's captures, say) and shows that line (see
    /// [the guide](crate::guide#reading-the-error)).
    fn off_thread<Chain>(self) -> OffThread<Chain>
    where
        Self: SameAs<Chain>,
        Chain: Iterator + 'static,
        Chain::Item: SendItem + 'static, // items cross to the consumer: `Arc` for `Rc`, owned data for a pointer
        Chain: Send, // it moves to the worker with what its closures capture: `Arc` for `Rc`, locks taken inside
    {
        self.into_same()
            .off_thread_with(OffThreadOptions::default())
    }

    /// Like [`off_thread`](OffThreadExt::off_thread), with chosen
    /// [options](OffThreadOptions): capacity, thread name, batch mode,
    /// profile.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadpipe::prelude::*;
    /// use threadpipe::OffThreadOptions;
    ///
    /// let options = OffThreadOptions::new().capacity(2).name("reader");
    /// let names: Vec<Option<String>> = (0..3)
    ///     .map(|_| threadpipe::current_stage_name())
    ///     .off_thread_with(options)
    ///     .collect();
    /// assert_eq!(names, [Some("reader".to_owned()), Some("reader".to_owned()), Some("reader".to_owned())]);
    /// ```
    fn off_thread_with<Chain>(self, options: OffThreadOptions) -> OffThread<Chain>
    where
        Self: SameAs<Chain>,
        Chain: Iterator + 'static,
        Chain::Item: SendItem + 'static, // items cross to the consumer: `Arc` for `Rc`, owned data for a pointer
        Chain: Send, // it moves to the worker with what its closures capture: `Arc` for `Rc`, locks taken inside
    {
        OffThread {
            stage: lazy_stage(self.into_same(), options, scheduler::global),
        }
    }

    /// Like [`off_thread`](OffThreadExt::off_thread), with the stage on a thread inside a
    /// [`std::thread::scope`], so the iterator, its closures and its items may
    /// borrow from the caller: nothing needs to be `'static`, only `Send`.
    ///
    /// Every promise of `off_thread` holds, with one difference on drop: the
    /// adapter's drop still never blocks, but the scope itself waits, at its
    /// end, for the stage's thread to stop, as it does for every thread in
    /// it. The stage's thread is one of the scope's (safe Rust can lend
    /// borrowed data to no other), started when the stage first needs it;
    /// it counts against the same budget of busy threads as the shared set.
    ///
    /// # Examples
    ///
    /// A stage that reads a borrowed glossary, with no `Arc`:
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use std::thread;
    /// use threadpipe::prelude::*;
    ///
    /// let glossary = HashMap::from([("pipe", "a channel"), ("stage", "a thread")]);
    /// let words = ["stage", "pipe", "none"];
    /// let meanings: Vec<&str> = thread::scope(|scope| {
    ///     words
    ///         .iter()
    ///         .map(|word| glossary.get(word).copied().unwrap_or("?"))
    ///         .off_thread_scoped(scope)
    ///         .collect()
    /// });
    /// assert_eq!(meanings, ["a thread", "a channel", "?"]);
    /// ```
    fn off_thread_scoped<'scope, 'env, Chain>(
        self,
        scope: &'scope Scope<'scope, 'env>,
    ) -> OffThreadScoped<'scope, 'env, Chain>
    where
        Self: SameAs<Chain>,
        Chain: Iterator + 'scope,
        Chain::Item: SendItem + 'scope, // items cross to the consumer: `Arc` for `Rc`, owned data for a pointer
        Chain: Send, // it moves to the worker with what its closures capture: `Arc` for `Rc`, locks taken inside
    {
        self.into_same()
            .off_thread_scoped_with(scope, OffThreadOptions::default())
    }

    /// Like [`off_thread_scoped`](OffThreadExt::off_thread_scoped), with
    /// chosen [options](OffThreadOptions).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::thread;
    /// use threadpipe::prelude::*;
    /// use threadpipe::OffThreadOptions;
    ///
    /// let lines = vec!["a".to_owned(), "bb".to_owned()];
    /// let total = thread::scope(|scope| {
    ///     lines
    ///         .iter()
    ///         .map(String::len)
    ///         .off_thread_scoped_with(scope, OffThreadOptions::new().capacity(1))
    ///         .sum::<usize>()
    /// });
    /// assert_eq!(total, 3);
    /// ```
    fn off_thread_scoped_with<'scope, 'env, Chain>(
        self,
        scope: &'scope Scope<'scope, 'env>,
        options: OffThreadOptions,
    ) -> OffThreadScoped<'scope, 'env, Chain>
    where
        Self: SameAs<Chain>,
        Chain: Iterator + 'scope,
        Chain::Item: SendItem + 'scope, // items cross to the consumer: `Arc` for `Rc`, owned data for a pointer
        Chain: Send, // it moves to the worker with what its closures capture: `Arc` for `Rc`, locks taken inside
    {
        OffThreadScoped {
            stage: lazy_stage(self.into_same(), options, move || scheduler::scoped(scope)),
            scope: PhantomData,
        }
    }
}

impl<I: Iterator> OffThreadExt for I {}

/// The stage an `off_thread` adapter runs: idle until its first `next()`.
type Stage<'scope, I> =
    LazyStage<Waiting<'scope, I, Settings, Engine<'scope, I>>, Engine<'scope, I>>;

/// What an `off_thread` adapter runs once started.
type Engine<'scope, I> = Started<Handoff<'scope, <I as Iterator>::Item>, Unmarked<I>>;

/// An idle stage that will run on the threads `threads` gives it.
fn lazy_stage<'scope, I>(
    source: I,
    options: OffThreadOptions,
    threads: impl FnOnce() -> Spawner<'scope> + Send + 'scope,
) -> Stage<'scope, I>
where
    I: Iterator + Send + 'scope,
    I::Item: Send + 'scope,
{
    LazyStage::new(Waiting {
        source,
        settings: options.into_settings(),
        start: Box::new(move |source, settings| handoff::start(threads(), source, settings)),
    })
}

/// Settings for one [`off_thread`](OffThreadExt::off_thread_with) stage:
/// capacity, thread name, batch mode and profile.
///
/// # Examples
///
/// ```
/// use threadpipe::OffThreadOptions;
///
/// // At most 64 lines wait in memory; the thread shows up as `reader`.
/// let options = OffThreadOptions::new().capacity(64).name("reader");
/// # let _ = options;
/// ```
#[derive(Clone, Debug)]
pub struct OffThreadOptions {
    capacity: usize,
    name: String,
    batch: usize,
    profile: Option<Profile>,
    inline: bool,
}

impl OffThreadOptions {
    /// The defaults: [`DEFAULT_CAPACITY`] items, a thread named `off_thread`,
    /// items handed over one by one, no profile.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadpipe::prelude::*;
    /// use threadpipe::OffThreadOptions;
    ///
    /// let total: u32 = (1..=4).off_thread_with(OffThreadOptions::new()).sum();
    /// assert_eq!(total, 10);
    /// ```
    pub fn new() -> Self {
        OffThreadOptions {
            capacity: DEFAULT_CAPACITY,
            name: DEFAULT_NAME.to_owned(),
            batch: 1,
            profile: None,
            inline: false,
        }
    }

    /// Sets how many items may wait between the stage and the consumer.
    ///
    /// This is the memory bound: the stage pulls at most `capacity + 1`
    /// items ahead of the consumer, then waits.
    ///
    /// # Panics
    ///
    /// If `capacity` is 0: a stage that can hold nothing would make its thread
    /// wait for the consumer on every item, which is never what a pipeline wants.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadpipe::prelude::*;
    /// use threadpipe::OffThreadOptions;
    ///
    /// // Big items: keep at most 4 in flight.
    /// let blocks = (0..10).map(|_| vec![0u8; 1 << 20]);
    /// let sizes: usize = blocks
    ///     .off_thread_with(OffThreadOptions::new().capacity(4))
    ///     .map(|block| block.len())
    ///     .sum();
    /// assert_eq!(sizes, 10 << 20);
    /// ```
    #[must_use]
    pub fn capacity(mut self, capacity: usize) -> Self {
        assert!(
            capacity > 0,
            "threadpipe: an off_thread capacity must be at least 1"
        );
        self.capacity = capacity;
        self
    }

    /// Names the stage: the thread that runs it carries this name while it
    /// does, as [`current_stage_name`](crate::current_stage_name) tells, and
    /// as debuggers and `top -H` show where the operating system lets a
    /// thread rename itself (Linux keeps the first 15 bytes).
    ///
    /// Name each stage of a pipeline differently to tell them apart.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadpipe::prelude::*;
    /// use threadpipe::OffThreadOptions;
    ///
    /// let mut stage = std::iter::once(())
    ///     .map(|()| threadpipe::current_stage_name())
    ///     .off_thread_with(OffThreadOptions::new().name("parser"));
    /// assert_eq!(stage.next(), Some(Some("parser".to_owned())));
    /// ```
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Hands items over in batches of `batch` instead of one by one: the
    /// cheapest mode for streams of tiny items, at the price of latency.
    ///
    /// The worker collects `batch` items before handing them over, so an item
    /// may wait for the items after it. A partial batch is handed over when,
    /// and only when:
    ///
    /// - the batch is full;
    /// - the source has ended (`next` returned `None`);
    /// - the source has panicked (its items first, then the panic).
    ///
    /// So with a source that blocks (a socket, a pipe, user input), up to
    /// `batch - 1` items can wait as long as it blocks: use batches only where
    /// that is acceptable. Everything else holds: order, completeness, panics,
    /// dropping. The bound becomes `capacity` items rounded up to whole
    /// batches, plus the batch being filled and what is left of the batch
    /// being handed out. `batch(1)` is the default mode.
    ///
    /// Batches pay off once they outgrow the cores' private caches, a few
    /// hundred kilobytes: a batch that still sits in the worker's cache
    /// crosses to the consumer's core line by line, as single items do
    /// (`benches/README.md` has the figures).
    ///
    /// # Panics
    ///
    /// If `batch` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadpipe::prelude::*;
    /// use threadpipe::OffThreadOptions;
    ///
    /// let options = OffThreadOptions::new().batch(256);
    /// let total: u64 = (0..100_000u64).off_thread_with(options).sum();
    /// assert_eq!(total, 4_999_950_000);
    /// ```
    #[must_use]
    pub fn batch(mut self, batch: usize) -> Self {
        assert!(
            batch > 0,
            "threadpipe: an off_thread batch must hold at least 1 item"
        );
        self.batch = batch;
        self
    }

    /// Records this stage's figures in `profile`: items delivered, time its
    /// worker waited for room, time its consumer waited for items.
    ///
    /// Only waits are timed, so the cost is near zero; see [`Profile`].
    ///
    /// # Examples
    ///
    /// ```
    /// use threadpipe::prelude::*;
    /// use threadpipe::{OffThreadOptions, Profile};
    ///
    /// let profile = Profile::new();
    /// let options = OffThreadOptions::new().name("reader").profile(&profile);
    /// let count = (0..1000).off_thread_with(options).count();
    /// assert_eq!(count, 1000);
    /// assert_eq!(profile.report().stages()[0].items(), 1000);
    /// ```
    #[must_use]
    pub fn profile(mut self, profile: &Profile) -> Self {
        self.profile = Some(profile.clone());
        self
    }

    /// Runs the stage inline when `inline` is `true`: on the consumer's
    /// thread, as if `off_thread` were not in the chain. No thread is
    /// started; the items, their order and every panic are the same, and
    /// the capacity and batch size no longer matter.
    ///
    /// For debugging, for deterministic runs, and for a program's
    /// single-threaded mode, whose chain stays the same. The environment
    /// variable `THREADPIPE_INLINE=1` makes every stage of a program inline
    /// without a change to its code. A stage also runs inline, rather than
    /// fail, where no thread can be started: on targets without threads
    /// (`wasm32-unknown-unknown`), or when the operating system refuses one.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadpipe::prelude::*;
    /// use threadpipe::OffThreadOptions;
    ///
    /// let single_threaded = true;
    /// let here = std::thread::current().id();
    /// let threads: Vec<_> = (0..3)
    ///     .map(|_| std::thread::current().id())
    ///     .off_thread_with(OffThreadOptions::new().inline(single_threaded))
    ///     .collect();
    /// assert!(threads.iter().all(|thread| *thread == here));
    /// ```
    #[must_use]
    pub fn inline(mut self, inline: bool) -> Self {
        self.inline = inline;
        self
    }

    /// What the engine needs. A profile registers the stage now, so that it
    /// lists stages in the order the chain is written, upstream first.
    fn into_settings(self) -> Settings {
        let stats = match &self.profile {
            Some(profile) => profile.register(&self.name, usize::from(!self.inline)),
            None => Stats::off(),
        };
        Settings {
            capacity: self.capacity,
            batch: self.batch,
            name: self.name,
            stats,
            inline: self.inline,
        }
    }
}

impl Default for OffThreadOptions {
    fn default() -> Self {
        OffThreadOptions::new()
    }
}

/// An iterator whose source runs on a thread other than the consumer's.
///
/// This struct is created by [`off_thread`](OffThreadExt::off_thread) and
/// [`off_thread_with`](OffThreadExt::off_thread_with). See their documentation
/// for more.
///
/// It is `Send` when the source and its items are (so it can feed another
/// stage), never `Sync` (only one thread at a time receives from it), always
/// `Unpin`, not `Clone` (a clone would need a second thread running the
/// same source), and not `UnwindSafe` (it holds the stage's closures, and
/// state it shares with the threads that run it).
#[must_use = "iterator adaptors are lazy and do nothing unless consumed"]
pub struct OffThread<I: Iterator> {
    stage: Stage<'static, I>,
}

lazy_adapter!("OffThread", [I: Iterator] OffThread<I>, item = I::Item);

/// Exact when the source is: the source's length minus what was delivered.
impl<I: ExactSizeIterator> ExactSizeIterator for OffThread<I> {}

/// An iterator whose source runs on a worker thread inside a [`Scope`], so
/// it may borrow from the caller.
///
/// This struct is created by [`off_thread_scoped`](OffThreadExt::off_thread_scoped)
/// and [`off_thread_scoped_with`](OffThreadExt::off_thread_scoped_with).
/// See their documentation for more.
///
/// Like [`OffThread`], it is `Send` when the source and its items are, never
/// `Sync`, and always `Unpin`.
#[must_use = "iterator adaptors are lazy and do nothing unless consumed"]
pub struct OffThreadScoped<'scope, 'env, I: Iterator> {
    stage: Stage<'scope, I>,
    scope: PhantomData<&'scope Scope<'scope, 'env>>,
}

lazy_adapter!(
    "OffThreadScoped",
    ['scope, 'env, I: Iterator] OffThreadScoped<'scope, 'env, I>,
    item = I::Item
);

/// Exact when the source is: the source's length minus what was delivered.
impl<I: ExactSizeIterator> ExactSizeIterator for OffThreadScoped<'_, '_, I> {}
