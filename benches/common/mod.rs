//! What several benchmarks share: generated input files and busy work that
//! the optimiser cannot skip.
#![allow(dead_code, unreachable_pub)] // each bench binary uses a different part

pub mod handoff;
pub mod lines;

use std::fs::{self, File};
use std::hint::black_box;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

/// About `rounds` * 1 ns of dependent arithmetic the optimiser cannot skip.
pub fn spin(seed: u64, rounds: u32) -> u64 {
    let mut x = seed;
    for _ in 0..rounds {
        x = black_box(x.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(7));
    }
    x
}

/// A text file of about `megabytes` MB of English-like lines (words drawn
/// from a fixed vocabulary, skewed as real text is, 40 to 120 characters a
/// line), made once under `target/bench-data/` and reused: the same bytes
/// on every machine.
pub fn text_file(megabytes: usize) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    let path = dir.join(format!("lines-{megabytes}MB.txt"));
    if fs::metadata(&path).is_ok_and(|meta| meta.len() as usize >= megabytes * 1_000_000) {
        return path;
    }
    fs::create_dir_all(&dir).expect("create target/bench-data");
    let partial = path.with_extension("partial");
    let mut out = BufWriter::new(File::create(&partial).expect("create the bench file"));
    let vocabulary: Vec<String> = (0..5000u64).map(word).collect();
    let mut state = 0x2545_F491_4F6C_DD1D_u64;
    let mut next = move || {
        // xorshift64*: the same sequence everywhere.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let mut written = 0;
    while written < megabytes * 1_000_000 {
        let target = 40 + (next() % 81) as usize;
        let mut line = String::new();
        while line.len() < target {
            // Squaring a uniform draw favours the first words, as in text.
            let draw = (next() % 1_000_000) as f64 / 1_000_000.0;
            let rank = (draw * draw * vocabulary.len() as f64) as usize;
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(&vocabulary[rank]);
        }
        line.push('\n');
        out.write_all(line.as_bytes())
            .expect("write the bench file");
        written += line.len();
    }
    out.flush().expect("write the bench file");
    drop(out);
    fs::rename(&partial, &path).expect("finish the bench file");
    path
}

/// A pronounceable word for rank `n`: two to five syllables.
fn word(n: u64) -> String {
    const SYLLABLES: [&str; 16] = [
        "ka", "to", "ri", "en", "sa", "mu", "le", "po", "an", "di", "er", "go", "ni", "us", "ve",
        "th",
    ];
    let mut x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ n;
    let count = 2 + (x % 4) as usize;
    (0..count)
        .map(|_| {
            x = x.rotate_left(13).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            SYLLABLES[(x >> 60) as usize]
        })
        .collect()
}
