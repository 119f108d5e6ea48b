//! Stage 5: merging the sorted runs into the final index, streaming.
//!
//! Each run holds the documents of one contiguous range of ids, and runs are
//! in id order, so a term's merged postings list is its runs' lists one after
//! another. The merge never decodes a list: it copies each one whole, and
//! only re-bases the first document id of every list after the first (run
//! lists start with an absolute id, the merged list wants the distance from
//! the previous run's last document, which the dictionary record carries).
//!
//! The merge runs after the rest of the pipeline has drained, so it is built
//! to use every core and to do no more than it must:
//!
//! - the last in-memory index is merged straight from memory, never written
//!   to a file and read back (so an input that fits in memory is written
//!   once, by this stage);
//! - the term space is cut into partitions of about the same size (by
//!   binary search in the runs' fixed-size dictionaries), each partition is
//!   merged into a [`TermBlock`] by a k-way merge of its slices of the runs,
//!   on several threads in the threaded mode, and the blocks are appended in
//!   order. Memory is a few buffers per run per partition in flight,
//!   whatever the size of the index.

use std::path::Path;

use crate::errors::Fatal;
use crate::execution::{Mode, Pieces, spread};
use crate::format::{MAGIC_LEN, TermFiles, TermRecord, push_varint, read_varint};
use crate::sorted_index::SortedIndex;
use crate::storage::{RecordRange, TermBlock, TermLookup, TermReader, TermWriter};

/// A sorted run: written to a file, or the last one, still in memory.
pub(crate) enum Run {
    OnDisk(TermFiles),
    InMemory(SortedIndex),
}

/// Merges `runs` (in document order) into the term files `into`, removing
/// the files. When there are more than `pieces.fan_in`, runs on disk are
/// merged in passes first, consecutive groups into intermediate runs in
/// `scratch`.
pub(crate) fn merge_runs(
    mut runs: Vec<Run>,
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
        let in_memory = match runs.last() {
            Some(Run::InMemory(_)) => runs.pop(),
            _ => None,
        };
        let mut merged = Vec::new();
        let mut groups = runs.into_iter().peekable();
        let mut group_number = 0;
        while groups.peek().is_some() {
            let group: Vec<Run> = groups.by_ref().take(fan_in).collect();
            if group.len() == 1 {
                merged.extend(group);
                continue;
            }
            let output = TermFiles::new(scratch, &format!("pass{pass}-{group_number:06}."));
            merge_group(&group, output.clone(), mode, pieces.partition_bytes)?;
            merged.push(Run::OnDisk(output));
            group_number += 1;
        }
        merged.extend(in_memory);
        runs = merged;
        pass += 1;
    }
    match runs.as_slice() {
        // Runs on disk have the final format: one run is the index.
        [Run::OnDisk(single)] => single.rename_to(into),
        group => merge_group(group, into.clone(), mode, pieces.partition_bytes),
    }
}

/// Merges a group of runs, in document order, into `output`, then removes
/// the files of those on disk.
fn merge_group(
    runs: &[Run],
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
        if let Run::OnDisk(files) = run {
            files.remove()?;
        }
    }
    Ok(())
}

/// A run as the planner sees it: terms by number, and a measure of position.
enum Plan<'a> {
    OnDisk(TermLookup),
    InMemory(&'a SortedIndex),
}

impl Plan<'_> {
    fn len(&self) -> u64 {
        match self {
            Plan::OnDisk(lookup) => lookup.len(),
            Plan::InMemory(index) => index.len() as u64,
        }
    }

    /// Where term `number` starts, in the run's own unit (bytes or postings).
    fn position(&self, number: u64) -> Result<u64, Fatal> {
        match self {
            Plan::OnDisk(lookup) if number < lookup.len() => {
                Ok(lookup.record(number)?.postings_offset - MAGIC_LEN)
            }
            Plan::OnDisk(_) => self.encoded_bytes(),
            Plan::InMemory(index) => Ok(index.postings_before(number as usize)),
        }
    }

    /// About how many bytes of postings lists the run holds.
    fn encoded_bytes(&self) -> Result<u64, Fatal> {
        match self {
            Plan::OnDisk(lookup) if lookup.len() == 0 => Ok(0),
            Plan::OnDisk(lookup) => {
                let last = lookup.record(lookup.len() - 1)?;
                Ok(last.postings_offset + last.postings_len - MAGIC_LEN)
            }
            Plan::InMemory(index) => Ok(index.encoded_bytes()),
        }
    }

    /// The number of the first term whose position is at least `target`.
    fn first_at(&self, target: u64) -> Result<u64, Fatal> {
        match self {
            Plan::OnDisk(lookup) => {
                lookup.first_where(|_, record| Ok(record.postings_offset - MAGIC_LEN >= target))
            }
            Plan::InMemory(index) => Ok(index.first_rank_at(target) as u64),
        }
    }

    fn text(&self, number: u64) -> Result<Vec<u8>, Fatal> {
        match self {
            Plan::OnDisk(lookup) => {
                let mut text = Vec::new();
                lookup.text(&lookup.record(number)?, &mut text)?;
                Ok(text)
            }
            Plan::InMemory(index) => Ok(index.text(number as usize).to_vec()),
        }
    }

    fn lower_bound(&self, term: &[u8]) -> Result<u64, Fatal> {
        match self {
            Plan::OnDisk(lookup) => lookup.lower_bound(term),
            Plan::InMemory(index) => Ok(index.lower_bound(term) as u64),
        }
    }

    /// The slice of terms `start..end` of this run, as a partition holds it.
    fn slice(&self, start: u64, end: u64) -> Result<Option<SliceOf>, Fatal> {
        if start >= end {
            return Ok(None);
        }
        Ok(Some(match self {
            Plan::OnDisk(lookup) => SliceOf::OnDisk(lookup.range(start..end)?),
            Plan::InMemory(_) => SliceOf::InMemory(start as usize, end as usize),
        }))
    }
}

/// A run's share of a partition.
enum SliceOf {
    OnDisk(RecordRange),
    InMemory(usize, usize),
}

/// One partition: for each run, its share (`None` when empty).
type Partition = Vec<Option<SliceOf>>;

/// Cuts the term space at terms taken from the biggest run, spaced evenly
/// along it; the other runs, whose documents are much like its own, are cut
/// at the same terms.
fn plan_partitions(runs: &[Run], partition_bytes: u64) -> Result<Vec<Partition>, Fatal> {
    let plans = runs
        .iter()
        .map(|run| match run {
            Run::OnDisk(files) => Ok(Plan::OnDisk(TermLookup::open(files)?)),
            Run::InMemory(index) => Ok(Plan::InMemory(index)),
        })
        .collect::<Result<Vec<_>, Fatal>>()?;
    let mut sizes = Vec::with_capacity(plans.len());
    for plan in &plans {
        sizes.push(plan.encoded_bytes()?);
    }
    let total: u64 = sizes.iter().sum();
    let wanted = (total / partition_bytes.max(1)).clamp(1, 1024);
    let guide = (0..plans.len()).max_by_key(|&run| sizes[run]).unwrap_or(0);

    let mut cuts: Vec<Vec<u8>> = Vec::new();
    if let Some(guide) = plans.get(guide) {
        let guide_end = guide.position(guide.len())?;
        for part in 1..wanted {
            let number = guide.first_at(guide_end * part / wanted)?;
            if number == guide.len() {
                break;
            }
            let text = guide.text(number)?;
            if cuts.last().is_none_or(|last| *last < text) {
                cuts.push(text);
            }
        }
    }

    let mut partitions: Vec<Partition> = (0..=cuts.len()).map(|_| Vec::new()).collect();
    for plan in &plans {
        let mut start = 0;
        for (partition, cut) in partitions
            .iter_mut()
            .zip(cuts.iter().map(Some).chain([None]))
        {
            let end = match cut {
                Some(cut) => plan.lower_bound(cut)?,
                None => plan.len(),
            };
            partition.push(plan.slice(start, end)?);
            start = end;
        }
    }
    Ok(partitions)
}

/// A run's share of a partition, being read: from its files, or encoded
/// from memory.
enum Cursor<'a> {
    OnDisk(Box<TermReader>, &'a TermFiles),
    InMemory(TermBlock, usize),
}

impl Cursor<'_> {
    /// The current term: record, text, postings list.
    fn term(&self) -> (&TermRecord, &[u8], &[u8]) {
        match self {
            Cursor::OnDisk(reader, _) => (&reader.record, &reader.text, &reader.postings_list),
            Cursor::InMemory(block, number) => block.term(*number),
        }
    }

    /// Moves to the next term; `false` at the end of the share.
    fn advance(&mut self) -> Result<bool, Fatal> {
        match self {
            Cursor::OnDisk(reader, _) => reader.advance(),
            Cursor::InMemory(block, number) => {
                *number += 1;
                Ok(*number < block.len())
            }
        }
    }

    fn corrupt(&self, detail: &str) -> Fatal {
        match self {
            Cursor::OnDisk(_, files) => Fatal::corrupt(&files.postings, detail),
            Cursor::InMemory(..) => Fatal::corrupt(Path::new("(the last in-memory index)"), detail),
        }
    }
}

/// The k-way merge of one partition's shares of the runs.
fn merge_partition(runs: &[Run], partition: &Partition) -> Result<TermBlock, Fatal> {
    let mut cursors = Vec::with_capacity(runs.len());
    for (run, share) in runs.iter().zip(partition) {
        let cursor = match (run, share) {
            (_, None) => continue,
            (Run::OnDisk(files), Some(SliceOf::OnDisk(range))) => {
                let mut reader = TermReader::open(files, range)?;
                reader.advance()?;
                Cursor::OnDisk(Box::new(reader), files)
            }
            (Run::InMemory(index), Some(SliceOf::InMemory(start, end))) => {
                Cursor::InMemory(index.encode(*start..*end), 0)
            }
            _ => unreachable!("a share is planned from its own run"),
        };
        cursors.push(cursor);
    }
    // Shares are never empty, so every cursor starts on a term.
    let mut live: Vec<usize> = (0..cursors.len()).collect();
    let mut block = TermBlock::default();
    let mut term = Vec::new();
    let mut finished = Vec::new();
    // Few runs: a linear scan for the smallest term beats a heap.
    while let Some(&first) = live
        .iter()
        .min_by(|&&a, &&b| cursors[a].term().1.cmp(cursors[b].term().1))
    {
        term.clear();
        term.extend_from_slice(cursors[first].term().1);
        block.begin_term(&term);
        let mut doc_count: u32 = 0;
        let mut last_doc: Option<u32> = None;
        // `live` is in run order, so the lists come in document order.
        for &number in &live {
            let cursor = &mut cursors[number];
            let (record, text, list) = cursor.term();
            if text != term {
                continue;
            }
            match last_doc {
                None => block.postings.extend_from_slice(list),
                Some(previous_doc) => {
                    let mut at = 0;
                    let first_doc = read_varint(list, &mut at)
                        .filter(|&doc| doc > previous_doc)
                        .ok_or_else(|| cursor.corrupt("bad first document"))?;
                    push_varint(&mut block.postings, first_doc - previous_doc);
                    block.postings.extend_from_slice(&list[at..]);
                }
            }
            doc_count += record.doc_count;
            last_doc = Some(record.last_doc);
            if !cursor.advance()? {
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
