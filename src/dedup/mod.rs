//! Near-duplicate detection (DESIGN §4): the pure engine behind the `dedup` pipeline stage.
//!
//! Owns: body normalisation, word shingling, the MinHash signature, LSH band keys, the fact
//! set, the lead, the headline check, the duplicate decision rule, the fingerprint byte
//! format, and
//! [`MemoryIndex`], the in-memory reference index (used by `newsd dedup` and benchmarks; the
//! persistent sled index must behave exactly like it).
//! Must not: do I/O, touch sled, be async, log, or know about articles beyond their headline
//! and body text. Everything here is synchronous, deterministic CPU work on `&str` and bytes.
//!
//! An article becomes a [`Fingerprint`]: a 128-value MinHash signature of its body's word
//! 5-shingles, its shingle count, its *lead* (the first [`LEAD_LEN`] shingles of the text
//! proper), its *facts* (numbers and mid-sentence capitalised words), and its headline's
//! words, names and numbers (the headline is not shingled: copies rewrite it; it only feeds
//! the headline check), and its *shape*: a hash of its tokens and one of its wording (the
//! tokens with names and figures blanked). Candidates are the stored
//! fingerprints sharing one of its [`Engine::band_keys`]; [`Engine::compare`] decides with
//! the rule documented on [`DedupConfig`]. When it calls a pair a copy but their shapes say
//! "same wording, other names or figures", [`Engine::template_swaps`] settles it on the two
//! texts (`verify.rs`): the caller supplies the original's text, which only the store (or the
//! file) has.
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
//! | + headline check, any new name or number on both sides | 0.9979 | 0.9706 | 0.0 % | 2.3 % |
//! | same at 100k | 0.9982 | 0.9653 | 0.13 % | 1.6 % |
//! | + names looked up among the other headline's words in any case, names and numbers counted apart | 0.9979 | 0.9706 | 0.0 % | 2.3 % |
//! | same at 100k | 0.9982 | 0.9662 | 0.13 % | 1.6 % |
//! | + only when the headlines share ≥ 0.3 of their words | 0.9977 | 0.9723 | 0.0 % | 2.7 % |
//! | same, corpus seed 2 (not used for tuning) | 0.9971 | 0.9697 | 0.3 % | 2.3 % |
//! | same, 100k corpus | 0.9982 | 0.9673 | 0.13 % | 1.6 % |
//! | + template check on the texts (the defaults) | 0.9991 | 0.9723 | 0.0 % | 1.0 % |
//! | same, corpus seed 2 | 0.9979 | 0.9697 | 0.3 % | 1.33 % |
//! | same, 100k corpus | 0.9984 | 0.9672 | 0.13 % | 1.27 % |
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
//! - Headline check. Copies rewrite headlines (a prefix such as "UPDATE 1-", an outlet suffix,
//!   a cut, another case, or a new headline taken from the story) but keep the story's names
//!   and numbers or add some on one side only; a template story keeps the headline's wording
//!   and swaps its names or numbers, so each headline has one the other article lacks. Any
//!   new name or number on both sides alone vetoes copies whose headline was replaced by a
//!   sentence of the story and copies in title or upper case (capitals everywhere); looking
//!   names up among the other headline's words in any case, counting names and numbers apart
//!   ("UPDATE 1-" against "| Reuters" is no swap), leaving out trailing outlet tags ("… |
//!   Reuters", "(VIDEO)") and asking for shared wording leave one vetoed copy at 100k and one
//!   at seed 2, both title-case headlines rewritten with some of the same words ("College
//!   Application Essay Tips" / "How to Write a Compelling College Essay"): in title case
//!   capitals do not mark names, and most template headlines the check catches are title
//!   case too ("Made Seating" / "Made Nice").
//!   `headline_word_overlap` 0.2–0.4 is a plateau (0: R −0.0011 at 100k; 0.5: one template
//!   more; 0.7: four more); `headline_novel_facts` 2 gives back four of the six at 100k.
//!   Cost: about 35 bytes of index per stored article (907 instead of 872 at 10k), speed
//!   unchanged within noise (best of five runs: 31k articles per CPU-second at 10k, 36k at
//!   100k, against 32k and 35k with the check off).
//! - Template check. The template merges left by the rules above differ from their model only
//!   in a name or two, often in short lines at the bottom ("Google Morning Consult couldn't
//!   be used for everything" / "Google Office Moving …"), where a fact check cannot tell them
//!   from a copy whose byline or outlet line changed. What tells them apart is that nothing
//!   else changed: every copy in the corpora has some other difference (a word inserted,
//!   deleted or rewritten, a paragraph added or cut, chrome changed), and among the 3,406
//!   pairs the rules accept at 10k not one copy differs only by swapped names. Aligning the
//!   two token sequences of every accepted pair costs 40 % of the throughput, so the
//!   fingerprint carries a hash of the wording and one of the tokens (8 bytes): only pairs of
//!   equal wording and other tokens are aligned — 24 pairs at 10k (5 templates), 280 at
//!   100k (12 templates) — and the throughput is unchanged within noise. A swap must
//!   be capitalised words or figures on both sides, each side naming something the other
//!   text lacks (so "He" for "Smith" or a moved name is none), more than one edit apart and
//!   not sharing most letters at their ends (misspelt and mangled words: "Contributor" /
//!   "Contrihoweveror"); one changed figure alone is a correction, two or more a template.
//!   Built first as a full Myers diff counting swaps in and outside furniture: a veto on a
//!   name swap in the text proper, even with other edits, caught nothing more and cost
//!   copies whose promo line named another outlet ("Join the Evening Post-Dispatch
//!   newsletter"); the swaps-only rule is exact on all three corpora (no copy lost).
//! - Remaining template merges: 3 at 10k seed 1 (4 at seed 2, 31 of 38 at 100k) are
//!   byte-identical files, headline included (the generator found no name or number to
//!   swap), so no rule on the text can split them: the floor is 1.0 % at seed 1, 1.33 % at
//!   seed 2 and 1.03 % at 100k. The other 7 at 100k swap a word the tokenizer splits
//!   ("Nutrient-rich"), a sentence-initial word ("Fee" / "Elegy" after ".)"), or a name in
//!   a text that also differs elsewhere.
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
pub(crate) mod verify;

pub use fingerprint::Fingerprint;
pub(crate) use index::BandTable;
pub use index::MemoryIndex;
pub use minhash::{LEAD_BANDS, LEAD_LEN, SIG_LEN};
pub use verify::Swaps;

use serde::{Deserialize, Serialize};

/// The `[dedup]` configuration section. The decision rule, in full:
///
/// ```text
/// duplicate ⇔ facts ≥ fact_threshold
///             ∧ (J ≥ jaccard_threshold ∨ (J ≥ lead_jaccard_threshold ∧ lead ≥ lead_threshold))
///             ∧ ¬ headline conflict
///             ∧ ¬ (template_check ∧ the new body is the old one with names or ≥ 2 figures
///                  swapped and nothing else changed)
/// headline conflict ⇔ head words ≥ headline_word_overlap
///             ∧ (new names ≥ headline_novel_facts on both sides
///                ∨ new numbers ≥ headline_novel_facts on both sides)
/// ```
///
/// J is the estimated Jaccard similarity of the shingle sets, facts the overlap coefficient of
/// the fact sets (numbers, mid-sentence capitalised words) and lead the overlap coefficient of
/// the first [`LEAD_LEN`] shingles of the text proper (leading furniture skipped). Head words
/// is the overlap coefficient of the two headlines' word sets; a headline's name (a
/// capitalised word that does not start it) is new when the other headline lacks the word in
/// any case and the other body lacks the fact, a headline number when neither the other
/// headline nor the other body has it. Defaults come from sweeps on the `bench/dedup` corpora
/// (see the module documentation).
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
    /// Headline check: two articles whose headlines share at least `headline_word_overlap`
    /// of their words (overlap coefficient) are not copies when each headline has at least
    /// this many names, or each at least this many numbers, found nowhere in the other article
    /// (its headline words or its body facts). 0 turns the check off.
    pub headline_novel_facts: usize,
    /// Minimum overlap coefficient of the two headlines' word sets for the headline check.
    pub headline_word_overlap: f64,
    /// Template check: a pair the other rules call a copy is not one when the new body is the
    /// old one word for word except for swapped names (any) or figures (two or more). Only
    /// such pairs — same wording, other capitalised words or figures, as their fingerprints
    /// tell — are checked, on the two texts.
    pub template_check: bool,
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
            headline_novel_facts: 1,
            headline_word_overlap: 0.3,
            template_check: true,
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
    /// Whether the headline check vetoed an otherwise similar pair (see
    /// [`DedupConfig::headline_novel_facts`]); only evaluated for such pairs.
    pub headline_conflict: bool,
    /// Whether the fingerprints call it a copy but say the bodies have the same wording and
    /// differ only in capitalised words and figures: [`Engine::template_swaps`] must settle
    /// it with the two texts (see [`DedupConfig::template_check`]).
    pub needs_text_check: bool,
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
            ("dedup.headline_word_overlap", cfg.headline_word_overlap),
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

    /// Fingerprints an article: `title` is its headline line (may be empty), `body` its blocks
    /// joined by blank lines. The shingles, lead and facts come from the body alone (copies
    /// rewrite headlines); the headline gives only its words, names and numbers, for the
    /// headline check of [`compare`](Self::compare). Without a headline (an empty `title`, or
    /// a fingerprint read from format version 1) that check never fires for the article.
    pub fn fingerprint(&self, title: &str, body: &str) -> Fingerprint {
        let mut scan = text::Scan::default();
        text::scan(&text::nfkc(body), self.cfg.min_block_words, &mut scan);
        let k = self.cfg.shingle_words;
        let mut facts = scan.facts;
        facts.sort_unstable();
        facts.dedup();
        let sig = Box::new(minhash::signature(minhash::shingles(&scan.tokens, k)));
        let shingles = u32::try_from(
            scan.tokens
                .len()
                .saturating_sub(k - 1)
                .max(usize::from(!scan.tokens.is_empty())),
        )
        .unwrap_or(u32::MAX);
        let lead = minhash::lead(&scan.tokens, scan.lead_start.unwrap_or(0), k);
        let (head_words, head_names, head_numbers) = headline(title);
        let shape = fingerprint::Shape {
            tokens: (scan.shape.tokens >> 32) as u32,
            wording: (scan.shape.wording >> 32) as u32,
        };
        Fingerprint {
            shape: Some(shape),
            sig,
            shingles,
            shingle_words: k as u8,
            lead,
            facts,
            head_words,
            head_names,
            head_numbers,
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

    /// The template check on the texts of a pair that [`compare`](Self::compare) calls a copy
    /// with [`Comparison::needs_text_check`] set: `Some` (the names and figures swapped) when
    /// the new body is the old one with other names or figures — at least one name, or two
    /// figures (one changed figure is a correction) — and nothing else changed; the pair is then
    /// not a copy. `None` leaves it a copy.
    pub fn template_swaps(&self, new_body: &str, old_body: &str) -> Option<Swaps> {
        verify::swaps(&verify::Text::new(old_body), &verify::Text::new(new_body))
            .filter(|s| s.names >= 1 || s.numbers >= 2)
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
            headline_conflict: false,
            needs_text_check: false,
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
        let similar = fact_overlap >= c.fact_threshold
            && (jaccard >= c.jaccard_threshold
                || (jaccard >= c.lead_jaccard_threshold && lead_overlap >= c.lead_threshold));
        let headline_conflict = similar && self.headline_conflict(&a, &b);
        let is_duplicate = similar && !headline_conflict;
        let needs_text_check = is_duplicate
            && c.template_check
            && match (a.shape, b.shape) {
                (Some(x), Some(y)) => x.wording == y.wording && x.tokens != y.tokens,
                _ => false,
            };
        Comparison {
            similarity: jaccard,
            is_duplicate,
            jaccard,
            lead_overlap,
            fact_overlap,
            headline_conflict,
            needs_text_check,
        }
    }

    /// The headline check: same headline wording, other names or other numbers on both sides
    /// (a template story), as opposed to a copy's rewritten headline, which keeps the story's
    /// names and numbers (or adds some on one side only: an outlet, "UPDATE 1").
    fn headline_conflict(&self, a: &fingerprint::View<'_>, b: &fingerprint::View<'_>) -> bool {
        let c = &self.cfg;
        let n = c.headline_novel_facts;
        if n == 0 || a.head_words.is_empty() || b.head_words.is_empty() {
            return false;
        }
        // A name is new to the other article when neither its headline has the word (in any
        // case or position: copies change a headline's case and its first word) nor its body
        // has the fact; a number when neither its headline nor its body has it.
        let new_names = |x: &fingerprint::View<'_>, y: &fingerprint::View<'_>| {
            x.head_names
                .iter()
                .filter(|&&f| {
                    y.head_words.binary_search(&((f >> 16) as u16)).is_err()
                        && y.facts.binary_search(&f).is_err()
                })
                .count()
        };
        let new_numbers = |x: &fingerprint::View<'_>, y: &fingerprint::View<'_>| {
            x.head_numbers
                .iter()
                .filter(|f| {
                    y.head_numbers.binary_search(f).is_err() && y.facts.binary_search(f).is_err()
                })
                .count()
        };
        let words = overlap(
            a.head_words.iter().map(|&x| u32::from(x)),
            b.head_words.iter().map(|&x| u32::from(x)),
        );
        words >= c.headline_word_overlap
            && ((new_names(a, b) >= n && new_names(b, a) >= n)
                || (new_numbers(a, b) >= n && new_numbers(b, a) >= n))
    }
}

/// A headline without its trailing tags: an outlet or section after " | " or a dash ("… |
/// Reuters", "… - BBC News", at most three words) and a bracketed label ("(VIDEO)", two words
/// at most). Copies add and drop these; they name the publisher, not the story.
fn without_tags(title: &str) -> &str {
    let mut t = title.trim();
    if let Some(inner) = t.strip_suffix(')').or_else(|| t.strip_suffix(']'))
        && let Some(open) = inner.rfind(['(', '['])
        && open > 0
        && inner[open + 1..].split_whitespace().count() <= 2
    {
        t = inner[..open].trim_end();
    }
    for sep in [" | ", " - ", " \u{2013} ", " \u{2014} "] {
        if let Some(at) = t.rfind(sep)
            && at > 0
            && t[at + sep.len()..].split_whitespace().count() <= 3
        {
            t = t[..at].trim_end();
            break;
        }
    }
    t
}

/// Words, name facts and number facts of a headline (its tags left out, see [`without_tags`]), each sorted, distinct and capped at
/// [`fingerprint::MAX_HEAD`]. The headline is scanned as one block with no furniture, so its
/// first word (always capitalised) is not a name. Words are the top 16 bits of the token
/// hashes, which are also the top 16 bits of a name fact (a name fact is the top 32 bits of
/// its token hash), so a name can be looked up among another headline's words whatever its
/// case there. Numbers are told from names by scanning the headline once more in lower case,
/// where only numbers remain facts.
fn headline(title: &str) -> (Vec<u16>, Vec<u32>, Vec<u32>) {
    fn capped<T: Ord>(mut v: Vec<T>) -> Vec<T> {
        v.sort_unstable();
        v.dedup();
        v.truncate(fingerprint::MAX_HEAD);
        v
    }
    let title = without_tags(title);
    if title.is_empty() {
        return Default::default();
    }
    let mut scan = text::Scan::default();
    text::scan(&text::nfkc(title), 0, &mut scan);
    let words = capped(scan.tokens.iter().map(|&t| (t >> 48) as u16).collect());
    let facts = std::mem::take(&mut scan.facts);
    text::scan(&text::nfkc(&title.to_lowercase()), 0, &mut scan);
    let numbers = capped(std::mem::take(&mut scan.facts));
    let names = capped(
        facts
            .into_iter()
            .filter(|f| numbers.binary_search(f).is_err())
            .collect(),
    );
    (words, names, numbers)
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
