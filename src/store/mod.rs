//! Store: the only module that touches sled.
//!
//! Trees (DESIGN §5):
//!
//! | tree | key | value |
//! |---|---|---|
//! | `articles` | name | clean text, byte for byte |
//! | `meta` | name | [`ArticleRecord`] as JSON (incl. its recorded duplicates) |
//! | `by_seq` | seq (u64 BE) | name |
//! | `urls` | canonical URL, and every alias that led to it | name |
//! | `dups` | URL of a duplicate copy | [`DuplicateRecord`] JSON with the original's name |
//! | `sigs` | seq (u64 BE) | dedup fingerprint bytes (opaque here) |
//! | `bands` | seq (u64 BE) | the article's LSH band keys, u64 BE each; held in memory as band → seq (`bands.rs`) |
//! | `feeds` | feed URL | [`FeedState`] JSON |
//! | `rejects` | URL | [`Reject`] JSON: pages that permanently failed, not fetched again |
//! | `sites` | host | the extractor's site memory of that host, versioned bytes (`sites.rs`) |
//! | `meta_schema` | `version`, `next_seq`, `duplicates`; `import_incomplete` while `newsd import` runs | u32 BE, u64 BE, u64 BE; empty |
//!
//! Everything one article touches is written in ONE transaction, the seq counter included,
//! so a crash can neither leave half an article nor reuse or skip a seq. The store does not
//! interpret fingerprints: the dedup engine decides, the store keeps bytes.
//!
//! # Invariants
//!
//! What every store satisfies after any crash; `newsd check` ([`Store::check`], `check.rs`)
//! verifies each and names a violation by its number here:
//!
//! 1. `meta_schema`: `version` is 4 bytes and at most [`SCHEMA_VERSION`]; `next_seq` and
//!    `duplicates`, when present, are 8 bytes.
//! 2. Every `meta` entry decodes as an [`ArticleRecord`] whose `name` is its key and is
//!    `article_name(seq, id)`, with `seq < next_seq`.
//! 3. Every article has its text in `articles`, UTF-8, hashing to the record's
//!    `content_hash`; `articles` holds nothing else.
//! 4. `by_seq` maps each article's seq to its name and holds nothing else (every key an
//!    8-byte seq below `next_seq`, naming an article with that seq): seqs are unique.
//! 5. `urls` maps each article's canonical URL to its name; every `urls` entry (aliases
//!    included) leads to a stored article.
//! 6. `sigs` holds a fingerprint for each article's seq, and nothing else; it decodes.
//! 7. `bands` holds, under each article's seq, exactly the band keys of its fingerprint (as
//!    the dedup engine computes them; 8 bytes each, in any order), and nothing else (every
//!    key an 8-byte seq of a stored article). The schema-1 `lsh` tree is gone.
//! 8. Every copy an article's record lists has its `dups` entry naming that article as
//!    original; every `dups` entry (aliases included) decodes and names a stored original
//!    whose record lists that copy's URL.
//! 9. The `duplicates` counter equals the number of copies all records list.
//! 10. Every `feeds` key is an http(s) URL and its value a [`FeedState`] that is sane: next
//!     poll not absurdly far ahead, last poll and last success not in the future, no success
//!     without a poll, an error streak exactly when there is a last error.
//! 11. Every `rejects` entry decodes as a [`Reject`].
//!
//! Beyond what sled can tell, `open.rs` refuses a *damaged* store (sled's files incomplete,
//! the schema version unreadable, or fewer articles than an earlier flush made durable) with
//! [`StoreError::Damaged`] instead of opening it as an older or empty store.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};
use sled::transaction::TransactionError;

use crate::schedule::FeedState;

mod bands;
mod batch;
pub mod check;
mod cluster;
mod import;
mod open;
mod sites;

pub use batch::{Applied, Original, Write};
pub use cluster::ReplicaPosition;
pub use open::{WATERMARK_FILE, Watermark};

/// Version of the on-disk layout this build writes and understands.
/// 1: one `lsh` key per band (band ++ seq); 2: one `bands` value per article (migrated on open).
pub const SCHEMA_VERSION: u32 = 2;

/// The `[store]` config section.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// Directory of the sled database; relative paths are relative to the config file.
    pub data_dir: PathBuf,
    /// sled's page cache: bounds the store's memory whatever the number of articles.
    pub cache_capacity_bytes: u64,
    /// Ingest pauses when free disk under `data_dir` falls below this (0 = off), before a
    /// full disk fails writes; it resumes at a tenth above it.
    pub min_free_bytes: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            data_dir: PathBuf::from("data"),
            cache_capacity_bytes: 64 * 1024 * 1024,
            min_free_bytes: 256 * 1024 * 1024,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store at {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: sled::Error,
    },
    #[error(
        "store at {path} is locked by another process (is the newsd daemon running? stop it, or point --data-dir elsewhere)"
    )]
    Locked { path: PathBuf },
    #[error(
        "store at {path} has schema version {found}; this newsd understands up to {SCHEMA_VERSION}: upgrade newsd (the data was not touched)"
    )]
    NewerSchema { path: PathBuf, found: u32 },
    #[error("store at {path} is corrupt: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("store I/O: {0}")]
    Sled(#[from] sled::Error),
    #[error(
        "store at {path} is closed after a write failure; newsd reopens it when writes succeed again"
    )]
    Closed { path: PathBuf },
    #[error("store record {key}: {reason}")]
    Record { key: String, reason: String },
    #[error(
        "store at {path} is damaged: {reason}. Restore it from an export into a new directory with `newsd import`, or move the directory away and keep it for inspection"
    )]
    Damaged { path: PathBuf, reason: String },
    #[error(
        "store at {path} is not empty ({held}): import only goes into a new store; move the directory away or pass another --data-dir"
    )]
    NotEmpty { path: PathBuf, held: String },
    #[error("store file {path}: {source}")]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl StoreError {
    /// The store's files are damaged or not this build's (as opposed to an I/O failure that
    /// may pass, like a full disk): retrying cannot help.
    pub fn is_damage(&self) -> bool {
        let sled_damage = |e: &sled::Error| {
            matches!(
                e,
                sled::Error::Corruption { .. }
                    | sled::Error::ReportableBug(_)
                    | sled::Error::Unsupported(_)
            )
        };
        match self {
            StoreError::Corrupt { .. }
            | StoreError::NewerSchema { .. }
            | StoreError::Damaged { .. } => true,
            StoreError::Open { source, .. } => sled_damage(source),
            StoreError::Sled(e) => sled_damage(e),
            _ => false,
        }
    }
}

/// A duplicate copy recorded under its original.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DuplicateRecord {
    /// Canonical URL of the copy.
    pub url: String,
    pub feed: Option<String>,
    pub similarity: f64,
    pub seen_at: String,
    /// Name of the stored original (omitted inside the original's own record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original: Option<String>,
}

/// Metadata of a stored article; also one line of `manifest.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArticleRecord {
    pub name: String,
    pub seq: u64,
    /// XXH3-64 of the canonical URL, 16 hex digits.
    pub id: String,
    /// URL the page was fetched from (after redirects).
    pub url: String,
    pub canonical_url: String,
    pub feed: Option<String>,
    pub title: String,
    pub author: Option<String>,
    pub published: Option<String>,
    pub site_name: Option<String>,
    pub language: Option<String>,
    pub fetched_at: String,
    pub words: usize,
    /// XXH3-64 of the stored text, to check an export or spot silent corruption.
    pub content_hash: String,
    #[serde(default)]
    pub duplicates: Vec<DuplicateRecord>,
}

/// A page newsd gave up on for good (not HTML, no article text, 404 …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reject {
    pub reason: String,
    pub at: String,
}

/// What the store knows about a URL.
#[derive(Debug, Clone, PartialEq)]
pub enum Known {
    /// Stored under this name (as canonical URL or alias).
    Stored(String),
    /// Recorded as a copy of this stored article.
    Duplicate(String),
    /// Permanently rejected.
    Rejected(String),
}

/// Everything needed to store one new article.
pub struct NewArticle<'a> {
    /// Builds the record once the seq (and so the name) is allocated inside the transaction.
    pub record: ArticleRecord,
    pub text: &'a str,
    /// Extra URLs that lead to this article (feed link, fetched URL), besides the canonical.
    pub aliases: &'a [String],
    pub fingerprint: &'a [u8],
    pub band_keys: &'a [u64],
}

/// Counts for `newsd stats`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    pub articles: u64,
    pub duplicates: u64,
    pub urls: u64,
    pub feeds: u64,
    pub rejects: u64,
    pub next_seq: u64,
    pub size_on_disk_bytes: u64,
}

/// The sled database and its trees. Held behind an `Arc` so that the store can drop them
/// all at once (closing the database and stopping sled's flusher) after a write failure and
/// open them again later, while an operation in progress keeps its own handle.
pub(super) struct Trees {
    db: sled::Db,
    articles: sled::Tree,
    meta: sled::Tree,
    by_seq: sled::Tree,
    urls: sled::Tree,
    dups: sled::Tree,
    sigs: sled::Tree,
    bands: sled::Tree,
    /// The `bands` tree in memory, for candidate lookups.
    index: bands::BandIndex,
    feeds: sled::Tree,
    rejects: sled::Tree,
    schema: sled::Tree,
}

impl Trees {
    /// Opens the trees; the band index is loaded by [`Store::open`] once the schema is current.
    pub(super) fn open(cfg: &StoreConfig) -> Result<Trees, StoreError> {
        let db = open::open_db(cfg)?;
        let tree = |name: &str| db.open_tree(name);
        Ok(Trees {
            articles: tree("articles")?,
            meta: tree("meta")?,
            by_seq: tree("by_seq")?,
            urls: tree("urls")?,
            dups: tree("dups")?,
            sigs: tree("sigs")?,
            bands: tree("bands")?,
            index: bands::BandIndex::default(),
            feeds: tree("feeds")?,
            rejects: tree("rejects")?,
            schema: tree("meta_schema")?,
            db,
        })
    }
}

pub struct Store {
    path: PathBuf,
    /// How to open the database again after [`Store::close`].
    cfg: StoreConfig,
    /// `None` while closed: sled poisons a database after its first I/O error (every later
    /// call fails with it until the database is opened again), so a failed write closes the
    /// store and [`Store::reopen`] is the only way back.
    trees: RwLock<Option<Arc<Trees>>>,
}

const NEXT_SEQ: &[u8] = b"next_seq";
/// Copies recorded so far; kept in the same transaction as each record so `stats` need not
/// read every article's metadata.
const DUPLICATES: &[u8] = b"duplicates";
const VERSION: &[u8] = b"version";
/// Written and flushed by [`Store::reopen`] to prove the store can write again.
const PROBE: &[u8] = b"write_probe";

fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Free bytes available to this process on the file system holding `path` (or its nearest
/// existing ancestor, for a store not created yet).
pub fn free_bytes(path: &Path) -> std::io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let mut probe = path;
    while !probe.exists() {
        match probe.parent() {
            Some(p) if !p.as_os_str().is_empty() => probe = p,
            _ => {
                probe = Path::new(".");
                break;
            }
        }
    }
    let c = std::ffi::CString::new(probe.as_os_str().as_bytes())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `c` is a valid NUL-terminated path and `st` is written by statvfs on success.
    let rc = unsafe { libc::statvfs(c.as_ptr(), st.as_mut_ptr()) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: statvfs returned 0, so it filled `st`.
    let st = unsafe { st.assume_init() };
    Ok(st.f_bavail.saturating_mul(st.f_frsize))
}

fn be_u64(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.try_into().ok()?))
}

impl Store {
    /// The open database, or [`StoreError::Closed`] after a failure closed it.
    pub(super) fn t(&self) -> Result<Arc<Trees>, StoreError> {
        self.trees
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| StoreError::Closed {
                path: self.path.clone(),
            })
    }

    /// Drops the database handles (stopping sled's flusher, which would otherwise report the
    /// same failure every half second). Operations in progress finish with their own handle;
    /// every later one fails with [`StoreError::Closed`] until [`Store::reopen`] succeeds.
    pub fn close(&self) {
        let old = self.trees.write().unwrap_or_else(|p| p.into_inner()).take();
        drop(old);
    }

    /// Whether the store is open (false between a failure and a successful reopen).
    pub fn is_open(&self) -> bool {
        self.trees
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }

    /// Opens the database again after [`Store::close`] — with every check of a first open,
    /// so damage found now is [`StoreError::Damaged`] — and proves it can write: a probe key
    /// is written and flushed. On failure the store stays closed.
    pub fn reopen(&self) -> Result<(), StoreError> {
        self.close();
        let fresh = Store::open(&self.cfg)?;
        let trees = fresh
            .trees
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .ok_or_else(|| StoreError::Closed {
                path: self.path.clone(),
            })?;
        trees.schema.insert(PROBE, &now_millis().to_be_bytes())?;
        trees.db.flush()?;
        *self.trees.write().unwrap_or_else(|p| p.into_inner()) = Some(trees);
        Ok(())
    }

    /// Free bytes on the file system that holds the store (for `store.min_free_bytes`).
    pub fn free_bytes(&self) -> std::io::Result<u64> {
        free_bytes(&self.path)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the store knows about `url` (a canonical URL or an alias).
    pub fn known(&self, url: &str) -> Result<Option<Known>, StoreError> {
        let t = self.t()?;
        if let Some(name) = t.urls.get(url)? {
            return Ok(Some(Known::Stored(utf8(&name, url)?)));
        }
        if let Some(rec) = t.dups.get(url)? {
            let rec: DuplicateRecord = json(&rec, url)?;
            return Ok(Some(Known::Duplicate(rec.original.unwrap_or_default())));
        }
        if let Some(rej) = t.rejects.get(url)? {
            let rej: Reject = json(&rej, url)?;
            return Ok(Some(Known::Rejected(rej.reason)));
        }
        Ok(None)
    }

    /// Stores a new article and all its indexes in one transaction; returns its record with
    /// the allocated seq and name.
    pub fn insert_article(&self, new: NewArticle<'_>) -> Result<ArticleRecord, StoreError> {
        match self.apply(vec![Write::New(new)])?.pop() {
            Some(Applied::Stored(record)) => Ok(record),
            _ => unreachable!("apply returns one result per write, in order"),
        }
    }

    /// Records `dup` as a copy of the stored article with seq `original_seq`, and remembers
    /// `aliases` so none of them is fetched again.
    pub fn record_duplicate(
        &self,
        original_seq: u64,
        dup: DuplicateRecord,
        aliases: &[String],
    ) -> Result<String, StoreError> {
        let write = Write::Copy {
            original: Original::Seq(original_seq),
            dup,
            aliases,
        };
        match self.apply(vec![write])?.pop() {
            Some(Applied::Copy(name)) => Ok(name),
            _ => unreachable!("apply returns one result per write, in order"),
        }
    }

    /// Makes every alias lead where `known_url` leads (stored article, duplicate record or
    /// rejection), so none of them is fetched again.
    pub fn add_aliases(&self, known_url: &str, aliases: &[String]) -> Result<(), StoreError> {
        let t = self.t()?;
        for tree in [&t.urls, &t.dups, &t.rejects] {
            if let Some(value) = tree.get(known_url)? {
                for alias in aliases {
                    tree.insert(alias.as_bytes(), value.clone())?;
                }
                return Ok(());
            }
        }
        Ok(())
    }

    /// Remembers that `urls` permanently failed, so they are not fetched on every poll.
    pub fn record_reject(&self, urls: &[String], reject: &Reject) -> Result<(), StoreError> {
        let t = self.t()?;
        let value = serde_json::to_vec(reject).map_err(|e| StoreError::Record {
            key: urls.first().cloned().unwrap_or_default(),
            reason: e.to_string(),
        })?;
        for url in urls {
            t.rejects.insert(url.as_bytes(), value.clone())?;
        }
        Ok(())
    }

    pub fn feed_state(&self, feed: &str) -> Result<Option<FeedState>, StoreError> {
        let t = self.t()?;
        t.feeds.get(feed)?.map(|v| json(&v, feed)).transpose()
    }

    pub fn put_feed_state(&self, feed: &str, state: &FeedState) -> Result<(), StoreError> {
        let t = self.t()?;
        let value = serde_json::to_vec(state).map_err(|e| StoreError::Record {
            key: feed.to_string(),
            reason: e.to_string(),
        })?;
        t.feeds.insert(feed.as_bytes(), value)?;
        Ok(())
    }

    pub fn feed_states(&self) -> Result<Vec<(String, FeedState)>, StoreError> {
        let t = self.t()?;
        t.feeds
            .iter()
            .map(|entry| {
                let (k, v) = entry?;
                let url = utf8(&k, "feeds")?;
                let state = json(&v, &url)?;
                Ok((url, state))
            })
            .collect()
    }

    /// Stored articles in seq order: (record, text).
    pub fn articles(
        &self,
    ) -> impl Iterator<Item = Result<(ArticleRecord, String), StoreError>> + '_ {
        self.seq_names().map(move |name| {
            let name = name?;
            self.article(&name)?.ok_or_else(|| StoreError::Record {
                key: name,
                reason: "listed in by_seq but missing".into(),
            })
        })
    }

    /// Article records only, in seq order (no text loaded).
    pub fn records(&self) -> impl Iterator<Item = Result<ArticleRecord, StoreError>> + '_ {
        self.seq_names().map(move |name| {
            let name = name?;
            let raw = self
                .t()?
                .meta
                .get(name.as_bytes())?
                .ok_or_else(|| StoreError::Record {
                    key: name.clone(),
                    reason: "no metadata".into(),
                })?;
            json(&raw, &name)
        })
    }

    /// Article names in seq order; a closed store yields its error once.
    fn seq_names(&self) -> impl Iterator<Item = Result<String, StoreError>> + use<'_> {
        let (iter, err) = match self.t() {
            Ok(t) => (Some(t.by_seq.iter()), None),
            Err(e) => (None, Some(Err(e))),
        };
        err.into_iter()
            .chain(iter.into_iter().flatten().map(|entry| {
                let (_, name) = entry?;
                utf8(&name, "by_seq")
            }))
    }

    /// The stored text of the article with this seq (for the dedup template check).
    pub fn text_by_seq(&self, seq: u64) -> Result<Option<String>, StoreError> {
        let t = self.t()?;
        let Some(name) = t.by_seq.get(seq.to_be_bytes())? else {
            return Ok(None);
        };
        let name = utf8(&name, "by_seq")?;
        match t.articles.get(name.as_bytes())? {
            Some(text) => Ok(Some(utf8(&text, &name)?)),
            None => Ok(None),
        }
    }

    /// One article by name.
    pub fn article(&self, name: &str) -> Result<Option<(ArticleRecord, String)>, StoreError> {
        let t = self.t()?;
        let (Some(raw), Some(text)) = (t.meta.get(name)?, t.articles.get(name)?) else {
            return Ok(None);
        };
        Ok(Some((json(&raw, name)?, utf8(&text, name)?)))
    }

    /// One article by name, or by any URL that leads to it (canonical, alias or duplicate).
    pub fn find(&self, name_or_url: &str) -> Result<Option<(ArticleRecord, String)>, StoreError> {
        if let Some(found) = self.article(name_or_url)? {
            return Ok(Some(found));
        }
        match self.known(name_or_url)? {
            Some(Known::Stored(name) | Known::Duplicate(name)) => self.article(&name),
            _ => Ok(None),
        }
    }

    pub fn stats(&self) -> Result<Stats, StoreError> {
        let t = self.t()?;
        let counter = |key: &[u8]| -> Result<u64, StoreError> {
            Ok(t.schema.get(key)?.and_then(|v| be_u64(&v)).unwrap_or(0))
        };
        Ok(Stats {
            articles: t.by_seq.len() as u64,
            duplicates: counter(DUPLICATES)?,
            urls: t.urls.len() as u64,
            feeds: t.feeds.len() as u64,
            rejects: t.rejects.len() as u64,
            next_seq: counter(NEXT_SEQ)?,
            size_on_disk_bytes: t.db.size_on_disk()?,
        })
    }

    /// Makes everything written so far durable, then records in the watermark what that was.
    pub fn flush(&self) -> Result<(), StoreError> {
        let t = self.t()?;
        // Read before the flush: everything counted here is durable once it returns.
        let mark = self.watermark()?;
        t.db.flush()?;
        open::write_watermark(&self.path, mark).map_err(|source| StoreError::File {
            path: self.path.join(WATERMARK_FILE),
            source,
        })
    }
}

fn tx_result<T>(result: Result<T, TransactionError<String>>, key: &str) -> Result<T, StoreError> {
    result.map_err(|e| match e {
        TransactionError::Abort(reason) => StoreError::Record {
            key: key.to_string(),
            reason,
        },
        TransactionError::Storage(e) => StoreError::Sled(e),
    })
}

fn utf8(bytes: &[u8], key: &str) -> Result<String, StoreError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| StoreError::Record {
        key: key.to_string(),
        reason: "not UTF-8".into(),
    })
}

fn json<T: serde::de::DeserializeOwned>(bytes: &[u8], key: &str) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Record {
        key: key.to_string(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests;
