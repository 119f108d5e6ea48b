//! One block's compression, and the gzip framing around the blocks.
//!
//! The layout is pigz's: a single gzip member whose deflate stream is the
//! blocks' deflate output laid end to end. Each block is compressed on its
//! own, primed with the 32 KiB of input before it as a preset dictionary
//! (so matches reach back across the cut: without it, output is 2% bigger
//! at level 6), and ends with a sync flush, which closes the
//! last deflate block and pads to a byte boundary, so the next block's
//! bytes can simply follow. An empty final block ends the stream. The
//! CRC-32 of the whole input is the blocks' CRCs combined, in order.
//!
//! The deflate library is flate2 on zlib-rs; `README.md` ("Choices") has
//! the measurements behind it, and behind mapping level 1 to zlib-rs's
//! level 2.

use crc32fast::Hasher;
use flate2::{Compress, Compression, FlushCompress, Status};

use crate::blocks::Block;
use crate::errors::Error;
use crate::recycle::Recycler;

/// One block, compressed.
#[derive(Debug)]
pub(crate) struct Compressed {
    /// Raw deflate data, ending on a byte boundary (sync-flushed).
    pub(crate) deflate: Vec<u8>,
    /// The CRC-32 of the block's input, with its length.
    pub(crate) crc: Hasher,
    pub(crate) input_len: usize,
}

/// The zlib-rs level that gives pzip's `level`. zlib-rs's level 1 is
/// zlib-ng's "quick" strategy: fast, but 22% bigger output than zlib's
/// level 1 (and pigz's) on the benchmark corpus; its level 2 is still
/// faster than zlib's level 1, and 4% smaller.
pub(crate) fn backend_level(level: u32) -> Compression {
    Compression::new(if level == 1 { 2 } else { level })
}

/// A raw deflate compressor (no zlib header) at pzip's `level`: one per
/// thread, reset for each block.
///
/// One per block instead made the output the same bytes whoever
/// compressed each block, but cost 10 MB more memory at 2 threads (16 MB
/// peak against 6: memory glibc's allocator kept after the compressors,
/// some 300 KB each, were freed), and bought no speed. Kept and reset,
/// though, a compressor remembers: zlib-rs 0.6's reset clears the hash
/// heads but neither the window nor the match chains, and what is left of
/// the previous block can change which match is taken. The stream is as
/// valid and as small (a few bytes apart in 50 MB), and decompresses to
/// the same input, but its bytes depend on which thread compressed which
/// block before.
pub(crate) fn compressor(level: u32) -> Compress {
    Compress::new(backend_level(level), false)
}

/// Compresses `block` with `compress`, primed with the block's dictionary.
/// The output goes into a buffer from `buffers`, to which the input's
/// buffer is handed back.
pub(crate) fn compress_block(
    compress: &mut Compress,
    block: Block,
    buffers: &Recycler,
) -> Result<Compressed, Error> {
    compress.reset();
    if !block.dictionary.is_empty() {
        compress
            .set_dictionary(&block.dictionary)
            .map_err(|error| Error::Deflate(error.to_string()))?;
    }
    let mut deflate = buffers.take();
    deflate.reserve(buffer_size(block.data.len()));
    run(compress, &block.data, &mut deflate, FlushCompress::Sync)?;
    let mut crc = Hasher::new();
    crc.update(&block.data);
    let input_len = block.data.len();
    buffers.give(block.data);
    Ok(Compressed {
        deflate,
        crc,
        input_len,
    })
}

/// A buffer big enough for a block of `block_size` bytes, or for its
/// deflate output even if incompressible (stored blocks cost 5 bytes per
/// 64 KiB, the sync flush 5 more), so [`run`] never has to grow it.
pub(crate) fn buffer_size(block_size: usize) -> usize {
    block_size + block_size / 1024 + 64
}

/// Feeds all of `input` to `compress` and flushes, growing `out` as needed.
fn run(
    compress: &mut Compress,
    input: &[u8],
    out: &mut Vec<u8>,
    flush: FlushCompress,
) -> Result<(), Error> {
    let start = compress.total_in();
    loop {
        let consumed = (compress.total_in() - start) as usize;
        let status = compress
            .compress_vec(&input[consumed..], out, flush)
            .map_err(|error| Error::Deflate(error.to_string()))?;
        let all_in = (compress.total_in() - start) as usize == input.len();
        // zlib's rule: a flush is complete when it left room in the output.
        if status == Status::StreamEnd || (all_in && out.len() < out.capacity()) {
            return Ok(());
        }
        out.reserve(out.capacity().max(64));
    }
}

/// The gzip header: no name, no time stamp (as `gzip -n`), the level hint
/// gzip itself writes, and "Unix" as the system. Ten fixed bytes; flate2
/// writes headers only in front of its own encoders.
pub(crate) fn header(level: u32) -> [u8; 10] {
    let extra_flags = match level {
        9 => 2, // slowest, smallest
        1 => 4, // fastest
        _ => 0,
    };
    [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, extra_flags, 3]
}

/// What ends the stream after the last block: an empty final deflate
/// block (made by the library, not written by hand), then the gzip
/// trailer: the CRC-32 and the length modulo 2^32, little-endian.
pub(crate) fn finish(level: u32, crc: Hasher, input_len: u64) -> Result<Vec<u8>, Error> {
    let mut end = Vec::with_capacity(64);
    run(&mut compressor(level), &[], &mut end, FlushCompress::Finish)?;
    end.extend_from_slice(&crc.finalize().to_le_bytes());
    end.extend_from_slice(&(input_len as u32).to_le_bytes());
    Ok(end)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use flate2::read::GzDecoder;

    use super::*;
    use crate::blocks::Blocks;

    /// The whole stream, on this thread.
    fn gzip(input: &[u8], block_size: usize, level: u32) -> Vec<u8> {
        let buffers = Recycler::new(buffer_size(block_size), 2);
        let mut compress = compressor(level);
        let mut out = header(level).to_vec();
        let mut crc = Hasher::new();
        for block in Blocks::new(input, block_size, buffers.clone()) {
            let compressed = compress_block(&mut compress, block.unwrap(), &buffers).unwrap();
            out.extend_from_slice(&compressed.deflate);
            crc.combine(&compressed.crc);
        }
        out.extend(finish(level, crc, input.len() as u64).unwrap());
        out
    }

    fn gunzip(stream: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        GzDecoder::new(stream).read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn blocks_make_one_valid_member() {
        let text: Vec<u8> = b"the quick brown fox jumps over the lazy dog; "
            .iter()
            .cycle()
            .take(300_000)
            .copied()
            .collect();
        for level in [1, 6, 9] {
            for block_size in [1, 4096, 128 * 1024, 1 << 20] {
                let input = &text[..if block_size == 1 { 3000 } else { text.len() }];
                let stream = gzip(input, block_size, level);
                assert_eq!(
                    gunzip(&stream),
                    input,
                    "level {level}, blocks of {block_size}"
                );
            }
        }
    }

    #[test]
    fn the_dictionary_carries_matches_across_blocks() {
        // Random-looking 20 KB repeated: a primed block is all matches into
        // what came before it; unprimed, each of the 7 blocks would spend
        // some 20 KB on its first 20 KB, over 140 KB in all.
        let mut state = 0x9e37_79b9_u32;
        let unit: Vec<u8> = (0..20_000)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 24) as u8
            })
            .collect();
        let input = unit.repeat(20);
        let stream = gzip(&input, 64 * 1024, 6);
        assert!(stream.len() < 40_000, "{} bytes", stream.len());
        assert_eq!(gunzip(&stream), input);
    }

    #[test]
    fn empty_input_is_a_valid_stream() {
        let stream = gzip(&[], 1024, 6);
        assert_eq!(stream.len(), 10 + 2 + 8);
        assert!(gunzip(&stream).is_empty());
    }
}
