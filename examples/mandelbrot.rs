//! Renders the Mandelbrot set four ways and shows why equal bands balance
//! badly: one thread, equal bands with `spawn`/`join`, rayon per row, and
//! threadpipe's `parallel_map` per row.
//!
//! The classic concurrency lesson: splitting the picture into one band per
//! core looks fair, but the work per row is very uneven (points inside the
//! set take 255 iterations, points far outside take a few), so one band
//! finishes long after the other and a core sits idle. Handing out rows one
//! at a time, as rayon and `parallel_map` do, keeps every core busy.
//!
//! ```text
//! cargo run --release --example mandelbrot [-- OUT.png]
//! ```
//!
//! Writes `mandelbrot.png` (in the system's temporary directory unless a path
//! is given), prints each variant's time, speedup and the CPU cores it kept
//! busy, and exits non-zero if any variant draws a different picture.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant};

use rayon::prelude::*;
use threadpipe::prelude::*;

const WIDTH: usize = 1200;
const HEIGHT: usize = 900;
/// The region drawn, the book's: from -1.20+0.35i to -1.00+0.20i, where the
/// lower rows cross the set and cost far more than the upper ones.
const LEFT: f64 = -1.20;
const RIGHT: f64 = -1.00;
const TOP: f64 = 0.35;
const BOTTOM: f64 = 0.20;

/// Escape-time shade of one row (255: inside the set, after 255 iterations).
fn render_row(row: usize) -> Vec<u8> {
    let im = TOP - (TOP - BOTTOM) * row as f64 / HEIGHT as f64;
    (0..WIDTH)
        .map(|column| {
            let re = LEFT + (RIGHT - LEFT) * column as f64 / WIDTH as f64;
            let (mut x, mut y) = (0.0f64, 0.0f64);
            for count in 0..255u8 {
                if x * x + y * y > 4.0 {
                    return 255 - count;
                }
                (x, y) = (x * x - y * y + re, 2.0 * x * y + im);
            }
            0
        })
        .collect()
}

fn single_thread() -> Vec<Vec<u8>> {
    (0..HEIGHT).map(render_row).collect()
}

/// One band of rows per core, each on its own thread; also reports how long
/// each band took, which is the point of this variant.
fn equal_bands(bands: usize) -> (Vec<Vec<u8>>, Vec<Duration>) {
    let rows_per_band = HEIGHT.div_ceil(bands);
    let handles: Vec<_> = (0..bands)
        .map(|band| {
            thread::spawn(move || {
                let started = Instant::now();
                let first = band * rows_per_band;
                let rows: Vec<Vec<u8>> = (first..(first + rows_per_band).min(HEIGHT))
                    .map(render_row)
                    .collect();
                (rows, started.elapsed())
            })
        })
        .collect();
    let mut picture = Vec::with_capacity(HEIGHT);
    let mut times = Vec::with_capacity(bands);
    for handle in handles {
        let (rows, took) = handle.join().expect("a band does not panic");
        picture.extend(rows);
        times.push(took);
    }
    (picture, times)
}

fn rayon_rows() -> Vec<Vec<u8>> {
    (0..HEIGHT).into_par_iter().map(render_row).collect()
}

fn parallel_map_rows() -> Vec<Vec<u8>> {
    (0..HEIGHT).parallel_map(render_row).collect()
}

/// This process's CPU time so far (user + system, all threads), from
/// `/proc/self/stat`; `None` where that file does not exist.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised name; utime and stime are the 12th and
    // 13th of those, in clock ticks (100 a second on Linux).
    let fields: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// Runs `variant`, timing it; returns its picture and prints its line.
fn measure<T>(
    name: &str,
    baseline: Option<Duration>,
    variant: impl FnOnce() -> T,
) -> (T, Duration) {
    let cpu_before = cpu_time();
    let started = Instant::now();
    let result = variant();
    let wall = started.elapsed();
    let cores = match (cpu_before, cpu_time()) {
        (Some(before), Some(after)) => {
            format!("{:.2}", (after - before).as_secs_f64() / wall.as_secs_f64())
        }
        _ => "?".to_owned(),
    };
    let speedup = baseline.map_or(1.0, |base| base.as_secs_f64() / wall.as_secs_f64());
    println!(
        "{name:<28} {:>8.1} ms   speedup {speedup:>4.2}x   cores busy {cores}",
        wall.as_secs_f64() * 1e3
    );
    (result, wall)
}

fn write_png(path: &PathBuf, picture: &[Vec<u8>]) -> Result<(), String> {
    let file = File::create(path).map_err(|error| format!("{}: {error}", path.display()))?;
    let mut encoder = png::Encoder::new(BufWriter::new(file), WIDTH as u32, HEIGHT as u32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder
        .write_header()
        .map_err(|error| format!("{}: {error}", path.display()))?;
    writer
        .write_image_data(&picture.concat())
        .map_err(|error| format!("{}: {error}", path.display()))
}

fn main() -> ExitCode {
    let out = std::env::args_os().nth(1).map_or_else(
        || std::env::temp_dir().join("mandelbrot.png"),
        PathBuf::from,
    );
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    println!("{WIDTH}x{HEIGHT}, one item per row, {cores} cores\n");

    let (reference, single) = measure("single thread", None, single_thread);
    let ((banded, band_times), _) = measure(
        &format!("{cores} equal bands (spawn)"),
        Some(single),
        || equal_bands(cores),
    );
    let (by_rayon, _) = measure("rayon, per row", Some(single), rayon_rows);
    let (by_threadpipe, _) = measure("threadpipe parallel_map", Some(single), parallel_map_rows);

    let band_list: Vec<String> = band_times
        .iter()
        .map(|took| format!("{:.1} ms", took.as_secs_f64() * 1e3))
        .collect();
    println!(
        "\nequal bands finished after {}: the fastest band's core then sat idle.",
        band_list.join(", ")
    );

    let mut failed = false;
    for (name, picture) in [
        ("bands", &banded),
        ("rayon", &by_rayon),
        ("parallel_map", &by_threadpipe),
    ] {
        if *picture != reference {
            eprintln!("mandelbrot: the {name} picture differs from the single-threaded one");
            failed = true;
        }
    }
    match write_png(&out, &reference) {
        Ok(()) => println!("wrote {}", out.display()),
        Err(error) => {
            eprintln!("mandelbrot: cannot write the picture: {error}");
            failed = true;
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Runs with the test suite (`test = true` in Cargo.toml), on a few rows,
/// since a debug build renders slowly.
/// Fails a hung test run instead of letting it hang (shared with tests/).
#[cfg(test)]
#[path = "../tests/common/watchdog.rs"]
mod watchdog;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_map_draws_the_same_rows_in_the_same_order() {
        let _watchdog = crate::watchdog::watchdog();
        let rows = [0, 1, HEIGHT / 2, HEIGHT - 2, HEIGHT - 1];
        let expected: Vec<Vec<u8>> = rows.iter().map(|&row| render_row(row)).collect();
        let drawn: Vec<Vec<u8>> = rows.into_iter().parallel_map(render_row).collect();
        assert_eq!(drawn, expected);
        assert!(expected[4].contains(&0), "the bottom row crosses the set");
    }
}
