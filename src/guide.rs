//! A guide to `Send`, `Sync` and `'static`: what the compiler refuses when
//! part of a chain moves to another thread, why, and what to write instead.
//!
//! Each section shows code that does not compile, the error it gets (as
//! rustc 1.95 prints it, shortened), the data race or dangling pointer the
//! error prevents, and the fix. Every block here is a doctest: the failing
//! ones are checked to fail with the error code shown, the fixes to compile
//! and run. The full messages are in `ui-tests/`, one file per mistake, with
//! the fixes in `ui-tests/pass/`. The adapters' bounds are laid out so that
//! the compiler's first and only error names the type at fault, where it
//! is, and what to use instead ([reading the error](#reading-the-error)
//! shows how to find each; [the designs measured](#the-designs-measured)
//! shows why the bounds are written as they are).
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
//! error[E0277]: `Rc<{integer}>` cannot be sent between threads safely
//!   |     let counts: Vec<Rc<u32>> = (0..3).map(Rc::new).off_thread().collect();
//!   |                                                    ^^^^^^^^^^ `Rc<{integer}>` crosses between threads here, as every item and result of a stage does
//!   = note: for an `Rc`, use `std::sync::Arc` (and `Arc<Mutex<T>>` for `Rc<RefCell<T>>`): it counts its owners atomically
//! note: required by a bound in `off_thread`
//!   |         Chain::Item: SendItem + 'static, // items cross to the consumer: `Arc` for `Rc`, owned data for a pointer
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
//! error[E0277]: `Rc<i32>` cannot be sent between threads safely
//!   |     let shifted: Vec<i32> = (0..3).map(move |n| n + *offset).off_thread().collect();
//!   |                                                              ^^^^^^^^^^ `Rc<i32>` cannot be sent between threads safely
//!   = help: within `Map<std::ops::Range<i32>, {closure@src/main.rs:4:40: 4:48}>`, the trait `Send` is not implemented for `Rc<i32>`
//! note: required because it's used within this closure
//!   |     let shifted: Vec<i32> = (0..3).map(move |n| n + *offset).off_thread().collect();
//!   |                                        ^^^^^^^^
//! note: required by a bound in `off_thread`
//!   |         Chain: Send, // it moves to the worker with what its closures capture: `Arc` for `Rc`, locks taken inside
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
//! let calls = Cell::new(0u64);
//! let total: i32 = thread::scope(|scope| {
//!     (0..10).parallel_map_scoped(scope, |n| { calls.set(calls.get() + 1); n }).sum()
//! });
//! ```
//!
//! ```text
//! error[E0277]: `Cell<u64>` cannot be shared between threads safely
//!   = note: required because it appears within the type `&Cell<u64>`
//! note: required because it's used within this closure
//!   |     (0..10).parallel_map_scoped(scope, |n| { calls.set(calls.get() + 1); n }).sum()
//!   |                                        ^^^
//! note: required by a bound in `parallel_map_scoped`
//!   |         F: Sync, // all workers share `f`: `Cell` -> atomic, `RefCell` -> `parallel_map_init`, `Receiver` -> `shared_channel`
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
//! error[E0277]: `RefCell<String>` cannot be shared between threads safely
//! note: required because it's used within this closure
//!   |         .parallel_map(move |line| {
//!   |                       ^^^^^^^^^^^
//! note: required by a bound in `parallel_map`
//!   |         F: Sync, // all workers share `f`: `Cell` -> atomic, `RefCell` -> `parallel_map_init`, `Receiver` -> `shared_channel`
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
//! error[E0277]: `std::sync::MutexGuard<'_, i32>` cannot be sent between threads safely
//! note: required because it's used within this closure
//! note: required by a bound in `off_thread`
//!   |         Chain: Send, // it moves to the worker with what its closures capture: `Arc` for `Rc`, locks taken inside
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
//! error[E0277]: `std::sync::mpsc::Receiver<u32>` cannot be shared between threads safely
//! note: required because it's used within this closure
//! note: required by a bound in `parallel_map_scoped`
//!   |         F: Sync, // all workers share `f`: `Cell` -> atomic, `RefCell` -> `parallel_map_init`, `Receiver` -> `shared_channel`
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
//! error[E0277]: `*const u8` cannot be sent between threads safely
//!   = note: for a raw pointer, send the data it points to, or an index; for a lock guard, lock inside the stage
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
//! **Fix**: give `errors_to` `Result`s, and a channel of the error type.
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
//!
//! # Reading the error
//!
//! Every mistake above gets one error, and its lines answer three
//! questions in the same places:
//!
//! - **Which type?** The first line, in the words of the Rust book and of
//!   `std::thread::spawn`: "`Rc<String>` cannot be sent between threads
//!   safely" (a `Send` rule) or "`Cell<u64>` cannot be shared between
//!   threads safely" (a `Sync` rule).
//! - **Where is it?** For a capture, "note: required because it's used
//!   within this closure", pointing at the closure (and "appears within the
//!   type `Settings`" when it sits inside a struct the closure captures);
//!   for an item, the label under the adapter and the bound line, which
//!   begins `Chain::Item` (items) or `U` (results).
//! - **What instead?** The last note, "required by a bound in …", shows
//!   the adapter's bound that failed, with its fix in a comment on the same
//!   line; for an item the `= note:` lines say it too.
//!
//! | mistake (lesson in `ui-tests/`) | first line | the line that points at the culprit | the fix, as shown |
//! |---|---|---|---|
//! | an `Rc` item (`off-thread-rc-item`) | `` `Rc<{integer}>` cannot be sent between threads safely `` | label: `` `Rc<{integer}>` crosses between threads here, as every item and result of a stage does `` | `` Chain::Item: SendItem + 'static, // items cross to the consumer: `Arc` for `Rc`, … `` |
//! | an `Rc` in a `Vec` item (`off-thread-rc-in-vec-item`) | `` `Rc<u32>` cannot be sent between threads safely `` | `` help: within `Vec<Rc<u32>>`, the trait `Send` is not implemented for `Rc<u32>` `` | the same `Chain::Item` line |
//! | `Rc<RefCell<u32>>` items into `parallel_map` (`parallel-map-rc-refcell-items`) | `` `Rc<RefCell<u32>>` cannot be sent between threads safely `` | `` = note: required for `std::vec::IntoIter<Rc<RefCell<u32>>>` to implement `Send` `` (the source that holds the items) | `` Chain: Send, // it moves to the workers with what its closures capture: `Arc` for `Rc`, … `` |
//! | a raw pointer item (`off-thread-raw-pointer-item`) | `` `*const u8` cannot be sent between threads safely `` | label: the items | `` = note: for a raw pointer, send the data it points to, or an index … `` |
//! | an `Rc` captured above `off_thread` (`off-thread-rc-captured`) | `` `Rc<i32>` cannot be sent between threads safely `` | `note: required because it's used within this closure` | `` Chain: Send, // it moves to the worker with what its closures capture: `Arc` for `Rc`, locks taken inside `` |
//! | one `Rc<String>` among four captures (`off-thread-rc-among-captures`) | `` `Rc<String>` cannot be sent between threads safely `` | the same, at the `map` closure | the same `Chain: Send` line |
//! | an `Rc` inside a captured struct (`off-thread-rc-in-struct`) | `` `Rc<Vec<String>>` cannot be sent between threads safely `` | `note: required because it's used within this closure` (the struct's field is named by its type) | the same `Chain: Send` line |
//! | an `rc::Weak` captured (`off-thread-weak-captured`) | `` `std::rc::Weak<u32>` cannot be sent between threads safely `` | `note: required because it's used within this closure` | the same `Chain: Send` line (`Arc::downgrade` gives a `sync::Weak`) |
//! | a `MutexGuard` captured (`off-thread-guard-captured`, `off-thread-mutex-guard`) | `` `std::sync::MutexGuard<'_, u64>` cannot be sent between threads safely `` | `note: required because it's used within this closure` | the same `Chain: Send` line: locks taken inside |
//! | a `Cell<u64>` counter in a shared closure (`parallel-map-cell-closure`) | `` `Cell<u64>` cannot be shared between threads safely `` | `note: required because it's used within this closure` | `` F: Sync, // all workers share `f`: `Cell` -> atomic, `RefCell` -> `parallel_map_init`, `Receiver` -> `shared_channel` `` |
//! | a `RefCell` scratch buffer (`parallel-map-refcell-scratch`) | `` `RefCell<String>` cannot be shared between threads safely `` | the same | the same `F: Sync` line |
//! | an `mpsc::Receiver<u32>` in a shared closure (`parallel-map-shared-receiver`) | `` `std::sync::mpsc::Receiver<u32>` cannot be shared between threads safely `` | the same | the same `F: Sync` line |
//! | `errors_to` on plain values (`errors-to-not-results`) | `` `errors_to` needs an iterator of `Result<T, E>` items; this one yields `{integer}` `` | label under `errors_to` | `` = note: turn each item into a `Result` first … `` |
//! | `errors_to` with the wrong channel (`errors-to-wrong-sink`) | `` `errors_to` cannot send errors of type `ParseIntError` to `std::sync::mpsc::Sender<String>` `` | label under the sink | `` = note: pass an `mpsc::Sender<ParseIntError>` … `` |
//! | a borrowed source or table (`off-thread-borrowed-source`, `parallel-map-borrowed-table`) | `error[E0521]: borrowed data escapes outside of function` | `` `words` escapes the function body here `` | not in the error (a lifetime error): the adapters' docs show E0521 beside the `_scoped` fix |
//! | a mutable capture in a shared closure | `` error[E0596]: cannot borrow `calls` as mutable, as it is a captured variable in a `Fn` closure `` | the capture | not in the error: [`parallel_map`](crate::ParallelMapExt::parallel_map)'s docs show E0596 beside the fix |
//!
//! # The designs measured
//!
//! Four ways of writing the bounds, each compiled (rustc 1.95) against
//! every mistake above and a few more. In each cell: **T** the offending
//! type is named, **W** where it is (the closure, or "the items"), **F**
//! the fix for that type is shown, **R** rustc's words ("cannot be sent /
//! shared between threads safely"); then the number of errors; "+del"
//! marks rustc's suggestion to delete the `.map(..)` above the adapter
//! ("consider removing this method call, as the receiver has type
//! `Range<u32>` and `Range<u32>: Send` trivially holds").
//!
//! - **A**, threadpipe before: custom traits (`SendItem`, `SendSource`,
//!   `SharedFn`) with their own messages, blanket impls marked
//!   `#[diagnostic::do_not_recommend]`, so rustc reports the custom trait.
//! - **B**: plain `Send` and `Sync` on `Self`, `Self::Item` and `F`, one
//!   per line with the fix in a comment (`Send` before `Sync`).
//! - **C**: A's traits without `do_not_recommend`, so rustc reports the
//!   nested `Send`/`Sync` failure, and a comment on each bound line.
//! - **D**, chosen: plain `Send`/`Sync` written on `Chain` (`Self` under
//!   another name, [`SameAs`](crate::SameAs)), items and results as
//!   `SendItem` (rustc's words and the fix, no `do_not_recommend`), one bound
//!   per line with the fix in a comment, `Sync` before `Send`;
//!   `errors_to`'s adapter keeps the function its bounds chose.
//!
//! | case | A | B | C | D |
//! |---|---|---|---|---|
//! | `Rc` item | TWF· 1 | TWFR 1 | TWF· 1 | TWFR 1 |
//! | `Rc` in a `Vec` item | TWF· 1 (names `Vec<Rc<u32>>`) | TWFR 1 +del | TWFR 1 +del | TWFR 1 |
//! | `Rc<RefCell<u32>>` items into `parallel_map` | TWF· 1 | TWFR 1 | TWF· 1 | TWFR 1 |
//! | raw pointer item | TWF· 1 | TWFR 1 +del | TWF· 1 +del | TWFR 1 |
//! | `Rc` result of `parallel_map` | TWF· 1 | TWFR 1 | TWF· 1 | TWFR 1 |
//! | `Rc` captured above `off_thread` | ··F· 1 | TWFR 1 +del | TWFR 1 +del | TWFR 1 |
//! | `Rc<String>` among four captures | ··F· 1 | TWFR 1 +del | TWFR 1 +del | TWFR 1 |
//! | `Rc` in a captured struct | ··F· 1 | TWFR 1 +del | TWFR 1 +del | TWFR 1 |
//! | `rc::Weak` captured | ··F· 1 | TWFR 1 +del | TWFR 1 +del | TWFR 1 |
//! | `MutexGuard<'_, u64>` captured | ··F· 1 | TWFR 1 +del | TWFR 1 +del | TWFR 1 |
//! | `Cell<u64>` in `parallel_map_scoped` | ··F· 1 | TWFR 1 | TWFR 1 | TWFR 1 |
//! | `RefCell` scratch in `parallel_map` | ··F· 1 | TWFR 1 | TWFR 1 | TWFR 1 |
//! | `Receiver<u32>` in `parallel_map_scoped` | ··F· 1 | TW·R 1 (the `Send` line) | TW·R 1 | TWFR 1 |
//! | `Arc<Cell<u32>>` in `parallel_map_init` | ··F· 1 | TWFR 1 | TWFR 1 | TWFR 1 |
//! | `Rc` moved into a `parallel_map` closure | ···· 1 | TWFR 2 | TW·R 2 | TWFR 2 |
//! | `errors_to` on plain values | TWF· 2 | TWF· 2 | TWF· 2 | TWF· 1 |
//! | `errors_to` with the wrong channel | TWF· 2 | TWF· 2 | TWF· 2 | TWF· 1 |
//!
//! (A's **F** for a capture is a list of every fix, with no sign of which
//! one applies. For `errors_to`, **R** does not apply.) D is the only
//! design with all four on every case but one, and one error on all but
//! that one. Without `Chain`, a failing bound on `Self` makes rustc blame
//! the receiver, and its suggestion then deletes the `.map(..)` that holds
//! the mistake. With `Send` before `Sync`, a `Receiver` or a borrowed
//! `Cell` fails both rules through the same type, and rustc keeps the
//! first line and drops the second, so the `Sync` line goes first.
//!
//! # What stable rustc cannot do
//!
//! - **One error for an `Rc` moved into a `parallel_map` closure.** The
//!   closure then breaks two rules, `Send` (the workers own it) and `Sync`
//!   (they share it), through one type, and rustc reports each; no bound
//!   can hide one without hiding the type too. The only trait that could
//!   stand for both and report once is a custom one with
//!   `do_not_recommend` (design A), and then rustc names the closure, not
//!   what it captured. Both errors name the `Rc`, and the second line's
//!   comment gives the fix: capture an `Arc`.
//!
//!   ```compile_fail,E0277
//!   use std::rc::Rc;
//!   use threadpipe::prelude::*;
//!
//!   let offset = Rc::new(10u32);
//!   let shifted: Vec<u32> = (0..3u32).parallel_map(move |n| n + *offset).collect();
//!   ```
//!
//! - **The fix in the message itself, for a capture.** Only the trait
//!   rustc reports can word the message (`#[diagnostic::on_unimplemented]`),
//!   and for a capture that is `Send` or `Sync` on the captured type, which
//!   belongs to the standard library. A trait of threadpipe's is reported
//!   only for its own `Self`: the item (so items get the fix as a note) or
//!   the whole closure (which hides the culprit). So for a capture the fix
//!   travels in the comment on the bound's line, which rustc prints when it
//!   can read threadpipe's source, as it can for a dependency from
//!   crates.io or a path.
//! - **The field of a struct.** For a capture nested in a struct, rustc
//!   names the type at fault and the closure, not the field that holds it.
//! - **Lifetimes** (E0521, E0597) and a mutable capture in a shared closure
//!   (E0596) are errors about borrows, checked after the bounds, whose
//!   wording no library can change; the adapters' docs show each error's
//!   code and words beside its fix, so searching the docs for the code
//!   finds it.
