//! The asymmetric fence pair a [`ConsumerBell`](super::ConsumerBell) rests
//! on: a light fence, for every ring, that costs nothing, and a heavy one,
//! for the rare moment when a sleeper is about to sleep.
//!
//! Ringing is a store-then-load race on both sides: the ringer stores an
//! event and then loads "is anyone asleep?"; the sleeper stores "I am
//! asleep" and then loads "is there an event?". Without a full fence between
//! each store and load, both loads can miss both stores. A full fence on
//! every ring costs more than a tiny item (it waits until the event has
//! reached the other core), so the ringer's fence is only a compiler fence,
//! and the sleeper pays for both: Linux's
//! `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)` runs a full fence on every
//! running thread of the process before it returns. This is the pairing of
//! folly's `asymmetricLightBarrier`/`asymmetricHeavyBarrier` and of liburcu.
//!
//! Where `membarrier` is missing (another OS, a kernel older than 4.14, a
//! seccomp filter that makes it fail), both fences are ordinary sequentially
//! consistent fences, which pair the same way at the old cost. A filter that
//! kills the process on `membarrier` instead would kill it at the first
//! hand-off; Docker's default profile answers a call it does not allow with
//! an error, which falls back as above.

#[cfg(not(loom))]
use std::sync::OnceLock;
#[cfg(not(loom))]
use std::sync::atomic::{Ordering, compiler_fence, fence};

/// The fence pair one bell uses: its ringers run [`light`](Self::light),
/// its sleepers [`heavy`](Self::heavy).
#[derive(Debug)]
pub(crate) struct FencePair {
    #[cfg(not(loom))]
    fences: Fences,
    /// Loom knows no `membarrier`: the pair is modelled as read-modify-writes
    /// of this one word, which order the two sides just as the pair does.
    #[cfg(loom)]
    word: crate::sync::shim::AtomicUsize,
}

impl FencePair {
    pub(crate) fn new() -> Self {
        FencePair {
            #[cfg(not(loom))]
            fences: Fences::for_this_process(),
            #[cfg(loom)]
            word: crate::sync::shim::AtomicUsize::new(0),
        }
    }

    /// The ringer's side: between making an event and looking for a sleeper.
    #[inline]
    pub(crate) fn light(&self) {
        #[cfg(not(loom))]
        self.fences.light();
        #[cfg(loom)]
        self.word.fetch_add(0, crate::sync::shim::Ordering::AcqRel);
    }

    /// The sleeper's side: between announcing itself and looking for events.
    /// `false` if the fence could not be run (the kernel refused a call it
    /// accepted at registration), in which case the caller must not sleep
    /// for long.
    pub(crate) fn heavy(&self) -> bool {
        #[cfg(not(loom))]
        return self.fences.heavy();
        #[cfg(loom)]
        {
            self.word.fetch_add(0, crate::sync::shim::Ordering::AcqRel);
            true
        }
    }
}

/// How long a sleeper whose heavy fence failed naps before it looks again,
/// since a ringer may have missed it.
#[cfg(not(loom))]
const UNFENCED_NAP: std::time::Duration = std::time::Duration::from_millis(1);

/// Sleeps for a moment instead of until woken: for a sleeper whose heavy
/// fence failed.
pub(super) fn nap_unfenced() {
    #[cfg(not(loom))]
    std::thread::park_timeout(UNFENCED_NAP);
    // Loom's heavy fence always runs, so this is never called there.
    #[cfg(loom)]
    crate::sync::shim::thread::yield_now();
}

/// The fences this process can use; both sides of a pair must use the same.
#[cfg(not(loom))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fences {
    /// A compiler fence per ring; `membarrier` before sleeping.
    Asymmetric,
    /// A full fence on both sides.
    Symmetric,
}

#[cfg(not(loom))]
impl Fences {
    /// The best this process can use, found out once.
    fn for_this_process() -> Self {
        static CHOSEN: OnceLock<Fences> = OnceLock::new();
        *CHOSEN.get_or_init(|| {
            if heavy::register() {
                Fences::Asymmetric
            } else {
                Fences::Symmetric
            }
        })
    }

    #[inline]
    fn light(self) {
        match self {
            Fences::Asymmetric => compiler_fence(Ordering::SeqCst),
            Fences::Symmetric => fence(Ordering::SeqCst),
        }
    }

    fn heavy(self) -> bool {
        match self {
            Fences::Asymmetric => heavy::run(),
            Fences::Symmetric => {
                fence(Ordering::SeqCst);
                true
            }
        }
    }
}

// Miri runs no system call it does not know, and `membarrier` is not among
// them: under Miri the process takes the fallback of a kernel without it.
#[cfg(all(not(loom), not(miri), any(target_os = "linux", target_os = "android")))]
mod heavy {
    use rustix::thread::{MembarrierCommand, membarrier};

    /// Registers the process for expedited private barriers, and checks
    /// that one runs.
    pub(super) fn register() -> bool {
        membarrier(MembarrierCommand::RegisterPrivateExpedited).is_ok() && run()
    }

    pub(super) fn run() -> bool {
        membarrier(MembarrierCommand::PrivateExpedited).is_ok()
    }
}

#[cfg(all(
    not(loom),
    any(miri, not(any(target_os = "linux", target_os = "android")))
))]
mod heavy {
    pub(super) fn register() -> bool {
        false
    }

    pub(super) fn run() -> bool {
        false
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// The machines threadpipe is measured on run Linux with `membarrier`;
    /// if this fails there, every ring silently pays a full fence.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[cfg_attr(miri, ignore = "Miri has no membarrier")]
    #[test]
    fn linux_gets_the_asymmetric_pair() {
        assert_eq!(Fences::for_this_process(), Fences::Asymmetric);
        assert!(Fences::Asymmetric.heavy());
    }
}
