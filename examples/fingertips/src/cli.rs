//! The command line, declared with clap: what the user asked for, or a
//! message naming the argument that is wrong (clap exits with status 2,
//! as grep does on errors).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::pipeline::DEFAULT_MAX_MEMORY_MB;

/// Where the index is when no `--out` or `--index` says otherwise.
pub(crate) const DEFAULT_INDEX: &str = "fingertips-index";

/// Builds an inverted index of a tree of text files, then finds the files
/// that contain given words. With no command, indexes threadpipe's own
/// sources in a temporary directory and searches them for "thread".
///
/// Exit status: 0 found or indexed, 1 nothing found, 2 error (unreadable
/// or non-UTF-8 files are reported and skipped, and count as errors).
#[derive(Debug, Parser)]
#[command(name = "fingertips", version)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
}

/// What the user asked for.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Index every file under PATH... into an index directory.
    Index {
        /// The index directory; replaced whole once the new index is complete.
        #[arg(long, value_name = "DIR", default_value = DEFAULT_INDEX)]
        out: PathBuf,
        /// Run every stage on this thread (writes the same index).
        #[arg(long)]
        single_threaded: bool,
        /// Memory for in-memory indexes: up to three exist at once, so each
        /// is written to a temporary file at a third of it, and the files
        /// are merged at the end.
        #[arg(long, value_name = "MB", default_value_t = DEFAULT_MAX_MEMORY_MB,
              value_parser = clap::value_parser!(u32).range(1..))]
        max_memory: u32,
        /// Print which stage limited the run (threaded mode).
        #[arg(long)]
        profile: bool,
        /// Files and directories to index.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// Print the files that hold every WORD, most hits first.
    Search {
        /// The index directory.
        #[arg(long, value_name = "DIR", default_value = DEFAULT_INDEX)]
        index: PathBuf,
        /// The words to look for (letters and digits; case does not matter).
        #[arg(required = true, value_name = "WORD")]
        words: Vec<String>,
    },
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, String> {
        Cli::try_parse_from(std::iter::once("fingertips").chain(args.iter().copied()))
            .map_err(|error| error.to_string())
    }

    #[test]
    fn the_declaration_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn usage_errors_name_the_argument() {
        let fails = |args: &[&str], needle: &str| match parse(args) {
            Err(message) => assert!(message.contains(needle), "{message:?} lacks {needle:?}"),
            Ok(_) => panic!("{args:?} was accepted"),
        };
        fails(&["index", "--bogus", "dir"], "--bogus");
        fails(&["index"], "PATH");
        fails(&["index", "--max-memory", "lots", "dir"], "lots");
        fails(&["index", "--max-memory", "0", "dir"], "0");
        fails(&["index", "dir", "--out"], "--out");
        fails(&["search", "--index", "dir"], "WORD");
        fails(&["search", "-x", "word"], "-x");
        fails(&["frobnicate"], "frobnicate");
    }

    #[test]
    fn valid_commands_are_understood() {
        assert!(parse(&[]).unwrap().command.is_none());
        let cli = parse(&[
            "index",
            "--single-threaded",
            "--max-memory",
            "8",
            "--",
            "-dir",
        ])
        .unwrap();
        match cli.command {
            Some(Command::Index {
                paths,
                single_threaded,
                max_memory,
                out,
                profile,
            }) => {
                assert_eq!(paths, [PathBuf::from("-dir")]);
                assert_eq!((single_threaded, max_memory, profile), (true, 8, false));
                assert_eq!(out, PathBuf::from(DEFAULT_INDEX));
            }
            other => panic!("{other:?}"),
        }
        match parse(&["search", "Hello,", "WORLD"]).unwrap().command {
            Some(Command::Search { words, .. }) => assert_eq!(words, ["Hello,", "WORLD"]),
            other => panic!("{other:?}"),
        }
    }
}
