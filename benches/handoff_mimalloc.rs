//! The heap-item groups of `benches/handoff.rs` again, with mimalloc as the
//! global allocator instead of the system's: how much of what fresh heap
//! items cost crossing threads is the allocator's (see benches/README.md).

mod common;

use criterion::{Criterion, criterion_group, criterion_main};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn benches(c: &mut Criterion) {
    common::handoff::heap_items(c, "handoff_mimalloc");
}

criterion_group!(handoff_mimalloc_benches, benches);
criterion_main!(handoff_mimalloc_benches);
