//! The contract under real faults of the operating system: a plain
//! program (no test harness, whose own threads a refused `clone` would
//! break) that runs every kind of stage and checks what it gets, meant to
//! run under `strace`'s fault injection. CI runs it so, with:
//!
//! - thread creation refused from the start (`clone3`, and `clone` where
//!   the C library falls back to it): every stage runs inline;
//! - thread creation refused after two threads: stages run on those;
//! - `membarrier` denied (`EPERM`, `ENOSYS`) from the start, or from its
//!   third call: the fences fall back to sequentially consistent ones.
//!
//! For example: `strace -f -qq -o /dev/null -e trace=none
//! -e inject=clone3:error=EAGAIN:when=3+ target/debug/deps/faults-<hash>`.
//! Under plain `cargo test` it runs once, with no fault, as a test of its
//! own. It exits non-zero, naming the check, on any failure; a hang is
//! left to the caller's timeout (a watchdog would need a thread).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::ExitCode;
use std::sync::mpsc;

use threadpipe::prelude::*;
use threadpipe::{OffThreadOptions, ParallelMapOptions};

const N: u64 = 2_000;

fn squares() -> Vec<u64> {
    (0..N).map(|n| n * n).collect()
}

/// The payload of a caught panic, as text.
fn message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// Runs `chain`, which must panic with "planted" after yielding exactly
/// `before` items.
fn panics_after(before: usize, chain: impl Iterator<Item = u64>) -> Result<(), String> {
    let mut got = 0;
    let caught = catch_unwind(AssertUnwindSafe(|| chain.for_each(|_| got += 1)));
    match caught {
        Ok(()) => Err(format!("no panic; {got} items")),
        Err(payload) if message(&*payload) == "planted" && got == before => Ok(()),
        Err(payload) => Err(format!("{:?} after {got} items", message(&*payload))),
    }
}

fn expect<T: PartialEq + std::fmt::Debug>(got: T, wanted: T) -> Result<(), String> {
    if got == wanted {
        Ok(())
    } else {
        Err(format!("got {got:?}, wanted {wanted:?}"))
    }
}

/// A check: whether the contract held, or what went wrong.
type Check = fn() -> Result<(), String>;

fn checks() -> Vec<(&'static str, Check)> {
    vec![
        ("off_thread keeps order and count", || {
            expect((0..N).map(|n| n * n).off_thread().collect(), squares())
        }),
        ("off_thread in batches", || {
            let options = OffThreadOptions::new().capacity(8).batch(16);
            expect(
                (0..N).map(|n| n * n).off_thread_with(options).collect(),
                squares(),
            )
        }),
        ("parallel_map in input order", || {
            expect((0..N).parallel_map(|n| n * n).collect(), squares())
        }),
        ("parallel_map in completion order", || {
            let options = ParallelMapOptions::new().threads(3).in_completion_order();
            let mut got: Vec<u64> = (0..N).parallel_map_with(options, |n| n * n).collect();
            got.sort_unstable();
            expect(got, squares())
        }),
        ("parallel_map_init keeps a state per thread", || {
            let got: Vec<u64> = (0..N)
                .parallel_map_init(Vec::<u64>::new, |scratch, n| {
                    scratch.push(n);
                    n * n
                })
                .collect();
            expect(got, squares())
        }),
        ("a chain of stages", || {
            let got: Vec<u64> = (0..N)
                .off_thread()
                .parallel_map(|n| n + 1)
                .off_thread()
                .parallel_map(|n| (n - 1) * (n - 1))
                .collect();
            expect(got, squares())
        }),
        ("a stage nested in another's closure", || {
            let got: Vec<u64> = (0..40u64)
                .parallel_map(|outer| (0..outer).parallel_map(|inner| inner * 2).sum())
                .collect();
            expect(
                got,
                (0..40u64)
                    .map(|outer| outer * outer.saturating_sub(1))
                    .collect(),
            )
        }),
        ("a source that waits for the consumer", || {
            let (reply, replies) = mpsc::channel::<()>();
            let mut next = 0u64;
            let source = std::iter::from_fn(move || {
                if next > 0 {
                    replies.recv().ok()?;
                }
                (next < 200).then(|| {
                    next += 1;
                    next - 1
                })
            });
            let mut got = Vec::new();
            for n in source.off_thread().parallel_map(|n| n * 3) {
                got.push(n);
                let _ = reply.send(());
            }
            expect(got, (0..200).map(|n| n * 3).collect())
        }),
        ("errors_to splits the errors off", || {
            let (errors, failed) = mpsc::channel();
            let got: Vec<u64> = (0..N)
                .map(|n| if n % 7 == 0 { Err(n) } else { Ok(n) })
                .errors_to(errors)
                .off_thread()
                .collect();
            expect(got.len() + failed.into_iter().count(), N as usize)
        }),
        (
            "a panic in parallel_map comes after the items before it",
            || {
                panics_after(
                    500,
                    (0..N).parallel_map(|n| {
                        assert!(n != 500, "planted");
                        n
                    }),
                )
            },
        ),
        (
            "a panic in off_thread's source comes after the items before it",
            || {
                panics_after(
                    300,
                    (0..N)
                        .inspect(|&n| assert!(n != 300, "planted"))
                        .off_thread(),
                )
            },
        ),
        ("an early drop returns", || {
            let got: Vec<u64> = (0..)
                .off_thread()
                .parallel_map(|n| n * n)
                .take(100)
                .collect();
            expect(got, (0..100).map(|n| n * n).collect())
        }),
    ]
}

fn main() -> ExitCode {
    // Enough of the test harness's command line for cargo-nextest, which
    // lists a binary's tests before it runs them: this one is one test.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|arg| arg == "--list") {
        if !args.iter().any(|arg| arg == "--ignored") {
            println!("faults: test");
        }
        return ExitCode::SUCCESS;
    }
    // Quiet the planted panics.
    std::panic::set_hook(Box::new(|_| {}));
    let mut failed = 0;
    let checks = checks();
    for (name, check) in &checks {
        match catch_unwind(check) {
            Ok(Ok(())) => {}
            Ok(Err(why)) => {
                failed += 1;
                eprintln!("faults: FAILED: {name}: {why}");
            }
            Err(payload) => {
                failed += 1;
                eprintln!("faults: FAILED: {name}: panicked: {}", message(&*payload));
            }
        }
    }
    println!(
        "faults: {} of {} checks held",
        checks.len() - failed,
        checks.len()
    );
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
