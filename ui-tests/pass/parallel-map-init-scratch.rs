// The fix for parallel-map-refcell-scratch.rs: `init` makes a buffer for each
// thread that runs the closure, once, and the closure gets it mutably; no
// `RefCell`, no lock, no allocation per item.
use threadpipe::prelude::*;

fn main() {
    let lengths: Vec<usize> = ["Hello World", "thread PIPE"]
        .into_iter()
        .parallel_map_init(String::new, |buffer: &mut String, line| {
            buffer.clear();
            buffer.extend(line.chars().filter(|c| c.is_uppercase()));
            buffer.len()
        })
        .collect();
    assert_eq!(lengths, [2, 4]);
}
