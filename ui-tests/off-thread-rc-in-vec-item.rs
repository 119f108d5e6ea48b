// An item is `Send` only if everything inside it is: a `Vec` of `Rc`s cannot
// cross to the consumer's thread, and the error names the `Rc` inside. Use
// `Arc` (see pass/off-thread-arc-in-vec-item.rs).
use std::rc::Rc;

use threadpipe::prelude::*;

fn main() {
    let batches: Vec<Vec<Rc<u32>>> = (0..3u32).map(|n| vec![Rc::new(n)]).off_thread().collect();
    println!("{}", batches.len());
}
