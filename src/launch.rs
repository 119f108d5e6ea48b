//! Starting threads, detached or inside a scope; and whether stages run
//! inline, on the consumer's thread, instead.

use std::sync::OnceLock;
use std::thread::{self, Scope};

/// Where a thread lives: detached, or inside a [`Scope`] so it may borrow.
pub(crate) trait Launch<'scope>: Copy {
    /// Starts a thread named `name` running `body`; an error if the
    /// operating system cannot start one (or the target has none, as
    /// `wasm32-unknown-unknown`).
    fn spawn(self, name: String, body: impl FnOnce() + Send + 'scope) -> std::io::Result<()>;
}

/// Launches detached threads: whatever they run must be `'static`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Detached;

impl Launch<'static> for Detached {
    fn spawn(self, name: String, body: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
        thread::Builder::new().name(name).spawn(body).map(drop)
    }
}

impl<'scope> Launch<'scope> for &'scope Scope<'scope, '_> {
    fn spawn(self, name: String, body: impl FnOnce() + Send + 'scope) -> std::io::Result<()> {
        // The scope joins the thread at its end.
        thread::Builder::new()
            .name(name)
            .spawn_scoped(self, body)
            .map(drop)
    }
}

/// The environment variable that makes every stage of the program run
/// inline, on its consumer's thread, as if the adapters were not there:
/// set to anything but `0` or nothing.
pub(crate) const INLINE_VARIABLE: &str = "THREADPIPE_INLINE";

/// Whether [`INLINE_VARIABLE`] asks for every stage to run inline; read once.
pub(crate) fn inline_everywhere() -> bool {
    static INLINE: OnceLock<bool> = OnceLock::new();
    *INLINE.get_or_init(|| {
        std::env::var_os(INLINE_VARIABLE).is_some_and(|value| !value.is_empty() && value != "0")
    })
}

/// A launcher for tests that starts a given number of threads and then
/// refuses, as an operating system out of threads, or a target without
/// them, does.
#[cfg(all(test, not(loom)))]
pub(crate) mod refusing {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::{Detached, Launch};

    #[derive(Clone, Copy, Debug)]
    pub(crate) struct Refusing {
        /// Threads it will still start.
        pub(crate) starts: &'static AtomicUsize,
    }

    impl Refusing {
        /// Starts `starts` threads, then refuses.
        pub(crate) fn after(starts: usize) -> Self {
            Refusing {
                starts: Box::leak(Box::new(AtomicUsize::new(starts))),
            }
        }
    }

    impl Launch<'static> for Refusing {
        fn spawn(self, name: String, body: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
            let allowed = self
                .starts
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                    left.checked_sub(1)
                });
            match allowed {
                Ok(_) => Detached.spawn(name, body),
                Err(_) => Err(std::io::ErrorKind::Unsupported.into()),
            }
        }
    }
}

/// A launcher for tests whose threads start only once a gate opens, as
/// threads started on a busy machine may take a while to: what a set does
/// in that while shows.
#[cfg(all(test, not(loom)))]
pub(crate) mod gated {
    use std::sync::{Condvar, Mutex};

    use super::{Detached, Launch};

    #[derive(Clone, Copy, Debug)]
    pub(crate) struct Gated {
        open: &'static (Mutex<bool>, Condvar),
    }

    impl Gated {
        pub(crate) fn closed() -> Self {
            Gated {
                open: Box::leak(Box::new((Mutex::new(false), Condvar::new()))),
            }
        }

        pub(crate) fn open(self) {
            *self.open.0.lock().unwrap() = true;
            self.open.1.notify_all();
        }
    }

    impl Launch<'static> for Gated {
        fn spawn(self, name: String, body: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
            Detached.spawn(name, move || {
                let (open, opened) = self.open;
                drop(opened.wait_while(open.lock().unwrap(), |open| !*open));
                body();
            })
        }
    }
}
