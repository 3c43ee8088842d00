//! The fingerprint of one article and its byte format (what the store keeps per article).

use super::DedupError;
use super::minhash::{LEAD_LEN, SIG_LEN};

/// Current byte format. Version 3, little-endian:
/// `[3][shingle_words: u8][shingles: u32][lead len: u8][facts len: u32]`
/// `[head words len: u8][head names len: u8][head numbers len: u8][tokens: u32][wording: u32]`
/// `[sig: 128 × u16][lead: u16 × lead len][head words: u16 × len]`
/// `[facts: u32 × facts len][head names: u32 × len][head numbers: u32 × len]`
///
/// Older versions are still read, so stores written by them keep working and only lose the
/// checks their fingerprints lack: version 2 (no shape: the same layout without the two
/// shape hashes) as a fingerprint the template check never fires against, version 1 (no
/// headline either: no headline counts and lists) as one the headline check never fires
/// against either.
const VERSION: u8 = 3;
const HEADER_V1: usize = 1 + 1 + 4 + 1 + 4;
const HEADER_V2: usize = HEADER_V1 + 3;
const HEADER: usize = HEADER_V2 + 8;
/// Headline lists are cut to this many entries (a real headline has a dozen words).
pub(crate) const MAX_HEAD: usize = u8::MAX as usize;

/// What [`Engine::compare`](super::Engine::compare) needs to know about an article: the
/// MinHash signature of its body, its number of shingles (word windows), its lead shingles,
/// its set of fact hashes, and its headline's words, names and numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    pub(crate) sig: Box<[u16; SIG_LEN]>,
    pub(crate) shingles: u32,
    pub(crate) shingle_words: u8,
    /// Sorted, distinct; at most [`LEAD_LEN`].
    pub(crate) lead: Vec<u16>,
    /// Sorted, distinct.
    pub(crate) facts: Vec<u32>,
    /// Headline tokens as the top 16 bits of their token hash (the top half of a name fact):
    /// sorted, distinct, at most [`MAX_HEAD`].
    pub(crate) head_words: Vec<u16>,
    /// Headline name facts (capitalised words not starting the headline or a sentence of it),
    /// hashed as body facts are: sorted, distinct, at most [`MAX_HEAD`].
    pub(crate) head_names: Vec<u32>,
    /// Headline number facts, hashed as body facts are: sorted, distinct, at most [`MAX_HEAD`].
    pub(crate) head_numbers: Vec<u32>,
    /// The body's [`Shape`](super::text::Shape), top 32 bits of each hash; `None` when read
    /// from a version without it.
    pub(crate) shape: Option<Shape>,
}

/// Top halves of the two hashes of a body's [`text::Shape`](super::text::Shape): equal
/// wording and other tokens mean the bodies differ only in names and figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shape {
    pub tokens: u32,
    pub wording: u32,
}

/// A borrowed fingerprint, so the index can compare against its flat arrays without copying.
#[derive(Debug, Clone, Copy)]
pub(crate) struct View<'a> {
    pub sig: &'a [u16],
    pub shingles: u32,
    pub shingle_words: u8,
    pub lead: &'a [u16],
    pub facts: &'a [u32],
    pub head_words: &'a [u16],
    pub head_names: &'a [u32],
    pub head_numbers: &'a [u32],
    pub shape: Option<Shape>,
}

impl Fingerprint {
    pub(crate) fn view(&self) -> View<'_> {
        View {
            sig: &self.sig[..],
            shingles: self.shingles,
            shingle_words: self.shingle_words,
            lead: &self.lead,
            facts: &self.facts,
            head_words: &self.head_words,
            head_names: &self.head_names,
            head_numbers: &self.head_numbers,
            shape: self.shape,
        }
    }

    /// Number of shingles (word windows) of the body.
    pub fn shingle_count(&self) -> u32 {
        self.shingles
    }

    /// Number of distinct facts of the body.
    pub fn fact_count(&self) -> usize {
        self.facts.len()
    }

    /// Number of distinct facts (names and numbers) of the headline.
    pub fn headline_fact_count(&self) -> usize {
        self.head_names.len() + self.head_numbers.len()
    }

    /// Encodes the fingerprint (about 350 bytes plus 4 per fact); the first byte is the
    /// format version.
    pub fn to_bytes(&self) -> Vec<u8> {
        let (version, header) = match self.shape {
            Some(_) => (VERSION, HEADER),
            None => (2, HEADER_V2),
        };
        let len = header
            + 2 * (SIG_LEN + self.lead.len() + self.head_words.len())
            + 4 * (self.facts.len() + self.head_names.len() + self.head_numbers.len());
        let mut out = Vec::with_capacity(len);
        out.push(version);
        out.push(self.shingle_words);
        out.extend_from_slice(&self.shingles.to_le_bytes());
        out.push(self.lead.len() as u8);
        // Fact sets are bounded by the body size, which the fetcher caps far below 4 G facts.
        out.extend_from_slice(&(self.facts.len() as u32).to_le_bytes());
        // Headline lists are capped at MAX_HEAD (255) entries when built.
        for n in [
            self.head_words.len(),
            self.head_names.len(),
            self.head_numbers.len(),
        ] {
            out.push(n as u8);
        }
        // A fingerprint decoded from version 1 or 2 has no shape and is written as version 2.
        if let Some(shape) = self.shape {
            out.extend_from_slice(&shape.tokens.to_le_bytes());
            out.extend_from_slice(&shape.wording.to_le_bytes());
        }
        for v in self.sig.iter().chain(&self.lead).chain(&self.head_words) {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for v in self
            .facts
            .iter()
            .chain(&self.head_names)
            .chain(&self.head_numbers)
        {
            out.extend_from_slice(&v.to_le_bytes());
        }
        debug_assert_eq!(out.len(), len);
        out
    }

    /// Decodes [`to_bytes`](Self::to_bytes) output, and version 1 fingerprints (read as
    /// having no headline); refuses other versions and malformed input.
    pub fn from_bytes(b: &[u8]) -> Result<Fingerprint, DedupError> {
        let (&version, _) = b.split_first().ok_or(DedupError::Corrupt("empty"))?;
        let header = match version {
            1 => HEADER_V1,
            2 => HEADER_V2,
            VERSION => HEADER,
            found => {
                return Err(DedupError::Version {
                    found,
                    supported: VERSION,
                });
            }
        };
        if b.len() < header {
            return Err(DedupError::Corrupt("shorter than its header"));
        }
        let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let (shingle_words, shingles) = (b[1], u32_at(2));
        let (n_lead, n_facts) = (usize::from(b[6]), u32_at(7) as usize);
        let [n_words, n_names, n_numbers] = if version == 1 {
            [0; 3]
        } else {
            [b[11], b[12], b[13]].map(usize::from)
        };
        let shape = (version >= 3).then(|| Shape {
            tokens: u32_at(14),
            wording: u32_at(18),
        });
        let body = &b[header..];
        let halves = 2 * (SIG_LEN + n_lead + n_words);
        if n_lead > LEAD_LEN
            || body.len() as u64
                != halves as u64 + 4 * (n_facts as u64 + (n_names + n_numbers) as u64)
        {
            return Err(DedupError::Corrupt("length does not match its counts"));
        }
        let mut u16s = body[..halves]
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]));
        let mut sig = Box::new([0u16; SIG_LEN]);
        sig.iter_mut().zip(&mut u16s).for_each(|(s, v)| *s = v);
        let lead: Vec<u16> = u16s.by_ref().take(n_lead).collect();
        let head_words: Vec<u16> = u16s.collect();
        let mut u32s = body[halves..]
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]));
        let facts: Vec<u32> = u32s.by_ref().take(n_facts).collect();
        let head_names: Vec<u32> = u32s.by_ref().take(n_names).collect();
        let head_numbers: Vec<u32> = u32s.collect();
        let ascending = |v: &[u32]| v.is_sorted_by(|a, b| a < b);
        if !lead.is_sorted_by(|a, b| a < b)
            || !head_words.is_sorted_by(|a, b| a < b)
            || !ascending(&facts)
            || !ascending(&head_names)
            || !ascending(&head_numbers)
        {
            return Err(DedupError::Corrupt("lead, fact or headline set not sorted"));
        }
        Ok(Fingerprint {
            sig,
            shingles,
            shingle_words,
            lead,
            facts,
            head_words,
            head_names,
            head_numbers,
            shape,
        })
    }
}
