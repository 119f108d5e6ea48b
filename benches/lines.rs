//! The README's chain on the lines of a real file: threadpipe's two shapes
//! next to rayon's, in one run.
//!
//! Every variant reads a 50 MB text file (made once, see `common`) line by
//! line and sums `work(line)` over its lines:
//! - `sequential`: `lines.map(work).sum()` on one thread, the baseline;
//! - `threadpipe_off_thread_parallel_map`: `lines.off_thread().parallel_map(work).sum()`,
//!   the README's shape (reading on its own thread), and the same with a
//!   window of 64 instead of the default;
//! - `threadpipe_parallel_map`: `lines.parallel_map(work).sum()`;
//! - `rayon_par_bridge`: `lines.par_bridge().map(work).sum()` (unordered);
//! - `rayon_collect_par_iter`: every line collected into a `Vec` first (the
//!   whole file in memory), then `par_iter().map(work).sum()`.
//!
//! Two kinds of work per line: `light` counts its words (well under a
//! microsecond), `heavy` hashes every word 36 times (a few
//! microseconds). The same runs with mimalloc as the global allocator in
//! `benches/lines_mimalloc.rs`. See benches/README.md for the figures.

mod common;

use criterion::{Criterion, criterion_group, criterion_main};

use common::lines::{heavy, light, run_all};

fn benches(c: &mut Criterion) {
    let path = common::text_file(50);
    run_all(c, "lines/light", &path, light);
    run_all(c, "lines/heavy", &path, heavy);
}

criterion_group!(lines_benches, benches);
criterion_main!(lines_benches);
