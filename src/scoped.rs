use std::fmt;
use std::iter::FusedIterator;
use std::thread::Scope;

use crate::off_thread::OffThreadOptions;
use crate::stage::LazyStage;

/// An iterator whose source runs on a worker thread inside a [`Scope`], so
/// it may borrow from the caller.
///
/// This struct is created by [`off_thread_scoped`](crate::OffThreadExt::off_thread_scoped)
/// and [`off_thread_scoped_with`](crate::OffThreadExt::off_thread_scoped_with).
/// See their documentation for more.
///
/// Like [`OffThread`](crate::OffThread), it is `Send` when the source and
/// its items are, never `Sync`, and always `Unpin`.
#[must_use = "iterator adaptors are lazy and do nothing unless consumed"]
pub struct OffThreadScoped<'scope, 'env, I: Iterator> {
    stage: LazyStage<'scope, I, &'scope Scope<'scope, 'env>>,
}

impl<'scope, 'env, I> OffThreadScoped<'scope, 'env, I>
where
    I: Iterator + Send + 'scope,
    I::Item: Send + 'scope,
{
    pub(crate) fn new(
        source: I,
        scope: &'scope Scope<'scope, 'env>,
        options: OffThreadOptions,
    ) -> Self {
        OffThreadScoped {
            stage: LazyStage::new(source, options, scope),
        }
    }
}

impl<'scope, I> Iterator for OffThreadScoped<'scope, '_, I>
where
    I: Iterator + Send + 'scope,
    I::Item: Send + 'scope,
{
    type Item = I::Item;

    fn next(&mut self) -> Option<I::Item> {
        self.stage.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.stage.size_hint()
    }

    fn fold<B, F>(self, init: B, f: F) -> B
    where
        F: FnMut(B, Self::Item) -> B,
    {
        self.stage.fold(init, f)
    }
}

impl<'scope, I> FusedIterator for OffThreadScoped<'scope, '_, I>
where
    I: Iterator + Send + 'scope,
    I::Item: Send + 'scope,
{
}

/// Exact when the source is: the source's length minus what was delivered.
impl<'scope, I> ExactSizeIterator for OffThreadScoped<'scope, '_, I>
where
    I: ExactSizeIterator + Send + 'scope,
    I::Item: Send + 'scope,
{
}

impl<I: Iterator> fmt::Debug for OffThreadScoped<'_, '_, I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("OffThreadScoped");
        self.stage.debug_fields(&mut debug);
        debug.finish_non_exhaustive()
    }
}
