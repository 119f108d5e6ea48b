// An `Rc` cannot cross to a worker thread: two threads could change its
// non-atomic reference count at once. Use `Arc` (see pass/off-thread-arc-item.rs).
use std::rc::Rc;

use threadpipe::prelude::*;

fn main() {
    let shared: Vec<Rc<u32>> = (0..3).map(Rc::new).off_thread().collect();
    println!("{}", shared.len());
}
