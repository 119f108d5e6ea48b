//! The command line, declared with clap: what the user asked for, or a
//! message naming the argument that is wrong. clap exits with status 2 on
//! usage errors, which keeps them apart from failures of the work itself
//! (status 1). The short options are pigz's.

use std::num::NonZeroUsize;
use std::path::PathBuf;

use clap::Parser;

/// Block size in KiB when `-b` is not given: pigz's default.
pub(crate) const DEFAULT_BLOCK_KIB: u32 = 128;
/// Compression level when `-l` is not given: gzip's and pigz's default.
pub(crate) const DEFAULT_LEVEL: u32 = 6;

/// Compresses FILE (or standard input) to gzip on every core, in blocks,
/// as pigz does: one gzip member that `gzip -d` reads as usual. With `-d`,
/// decompresses instead (on one thread).
///
/// Writes to standard output unless `-o` names a file, which then appears
/// only once complete. Exit status: 0 done, 1 failed, 2 usage error.
#[derive(Debug, Parser)]
#[command(name = "pzip", version)]
pub(crate) struct Cli {
    /// The file to read; standard input if absent or `-`.
    #[arg(value_name = "FILE")]
    pub(crate) input: Option<PathBuf>,
    /// Write to OUT instead of standard output (replaced only on success).
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    pub(crate) output: Option<PathBuf>,
    /// Decompress instead (any gzip stream, members concatenated or not).
    #[arg(short = 'd', long = "decompress")]
    pub(crate) decompress: bool,
    /// Threads that compress at once, this one included (default: one per
    /// core); 1 is --single-threaded.
    #[arg(short = 'p', long = "processes", value_name = "N")]
    pub(crate) threads: Option<NonZeroUsize>,
    /// Block size in KiB: each is compressed on its own, primed with the
    /// 32 KiB before it.
    #[arg(short = 'b', long = "blocksize", value_name = "KiB", default_value_t = DEFAULT_BLOCK_KIB,
          value_parser = clap::value_parser!(u32).range(1..=65536))]
    pub(crate) block_kib: u32,
    /// Compression level, 1 (fastest) to 9 (smallest).
    #[arg(short = 'l', long = "level", value_name = "LEVEL", default_value_t = DEFAULT_LEVEL,
          value_parser = clap::value_parser!(u32).range(1..=9))]
    pub(crate) level: u32,
    /// Run the very same chain with every stage on this thread.
    #[arg(long)]
    pub(crate) single_threaded: bool,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, String> {
        Cli::try_parse_from(std::iter::once("pzip").chain(args.iter().copied()))
            .map_err(|error| error.to_string())
    }

    #[test]
    fn the_declaration_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn defaults_are_pigz_defaults() {
        let cli = parse(&[]).unwrap();
        assert_eq!((cli.block_kib, cli.level), (128, 6));
        assert!(cli.input.is_none() && cli.output.is_none() && cli.threads.is_none());
        assert!(!cli.decompress && !cli.single_threaded);
    }

    #[test]
    fn options_are_understood() {
        let cli = parse(&["-p", "3", "-b", "64", "-l", "9", "-o", "out.gz", "in"]).unwrap();
        assert_eq!(cli.threads.map(NonZeroUsize::get), Some(3));
        assert_eq!((cli.block_kib, cli.level), (64, 9));
        assert_eq!(cli.output, Some(PathBuf::from("out.gz")));
        assert_eq!(cli.input, Some(PathBuf::from("in")));
        assert!(parse(&["-d", "--single-threaded"]).unwrap().decompress);
    }

    #[test]
    fn usage_errors_name_the_argument() {
        let fails = |args: &[&str], needle: &str| match parse(args) {
            Err(message) => assert!(message.contains(needle), "{message:?} lacks {needle:?}"),
            Ok(_) => panic!("{args:?} was accepted"),
        };
        fails(&["-l", "0"], "0");
        fails(&["-l", "10"], "10");
        fails(&["-p", "0"], "0");
        fails(&["-b", "0"], "0");
        fails(&["-b", "lots"], "lots");
        fails(&["--bogus"], "--bogus");
        fails(&["a", "b"], "b");
    }
}
