//! Move parts of an iterator chain onto other threads, with one method call.
//!
//! Rust's iterator chains run on one thread. threadpipe adds methods that run
//! the part of the chain above them on other threads, connected to the rest
//! by a bounded channel, the way a Unix pipe connects two processes:
//!
//! ```
//! use std::sync::mpsc;
//! use threadpipe::prelude::*;
//!
//! let (error_sender, errors) = mpsc::channel();
//! let lengths: Vec<usize> = ["3", "-", "14"]
//!     .into_iter()
//!     .map(|text| text.parse::<u32>()) // runs on the worker thread
//!     .errors_to(error_sender)          // Err items go to the channel
//!     .off_thread()                     // everything above runs on another thread
//!     .map(|n| n.to_string().len())     // runs here
//!     .collect();
//! assert_eq!(lengths, [1, 2]);
//! assert_eq!(errors.iter().count(), 1);
//! ```
//!
//! # The adapters
//!
//! | method | what it does | threads at once |
//! |---|---|---|
//! | [`off_thread`](OffThreadExt::off_thread) | runs the chain above on another thread, behind a bounded lock-free ring | one |
//! | [`parallel_map`](ParallelMapExt::parallel_map) | runs a closure on several threads, results in input order | one per core but one (the consumer helps) |
//! | [`parallel_map_init`](ParallelMapExt::parallel_map_init) | the same, with a state of each thread's own (a scratch buffer, a connection) | as above |
//! | [`errors_to`](ErrorsToExt::errors_to) | sends `Err`s to a channel, yields the `Ok` values | none |
//! | [`off_thread_scoped`](OffThreadExt::off_thread_scoped), [`parallel_map_scoped`](ParallelMapExt::parallel_map_scoped), ... | the same inside [`std::thread::scope`], so stages may borrow | as above |
//!
//! Every stage runs on [one set of threads](#one-set-of-threads) for the
//! whole process; the last column is how many of them a stage uses at once.
//!
//! Each has a `_with` form taking options: [`OffThreadOptions`] (capacity,
//! thread name, batch mode, profile) and [`ParallelMapOptions`] (threads,
//! window, name, completion order, profile). `parallel_map` has no filter or
//! flat-map variants: return an `Option` or a `Vec` and chain `.flatten()`,
//! as its docs show.
//!
//! Around them: [`shared_channel`](fn@shared_channel) gives a receiver several workers can
//! share, and a [`Profile`] given to the stages of a pipeline reports which
//! stage limits it:
//!
//! ```
//! use threadpipe::prelude::*;
//! use threadpipe::{OffThreadOptions, ParallelMapOptions, Profile};
//!
//! let profile = Profile::new();
//! let total: u64 = (0..2_000u64)
//!     .off_thread_with(OffThreadOptions::new().name("numbers").profile(&profile))
//!     .parallel_map_with(ParallelMapOptions::new().name("squares").profile(&profile), |n| n * n)
//!     .sum();
//! assert_eq!(total, 2_664_667_000);
//! println!("{}", profile.report()); // a table, ending with "limited by: ..."
//! ```
//!
//! # The contract
//!
//! Every adapter that runs work on other threads ([`off_thread`](OffThreadExt::off_thread),
//! [`parallel_map`](ParallelMapExt::parallel_map) and their forms) keeps
//! these promises, for any source and any closure, and each has a test in
//! `tests/` that fails without it. The adapters' docs give the numbers
//! (capacity, window) and link back here. A stage's threads are threads of
//! [the shared set](#one-set-of-threads) while they run it: "its threads"
//! below means those.
//!
//! - **Order and completeness**: the same items as the sequential chain, in
//!   the same order, none lost or duplicated (`parallel_map` can be asked
//!   for completion order instead).
//! - **Lazy**: building an adapter gives no thread work and pulls nothing;
//!   the work starts on the first `next()`.
//! - **Nothing held back**: an item the source has produced reaches the
//!   consumer without waiting for later ones, and without waiting on a
//!   thread that is blocked inside the source, however long that blocks: a
//!   source fed by a channel, a socket or stdin, or one that waits for the
//!   consumer's answer to its last item, works as it does in a plain chain.
//!   A stage whose source blocks never starves other stages either: its
//!   thread stops counting against the cores within about a millisecond.
//!   `off_thread` never calls its source on the consumer's thread;
//!   `parallel_map`'s consumer calls it only from inside another stage's
//!   work, when no other thread has work of its stage (so nothing can wait
//!   on it). The two exceptions are asked for or bounded: `off_thread`'s
//!   opt-in [`batch`](OffThreadOptions::batch) mode, and a `parallel_map`
//!   consumer that is finishing the few microseconds of `f` it took on
//!   while it waited.
//! - **Bounded**: a stage runs at most its capacity (`off_thread`) or
//!   window (`parallel_map`) ahead of its consumer, then stops, and gives
//!   its threads back. Memory stays bounded however slow the consumer is.
//! - **Panics travel**: a panic of the source (in `next` or as it is
//!   dropped), of a closure, or of an item's drop reaches the consumer's
//!   thread exactly once, with its original payload, after every item that
//!   came before it; then the stream ends and stays ended. Never a silently
//!   short stream, never a hang.
//! - **Threads let go**: once `next` has returned `None`, or raised a
//!   panic, no thread runs the stage's code or holds its source, items or
//!   per-thread states: the source has been dropped (on one of the stage's
//!   threads), and so have the states. The one exception: a `parallel_map`
//!   thread that is inside the source's `next` at that moment (nothing can
//!   interrupt that call, and the source may be waiting for the very
//!   consumer that panics) drops the source as soon as the call returns.
//! - **Dropping stops the work**: dropping an adapter never blocks; its
//!   threads stop at their next step, each dropping what it holds, and the
//!   source is dropped on one of them, never on the dropper's thread.
//! - **Hygiene**: adapters are fused, their `size_hint` is valid at every
//!   step, they implement `Debug`, and a thread carries the stage's name
//!   while it runs it ([`current_stage_name`] tells it; so do debuggers
//!   and `top -H` where the operating system lets a thread rename itself).
//! - **No `unsafe`**: the crate is `#![forbid(unsafe_code)]`.
//!
//! What is *not* promised: how the operating system schedules the threads,
//! which thread runs which call of a `parallel_map` closure, and anything
//! about a source (or closure) that never returns, which no adapter can
//! interrupt.
//!
//! # One set of threads
//!
//! Every stage, of every pipeline, at every nesting depth, runs on one set
//! of threads for the whole process, started when first needed and reused
//! by every call: a short pipeline costs a few microseconds more than its
//! work, not a thread's start and join. At most one thread per core runs
//! stages' work at once (set by [`ThreadSetBuilder::threads`] or the
//! `THREADPIPE_NUM_THREADS` environment variable), however many stages,
//! pipelines and callers there are; a thread that sleeps, or is blocked
//! inside a source or a closure, does not count, and another takes its
//! place within about a millisecond. Idle threads exit after a keepalive
//! (one second; [`ThreadSetBuilder::keepalive`]).
//!
//! - A stage takes threads as it finds work for them, one at a time, up to
//!   its cap ([`ParallelMapOptions::threads`]; one for `off_thread`), and
//!   gives them back when it has none: a stage waiting on a slow consumer
//!   or a full window holds no thread.
//! - A `parallel_map` inside another stage's closure runs on that closure's
//!   thread until a core is free for it: nesting makes no thread per level.
//! - An `off_thread` stage right below a `parallel_map` runs on that
//!   stage's threads (still never on yours), with no ring in between; and
//!   a `parallel_map` chained right after another runs as one stage with
//!   it ([`ParallelMap::parallel_map`]): each item goes through both on the
//!   thread that took it.
//! - A `_scoped` stage runs on threads of its scope (the only safe way to
//!   lend them borrowed data), which count against the same budget.
//!
//! The protocol (who sleeps, who wakes whom, how a blocked thread is
//! replaced) is told in `src/scheduler/README.md`, with why it is not
//! rayon's pool: a pool whose threads block in sources cannot take on
//! other work, and rayon's threads never exit.
//!
//! # Items that own heap memory
//!
//! An item that owns heap memory (a `String` per line, a `Vec` per record)
//! is usually allocated on one thread and freed on another once it crosses
//! a stage. Allocators are built for the opposite: glibc's, the default on
//! Linux, takes a slower path for memory freed by another thread, and may
//! hand memory freed in bulk back to the system, then fault it in again.
//! The hand-off itself is cheap, so for light work per item the allocator
//! can cost more than the threads save. What helps, each measured in
//! `benches/README.md`:
//!
//! - **Another global allocator in the binary** (mimalloc, jemalloc),
//!   whose per-thread heaps take memory freed elsewhere cheaply: one line,
//!   `#[global_allocator] static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;`.
//! - **Fewer, bigger items**: give each item more work (a batch of lines,
//!   a file instead of its lines), or use [`batch`](OffThreadOptions::batch)
//!   mode when latency does not matter.
//! - **A lower capacity or window** for big items: less memory in flight,
//!   which stays in the allocator's caches.
//! - **Buffers sent back for reuse**: a second channel, from consumer to
//!   producer, that returns emptied buffers, so each is allocated once.
//! - **glibc's trim threshold**: memory freed in a burst may be handed back
//!   to the system and faulted in again, page by page; raising the
//!   threshold (`GLIBC_TUNABLES=glibc.malloc.trim_threshold=100000000` in
//!   the environment) keeps it in the process.
//!
//! # Send, Sync and `'static`: why the compiler says no
//!
//! Whatever moves to a worker thread (the iterator, its closures, its items)
//! must be [`Send`]; what `parallel_map`'s workers share (the closure) must be
//! [`Sync`]; and, because a worker may outlive the function that started it,
//! all of it must be `'static`, unless a `_scoped` adapter is used. The
//! compiler checks all three. An `Rc`, for one, cannot be sent: two threads
//! could change its count at once.
//!
//! ```compile_fail,E0277
//! use std::rc::Rc;
//! use threadpipe::prelude::*;
//!
//! let first = (0..3).map(Rc::new).off_thread().next();
//! ```
//!
//! The [`guide`] walks through every such case (`Rc`, `Cell` and `RefCell`,
//! a borrowed source, a `MutexGuard`, a shared `Receiver`, raw pointers,
//! `errors_to` on plain values): the code, the error, the race it prevents,
//! and the fix. `ui-tests/` holds the same cases as programs, with the
//! exact messages.
//!
//! # Minimum supported Rust version
//!
//! Rust 1.95, the toolchain CI tests on (edition 2024 itself needs 1.85).

#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

// The public faces: one file per adapter, and what surrounds them.
mod bounds;
mod errors_to;
pub mod guide;
mod off_thread;
mod parallel_map;
pub mod prelude;
mod profile;
mod shared_channel;
mod thread_set;

// The engines: the hand-off behind `off_thread`, the pool behind
// `parallel_map`; and the scheduler, the threads both run on.
mod handoff;
mod pool;
mod scheduler;

// The primitives both engines and the faces build on.
mod launch;
mod lazy;
mod pace;
mod size_hint;
mod stats;
mod sync;
mod thread_name;
mod unwind;
mod wake;

pub use crate::bounds::{SameAs, SendItem};
pub use crate::errors_to::{ErrorSink, ErrorsTo, ErrorsToExt, ResultItem};
pub use crate::off_thread::{
    DEFAULT_CAPACITY, OffThread, OffThreadExt, OffThreadOptions, OffThreadScoped,
};
pub use crate::parallel_map::{
    DEFAULT_WINDOW, ParallelMap, ParallelMapExt, ParallelMapOptions, ParallelMapScoped,
};
pub use crate::profile::{Profile, ProfileReport, StageReport};
pub use crate::shared_channel::{
    SharedIntoIter, SharedIter, SharedReceiver, shared_channel, shared_sync_channel,
};
pub use crate::thread_set::{ThreadSetBuilder, ThreadSetError, current_stage_name};
