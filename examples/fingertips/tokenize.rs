//! Words, as fingertips sees them, and the hash that files them.
//!
//! The rule: a word is a maximal run of alphanumeric characters
//! ([`char::is_alphanumeric`]) in the text lowercased by [`str::to_lowercase`].
//! [`reference_words`] (tests only) is that sentence as code; [`for_each_word`]
//! gives exactly the same words, fast.
//!
//! Why the fast path is exact: for ASCII text, `to_lowercase` is
//! `make_ascii_lowercase` and the alphanumeric characters are `[0-9a-z]`. Text
//! with other characters takes the reference route, one line at a time. That
//! is sound because lowercasing has a single context-dependent rule, Greek
//! final sigma, whose context runs through cased and case-ignorable
//! characters only; a line break is neither, so no context crosses it.

/// Calls `emit` with every word of `text`, lowercased, in order.
///
/// `text` is lowercased in place where that is how the words are found (ASCII
/// lines), which saves a copy of the document; callers own the text anyway.
pub(crate) fn for_each_word(text: &mut str, mut emit: impl FnMut(&[u8])) {
    if text.is_ascii() {
        text.make_ascii_lowercase();
        ascii_words(text.as_bytes(), &mut emit);
        return;
    }
    let mut rest = text;
    while !rest.is_empty() {
        let line_len = rest.find('\n').map_or(rest.len(), |newline| newline + 1);
        let (line, tail) = rest.split_at_mut(line_len);
        if line.is_ascii() {
            line.make_ascii_lowercase();
            ascii_words(line.as_bytes(), &mut emit);
        } else {
            let lowered = line.to_lowercase();
            lowered
                .split(|c: char| !c.is_alphanumeric())
                .filter(|word| !word.is_empty())
                .for_each(|word| emit(word.as_bytes()));
        }
        rest = tail;
    }
}

/// The words of `text`, as owned strings (for queries, which are few and short).
pub(crate) fn words(text: &str) -> Vec<String> {
    let mut text = text.to_owned();
    let mut found = Vec::new();
    for_each_word(&mut text, |word| {
        found.push(String::from_utf8_lossy(word).into_owned());
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

fn ascii_words(bytes: &[u8], emit: &mut impl FnMut(&[u8])) {
    let end = bytes.len();
    let mut at = 0;
    loop {
        while at < end && !WORD_BYTE[usize::from(bytes[at])] {
            at += 1;
        }
        if at == end {
            return;
        }
        let start = at;
        at += 1;
        while at < end && WORD_BYTE[usize::from(bytes[at])] {
            at += 1;
        }
        emit(&bytes[start..at]);
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
/// so flooding resistance buys nothing here and SipHash would cost a third of
/// the indexing time.
#[inline]
pub(crate) fn term_hash(term: &[u8]) -> u64 {
    const SEED: u64 = 0xf135_7aea_2e62_a9c5;
    let mix = |hash: u64, word: u64| (hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    let (chunks, tail) = term.as_chunks::<8>();
    let mut hash = (term.len() as u64).wrapping_mul(SEED);
    for chunk in chunks {
        hash = mix(hash, u64::from_le_bytes(*chunk));
    }
    if !tail.is_empty() {
        let mut last = [0u8; 8];
        last[..tail.len()].copy_from_slice(tail);
        hash = mix(hash, u64::from_le_bytes(last));
    }
    // The multiply leaves its best bits at the top; fold them down so that
    // both halves of the hash are worth using.
    hash ^ (hash >> 29)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast_words(text: &str) -> Vec<String> {
        words(text)
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
        'σ', 'ς', 'İ', 'ı', 'I', 'ß', 'ẞ', 'Ü', 'ü', 'é', '\u{301}', '\u{307}', '١', '٣', 'ǅ',
        'Ω', 'K', 'Ⅻ', '①', '中', '文', '😀', '\u{200d}', '\u{ad}', 'ﬁ', 'ǰ', 'Ꙁ', '\r',
    ];

    #[test]
    fn fast_path_matches_the_reference_on_ascii_text() {
        let text = "Hello, WORLD! it's 2024: snake_case CamelCase x86_64 --flag\n\ttabs";
        assert_eq!(fast_words(text), reference_words(text));
        assert_eq!(
            fast_words(text),
            [
                "hello", "world", "it", "s", "2024", "snake", "case", "camelcase", "x86", "64",
                "flag", "tabs"
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
    fn hash_separates_near_misses() {
        let terms = ["a", "b", "ab", "ba", "abcdefgh", "abcdefgi", "abcdefgh1", ""];
        let mut hashes: Vec<u64> = terms.iter().map(|t| term_hash(t.as_bytes())).collect();
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), terms.len());
    }
}
