// A worker thread may outlive the function that started it, so its source
// cannot borrow a local. Move the data in, or use `off_thread_scoped`
// (see pass/off-thread-scoped-borrow.rs).
use threadpipe::prelude::*;

fn total_length(words: &[String]) -> usize {
    words.iter().map(String::len).off_thread().sum()
}

fn main() {
    println!("{}", total_length(&["pipe".to_owned()]));
}
