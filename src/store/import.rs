//! The store side of `newsd import`: writing an exported article back under its own name and
//! seq, with every index the writer would have made, one transaction per article.
//!
//! Owns: the import transaction, the "new or empty store" rule, the marker that tells an
//! interrupted import from a store, and undoing a failed import. Must not: read export files
//! or compute fingerprints (the caller hands over the bytes and band keys).

use sled::Transactional;
use sled::transaction::ConflictableTransactionError;

use super::{
    ArticleRecord, DUPLICATES, DuplicateRecord, NEXT_SEQ, Store, StoreError, be_u64, tx_result,
};

/// `meta_schema` key present while an import is under way: a store that still has it was
/// left half-imported (the process died), and [`Store::open`] refuses it as damaged.
pub(super) const IMPORTING: &[u8] = b"import_incomplete";

impl Store {
    /// What the store already holds, when anything: import only goes into a new store.
    pub fn contents(&self) -> Option<String> {
        let Ok(t) = self.t() else {
            return Some("a store closed after a write failure".into());
        };
        let trees = [
            ("articles", &t.articles),
            ("copies", &t.dups),
            ("URLs", &t.urls),
            ("feed states", &t.feeds),
            ("rejected pages", &t.rejects),
            ("fingerprints", &t.sigs),
            ("band index entries", &t.bands),
        ];
        let held: Vec<String> = trees
            .iter()
            .filter(|(_, t)| !t.is_empty())
            .map(|(what, t)| format!("{} {what}", t.len()))
            .collect();
        (!held.is_empty()).then(|| held.join(", "))
    }

    /// Marks the store as being imported into (a store still marked when opened was left
    /// half-imported, and is refused as damaged); the store must be empty.
    pub fn begin_import(&self) -> Result<(), StoreError> {
        let t = self.t()?;
        if let Some(held) = self.contents() {
            return Err(StoreError::NotEmpty {
                path: self.path.clone(),
                held,
            });
        }
        t.schema.insert(IMPORTING, &[])?;
        t.db.flush()?;
        Ok(())
    }

    /// Writes one exported article exactly as it was: name, seq, metadata, text, its
    /// canonical and fetched URLs, its copies' `dups` entries, fingerprint and bands; raises
    /// `next_seq` past its seq and counts its copies. One transaction, like
    /// [`Store::insert_article`]. Refuses a seq, name or URL already taken.
    pub fn import_article(
        &self,
        record: &ArticleRecord,
        text: &str,
        fingerprint: &[u8],
        band_keys: &[u64],
    ) -> Result<(), StoreError> {
        let t = self.t()?;
        let id = super::bands::table_id(record.seq)?;
        let packed = super::bands::pack(band_keys);
        let meta_json = serde_json::to_vec(record).map_err(|e| StoreError::Record {
            key: record.name.clone(),
            reason: e.to_string(),
        })?;
        let copies: Vec<(String, Vec<u8>)> = record
            .duplicates
            .iter()
            .map(|d| {
                let stored = DuplicateRecord {
                    original: Some(record.name.clone()),
                    ..d.clone()
                };
                (
                    d.url.clone(),
                    serde_json::to_vec(&stored).unwrap_or_default(),
                )
            })
            .collect();
        let result = (
            &t.articles,
            &t.meta,
            &t.by_seq,
            &t.urls,
            &t.dups,
            &t.sigs,
            &t.bands,
            &t.schema,
        )
            .transaction(
                |(articles, meta, by_seq, urls, dups, sigs, bands, schema)| {
                    let abort = |reason: String| ConflictableTransactionError::Abort(reason);
                    let name = record.name.as_bytes();
                    let seq = record.seq.to_be_bytes();
                    if by_seq.get(seq)?.is_some() || meta.get(name)?.is_some() {
                        return Err(abort(format!("seq {} is taken", record.seq)));
                    }
                    if urls.get(record.canonical_url.as_bytes())?.is_some() {
                        return Err(abort(format!(
                            "canonical URL {} already leads to another article",
                            record.canonical_url
                        )));
                    }
                    articles.insert(name, text.as_bytes())?;
                    meta.insert(name, meta_json.as_slice())?;
                    by_seq.insert(&seq, name)?;
                    urls.insert(record.canonical_url.as_bytes(), name)?;
                    urls.insert(record.url.as_bytes(), name)?;
                    for (url, stored) in &copies {
                        if dups.get(url.as_bytes())?.is_some() {
                            return Err(abort(format!(
                                "the copy {url} is listed under another article too"
                            )));
                        }
                        dups.insert(url.as_bytes(), stored.as_slice())?;
                    }
                    sigs.insert(&seq, fingerprint)?;
                    bands.insert(&seq, packed.as_slice())?;
                    let next = schema.get(NEXT_SEQ)?.and_then(|v| be_u64(&v)).unwrap_or(0);
                    schema.insert(NEXT_SEQ, &next.max(record.seq + 1).to_be_bytes())?;
                    let count = schema
                        .get(DUPLICATES)?
                        .and_then(|v| be_u64(&v))
                        .unwrap_or(0);
                    schema.insert(DUPLICATES, &(count + copies.len() as u64).to_be_bytes())?;
                    Ok(())
                },
            );
        tx_result(result, &record.name)?;
        t.index.add(id, band_keys);
        Ok(())
    }

    /// Ends a successful import: the marker goes, everything is flushed.
    pub fn finish_import(&self) -> Result<(), StoreError> {
        let t = self.t()?;
        t.schema.remove(IMPORTING)?;
        self.flush()
    }

    /// Undoes a failed import: the store was empty before it, so it is emptied again (the
    /// schema version stays).
    pub fn discard_import(&self) -> Result<(), StoreError> {
        let t = self.t()?;
        for tree in [
            &t.articles,
            &t.meta,
            &t.by_seq,
            &t.urls,
            &t.dups,
            &t.sigs,
            &t.bands,
        ] {
            tree.clear()?;
        }
        t.index.clear();
        t.schema.remove(NEXT_SEQ)?;
        t.schema.remove(DUPLICATES)?;
        t.schema.remove(IMPORTING)?;
        self.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::super::Known;
    use super::*;
    use crate::article::{article_name, content_hash};

    const TEXT: &str = "T\n\nBody.\n";

    fn record(seq: u64, url: &str, copies: &[&str]) -> ArticleRecord {
        let id = xxhash_rust::xxh3::xxh3_64(url.as_bytes());
        ArticleRecord {
            name: article_name(seq, id),
            seq,
            url: format!("{url}?from=feed"),
            words: 1,
            content_hash: content_hash(TEXT),
            duplicates: copies
                .iter()
                .map(|c| DuplicateRecord {
                    url: (*c).into(),
                    feed: None,
                    similarity: 0.8,
                    seen_at: String::new(),
                    original: None,
                })
                .collect(),
            ..super::super::tests::record(url)
        }
    }

    fn open(dir: &std::path::Path) -> Store {
        Store::open(&super::super::tests::cfg(dir)).unwrap()
    }

    #[test]
    fn an_import_keeps_names_seqs_and_copies_and_continues_the_counter() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        store.begin_import().unwrap();
        let a = record(0, "http://a.example/1", &["http://b.example/copy"]);
        let b = record(7, "http://a.example/2", &[]);
        store.import_article(&a, TEXT, b"1", &[1]).unwrap();
        store.import_article(&b, TEXT, b"2", &[2]).unwrap();
        // A seq or a canonical URL already taken is refused, and nothing of it is written.
        let again = record(7, "http://a.example/3", &[]);
        assert!(store.import_article(&again, TEXT, b"3", &[3]).is_err());
        let taken = record(8, "http://a.example/1", &[]);
        assert!(store.import_article(&taken, TEXT, b"3", &[3]).is_err());
        store.finish_import().unwrap();
        let stats = store.stats().unwrap();
        assert_eq!(
            (stats.articles, stats.duplicates, stats.next_seq),
            (2, 1, 8)
        );
        assert_eq!(
            store.known("http://b.example/copy").unwrap(),
            Some(Known::Duplicate(a.name.clone()))
        );
        assert_eq!(
            store.known("http://a.example/2?from=feed").unwrap(),
            Some(Known::Stored(b.name.clone()))
        );
        assert_eq!(store.article(&b.name).unwrap().unwrap(), (b, TEXT.into()));
        // A store that holds anything takes no import.
        let err = store.begin_import().unwrap_err().to_string();
        assert!(
            err.contains("is not empty (2 articles, 1 copies, 4 URLs"),
            "{err}"
        );
    }

    #[test]
    fn a_discarded_import_leaves_an_empty_store_that_takes_the_next_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        store.begin_import().unwrap();
        let a = record(0, "http://a.example/1", &["http://b.example/copy"]);
        store.import_article(&a, TEXT, b"1", &[1]).unwrap();
        store.discard_import().unwrap();
        assert_eq!(store.contents(), None);
        let stats = store.stats().unwrap();
        assert_eq!(
            (stats.articles, stats.duplicates, stats.next_seq),
            (0, 0, 0)
        );
        drop(store);
        std::thread::sleep(std::time::Duration::from_millis(100));
        let store = open(dir.path());
        store.begin_import().unwrap();
        store.import_article(&a, TEXT, b"1", &[1]).unwrap();
        store.finish_import().unwrap();
        assert_eq!(store.stats().unwrap().articles, 1);
    }
}
