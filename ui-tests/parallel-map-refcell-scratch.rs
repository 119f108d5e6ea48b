// Every thread calls a `parallel_map` closure, so a `RefCell` scratch buffer
// it captures would be borrowed by several threads at once (a `Mutex` would
// make them take turns). Give each thread a buffer of its own with
// `parallel_map_init` (see pass/parallel-map-init-scratch.rs).
use std::cell::RefCell;

use threadpipe::prelude::*;

fn main() {
    let scratch = RefCell::new(String::new());
    let lengths: Vec<usize> = ["Hello World", "thread PIPE"]
        .into_iter()
        .parallel_map(move |line| {
            let mut buffer = scratch.borrow_mut();
            buffer.clear();
            buffer.extend(line.chars().filter(|c| c.is_uppercase()));
            buffer.len()
        })
        .collect();
    println!("{lengths:?}");
}
