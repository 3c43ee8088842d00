//! Near-duplicate detection (DESIGN §4): the pure engine behind the `dedup` pipeline stage.
//!
//! Owns: body normalisation, word shingling, the MinHash signature, LSH band keys, the fact
//! set, the lead, the duplicate decision rule, the fingerprint byte format, and
//! [`MemoryIndex`], the in-memory reference index (used by `newsd dedup` and benchmarks; the
//! persistent sled index must behave exactly like it).
//! Must not: do I/O, touch sled, be async, log, or know about articles beyond their body
//! text. Everything here is synchronous, deterministic CPU work on `&str` and bytes.
//!
//! A body becomes a [`Fingerprint`]: a 128-value MinHash signature of its word 5-shingles,
//! its shingle count, its *lead* (the first [`LEAD_LEN`] shingles of the text proper) and its
//! *facts* (numbers and mid-sentence capitalised words). Candidates are the stored
//! fingerprints sharing one of its [`Engine::band_keys`]; [`Engine::compare`] decides with
//! the rule documented on [`DedupConfig`].
//!
//! # Why this rule
//!
//! Link precision and recall, same-event and template false-merge rates from `score.py` on
//! the `bench/dedup` corpora (10k articles, seed 1, unless said otherwise):
//!
//! | rule | P | R | same-event | template |
//! |---|---|---|---|---|
//! | DESIGN start: J ≥ 0.4 ∧ facts ≥ 0.7 | 0.9920 | 0.9211 | 0.3 % | 7.7 % |
//! | + no facts from furniture (short top/bottom blocks) | 0.9958 | 0.9526 | 0.3 % | 3.7 % |
//! | + containment ≥ 0.6 as an alternative to J (rejected) | 0.9938 | 0.9551 | 0.6 % | 3.7 % |
//! | + lead rule (J ≥ 0.5, or J ≥ 0.25 with lead ≥ 0.6) | 0.9973 | 0.9589 | 0.0 % | 3.0 % |
//! | + 4 LSH bands over the lead (the defaults) | 0.9974 | 0.9726 | 0.0 % | 3.0 % |
//! | same, corpus seed 2 (not used for tuning) | 0.9965 | 0.9700 | 0.3 % | 3.0 % |
//! | same, 100k corpus | 0.9980 | 0.9673 | 0.13 % | 1.8 % |
//!
//! - Bylines, credits, tag and promo lines vary between copies of one story and repeat
//!   across stories of one outlet, so their names were the main source of both missed copies
//!   and template merges: blocks under `min_block_words` (12) at the top or bottom of a body
//!   give no facts (a sweep over 8/10/12/15 has its plateau at 12–15).
//! - Heavy copies (trimmed, an update paragraph appended, edited) fall to J ≈ 0.3–0.5, where
//!   other articles about the same event sit too (shared quotes: J up to 0.47, containment up
//!   to 0.9, so containment cannot separate them). What separates them is the opening: a copy
//!   keeps its lead (overlap ≥ 0.6 for 95 % of copies), another article does not (0 for most).
//! - 32 × 4 bands surface a pair of J = 0.35 only 40 % of the time; 4 extra bands over a
//!   MinHash of the lead bring those pairs in (brute force over all pairs reaches R = 0.975).
//! - Remaining template merges: 3 of the 9 (31 of the 53 at 100k) have bodies identical to
//!   their original (only the headline differs, which is left out by design), so 1 % is the
//!   floor; the others differ in one or two names among a handful of facts, or only in short
//!   heading lines, where a stricter fact rule would cost more copies than it saves.
//! - Sweeps covered `jaccard_threshold` 0.4–0.6, `lead_jaccard_threshold` 0.2–0.35,
//!   `lead_threshold` 0.4–0.7, `fact_threshold` 0.6–0.8 and `min_block_words` 8–15; the
//!   defaults sit inside the range where precision, recall and both merge rates stay near
//!   their best, not on an edge tuned to single articles.
//!
//! # Signature: one-permutation hashing
//!
//! 128 seeded hashes per shingle cost 1.42 s for the 10k corpus (142 µs an article, scalar);
//! one hash per shingle binned into 128 minima with optimal densification costs 14 ms, with
//! the same accuracy against exact Jaccard on the corpus' labelled pairs (mean absolute error
//! 0.018 vs 0.019, RMS 0.027 vs 0.029); details in `minhash.rs`.

pub(crate) mod fingerprint;
pub(crate) mod index;
pub(crate) mod minhash;
pub(crate) mod text;

pub use fingerprint::Fingerprint;
pub use index::MemoryIndex;
pub use minhash::{LEAD_BANDS, LEAD_LEN, SIG_LEN};

use serde::{Deserialize, Serialize};

/// The `[dedup]` configuration section. The decision rule, in full:
///
/// ```text
/// duplicate ⇔ facts ≥ fact_threshold
///             ∧ (J ≥ jaccard_threshold ∨ (J ≥ lead_jaccard_threshold ∧ lead ≥ lead_threshold))
/// ```
///
/// J is the estimated Jaccard similarity of the shingle sets, facts the overlap coefficient of
/// the fact sets (numbers, mid-sentence capitalised words) and lead the overlap coefficient of
/// the first [`LEAD_LEN`] shingles of the text proper (leading furniture skipped). Defaults
/// come from sweeps on the `bench/dedup` corpora (see the module documentation).
///
/// `shingle_words` and `min_block_words` shape the fingerprints themselves: fingerprints of
/// another `shingle_words` never match (the value is stored in them), and after changing
/// `min_block_words` stored fingerprints keep their old facts and lead until re-ingested.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DedupConfig {
    /// Estimated Jaccard similarity from which shingles alone (with agreeing facts) make a copy.
    pub jaccard_threshold: f64,
    /// Minimum overlap coefficient of the fact sets.
    pub fact_threshold: f64,
    /// Lowest estimated Jaccard for a copy that shares its lead (heavily trimmed or extended
    /// copies); below `jaccard_threshold` the lead must agree.
    pub lead_jaccard_threshold: f64,
    /// Minimum overlap coefficient of the two leads when the lead is checked.
    pub lead_threshold: f64,
    /// LSH bands; `bands × rows` must equal the signature length, 128.
    pub bands: usize,
    /// Signature values per band.
    pub rows: usize,
    /// Words per shingle.
    pub shingle_words: usize,
    /// Blocks with fewer words are furniture (bylines, headings, credits, tag and promo lines):
    /// their words are shingled, but at the top or bottom of a body they give no facts, and
    /// they never start the lead.
    pub min_block_words: usize,
    /// EXPERIMENT: headline veto, novel facts needed on both sides (0 = off).
    pub headline_novel_facts: usize,
    /// EXPERIMENT: share of capitalised words from which a headline is title case.
    pub headline_title_case: f64,
    /// EXPERIMENT: min overlap of headline words for the veto.
    pub headline_wording: f64,
    /// EXPERIMENT
    pub headline_typed: bool,
}

impl Default for DedupConfig {
    fn default() -> Self {
        DedupConfig {
            jaccard_threshold: 0.5,
            fact_threshold: 0.7,
            lead_jaccard_threshold: 0.25,
            lead_threshold: 0.6,
            bands: 32,
            rows: 4,
            shingle_words: 5,
            min_block_words: 12,
            headline_novel_facts: 0,
            headline_title_case: 2.0,
            headline_wording: 0.0,
            headline_typed: false,
        }
    }
}

/// Errors of the dedup engine: configuration and fingerprint decoding.
#[derive(Debug, thiserror::Error)]
pub enum DedupError {
    /// A configuration key has an unusable value; the message names the key.
    #[error("{key}: {reason}")]
    Config { key: &'static str, reason: String },
    /// Stored fingerprint bytes are cut short or malformed.
    #[error("corrupt fingerprint: {0}")]
    Corrupt(&'static str),
    /// Stored fingerprint written by an unknown (newer) format version.
    #[error("fingerprint format version {found} is not supported (this build reads {supported})")]
    Version { found: u8, supported: u8 },
}

/// The outcome of comparing a new fingerprint with a stored one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Comparison {
    /// Score used to rank candidates: the estimated Jaccard similarity.
    pub similarity: f64,
    /// Whether the rule calls the new body a copy of the old one.
    pub is_duplicate: bool,
    /// Estimated Jaccard similarity of the shingle sets.
    pub jaccard: f64,
    /// Overlap coefficient of the two leads (first shingles of the text proper).
    pub lead_overlap: f64,
    /// Overlap coefficient of the fact sets (1 when either body has no facts to disagree on).
    pub fact_overlap: f64,
}

/// The configured engine: stateless apart from its settings, so `Send + Sync` and cheap to
/// share behind an `Arc`.
#[derive(Debug, Clone)]
pub struct Engine {
    cfg: DedupConfig,
}

impl Engine {
    /// Validates the configuration.
    pub fn new(cfg: &DedupConfig) -> Result<Engine, DedupError> {
        let err = |key, reason: String| Err(DedupError::Config { key, reason });
        for (key, v) in [
            ("dedup.jaccard_threshold", cfg.jaccard_threshold),
            ("dedup.fact_threshold", cfg.fact_threshold),
            ("dedup.lead_jaccard_threshold", cfg.lead_jaccard_threshold),
            ("dedup.lead_threshold", cfg.lead_threshold),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return err(key, format!("must be between 0 and 1, got {v}"));
            }
        }
        if cfg.bands == 0 || cfg.rows == 0 || cfg.bands * cfg.rows != SIG_LEN {
            return err(
                "dedup.bands",
                format!(
                    "dedup.bands × dedup.rows must be {SIG_LEN}, got {} × {}",
                    cfg.bands, cfg.rows
                ),
            );
        }
        if !(1..=32).contains(&cfg.shingle_words) {
            return err(
                "dedup.shingle_words",
                format!("must be between 1 and 32, got {}", cfg.shingle_words),
            );
        }
        Ok(Engine { cfg: cfg.clone() })
    }

    /// The configuration this engine was built from.
    pub fn config(&self) -> &DedupConfig {
        &self.cfg
    }

    /// Fingerprints an article body (its blocks joined by blank lines, headline excluded:
    /// copies rewrite headlines).
    pub fn fingerprint(&self, body: &str) -> Fingerprint {
        self.fingerprint_titled("", body)
    }

    /// EXPERIMENT: with the headline.
    pub fn fingerprint_titled(&self, title: &str, body: &str) -> Fingerprint {
        let mut scan = text::Scan::default();
        text::scan(&text::nfkc(body), self.cfg.min_block_words, &mut scan);
        let k = self.cfg.shingle_words;
        let head = self.headline_facts(title);
        let mut facts = scan.facts;
        facts.sort_unstable();
        facts.dedup();
        Fingerprint {
            sig: Box::new(minhash::signature(minhash::shingles(&scan.tokens, k))),
            shingles: u32::try_from(
                scan.tokens
                    .len()
                    .saturating_sub(k - 1)
                    .max(usize::from(!scan.tokens.is_empty())),
            )
            .unwrap_or(u32::MAX),
            shingle_words: k as u8,
            lead: minhash::lead(&scan.tokens, scan.lead_start.unwrap_or(0), k),
            facts,
            head: head.0,
            head_split: head.1,
            head_words: {
                let mut scan = text::Scan::default();
                text::scan(&text::nfkc(title), 0, &mut scan);
                let mut w: Vec<u16> = scan.tokens.iter().map(|&t| (t >> 48) as u16).collect();
                w.sort_unstable();
                w.dedup();
                w
            },
        }
    }

    fn headline_facts(&self, title: &str) -> (Vec<u32>, u8) {
        let words: Vec<&str> = title
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.chars().count() >= 3 && w.chars().all(char::is_alphabetic))
            .collect();
        let caps = words.iter().filter(|w| !w.chars().any(char::is_lowercase)).count();
        let shouting = !words.is_empty() && caps as f64 >= self.cfg.headline_title_case * words.len() as f64;
        let facts_of = |t: &str| {
            let mut scan = text::Scan::default();
            text::scan(&text::nfkc(t), 0, &mut scan);
            let mut facts = scan.facts;
            facts.sort_unstable();
            facts.dedup();
            facts
        };
        let lowered = title.to_lowercase();
        let numbers = facts_of(&lowered);
        let mut all = if shouting { numbers.clone() } else { facts_of(title) };
        all.retain(|f| numbers.binary_search(f).is_err());
        let split = all.len().min(255) as u8;
        all.truncate(split as usize);
        all.extend(numbers.iter().take(255));
        (all, split)
    }

    /// One LSH key per band (`bands` signature bands, then up to [`LEAD_BANDS`] bands over the
    /// lead); two fingerprints sharing any key are candidates.
    pub fn band_keys(&self, fp: &Fingerprint) -> Vec<u64> {
        self.keys(fp.view()).collect()
    }

    pub(crate) fn keys<'a>(&self, fp: fingerprint::View<'a>) -> impl Iterator<Item = u64> + 'a {
        let bands = fp
            .sig
            .chunks_exact(self.cfg.rows)
            .enumerate()
            .map(|(band, values)| minhash::band_key(band, values));
        bands.chain(minhash::lead_keys(self.cfg.bands, fp.lead))
    }

    /// Applies the decision rule to a new fingerprint and a stored one.
    pub fn compare(&self, new: &Fingerprint, old: &Fingerprint) -> Comparison {
        self.compare_parts(new.view(), old.view())
    }

    pub(crate) fn compare_parts(
        &self,
        a: fingerprint::View<'_>,
        b: fingerprint::View<'_>,
    ) -> Comparison {
        let none = Comparison {
            similarity: 0.0,
            is_duplicate: false,
            jaccard: 0.0,
            lead_overlap: 0.0,
            fact_overlap: 0.0,
        };
        // Fingerprints of other shingle sizes, or of bodies without a single word, never match.
        if a.shingle_words != b.shingle_words || a.shingles == 0 || b.shingles == 0 {
            return none;
        }
        let jaccard = minhash::matches(a.sig, b.sig) as f64 / SIG_LEN as f64;
        let lead_overlap = overlap(
            a.lead.iter().map(|&x| u32::from(x)),
            b.lead.iter().map(|&x| u32::from(x)),
        );
        let c = &self.cfg;
        let fact_overlap = overlap(a.facts.iter().copied(), b.facts.iter().copied());
        let novel = |x: &fingerprint::View<'_>, y: &fingerprint::View<'_>, numbers: bool| {
            let (w, n) = x.head.split_at(usize::from(x.head_split));
            let (yw, yn) = y.head.split_at(usize::from(y.head_split));
            if numbers { n } else { w }
                .iter()
                .filter(|f| yw.binary_search(f).is_err() && yn.binary_search(f).is_err() && y.facts.binary_search(f).is_err())
                .count()
        };
        let both = |numbers: bool| novel(&a, &b, numbers) >= c.headline_novel_facts && novel(&b, &a, numbers) >= c.headline_novel_facts;
        let both_any = {
            let t = |x: &fingerprint::View<'_>, y: &fingerprint::View<'_>| novel(x, y, false) + novel(x, y, true);
            t(&a, &b) >= c.headline_novel_facts && t(&b, &a) >= c.headline_novel_facts
        };
        let head_veto = c.headline_novel_facts > 0
            && overlap(
                a.head_words.iter().map(|&x| u32::from(x)),
                b.head_words.iter().map(|&x| u32::from(x)),
            ) >= c.headline_wording
            && if c.headline_typed { both(false) || both(true) } else { both_any };
        let is_duplicate = !head_veto
            && fact_overlap >= c.fact_threshold
            && (jaccard >= c.jaccard_threshold
                || (jaccard >= c.lead_jaccard_threshold && lead_overlap >= c.lead_threshold));
        Comparison {
            similarity: jaccard,
            is_duplicate,
            jaccard,
            lead_overlap,
            fact_overlap,
        }
    }
}

/// Overlap coefficient |A ∩ B| / min(|A|, |B|) of two ascending, distinct sequences; 1 when
/// either is empty (a body without facts cannot contradict another).
fn overlap(a: impl IntoIterator<Item = u32>, b: impl IntoIterator<Item = u32>) -> f64 {
    let (mut a, mut b) = (a.into_iter().peekable(), b.into_iter().peekable());
    let (mut na, mut nb, mut common) = (0usize, 0usize, 0usize);
    while let (Some(&x), Some(&y)) = (a.peek(), b.peek()) {
        if x <= y {
            a.next();
            na += 1;
        }
        if y <= x {
            b.next();
            nb += 1;
        }
        common += usize::from(x == y);
    }
    let (na, nb) = (na + a.count(), nb + b.count());
    match na.min(nb) {
        0 => 1.0,
        min => common as f64 / min as f64,
    }
}

#[cfg(test)]
mod tests;
