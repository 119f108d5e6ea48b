//! Saturating arithmetic on `Iterator::size_hint` values.

/// A `(lower, upper)` pair as returned by [`Iterator::size_hint`].
pub(crate) type SizeHint = (usize, Option<usize>);

/// The hint left after one item has been taken from a stream with `hint`.
///
/// Saturates at zero, so a source that under-reported its length still
/// yields a hint that is valid for what remains.
pub(crate) fn after_one(hint: SizeHint) -> SizeHint {
    let (lower, upper) = hint;
    (
        lower.saturating_sub(1),
        upper.map(|upper| upper.saturating_sub(1)),
    )
}

/// The hint of a stream that has ended.
pub(crate) const EMPTY: SizeHint = (0, Some(0));
