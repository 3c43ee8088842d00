//! The fingerprint of one body and its byte format (what the store keeps per article).

use super::DedupError;
use super::minhash::{LEAD_LEN, SIG_LEN};

/// Current byte format. Version 1, little-endian:
/// `[1][shingle_words: u8][shingles: u32][lead len: u8][facts len: u32]`
/// `[sig: 128 × u16][lead: u16 × lead len][facts: u32 × facts len]`
const VERSION: u8 = 1;
const HEADER: usize = 1 + 1 + 4 + 1 + 4;

/// What [`Engine::compare`](super::Engine::compare) needs to know about a body: its MinHash
/// signature, its number of shingles (word windows), its lead shingles and its set of fact hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    pub(crate) sig: Box<[u16; SIG_LEN]>,
    pub(crate) shingles: u32,
    pub(crate) shingle_words: u8,
    /// Sorted, distinct; at most [`LEAD_LEN`].
    pub(crate) lead: Vec<u16>,
    /// Sorted, distinct.
    pub(crate) facts: Vec<u32>,
    /// Headline facts, sorted, distinct.
    pub(crate) head: Vec<u32>,
    pub(crate) head_split: u8,
    pub(crate) head_words: Vec<u16>,
}

/// A borrowed fingerprint, so the index can compare against its flat arrays without copying.
#[derive(Debug, Clone, Copy)]
pub(crate) struct View<'a> {
    pub sig: &'a [u16],
    pub shingles: u32,
    pub shingle_words: u8,
    pub lead: &'a [u16],
    pub facts: &'a [u32],
    pub head: &'a [u32],
    pub head_split: u8,
    pub head_words: &'a [u16],
}

impl Fingerprint {
    pub(crate) fn view(&self) -> View<'_> {
        View {
            sig: &self.sig[..],
            shingles: self.shingles,
            shingle_words: self.shingle_words,
            lead: &self.lead,
            facts: &self.facts,
            head: &self.head,
            head_split: self.head_split,
            head_words: &self.head_words,
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

    /// Encodes the fingerprint (about 330 bytes plus 4 per fact); the first byte is the
    /// format version.
    pub fn to_bytes(&self) -> Vec<u8> {
        let len = HEADER + 2 * (SIG_LEN + self.lead.len()) + 4 * self.facts.len();
        let mut out = Vec::with_capacity(len);
        out.push(VERSION);
        out.push(self.shingle_words);
        out.extend_from_slice(&self.shingles.to_le_bytes());
        out.push(self.lead.len() as u8);
        // Fact sets are bounded by the body size, which the fetcher caps far below 4 G facts.
        out.extend_from_slice(&(self.facts.len() as u32).to_le_bytes());
        for v in self.sig.iter().chain(&self.lead) {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for v in &self.facts {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out
    }

    /// Decodes [`to_bytes`](Self::to_bytes) output; refuses other versions and malformed input.
    pub fn from_bytes(b: &[u8]) -> Result<Fingerprint, DedupError> {
        let (&version, _) = b.split_first().ok_or(DedupError::Corrupt("empty"))?;
        if version != VERSION {
            return Err(DedupError::Version {
                found: version,
                supported: VERSION,
            });
        }
        if b.len() < HEADER {
            return Err(DedupError::Corrupt("shorter than its header"));
        }
        let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let (shingle_words, shingles) = (b[1], u32_at(2));
        let (n_lead, n_facts) = (usize::from(b[6]), u32_at(7) as usize);
        let body = &b[HEADER..];
        let halves = 2 * (SIG_LEN + n_lead);
        if n_lead > LEAD_LEN || body.len() != halves + 4 * n_facts {
            return Err(DedupError::Corrupt("length does not match its counts"));
        }
        let mut u16s = body[..halves]
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]));
        let mut sig = Box::new([0u16; SIG_LEN]);
        sig.iter_mut().zip(&mut u16s).for_each(|(s, v)| *s = v);
        let lead: Vec<u16> = u16s.collect();
        let facts: Vec<u32> = body[halves..]
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        if !lead.is_sorted_by(|a, b| a < b) || !facts.is_sorted_by(|a, b| a < b) {
            return Err(DedupError::Corrupt("lead or fact set not sorted"));
        }
        Ok(Fingerprint {
            sig,
            shingles,
            shingle_words,
            lead,
            facts,
            head: Vec::new(),
            head_split: 0,
            head_words: Vec::new(),
        })
    }
}
