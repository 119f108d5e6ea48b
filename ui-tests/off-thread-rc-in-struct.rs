// A capture is `Send` only if everything inside it is: a struct that holds an
// `Rc` cannot move to a worker, and the error names the `Rc` and the struct.
// Hold an `Arc` in the struct (see pass/off-thread-arc-in-struct.rs).
use std::rc::Rc;

use threadpipe::prelude::*;

struct Settings {
    name: String,
    tags: Rc<Vec<String>>,
}

fn main() {
    let settings = Settings { name: "pipe".to_owned(), tags: Rc::new(vec!["fast".to_owned()]) };
    let sizes: Vec<usize> = (0..3usize)
        .map(move |n| n + settings.name.len() + settings.tags.len())
        .off_thread()
        .collect();
    println!("{sizes:?}");
}
