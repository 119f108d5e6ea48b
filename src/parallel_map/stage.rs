//! A `parallel_map` stage before it starts, and how a `parallel_map`
//! chained right after it fuses with it into one stage: one pool whose
//! threads carry each item through both closures, rather than two pools
//! that hand every item from one to the other.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use super::ParallelMapOptions;
use crate::lazy::{DebugFields, Idle, LazyStage, Started, Waiting};
use crate::pool::{self, InlineMap, Order, Pool, Settings};
use crate::scheduler::Spawner;
use crate::size_hint::SizeHint;

/// What a `parallel_map` stage runs once started.
pub(crate) type Engine<'scope, U> = Started<Pool<'scope, U>, InlineMap<'scope, U>>;

/// A `parallel_map` stage: idle until its first `next()`.
pub(crate) type Stage<'scope, I, U> = LazyStage<MapIdle<'scope, I, U>, Engine<'scope, U>>;

/// Makes the threads a stage runs on, when it starts.
pub(crate) type Threads<'scope> = Box<dyn FnOnce() -> Spawner<'scope> + Send + 'scope>;

/// A stage's `f` and `init`, their types hidden behind those of the items:
/// what a stage fused after it calls, one item at a time.
pub(crate) trait ErasedMap<'scope, T, U>: Send + Sync + 'scope {
    /// The calls one thread makes, with a state of its own, which `init`
    /// makes at the first call.
    fn local(self: Arc<Self>) -> Box<dyn LocalMap<T, U> + 'scope>;
}

/// One thread's calls of an [`ErasedMap`].
pub(crate) trait LocalMap<T, U>: Send {
    fn call(&mut self, item: T) -> U;
}

/// A stage's `f` and `init`, shared by its typed start (which calls them
/// directly) and its [`ErasedMap`] view (for a stage fused after it).
struct Typed<F, Init, S> {
    f: F,
    init: Init,
    state: PhantomData<fn() -> S>,
}

/// A thread's calls of a [`Typed`] map, with its state.
struct LocalTyped<F, Init, S> {
    map: Arc<Typed<F, Init, S>>,
    state: Option<S>,
}

impl<'scope, T, U, F, Init, S> ErasedMap<'scope, T, U> for Typed<F, Init, S>
where
    F: Fn(&mut S, T) -> U + Send + Sync + 'scope,
    Init: Fn() -> S + Send + Sync + 'scope,
    S: Send + 'scope,
{
    fn local(self: Arc<Self>) -> Box<dyn LocalMap<T, U> + 'scope> {
        Box::new(LocalTyped {
            map: self,
            state: None,
        })
    }
}

impl<T, U, F, Init, S> LocalMap<T, U> for LocalTyped<F, Init, S>
where
    F: Fn(&mut S, T) -> U + Send + Sync,
    Init: Fn() -> S + Send + Sync,
    S: Send,
{
    #[inline]
    fn call(&mut self, item: T) -> U {
        let map = &*self.map;
        (map.f)(self.state.get_or_insert_with(&map.init), item)
    }
}

/// A thread's state in a stage fused from two: the first's calls (made at
/// the thread's first item), and the second's state (likewise).
type FusedState<'scope, T, U, S> = (Option<Box<dyn LocalMap<T, U> + 'scope>>, Option<S>);

/// What a stage starts with: its settings, its map, and its threads.
pub(crate) struct Recipe<'scope, T, U> {
    settings: Settings,
    map: Arc<dyn ErasedMap<'scope, T, U> + 'scope>,
    threads: Threads<'scope>,
}

impl<T, U> DebugFields for Recipe<'_, T, U> {
    fn debug_fields(&self, debug: &mut fmt::DebugStruct<'_, '_>) {
        self.settings.debug_fields(debug);
    }
}

/// A started stage's idle form, boxed: for a stage over another stage that
/// could not fuse with it.
pub(crate) trait BoxedIdle<E>: Send {
    fn size_hint(&self) -> SizeHint;
    fn debug_fields(&self, debug: &mut fmt::DebugStruct<'_, '_>);
    fn start(self: Box<Self>) -> E;
}

impl<E, D: Idle<E> + Send> BoxedIdle<E> for D {
    fn size_hint(&self) -> SizeHint {
        Idle::size_hint(self)
    }

    fn debug_fields(&self, debug: &mut fmt::DebugStruct<'_, '_>) {
        Idle::debug_fields(self, debug);
    }

    fn start(self: Box<Self>) -> E {
        Idle::start(*self)
    }
}

/// The idle form of a `parallel_map` stage.
pub(crate) enum MapIdle<'scope, I: Iterator, U> {
    /// Over its own source: a stage chained right after it may fuse with it.
    Fresh(Waiting<'scope, I, Recipe<'scope, I::Item, U>, Engine<'scope, U>>),
    /// Over a stage that could not fuse with it, which is its source.
    Over(Box<dyn BoxedIdle<Engine<'scope, U>> + 'scope>),
}

impl<'scope, I: Iterator, U> Idle<Engine<'scope, U>> for MapIdle<'scope, I, U> {
    fn size_hint(&self) -> SizeHint {
        match self {
            MapIdle::Fresh(waiting) => Idle::size_hint(waiting),
            MapIdle::Over(idle) => idle.size_hint(),
        }
    }

    fn debug_fields(&self, debug: &mut fmt::DebugStruct<'_, '_>) {
        match self {
            MapIdle::Fresh(waiting) => Idle::debug_fields(waiting, debug),
            MapIdle::Over(idle) => idle.debug_fields(debug),
        }
    }

    fn start(self) -> Engine<'scope, U> {
        match self {
            MapIdle::Fresh(waiting) => waiting.start(),
            MapIdle::Over(idle) => idle.start(),
        }
    }
}

/// A stage over its own `source`, running `f` with states made by `init`
/// on the threads `threads` makes; `sticky` if its runs keep their
/// threads (states of a `parallel_map_init`).
pub(crate) fn fresh<'scope, I, Init, S, F, U>(
    source: I,
    settings: Settings,
    init: Init,
    f: F,
    threads: Threads<'scope>,
) -> Stage<'scope, I, U>
where
    I: Iterator + Send + 'scope,
    I::Item: Send + 'scope,
    Init: Fn() -> S + Send + Sync + 'scope,
    S: Send + 'scope,
    F: Fn(&mut S, I::Item) -> U + Send + Sync + 'scope,
    U: Send + 'scope,
{
    let typed = Arc::new(Typed {
        f,
        init,
        state: PhantomData,
    });
    let map: Arc<dyn ErasedMap<'scope, I::Item, U> + 'scope> = typed.clone();
    LazyStage::new(MapIdle::Fresh(Waiting {
        source,
        settings: Recipe {
            settings,
            map,
            threads,
        },
        start: Box::new(move |source, recipe| {
            let Recipe {
                settings, threads, ..
            } = recipe;
            let init = Arc::clone(&typed);
            pool::start(
                threads(),
                source,
                move |state: &mut S, item| (typed.f)(state, item),
                move || (init.init)(),
                settings,
            )
        }),
    }))
}

/// Whether a stage with `second`'s settings, chained right after one with
/// `first`'s, may run as one stage with it: neither inline, and the same
/// cap on threads (one stage must not run more at once than it allows).
fn fusable(first: &Settings, second: &Settings) -> bool {
    !first.inline && !second.inline && first.threads == second.threads
}

/// The settings of a stage made of `first` and `second`: the smaller
/// window (both bounds hold), completion order if either asked for it
/// (any order of the first's results is one it could have had), the
/// second's name, and both profile rows.
fn merged(first: Settings, second: Settings) -> Settings {
    Settings {
        threads: second.threads,
        window: first.window.min(second.window),
        order: if first.order == Order::Completion {
            Order::Completion
        } else {
            second.order
        },
        name: second.name,
        stats: second.stats.with_upstream(first.stats),
        inline: false,
        sticky: first.sticky || second.sticky,
    }
}

/// A stage running `f` (with states made by `init`) on the results of
/// `first`, whose stages the caller wraps as an iterator with `adapter`:
/// one stage with `first`, over its source, if `first` has not started and
/// the two may fuse (see [`fusable`]); else a stage of its own over it.
#[allow(clippy::too_many_arguments)]
pub(crate) fn chained<'scope, I, U, A, Init, S, F, V>(
    first: Stage<'scope, I, U>,
    adapter: impl FnOnce(Stage<'scope, I, U>) -> A,
    options: ParallelMapOptions,
    sticky: bool,
    init: Init,
    f: F,
    threads: Threads<'scope>,
) -> Stage<'scope, I, V>
where
    I: Iterator + Send + 'scope,
    I::Item: Send + 'scope,
    U: Send + 'scope,
    A: Iterator<Item = U> + Send + 'scope,
    Init: Fn() -> S + Send + Sync + 'scope,
    S: Send + 'scope,
    F: Fn(&mut S, U) -> V + Send + Sync + 'scope,
    V: Send + 'scope,
{
    let second = options.into_settings(sticky);
    let first = match first.into_idle() {
        Ok(MapIdle::Fresh(waiting)) if fusable(&waiting.settings.settings, &second) => {
            let Waiting {
                source,
                settings: recipe,
                ..
            } = waiting;
            let map = recipe.map;
            // Each thread calls the first stage's map (with its state, made
            // at its first call there) and then `f` (with its own).
            let fused = move |state: &mut FusedState<'scope, I::Item, U, S>, item| {
                let first = state.0.get_or_insert_with(|| Arc::clone(&map).local());
                let between = first.call(item);
                f(state.1.get_or_insert_with(&init), between)
            };
            return fresh(
                source,
                merged(recipe.settings, second),
                || (None, None),
                fused,
                threads,
            );
        }
        Ok(idle) => LazyStage::new(idle),
        Err(started) => started,
    };
    let over = adapter(first);
    let typed = Arc::new(Typed {
        f,
        init,
        state: PhantomData::<fn() -> S>,
    });
    LazyStage::new(MapIdle::Over(Box::new(Waiting {
        source: over,
        settings: second,
        start: Box::new(move |over, settings| {
            let init = Arc::clone(&typed);
            pool::start(
                threads(),
                over,
                move |state: &mut S, item| (typed.f)(state, item),
                move || (init.init)(),
                settings,
            )
        }),
    })))
}
