// A closure that captures an `Rc` cannot move to a worker thread either: the
// closure carries the `Rc` with it. Capture an `Arc` instead
// (see pass/off-thread-arc-captured.rs).
use std::rc::Rc;

use threadpipe::prelude::*;

fn main() {
    let offset = Rc::new(10);
    let shifted: Vec<i32> = (0..3).map(move |n| n + *offset).off_thread().collect();
    println!("{shifted:?}");
}
