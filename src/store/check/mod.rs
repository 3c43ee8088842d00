//! `newsd check`: verifies the store's invariants (numbered in the [store module
//! docs](super)) and names every violation by invariant, tree and key.
//!
//! Owns: reading every tree and comparing them. Must not: write, repair, or interpret
//! fingerprints — the caller passes the function that turns fingerprint bytes into band keys
//! (the dedup engine's), so invariant 7 is checked with the bands the writer used.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::{
    ArticleRecord, DUPLICATES, DuplicateRecord, NEXT_SEQ, Reject, SCHEMA_VERSION, Store,
    StoreError, VERSION, be_u64,
};
use crate::article::{article_name, content_hash};
use crate::schedule::FeedState;

/// Turns stored fingerprint bytes into their LSH band keys, or says why it cannot.
pub type BandKeys<'a> = &'a dyn Fn(&[u8]) -> Result<Vec<u64>, String>;

/// One broken invariant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    /// Number of the invariant in the store module docs, so the report can be looked up.
    pub invariant: u8,
    /// The tree holding the offending entry.
    pub tree: &'static str,
    /// Its key, readable (URL, name, `seq N`, or hex for bytes that are neither).
    pub key: String,
    /// What is wrong with it.
    pub problem: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invariant {}: {} {}: {}",
            self.invariant, self.tree, self.key, self.problem
        )
    }
}

/// What `check` needs besides the store.
pub struct CheckOptions<'a> {
    /// The dedup engine's band keys of a fingerprint.
    pub band_keys: BandKeys<'a>,
    /// "Now", for feed states (a poll in the future, a next poll absurdly far ahead).
    pub now: DateTime<Utc>,
    /// A feed's next poll further ahead than this is a violation (the schedule never waits
    /// so long: its caps are hours, `Retry-After` aside).
    pub max_poll_ahead: Duration,
}

/// What `check` read, and what it found wrong.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CheckReport {
    /// Article records that decode: what the operator expects to see stored.
    pub articles: u64,
    /// Copies the records list (the counter is compared with it).
    pub duplicates: u64,
    /// Entries of `urls`, aliases included: how many URLs are never fetched again.
    pub urls: u64,
    /// Band keys held in `bands`: the size of the dedup index.
    pub lsh_entries: u64,
    /// Feed states kept.
    pub feeds: u64,
    /// Pages remembered as permanently failed.
    pub rejects: u64,
    /// The persisted seq counter: the next article's seq.
    pub next_seq: u64,
    /// Every broken invariant, in the order found.
    pub violations: Vec<Violation>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A key shown as text when it is UTF-8, else in hex.
fn shown(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => format!("0x{}", hex(bytes)),
    }
}

struct Found(Vec<Violation>);

impl Found {
    fn add(&mut self, invariant: u8, tree: &'static str, key: impl Into<String>, problem: String) {
        self.0.push(Violation {
            invariant,
            tree,
            key: key.into(),
            problem,
        });
    }
}

impl Store {
    /// Checks every invariant; `Err` only when sled itself fails to read.
    pub fn check(&self, opts: &CheckOptions<'_>) -> Result<CheckReport, StoreError> {
        let mut found = Found(Vec::new());
        let mut report = CheckReport::default();
        let counters = self.check_schema_tree(&mut found)?;
        report.next_seq = counters.next_seq;
        let articles = self.check_articles(opts, counters.next_seq, &mut found)?;
        report.articles = articles.count;
        self.check_orphans(counters.next_seq, &mut found)?;
        report.lsh_entries = self.check_bands(&mut found)?;
        report.urls = self.check_urls(&mut found)?;
        self.check_dups(&mut found)?;
        // 9: the duplicates counter.
        report.duplicates = articles.copies;
        if counters.duplicates != articles.copies {
            found.add(
                9,
                "meta_schema",
                "duplicates",
                format!(
                    "counter says {} copies, the article records list {}",
                    counters.duplicates, articles.copies
                ),
            );
        }
        report.feeds = self.check_feeds(opts, &mut found)?;
        report.rejects = self.check_rejects(&mut found)?;
        report.violations = found.0;
        Ok(report)
    }

    /// 1: the schema tree.
    fn check_schema_tree(&self, found: &mut Found) -> Result<super::Watermark, StoreError> {
        let t = self.t()?;
        match t.schema.get(VERSION)? {
            None => found.add(1, "meta_schema", "version", "missing".into()),
            Some(v) => match <[u8; 4]>::try_from(v.as_ref()).map(u32::from_be_bytes) {
                Ok(n) if n <= SCHEMA_VERSION => {}
                Ok(n) => found.add(
                    1,
                    "meta_schema",
                    "version",
                    format!("{n} is newer than {SCHEMA_VERSION}"),
                ),
                Err(_) => found.add(1, "meta_schema", "version", "not 4 bytes".into()),
            },
        }
        let mut counter = |key: &'static [u8]| -> Result<u64, StoreError> {
            Ok(match t.schema.get(key)? {
                None => 0,
                Some(v) => be_u64(&v).unwrap_or_else(|| {
                    found.add(1, "meta_schema", shown(key), "not 8 bytes".into());
                    0
                }),
            })
        };
        Ok(super::Watermark {
            next_seq: counter(NEXT_SEQ)?,
            duplicates: counter(DUPLICATES)?,
        })
    }

    /// 2–8 from each article's side: its record, text, and every index entry it needs.
    fn check_articles(
        &self,
        opts: &CheckOptions<'_>,
        next_seq: u64,
        found: &mut Found,
    ) -> Result<ArticleTally, StoreError> {
        let t = self.t()?;
        let mut tally = ArticleTally::default();
        for entry in t.meta.iter() {
            let (key, raw) = entry?;
            let Ok(name) = std::str::from_utf8(&key) else {
                found.add(2, "meta", shown(&key), "key is not UTF-8".into());
                continue;
            };
            let record: ArticleRecord = match serde_json::from_slice(&raw) {
                Ok(r) => r,
                Err(e) => {
                    found.add(2, "meta", name, format!("record does not decode: {e}"));
                    continue;
                }
            };
            tally.count += 1;
            tally.copies += record.duplicates.len() as u64;
            self.check_record(name, &record, next_seq, found)?;
            self.check_text(name, &record, found)?;
            self.check_fingerprint(opts, name, record.seq, found)?;
            for d in &record.duplicates {
                let back = t
                    .dups
                    .get(d.url.as_bytes())?
                    .and_then(|v| serde_json::from_slice::<DuplicateRecord>(&v).ok())
                    .and_then(|r| r.original);
                if back.as_deref() != Some(name) {
                    found.add(
                        8,
                        "meta",
                        name,
                        format!(
                            "lists the copy {} but dups leads {} (expected this article)",
                            d.url,
                            back.map_or("nowhere".to_string(), |b| format!("to {b}"))
                        ),
                    );
                }
            }
        }
        Ok(tally)
    }

    /// 2, 4, 5: the record's own fields and the entries leading to it.
    fn check_record(
        &self,
        name: &str,
        r: &ArticleRecord,
        next_seq: u64,
        found: &mut Found,
    ) -> Result<(), StoreError> {
        let t = self.t()?;
        let expected = u64::from_str_radix(&r.id, 16)
            .ok()
            .filter(|_| r.id.len() == 16)
            .map(|id| article_name(r.seq, id));
        if r.name != name || expected.as_deref() != Some(name) {
            found.add(
                2,
                "meta",
                name,
                format!(
                    "record says name {:?}, seq {}, id {:?}: they do not make this name",
                    r.name, r.seq, r.id
                ),
            );
        }
        if r.seq >= next_seq {
            found.add(
                2,
                "meta",
                name,
                format!("seq {} is not below next_seq {next_seq}", r.seq),
            );
        }
        let by_seq = t.by_seq.get(r.seq.to_be_bytes())?;
        if by_seq.as_deref() != Some(name.as_bytes()) {
            found.add(
                4,
                "by_seq",
                format!("seq {}", r.seq),
                format!(
                    "should name {name}, names {}",
                    by_seq.map_or("nothing".into(), |n| shown(&n))
                ),
            );
        }
        let url = t.urls.get(r.canonical_url.as_bytes())?;
        if url.as_deref() != Some(name.as_bytes()) {
            found.add(
                5,
                "urls",
                &r.canonical_url,
                format!(
                    "canonical URL of {name} leads to {}",
                    url.map_or("nothing".into(), |n| shown(&n))
                ),
            );
        }
        Ok(())
    }

    /// 3: the text exists, is UTF-8 and matches the content hash.
    fn check_text(
        &self,
        name: &str,
        r: &ArticleRecord,
        found: &mut Found,
    ) -> Result<(), StoreError> {
        let t = self.t()?;
        match t.articles.get(name.as_bytes())? {
            None => found.add(3, "articles", name, "no text for this record".into()),
            Some(text) => match std::str::from_utf8(&text) {
                Err(_) => found.add(3, "articles", name, "text is not UTF-8".into()),
                Ok(text) if content_hash(text) != r.content_hash => found.add(
                    3,
                    "articles",
                    name,
                    format!(
                        "text hashes to {}, the record says {}",
                        content_hash(text),
                        r.content_hash
                    ),
                ),
                Ok(_) => {}
            },
        }
        Ok(())
    }

    /// 6, 7 from the article's side: its fingerprint decodes and `bands` holds its keys.
    fn check_fingerprint(
        &self,
        opts: &CheckOptions<'_>,
        name: &str,
        seq: u64,
        found: &mut Found,
    ) -> Result<(), StoreError> {
        let t = self.t()?;
        let Some(fp) = t.sigs.get(seq.to_be_bytes())? else {
            found.add(
                6,
                "sigs",
                format!("seq {seq}"),
                format!("no fingerprint for {name}"),
            );
            return Ok(());
        };
        let mut bands = match (opts.band_keys)(&fp) {
            Ok(b) => b,
            Err(e) => {
                found.add(
                    6,
                    "sigs",
                    format!("seq {seq}"),
                    format!("fingerprint of {name} does not decode: {e}"),
                );
                return Ok(());
            }
        };
        bands.sort_unstable();
        bands.dedup();
        let stored = t.bands.get(seq.to_be_bytes())?;
        let Some(mut stored) = stored.as_deref().and_then(super::bands::unpack) else {
            let problem = match stored {
                None => format!("missing: {name} cannot be found as a duplicate candidate"),
                Some(_) => format!("band keys of {name} are not 8 bytes each"),
            };
            found.add(7, "bands", format!("seq {seq}"), problem);
            return Ok(());
        };
        stored.sort_unstable();
        stored.dedup();
        for band in bands.iter().filter(|b| stored.binary_search(b).is_err()) {
            found.add(
                7,
                "bands",
                format!("seq {seq}"),
                format!("band {band:016x} missing: {name} cannot be found as a candidate in it"),
            );
        }
        for band in stored.iter().filter(|b| bands.binary_search(b).is_err()) {
            found.add(
                7,
                "bands",
                format!("seq {seq}"),
                format!("band {band:016x} is not a band of {name}'s fingerprint"),
            );
        }
        Ok(())
    }

    /// 3, 4, 6: entries of `articles`, `by_seq` and `sigs` that no article accounts for.
    fn check_orphans(&self, next_seq: u64, found: &mut Found) -> Result<(), StoreError> {
        let t = self.t()?;
        for key in t.articles.iter().keys() {
            let key = key?;
            if !t.meta.contains_key(&key)? {
                found.add(
                    3,
                    "articles",
                    shown(&key),
                    "text without a record in meta".into(),
                );
            }
        }
        for entry in t.by_seq.iter() {
            let (key, name) = entry?;
            let Some(seq) = be_u64(&key) else {
                found.add(4, "by_seq", shown(&key), "key is not an 8-byte seq".into());
                continue;
            };
            if seq >= next_seq {
                found.add(
                    4,
                    "by_seq",
                    format!("seq {seq}"),
                    format!("not below next_seq {next_seq}"),
                );
            }
            let record = t
                .meta
                .get(&name)?
                .and_then(|raw| serde_json::from_slice::<ArticleRecord>(&raw).ok());
            match record {
                None => found.add(
                    4,
                    "by_seq",
                    format!("seq {seq}"),
                    format!("names {}, which is not a stored article", shown(&name)),
                ),
                Some(r) if r.seq != seq => found.add(
                    4,
                    "by_seq",
                    format!("seq {seq}"),
                    format!("names {}, whose seq is {}", r.name, r.seq),
                ),
                Some(_) => {}
            }
        }
        for key in t.sigs.iter().keys() {
            let key = key?;
            if be_u64(&key).is_none() || !t.by_seq.contains_key(&key)? {
                found.add(
                    6,
                    "sigs",
                    seq_shown(&key),
                    "fingerprint of no stored article".into(),
                );
            }
        }
        Ok(())
    }

    /// 7 from the index's side: every `bands` entry belongs to a stored article (its own
    /// keys were compared from the article's side); returns the band keys held. A schema-1
    /// `lsh` tree left over is named too.
    fn check_bands(&self, found: &mut Found) -> Result<u64, StoreError> {
        let t = self.t()?;
        let mut total = 0;
        for entry in t.bands.iter() {
            let (key, value) = entry?;
            total += (value.len() / 8) as u64;
            match be_u64(&key) {
                Some(seq) if t.by_seq.contains_key(seq.to_be_bytes())? => {}
                Some(seq) => found.add(
                    7,
                    "bands",
                    format!("seq {seq}"),
                    "band keys of no stored article".into(),
                ),
                None => found.add(7, "bands", shown(&key), "key is not an 8-byte seq".into()),
            }
        }
        if t.db.tree_names().iter().any(|n| n == super::bands::OLD_LSH) {
            found.add(
                7,
                "lsh",
                "(tree)",
                "the schema-1 index is still present after the upgrade".into(),
            );
        }
        Ok(total)
    }

    /// 5 from the index's side: every URL leads to a stored article.
    fn check_urls(&self, found: &mut Found) -> Result<u64, StoreError> {
        let t = self.t()?;
        let mut n = 0;
        for entry in t.urls.iter() {
            let (url, name) = entry?;
            n += 1;
            if !t.meta.contains_key(&name)? {
                found.add(
                    5,
                    "urls",
                    shown(&url),
                    format!("leads to {}, which is not a stored article", shown(&name)),
                );
            }
        }
        Ok(n)
    }

    /// 8 from the index's side: every duplicate record names a stored original that lists it.
    fn check_dups(&self, found: &mut Found) -> Result<(), StoreError> {
        let t = self.t()?;
        for entry in t.dups.iter() {
            let (url, raw) = entry?;
            let url = shown(&url);
            let rec: DuplicateRecord = match serde_json::from_slice(&raw) {
                Ok(r) => r,
                Err(e) => {
                    found.add(8, "dups", url, format!("record does not decode: {e}"));
                    continue;
                }
            };
            let Some(original) = rec.original else {
                found.add(8, "dups", url, "record names no original".into());
                continue;
            };
            let listed = t
                .meta
                .get(original.as_bytes())?
                .and_then(|raw| serde_json::from_slice::<ArticleRecord>(&raw).ok())
                .map(|r| r.duplicates.iter().any(|d| d.url == rec.url));
            match listed {
                None => found.add(
                    8,
                    "dups",
                    url,
                    format!("original {original} is not a stored article"),
                ),
                Some(false) => found.add(
                    8,
                    "dups",
                    url,
                    format!("original {original} does not list the copy {}", rec.url),
                ),
                Some(true) => {}
            }
        }
        Ok(())
    }

    /// 10: feed states.
    fn check_feeds(&self, opts: &CheckOptions<'_>, found: &mut Found) -> Result<u64, StoreError> {
        let t = self.t()?;
        let mut n = 0;
        for entry in t.feeds.iter() {
            let (key, raw) = entry?;
            n += 1;
            let feed = shown(&key);
            if !url::Url::parse(&feed).is_ok_and(|u| matches!(u.scheme(), "http" | "https")) {
                found.add(10, "feeds", &feed, "key is not an http(s) URL".into());
            }
            let s: FeedState = match serde_json::from_slice(&raw) {
                Ok(s) => s,
                Err(e) => {
                    found.add(10, "feeds", feed, format!("state does not decode: {e}"));
                    continue;
                }
            };
            let skew = Duration::days(1);
            let mut bad = Vec::new();
            if let Some(t) = s.next_poll
                && t > opts.now + opts.max_poll_ahead
            {
                bad.push(format!(
                    "next poll {t} is more than {} days ahead",
                    opts.max_poll_ahead.num_days()
                ));
            }
            // (A poll's success is stamped when its items are settled, after `last_polled`.)
            for (what, t) in [
                ("last polled", s.last_polled),
                ("last success", s.last_success),
            ] {
                if let Some(t) = t
                    && t > opts.now + skew
                {
                    bad.push(format!("{what} {t}, in the future"));
                }
            }
            if s.last_success.is_some() && s.last_polled.is_none() {
                bad.push("a last success but never polled".into());
            }
            if (s.error_streak > 0) != s.last_error.is_some() {
                bad.push(format!(
                    "error streak {} with {} last error",
                    s.error_streak,
                    if s.last_error.is_some() { "a" } else { "no" }
                ));
            }
            for problem in bad {
                found.add(10, "feeds", &feed, problem);
            }
        }
        Ok(n)
    }

    /// 11: rejects decode.
    fn check_rejects(&self, found: &mut Found) -> Result<u64, StoreError> {
        let t = self.t()?;
        let mut n = 0;
        for entry in t.rejects.iter() {
            let (url, raw) = entry?;
            n += 1;
            if let Err(e) = serde_json::from_slice::<Reject>(&raw) {
                found.add(
                    11,
                    "rejects",
                    shown(&url),
                    format!("record does not decode: {e}"),
                );
            }
        }
        Ok(n)
    }
}

fn seq_shown(key: &[u8]) -> String {
    be_u64(key).map_or_else(|| shown(key), |s| format!("seq {s}"))
}

/// What the pass over the articles counted.
#[derive(Default)]
struct ArticleTally {
    /// Records that decode.
    count: u64,
    /// Copies their records list (invariant 9 compares it with the counter).
    copies: u64,
}

#[cfg(test)]
mod tests;
