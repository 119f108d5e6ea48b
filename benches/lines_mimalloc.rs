//! The light lines group of `benches/lines.rs` again, with mimalloc as the
//! global allocator instead of the system's: how much of what the README's
//! chain costs on light work is the allocator's, since every line is a
//! `String` made on one thread and freed on another. (Heavy work hides it.)

mod common;

use criterion::{Criterion, criterion_group, criterion_main};

use common::lines::{light, run_all};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn benches(c: &mut Criterion) {
    let path = common::text_file(50);
    run_all(c, "lines_mimalloc/light", &path, light);
}

criterion_group!(lines_mimalloc_benches, benches);
criterion_main!(lines_mimalloc_benches);
