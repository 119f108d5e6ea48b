// The fix for off-thread-rc-among-captures.rs: with the one `Rc` made an
// `Arc`, all four captures may travel with the closure.
use std::sync::Arc;

use threadpipe::prelude::*;

fn main() {
    let prefix = String::from("line ");
    let scale = 3u32;
    let offsets = Arc::new(vec![10u32, 20, 30]);
    let suffix = Arc::new(String::from("!"));
    let lines: Vec<String> = (0..3u32)
        .map(move |n| format!("{prefix}{}{suffix}", n * scale + offsets[n as usize]))
        .off_thread()
        .collect();
    assert_eq!(lines, ["line 10!", "line 23!", "line 36!"]);
}
