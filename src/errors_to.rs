use std::fmt;
use std::iter::FusedIterator;
use std::sync::mpsc::{Sender, SyncSender};

/// Splits an iterator of `Result`s: errors go to a channel, values flow on.
///
/// This trait is implemented for every [`Iterator`]; import it with
/// `use threadpipe::prelude::*;`.
pub trait ErrorsToExt: Iterator + Sized {
    /// Sends each `Err` to `sink` and yields the value inside each `Ok`.
    ///
    /// Iterator element type is `T`, for an iterator of `Result<T, E>`. This
    /// iterator is *fused*.
    ///
    /// `errors_to` starts no thread: the sending happens on whichever thread
    /// pulls the adapter, so chained before [`off_thread`](crate::OffThreadExt::off_thread)
    /// it runs on the worker, and errors arrive in the order they occurred.
    /// The sink works with any [`ErrorSink`]: an [`mpsc::Sender`](Sender) or
    /// [`mpsc::SyncSender`](SyncSender).
    ///
    /// # Disconnection
    ///
    /// If the error receiver has hung up, the error that could not be sent is
    /// dropped and the stream ends: `next` returns `None` from then on, and the
    /// source is not pulled again. Hanging up is how a consumer says "stop".
    ///
    /// # Blocking
    ///
    /// A bounded [`SyncSender`] blocks when its channel is full, and so does
    /// the pipeline: drain a bounded error channel on another thread while the
    /// pipeline runs, or read the errors only at the end through an unbounded
    /// [`Sender`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use threadpipe::prelude::*;
    ///
    /// let (error_sender, errors) = mpsc::channel();
    /// let numbers: Vec<i32> = ["1", "two", "3"]
    ///     .into_iter()
    ///     .map(str::parse::<i32>)
    ///     .errors_to(error_sender) // runs on the worker thread, below
    ///     .off_thread()
    ///     .collect();
    /// assert_eq!(numbers, [1, 3]);
    /// // The worker has exited and dropped the sender, so this ends.
    /// let errors: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    /// assert_eq!(errors, ["invalid digit found in string"]);
    /// ```
    fn errors_to<S>(self, sink: S) -> ErrorsTo<Self, S>
    where
        Self::Item: ResultItem,
        S: ErrorSink<<Self::Item as ResultItem>::Error>,
    {
        ErrorsTo::new(self, sink, split::<Self::Item, S>)
    }
}

impl<I: Iterator> ErrorsToExt for I {}

/// An item [`errors_to`](ErrorsToExt::errors_to) can split: a `Result`.
///
/// It exists so that `errors_to` can name the two halves of its items, and
/// so that calling it on anything else gets an error message that says so.
/// It is implemented for every `Result<T, E>` and is sealed: nothing else
/// can implement it.
///
/// # Examples
///
/// ```
/// use threadpipe::ResultItem;
///
/// let parsed: Result<u8, String> = Ok(7);
/// assert_eq!(parsed.into_result(), Ok(7));
/// ```
#[diagnostic::on_unimplemented(
    message = "`errors_to` needs an iterator of `Result<T, E>` items; this one yields `{Self}`",
    label = "the items here are `{Self}`, not `Result`s",
    note = "turn each item into a `Result` first, e.g. `.map(|line| line.parse::<u32>())`"
)]
pub trait ResultItem: sealed::Sealed {
    /// The value inside `Ok`.
    type Value;
    /// The error inside `Err`.
    type Error;

    /// The item as a `Result`.
    fn into_result(self) -> Result<Self::Value, Self::Error>;
}

/// Seals [`ResultItem`]: only `Result` implements it.
mod sealed {
    // Reachable as a supertrait, nameable by no one outside the crate:
    // which is what sealing means.
    #[allow(unnameable_types)]
    pub trait Sealed {}

    impl<T, E> Sealed for Result<T, E> {}
}

impl<T, E> ResultItem for Result<T, E> {
    type Value = T;
    type Error = E;

    fn into_result(self) -> Result<T, E> {
        self
    }
}

/// Where [`errors_to`](ErrorsToExt::errors_to) sends errors.
///
/// Implemented for the standard channel senders. Implement it to send errors
/// somewhere else, for example into another crate's channel.
///
/// # Examples
///
/// ```
/// use threadpipe::ErrorSink;
///
/// /// Keeps the first few errors and then asks the pipeline to stop.
/// struct FirstErrors(Vec<String>);
///
/// impl ErrorSink<String> for FirstErrors {
///     fn send_error(&mut self, error: String) -> Result<(), String> {
///         if self.0.len() == 2 {
///             return Err(error);
///         }
///         self.0.push(error);
///         Ok(())
///     }
/// }
///
/// let mut sink = FirstErrors(Vec::new());
/// assert!(sink.send_error("a".into()).is_ok());
/// assert!(sink.send_error("b".into()).is_ok());
/// assert_eq!(sink.send_error("c".into()), Err("c".to_owned()));
/// ```
#[diagnostic::on_unimplemented(
    message = "`errors_to` cannot send errors of type `{E}` to `{Self}`",
    label = "this cannot receive `{E}` errors",
    note = "pass an `mpsc::Sender<{E}>` or `mpsc::SyncSender<{E}>`: the channel's message type must be the error type"
)]
pub trait ErrorSink<E> {
    /// Delivers `error`, or gives it back if nobody will ever receive it;
    /// the pipeline then stops.
    ///
    /// # Errors
    ///
    /// Returns the error itself when the receiving side has hung up.
    fn send_error(&mut self, error: E) -> Result<(), E>;
}

impl<E> ErrorSink<E> for Sender<E> {
    /// Never blocks: the channel is unbounded.
    fn send_error(&mut self, error: E) -> Result<(), E> {
        self.send(error).map_err(|refused| refused.0)
    }
}

impl<E> ErrorSink<E> for SyncSender<E> {
    /// Blocks while the channel is full.
    fn send_error(&mut self, error: E) -> Result<(), E> {
        self.send(error).map_err(|refused| refused.0)
    }
}

/// An iterator that yields the `Ok` values of its source and sends its errors away.
///
/// This struct is created by [`errors_to`](ErrorsToExt::errors_to). See its
/// documentation for more.
///
/// `T` is the type of the values it yields, the `T` of the items'
/// `Result<T, E>`; it is never written out, so `ErrorsTo<I, S>` names the
/// adapter.
///
/// It is `Send` when the source and the sink are, so it can run on a worker,
/// `Sync` when both are, and `Unpin` when both are.
#[must_use = "iterator adaptors are lazy and do nothing unless consumed"]
pub struct ErrorsTo<I: Iterator, S, T = <<I as Iterator>::Item as ResultItem>::Value> {
    /// `None` once the source has ended or the error receiver hung up.
    source: Option<I>,
    sink: S,
    /// [`split`] for this item and sink type, chosen where `errors_to` was
    /// called and its bounds were checked. Holding it, rather than asking
    /// for those bounds again on `Iterator` below, is what keeps a call with
    /// the wrong items or the wrong sink at one error: otherwise every
    /// method called on the result would be a second ("`collect` exists but
    /// its trait bounds were not satisfied").
    split: fn(&mut S, I::Item) -> Split<T>,
}

/// What became of one item.
enum Split<T> {
    /// An `Ok`'s value, to yield.
    Value(T),
    /// An `Err`, delivered to the sink.
    Sent,
    /// An `Err` the sink refused: the stream ends.
    Refused,
}

/// Splits `item`: its value to yield, or its error into `sink`.
fn split<R: ResultItem, S: ErrorSink<R::Error>>(sink: &mut S, item: R) -> Split<R::Value> {
    match item.into_result() {
        Ok(value) => Split::Value(value),
        Err(error) => match sink.send_error(error) {
            Ok(()) => Split::Sent,
            Err(_) => Split::Refused,
        },
    }
}

impl<I: Iterator, S, T> ErrorsTo<I, S, T> {
    fn new(source: I, sink: S, split: fn(&mut S, I::Item) -> Split<T>) -> Self {
        ErrorsTo {
            source: Some(source),
            sink,
            split,
        }
    }
}

impl<I: Iterator, S, T> Iterator for ErrorsTo<I, S, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        let source = self.source.as_mut()?;
        for item in source.by_ref() {
            match (self.split)(&mut self.sink, item) {
                Split::Value(value) => return Some(value),
                Split::Sent => {}
                Split::Refused => break,
            }
        }
        // Dropping the source now releases what it holds (files, threads)
        // instead of keeping it until the adapter itself is dropped.
        self.source = None;
        None
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.source {
            // Any item may turn out to be an error.
            Some(source) => (0, source.size_hint().1),
            None => (0, Some(0)),
        }
    }
}

impl<I: Iterator, S, T> FusedIterator for ErrorsTo<I, S, T> {}

impl<I: Iterator + fmt::Debug, S, T> fmt::Debug for ErrorsTo<I, S, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErrorsTo")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}
