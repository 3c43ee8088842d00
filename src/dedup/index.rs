//! In-memory LSH index: the reference semantics of duplicate lookup.
//!
//! Fingerprints are kept in flat arrays (no per-article allocation) and the band keys in one
//! open-addressing table of 8-byte entries, which is what keeps the index near 1 KB per
//! stored article: 256 bytes of signature, up to 64 of lead, 4 per fact, the headline's words
//! (2 bytes each) and names and numbers (4 bytes each), 12 of shape, 36 band entries of about
//! 12 bytes, and a 1.25× growth margin instead of `Vec`'s 2×.

use super::fingerprint::View;
use super::minhash::SIG_LEN;
use super::{Engine, Fingerprint};

/// Streaming duplicate detector over an in-memory LSH index.
///
/// [`check_and_insert`](Self::check_and_insert) looks up every band key of the new
/// fingerprint, compares it with each candidate and returns the best duplicate (highest
/// similarity, ties to the earliest); when there is none the fingerprint is stored.
/// Duplicates are not stored: later copies must match the original, as in the persistent store.
#[derive(Debug)]
pub struct MemoryIndex {
    engine: Engine,
    sigs: Vec<u16>,
    shingles: Vec<u32>,
    shingle_words: Vec<u8>,
    lead_ends: Vec<u32>,
    leads: Vec<u16>,
    fact_ends: Vec<u32>,
    facts: Vec<u32>,
    head_word_ends: Vec<u32>,
    head_words: Vec<u16>,
    /// Headline names then numbers of each entry, and the number of names.
    head_fact_ends: Vec<u32>,
    head_facts: Vec<u32>,
    head_names: Vec<u8>,
    shapes: Vec<Option<super::fingerprint::Shape>>,
    /// Stream position (number of earlier `check_and_insert` calls) of each stored entry.
    positions: Vec<u32>,
    table: BandTable,
    calls: usize,
    candidates: Vec<u32>,
}

impl MemoryIndex {
    /// An empty index that decides with `engine`.
    pub fn new(engine: Engine) -> Self {
        MemoryIndex {
            engine,
            sigs: Vec::new(),
            shingles: Vec::new(),
            shingle_words: Vec::new(),
            lead_ends: Vec::new(),
            leads: Vec::new(),
            fact_ends: Vec::new(),
            facts: Vec::new(),
            head_word_ends: Vec::new(),
            head_words: Vec::new(),
            head_fact_ends: Vec::new(),
            head_facts: Vec::new(),
            head_names: Vec::new(),
            shapes: Vec::new(),
            positions: Vec::new(),
            table: BandTable::default(),
            calls: 0,
            candidates: Vec::new(),
        }
    }

    /// The engine the index compares with.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Returns `Some((position, similarity))` of the best stored original when `fp` is a
    /// duplicate, where `position` is the original's 0-based position among all calls so far
    /// (duplicates take a position too, so it is the article's place in the input stream);
    /// otherwise stores `fp` and returns `None`.
    ///
    /// Pairs that need the template check on their texts
    /// ([`Comparison::needs_text_check`](super::Comparison::needs_text_check)) are taken as
    /// copies: the index has no texts. [`check_and_insert_with`](Self::check_and_insert_with)
    /// runs that check.
    pub fn check_and_insert(&mut self, fp: Fingerprint) -> Option<(usize, f64)> {
        self.check_and_insert_with(fp, |_| true)
    }

    /// [`check_and_insert`](Self::check_and_insert) with the template check: when the best
    /// candidate needs it, `confirm` gets that original's position and says whether the pair
    /// is still a copy (see [`Engine::template_swaps`](super::Engine::template_swaps)); if not,
    /// the next best candidate is tried, and when none is left `fp` is stored as a new article.
    pub fn check_and_insert_with(
        &mut self,
        fp: Fingerprint,
        mut confirm: impl FnMut(usize) -> bool,
    ) -> Option<(usize, f64)> {
        let position = self.calls;
        self.calls += 1;
        let keys = self.engine.band_keys(&fp);
        self.candidates.clear();
        for &key in &keys {
            self.table.lookup(key, &mut self.candidates);
        }
        self.candidates.sort_unstable();
        self.candidates.dedup();
        let mut found: Vec<(u32, f64, bool)> = Vec::new();
        for &id in &self.candidates {
            let c = self.engine.compare_parts(fp.view(), self.view(id as usize));
            if c.is_duplicate {
                found.push((id, c.similarity, c.needs_text_check));
            }
        }
        // Best first; candidates are in insertion order and the sort is stable, so ties go
        // to the earliest.
        found.sort_by(|a, b| b.1.total_cmp(&a.1));
        for (id, similarity, check) in found {
            let original = self.positions[id as usize] as usize;
            if !check || confirm(original) {
                return Some((original, similarity));
            }
        }
        let id = u32::try_from(self.positions.len()).expect("more than 4 G stored articles");
        for key in keys {
            self.table.insert(key, id);
        }
        extend(&mut self.sigs, &fp.sig[..]);
        extend(&mut self.leads, &fp.lead);
        extend(&mut self.facts, &fp.facts);
        extend(&mut self.head_words, &fp.head_words);
        extend(&mut self.head_facts, &fp.head_names);
        extend(&mut self.head_facts, &fp.head_numbers);
        // At most MAX_HEAD (255) names: the cast is exact.
        extend(&mut self.head_names, &[fp.head_names.len() as u8]);
        extend(&mut self.shapes, &[fp.shape]);
        extend(&mut self.shingles, &[fp.shingles]);
        extend(&mut self.shingle_words, &[fp.shingle_words]);
        extend(&mut self.lead_ends, &[self.leads.len() as u32]);
        extend(&mut self.fact_ends, &[self.facts.len() as u32]);
        extend(&mut self.head_word_ends, &[self.head_words.len() as u32]);
        extend(&mut self.head_fact_ends, &[self.head_facts.len() as u32]);
        extend(&mut self.positions, &[position as u32]);
        None
    }

    /// Number of stored (distinct) fingerprints.
    pub fn len(&self) -> usize {
        self.positions.len()
    }

    /// Whether nothing is stored yet.
    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    /// Heap bytes held by the index (allocated capacity, not just what is in use).
    pub fn heap_bytes(&self) -> usize {
        fn bytes<T>(v: &Vec<T>) -> usize {
            v.capacity() * size_of::<T>()
        }
        bytes(&self.sigs)
            + bytes(&self.leads)
            + bytes(&self.facts)
            + bytes(&self.shingles)
            + bytes(&self.shingle_words)
            + bytes(&self.lead_ends)
            + bytes(&self.fact_ends)
            + bytes(&self.head_words)
            + bytes(&self.head_word_ends)
            + bytes(&self.head_facts)
            + bytes(&self.head_fact_ends)
            + bytes(&self.head_names)
            + bytes(&self.shapes)
            + bytes(&self.positions)
            + bytes(&self.candidates)
            + bytes(&self.table.slots)
    }

    fn view(&self, id: usize) -> View<'_> {
        let span = |ends: &[u32]| {
            let start = if id == 0 { 0 } else { ends[id - 1] as usize };
            start..ends[id] as usize
        };
        let (head_names, head_numbers) =
            self.head_facts[span(&self.head_fact_ends)].split_at(usize::from(self.head_names[id]));
        View {
            sig: &self.sigs[id * SIG_LEN..(id + 1) * SIG_LEN],
            shingles: self.shingles[id],
            shingle_words: self.shingle_words[id],
            lead: &self.leads[span(&self.lead_ends)],
            facts: &self.facts[span(&self.fact_ends)],
            head_words: &self.head_words[span(&self.head_word_ends)],
            head_names,
            head_numbers,
            shape: self.shapes[id],
        }
    }
}

/// Appends with 1.25× growth instead of `Vec`'s doubling: the arrays are the index's memory,
/// and doubling leaves up to half of it unused.
fn extend<T: Copy>(v: &mut Vec<T>, items: &[T]) {
    if v.len() + items.len() > v.capacity() {
        v.reserve_exact((v.capacity() / 4).max(items.len()).max(1024));
    }
    v.extend_from_slice(items);
}

/// Linear-probing multimap from band key to stored id. An entry packs a 32-bit tag of the key
/// with the id; the slot comes from the tag alone, so the table can grow without the keys.
/// Two keys sharing a tag (chance 2^-32) only add a candidate that `compare` then rejects.
/// The store keeps one too (seq as the id), rebuilt from its `bands` tree at open.
#[derive(Debug, Default)]
pub(crate) struct BandTable {
    slots: Vec<u64>,
    len: usize,
}

const VACANT: u64 = u64::MAX;

impl BandTable {
    fn tag(key: u64) -> u32 {
        (key ^ (key >> 32)) as u32
    }

    /// Maps a tag onto `0..n` by multiply-shift (any `n`, so the table can grow by 1.5×).
    fn home(tag: u32, n: usize) -> usize {
        ((u64::from(tag.wrapping_mul(0x9e37_79b9)) * n as u64) >> 32) as usize
    }

    /// Appends to `out` every id inserted under `key` (and, rarely, under a key sharing its tag).
    pub(crate) fn lookup(&self, key: u64, out: &mut Vec<u32>) {
        if self.slots.is_empty() {
            return;
        }
        let tag = Self::tag(key);
        let mut i = Self::home(tag, self.slots.len());
        loop {
            let e = self.slots[i];
            if e == VACANT {
                return;
            }
            if (e >> 32) as u32 == tag {
                out.push(e as u32);
            }
            i = if i + 1 == self.slots.len() { 0 } else { i + 1 };
        }
    }

    pub(crate) fn insert(&mut self, key: u64, id: u32) {
        // Keep the load at or below 0.8: probe runs stay short and memory stays ~12 B/entry.
        if 5 * (self.len + 1) > 4 * self.slots.len() {
            self.grow();
        }
        Self::place(
            &mut self.slots,
            (u64::from(Self::tag(key)) << 32) | u64::from(id),
        );
        self.len += 1;
    }

    /// Entries held.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Heap bytes held (allocated slots).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.slots.capacity() * size_of::<u64>()
    }

    fn place(slots: &mut [u64], entry: u64) {
        let mut i = Self::home((entry >> 32) as u32, slots.len());
        while slots[i] != VACANT {
            i = if i + 1 == slots.len() { 0 } else { i + 1 };
        }
        slots[i] = entry;
    }

    fn grow(&mut self) {
        let n = (self.slots.len() * 3 / 2).max(1024);
        let old = std::mem::replace(&mut self.slots, vec![VACANT; n]);
        for e in old.into_iter().filter(|&e| e != VACANT) {
            Self::place(&mut self.slots, e);
        }
    }
}
