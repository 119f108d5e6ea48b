//! Message passing with `std::sync::mpsc`, the "share memory by communicating"
//! half of Rust's classic concurrency lessons (for the locks, atomics and
//! poisoning half see `examples/waiting_list.rs`):
//!
//! - **(a) many producers, one consumer**: a logging service owns the
//!   `Receiver` on its own thread; several producer threads each hold a clone
//!   of the `Sender`. The log ends by itself once the last `Sender` is dropped,
//!   and each producer's lines arrive in the order it sent them, although lines
//!   from different producers interleave.
//! - **(b) request/response**: each request carries its own reply `Sender`, so
//!   one service thread can answer many clients without knowing who they are.
//!   One client blocks on `recv`; another keeps working and polls `try_recv`.
//!
//! Uses only std, not threadpipe. Run it with:
//!
//! ```text
//! cargo run --example logger
//! ```
//!
//! It checks its own results and exits non-zero if any check fails.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::thread;
use std::time::Instant;

const PRODUCERS: usize = 6;
const LINES_PER_PRODUCER: usize = 50;

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

#[derive(Debug)]
struct LogLine {
    producer: usize,
    seq: usize,
    text: String,
}

fn logging_service() -> Outcome {
    let started = Instant::now();
    let (log, lines) = mpsc::channel::<LogLine>();
    let logger = thread::Builder::new()
        .name("logger".into())
        .spawn(move || run_logger(lines))
        .map_err(|e| format!("cannot start logger: {e}"))?;

    let producers: Vec<_> = (0..PRODUCERS)
        .map(|producer| {
            let log = log.clone();
            thread::spawn(move || {
                for seq in 0..LINES_PER_PRODUCER {
                    let text = format!("producer {producer}: event {seq}");
                    // Only fails if the logger is gone, and then there is
                    // nobody left to tell.
                    let _ = log.send(LogLine {
                        producer,
                        seq,
                        text,
                    });
                    // Stands in for real work between log calls; without
                    // it each producer tends to finish before the next runs.
                    thread::yield_now();
                }
            })
        })
        .collect();
    // Without this the logger would wait forever: the channel only closes
    // when every Sender, including this original one, has been dropped.
    drop(log);

    for producer in producers {
        producer.join().map_err(|_| "a producer panicked")?;
    }
    let received = logger.join().map_err(|_| "the logger panicked")?;

    ensure!(
        received.len() == PRODUCERS * LINES_PER_PRODUCER,
        "expected {} lines, logger got {}",
        PRODUCERS * LINES_PER_PRODUCER,
        received.len()
    );
    let mut by_producer: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for line in &received {
        ensure!(
            line.text == format!("producer {}: event {}", line.producer, line.seq),
            "garbled line {line:?}"
        );
        by_producer.entry(line.producer).or_default().push(line.seq);
    }
    ensure!(by_producer.len() == PRODUCERS, "some producer is missing");
    let expected: Vec<usize> = (0..LINES_PER_PRODUCER).collect();
    for (producer, seqs) in &by_producer {
        ensure!(
            *seqs == expected,
            "producer {producer}'s lines are lost or out of order: {seqs:?}"
        );
    }
    // How often the stream switched producer shows the interleaving that
    // per-producer ordering survives; it varies from run to run.
    let switches = received
        .windows(2)
        .filter(|pair| pair[0].producer != pair[1].producer)
        .count();
    Ok(format!(
        "{} lines from {PRODUCERS} producers, each in order; \
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
        // Print only each producer's first and last line to keep the
        // output short; all of them are collected for the checks.
        if line.seq == 0 || line.seq + 1 == LINES_PER_PRODUCER {
            println!("  [log] {}", line.text);
        }
        collected.push(line);
    }
    collected
}

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

fn request_response() -> Outcome {
    let (requests, incoming) = mpsc::channel::<Request>();
    let service = thread::spawn(move || run_service(incoming));

    let blocking_client = {
        let requests = requests.clone();
        thread::spawn(move || -> Result<u64, String> {
            let (reply, answer) = mpsc::channel();
            let numbers = (1..=1000).collect();
            requests
                .send(Request::Sum { numbers, reply })
                .map_err(|_| "service is gone")?;
            // Blocks this thread until the service replies; fine for a
            // client with nothing else to do.
            answer
                .recv()
                .map_err(|_| "service dropped the reply".into())
        })
    };

    let polling_client = {
        let requests = requests.clone();
        thread::spawn(move || -> Result<(u64, u64), String> {
            let (reply, answer) = mpsc::channel();
            requests
                .send(Request::NthPrime { n: 10_000, reply })
                .map_err(|_| "service is gone")?;
            // A client with its own loop (say, a UI redrawing frames) must
            // not block, so it polls between frames instead.
            let mut frames = 0;
            loop {
                match answer.try_recv() {
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
         {prime} after {frames} empty polls; service answered {served} requests"
    ))
}

fn run_service(incoming: Receiver<Request>) -> usize {
    let mut served = 0;
    for request in incoming {
        // A failed reply means that client gave up and dropped its
        // Receiver; that must not take the whole service down.
        match request {
            Request::Sum { numbers, reply } => {
                let _ = reply.send(numbers.iter().sum());
            }
            Request::NthPrime { n, reply } => {
                let _ = reply.send(nth_prime(n));
            }
        }
        served += 1;
    }
    served
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
