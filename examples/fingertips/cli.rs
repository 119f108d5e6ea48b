//! The command line: what the user asked for, as a [`Command`], or a
//! message naming the argument that is wrong.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

use threadpipe::Profile;

use crate::pipeline::{DEFAULT_MAX_MEMORY_MB, IndexConfig, Mode};
use crate::tokenize;

/// Where the index is when no `--out` or `--index` says otherwise.
const DEFAULT_INDEX: &str = "fingertips-index";

/// What the user asked for.
pub(crate) enum Command {
    /// No arguments: index this crate's sources and run a sample search.
    Demo,
    Help,
    Index(IndexConfig),
    Search {
        index: PathBuf,
        terms: Vec<String>,
    },
}

/// The help text, for `help` and after a usage error.
pub(crate) fn usage() -> String {
    format!(
        "\
usage:
  fingertips                 index this crate's sources in a temporary directory, search \"thread\"
  fingertips index [--out DIR] [--single-threaded] [--max-memory MB] [--profile] PATH...
  fingertips search [--index DIR] WORD...

options:
  --out DIR, --index DIR   the index directory (default: ./{DEFAULT_INDEX})
  --single-threaded        run every stage on one thread (writes the same index)
  --max-memory MB          memory for in-memory indexes (default: {DEFAULT_MAX_MEMORY_MB}); up to three
                           exist at once, so each is written to a temporary file
                           at a third of it, and the files are merged at the end
  --profile                print which stage limited the run (threaded mode)

exit status: 0 found or indexed, 1 nothing found, 2 error"
    )
}

/// Parses the arguments that follow the program's name.
pub(crate) fn parse(args: Vec<OsString>) -> Result<Command, String> {
    let mut args = args.into_iter();
    let Some(command) = args.next() else {
        return Ok(Command::Demo);
    };
    match command.to_str() {
        Some("index") => parse_index(args),
        Some("search") => parse_search(args),
        Some("help" | "--help" | "-h") => Ok(Command::Help),
        _ => Err(format!("unknown command `{}`", command.display())),
    }
}

fn parse_index(mut args: impl Iterator<Item = OsString>) -> Result<Command, String> {
    let mut config = IndexConfig::new(Vec::new(), PathBuf::from(DEFAULT_INDEX));
    let mut options_ended = false;
    while let Some(arg) = args.next() {
        if options_ended || !is_option(&arg) {
            config.roots.push(PathBuf::from(arg));
            continue;
        }
        match arg.to_str() {
            Some("--") => options_ended = true,
            Some("--out") => config.out = option_value(&mut args, "--out")?.into(),
            Some("--single-threaded") => config.mode = Mode::SingleThreaded,
            Some("--profile") => config.profile = Some(Profile::new()),
            Some("--max-memory") => {
                let value = option_value(&mut args, "--max-memory")?;
                config.max_memory = value
                    .to_str()
                    .and_then(|text| text.parse::<usize>().ok())
                    .filter(|&megabytes| megabytes > 0)
                    .and_then(|megabytes| megabytes.checked_mul(1 << 20))
                    .ok_or_else(|| {
                        let value = value.display();
                        format!("--max-memory: `{value}` is not a number of megabytes (1 or more)")
                    })?;
            }
            _ => return Err(format!("index: unknown option `{}`", arg.display())),
        }
    }
    if config.roots.is_empty() {
        return Err("index: no PATH to index".to_owned());
    }
    Ok(Command::Index(config))
}

fn parse_search(mut args: impl Iterator<Item = OsString>) -> Result<Command, String> {
    let mut index = PathBuf::from(DEFAULT_INDEX);
    let mut terms = Vec::new();
    let mut options_ended = false;
    while let Some(arg) = args.next() {
        if options_ended || !is_option(&arg) {
            let word = arg
                .to_str()
                .ok_or_else(|| format!("search: `{}` is not UTF-8", arg.display()))?;
            terms.extend(tokenize::words(word));
            continue;
        }
        match arg.to_str() {
            Some("--") => options_ended = true,
            Some("--index") => index = option_value(&mut args, "--index")?.into(),
            _ => return Err(format!("search: unknown option `{}`", arg.display())),
        }
    }
    if terms.is_empty() {
        return Err("search: no WORD to search for (words are letters and digits)".to_owned());
    }
    Ok(Command::Search { index, terms })
}

fn is_option(arg: &OsStr) -> bool {
    arg.len() > 1 && arg.as_encoded_bytes().starts_with(b"-")
}

fn option_value(
    args: &mut impl Iterator<Item = OsString>,
    option: &str,
) -> Result<OsString, String> {
    args.next().ok_or_else(|| format!("{option} needs a value"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_errors_name_the_argument() {
        let args = |list: &[&str]| list.iter().map(Into::into).collect();
        let fails = |list: &[&str], needle: &str| match parse(args(list)) {
            Err(message) => assert!(message.contains(needle), "{message:?} lacks {needle:?}"),
            Ok(_) => panic!("{list:?} was accepted"),
        };
        fails(&["index", "--bogus", "dir"], "--bogus");
        fails(&["index"], "PATH");
        fails(&["index", "--max-memory", "lots", "dir"], "lots");
        fails(&["index", "--max-memory", "0", "dir"], "0");
        fails(&["index", "dir", "--out"], "--out");
        fails(&["search", "--index", "dir"], "WORD");
        fails(&["search", "...", "!!"], "WORD");
        fails(&["search", "-x", "word"], "-x");
        fails(&["frobnicate"], "frobnicate");
        assert!(matches!(parse(args(&[])), Ok(Command::Demo)));
        match parse(args(&[
            "index",
            "--single-threaded",
            "--max-memory",
            "8",
            "--",
            "-dir",
        ])) {
            Ok(Command::Index(config)) => {
                assert_eq!(config.roots, [PathBuf::from("-dir")]);
                assert_eq!(
                    (config.mode, config.max_memory),
                    (Mode::SingleThreaded, 8 << 20)
                );
            }
            _ => panic!("a valid index command was refused"),
        }
        match parse(args(&["search", "Hello,", "WORLD"])) {
            Ok(Command::Search { terms, .. }) => assert_eq!(terms, ["hello", "world"]),
            _ => panic!("a valid search command was refused"),
        }
    }
}
