//! What the tests of the `pzip` binary share: running it, running the
//! system's `gzip`, making inputs, and comparing streams without holding
//! them in memory.
#![allow(dead_code, unreachable_pub)]

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::thread;

/// Fails a hung test instead of letting it hang (shared with threadpipe's tests/).
#[path = "../../../../tests/common/watchdog.rs"]
pub mod watchdog;

pub const BLOCK: usize = 128 * 1024;

pub fn pzip() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pzip"))
}

/// Whether the system's `gzip` can be run; if not, says so on the test's
/// output, so that a skipped check is never silent.
pub fn have_gzip(test: &str) -> bool {
    let found = Command::new("gzip")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !found {
        eprintln!("{test}: SKIPPED the checks through gzip: gzip is not installed");
    }
    found
}

/// Runs `command` with `input` on its standard input (fed from another
/// thread, so a full output pipe cannot deadlock it), and collects its output.
pub fn run(command: &mut Command, input: &[u8]) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the command");
    let mut stdin = child.stdin.take().expect("a stdin pipe");
    let input = input.to_vec();
    let feeder = thread::spawn(move || {
        // The command may stop reading early (a usage error): not ours to report.
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().expect("wait for the command");
    feeder.join().expect("the feeder thread");
    output
}

/// Runs `command`, asserting that it succeeded quietly, and returns its
/// standard output.
pub fn ok(command: &mut Command, input: &[u8]) -> Vec<u8> {
    let output = run(command, input);
    assert!(
        output.status.success() && output.stderr.is_empty(),
        "{command:?}: {}, stderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// `len` bytes that no compressor can shrink (xorshift64).
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut bytes = Vec::with_capacity(len + 8);
    while bytes.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}

/// `len` bytes of text-like data that compresses about as source code does:
/// words from a small vocabulary, in an order that never repeats exactly.
pub fn text_bytes(len: usize, seed: u64) -> Vec<u8> {
    let words = [
        "fn ", "let ", "mut ", "block", "(", ")", "{\n", "}\n", "    ", "deflate", "thread", "::",
        "pipe", "window", ";\n", "0x1f8b", " = ", "self.", "crc32", "&[u8]",
    ];
    // Every word is at least a byte long: `len` draws are always enough.
    let noise = random_bytes(len, seed);
    let mut text = Vec::with_capacity(len + 16);
    for byte in noise {
        text.extend_from_slice(words[byte as usize % words.len()].as_bytes());
        if text.len() >= len {
            break;
        }
    }
    text.truncate(len);
    text
}

/// Asserts that two readers yield the same bytes, a megabyte at a time.
pub fn assert_same_stream(mut got: impl Read, mut expected: impl Read, what: &str) {
    const CHUNK: usize = 1 << 20;
    let (mut a, mut b) = (vec![0; CHUNK], vec![0; CHUNK]);
    let mut offset = 0u64;
    loop {
        let read_a = fill(&mut got, &mut a).expect("read the output");
        let read_b = fill(&mut expected, &mut b).expect("read the expected bytes");
        assert!(
            read_a == read_b && a[..read_a] == b[..read_b],
            "{what}: streams differ in the megabyte at byte {offset} ({read_a} vs {read_b} bytes)"
        );
        if read_a == 0 {
            return;
        }
        offset += read_a as u64;
    }
}

/// Reads until `buffer` is full or the stream ends.
fn fill(reader: &mut impl Read, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match reader.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(filled)
}

/// Decompresses the file at `gz` with `command` (`gzip -dc` or `pzip -d`)
/// and compares what comes out with the file at `original`.
pub fn assert_decompresses_to(command: &mut Command, gz: &Path, original: &Path) {
    let mut child: Child = command
        .arg(gz)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the decompressor");
    let stdout = child.stdout.take().expect("a stdout pipe");
    let expected = File::open(original).expect("open the original");
    assert_same_stream(stdout, expected, &format!("{command:?}"));
    assert!(child.wait().expect("wait").success(), "{command:?} failed");
}

/// The peak resident memory of a running process so far, in KiB, while
/// its `/proc` entry lasts.
pub fn peak_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
