// A closure above `off_thread` moves to the worker with everything it
// captures, so every capture must be `Send`; the error names the one that is
// not (here `Rc<String>`, among four). Capture an `Arc` instead
// (see pass/off-thread-arc-among-captures.rs).
use std::rc::Rc;
use std::sync::Arc;

use threadpipe::prelude::*;

fn main() {
    let prefix = String::from("line ");
    let scale = 3u32;
    let offsets = Arc::new(vec![10u32, 20, 30]);
    let suffix = Rc::new(String::from("!"));
    let lines: Vec<String> = (0..3u32)
        .map(move |n| format!("{prefix}{}{suffix}", n * scale + offsets[n as usize]))
        .off_thread()
        .collect();
    println!("{lines:?}");
}
