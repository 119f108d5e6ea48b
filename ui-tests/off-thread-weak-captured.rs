// An `rc::Weak` shares the `Rc`'s non-atomic counts, so it cannot move to a
// worker either. Use `Arc` and its `sync::Weak`, from `Arc::downgrade`
// (see pass/off-thread-sync-weak.rs).
use std::rc::Rc;

use threadpipe::prelude::*;

fn main() {
    let owner = Rc::new(5u32);
    let link = Rc::downgrade(&owner);
    let shifted: Vec<u32> = (0..3u32)
        .map(move |n| n + link.upgrade().map_or(0, |value| *value))
        .off_thread()
        .collect();
    println!("{shifted:?} {owner}");
}
