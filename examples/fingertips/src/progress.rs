//! The progress bar of the `index` command: files and megabytes done.

use indicatif::{ProgressBar, ProgressStyle};

/// The progress bar: files and megabytes done, drawn by indicatif, which
/// draws only on a terminal (never into a log file) and at most a few
/// times a second.
#[derive(Debug)]
pub(crate) struct Progress {
    bar: ProgressBar,
    bytes: u64,
}

/// The bar's look: where it stands, and the megabytes in the message.
const PROGRESS_TEMPLATE: &str = "{wide_bar} {pos}/{len} files, {msg} ({elapsed})";

/// How many files between updates of the bar's message, which is formatted
/// text: often enough for the eye, rarely enough to cost nothing.
const MESSAGE_EVERY: u64 = 64;

impl Progress {
    pub(crate) fn new(bar: ProgressBar, total_files: usize) -> Self {
        if let Ok(style) = ProgressStyle::with_template(PROGRESS_TEMPLATE) {
            bar.set_style(style);
        }
        bar.set_length(total_files as u64);
        Progress { bar, bytes: 0 }
    }

    pub(crate) fn document_done(&mut self, bytes: u64) {
        self.bytes += bytes;
        self.bar.inc(1);
        if self.bar.position().is_multiple_of(MESSAGE_EVERY) {
            self.bar
                .set_message(format!("{:.1} MB indexed", self.bytes as f64 / 1e6));
        }
    }

    pub(crate) fn finish(&mut self) {
        // The summary line that follows says what was done.
        self.bar.finish_and_clear();
    }
}
