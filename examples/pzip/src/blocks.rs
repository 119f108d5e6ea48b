//! The source of the chain: an input cut into blocks, each carrying the
//! 32 KiB of input that came before it, so that it can be compressed on
//! any thread as if the compressor had just read those 32 KiB.

use std::io::{self, Read};

use crate::recycle::Recycler;

/// How far back deflate can refer: every block is primed with this much of
/// the input before it (less at the start).
pub(crate) const DICTIONARY_BYTES: usize = 32 * 1024;

/// One block of input, and the input right before it.
#[derive(Debug)]
pub(crate) struct Block {
    pub(crate) data: Vec<u8>,
    pub(crate) dictionary: Vec<u8>,
}

/// The blocks of `reader`, `size` bytes each but the last; the stream
/// ends after the first read error, which it yields.
///
/// A block is yielded as soon as it is full or the input ends: nothing is
/// read ahead to learn whether a block is the last (the stream is ended by
/// an empty block instead, see `deflate::finish`), so a block typed on a
/// terminal or written to a pipe is compressed at once.
#[derive(Debug)]
pub(crate) struct Blocks<R> {
    reader: R,
    size: usize,
    buffers: Recycler,
    /// The last [`DICTIONARY_BYTES`] of input read so far.
    window: Vec<u8>,
    done: bool,
}

impl<R: Read> Blocks<R> {
    /// Blocks of `size` bytes, read into buffers from `buffers`.
    pub(crate) fn new(reader: R, size: usize, buffers: Recycler) -> Self {
        assert!(size > 0, "blocks must hold at least one byte");
        Blocks {
            reader,
            size,
            buffers,
            window: Vec::with_capacity(DICTIONARY_BYTES),
            done: false,
        }
    }

    /// Keeps the last [`DICTIONARY_BYTES`] of the input in `window`,
    /// whatever the block size.
    fn remember(&mut self, data: &[u8]) {
        if data.len() >= DICTIONARY_BYTES {
            self.window.clear();
            self.window
                .extend_from_slice(&data[data.len() - DICTIONARY_BYTES..]);
        } else {
            self.window.extend_from_slice(data);
            let excess = self.window.len().saturating_sub(DICTIONARY_BYTES);
            self.window.drain(..excess);
        }
    }
}

impl<R: Read> Iterator for Blocks<R> {
    type Item = io::Result<Block>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut data = self.buffers.take();
        // `take` + `read_to_end` retries interrupted reads and stops at the
        // block's end without growing the buffer.
        match (&mut self.reader)
            .take(self.size as u64)
            .read_to_end(&mut data)
        {
            Err(error) => {
                self.done = true;
                Some(Err(error))
            }
            Ok(0) => {
                self.done = true;
                None
            }
            Ok(read) => {
                // A short block means the input has ended: reading again
                // would wait for a second end-of-file on a terminal.
                self.done = read < self.size;
                let dictionary = self.window.clone();
                self.remember(&data);
                Some(Ok(Block { data, dictionary }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks(input: &[u8], size: usize) -> Vec<Block> {
        Blocks::new(input, size, Recycler::new(size, 1))
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn cuts_the_input_into_blocks_of_the_size() {
        let input: Vec<u8> = (0..10u8).collect();
        let sizes: Vec<usize> = blocks(&input, 4).iter().map(|b| b.data.len()).collect();
        assert_eq!(sizes, [4, 4, 2]);
        assert_eq!(blocks(&input, 5).len(), 2);
        assert!(blocks(&[], 5).is_empty());
    }

    #[test]
    fn each_block_carries_the_32_kib_before_it() {
        let input: Vec<u8> = (0..100_000u32).map(|n| (n * 7 % 251) as u8).collect();
        for size in [1000, DICTIONARY_BYTES, 40_000] {
            let mut start = 0usize;
            for block in blocks(&input, size) {
                let from = start.saturating_sub(DICTIONARY_BYTES);
                assert_eq!(block.dictionary, input[from..start], "block size {size}");
                assert_eq!(block.data, input[start..start + block.data.len()]);
                start += block.data.len();
            }
            assert_eq!(start, input.len());
        }
    }

    #[test]
    fn a_read_error_ends_the_stream() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("disk on fire"))
            }
        }
        let mut source = Blocks::new(Failing, 8, Recycler::new(8, 1));
        assert!(source.next().unwrap().is_err());
        assert!(source.next().is_none());
    }
}
