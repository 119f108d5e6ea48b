//! Words, as fingertips sees them, and the hash that files them.
//!
//! The rule: a word is a maximal run of alphanumeric characters
//! ([`char::is_alphanumeric`]) in the text lowercased by [`str::to_lowercase`].
//! [`reference_words`] (tests only) is that sentence as code;
//! [`lowercase_words`] gives exactly the same words, fast.
//!
//! Why the fast path is exact: for ASCII text, `to_lowercase` is
//! `make_ascii_lowercase` and the alphanumeric characters are `[0-9a-z]`. Text
//! with other characters takes the reference route, one line at a time. That
//! is sound because lowercasing has a single context-dependent rule, Greek
//! final sigma, whose context runs through cased and case-ignorable
//! characters only; a line break is neither, so no context crosses it.

/// Lowercases `text` as [`str::to_lowercase`] does and returns it, after
/// calling `emit(lowercased, start, end)` for each of its words, in order:
/// the word is `lowercased[start..end]`, and `lowercased` holds every word
/// found so far too.
///
/// An ASCII text (most source code) is lowercased in place: no copy, and the
/// words are slices of it, so the caller can keep words as offsets into it
/// instead of copies.
pub(crate) fn lowercase_words(text: String, mut emit: impl FnMut(&[u8], usize, usize)) -> String {
    if text.is_ascii() {
        let mut text = text;
        text.make_ascii_lowercase();
        ascii_words(text.as_bytes(), 0, &mut emit);
        return text;
    }
    let mut lowered = String::with_capacity(text.len() + text.len() / 8);
    for line in text.split_inclusive('\n') {
        let line_start = lowered.len();
        if line.is_ascii() {
            lowered.push_str(line);
            lowered[line_start..].make_ascii_lowercase();
            ascii_words(lowered.as_bytes(), line_start, &mut emit);
        } else {
            lowered.push_str(&line.to_lowercase());
            unicode_words(&lowered, line_start, &mut emit);
        }
    }
    lowered
}

/// The words of `text`, as owned strings (for queries, which are few and short).
pub(crate) fn words(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    lowercase_words(text.to_owned(), |lowercased, start, end| {
        found.push(String::from_utf8_lossy(&lowercased[start..end]).into_owned());
    });
    found
}

/// Which bytes belong to words once ASCII text is lowercased.
const WORD_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = (byte as u8).is_ascii_alphanumeric();
        byte += 1;
    }
    table
};

/// The words of the (lowercase ASCII) `text[from..]`.
fn ascii_words(text: &[u8], from: usize, emit: &mut impl FnMut(&[u8], usize, usize)) {
    let end = text.len();
    let mut at = from;
    loop {
        while at < end && !WORD_BYTE[usize::from(text[at])] {
            at += 1;
        }
        if at == end {
            return;
        }
        let start = at;
        at += 1;
        while at < end && WORD_BYTE[usize::from(text[at])] {
            at += 1;
        }
        emit(text, start, at);
    }
}

/// The words of `text[from..]`, by the reference rule.
fn unicode_words(text: &str, from: usize, emit: &mut impl FnMut(&[u8], usize, usize)) {
    let mut word_start = None;
    for (at, c) in text[from..].char_indices() {
        if c.is_alphanumeric() {
            word_start.get_or_insert(from + at);
        } else if let Some(start) = word_start.take() {
            emit(text.as_bytes(), start, from + at);
        }
    }
    if let Some(start) = word_start {
        emit(text.as_bytes(), start, text.len());
    }
}

/// The words of `text` by the rule's own definition: slow, obviously right.
#[cfg(test)]
pub(crate) fn reference_words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A fast non-cryptographic hash of a term, FxHash style: one multiply per
/// 8 bytes. Terms come from the files being indexed, not from an adversary,
/// so flooding resistance buys nothing here, and SipHash would cost a third
/// of the indexing time.
#[inline]
pub(crate) fn term_hash(term: &[u8]) -> u64 {
    const SEED: u64 = 0xf135_7aea_2e62_a9c5;
    let mix = |hash: u64, word: u64| (hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    let mut hash = (term.len() as u64).wrapping_mul(SEED);
    let (chunks, tail) = term.as_chunks::<8>();
    for chunk in chunks {
        hash = mix(hash, u64::from_le_bytes(*chunk));
    }
    if !tail.is_empty() {
        // The last 8 bytes, overlapping the chunks when there are any: one
        // load instead of a variable-length copy (a `memcpy` call per word).
        let last = match term.last_chunk::<8>() {
            Some(last) => u64::from_le_bytes(*last),
            None => short_word(tail),
        };
        hash = mix(hash, last);
    }
    // The multiply leaves its best bits at the top; fold some down so that
    // the low half is worth using too. (The table uses the top 32 bits.)
    hash ^ (hash >> 29)
}

/// Packs 1 to 7 bytes into a u64 with at most two loads. The result is a
/// one-to-one function of the bytes for any given length (the loads
/// overlap but cover every byte), which [`same_term`] relies on.
#[inline]
fn short_word(bytes: &[u8]) -> u64 {
    match (bytes.first_chunk::<4>(), bytes.last_chunk::<4>()) {
        (Some(first), Some(last)) => {
            u64::from(u32::from_le_bytes(*first)) | u64::from(u32::from_le_bytes(*last)) << 32
        }
        _ => match bytes {
            [] => 0,
            [first, ..] => {
                let (middle, last) = (bytes[bytes.len() / 2], bytes[bytes.len() - 1]);
                u64::from(*first) | u64::from(middle) << 8 | u64::from(last) << 16
            }
        },
    }
}

/// `a == b`, without a `memcmp` call for the short words that make up most
/// of any text.
#[inline]
pub(crate) fn same_term(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    match (a.first_chunk::<8>(), b.first_chunk::<8>()) {
        (None, None) => short_word(a) == short_word(b),
        (Some(a_first), Some(b_first)) if a.len() <= 16 => {
            // Two overlapping 8-byte loads cover 8 to 16 bytes.
            a_first == b_first && a.last_chunk::<8>() == b.last_chunk::<8>()
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The words by the fast path, checking that each offset points at its word.
    fn fast_words(text: &str) -> Vec<String> {
        let mut found = Vec::new();
        let lowered = lowercase_words(text.to_owned(), |lowercased, start, end| {
            let word = String::from_utf8_lossy(&lowercased[start..end]).into_owned();
            found.push((start, word));
        });
        assert_eq!(lowered, text.to_lowercase());
        for (start, word) in &found {
            assert_eq!(&lowered[*start..*start + word.len()], word);
        }
        found.into_iter().map(|(_, word)| word).collect()
    }

    /// A small deterministic generator, so a failure can be replayed.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn pick<T: Copy>(&mut self, choices: &[T]) -> T {
            choices[(self.next() % choices.len() as u64) as usize]
        }
    }

    /// Characters that stress the rule: case pairs that change length, Greek
    /// sigma in every position, digits of other scripts, combining marks,
    /// case-ignorable punctuation next to letters, line breaks.
    const TRICKY: &[char] = &[
        'a', 'Z', 'q', '0', '9', ' ', '\n', '\t', '.', '\'', ':', '-', '_', ',', '^', '`', 'Σ',
        'σ', 'ς', 'İ', 'ı', 'I', 'ß', 'ẞ', 'Ü', 'ü', 'é', '\u{301}', '\u{307}', '١', '٣', 'ǅ', 'Ω',
        'K', 'Ⅻ', '①', '中', '文', '😀', '\u{200d}', '\u{ad}', 'ﬁ', 'ǰ', 'Ꙁ', '\r',
    ];

    #[test]
    fn fast_path_matches_the_reference_on_ascii_text() {
        let text = "Hello, WORLD! it's 2024: snake_case CamelCase x86_64 --flag\n\ttabs";
        assert_eq!(fast_words(text), reference_words(text));
        assert_eq!(
            fast_words(text),
            [
                "hello",
                "world",
                "it",
                "s",
                "2024",
                "snake",
                "case",
                "camelcase",
                "x86",
                "64",
                "flag",
                "tabs"
            ]
        );
    }

    #[test]
    fn fast_path_matches_the_reference_on_random_unicode_text() {
        let mut random = XorShift(0x9e37_79b9_7f4a_7c15);
        for round in 0..20_000 {
            let len = (random.next() % 24) as usize;
            let text: String = (0..len)
                .map(|_| match random.next() % 4 {
                    0 => random.pick(TRICKY),
                    1 => random.pick(&['a', 'B', ' ', '\n', 'Σ']),
                    _ => char::from_u32((random.next() % 0x3000) as u32).unwrap_or('?'),
                })
                .collect();
            assert_eq!(
                fast_words(&text),
                reference_words(&text),
                "round {round}, text {text:?}"
            );
        }
    }

    #[test]
    fn final_sigma_and_lines() {
        for text in [
            "ΟΔΟΣ ΟΔΟΣ.",
            "A.Σ\nΣ",
            "AΣ\nb",
            "aΣb",
            "Σ",
            "xΣ:\n:Σ",
            "İstanbul ǅemal",
        ] {
            assert_eq!(fast_words(text), reference_words(text), "{text:?}");
        }
    }

    #[test]
    fn same_term_is_equality() {
        let words: Vec<String> = (0..40)
            .flat_map(|len| {
                let base: String = (0..len)
                    .map(|i| char::from(b'a' + (i % 26) as u8))
                    .collect();
                let mut changed = base.clone().into_bytes();
                if let Some(middle) = changed.get_mut(len / 2) {
                    *middle = b'0';
                }
                [base, String::from_utf8(changed).unwrap_or_default()]
            })
            .collect();
        for a in &words {
            for b in &words {
                assert_eq!(same_term(a.as_bytes(), b.as_bytes()), a == b, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn hash_separates_near_misses() {
        let terms = [
            "a",
            "b",
            "ab",
            "ba",
            "abcdefgh",
            "abcdefgi",
            "abcdefgh1",
            "",
        ];
        let mut hashes: Vec<u64> = terms.iter().map(|t| term_hash(t.as_bytes())).collect();
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), terms.len());
    }
}
