//! Near-duplicate detection (DESIGN §4): the pure engine behind the `dedup` pipeline stage.
//!
//! Owns: body normalisation, word shingling, the MinHash signature, LSH band keys, the fact
//! set, the duplicate decision rule, the fingerprint byte format, and [`MemoryIndex`], the
//! in-memory reference index (used by `newsd dedup` and benchmarks; the persistent sled index
//! must behave exactly like it).
//! Must not: do I/O, touch sled, be async, log, or know about articles beyond their body
//! text. Everything here is synchronous, deterministic CPU work on `&str` and bytes.
//!
//! A body becomes a [`Fingerprint`] (signature, distinct-shingle count, fact set); candidates
//! come from its [`Engine::band_keys`]; [`Engine::compare`] decides. The rule, measured on the
//! `bench/dedup` corpus: duplicate when the estimated Jaccard reaches `jaccard_threshold`
//! **and** the fact sets (numbers and mid-sentence capitalised words) overlap by at least
//! `fact_threshold` (overlap coefficient). The fact check is what keeps templated stories
//! (same wording, other names and figures) apart.

pub(crate) mod fingerprint;
pub(crate) mod index;
pub(crate) mod minhash;
pub(crate) mod text;

pub use fingerprint::Fingerprint;
pub use index::MemoryIndex;
pub use minhash::{LEAD_BANDS, SIG_LEN};

use serde::{Deserialize, Serialize};

/// The `[dedup]` configuration section. The decision rule, in full:
///
/// duplicate ⇔ facts ≥ `fact_threshold` ∧ (J ≥ `lead_free_jaccard`
///                                          ∨ (J ≥ `jaccard_threshold` ∧ lead ≥ `lead_threshold`))
///
/// where J is the estimated Jaccard similarity of the shingle sets, facts the overlap
/// coefficient of the fact sets and lead the overlap coefficient of the first shingles of the
/// text proper (furniture blocks skipped).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DedupConfig {
    /// Minimum estimated Jaccard similarity of the shingle sets for any duplicate.
    pub jaccard_threshold: f64,
    /// Minimum overlap coefficient of the fact sets (numbers, mid-sentence capitalised words).
    pub fact_threshold: f64,
    /// Below this estimated Jaccard, a duplicate must also share its lead.
    pub lead_free_jaccard: f64,
    /// Minimum overlap coefficient of the two leads when the lead is checked.
    pub lead_threshold: f64,
    /// LSH bands; `bands × rows` must equal the signature length, 128.
    pub bands: usize,
    /// Signature values per band.
    pub rows: usize,
    /// Words per shingle.
    pub shingle_words: usize,
    /// Blocks with fewer words are furniture (bylines, credits, tag and promo lines): their
    /// words are shingled but give no facts and cannot start the lead.
    pub min_block_words: usize,
}

impl Default for DedupConfig {
    fn default() -> Self {
        DedupConfig {
            jaccard_threshold: 0.4,
            fact_threshold: 0.7,
            lead_free_jaccard: 0.4,
            lead_threshold: 0.5,
            bands: 32,
            rows: 4,
            shingle_words: 5,
            min_block_words: 12,
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
            ("dedup.lead_free_jaccard", cfg.lead_free_jaccard),
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
        let mut scan = text::Scan::default();
        text::scan(&text::nfkc(body), self.cfg.min_block_words, &mut scan);
        let mut shingles = Vec::with_capacity(scan.tokens.len());
        minhash::shingles(&scan.tokens, self.cfg.shingle_words, &mut shingles);
        let mut facts = scan.facts;
        facts.sort_unstable();
        facts.dedup();
        Fingerprint {
            sig: Box::new(minhash::signature(&shingles)),
            shingles: u32::try_from(shingles.len()).unwrap_or(u32::MAX),
            shingle_words: self.cfg.shingle_words as u8,
            lead: minhash::lead(
                &scan.tokens,
                scan.lead_start.unwrap_or(0),
                self.cfg.shingle_words,
            ),
            facts,
        }
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
        let lead_overlap = overlap(a.lead.iter().copied(), b.lead.iter().copied());
        let c = &self.cfg;
        let fact_overlap = overlap(a.facts.iter().copied(), b.facts.iter().copied());
        let is_duplicate = fact_overlap >= c.fact_threshold
            && (jaccard >= c.lead_free_jaccard
                || (jaccard >= c.jaccard_threshold && lead_overlap >= c.lead_threshold));
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
