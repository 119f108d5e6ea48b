//! The compressing chain, and the sequential decompression.
//!
//! ```text
//! Blocks::new(input, block size)        read: a block and the 32 KiB before it
//!   .parallel_map_init_with(options,    deflate each block and its CRC-32,
//!       compressor, compress_block)       on every core, in input order,
//!                                         with a compressor per thread
//!   -> for each: write, combine CRCs    here, on the calling thread
//! ```
//!
//! The window of the `parallel_map` stage is what bounds memory: at most
//! [`window`]`(threads)` blocks, two per thread and three more, are read
//! and not yet written,
//! whatever the input's size and however slow the output. The source runs
//! on the stage's threads too (as the crate's contract says, one blocked
//! in `read` on a pipe or a terminal is replaced while it waits).

use std::io::{self, Read, Write};
use std::num::NonZeroUsize;

use crc32fast::Hasher;
use flate2::read::MultiGzDecoder;
use indicatif::ProgressBar;
use threadpipe::ParallelMapOptions;
use threadpipe::prelude::*;

use crate::blocks::Blocks;
use crate::deflate::{buffer_size, compress_block, compressor, finish, header};
use crate::errors::{Error, Place};
use crate::recycle::Recycler;

/// How many blocks may be read and not yet written with `threads`
/// compressing: pigz's own limit on input buffers (`INBUFS(p)`, `2p + 3`).
/// Two per thread and no more was 3 to 4% slower at levels 6 and 9 on 2
/// threads; more bought nothing (README.md, "Choices").
pub(crate) fn window(threads: usize) -> usize {
    2 * threads + 3
}

/// How to compress.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) level: u32,
    pub(crate) block_size: usize,
    /// Threads that compress at once, this one included; `None`: one per
    /// core.
    pub(crate) threads: Option<NonZeroUsize>,
    /// Every stage inline, on the calling thread.
    pub(crate) single_threaded: bool,
}

/// What was done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Summary {
    pub(crate) input_bytes: u64,
    pub(crate) output_bytes: u64,
}

/// Compresses all of `input` into one gzip member written to `output`.
/// The places name the two in errors; `progress` counts input bytes.
pub(crate) fn compress(
    input: impl Read + Send + 'static,
    from: &Place,
    output: &mut dyn Write,
    to: &Place,
    settings: &Settings,
    progress: &ProgressBar,
) -> Result<Summary, Error> {
    let threads = settings
        .threads
        .or_else(|| std::thread::available_parallelism().ok())
        .map_or(1, NonZeroUsize::get);
    // The calling thread compresses a block whenever it would otherwise
    // wait for the next one in order (threadpipe's consumer helps), so the
    // stage gets one thread fewer than compress at once; one in all is the
    // single-threaded mode, as `pigz -p 1` starts no threads. `threads(n)`
    // for n threads at once was slower: n + 1 threads on n cores
    // (README.md, "Choices").
    let options = ParallelMapOptions::new()
        .name("deflate")
        .threads((threads - 1).max(1))
        .window(window(threads))
        .inline(settings.single_threaded || threads == 1);
    let level = settings.level;
    let source = from.clone();
    // Enough for every block the window lets exist, in and out, and one
    // more each for the source and the consumer.
    let buffers = Recycler::new(buffer_size(settings.block_size), 2 * window(threads) + 2);
    let returned = buffers.clone();
    let compressed = Blocks::new(input, settings.block_size, buffers.clone())
        .parallel_map_init_with(
            options,
            move || compressor(level),
            move |compress, block| {
                let block = block.map_err(|error| Error::io("read", &source, error))?;
                compress_block(compress, block, &returned)
            },
        );

    let write = |output: &mut dyn Write, bytes: &[u8]| {
        output
            .write_all(bytes)
            .map_err(|error| Error::io("write to", to, error))
    };
    let start = header(level);
    write(output, &start)?;
    let mut summary = Summary {
        input_bytes: 0,
        output_bytes: start.len() as u64,
    };
    let mut crc = Hasher::new();
    // An error returned from here drops the chain, which stops its threads
    // without waiting for them.
    for block in compressed {
        let block = block?;
        write(output, &block.deflate)?;
        crc.combine(&block.crc);
        summary.input_bytes += block.input_len as u64;
        summary.output_bytes += block.deflate.len() as u64;
        progress.inc(block.input_len as u64);
        buffers.give(block.deflate);
    }
    let end = finish(level, crc, summary.input_bytes)?;
    write(output, &end)?;
    summary.output_bytes += end.len() as u64;
    output
        .flush()
        .map_err(|error| Error::io("write to", to, error))?;
    Ok(summary)
}

/// Decompresses `input`, every gzip member of it in turn, to `output`.
pub(crate) fn decompress(
    input: impl Read,
    from: &Place,
    output: &mut dyn Write,
    to: &Place,
) -> Result<Summary, Error> {
    const BUFFER: usize = 128 * 1024;
    let mut counted = Counted {
        inner: input,
        bytes: 0,
    };
    let mut decoder = MultiGzDecoder::new(io::BufReader::with_capacity(BUFFER, &mut counted));
    let mut buffer = vec![0; BUFFER];
    let mut written = 0u64;
    loop {
        let read = match decoder.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(decode_error(from, error)),
        };
        output
            .write_all(&buffer[..read])
            .map_err(|error| Error::io("write to", to, error))?;
        written += read as u64;
    }
    output
        .flush()
        .map_err(|error| Error::io("write to", to, error))?;
    drop(decoder);
    Ok(Summary {
        input_bytes: counted.bytes,
        output_bytes: written,
    })
}

/// flate2 reports bad data as I/O errors of these kinds; any other is the
/// input's own.
fn decode_error(from: &Place, error: io::Error) -> Error {
    match error.kind() {
        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof => {
            Error::NotGzip {
                place: from.clone(),
                error,
            }
        }
        _ => Error::io("read", from, error),
    }
}

/// A reader that counts what it has read.
struct Counted<R> {
    inner: R,
    bytes: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buffer)?;
        self.bytes += read as u64;
        Ok(read)
    }
}
