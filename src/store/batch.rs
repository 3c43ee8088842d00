//! Writing several decided articles and copies in ONE sled transaction.
//!
//! The writer decides each queued article (known? copy of which article? new?) and hands the
//! decisions here together: one transaction per batch instead of one per article, and the seq
//! counter and duplicates counter written once. Atomicity is per batch, so still never half an
//! article. A copy may name as its original a new article earlier in the same batch
//! ([`Original::Earlier`]): its seq is only allocated inside the transaction.
//! [`Store::insert_article`] and [`Store::record_duplicate`] are one-write batches.

use sled::Transactional;
use sled::transaction::ConflictableTransactionError as TxError;

use super::{
    ArticleRecord, DUPLICATES, DuplicateRecord, NEXT_SEQ, NewArticle, Store, StoreError, bands,
    be_u64, tx_result,
};

/// The original a copy is recorded under.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Original {
    /// A stored article.
    Seq(u64),
    /// The new article at this index of the same batch.
    Earlier(usize),
}

/// One decided write.
#[allow(clippy::large_enum_variant)] // short-lived, moved once: boxing would only allocate
pub enum Write<'a> {
    /// A new article (its seq and name are allocated in the transaction).
    New(NewArticle<'a>),
    /// A copy, recorded under its original with `aliases` so none of them is fetched again.
    Copy {
        original: Original,
        dup: DuplicateRecord,
        aliases: &'a [String],
    },
}

/// What one write became, in the order of the writes.
#[allow(clippy::large_enum_variant)] // short-lived, moved once: boxing would only allocate
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    /// The new article's record, with its seq and name.
    Stored(ArticleRecord),
    /// The name of the original the copy was recorded under.
    Copy(String),
}

fn abort(reason: impl Into<String>) -> TxError<String> {
    TxError::Abort(reason.into())
}

impl Store {
    /// Applies `writes` in order, all in one transaction (all or nothing).
    pub fn apply(&self, writes: Vec<Write<'_>>) -> Result<Vec<Applied>, StoreError> {
        let t = self.t()?;
        let mut prepared = Vec::with_capacity(writes.len());
        for w in &writes {
            prepared.push(match w {
                Write::New(n) => {
                    let id =
                        u64::from_str_radix(&n.record.id, 16).map_err(|_| StoreError::Record {
                            key: n.record.canonical_url.clone(),
                            reason: format!("id {:?} is not 16 hex digits", n.record.id),
                        })?;
                    Some((id, bands::pack(n.band_keys)))
                }
                Write::Copy { .. } => None,
            });
        }
        let key = match writes.first() {
            Some(Write::New(n)) => n.record.canonical_url.clone(),
            Some(Write::Copy { dup, .. }) => dup.url.clone(),
            None => return Ok(Vec::new()),
        };
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
                |(articles, meta, by_seq, urls, dups, sigs, band_tree, schema)| {
                    let counter = |k: &[u8]| -> Result<u64, TxError<String>> {
                        Ok(schema.get(k)?.and_then(|v| be_u64(&v)).unwrap_or(0))
                    };
                    let first_seq = counter(NEXT_SEQ)?;
                    let (mut seq, mut copies) = (first_seq, counter(DUPLICATES)?);
                    let mut out: Vec<Applied> = Vec::with_capacity(writes.len());
                    for (w, prep) in writes.iter().zip(&prepared) {
                        match (w, prep) {
                            (Write::New(new), Some((id, packed))) => {
                                bands::table_id(seq).map_err(|e| abort(e.to_string()))?;
                                let mut record = new.record.clone();
                                record.seq = seq;
                                record.name = crate::article::article_name(seq, *id);
                                let meta_json = serde_json::to_vec(&record)
                                    .map_err(|e| abort(e.to_string()))?;
                                let name = record.name.as_bytes();
                                let seq_key = seq.to_be_bytes();
                                articles.insert(name, new.text.as_bytes())?;
                                meta.insert(name, meta_json)?;
                                by_seq.insert(&seq_key, name)?;
                                urls.insert(record.canonical_url.as_bytes(), name)?;
                                for alias in new.aliases {
                                    urls.insert(alias.as_bytes(), name)?;
                                }
                                sigs.insert(&seq_key, new.fingerprint)?;
                                band_tree.insert(&seq_key, packed.as_slice())?;
                                seq += 1;
                                out.push(Applied::Stored(record));
                            }
                            (
                                Write::Copy {
                                    original,
                                    dup,
                                    aliases,
                                },
                                _,
                            ) => {
                                let name = match *original {
                                    Original::Seq(s) => by_seq
                                        .get(s.to_be_bytes())?
                                        .ok_or_else(|| abort(format!("no article with seq {s}")))?,
                                    Original::Earlier(i) => match out.get(i) {
                                        Some(Applied::Stored(r)) => r.name.as_bytes().into(),
                                        _ => {
                                            return Err(abort(format!(
                                                "write {i} is no new article"
                                            )));
                                        }
                                    },
                                };
                                let raw = meta
                                    .get(&name)?
                                    .ok_or_else(|| abort("original has no metadata"))?;
                                let mut record: ArticleRecord = serde_json::from_slice(&raw)
                                    .map_err(|e| abort(e.to_string()))?;
                                record.duplicates.push(DuplicateRecord {
                                    original: None,
                                    ..dup.clone()
                                });
                                let json = serde_json::to_vec(&record)
                                    .map_err(|e| abort(e.to_string()))?;
                                meta.insert(&name, json)?;
                                let stored = DuplicateRecord {
                                    original: Some(record.name.clone()),
                                    ..dup.clone()
                                };
                                let stored = serde_json::to_vec(&stored)
                                    .map_err(|e| abort(e.to_string()))?;
                                dups.insert(dup.url.as_bytes(), stored.clone())?;
                                for alias in *aliases {
                                    dups.insert(alias.as_bytes(), stored.clone())?;
                                }
                                copies += 1;
                                out.push(Applied::Copy(record.name));
                            }
                            (Write::New(_), None) => unreachable!("every new article is prepared"),
                        }
                    }
                    if seq != first_seq {
                        schema.insert(NEXT_SEQ, &seq.to_be_bytes())?;
                    }
                    if out.iter().any(|a| matches!(a, Applied::Copy(_))) {
                        schema.insert(DUPLICATES, &copies.to_be_bytes())?;
                    }
                    Ok(out)
                },
            );
        let applied = tx_result(result, &key)?;
        for (w, a) in writes.iter().zip(&applied) {
            if let (Write::New(new), Applied::Stored(record)) = (w, a) {
                // Below 2^32: checked inside the transaction.
                t.index.add(record.seq as u32, new.band_keys);
            }
        }
        Ok(applied)
    }
}
