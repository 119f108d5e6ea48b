//! pzip: parallel gzip, written as one threadpipe iterator chain.
//!
//! pigz, the classic parallel gzip, is C with hand-built threads: a reader,
//! compressing threads, a writer that puts blocks back in order, and a pool
//! of input buffers, two per thread and three more. Here the same pipeline is one
//! chain (`pipeline.rs`):
//!
//! ```text
//! Blocks::new(input, 128 KiB)           read a block, and the 32 KiB before it
//!   .parallel_map_init_with(..)         deflate it, and its CRC-32: every core, in order,
//!                                         at most 2 blocks per thread + 3 in flight
//!   -> for each block: write it         here: header, blocks, end, CRCs combined
//! ```
//!
//! The output is one gzip member laid out as pigz lays it out (blocks
//! primed with the input before them, sync-flushed, CRCs combined:
//! `deflate.rs` tells why), so `gzip -d` and every other reader take it.
//! `--single-threaded` runs the very same chain with the stage inline
//! (threadpipe's `inline` option): the same stream but for a few bytes
//! (`deflate::compressor` tells why). `-d`
//! decompresses, on one thread, with flate2's `MultiGzDecoder`.
//!
//! Around the chain, the crates its readers know: clap for the command
//! line, flate2 on zlib-rs for deflate, crc32fast for the CRCs and their
//! combination, indicatif for the progress bar (drawn only when standard
//! error is a terminal and the input's size is known), tempfile for the
//! `-o` file, which appears only once complete.
//!
//! ```text
//! cargo run --release -p pzip -- [-p N] [-b KiB] [-l 1..9] [--single-threaded] [-o OUT] [FILE]
//! cargo run --release -p pzip -- -d [-o OUT] [FILE]
//! ```
//!
//! Exit status: 0 done, 1 failed (one line on standard error naming the
//! file and what failed), 2 usage error. A reader that stops early
//! (`pzip big | head -c 10`) ends pzip quietly, with status 0.
//! `README.md` has the benchmark against pigz and crabz.

mod blocks;
mod cli;
mod deflate;
mod errors;
mod output;
mod pipeline;
mod recycle;

use std::fs::File;
use std::io::{self, IsTerminal, Read};
use std::path::Path;
use std::process::ExitCode;

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::Cli;
use crate::errors::{Error, Place};
use crate::output::Output;
use crate::pipeline::Settings;

fn main() -> ExitCode {
    match run(&Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader has what it wanted; nothing to report.
        Err(error) if error.is_broken_pipe() => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("pzip: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> Result<(), Error> {
    let Input {
        reader: input,
        place: from,
        size,
    } = open_input(cli.input.as_deref())?;
    let mut output = match &cli.output {
        Some(path) => Output::file(path)?,
        None => Output::stdout()?,
    };
    let to = output.place();
    if cli.decompress {
        pipeline::decompress(input, &from, output.writer(), &to)?;
    } else {
        let settings = Settings {
            level: cli.level,
            block_size: cli.block_kib as usize * 1024,
            threads: cli.threads,
            single_threaded: cli.single_threaded,
        };
        let progress = progress_bar(size);
        pipeline::compress(input, &from, output.writer(), &to, &settings, &progress)?;
        progress.finish_and_clear();
    }
    output.finish()
}

/// The input, its name for messages, and its size if it is a regular file.
struct Input {
    reader: Box<dyn Read + Send>,
    place: Place,
    size: Option<u64>,
}

fn open_input(path: Option<&Path>) -> Result<Input, Error> {
    let stdin = || Input {
        reader: Box::new(io::stdin()),
        place: Place::Stdin,
        size: None,
    };
    match path {
        None => Ok(stdin()),
        Some(path) if path.as_os_str() == "-" => Ok(stdin()),
        Some(path) => {
            let place = Place::file(path);
            let file = File::open(path).map_err(|error| Error::io("open", &place, error))?;
            let size = file
                .metadata()
                .ok()
                .filter(|metadata| metadata.is_file())
                .map(|metadata| metadata.len());
            Ok(Input {
                reader: Box::new(file),
                place,
                size,
            })
        }
    }
}

/// A bar on standard error when it is a terminal and the size is known;
/// a hidden one, which costs nothing, otherwise.
fn progress_bar(size: Option<u64>) -> ProgressBar {
    match size {
        Some(size) if io::stderr().is_terminal() => {
            let bar = ProgressBar::new(size);
            if let Ok(style) = ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {binary_bytes_per_sec} {eta}",
            ) {
                bar.set_style(style);
            }
            bar
        }
        _ => ProgressBar::hidden(),
    }
}
