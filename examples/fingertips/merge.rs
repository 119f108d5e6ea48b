//! Stage 5: merging the sorted runs into the final index, streaming.
//!
//! Each run holds the documents of one contiguous range of ids, and runs are
//! in id order, so a term's merged postings list is its runs' lists one after
//! another. The merge never decodes a list: it copies each one whole, and
//! only re-bases the first document id of every list after the first (run
//! lists start with an absolute id, the merged list wants the distance from
//! the previous run's last document, which the dictionary record carries).
//!
//! The merge is the last thing to run, so in the threaded mode it is split
//! to use every core: the term space is cut into partitions of about the same
//! size (by binary search in the runs' fixed-size dictionaries), each
//! partition is merged into a [`TermBlock`] by a k-way merge of its slices of
//! the runs, and the blocks are appended in order. Memory is a few buffers
//! per run per partition in flight, whatever the size of the index.

use std::path::Path;

use crate::errors::Fatal;
use crate::format::{MAGIC_LEN, TermFiles, push_varint, read_varint};
use crate::pipeline::{Mode, Pieces, spread};
use crate::storage::{RecordRange, TermBlock, TermLookup, TermReader, TermWriter};

/// Merges `runs` (in document order) into the term files `into`, removing
/// the runs. More than `pieces.fan_in` runs are merged in passes, each pass
/// merging consecutive groups into intermediate runs in `scratch`.
pub(crate) fn merge_runs(
    mut runs: Vec<TermFiles>,
    scratch: &Path,
    into: &TermFiles,
    mode: Mode,
    pieces: Pieces,
) -> Result<(), Fatal> {
    let fan_in = pieces.fan_in;
    assert!(
        fan_in >= 2,
        "a merge needs to read at least two runs at once"
    );
    let mut pass = 0;
    while runs.len() > fan_in {
        let mut merged = Vec::new();
        for (group_number, group) in runs.chunks(fan_in).enumerate() {
            if let [single] = group {
                merged.push(single.clone());
                continue;
            }
            let output = TermFiles::new(scratch, &format!("pass{pass}-{group_number:06}."));
            merge_group(group, output.clone(), mode, pieces.partition_bytes)?;
            merged.push(output);
        }
        runs = merged;
        pass += 1;
    }
    match runs.as_slice() {
        [] => unreachable!("there is always at least one run"),
        // Runs have the final format: one run is the index.
        [single] => single.rename_to(into),
        group => merge_group(group, into.clone(), mode, pieces.partition_bytes),
    }
}

/// Merges a group of runs, in document order, into `output`, then removes them.
fn merge_group(
    runs: &[TermFiles],
    output: TermFiles,
    mode: Mode,
    partition_bytes: u64,
) -> Result<(), Fatal> {
    let partitions = plan_partitions(runs, partition_bytes)?;
    let mut writer = TermWriter::create(output)?;
    spread(
        mode,
        "merger",
        partitions,
        |partition| merge_partition(runs, &partition),
        |block| writer.append(&block),
    )?;
    writer.finish()?;
    for run in runs {
        run.remove()?;
    }
    Ok(())
}

/// One partition: for each run, the range of its records that falls in the
/// partition's stretch of the term space (`None` when empty).
type Partition = Vec<Option<RecordRange>>;

/// Cuts the term space at terms taken from the biggest run, spaced by its
/// postings bytes; the other runs, whose documents are much like its own,
/// are cut at the same terms.
fn plan_partitions(runs: &[TermFiles], partition_bytes: u64) -> Result<Vec<Partition>, Fatal> {
    let lookups = runs
        .iter()
        .map(TermLookup::open)
        .collect::<Result<Vec<_>, Fatal>>()?;
    let mut sizes = Vec::with_capacity(lookups.len());
    for lookup in &lookups {
        sizes.push(match lookup.len() {
            0 => 0,
            len => {
                let last = lookup.record(len - 1)?;
                last.postings_offset + last.postings_len - MAGIC_LEN
            }
        });
    }
    let (guide, guide_bytes) = sizes
        .iter()
        .copied()
        .enumerate()
        .max_by_key(|&(_, bytes)| bytes)
        .unwrap_or((0, 0));
    let total: u64 = sizes.iter().sum();
    let wanted = (total / partition_bytes.max(1)).clamp(1, 1024);

    let mut cuts: Vec<Vec<u8>> = Vec::new();
    let mut text = Vec::new();
    for part in 1..wanted {
        let target = MAGIC_LEN + guide_bytes * part / wanted;
        let guide_lookup = &lookups[guide];
        let number = guide_lookup.first_where(|_, record| Ok(record.postings_offset >= target))?;
        if number == guide_lookup.len() {
            break;
        }
        guide_lookup.text(&guide_lookup.record(number)?, &mut text)?;
        if cuts.last().is_none_or(|last| *last < text) {
            cuts.push(text.clone());
        }
    }

    let mut partitions: Vec<Partition> = vec![Vec::with_capacity(runs.len()); cuts.len() + 1];
    for lookup in &lookups {
        let mut bounds = vec![0];
        for cut in &cuts {
            bounds.push(lookup.lower_bound(cut)?);
        }
        bounds.push(lookup.len());
        for (partition, pair) in partitions.iter_mut().zip(bounds.windows(2)) {
            let range = match pair {
                &[start, end] if start < end => Some(lookup.range(start..end)?),
                _ => None,
            };
            partition.push(range);
        }
    }
    Ok(partitions)
}

/// The k-way merge of one partition's slices of the runs.
fn merge_partition(runs: &[TermFiles], partition: &Partition) -> Result<TermBlock, Fatal> {
    let mut readers = Vec::with_capacity(runs.len());
    let mut live = Vec::with_capacity(runs.len());
    for (files, range) in runs.iter().zip(partition) {
        let Some(range) = range else { continue };
        let mut reader = TermReader::open(files, range)?;
        if reader.advance()? {
            live.push(readers.len());
        }
        readers.push((reader, files));
    }
    let mut block = TermBlock::default();
    let mut term = Vec::new();
    let mut finished = Vec::new();
    // Few runs: a linear scan for the smallest term beats a heap.
    while let Some(&first) = live
        .iter()
        .min_by(|&&a, &&b| readers[a].0.text.cmp(&readers[b].0.text))
    {
        term.clear();
        term.extend_from_slice(&readers[first].0.text);
        block.begin_term(&term);
        let mut doc_count: u32 = 0;
        let mut last_doc: Option<u32> = None;
        // `live` is in run order, so the lists come in document order.
        for &number in &live {
            let (reader, files) = &mut readers[number];
            if reader.text != term {
                continue;
            }
            let list = &reader.postings_list;
            match last_doc {
                None => block.postings.extend_from_slice(list),
                Some(previous_doc) => {
                    let mut at = 0;
                    let first_doc = read_varint(list, &mut at)
                        .filter(|&doc| doc > previous_doc)
                        .ok_or_else(|| Fatal::corrupt(&files.postings, "bad first document"))?;
                    push_varint(&mut block.postings, first_doc - previous_doc);
                    block.postings.extend_from_slice(&list[at..]);
                }
            }
            doc_count += reader.record.doc_count;
            last_doc = Some(reader.record.last_doc);
            if !reader.advance()? {
                finished.push(number);
            }
        }
        block.end_term(doc_count, last_doc.unwrap_or(0));
        if !finished.is_empty() {
            live.retain(|number| !finished.contains(number));
            finished.clear();
        }
    }
    Ok(block)
}
