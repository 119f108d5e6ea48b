//! The pieces the adapters' bounds are written with, laid out so that when
//! a bound fails, the compiler's one error names the type at fault, where
//! it is, and the fix.
//!
//! The bounds are plain `Send` and `Sync`, so the compiler reports the type
//! that breaks them (`Rc<String>`, `Cell<u64>`), in its own words ("cannot
//! be sent between threads safely"), and which closure or type holds it
//! ("required because it's used within this closure"). Each bound has a
//! line of its own in the adapter's `where` clause, with a comment that says
//! what to use instead: the compiler shows that line, comment and all,
//! under "required by a bound in …". Two details keep that error alone and
//! right:
//!
//! - The iterator's bounds are written on `Chain`, a second name for
//!   `Self` ([`SameAs`]), not on `Self`. A failing bound on `Self` makes
//!   the compiler blame the receiver, `(0..3).map(..)`, and suggest deleting
//!   the `.map(..)`, since the range before it is `Send`.
//! - Items and results are [`SendItem`], which is `Send` with a message in
//!   the same words plus the fix. Its implementation is not
//!   `do_not_recommend`, so an `Rc` inside a `Vec` item is still reported
//!   as the `Rc`.
//!
//! The guide's [side-by-side](crate::guide#the-designs-measured) shows the
//! designs measured on every mistake. (A `'static` or borrowing mistake is
//! a lifetime error, which no bound can word; the adapters' docs and the
//! [`guide`](crate::guide) show those.)

/// `Self`, under the name `T`: `Self: SameAs<Chain>` holds exactly when
/// `Chain` is `Self`.
///
/// The adapters write their bounds on `Chain` rather than on `Self`. A
/// failing bound on `Self` makes the compiler blame the receiver,
/// `(0..3).map(..)`, and suggest deleting the `.map(..)`, since the range
/// before it is `Send`; on `Chain`, the error stays on the type at fault
/// (see [the designs measured](crate::guide#the-designs-measured)). It is
/// sealed: implemented for every type, as itself, and for nothing else.
///
/// # Examples
///
/// ```
/// fn moves<C, S: threadpipe::SameAs<C>>(_: S)
/// where
///     C: Send, // the compiler shows this line if `S` is not `Send`
/// {
/// }
///
/// moves(std::sync::Arc::new(1));
/// ```
///
/// ```compile_fail,E0277
/// fn moves<C, S: threadpipe::SameAs<C>>(_: S)
/// where
///     C: Send, // the compiler shows this line if `S` is not `Send`
/// {
/// }
///
/// moves(std::rc::Rc::new(1)); // `Rc<{integer}>` cannot be sent between threads safely
/// ```
pub trait SameAs<T>: sealed::Convert<T> {}

impl<T> SameAs<T> for T {}

/// Seals [`SameAs`], and turns a `Self` into its other name.
pub(crate) mod sealed {
    /// The conversion behind [`SameAs`](super::SameAs): the identity.
    // Reachable as a supertrait, nameable by no one outside the crate:
    // which is what sealing means.
    #[allow(unnameable_types)]
    pub trait Convert<T> {
        /// `self`, as a `T` (which it is).
        fn into_same(self) -> T;
    }

    impl<T> Convert<T> for T {
        #[inline]
        fn into_same(self) -> T {
            self
        }
    }
}

/// A value that crosses between threads, as an item or a result of a
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
/// crosses(std::rc::Rc::new(1)); // `Rc<{integer}>` cannot be sent between threads safely
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be sent between threads safely",
    label = "`{Self}` crosses between threads here, as every item and result of a stage does",
    note = "for an `Rc`, use `std::sync::Arc` (and `Arc<Mutex<T>>` for `Rc<RefCell<T>>`): it counts its owners atomically",
    note = "for a raw pointer, send the data it points to, or an index; for a lock guard, lock inside the stage"
)]
pub trait SendItem: Send {}

// Not `do_not_recommend`: for an item that holds the culprit (a `Vec` of
// `Rc`s), the compiler then names the culprit.
impl<T: Send> SendItem for T {}
