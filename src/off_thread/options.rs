//! The options of an `off_thread` stage, and their defaults.

use crate::handoff::Settings;
use crate::profile::Profile;
use crate::stats::Recorder;

/// How many items may wait between a worker and its consumer by default.
///
/// Enough for a worker and its consumer to run at full speed side by side
/// with tiny items; lower it for big items (see
/// [`OffThreadOptions::capacity`]).
pub const DEFAULT_CAPACITY: usize = 1024;

/// The name a stage's thread carries by default.
const DEFAULT_NAME: &str = "off_thread";

/// Settings for one [`off_thread`](crate::OffThreadExt::off_thread_with) stage:
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
    pub(super) fn into_settings(self) -> Settings {
        let stats = match &self.profile {
            Some(profile) => profile.register(&self.name, usize::from(!self.inline)),
            None => Recorder::off(),
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
