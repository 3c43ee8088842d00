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
//! | `lsh` | band key (u64 BE) ++ seq (u64 BE) | empty: a band bucket is a prefix scan |
//! | `feeds` | feed URL | [`FeedState`] JSON |
//! | `rejects` | URL | [`Reject`] JSON: pages that permanently failed, not fetched again |
//! | `sites` | host | the extractor's site memory of that host, versioned bytes (`sites.rs`) |
//! | `meta_schema` | `version`, `next_seq`, `duplicates` | u32 BE, u64 BE, u64 BE |
//!
//! Everything one article touches is written in ONE transaction, the seq counter included,
//! so a crash can neither leave half an article nor reuse or skip a seq. The store does not
//! interpret fingerprints: the dedup engine decides, the store keeps bytes.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};

use crate::schedule::FeedState;

mod sites;

/// Version of the on-disk layout this build writes and understands.
pub const SCHEMA_VERSION: u32 = 1;

/// The `[store]` config section.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// Directory of the sled database; relative paths are relative to the config file.
    pub data_dir: PathBuf,
    /// sled's page cache: bounds the store's memory whatever the number of articles.
    pub cache_capacity_bytes: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            data_dir: PathBuf::from("data"),
            cache_capacity_bytes: 64 * 1024 * 1024,
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
    #[error("store record {key}: {reason}")]
    Record { key: String, reason: String },
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

pub struct Store {
    path: PathBuf,
    db: sled::Db,
    articles: sled::Tree,
    meta: sled::Tree,
    by_seq: sled::Tree,
    urls: sled::Tree,
    dups: sled::Tree,
    sigs: sled::Tree,
    lsh: sled::Tree,
    feeds: sled::Tree,
    rejects: sled::Tree,
    schema: sled::Tree,
}

const NEXT_SEQ: &[u8] = b"next_seq";
/// Copies recorded so far; kept in the same transaction as each record so `stats` need not
/// read every article's metadata.
const DUPLICATES: &[u8] = b"duplicates";
const VERSION: &[u8] = b"version";

fn be_u64(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.try_into().ok()?))
}

impl Store {
    /// Opens (or creates) the store, refusing a store written by a newer schema.
    pub fn open(cfg: &StoreConfig) -> Result<Store, StoreError> {
        let path = cfg.data_dir.clone();
        let db = open_db(cfg)?;
        let tree = |name: &str| db.open_tree(name);
        let store = Store {
            articles: tree("articles")?,
            meta: tree("meta")?,
            by_seq: tree("by_seq")?,
            urls: tree("urls")?,
            dups: tree("dups")?,
            sigs: tree("sigs")?,
            lsh: tree("lsh")?,
            feeds: tree("feeds")?,
            rejects: tree("rejects")?,
            schema: tree("meta_schema")?,
            db,
            path,
        };
        match store.schema.get(VERSION)? {
            None => {
                if !store.by_seq.is_empty() {
                    return Err(StoreError::Corrupt {
                        path: store.path,
                        reason: "articles present but no schema version".into(),
                    });
                }
                store
                    .schema
                    .insert(VERSION, &SCHEMA_VERSION.to_be_bytes())?;
                store.db.flush()?;
            }
            Some(v) => {
                let found =
                    u32::from_be_bytes(v.as_ref().try_into().map_err(|_| StoreError::Corrupt {
                        path: store.path.clone(),
                        reason: "schema version is not 4 bytes".into(),
                    })?);
                if found > SCHEMA_VERSION {
                    return Err(StoreError::NewerSchema {
                        path: store.path,
                        found,
                    });
                }
            }
        }
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the store knows about `url` (a canonical URL or an alias).
    pub fn known(&self, url: &str) -> Result<Option<Known>, StoreError> {
        if let Some(name) = self.urls.get(url)? {
            return Ok(Some(Known::Stored(utf8(&name, url)?)));
        }
        if let Some(rec) = self.dups.get(url)? {
            let rec: DuplicateRecord = json(&rec, url)?;
            return Ok(Some(Known::Duplicate(rec.original.unwrap_or_default())));
        }
        if let Some(rej) = self.rejects.get(url)? {
            let rej: Reject = json(&rej, url)?;
            return Ok(Some(Known::Rejected(rej.reason)));
        }
        Ok(None)
    }

    /// Stored articles sharing at least one LSH band with `band_keys`: (seq, fingerprint).
    pub fn candidates(&self, band_keys: &[u64]) -> Result<Vec<(u64, sled::IVec)>, StoreError> {
        let mut seqs: Vec<u64> = Vec::new();
        for key in band_keys {
            for entry in self.lsh.scan_prefix(key.to_be_bytes()) {
                let (k, _) = entry?;
                if let Some(seq) = k.get(8..16).and_then(be_u64) {
                    seqs.push(seq);
                }
            }
        }
        seqs.sort_unstable();
        seqs.dedup();
        let mut out = Vec::with_capacity(seqs.len());
        for seq in seqs {
            if let Some(fp) = self.sigs.get(seq.to_be_bytes())? {
                out.push((seq, fp));
            }
        }
        Ok(out)
    }

    /// Stores a new article and all its indexes in one transaction; returns its record with
    /// the allocated seq and name.
    pub fn insert_article(&self, new: NewArticle<'_>) -> Result<ArticleRecord, StoreError> {
        let id = u64::from_str_radix(&new.record.id, 16).map_err(|_| StoreError::Record {
            key: new.record.canonical_url.clone(),
            reason: format!("id {:?} is not 16 hex digits", new.record.id),
        })?;
        let result = (
            &self.articles,
            &self.meta,
            &self.by_seq,
            &self.urls,
            &self.sigs,
            &self.lsh,
            &self.schema,
        )
            .transaction(|(articles, meta, by_seq, urls, sigs, lsh, schema)| {
                let seq = schema.get(NEXT_SEQ)?.and_then(|v| be_u64(&v)).unwrap_or(0);
                let mut record = new.record.clone();
                record.seq = seq;
                record.name = crate::article::article_name(seq, id);
                let meta_json = serde_json::to_vec(&record)
                    .map_err(|e| ConflictableTransactionError::Abort(e.to_string()))?;
                let name = record.name.as_bytes();
                articles.insert(name, new.text.as_bytes())?;
                meta.insert(name, meta_json)?;
                by_seq.insert(&seq.to_be_bytes(), name)?;
                urls.insert(record.canonical_url.as_bytes(), name)?;
                for alias in new.aliases {
                    urls.insert(alias.as_bytes(), name)?;
                }
                sigs.insert(&seq.to_be_bytes(), new.fingerprint)?;
                for band in new.band_keys {
                    let mut key = [0u8; 16];
                    key[..8].copy_from_slice(&band.to_be_bytes());
                    key[8..].copy_from_slice(&seq.to_be_bytes());
                    lsh.insert(&key, &[])?;
                }
                schema.insert(NEXT_SEQ, &(seq + 1).to_be_bytes())?;
                Ok(record)
            });
        tx_result(result, &new.record.canonical_url)
    }

    /// Records `dup` as a copy of the stored article with seq `original_seq`, and remembers
    /// `aliases` so none of them is fetched again.
    pub fn record_duplicate(
        &self,
        original_seq: u64,
        dup: DuplicateRecord,
        aliases: &[String],
    ) -> Result<String, StoreError> {
        let key = dup.url.clone();
        let result = (&self.by_seq, &self.meta, &self.dups, &self.schema).transaction(
            |(by_seq, meta, dups, schema)| {
                let abort = |reason: String| ConflictableTransactionError::Abort(reason);
                let name = by_seq
                    .get(original_seq.to_be_bytes())?
                    .ok_or_else(|| abort(format!("no article with seq {original_seq}")))?;
                let raw = meta
                    .get(&name)?
                    .ok_or_else(|| abort("original has no metadata".into()))?;
                let mut record: ArticleRecord =
                    serde_json::from_slice(&raw).map_err(|e| abort(e.to_string()))?;
                record.duplicates.push(DuplicateRecord {
                    original: None,
                    ..dup.clone()
                });
                meta.insert(
                    &name,
                    serde_json::to_vec(&record).map_err(|e| abort(e.to_string()))?,
                )?;
                let stored = DuplicateRecord {
                    original: Some(record.name.clone()),
                    ..dup.clone()
                };
                let stored = serde_json::to_vec(&stored).map_err(|e| abort(e.to_string()))?;
                dups.insert(dup.url.as_bytes(), stored.clone())?;
                for alias in aliases {
                    dups.insert(alias.as_bytes(), stored.clone())?;
                }
                let count = schema
                    .get(DUPLICATES)?
                    .and_then(|v| be_u64(&v))
                    .unwrap_or(0);
                schema.insert(DUPLICATES, &(count + 1).to_be_bytes())?;
                Ok(record.name)
            },
        );
        tx_result(result, &key)
    }

    /// Makes every alias lead where `known_url` leads (stored article, duplicate record or
    /// rejection), so none of them is fetched again.
    pub fn add_aliases(&self, known_url: &str, aliases: &[String]) -> Result<(), StoreError> {
        for tree in [&self.urls, &self.dups, &self.rejects] {
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
        let value = serde_json::to_vec(reject).map_err(|e| StoreError::Record {
            key: urls.first().cloned().unwrap_or_default(),
            reason: e.to_string(),
        })?;
        for url in urls {
            self.rejects.insert(url.as_bytes(), value.clone())?;
        }
        Ok(())
    }

    pub fn feed_state(&self, feed: &str) -> Result<Option<FeedState>, StoreError> {
        self.feeds.get(feed)?.map(|v| json(&v, feed)).transpose()
    }

    pub fn put_feed_state(&self, feed: &str, state: &FeedState) -> Result<(), StoreError> {
        let value = serde_json::to_vec(state).map_err(|e| StoreError::Record {
            key: feed.to_string(),
            reason: e.to_string(),
        })?;
        self.feeds.insert(feed.as_bytes(), value)?;
        Ok(())
    }

    pub fn feed_states(&self) -> Result<Vec<(String, FeedState)>, StoreError> {
        self.feeds
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
        self.by_seq.iter().map(move |entry| {
            let (_, name) = entry?;
            let name = utf8(&name, "by_seq")?;
            self.article(&name)?.ok_or_else(|| StoreError::Record {
                key: name,
                reason: "listed in by_seq but missing".into(),
            })
        })
    }

    /// Article records only, in seq order (no text loaded).
    pub fn records(&self) -> impl Iterator<Item = Result<ArticleRecord, StoreError>> + '_ {
        self.by_seq.iter().map(move |entry| {
            let (_, name) = entry?;
            let name = utf8(&name, "by_seq")?;
            let raw = self
                .meta
                .get(name.as_bytes())?
                .ok_or_else(|| StoreError::Record {
                    key: name.clone(),
                    reason: "no metadata".into(),
                })?;
            json(&raw, &name)
        })
    }

    /// The stored text of the article with this seq (for the dedup template check).
    pub fn text_by_seq(&self, seq: u64) -> Result<Option<String>, StoreError> {
        let Some(name) = self.by_seq.get(seq.to_be_bytes())? else {
            return Ok(None);
        };
        let name = utf8(&name, "by_seq")?;
        match self.articles.get(name.as_bytes())? {
            Some(text) => Ok(Some(utf8(&text, &name)?)),
            None => Ok(None),
        }
    }

    /// One article by name.
    pub fn article(&self, name: &str) -> Result<Option<(ArticleRecord, String)>, StoreError> {
        let (Some(raw), Some(text)) = (self.meta.get(name)?, self.articles.get(name)?) else {
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
        let counter = |key: &[u8]| -> Result<u64, StoreError> {
            Ok(self.schema.get(key)?.and_then(|v| be_u64(&v)).unwrap_or(0))
        };
        Ok(Stats {
            articles: self.by_seq.len() as u64,
            duplicates: counter(DUPLICATES)?,
            urls: self.urls.len() as u64,
            feeds: self.feeds.len() as u64,
            rejects: self.rejects.len() as u64,
            next_seq: counter(NEXT_SEQ)?,
            size_on_disk_bytes: self.db.size_on_disk()?,
        })
    }

    /// Makes everything written so far durable.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }
}

/// How long `open` waits for a lock held by a holder that is going away: sled's flusher
/// thread keeps the directory locked for a moment after its `Db` is dropped, and a restarted
/// daemon may start while the old process is still exiting.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

fn open_db(cfg: &StoreConfig) -> Result<sled::Db, StoreError> {
    let path = &cfg.data_dir;
    let deadline = std::time::Instant::now() + LOCK_WAIT;
    loop {
        let opened = sled::Config::new()
            .path(path)
            .cache_capacity(cfg.cache_capacity_bytes)
            .flush_every_ms(Some(500))
            .open();
        match opened {
            Ok(db) => return Ok(db),
            Err(sled::Error::Io(io))
                if io.kind() == std::io::ErrorKind::WouldBlock
                    || io.to_string().contains("lock") =>
            {
                if std::time::Instant::now() >= deadline {
                    return Err(StoreError::Locked { path: path.clone() });
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(source) => {
                return Err(StoreError::Open {
                    path: path.clone(),
                    source,
                });
            }
        }
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
mod tests {
    use super::*;

    fn cfg(dir: &Path) -> StoreConfig {
        StoreConfig {
            data_dir: dir.join("db"),
            cache_capacity_bytes: 1 << 20,
        }
    }

    fn record(url: &str) -> ArticleRecord {
        ArticleRecord {
            name: String::new(),
            seq: 0,
            id: format!("{:016x}", xxhash_rust::xxh3::xxh3_64(url.as_bytes())),
            url: url.into(),
            canonical_url: url.into(),
            feed: Some("http://feed.example/rss".into()),
            title: "T".into(),
            author: None,
            published: None,
            site_name: None,
            language: None,
            fetched_at: "2026-01-01T00:00:00Z".into(),
            words: 2,
            content_hash: "0".into(),
            duplicates: vec![],
        }
    }

    fn insert(store: &Store, url: &str, bands: &[u64]) -> ArticleRecord {
        store
            .insert_article(NewArticle {
                record: record(url),
                text: "T\n\nBody text.\n",
                aliases: &[format!("{url}?utm_source=x")],
                fingerprint: url.as_bytes(),
                band_keys: bands,
            })
            .unwrap()
    }

    #[test]
    fn articles_get_consecutive_seqs_and_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(&cfg(dir.path())).unwrap();
            let a = insert(&store, "http://a.example/1", &[1, 2]);
            let b = insert(&store, "http://a.example/2", &[2, 3]);
            assert_eq!((a.seq, b.seq), (0, 1));
            assert!(a.name.starts_with("000_") && b.name.starts_with("001_"));
            store.flush().unwrap();
        }
        let store = Store::open(&cfg(dir.path())).unwrap();
        let c = insert(&store, "http://a.example/3", &[9]);
        assert_eq!(c.seq, 2, "the counter is never reused after a restart");
        let names: Vec<String> = store.records().map(|r| r.unwrap().name).collect();
        assert_eq!(names.len(), 3);
        assert!(
            names.windows(2).all(|w| w[0] < w[1]),
            "seq order: {names:?}"
        );
        // Band 2 is shared by the first two articles; candidates carry their fingerprints.
        let cands = store.candidates(&[2]).unwrap();
        let seqs: Vec<u64> = cands.iter().map(|(s, _)| *s).collect();
        assert_eq!(seqs, [0, 1]);
        assert_eq!(&*cands[0].1, b"http://a.example/1");
        // Aliases lead to the article.
        assert_eq!(
            store.known("http://a.example/1?utm_source=x").unwrap(),
            Some(Known::Stored(names[0].clone()))
        );
        let (rec, text) = store.find("http://a.example/2").unwrap().unwrap();
        assert_eq!(rec.name, names[1]);
        assert_eq!(text, "T\n\nBody text.\n");
    }

    #[test]
    fn duplicates_are_recorded_under_the_original() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&cfg(dir.path())).unwrap();
        let a = insert(&store, "http://a.example/1", &[1]);
        let dup = DuplicateRecord {
            url: "http://b.example/copy".into(),
            feed: Some("http://b.example/feed".into()),
            similarity: 0.83,
            seen_at: "2026-01-02T00:00:00Z".into(),
            original: None,
        };
        let of = store
            .record_duplicate(a.seq, dup, &["http://b.example/copy?ref=rss".into()])
            .unwrap();
        assert_eq!(of, a.name);
        let (rec, _) = store.article(&a.name).unwrap().unwrap();
        assert_eq!(rec.duplicates.len(), 1);
        assert_eq!(rec.duplicates[0].url, "http://b.example/copy");
        assert_eq!(
            store.known("http://b.example/copy?ref=rss").unwrap(),
            Some(Known::Duplicate(a.name.clone()))
        );
        assert_eq!(store.stats().unwrap().duplicates, 1);
        // A duplicate of an unknown seq is an error, and nothing is written.
        let missing = DuplicateRecord {
            url: "http://c.example/x".into(),
            feed: None,
            similarity: 0.5,
            seen_at: String::new(),
            original: None,
        };
        assert!(store.record_duplicate(99, missing, &[]).is_err());
        assert_eq!(store.known("http://c.example/x").unwrap(), None);
        assert_eq!(
            store.stats().unwrap().duplicates,
            1,
            "the aborted record is not counted"
        );
    }

    #[test]
    fn a_newer_schema_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(&cfg(dir.path())).unwrap();
            insert(&store, "http://a.example/1", &[1]);
            store.schema.insert(VERSION, &99u32.to_be_bytes()).unwrap();
            store.flush().unwrap();
        }
        let err = Store::open(&cfg(dir.path()))
            .err()
            .expect("newer schema must be refused");
        let msg = err.to_string();
        assert!(
            matches!(err, StoreError::NewerSchema { found: 99, .. }),
            "{msg}"
        );
        assert!(msg.contains("upgrade newsd"), "{msg}");
    }

    #[test]
    fn a_second_opener_gets_a_clear_lock_error() {
        let dir = tempfile::tempdir().unwrap();
        let _first = Store::open(&cfg(dir.path())).unwrap();
        let err = Store::open(&cfg(dir.path()))
            .err()
            .expect("second open must fail");
        assert!(matches!(err, StoreError::Locked { .. }), "{err}");
    }
}
