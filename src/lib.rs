//! Move parts of an iterator chain onto other threads, with one method call.
//!
//! Rust's iterator chains run on one thread. threadpipe adds methods that run
//! the part of the chain above them on a worker thread, connected to the rest
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
//!     .off_thread()                     // everything above runs on its own thread
//!     .map(|n| n.to_string().len())     // runs here
//!     .collect();
//! assert_eq!(lengths, [1, 2]);
//! assert_eq!(errors.iter().count(), 1);
//! ```
//!
//! # The adapters
//!
//! | method | what it does | threads |
//! |---|---|---|
//! | [`off_thread`](OffThreadExt::off_thread) | runs the chain above on a worker, behind a bounded lock-free ring | one |
//! | [`parallel_map`](ParallelMapExt::parallel_map) | runs a closure on a pool of workers, results in input order | one per core but one (the consumer helps) |
//! | [`errors_to`](ErrorsToExt::errors_to) | sends `Err`s to a channel, yields the `Ok` values | none |
//! | [`off_thread_scoped`](OffThreadExt::off_thread_scoped), [`parallel_map_scoped`](ParallelMapExt::parallel_map_scoped) | the same inside [`std::thread::scope`], so stages may borrow | as above |
//!
//! Each has a `_with` form taking options: [`OffThreadOptions`] (capacity,
//! thread name, batch mode, profile) and [`ParallelMapOptions`] (threads,
//! window, name, completion order, profile).
//!
//! Around them: [`shared_channel`] gives a receiver several workers can
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
//! Every adapter that starts a thread keeps these promises, and each has a
//! test in `tests/` that fails without it:
//!
//! - **Order and completeness**: the same items as the sequential chain, in
//!   the same order, none lost or duplicated.
//! - **Lazy**: building an adapter starts no thread and pulls nothing; the
//!   work starts on the first `next()`.
//! - **Nothing held back**: an item the source has produced reaches the
//!   consumer without waiting for later ones.
//! - **Bounded**: a worker runs at most its capacity (plus one item in hand)
//!   ahead of its consumer, then waits (it spins for up to 20 µs, then
//!   sleeps). Memory stays bounded however slow the consumer is.
//! - **Panics travel**: a panic on a worker reaches the consumer's thread with
//!   its original payload, after every item produced before it, never as a
//!   silently short stream.
//! - **Dropping stops the work**: dropping an adapter never blocks; its worker
//!   stops at its next hand-off and its thread exits. A stream that has run
//!   to its end has no thread left behind it.
//! - **Hygiene**: adapters are fused, their `size_hint` is valid at every
//!   step, they implement `Debug`, and worker threads carry the stage's name.
//! - **No `unsafe`**: the crate is `#![forbid(unsafe_code)]`.
//!
//! What is *not* promised: how the operating system schedules the threads,
//! and anything about a source that blocks forever inside its own `next()`,
//! which no adapter can interrupt.
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
//! The [`guide`] walks through every such case (`Rc`, `Cell`, a borrowed
//! source, a `MutexGuard`, a shared `Receiver`, raw pointers, `errors_to` on
//! plain values): the code, the error, the race it prevents, and the fix.
//! `ui-tests/` holds the same cases as programs, with the exact messages.
//!
//! # Minimum supported Rust version
//!
//! Rust 1.95, the toolchain CI tests on (edition 2024 itself needs 1.85).

#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

// The public faces: one file per adapter, and what surrounds them.
mod errors_to;
pub mod guide;
mod off_thread;
mod parallel_map;
pub mod prelude;
mod profile;
mod shared_channel;

// The engines: the hand-off behind `off_thread`, the pool behind
// `parallel_map`.
mod handoff;
mod pool;

// The primitives both engines and the faces build on.
mod launch;
mod lazy;
mod pace;
mod size_hint;
mod stats;
mod sync;
mod unwind;
mod wake;

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
