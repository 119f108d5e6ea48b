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
//! | [`off_thread`](OffThreadExt::off_thread) | runs the chain above on a worker | one per call |
//! | [`errors_to`](ErrorsToExt::errors_to) | sends `Err`s to a channel, yields the `Ok` values | none |
//!
//! Each has a `_with` form taking options (capacity, thread name).
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
//!   ahead of its consumer, then sleeps. Memory stays bounded however slow the
//!   consumer is.
//! - **Panics travel**: a panic on a worker reaches the consumer's thread with
//!   its original payload, after every item produced before it, never as a
//!   silently short stream.
//! - **Dropping stops the work**: dropping an adapter never blocks; its worker
//!   stops at its next hand-off and its thread exits. A stream that has ended
//!   has no thread left behind it.
//! - **Hygiene**: adapters are fused, their `size_hint` is valid at every
//!   step, they implement `Debug`, and worker threads carry the stage's name.
//! - **No `unsafe`**: the crate is `#![forbid(unsafe_code)]`.
//!
//! What is *not* promised: how the operating system schedules the threads,
//! and anything about a source that blocks forever inside its own `next()`,
//! which no adapter can interrupt.
//!
//! # Send and `'static`: why the compiler says no
//!
//! Whatever moves to a worker thread (the iterator, its closures, its items)
//! must be [`Send`], and, because the worker may outlive the function that
//! started it, `'static`. The compiler checks both; `ui-tests/` holds one
//! small program per mistake with the exact error it gets.
//!
//! An `Rc` cannot be sent: two threads could change its count at once.
//!
//! ```compile_fail,E0277
//! use std::rc::Rc;
//! use threadpipe::prelude::*;
//!
//! let first = (0..3).map(Rc::new).off_thread().next();
//! ```
//!
//! A borrowed source cannot be sent either: the worker could still be reading
//! it after the owner has freed it.
//!
//! ```compile_fail,E0597
//! use threadpipe::prelude::*;
//!
//! fn sum_lengths() -> usize {
//!     let words = vec!["a".to_owned(), "bc".to_owned()];
//!     words.iter().map(|word| word.len()).off_thread().sum()
//! }
//! ```
//!
//! Moving the data in instead (`into_iter()`) fixes it:
//!
//! ```
//! use threadpipe::prelude::*;
//!
//! let words = vec!["a".to_owned(), "bc".to_owned()];
//! let total: usize = words.into_iter().map(|word| word.len()).off_thread().sum();
//! assert_eq!(total, 3);
//! ```
//!
//! # Minimum supported Rust version
//!
//! Rust 1.95, the toolchain CI tests on (edition 2024 itself needs 1.85).

#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

mod bell;
mod errors_to;
mod launch;
mod off_thread;
mod parallel_map;
mod pool;
pub mod prelude;
mod profile;
mod ring;
mod scoped;
mod shared_channel;
mod size_hint;
mod stage;
mod sync;
mod worker;

pub use crate::errors_to::{ErrorSink, ErrorsTo, ErrorsToExt};
pub use crate::off_thread::{DEFAULT_CAPACITY, OffThread, OffThreadExt, OffThreadOptions};
pub use crate::parallel_map::{ParallelMap, ParallelMapExt, ParallelMapOptions, ParallelMapScoped};
pub use crate::profile::{Profile, ProfileReport, StageReport};
pub use crate::scoped::OffThreadScoped;
pub use crate::shared_channel::{
    SharedIntoIter, SharedIter, SharedReceiver, shared_channel, shared_sync_channel,
};
