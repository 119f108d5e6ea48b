//! Naming the calling thread after the stage it runs, where the operating
//! system lets a thread rename itself (Linux: `prctl(PR_SET_NAME)`, what
//! `top -H`, `ps -L`, debuggers and `/proc/<pid>/task/*/comm` show). The
//! name Rust itself gives a thread (`std::thread::current().name()`) is set
//! once, when the thread starts, and stays.

use std::cell::RefCell;

thread_local! {
    /// The name this thread last gave itself, so that renaming to the same
    /// name costs no system call.
    static CURRENT: RefCell<String> = const { RefCell::new(String::new()) };
}

/// The name the calling thread gave itself last, unless it is [`IDLE`] or
/// it never did.
pub(crate) fn current() -> Option<String> {
    CURRENT.with(|current| {
        let current = current.borrow();
        (!current.is_empty() && *current != IDLE).then(|| current.clone())
    })
}

/// Renames the calling thread `name` (the first 15 bytes, as Linux keeps),
/// unless that is its name already.
pub(crate) fn set(name: &str) {
    CURRENT.with(|current| {
        let mut current = current.borrow_mut();
        if *current != name {
            current.clear();
            current.push_str(name);
            rename(name);
        }
    });
}

/// What a thread of the scheduler's sets is called while it runs no stage.
pub(crate) const IDLE: &str = "threadpipe";

/// Renames the calling thread back to [`IDLE`]: it runs no stage now.
pub(crate) fn set_idle() {
    set(IDLE);
}

/// Keeps the calling thread under the [`IDLE`] name while alive, then gives
/// it back its stage's name: for a thread of a stage that starts another,
/// which the operating system starts under its creator's name, until Rust
/// names it (a moment in which it would pass for one of the stage's).
#[derive(Debug)]
pub(crate) struct IdleForAMoment(Option<String>);

impl IdleForAMoment {
    pub(crate) fn enter() -> Self {
        let stage = current();
        if stage.is_some() {
            rename(IDLE);
        }
        IdleForAMoment(stage)
    }
}

impl Drop for IdleForAMoment {
    fn drop(&mut self) {
        if let Some(stage) = &self.0 {
            rename(stage);
        }
    }
}

// Miri does not run `prctl`: under Miri, as under loom and on other
// systems, threads keep the name Rust gave them.
#[cfg(all(any(target_os = "linux", target_os = "android"), not(loom), not(miri)))]
fn rename(name: &str) {
    // Linux keeps 15 bytes and a NUL; cut on a character boundary, and
    // leave out anything after a NUL, which a C string cannot hold.
    let mut end = name.len().min(15);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    let cut = name[..end].split('\0').next().unwrap_or("");
    if let Ok(name) = std::ffi::CString::new(cut) {
        // A failure leaves the old name, which is only cosmetic.
        let _ = rustix::thread::set_name(&name);
    }
}

#[cfg(not(all(any(target_os = "linux", target_os = "android"), not(loom), not(miri))))]
fn rename(_name: &str) {}
