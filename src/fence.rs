//! An asymmetric pair of memory fences: a light one that costs nothing, for
//! the producer's every push, and a heavy one, for the rare moment when a
//! consumer is about to sleep.
//!
//! The wake-up of a sleeping consumer is a store-then-load race on both
//! sides: the producer stores an item and then loads "is anyone asleep?";
//! the consumer stores "I am asleep" and then loads "is there an item?".
//! Without a full fence between each store and load, both loads can miss
//! both stores, and an item is stranded. A full fence on every push costs
//! more than a tiny item (it waits until the push has reached the consumer's
//! core), so the producer's fence is only a compiler fence, and the consumer
//! pays for both: Linux's `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)`
//! runs a full fence on every running thread of the process before it
//! returns. Whatever point of the producer's program that fence lands on,
//! either its push comes before it, and the consumer sees the item, or its
//! load comes after it, and the producer sees the sleeper. This is the
//! pairing of folly's `asymmetricLightBarrier`/`asymmetricHeavyBarrier` and
//! of liburcu; the loom model in `doorbell.rs` checks the protocol built on
//! it, with the pair modelled as two read-modify-writes of one location.
//!
//! Where `membarrier` is missing (another OS, a kernel older than 4.14, a
//! seccomp filter that makes it fail), both fences are ordinary sequentially
//! consistent fences, which pair the same way at the old cost. A filter that
//! kills the process on `membarrier` instead would kill it at the first
//! hand-off; Docker's default profile answers a call it does not allow with
//! an error, which falls back as above.

use std::sync::OnceLock;
use std::sync::atomic::{Ordering, compiler_fence, fence};

/// The fences one hand-off uses; both ends must use the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fences {
    /// A compiler fence per push; `membarrier` before sleeping.
    Asymmetric,
    /// A full fence on both sides.
    Symmetric,
}

impl Fences {
    /// The best this process can use, found out once.
    pub(crate) fn for_this_process() -> Self {
        static CHOSEN: OnceLock<Fences> = OnceLock::new();
        *CHOSEN.get_or_init(|| {
            if heavy::register() {
                Fences::Asymmetric
            } else {
                Fences::Symmetric
            }
        })
    }

    /// The producer's side: between publishing an item and looking for a
    /// sleeper.
    #[inline]
    pub(crate) fn light(self) {
        match self {
            Fences::Asymmetric => compiler_fence(Ordering::SeqCst),
            Fences::Symmetric => fence(Ordering::SeqCst),
        }
    }

    /// The sleeper's side: between announcing itself and looking for items.
    /// `false` if the fence could not be run (the kernel refused a call it
    /// accepted at registration), in which case the caller must not sleep
    /// for long.
    pub(crate) fn heavy(self) -> bool {
        match self {
            Fences::Asymmetric => heavy::run(),
            Fences::Symmetric => {
                fence(Ordering::SeqCst);
                true
            }
        }
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
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

#[cfg(not(any(target_os = "linux", target_os = "android")))]
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
    /// if this fails there, every hand-off silently pays a full fence per
    /// item.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn linux_gets_the_asymmetric_pair() {
        assert_eq!(Fences::for_this_process(), Fences::Asymmetric);
        assert!(Fences::Asymmetric.heavy());
    }
}
