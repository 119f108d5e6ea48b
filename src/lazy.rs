//! The lazy start both adapters share: building a stage starts nothing; its
//! first `next()` starts its engine, once, and every call after that goes
//! to the engine.

use std::fmt;

use crate::size_hint::{self, SizeHint};
use crate::stats::Recorder;
use crate::unwind::{self, PanicPayload};

/// What an adapter runs once started: an `off_thread` hand-off or a
/// `parallel_map` pool, seen from the consumer's side.
pub(crate) trait Engine {
    type Item;

    /// The next item; `None` once the stream has ended, and from then on.
    fn next(&mut self) -> Option<Self::Item>;

    /// Folds every remaining item; engines that can do better than a call
    /// of [`next`](Engine::next) per item override it.
    fn fold<B>(&mut self, init: B, mut f: impl FnMut(B, Self::Item) -> B) -> B {
        let mut accumulated = init;
        while let Some(item) = self.next() {
            accumulated = f(accumulated, item);
        }
        accumulated
    }

    /// A hint valid for what [`next`](Engine::next) will still return.
    fn size_hint(&self) -> SizeHint;

    /// Whether the stream has ended.
    fn is_finished(&self) -> bool;
}

/// A started stage: on its threads, or, where it was asked to or no thread
/// could be started, inline on the consumer's thread.
pub(crate) enum Started<E, I> {
    Threads(E),
    Inline(Inline<I>),
}

impl<E, I> Engine for Started<E, I>
where
    E: Engine,
    I: Iterator<Item = E::Item>,
{
    type Item = E::Item;

    #[inline]
    fn next(&mut self) -> Option<E::Item> {
        match self {
            Started::Threads(engine) => engine.next(),
            Started::Inline(inline) => inline.next(),
        }
    }

    fn fold<B>(&mut self, init: B, f: impl FnMut(B, E::Item) -> B) -> B {
        match self {
            Started::Threads(engine) => engine.fold(init, f),
            Started::Inline(inline) => inline.fold(init, f),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Started::Threads(engine) => engine.size_hint(),
            Started::Inline(inline) => inline.size_hint(),
        }
    }

    fn is_finished(&self) -> bool {
        match self {
            Started::Threads(engine) => engine.is_finished(),
            Started::Inline(inline) => inline.is_finished(),
        }
    }
}

/// A stage run inline: its source (with the stage's work chained on) pulled
/// right here, on the consumer's thread. Fused, and ended for good by a
/// panic, as a stage on its own threads is.
pub(crate) struct Inline<I> {
    /// `None` once the stream has ended.
    source: Option<I>,
    stats: Recorder,
}

impl<I: Iterator> Inline<I> {
    pub(crate) fn new(source: I, stats: Recorder) -> Self {
        stats.start();
        Inline {
            source: Some(source),
            stats,
        }
    }

    /// Ends the stream: drops the source, returning the panic of its drop.
    fn end(&mut self) -> Result<(), PanicPayload> {
        let source = self.source.take();
        self.stats.end();
        unwind::catch_drop(source)
    }

    /// Runs `pull` on the source; a panic ends the stream before it goes on
    /// (a second one, from the source's drop, is dropped: the first wins).
    fn pull<R>(&mut self, pull: impl FnOnce(&mut I) -> R) -> Option<R> {
        let source = self.source.as_mut()?;
        match unwind::catch(|| pull(source)) {
            Ok(pulled) => Some(pulled),
            Err(payload) => {
                unwind::discard(self.end());
                unwind::resume(payload)
            }
        }
    }
}

impl<I: Iterator> Engine for Inline<I> {
    type Item = I::Item;

    #[inline]
    fn next(&mut self) -> Option<I::Item> {
        let item = self.pull(Iterator::next)?;
        match item {
            Some(_) => self.stats.delivered(1),
            None => {
                if let Err(payload) = self.end() {
                    unwind::resume(payload);
                }
            }
        }
        item
    }

    fn fold<B>(&mut self, init: B, mut f: impl FnMut(B, I::Item) -> B) -> B {
        if self.source.is_none() {
            return init;
        }
        let stats = self.stats.clone();
        // The source's own fold (through `try_fold`), which may beat a
        // `next` per item. The source stays here, so that a panic in it
        // does not drop it while unwinding: its drop may panic too.
        let folded = unwind::catch(|| {
            let source = self.source.as_mut().expect("looked at above");
            source.by_ref().fold(init, |accumulated, item| {
                stats.delivered(1);
                f(accumulated, item)
            })
        });
        let dropped = self.end();
        match folded {
            Err(payload) => {
                unwind::discard(dropped);
                unwind::resume(payload)
            }
            Ok(folded) => {
                if let Err(payload) = dropped {
                    unwind::resume(payload);
                }
                folded
            }
        }
    }

    fn size_hint(&self) -> SizeHint {
        self.source
            .as_ref()
            .map_or(size_hint::EMPTY, Iterator::size_hint)
    }

    fn is_finished(&self) -> bool {
        self.source.is_none()
    }
}

/// What an idle adapter's `Debug` shows of its settings.
pub(crate) trait DebugFields {
    fn debug_fields(&self, debug: &mut fmt::DebugStruct<'_, '_>);
}

/// An idle stage: what it holds until its first `next()` starts it.
pub(crate) trait Idle<E> {
    /// The source's hint, while nothing has been pulled.
    fn size_hint(&self) -> SizeHint;
    /// What `Debug` shows of the stage's settings.
    fn debug_fields(&self, debug: &mut fmt::DebugStruct<'_, '_>);
    /// Starts the engine.
    fn start(self) -> E;
}

/// Starts an engine from a source and its settings.
pub(crate) type Start<'scope, I, S, E> = Box<dyn FnOnce(I, S) -> E + Send + 'scope>;

/// The idle form most stages take: a source, settings, and how to start.
pub(crate) struct Waiting<'scope, I, S, E> {
    pub(crate) source: I,
    pub(crate) settings: S,
    pub(crate) start: Start<'scope, I, S, E>,
}

impl<I: Iterator, S: DebugFields, E> Idle<E> for Waiting<'_, I, S, E> {
    fn size_hint(&self) -> SizeHint {
        self.source.size_hint()
    }

    fn debug_fields(&self, debug: &mut fmt::DebugStruct<'_, '_>) {
        self.settings.debug_fields(debug);
    }

    fn start(self) -> E {
        (self.start)(self.source, self.settings)
    }
}

/// A stage that starts its engine on the first `next()`.
pub(crate) struct LazyStage<D, E> {
    state: State<D, E>,
}

enum State<D, E> {
    /// Nothing pulled, no thread.
    Idle(D),
    Running(E),
    /// Starting panicked: the stream stays ended.
    Broken,
}

impl<D, E> LazyStage<D, E> {
    pub(crate) fn new(idle: D) -> Self {
        LazyStage {
            state: State::Idle(idle),
        }
    }

    /// The idle stage, if it has not started; the stage itself otherwise.
    pub(crate) fn into_idle(self) -> Result<D, Self> {
        match self.state {
            State::Idle(idle) => Ok(idle),
            state => Err(LazyStage { state }),
        }
    }
}

impl<D: Idle<E>, E: Engine> LazyStage<D, E> {
    #[inline]
    pub(crate) fn next(&mut self) -> Option<E::Item> {
        self.running()?.next()
    }

    pub(crate) fn fold<B>(mut self, init: B, f: impl FnMut(B, E::Item) -> B) -> B {
        match self.running() {
            Some(engine) => engine.fold(init, f),
            None => init,
        }
    }

    pub(crate) fn size_hint(&self) -> SizeHint {
        match &self.state {
            State::Idle(idle) => idle.size_hint(),
            State::Running(engine) => engine.size_hint(),
            State::Broken => size_hint::EMPTY,
        }
    }

    /// The engine, started now if it was idle; `None` if starting failed.
    #[inline]
    fn running(&mut self) -> Option<&mut E> {
        if let State::Idle(_) = self.state {
            // If `start` panics, the stage stays broken rather than half-built.
            if let State::Idle(idle) = std::mem::replace(&mut self.state, State::Broken) {
                self.state = State::Running(idle.start());
            }
        }
        match &mut self.state {
            State::Running(engine) => Some(engine),
            State::Idle(_) | State::Broken => None,
        }
    }

    /// Writes an adapter's `Debug`: its state and settings, never its items.
    pub(crate) fn debug(&self, adapter: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct(adapter);
        match &self.state {
            State::Idle(idle) => {
                debug.field("state", &"idle");
                idle.debug_fields(&mut debug);
                &mut debug
            }
            State::Running(engine) if !engine.is_finished() => debug
                .field("state", &"running")
                .field("size_hint", &engine.size_hint()),
            State::Running(_) | State::Broken => debug.field("state", &"finished"),
        };
        debug.finish_non_exhaustive()
    }
}

/// Implements `Iterator`, `FusedIterator` and `Debug` for an adapter whose
/// `stage` field is a [`LazyStage`]: the same for the plain and the scoped form.
macro_rules! lazy_adapter {
    ($name:literal, [$($generics:tt)*] $adapter:ty, item = $item:ty) => {
        impl<$($generics)*> Iterator for $adapter {
            type Item = $item;

            #[inline]
            fn next(&mut self) -> Option<$item> {
                self.stage.next()
            }

            fn size_hint(&self) -> (usize, Option<usize>) {
                self.stage.size_hint()
            }

            fn fold<B, F>(self, init: B, f: F) -> B
            where
                F: FnMut(B, $item) -> B,
            {
                self.stage.fold(init, f)
            }
        }

        impl<$($generics)*> std::iter::FusedIterator for $adapter {}

        impl<$($generics)*> std::fmt::Debug for $adapter {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.stage.debug($name, f)
            }
        }
    };
}

pub(crate) use lazy_adapter;
