//! Round trips: whatever pzip compresses, the system's `gzip` accepts
//! (`gzip -t`) and turns back into the same bytes (`gzip -dc`), and so
//! does `pzip -d`; at the edges of a block, on incompressible data, at
//! every level and thread count, and on 200 MB from a file.

mod common;

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::process::{Command, Stdio};
use std::thread;
use std::time::Duration;

use common::*;

/// Compresses `input` through stdin with `args`, checks the stream with
/// gzip (if installed) and `pzip -d`, and returns it.
fn round_trip(test: &str, input: &[u8], args: &[&str]) -> Vec<u8> {
    let gz = ok(pzip().args(args), input);
    assert_eq!(&gz[..3], [0x1f, 0x8b, 8], "{test}: not a gzip header");
    if have_gzip(test) {
        ok(Command::new("gzip").arg("-t"), &gz);
        let back = ok(Command::new("gzip").arg("-dc"), &gz);
        assert!(
            back == input,
            "{test}: gzip -dc gave other bytes ({args:?})"
        );
    }
    let back = ok(pzip().arg("-d"), &gz);
    assert!(back == input, "{test}: pzip -d gave other bytes ({args:?})");
    gz
}

#[test]
fn empty_input() {
    let _watchdog = watchdog::watchdog();
    let gz = round_trip("empty_input", b"", &[]);
    assert_eq!(gz.len(), 20, "header, an empty final block, trailer");
}

#[test]
fn one_byte() {
    let _watchdog = watchdog::watchdog();
    round_trip("one_byte", b"x", &[]);
}

#[test]
fn exactly_one_block_and_one_more_byte() {
    let _watchdog = watchdog::watchdog();
    let text = text_bytes(BLOCK + 1, 1);
    round_trip("exactly_one_block", &text[..BLOCK], &[]);
    round_trip("one_block_plus_one_byte", &text, &[]);
}

#[test]
fn incompressible_data() {
    let _watchdog = watchdog::watchdog();
    let noise = random_bytes(3 * BLOCK + 12_345, 7);
    let gz = round_trip("incompressible_data", &noise, &[]);
    // Stored blocks: a few bytes per 64 KiB over the input.
    assert!(gz.len() < noise.len() + 200, "{} bytes", gz.len());
}

#[test]
fn every_level_thread_count_and_small_blocks() {
    let _watchdog = watchdog::watchdog();
    let text = text_bytes(5 * BLOCK / 2, 3);
    for args in [
        &["-l", "1"][..],
        &["-l", "9", "-p", "3"],
        &["-p", "1"],
        &["-b", "1"],
        &["-b", "40", "-l", "2"],
        &["--single-threaded", "-b", "16"],
    ] {
        round_trip("every_level_thread_count_and_small_blocks", &text, args);
    }
}

/// `--single-threaded` runs the same chain: its output is the same bytes
/// on every run, and the same size as the threaded one's give or take a
/// few bytes (`deflate::compressor` tells why not the same bytes).
#[test]
fn single_threaded_is_reproducible_and_as_small() {
    let _watchdog = watchdog::watchdog();
    let text = text_bytes(6 * BLOCK + 99, 5);
    for level in ["1", "6", "9"] {
        let single = ok(pzip().args(["-l", level, "--single-threaded"]), &text);
        let again = ok(pzip().args(["-l", level, "--single-threaded"]), &text);
        assert!(
            single == again,
            "level {level}: two single-threaded runs differ"
        );
        let threaded = round_trip("single_threaded_is_reproducible", &text, &["-l", level]);
        assert!(
            threaded.len().abs_diff(single.len()) < 64,
            "level {level}: {} bytes threaded, {} single-threaded",
            threaded.len(),
            single.len()
        );
    }
}

#[test]
fn decompresses_concatenated_members() {
    let _watchdog = watchdog::watchdog();
    let mut both = ok(&mut pzip(), b"first, ");
    both.extend(ok(&mut pzip(), b"second"));
    assert_eq!(ok(pzip().arg("-d"), &both), b"first, second");
}

/// 200 MB from a file to a file: gzip and `pzip -d` give it back, and pzip's
/// memory stays at a few blocks per thread, nowhere near the input's size.
#[test]
fn two_hundred_megabytes_from_a_file() {
    let _watchdog = watchdog::watchdog();
    const MB: usize = 1_000_000;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let original = dir.path().join("big");
    let gz = dir.path().join("big.gz");
    // A 4 MB text pool, written 50 times from shifting offsets: cheap to
    // make, and no block repeats the one before it.
    let pool = text_bytes(4 * MB, 11);
    let mut out = BufWriter::new(File::create(&original).expect("create the input"));
    for round in 0..50 {
        let cut = round * 77_777 % pool.len();
        out.write_all(&pool[cut..])
            .and_then(|()| out.write_all(&pool[..cut]))
            .expect("write");
    }
    out.into_inner().expect("flush").sync_all().ok();
    assert_eq!(fs::metadata(&original).unwrap().len(), 200 * MB as u64);

    let mut child = pzip()
        .args(["-l", "1", "-p", "2", "-o"])
        .arg(&gz)
        .arg(&original)
        .stderr(Stdio::piped())
        .spawn()
        .expect("start pzip");
    let mut peak = 0;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for pzip") {
            break status;
        }
        peak = peak_kib(child.id()).unwrap_or(0).max(peak);
        thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "pzip failed: {status}");
    // Debug builds, threadpipe's threads and glibc's arenas included; the
    // input alone would be 195 MiB.
    assert!(peak < 64 * 1024, "pzip's peak memory was {peak} KiB");
    eprintln!("two_hundred_megabytes_from_a_file: pzip's peak memory {peak} KiB (sampled)");

    if have_gzip("two_hundred_megabytes_from_a_file") {
        let status = Command::new("gzip")
            .arg("-t")
            .arg(&gz)
            .status()
            .expect("run gzip -t");
        assert!(status.success(), "gzip -t rejected the stream");
        assert_decompresses_to(Command::new("gzip").arg("-dc"), &gz, &original);
    }
    assert_decompresses_to(pzip().arg("-d"), &gz, &original);
}
