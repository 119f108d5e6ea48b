//! The traits the adapters' bounds are written with, so that the compiler,
//! when a bound fails, says what went wrong in this crate's terms and what
//! to write instead: one error, not the standard library's about `Send` or
//! `Sync` with a suggestion to delete the `.map(...)` that made the item.
//!
//! Each is implemented for every type that meets it, and only those: they
//! are `Send` and `Sync` under another name, with their own message. The
//! implementations are marked `#[diagnostic::do_not_recommend]`, which makes
//! the compiler report the trait itself, with its message, rather than the
//! `Send` or `Sync` behind it. (A `'static` or borrowing mistake is a
//! lifetime error, which no trait can word; the adapters' docs and the
//! [`guide`](crate::guide) show those.)

/// A value that may move to another thread, as an item or a result of a
/// stage: [`Send`], with a message that says what to use instead.
///
/// Implemented for every `Send` type.
///
/// # Examples
///
/// ```
/// fn crosses<T: threadpipe::SendItem>(_: T) {}
///
/// crosses(std::sync::Arc::new(1)); // counts its owners atomically
/// ```
///
/// ```compile_fail,E0277
/// fn crosses<T: threadpipe::SendItem>(_: T) {}
///
/// crosses(std::rc::Rc::new(1));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot cross between threads, as the items of a stage do",
    label = "the items here are `{Self}`, which is not `Send`",
    note = "an `Rc` counts its owners without atomics, so two threads could corrupt the count: use `std::sync::Arc`",
    note = "a lock guard must be dropped on the thread that locked: lock inside the stage instead; a raw pointer gives no guarantee: send the data it points to, or an index"
)]
pub trait SendItem: Send {}

#[diagnostic::do_not_recommend]
impl<T: Send> SendItem for T {}

/// The part of a chain that moves to a worker thread (the source, and the
/// closures chained onto it with what they capture): an [`Iterator`] that
/// is [`Send`], with a message that says so.
///
/// Implemented for every `Send` iterator.
///
/// # Examples
///
/// ```
/// fn moves<S: threadpipe::SendSource>(_: S) {}
///
/// let offset = std::sync::Arc::new(10);
/// moves((0..3).map(move |n| n + *offset));
/// ```
///
/// ```compile_fail,E0277
/// fn moves<S: threadpipe::SendSource>(_: S) {}
///
/// let offset = std::rc::Rc::new(10);
/// moves((0..3).map(move |n| n + *offset));
/// ```
#[diagnostic::on_unimplemented(
    message = "this chain cannot move to a worker thread: it is not `Send`",
    label = "this chain, and what its closures capture, moves to the worker thread",
    note = "what the closures capture must be `Send`: an `Arc` instead of an `Rc`, a lock taken inside the closure instead of a guard held outside it"
)]
pub trait SendSource: Iterator + Send {}

// Only iterators: otherwise the compiler, seeing that a reference to the
// chain would be `Send`, suggests borrowing it, which cannot help.
#[diagnostic::do_not_recommend]
impl<I: Iterator + Send> SendSource for I {}

/// A `parallel_map` closure, which every worker thread calls: `Fn(T) -> U`,
/// [`Send`] and [`Sync`], with a message that points to the fixes.
///
/// Implemented for every such closure.
///
/// # Examples
///
/// ```
/// fn shared<F: threadpipe::SharedFn<u32, u32>>(_: F) {}
///
/// let calls = std::sync::atomic::AtomicU32::new(0);
/// let calls = &calls;
/// shared(move |n| { calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed); n });
/// ```
///
/// ```compile_fail,E0277
/// fn shared<F: threadpipe::SharedFn<u32, u32>>(_: F) {}
///
/// let calls = std::cell::Cell::new(0);
/// let calls = &calls;
/// shared(move |n| { calls.set(calls.get() + 1); n });
/// ```
#[diagnostic::on_unimplemented(
    message = "the closure of `parallel_map` cannot be shared by its threads",
    label = "every thread calls this closure, so what it captures must be `Sync`",
    note = "for state each thread keeps to itself (a scratch buffer, a `Cell`, a `RefCell`, a connection), use `parallel_map_init`, which gives each thread its own",
    note = "for a counter all threads share, use an atomic (`AtomicUsize`); for bigger shared state, a `Mutex`; for a channel's receiver, `threadpipe::shared_channel`"
)]
pub trait SharedFn<T, U>: Fn(T) -> U + Send + Sync {}

#[diagnostic::do_not_recommend]
impl<F, T, U> SharedFn<T, U> for F where F: Fn(T) -> U + Send + Sync {}

/// A `parallel_map_init` closure, which every worker thread calls with a
/// state of its own: `Fn(&mut S, T) -> U`, [`Send`] and [`Sync`], with a
/// message that points to the fixes.
///
/// Implemented for every such closure.
///
/// # Examples
///
/// ```
/// fn shared<F: threadpipe::SharedStateFn<String, u32, usize>>(_: F) {}
///
/// shared(|scratch: &mut String, n: u32| { scratch.clear(); scratch.push_str(&n.to_string()); scratch.len() });
/// ```
#[diagnostic::on_unimplemented(
    message = "the closure of `parallel_map_init` cannot be shared by its threads",
    label = "every thread calls this closure, so what it captures must be `Sync`",
    note = "keep what each thread changes in the state `init` makes; share the rest through an atomic or a `Mutex`"
)]
pub trait SharedStateFn<S, T, U>: Fn(&mut S, T) -> U + Send + Sync {}

#[diagnostic::do_not_recommend]
impl<F, S, T, U> SharedStateFn<S, T, U> for F where F: Fn(&mut S, T) -> U + Send + Sync {}
