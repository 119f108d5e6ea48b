//! `off_thread`: the chain above runs on a thread other than the consumer's.

use std::marker::PhantomData;
use std::thread::Scope;

use crate::bounds::{SameAs, SendItem};
use crate::handoff::{self, Handoff, Settings};
use crate::lazy::{LazyStage, Started, Waiting, lazy_adapter};
use crate::scheduler::{self, Spawner, Unmarked};

mod options;

pub use self::options::{DEFAULT_CAPACITY, OffThreadOptions};

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
