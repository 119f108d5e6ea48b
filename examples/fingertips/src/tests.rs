//! End-to-end tests on small corpora made on the spot: what `search` finds
//! is what a brute-force scan of the texts finds, and the index is the same
//! bytes however it was built (threads or not, flushed and merged or not).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use crate::document::read_document;
use crate::errors::{Fatal, FileError, Reporter};
use crate::execution::{Mode, Pieces};
use crate::files::path_order;
use crate::format::DOCUMENTS_FILE;
use crate::pipeline::{IndexConfig, IndexSummary, build_index};
use crate::search::{Hit, search};
use crate::staging::unique_suffix;
use crate::tokenize::{reference_words, words};

/// A fresh directory, removed with its contents when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("fingertips-test-{}", unique_suffix()));
        fs::create_dir_all(&dir).expect("create a scratch directory");
        Scratch(dir)
    }

    fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("create a test directory");
        }
        fs::write(&path, contents).expect("write a test file");
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Non-ASCII text, punctuation, repeated words, an empty file, a file that is
/// not UTF-8, nested directories.
fn small_corpus(scratch: &Scratch) -> PathBuf {
    let files: &[(&str, &[u8])] = &[
        (
            "corpus/a.txt",
            b"The quick brown fox jumps over the lazy dog. The DOG sleeps.",
        ),
        (
            "corpus/b.md",
            "Ünïcödé text: ÜNÏCÖDÉ and ünïcödé; dog-days, fox_trot!".as_bytes(),
        ),
        (
            "corpus/c.rs",
            b"fn main() { let fox = 1; println!(\"{fox} {fox}\"); } // FOX",
        ),
        ("corpus/empty.txt", b""),
        (
            "corpus/sub/d.txt",
            "ΟΔΟΣ σοφός; the end.\nİstanbul straße STRASSE 42 x86_64".as_bytes(),
        ),
        (
            "corpus/sub/deeper/e.txt",
            b"repeated repeated repeated words words\r\nthe",
        ),
        ("corpus/bad.bin", b"fox \xff\xfe dog"),
        (
            "corpus/sub/f.txt",
            "über Über ÜBER fox; Σίσυφος ΣΊΣΥΦΟΣ".as_bytes(),
        ),
    ];
    for (name, contents) in files {
        scratch.write(name, contents);
    }
    scratch.0.join("corpus")
}

/// Many files of words drawn from a small vocabulary, so that terms appear in
/// many documents and lists cross every run, block and partition boundary.
fn generated_corpus(scratch: &Scratch, files: usize) -> PathBuf {
    let vocabulary = [
        "alpha",
        "beta",
        "gamma",
        "delta",
        "Epsilon",
        "zeta",
        "ETA",
        "theta",
        "iota",
        "kappa",
        "λάμδα",
        "mü",
        "nu",
        "xi",
        "omicron",
        "pi",
        "rho",
        "σίγμα",
        "tau",
        "upsilon",
    ];
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for file in 0..files {
        let words = 20 + (next() % 200) as usize;
        let mut text = String::new();
        for word in 0..words {
            text.push_str(vocabulary[(next() % vocabulary.len() as u64) as usize]);
            text.push_str(if word % 11 == 10 { ".\n" } else { " " });
        }
        scratch.write(&format!("generated/{:03}/{file}.txt", file % 7), text);
    }
    scratch.0.join("generated")
}

fn config(roots: &[&Path], out: &Path, mode: Mode) -> IndexConfig {
    let roots = roots.iter().map(|root| root.to_path_buf()).collect();
    let mut config = IndexConfig::new(roots, out.to_owned());
    config.mode = mode;
    config
}

/// Indexes; returns the summary and the files reported as skipped.
fn build(config: &IndexConfig) -> Result<(IndexSummary, Vec<FileError>), Fatal> {
    let (errors, reported) = mpsc::channel();
    let summary = build_index(config, errors)?;
    Ok((summary, reported.try_iter().collect()))
}

fn build_ok(config: &IndexConfig) -> (IndexSummary, Vec<FileError>) {
    build(config).unwrap_or_else(|fatal| panic!("indexing failed: {fatal}"))
}

/// The index's files, byte for byte.
fn index_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("list the index")
        .map(|entry| {
            entry
                .expect("list the index")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    assert_eq!(names, ["dictionary", DOCUMENTS_FILE, "lexicon", "postings"]);
    names
        .into_iter()
        .map(|name| {
            let bytes = fs::read(dir.join(&name)).expect("read the index");
            (name, bytes)
        })
        .collect()
}

/// What `search` should find, by reading every file and counting.
fn brute_force(root: &Path, query: &str) -> Vec<Hit> {
    let terms: BTreeSet<String> = reference_words(query).into_iter().collect();
    let mut hits = Vec::new();
    let mut pending = vec![root.to_owned()];
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            pending.extend(
                fs::read_dir(&path)
                    .expect("list")
                    .map(|e| e.expect("list").path()),
            );
            continue;
        }
        let Ok(text) = String::from_utf8(fs::read(&path).expect("read")) else {
            continue;
        };
        let words = reference_words(&text);
        if terms.iter().all(|term| words.contains(term)) {
            let count = words.iter().filter(|word| terms.contains(*word)).count();
            hits.push(Hit {
                hits: count as u64,
                path,
            });
        }
    }
    hits.sort_by(|a, b| {
        b.hits
            .cmp(&a.hits)
            .then_with(|| path_order(&a.path, &b.path))
    });
    hits
}

const QUERIES: &[&str] = &[
    "the",
    "fox",
    "dog fox",
    "DOG",
    "The Dog",
    "ünïcödé",
    "ÜNÏCÖDÉ text",
    "über",
    "σίσυφος",
    "ΟΔΟΣ",
    "straße",
    "strasse 42",
    "x86",
    "repeated words",
    "fox_trot",
    "absent",
    "fox absent",
    "alpha beta",
    "λάμδα",
    "Σίγμα tau",
    "omicron upsilon pi",
];

#[test]
fn search_finds_what_a_brute_force_scan_finds() {
    let _watchdog = crate::watchdog::watchdog();
    let scratch = Scratch::new();
    let (small, generated) = (small_corpus(&scratch), generated_corpus(&scratch, 40));
    let roots = [small.as_path(), generated.as_path()];
    let out = scratch.0.join("index");
    build_ok(&config(&roots, &out, Mode::Threaded));
    for query in QUERIES {
        let mut expected = Vec::new();
        for root in &roots {
            expected.extend(brute_force(root, query));
        }
        expected.sort_by(|a, b| {
            b.hits
                .cmp(&a.hits)
                .then_with(|| path_order(&a.path, &b.path))
        });
        let found = search(&out, &words(query)).expect("search");
        assert_eq!(found, expected, "query {query:?}");
    }
    let found = search(&out, &words("fox")).expect("search");
    assert!(found.len() >= 4, "the corpus has foxes: {found:?}");
    assert!(search(&out, &words("absent")).expect("search").is_empty());
}

#[test]
fn both_modes_write_the_same_bytes() {
    let _watchdog = crate::watchdog::watchdog();
    let scratch = Scratch::new();
    let (small, generated) = (small_corpus(&scratch), generated_corpus(&scratch, 40));
    let roots = [small.as_path(), generated.as_path()];
    let threaded = scratch.0.join("threaded");
    let single = scratch.0.join("single");
    build_ok(&config(&roots, &threaded, Mode::Threaded));
    build_ok(&config(&roots, &single, Mode::SingleThreaded));
    assert_eq!(index_bytes(&threaded), index_bytes(&single));
}

#[test]
fn flushing_and_merging_change_nothing() {
    let _watchdog = crate::watchdog::watchdog();
    let scratch = Scratch::new();
    let (generated, small) = (generated_corpus(&scratch, 60), small_corpus(&scratch));
    let roots = [generated.as_path(), small.as_path()];
    let reference = scratch.0.join("reference");
    let (summary, _) = build_ok(&config(&roots, &reference, Mode::SingleThreaded));
    assert_eq!(summary.runs, 1, "the default memory holds this corpus");
    let expected = index_bytes(&reference);

    let tiny = Pieces {
        batch_bytes: 1,
        block_postings: 3,
        partition_bytes: 64,
        fan_in: 3,
    };
    for (mode, max_memory) in [
        (Mode::Threaded, 60_000),
        (Mode::SingleThreaded, 60_000),
        (Mode::Threaded, 1),
        (Mode::SingleThreaded, 1),
    ] {
        let out = scratch.0.join(format!("{mode:?}-{max_memory}"));
        let mut config = config(&roots, &out, mode);
        config.max_memory = max_memory;
        config.pieces = tiny;
        let (summary, _) = build_ok(&config);
        assert!(
            summary.runs > 3,
            "{mode:?} {max_memory}: {} runs",
            summary.runs
        );
        assert_eq!(index_bytes(&out), expected, "{mode:?}, {max_memory} bytes");
    }
}

#[test]
fn bad_files_are_reported_with_their_path_and_skipped() {
    let _watchdog = crate::watchdog::watchdog();
    let scratch = Scratch::new();
    let corpus = small_corpus(&scratch);
    let missing = scratch.0.join("no such file");
    let out = scratch.0.join("index");
    let (summary, errors) = build_ok(&config(&[&corpus, &missing], &out, Mode::Threaded));
    let mut messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    messages.sort();
    assert_eq!(messages.len(), 2, "{messages:?}");
    let bad = corpus.join("bad.bin").display().to_string();
    assert!(
        messages[0].starts_with(&format!("{bad}:1: not UTF-8")),
        "{}",
        messages[0]
    );
    let missing_message = format!("{}: cannot read", missing.display());
    assert!(messages[1].starts_with(&missing_message), "{}", messages[1]);
    assert_eq!(summary.documents, 7, "every other file, the empty one too");
    let dogs = search(&out, &words("dog")).expect("search");
    assert!(dogs.iter().all(|hit| !hit.path.ends_with("bad.bin")));
}

#[test]
fn a_file_that_is_not_utf8_is_reported_with_its_line() {
    let scratch = Scratch::new();
    let path = scratch.write("notes.txt", b"first line\nsecond\nthird \xc3( line\nfourth");
    let error = read_document(path.clone()).expect_err("not UTF-8");
    let message = error.to_string();
    let expected = format!("{}:3: not UTF-8 text: ", path.display());
    assert!(message.starts_with(&expected), "{message}");
}

#[test]
fn both_modes_report_errors_through_one_reporter() {
    let _watchdog = crate::watchdog::watchdog();
    let scratch = Scratch::new();
    let corpus = small_corpus(&scratch);
    let missing = scratch.0.join("no such file");
    for mode in [Mode::Threaded, Mode::SingleThreaded] {
        let out = scratch.0.join(format!("{mode:?}"));
        let reporter = Reporter::new(indicatif::ProgressBar::hidden());
        let summary = build_index(&config(&[&corpus, &missing], &out, mode), reporter.clone())
            .unwrap_or_else(|fatal| panic!("{mode:?}: indexing failed: {fatal}"));
        assert_eq!(
            reporter.skipped_count(),
            2,
            "{mode:?}: bad.bin and the missing path"
        );
        assert_eq!(
            summary.documents, 7,
            "{mode:?}: every other file is indexed"
        );
    }
}

#[test]
fn reindexing_replaces_the_index_and_leaves_nothing_behind() {
    let _watchdog = crate::watchdog::watchdog();
    let scratch = Scratch::new();
    let corpus = small_corpus(&scratch);
    let out = scratch.0.join("index");
    for mode in [Mode::Threaded, Mode::SingleThreaded] {
        build_ok(&config(&[&corpus], &out, mode));
        assert!(search(&out, &words("newcomer")).expect("search").is_empty());
        scratch.write("corpus/new.txt", "a newcomer");
        build_ok(&config(&[&corpus], &out, mode));
        let found = search(&out, &words("newcomer")).expect("search");
        assert_eq!(found.len(), 1);
        fs::remove_file(corpus.join("new.txt")).expect("remove the new file");
    }
    let mut left: Vec<String> = fs::read_dir(&scratch.0)
        .expect("list")
        .map(|entry| {
            entry
                .expect("list")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    left.sort();
    assert_eq!(left, ["corpus", "index"], "no staging or old index is left");
}

#[test]
fn only_an_index_or_an_empty_directory_is_replaced() {
    let _watchdog = crate::watchdog::watchdog();
    let scratch = Scratch::new();
    let corpus = small_corpus(&scratch);
    let precious = scratch.write("precious/notes.txt", "keep me");
    let file = scratch.write("a-file", "keep me too");
    for out in [scratch.0.join("precious"), file.clone()] {
        match build(&config(&[&corpus], &out, Mode::Threaded)) {
            Err(Fatal::Refused { path, .. }) => assert_eq!(path, out),
            other => panic!("replaced {}: {other:?}", out.display()),
        }
    }
    assert_eq!(
        fs::read_to_string(precious).expect("still there"),
        "keep me"
    );
    assert_eq!(
        fs::read_to_string(file).expect("still there"),
        "keep me too"
    );
    let empty = scratch.0.join("empty");
    fs::create_dir(&empty).expect("create");
    build_ok(&config(&[&corpus], &empty, Mode::Threaded));
}

#[test]
fn nothing_to_index_leaves_the_index_as_it_was() {
    let _watchdog = crate::watchdog::watchdog();
    let scratch = Scratch::new();
    let corpus = small_corpus(&scratch);
    let out = scratch.0.join("index");
    build_ok(&config(&[&corpus], &out, Mode::Threaded));
    let before = index_bytes(&out);
    let empty = scratch.0.join("empty");
    fs::create_dir(&empty).expect("create");
    let missing = scratch.0.join("missing");
    for mode in [Mode::Threaded, Mode::SingleThreaded] {
        // An empty directory is not an error in itself; a missing path is,
        // and is reported as such.
        for (nothing, reported) in [(&empty, 0), (&missing, 1)] {
            let (errors, received) = mpsc::channel();
            match build_index(&config(&[nothing], &out, mode), errors) {
                Err(Fatal::NothingToIndex { out: left }) => assert_eq!(left, out),
                other => panic!("{mode:?}, {}: {other:?}", nothing.display()),
            }
            assert_eq!(
                received.try_iter().count(),
                reported,
                "{}",
                nothing.display()
            );
            assert_eq!(index_bytes(&out), before, "{mode:?}: the index changed");
        }
    }
}

#[test]
fn a_missing_and_an_empty_index_directory_get_the_same_message() {
    let _watchdog = crate::watchdog::watchdog();
    let scratch = Scratch::new();
    let empty = scratch.0.join("empty");
    fs::create_dir(&empty).expect("create");
    let missing = scratch.0.join("missing");
    let message = |dir: &Path| match search(dir, &words("anything")) {
        Err(fatal) => fatal.to_string().replace(&dir.display().to_string(), "DIR"),
        Ok(_) => panic!("{} searched", dir.display()),
    };
    assert_eq!(message(&empty), message(&missing));
    assert!(
        message(&missing).contains("no index here"),
        "{}",
        message(&missing)
    );
}

#[test]
fn an_index_inside_the_indexed_tree_is_not_indexed() {
    let _watchdog = crate::watchdog::watchdog();
    let scratch = Scratch::new();
    let corpus = small_corpus(&scratch);
    let out = corpus.join("sub").join("index");
    let (first, _) = build_ok(&config(&[&corpus], &out, Mode::Threaded));
    let (second, errors) = build_ok(&config(&[&corpus], &out, Mode::Threaded));
    assert_eq!(second.documents, first.documents);
    assert_eq!(errors.len(), 1, "only bad.bin: {errors:?}");
}
