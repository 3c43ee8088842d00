//! The messages of the two streams (JSON): what a worker publishes to `<name>_candidates`,
//! and what the committer publishes to `<name>_articles` (the cluster's store of record).
//! Fingerprints travel as base64 so a new committer or a fresh replica rebuilds the dedup
//! index from the records alone.

use serde::{Deserialize, Serialize};

use crate::store::{ArticleRecord, DuplicateRecord, Reject};

/// One extracted, fingerprinted page, as a worker hands it to the committer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageCandidate {
    pub feed: String,
    /// URLs that lead here besides the canonical (feed link, fetched URL).
    pub aliases: Vec<String>,
    /// The record as the single-node writer would build it; `seq` and `name` are the
    /// committer's to assign.
    pub record: ArticleRecord,
    pub text: String,
    #[serde(with = "b64")]
    pub fingerprint: Vec<u8>,
}

/// A message of the candidates stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Candidate {
    Page(Box<PageCandidate>),
    /// A page that failed for good (not HTML, no article text, 404 …): remembered so that
    /// no worker fetches it again.
    Reject {
        urls: Vec<String>,
        reject: Reject,
    },
}

impl Candidate {
    /// The message id that makes a re-publish of the same page a no-op: the page's identity
    /// (article id of its canonical URL) and the hash of its text; for a reject, its URLs.
    pub fn message_id(&self) -> String {
        match self {
            Candidate::Page(p) => format!("page-{}-{}", p.record.id, p.record.content_hash),
            Candidate::Reject { urls, .. } => {
                format!("reject-{}", super::url_key(&urls.join("\n")))
            }
        }
    }
}

/// What the committer decided for one candidate: one record of the articles stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// Sequence of the candidate in the candidates stream (where a new committer resumes).
    pub cand: u64,
    #[serde(flatten)]
    pub what: Decided,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decided {
    /// A new article: its record carries the seq and name it has on every replica.
    Stored {
        record: Box<ArticleRecord>,
        text: String,
        aliases: Vec<String>,
        #[serde(with = "b64")]
        fingerprint: Vec<u8>,
    },
    /// A copy of the stored article `of_seq`.
    Copy {
        of_seq: u64,
        of: String,
        dup: DuplicateRecord,
        aliases: Vec<String>,
    },
    /// Already known (stored, copy or rejected): its other URLs lead there too.
    Known {
        url: String,
        aliases: Vec<String>,
    },
    Reject {
        urls: Vec<String>,
        reject: Reject,
    },
    /// A candidate that could not be read (written by another version?): skipped, and said
    /// so in the store of record.
    Unreadable {
        reason: String,
    },
}

impl Decided {
    /// The URLs this decision makes known, with the article name they lead to (None for a
    /// reject), for the `<name>_urls` bucket.
    pub fn known_urls(&self) -> Vec<(&str, Option<&str>)> {
        match self {
            Decided::Stored {
                record, aliases, ..
            } => std::iter::once(record.canonical_url.as_str())
                .chain(aliases.iter().map(String::as_str))
                .map(|u| (u, Some(record.name.as_str())))
                .collect(),
            Decided::Copy {
                of, dup, aliases, ..
            } => std::iter::once(dup.url.as_str())
                .chain(aliases.iter().map(String::as_str))
                .map(|u| (u, Some(of.as_str())))
                .collect(),
            Decided::Known { aliases, .. } => aliases.iter().map(|u| (u.as_str(), None)).collect(),
            Decided::Reject { urls, .. } => urls.iter().map(|u| (u.as_str(), None)).collect(),
            Decided::Unreadable { .. } => Vec::new(),
        }
    }
}

mod b64 {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(s)
            .map_err(serde::de::Error::custom)
    }
}
