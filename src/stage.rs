//! The lazy state machine shared by the `off_thread` adapters: idle until the
//! first `next()`, then a [`Handoff`] from a worker thread.

use std::fmt;
use std::sync::Arc;

use crate::launch::Launch;
use crate::off_thread::OffThreadOptions;
use crate::profile::StageStats;
use crate::size_hint::SizeHint;
use crate::worker::Handoff;

/// A stage that starts its worker on the first `next()`.
pub(crate) enum LazyStage<'scope, I: Iterator, L> {
    /// Nothing pulled, no thread.
    Idle {
        source: I,
        options: OffThreadOptions,
        launcher: L,
        stats: Option<Arc<StageStats>>,
    },
    Started(Handoff<'scope, I::Item>),
}

impl<'scope, I, L> LazyStage<'scope, I, L>
where
    I: Iterator + Send + 'scope,
    I::Item: Send + 'scope,
    L: Launch<'scope>,
{
    pub(crate) fn new(source: I, options: OffThreadOptions, launcher: L) -> Self {
        // Registered now, so a profile lists stages in the order the chain is
        // written, upstream first.
        let stats = options
            .profile
            .as_ref()
            .map(|profile| profile.register(&options.name, 1));
        LazyStage::Idle {
            source,
            options,
            launcher,
            stats,
        }
    }

    pub(crate) fn next(&mut self) -> Option<I::Item> {
        self.started().recv()
    }

    /// Folds every remaining item: [`Iterator::fold`] without a call of
    /// `next` per item, so a batch is folded in one tight loop.
    pub(crate) fn fold<B>(mut self, init: B, f: impl FnMut(B, I::Item) -> B) -> B {
        self.started().fold(init, f)
    }

    /// The hand-off, starting the worker if it is not running yet.
    fn started(&mut self) -> &mut Handoff<'scope, I::Item> {
        if let LazyStage::Started(handoff) = self {
            return handoff;
        }
        // If launching panics, the stage stays ended rather than half-built.
        let LazyStage::Idle {
            source,
            options,
            launcher,
            stats,
        } = std::mem::replace(self, LazyStage::Started(Handoff::ended()))
        else {
            unreachable!("a stage is idle or started")
        };
        let handoff = Handoff::spawn(launcher, source, &options, stats);
        self.install(handoff)
    }

    fn install(&mut self, handoff: Handoff<'scope, I::Item>) -> &mut Handoff<'scope, I::Item> {
        *self = LazyStage::Started(handoff);
        match self {
            LazyStage::Started(handoff) => handoff,
            LazyStage::Idle { .. } => unreachable!("just started"),
        }
    }

    pub(crate) fn size_hint(&self) -> SizeHint {
        match self {
            LazyStage::Idle { source, .. } => source.size_hint(),
            LazyStage::Started(handoff) => handoff.size_hint(),
        }
    }
}

impl<I: Iterator, L> LazyStage<'_, I, L> {
    /// The fields a `Debug` of a stage shows: state and settings, never items.
    pub(crate) fn debug_fields(&self, debug: &mut fmt::DebugStruct<'_, '_>) {
        match self {
            LazyStage::Idle { options, .. } => debug
                .field("state", &"idle")
                .field("name", &options.name)
                .field("capacity", &options.capacity),
            LazyStage::Started(handoff) if handoff.is_finished() => {
                debug.field("state", &"finished")
            }
            LazyStage::Started(handoff) => debug
                .field("state", &"running")
                .field("size_hint", &handoff.size_hint()),
        };
    }
}
