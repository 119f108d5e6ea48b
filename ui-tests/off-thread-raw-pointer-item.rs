// Raw pointers are not `Send`: the compiler cannot know what they point to or
// who else uses it. Send owned data (or an index) instead
// (see pass/off-thread-owned-item.rs).
use threadpipe::prelude::*;

fn main() {
    let addresses: Vec<*const u8> = (0..3usize).map(|n| n as *const u8).off_thread().collect();
    println!("{}", addresses.len());
}
