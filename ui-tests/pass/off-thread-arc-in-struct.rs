// The fix for off-thread-rc-in-struct.rs: with an `Arc` inside, the struct is
// `Send`, and so is the closure that captures it.
use std::sync::Arc;

use threadpipe::prelude::*;

struct Settings {
    name: String,
    tags: Arc<Vec<String>>,
}

fn main() {
    let settings = Settings { name: "pipe".to_owned(), tags: Arc::new(vec!["fast".to_owned()]) };
    let sizes: Vec<usize> = (0..3usize)
        .map(move |n| n + settings.name.len() + settings.tags.len())
        .off_thread()
        .collect();
    assert_eq!(sizes, [5, 6, 7]);
}
