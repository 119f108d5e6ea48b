//! A guide to `Send`, `Sync` and `'static`: what the compiler refuses when
//! part of a chain moves to another thread, why, and what to write instead.
//!
//! Each section shows code that does not compile, the error it gets (as
//! rustc 1.95 prints it, shortened), the data race or dangling pointer the
//! error prevents, and the fix. Every block here is a doctest: the failing
//! ones are checked to fail with the error code shown, the fixes to compile
//! and run. The full messages are in `ui-tests/`, one file per mistake, with
//! the fixes in `ui-tests/pass/`. The adapters' bounds are written with
//! threadpipe's own traits ([`SendItem`](crate::SendItem),
//! [`SendSource`](crate::SendSource), [`SharedFn`](crate::SharedFn)), so that
//! the compiler's first and only error says what went wrong and what to use.
//!
//! # The three rules
//!
//! - **`Send`**: a value may move to another thread. Almost everything is
//!   `Send`; the exceptions share something without synchronisation (`Rc`),
//!   belong to one thread (`MutexGuard`), or are unknown to the compiler (raw
//!   pointers). [`off_thread`](crate::OffThreadExt::off_thread) moves the
//!   source, its closures and its items, so all of them must be `Send`.
//! - **`Sync`**: a value may be *shared* by reference between threads
//!   (`T: Sync` exactly when `&T: Send`). [`parallel_map`](crate::ParallelMapExt::parallel_map)
//!   shares its closure between workers, so the closure, and whatever it
//!   captures, must be `Sync`.
//! - **`'static`**: nothing borrowed from a caller's stack frame, because a
//!   spawned thread may outlive that frame. The `_scoped` adapters lift this
//!   rule: a [`std::thread::scope`] waits for its threads before it returns.
//!
//! # Choosing what to share, and how
//!
//! | what the stage needs | use | why |
//! |---|---|---|
//! | data every thread reads, owned | an [`Arc`](std::sync::Arc) (moved into the closure) | counts its owners atomically; `Rc` does not |
//! | data every thread reads, borrowed from the caller | a `_scoped` adapter | the scope outlives the threads, so they may borrow |
//! | a counter or a flag every thread updates | an atomic ([`AtomicUsize`](std::sync::atomic::AtomicUsize)) | one instruction, no lock |
//! | bigger state every thread updates | a [`Mutex`](std::sync::Mutex), locked inside the closure, briefly | the threads take turns; held long, it serialises them |
//! | state each thread keeps to itself: a scratch buffer, a cache, a connection, a `RefCell` or `Cell` | [`parallel_map_init`](crate::ParallelMapExt::parallel_map_init) | one per thread, made there, never shared: no lock at all |
//! | a channel every worker takes messages from | [`shared_channel`](fn@crate::shared_channel) | a `Receiver` has one owner at a time |
//!
//! # An `Rc` item
//!
//! ```compile_fail,E0277
//! use std::rc::Rc;
//! use threadpipe::prelude::*;
//!
//! let counts: Vec<Rc<u32>> = (0..3).map(Rc::new).off_thread().collect();
//! ```
//!
//! ```text
//! error[E0277]: `Rc<{integer}>` cannot cross between threads, as the items of a stage do
//!   |     let counts: Vec<Rc<u32>> = (0..3).map(Rc::new).off_thread().collect();
//!   |                                ^^^^^^^^^^^^^^^^^^^ the items here are `Rc<{integer}>`, which is not `Send`
//!   = note: an `Rc` counts its owners without atomics, so two threads could corrupt the count: use `std::sync::Arc`
//! note: required by a bound in `OffThreadExt::off_thread`
//! ```
//!
//! **Why**: an `Rc`'s reference count is a plain integer. If the worker made
//! an `Rc` and a clone of it stayed behind, both threads could change the
//! count at once; one update would be lost, and the value freed while still
//! in use, or never. **Fix**: [`Arc`](std::sync::Arc) counts atomically.
//!
//! ```
//! use std::sync::Arc;
//! use threadpipe::prelude::*;
//!
//! let counts: Vec<Arc<u32>> = (0..3).map(Arc::new).off_thread().collect();
//! assert_eq!(*counts[2], 2);
//! ```
//!
//! (`ui-tests/off-thread-rc-item.rs`, `ui-tests/pass/off-thread-arc-item.rs`)
//!
//! # An `Rc` captured by a closure
//!
//! The closures in the chain above `off_thread` move to the worker too, and
//! take what they capture with them:
//!
//! ```compile_fail,E0277
//! use std::rc::Rc;
//! use threadpipe::prelude::*;
//!
//! let offset = Rc::new(10);
//! let shifted: Vec<i32> = (0..3).map(move |n| n + *offset).off_thread().collect();
//! ```
//!
//! ```text
//! error[E0277]: this chain cannot move to a worker thread: it is not `Send`
//!   |     let shifted: Vec<i32> = (0..3).map(move |n| n + *offset).off_thread().collect();
//!   |                             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ this chain, and what its closures capture, moves to the worker thread
//!   = note: what the closures capture must be `Send`: an `Arc` instead of an `Rc`, a lock taken inside the closure instead of a guard held outside it
//! ```
//!
//! **Why** and **fix**: as above; capture an `Arc`.
//!
//! ```
//! use std::sync::Arc;
//! use threadpipe::prelude::*;
//!
//! let offset = Arc::new(10);
//! let shifted: Vec<i32> = (0..3).map(move |n| n + *offset).off_thread().collect();
//! assert_eq!(shifted, [10, 11, 12]);
//! ```
//!
//! (`ui-tests/off-thread-rc-captured.rs`, `ui-tests/pass/off-thread-arc-captured.rs`)
//!
//! # A `Cell` counter shared by `parallel_map`'s threads
//!
//! ```compile_fail,E0277
//! use std::cell::Cell;
//! use std::thread;
//! use threadpipe::prelude::*;
//!
//! let calls = Cell::new(0);
//! let total: i32 = thread::scope(|scope| {
//!     (0..10).parallel_map_scoped(scope, |n| { calls.set(calls.get() + 1); n }).sum()
//! });
//! ```
//!
//! ```text
//! error[E0277]: the closure of `parallel_map` cannot be shared by its threads
//!   = note: for state each thread keeps to itself (a scratch buffer, a `Cell`, a `RefCell`, a connection), use `parallel_map_init`, which gives each thread its own
//!   = note: for a counter all threads share, use an atomic (`AtomicUsize`); for bigger shared state, a `Mutex`; for a channel's receiver, `threadpipe::shared_channel`
//! ```
//!
//! **Why**: every thread calls the same closure, so they all reach the same
//! `Cell` through a shared reference. `calls.get() + 1` then `calls.set(..)`
//! on two threads at once loses counts: the classic data race. **Fix**: a
//! count all threads share is an atomic.
//!
//! ```
//! use std::sync::atomic::{AtomicI32, Ordering};
//! use std::thread;
//! use threadpipe::prelude::*;
//!
//! let calls = AtomicI32::new(0);
//! let total: i32 = thread::scope(|scope| {
//!     (0..10).parallel_map_scoped(scope, |n| { calls.fetch_add(1, Ordering::Relaxed); n }).sum()
//! });
//! assert_eq!((total, calls.into_inner()), (45, 10));
//! ```
//!
//! (`ui-tests/parallel-map-cell-closure.rs`, `ui-tests/pass/parallel-map-atomic-counter.rs`)
//!
//! # A `RefCell` scratch buffer in a `parallel_map` closure
//!
//! A buffer reused from item to item saves an allocation per item; in a
//! shared closure it would be used by every thread at once.
//!
//! ```compile_fail,E0277
//! use std::cell::RefCell;
//! use threadpipe::prelude::*;
//!
//! let scratch = RefCell::new(String::new());
//! let lengths: Vec<usize> = ["Hello World", "thread PIPE"]
//!     .into_iter()
//!     .parallel_map(move |line| {
//!         let mut buffer = scratch.borrow_mut();
//!         buffer.clear();
//!         buffer.extend(line.chars().filter(|c| c.is_uppercase()));
//!         buffer.len()
//!     })
//!     .collect();
//! ```
//!
//! ```text
//! error[E0277]: the closure of `parallel_map` cannot be shared by its threads
//!   |         .parallel_map(move |line| {
//!   |                       ^ every thread calls this closure, so what it captures must be `Sync`
//!   = note: for state each thread keeps to itself (a scratch buffer, a `Cell`, a `RefCell`, a connection), use `parallel_map_init`, which gives each thread its own
//! ```
//!
//! **Why**: a `RefCell` checks its borrows with a plain counter; two threads
//! borrowing at once could both see it free and write the same buffer. A
//! `Mutex` instead would be correct, but every thread would wait for the
//! others at every item. **Fix**: a buffer per thread, made by
//! [`parallel_map_init`](crate::ParallelMapExt::parallel_map_init) once on
//! each thread that runs the closure, and handed to it mutably.
//!
//! ```
//! use threadpipe::prelude::*;
//!
//! let lengths: Vec<usize> = ["Hello World", "thread PIPE"]
//!     .into_iter()
//!     .parallel_map_init(String::new, |buffer: &mut String, line| {
//!         buffer.clear();
//!         buffer.extend(line.chars().filter(|c| c.is_uppercase()));
//!         buffer.len()
//!     })
//!     .collect();
//! assert_eq!(lengths, [2, 4]);
//! ```
//!
//! (`ui-tests/parallel-map-refcell-scratch.rs`, `ui-tests/pass/parallel-map-init-scratch.rs`)
//!
//! # A borrowed source, or a borrowed table
//!
//! A worker thread started by a plain adapter may outlive the function that
//! started it, so nothing it uses may borrow from that function. The
//! compiler reports this as a lifetime error, which threadpipe cannot word
//! for it:
//!
//! ```compile_fail,E0521
//! use threadpipe::prelude::*;
//!
//! fn total_length(words: &[String]) -> usize {
//!     words.iter().map(String::len).off_thread().sum()
//! }
//! ```
//!
//! ```text
//! error[E0521]: borrowed data escapes outside of function
//!   |     words.iter().map(String::len).off_thread().sum()
//!   |     ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
//!   |     `words` escapes the function body here
//!   |     argument requires that `'1` must outlive `'static`
//! ```
//!
//! `parallel_map` gets the same error for a closure that reads a borrowed
//! table (`ui-tests/parallel-map-borrowed-table.rs`).
//!
//! **Why**: if the caller freed `words` while the worker still ran, the
//! worker would read freed memory. **Fix**: a `_scoped` adapter inside
//! [`std::thread::scope`], which waits for its threads before it returns (or
//! move owned data in, with `into_iter()`, or an `Arc`).
//!
//! ```
//! use std::collections::HashMap;
//! use std::thread;
//! use threadpipe::prelude::*;
//!
//! fn total_length(words: &[String]) -> usize {
//!     thread::scope(|scope| words.iter().map(String::len).off_thread_scoped(scope).sum())
//! }
//! assert_eq!(total_length(&["pipe".to_owned(), "line".to_owned()]), 8);
//!
//! fn codes(words: Vec<&'static str>, table: &HashMap<String, u32>) -> Vec<u32> {
//!     thread::scope(|scope| {
//!         words.into_iter().parallel_map_scoped(scope, |word| table[word]).collect()
//!     })
//! }
//! let table = HashMap::from([("pipe".to_owned(), 1), ("stage".to_owned(), 2)]);
//! assert_eq!(codes(vec!["stage", "pipe"], &table), [2, 1]);
//! ```
//!
//! (`ui-tests/off-thread-borrowed-source.rs`, `ui-tests/pass/off-thread-scoped-borrow.rs`,
//! `ui-tests/parallel-map-borrowed-table.rs`, `ui-tests/pass/parallel-map-scoped-table.rs`)
//!
//! # A `MutexGuard` held across a stage
//!
//! ```compile_fail,E0277
//! use std::sync::Mutex;
//! use threadpipe::prelude::*;
//!
//! static OFFSET: Mutex<i32> = Mutex::new(10);
//!
//! let offset = OFFSET.lock().unwrap();
//! let shifted: Vec<i32> = (0..3).map(move |n| n + *offset).off_thread().collect();
//! ```
//!
//! ```text
//! error[E0277]: this chain cannot move to a worker thread: it is not `Send`
//!   = note: what the closures capture must be `Send`: an `Arc` instead of an `Rc`, a lock taken inside the closure instead of a guard held outside it
//! ```
//!
//! **Why**: on some platforms a mutex must be unlocked by the thread that
//! locked it, and a guard moved to a worker would be dropped, so unlocked,
//! there. Holding a lock for a whole pipeline is also rarely what you want.
//! **Fix**: lock inside the stage, for as short a time as needed.
//!
//! ```
//! use std::sync::Mutex;
//! use threadpipe::prelude::*;
//!
//! static OFFSET: Mutex<i32> = Mutex::new(10);
//!
//! let shifted: Vec<i32> = (0..3).map(|n| n + *OFFSET.lock().unwrap()).off_thread().collect();
//! assert_eq!(shifted, [10, 11, 12]);
//! ```
//!
//! (`ui-tests/off-thread-mutex-guard.rs`, `ui-tests/pass/off-thread-lock-inside.rs`)
//!
//! # A receiver shared by several workers
//!
//! ```compile_fail,E0277
//! use std::sync::mpsc;
//! use std::thread;
//! use threadpipe::prelude::*;
//!
//! let (sender, extra) = mpsc::channel::<u32>();
//! sender.send(10).unwrap();
//! let totals: Vec<u32> = thread::scope(|scope| {
//!     (0..3).parallel_map_scoped(scope, |n| n + extra.try_recv().unwrap_or(0)).collect()
//! });
//! ```
//!
//! ```text
//! error[E0277]: the closure of `parallel_map` cannot be shared by its threads
//!   = note: ... for a channel's receiver, `threadpipe::shared_channel`
//! ```
//!
//! **Why**: an `mpsc::Receiver` has one owner at a time: it is `Send` but not
//! `Sync`, because two threads receiving at once through shared references
//! could race on its queue. **Fix**: [`shared_channel`](fn@crate::shared_channel),
//! whose receiver takes turns behind a lock.
//!
//! ```
//! use std::thread;
//! use threadpipe::prelude::*;
//!
//! let (sender, extra) = threadpipe::shared_channel::<u32>();
//! sender.send(10).unwrap();
//! let totals: Vec<u32> = thread::scope(|scope| {
//!     (0..3).parallel_map_scoped(scope, |n| n + extra.try_recv().unwrap_or(0)).collect()
//! });
//! assert_eq!(totals.iter().sum::<u32>(), 13);
//! ```
//!
//! (`ui-tests/parallel-map-shared-receiver.rs`, `ui-tests/pass/parallel-map-shared-channel.rs`)
//!
//! # A raw pointer item
//!
//! ```compile_fail,E0277
//! use threadpipe::prelude::*;
//!
//! let addresses: Vec<*const u8> = (0..3usize).map(|n| n as *const u8).off_thread().collect();
//! ```
//!
//! ```text
//! error[E0277]: `*const u8` cannot cross between threads, as the items of a stage do
//!   = note: ... a raw pointer gives no guarantee: send the data it points to, or an index
//! ```
//!
//! **Why**: the compiler cannot tell what a raw pointer points to, or who
//! else uses it, so it assumes the worst. **Fix**: send owned values (or
//! indices into data both sides can reach safely).
//!
//! ```
//! use threadpipe::prelude::*;
//!
//! let doubled: Vec<u8> = vec![1u8, 2, 3].into_iter().map(|v| v * 2).off_thread().collect();
//! assert_eq!(doubled, [2, 4, 6]);
//! ```
//!
//! (`ui-tests/off-thread-raw-pointer-item.rs`, `ui-tests/pass/off-thread-owned-item.rs`)
//!
//! # `errors_to` on items that are not `Result`s
//!
//! ```compile_fail,E0277
//! use std::sync::mpsc;
//! use threadpipe::prelude::*;
//!
//! let (sender, _errors) = mpsc::channel::<String>();
//! let values: Vec<i32> = (0..3).errors_to(sender).collect();
//! ```
//!
//! ```text
//! error[E0277]: `errors_to` needs an iterator of `Result<T, E>` items; this one yields `{integer}`
//!   |     let values: Vec<i32> = (0..3).errors_to(sender).collect();
//!   |                                   ^^^^^^^^^ the items here are `{integer}`, not `Result`s
//!   = note: turn each item into a `Result` first, e.g. `.map(|line| line.parse::<u32>())`
//! ```
//!
//! (A second error follows, that the result is not an iterator: without
//! `Result` items it has no item type.) **Fix**: give `errors_to`
//! `Result`s, and a channel of the error type.
//!
//! ```
//! use std::sync::mpsc;
//! use threadpipe::prelude::*;
//!
//! let (sender, errors) = mpsc::channel();
//! let values: Vec<i32> = ["1", "x"].into_iter().map(str::parse::<i32>).errors_to(sender).collect();
//! assert_eq!((values, errors.try_iter().count()), (vec![1], 1));
//! ```
//!
//! (`ui-tests/errors-to-not-results.rs`, `ui-tests/errors-to-wrong-sink.rs`,
//! `ui-tests/pass/errors-to-matching-sink.rs`)
//!
//! # An adapter nobody iterates
//!
//! Adapters are lazy: building one starts no thread. Forgetting to iterate
//! is a warning (an error under `#![deny(unused_must_use)]`):
//!
//! ```compile_fail
//! #![deny(unused_must_use)]
//! use threadpipe::prelude::*;
//!
//! (0..3).map(|n| n * 2).off_thread();
//! ```
//!
//! ```text
//! error: unused `OffThread` that must be used
//!   = note: iterator adaptors are lazy and do nothing unless consumed
//! ```
//!
//! (`ui-tests/off-thread-unused.rs`)
