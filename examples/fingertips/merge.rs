//! Stage 5: merging the sorted runs into the final index, streaming.
//!
//! Each run holds the documents of one contiguous range of ids, and runs are
//! in id order, so a term's merged postings list is its runs' lists one after
//! another. The merge never decodes a list: it copies each one whole, and
//! only re-bases the first document id of every list after the first (run
//! lists start with an absolute id, the merged list wants the distance from
//! the previous run's last document, which the dictionary record carries).
//! Memory is a few buffers per run, whatever the size of the index.

use std::path::Path;

use crate::errors::Fatal;
use crate::format::{TermFiles, TermReader, TermWriter, read_varint};

/// How many runs one merge reads at once: bounded so the open files stay
/// well under the usual limit of 1024 (three per run).
pub(crate) const DEFAULT_FAN_IN: usize = 64;

/// Merges `runs` (in document order) into the term files `into`, removing
/// the runs. More than `fan_in` runs are merged in passes, each pass merging
/// consecutive groups into intermediate runs in `scratch`.
pub(crate) fn merge_runs(
    mut runs: Vec<TermFiles>,
    scratch: &Path,
    into: &TermFiles,
    fan_in: usize,
) -> Result<(), Fatal> {
    assert!(fan_in >= 2, "a merge needs to read at least two runs at once");
    let mut pass = 0;
    while runs.len() > fan_in {
        let mut merged = Vec::new();
        for (group_number, group) in runs.chunks(fan_in).enumerate() {
            if let [single] = group {
                merged.push(single.clone());
                continue;
            }
            let output = TermFiles::new(scratch, &format!("pass{pass}-{group_number:06}."));
            merge_group(group, output.clone())?;
            merged.push(output);
        }
        runs = merged;
        pass += 1;
    }
    match runs.as_slice() {
        [] => unreachable!("there is always at least one run"),
        // Runs have the final format: one run is the index.
        [single] => single.rename_to(into),
        group => merge_group(group, into.clone()),
    }
}

/// Merges a group of runs, in document order, into `output`, then removes them.
fn merge_group(runs: &[TermFiles], output: TermFiles) -> Result<(), Fatal> {
    let mut readers = Vec::with_capacity(runs.len());
    let mut live = Vec::with_capacity(runs.len());
    for (number, run) in runs.iter().enumerate() {
        let mut reader = TermReader::open(run)?;
        if reader.advance()? {
            live.push(number);
        }
        readers.push(reader);
    }
    let mut writer = TermWriter::create(output)?;
    let mut term = Vec::new();
    let mut finished = Vec::new();
    // Few runs: a linear scan for the smallest term beats a heap.
    while let Some(&first) = live
        .iter()
        .min_by(|&&a, &&b| readers[a].text.cmp(&readers[b].text))
    {
        term.clear();
        term.extend_from_slice(&readers[first].text);
        writer.begin_term(&term)?;
        let mut doc_count: u32 = 0;
        let mut last_doc: Option<u32> = None;
        // `live` is in run order, so the lists come in document order.
        for &number in &live {
            let reader = &mut readers[number];
            if reader.text != term {
                continue;
            }
            let list = &reader.postings_list;
            match last_doc {
                None => writer.write_postings(list)?,
                Some(previous_doc) => {
                    let mut at = 0;
                    let first_doc = read_varint(list, &mut at)
                        .filter(|&doc| doc > previous_doc)
                        .ok_or_else(|| Fatal::corrupt(&runs[number].postings, "bad first document"))?;
                    writer.write_postings_varint(first_doc - previous_doc)?;
                    writer.write_postings(&list[at..])?;
                }
            }
            doc_count += reader.record.doc_count;
            last_doc = Some(reader.record.last_doc);
            if !reader.advance()? {
                finished.push(number);
            }
        }
        writer.end_term(doc_count, last_doc.unwrap_or(0))?;
        if !finished.is_empty() {
            live.retain(|number| !finished.contains(number));
            finished.clear();
        }
    }
    writer.finish()?;
    drop(readers);
    for run in runs {
        run.remove()?;
    }
    Ok(())
}
