//! What a user of a compressor expects when things go wrong: a reader that
//! stops early ends pzip quietly; a missing or unreadable input is named in
//! one line, with exit status 1; a failed `-o` leaves no file behind.

mod common;

use std::fs;
use std::io::Read;
use std::process::Stdio;

use common::*;

fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn broken_pipe_ends_quietly() {
    let _watchdog = watchdog::watchdog();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let input = dir.path().join("noise");
    // Incompressible, so the output is far bigger than a pipe's buffer.
    fs::write(&input, random_bytes(16 << 20, 13)).expect("write the input");
    for args in [&[][..], &["--single-threaded"]] {
        let mut child = pzip()
            .args(args)
            .arg(&input)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start pzip");
        let mut first = [0; 10];
        let mut stdout = child.stdout.take().expect("a stdout pipe");
        stdout
            .read_exact(&mut first)
            .expect("read 10 bytes, as head -c 10");
        assert_eq!(first[..2], [0x1f, 0x8b]);
        drop(stdout);
        let output = child.wait_with_output().expect("wait for pzip");
        assert!(output.status.success(), "{args:?}: {}", output.status);
        assert_eq!(stderr_of(&output), "", "{args:?}: no message, no panic");
    }
}

#[test]
fn missing_file_is_named_with_status_1() {
    let _watchdog = watchdog::watchdog();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let missing = dir.path().join("no-such-file.txt");
    for args in [&[][..], &["-d"]] {
        let output = run(pzip().args(args).arg(&missing), b"");
        let message = stderr_of(&output);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {message}");
        assert!(
            message.starts_with("pzip: cannot open ") && message.contains("no-such-file.txt"),
            "{message}"
        );
        assert_eq!(message.lines().count(), 1, "{message}");
        assert!(output.stdout.is_empty());
    }
}

#[test]
fn unreadable_input_leaves_no_output_file() {
    let _watchdog = watchdog::watchdog();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let out = dir.path().join("out.gz");
    // A directory opens, then fails on the first read: after `-o` has
    // made its temporary file.
    let output = run(pzip().arg("-o").arg(&out).arg(dir.path()), b"");
    let message = stderr_of(&output);
    assert_eq!(output.status.code(), Some(1), "{message}");
    assert!(message.starts_with("pzip: cannot read "), "{message}");
    let left: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn output_file_appears_complete() {
    let _watchdog = watchdog::watchdog();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let out = dir.path().join("out.gz");
    let text = text_bytes(300_000, 17);
    ok(pzip().arg("-o").arg(&out), &text);
    let back = ok(pzip().arg("-d"), &fs::read(&out).expect("the output file"));
    assert!(back == text);
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "only out.gz");
}

#[test]
fn corrupt_input_to_decompress_is_named() {
    let _watchdog = watchdog::watchdog();
    let mut gz = ok(&mut pzip(), &text_bytes(100_000, 19));
    let middle = gz.len() / 2;
    gz.truncate(middle);
    for input in [&gz[..], b"plain text, not gzip"] {
        let output = run(pzip().arg("-d"), input);
        let message = stderr_of(&output);
        assert_eq!(output.status.code(), Some(1), "{message}");
        assert!(
            message.starts_with("pzip: standard input: not a valid gzip stream"),
            "{message}"
        );
    }
}

#[test]
fn usage_errors_exit_with_status_2() {
    let _watchdog = watchdog::watchdog();
    let output = run(pzip().args(["-l", "12"]), b"");
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr_of(&output).contains("12"));
}
