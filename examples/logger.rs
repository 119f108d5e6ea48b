//! Message passing with `std::sync::mpsc`, where it meets threadpipe's stages:
//! the "share memory by communicating" half of Rust's classic concurrency
//! lessons (for the locks, atomics and poisoning half see
//! `examples/waiting_list.rs`).
//!
//! - **(a) many producers, one consumer**: a logging thread owns the
//!   `Receiver`. Several producer threads each run a pipeline that parses
//!   readings on every core with `parallel_map`, and each pipeline's
//!   `errors_to(log.clone())` sends its bad readings to that one logger.
//!   `errors_to` runs on whichever thread pulls it: here, after the ordered
//!   `parallel_map`, on the producer's own thread, so each producer's lines
//!   arrive in its input order, although lines from different producers
//!   interleave. The log ends by itself once the last `Sender` is dropped:
//!   each pipeline drops its clone when it is done.
//! - **(b) request/response**: each request carries its own reply `Sender`.
//!   The service is one pipeline: the requests' `Receiver`, as an iterator
//!   (`into_iter()`, which blocks for the next request and ends once every
//!   client has hung up), through `parallel_map`, whose closure answers each
//!   request on whichever thread runs it, straight to its client. One client
//!   blocks on `recv`; another keeps working and polls `try_recv`.
//!
//! A `Receiver` has one owner at a time (it is `Send` but not `Sync`), so a
//! hand-made pool of service threads would share it through
//! `threadpipe::shared_channel`; `parallel_map` over `into_iter()` is that
//! pool, on the threads threadpipe already has, with no worker loop to write.
//!
//! ```text
//! cargo run --release --example logger
//! ```
//!
//! It checks its own results and exits non-zero if any check fails.

use std::collections::BTreeMap;
use std::num::ParseIntError;
use std::process::ExitCode;
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::thread;
use std::time::{Duration, Instant};

use threadpipe::ParallelMapOptions;
use threadpipe::prelude::*;

const PRODUCERS: usize = 4;
const READINGS: usize = 300;

/// A section's one-line summary, or what went wrong.
type Outcome = Result<String, String>;
type Section = (&'static str, fn() -> Outcome);

/// Returns early with a formatted message when a self-check fails.
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

const SECTIONS: [Section; 2] = [
    ("(a) logging service", logging_service),
    ("(b) request/response", request_response),
];

fn main() -> ExitCode {
    let mut failed = false;
    for (name, run) in SECTIONS {
        println!("== {name}");
        match run() {
            Ok(summary) => println!("ok: {summary}"),
            Err(problem) => {
                eprintln!("FAILED: {problem}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

// ---- (a) many producers, one consumer ----

/// A line for the log: a bad reading (`seq` < `READINGS`), or a producer's
/// closing line (`seq == READINGS`).
#[derive(Debug)]
struct LogLine {
    producer: usize,
    seq: usize,
    text: String,
}

/// What producer `producer` reads as its `seq`th reading: a number, or,
/// one time in seven, a sensor's "n/a".
fn raw_reading(producer: usize, seq: usize) -> String {
    if seq.is_multiple_of(10) {
        // Stands in for waiting on the sensor; without it each pipeline
        // tends to finish before the next one starts.
        thread::sleep(Duration::from_millis(1));
    }
    if is_bad(seq) {
        "n/a".to_owned()
    } else {
        (producer * 1000 + seq).to_string()
    }
}

fn is_bad(seq: usize) -> bool {
    seq % 7 == 3
}

/// Parses a reading; a bad one becomes the line the log gets for it.
fn parse(producer: usize, seq: usize, raw: &str) -> Result<u64, LogLine> {
    raw.trim().parse().map_err(|error: ParseIntError| LogLine {
        producer,
        seq,
        text: format!("producer {producer}: reading {seq}: {raw:?}: {error}"),
    })
}

/// One producer's pipeline: the sum of its good readings; the bad ones go
/// to `log`, in order.
fn produce(producer: usize, log: Sender<LogLine>) -> u64 {
    let total = (0..READINGS)
        .map(move |seq| (seq, raw_reading(producer, seq))) // pulled by the stage's threads
        // Parsing runs on several threads, and its results come back in
        // input order: the closure is shared by those threads, so it must
        // be `Sync` (it captures only a `usize`).
        .parallel_map(move |(seq, raw)| parse(producer, seq, &raw))
        // Runs here, on this producer's thread, as `sum` pulls: the errors
        // reach the log in input order. (If the logger had hung up, the
        // pipeline would stop: a closed channel is how a consumer says so.)
        .errors_to(log.clone())
        .sum();
    // Sent after every error of this pipeline, from the same thread, so it
    // is this producer's last line in the log.
    let _ = log.send(LogLine {
        producer,
        seq: READINGS,
        text: format!("producer {producer}: done, total {total}"),
    });
    total
}

fn logging_service() -> Outcome {
    let started = Instant::now();
    let (log, lines) = mpsc::channel::<LogLine>();
    let logger = thread::Builder::new()
        .name("logger".into())
        .spawn(move || run_logger(lines))
        .map_err(|e| format!("cannot start logger: {e}"))?;

    // Several pipelines, started from several threads, one logger.
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|producer| {
            let log = log.clone();
            thread::Builder::new()
                .name(format!("producer-{producer}"))
                .spawn(move || produce(producer, log))
                .map_err(|e| format!("cannot start producer {producer}: {e}"))
        })
        .collect::<Result<_, _>>()?;
    // Without this the logger would wait forever: the channel only closes
    // when every Sender, including this original one, has been dropped.
    drop(log);

    let mut totals = Vec::new();
    for producer in producers {
        totals.push(producer.join().map_err(|_| "a producer panicked")?);
    }
    let received = logger.join().map_err(|_| "the logger panicked")?;

    let bad: Vec<usize> = (0..READINGS).filter(|&seq| is_bad(seq)).collect();
    let expected_lines = PRODUCERS * (bad.len() + 1);
    ensure!(
        received.len() == expected_lines,
        "expected {expected_lines} lines, logger got {}",
        received.len()
    );
    let mut by_producer: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for line in &received {
        by_producer.entry(line.producer).or_default().push(line.seq);
    }
    ensure!(by_producer.len() == PRODUCERS, "some producer is missing");
    let mut expected_seqs = bad.clone();
    expected_seqs.push(READINGS); // the closing line comes last
    for (producer, seqs) in &by_producer {
        ensure!(
            *seqs == expected_seqs,
            "producer {producer}'s lines are lost or out of order: {seqs:?}"
        );
    }
    for line in received.iter().filter(|line| line.seq < READINGS) {
        let expected = format!(
            "producer {}: reading {}: \"n/a\": ",
            line.producer, line.seq
        );
        ensure!(line.text.starts_with(&expected), "garbled line {line:?}");
    }
    for (producer, total) in totals.iter().enumerate() {
        let good = (0..READINGS).filter(|&seq| !is_bad(seq));
        let expected: u64 = good.map(|seq| (producer * 1000 + seq) as u64).sum();
        ensure!(
            *total == expected,
            "producer {producer} summed {total}, expected {expected}"
        );
    }
    // How often the stream switched producer shows the interleaving that
    // per-producer ordering survives; it varies from run to run.
    let switches = received
        .windows(2)
        .filter(|pair| pair[0].producer != pair[1].producer)
        .count();
    Ok(format!(
        "{} lines from {PRODUCERS} pipelines, each producer's in order; \
         the stream switched producer {switches} times; took {:?}",
        received.len(),
        started.elapsed()
    ))
}

fn run_logger(lines: Receiver<LogLine>) -> Vec<LogLine> {
    let mut collected = Vec::new();
    // Iterating a Receiver ends exactly when all Senders are gone, so the
    // logger needs no "shut down" message of its own.
    for line in lines {
        // Print only each producer's first error and closing line, to keep
        // the output short; all of them are collected for the checks.
        if line.seq == 3 || line.seq == READINGS {
            println!("  [log] {}", line.text);
        }
        collected.push(line);
    }
    collected
}

// ---- (b) request/response ----

#[derive(Debug)]
enum Request {
    Sum {
        numbers: Vec<u64>,
        reply: Sender<u64>,
    },
    NthPrime {
        n: usize,
        reply: Sender<u64>,
    },
}

/// Answers one request, on whichever thread of the stage runs it.
fn answer(request: Request) {
    // A failed reply means that client gave up and dropped its Receiver;
    // that must not take the whole service down.
    match request {
        Request::Sum { numbers, reply } => {
            let _ = reply.send(numbers.iter().sum());
        }
        Request::NthPrime { n, reply } => {
            let _ = reply.send(nth_prime(n));
        }
    }
}

fn request_response() -> Outcome {
    let (requests, incoming) = mpsc::channel::<Request>();
    // The service: a pipeline over the channel. The replies go out from
    // `answer` as each is computed, straight to each client; the stage's
    // own results are only `()`, with no order worth keeping, so it yields
    // them in completion order.
    let options = ParallelMapOptions::new()
        .name("service")
        .in_completion_order();
    let service = thread::spawn(move || {
        incoming
            .into_iter()
            .parallel_map_with(options, answer)
            .count()
    });

    let blocking_client = {
        let requests = requests.clone();
        thread::spawn(move || -> Result<u64, String> {
            let (reply, response) = mpsc::channel();
            let numbers = (1..=1000).collect();
            requests
                .send(Request::Sum { numbers, reply })
                .map_err(|_| "service is gone")?;
            // Blocks this thread until the service replies; fine for a
            // client with nothing else to do.
            response
                .recv()
                .map_err(|_| "service dropped the reply".into())
        })
    };

    let polling_client = {
        let requests = requests.clone();
        thread::spawn(move || -> Result<(u64, u64), String> {
            let (reply, response) = mpsc::channel();
            requests
                .send(Request::NthPrime { n: 10_000, reply })
                .map_err(|_| "service is gone")?;
            // A client with its own loop (say, a UI redrawing frames) must
            // not block, so it polls between frames instead.
            let mut frames = 0;
            loop {
                match response.try_recv() {
                    Ok(prime) => return Ok((prime, frames)),
                    Err(TryRecvError::Empty) => {
                        frames += 1;
                        thread::yield_now();
                    }
                    // Without this arm a lost reply would spin forever.
                    Err(TryRecvError::Disconnected) => {
                        return Err("service dropped the reply".into());
                    }
                }
            }
        })
    };
    // The service's source ends once every request Sender is gone: the
    // clients drop theirs as they finish, and this is the last one.
    drop(requests);

    let sum = blocking_client
        .join()
        .map_err(|_| "blocking client panicked")??;
    let (prime, frames) = polling_client
        .join()
        .map_err(|_| "polling client panicked")??;
    let served = service.join().map_err(|_| "service panicked")?;

    ensure!(
        sum == 500_500,
        "sum of 1..=1000 should be 500500, got {sum}"
    );
    ensure!(
        prime == 104_729,
        "the 10000th prime is 104729, service said {prime}"
    );
    ensure!(
        served == 2,
        "service answered {served} requests, expected 2"
    );
    Ok(format!(
        "blocking client: sum 1..=1000 = {sum}; polling client: 10000th prime = \
         {prime} after {frames} empty polls; the parallel_map service answered \
         {served} requests and ended when its clients hung up"
    ))
}

/// The `n`th prime, 1-based, by trial division: slow enough that the polling
/// client really has to wait.
fn nth_prime(n: usize) -> u64 {
    let is_prime = |k: u64| {
        k >= 2
            && (2..)
                .take_while(|d| d * d <= k)
                .all(|d| !k.is_multiple_of(d))
    };
    (2..).filter(|&k| is_prime(k)).nth(n - 1).unwrap_or(0)
}

/// Runs with the test suite (`test = true` in Cargo.toml), so the README's
/// test command proves the example's own checks.
/// Fails a hung test run instead of letting it hang (shared with tests/).
#[cfg(test)]
#[path = "../tests/common/watchdog.rs"]
mod watchdog;

#[cfg(test)]
mod tests {
    #[test]
    fn every_section_passes_its_checks() {
        let _watchdog = crate::watchdog::watchdog();
        for (name, run) in super::SECTIONS {
            if let Err(problem) = run() {
                panic!("{name}: {problem}");
            }
        }
    }
}
