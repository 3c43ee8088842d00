//! The LSH band index (schema 2): each article's band keys are persisted as ONE value in the
//! `bands` tree (seq → the keys, 8 bytes BE each, in the order the engine gave them) and held
//! in memory in an open-addressing table ([`BandTable`]: band key → seq), rebuilt from the tree
//! when the store opens. A duplicate lookup is then a few probes in memory instead of one sled
//! prefix scan per band, and an article writes one index key instead of one per band.
//!
//! Memory: one 8-byte slot per band entry at a load between 0.53 and 0.8 (1.5× growth),
//! i.e. 10–15 bytes per entry, so 0.36–0.54 KB per stored article with 36 bands (408 B at the
//! e2e bench's 8,785 articles; about 45 MB per 100,000 articles). It grows with the store and
//! is not evicted: a store of millions of articles needs that much RAM (sled's page cache stays
//! bounded by `cache_capacity_bytes`). Rebuilding reads 288 bytes per article at open.
//!
//! Schema 1 kept one empty-valued `lsh` key per band (band ++ seq). [`migrate_v1`] rewrites
//! those into `bands` and drops `lsh`; it is idempotent, so a crash during it is repaired by
//! the next open.
//!
//! Owns: the packing, the in-memory table, the migration. Must not: interpret fingerprints.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::{Store, StoreError, VERSION, be_u64};
use crate::dedup::BandTable;

/// Name of the schema-1 index tree (`band ++ seq` keys), gone from schema 2 on.
pub(super) const OLD_LSH: &[u8] = b"lsh";

/// The in-memory side of the index: band key → seq.
#[derive(Debug, Default)]
pub(super) struct BandIndex {
    table: Mutex<BandTable>,
}

/// The seq as the table's 32-bit id, or an error for a store beyond 4 G articles.
pub(super) fn table_id(seq: u64) -> Result<u32, StoreError> {
    u32::try_from(seq).map_err(|_| StoreError::Record {
        key: format!("seq {seq}"),
        reason: "the in-memory band index holds seqs below 2^32".into(),
    })
}

impl BandIndex {
    /// (Re)reads every article's band keys from the `bands` tree.
    pub(super) fn reload(&self, tree: &sled::Tree) -> Result<(), StoreError> {
        let mut table = BandTable::default();
        for entry in tree.iter() {
            let (key, value) = entry?;
            let (Some(seq), Some(keys)) = (be_u64(&key), unpack(&value)) else {
                // `newsd check` names it (invariant 7); it cannot be looked up.
                continue;
            };
            let id = table_id(seq)?;
            for band in keys {
                table.insert(band, id);
            }
        }
        *self.lock() = table;
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BandTable> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes a stored article findable by its band keys (after its transaction committed).
    pub(super) fn add(&self, seq: u32, band_keys: &[u64]) {
        let mut t = self.lock();
        for &band in band_keys {
            t.insert(band, seq);
        }
    }

    /// Seqs sharing at least one band with `band_keys`, ascending, each once.
    pub(super) fn lookup(&self, band_keys: &[u64]) -> Vec<u64> {
        let mut ids = Vec::new();
        {
            let t = self.lock();
            for &band in band_keys {
                t.lookup(band, &mut ids);
            }
        }
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter().map(u64::from).collect()
    }

    /// Forgets everything (a discarded import).
    pub(super) fn clear(&self) {
        *self.lock() = BandTable::default();
    }

    /// Entries held and heap bytes used.
    pub(super) fn size(&self) -> (usize, usize) {
        let t = self.lock();
        (t.len(), t.heap_bytes())
    }
}

/// One `bands` value: the keys, 8 bytes big-endian each.
pub(super) fn pack(band_keys: &[u64]) -> Vec<u8> {
    band_keys.iter().flat_map(|k| k.to_be_bytes()).collect()
}

/// The keys of one `bands` value; `None` when its length is not a multiple of 8.
pub(super) fn unpack(bytes: &[u8]) -> Option<Vec<u64>> {
    if !bytes.len().is_multiple_of(8) {
        return None;
    }
    Some(bytes.chunks_exact(8).filter_map(be_u64).collect())
}

/// Moves a schema-1 store's `lsh` entries into `bands` (grouped by seq; an article's keys in
/// ascending order), then writes version `to` and drops `lsh`. Entries that are not
/// `band ++ seq` are left out (`newsd check` on the old binary would have named them). Safe to
/// run again after a crash at any point: `bands` is rebuilt from scratch while the version
/// still says 1, and a leftover `lsh` is dropped.
pub(super) fn migrate_v1(
    db: &sled::Db,
    bands: &sled::Tree,
    schema: &sled::Tree,
    to: u32,
) -> Result<u64, StoreError> {
    let mut moved = 0;
    if db.tree_names().iter().any(|n| n == OLD_LSH) {
        let lsh = db.open_tree(OLD_LSH)?;
        let mut by_seq: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
        for key in lsh.iter().keys() {
            let key = key?;
            if let (16, Some(band), Some(seq)) = (
                key.len(),
                key.get(..8).and_then(be_u64),
                key.get(8..).and_then(be_u64),
            ) {
                by_seq.entry(seq).or_default().push(band);
            }
        }
        bands.clear()?;
        let mut batch = sled::Batch::default();
        for (n, (seq, keys)) in by_seq.into_iter().enumerate() {
            batch.insert(&seq.to_be_bytes(), pack(&keys));
            moved += 1;
            if n % 4096 == 4095 {
                bands.apply_batch(std::mem::take(&mut batch))?;
            }
        }
        bands.apply_batch(batch)?;
        db.flush()?;
    }
    schema.insert(VERSION, &to.to_be_bytes())?;
    db.flush()?;
    db.drop_tree(OLD_LSH)?;
    db.flush()?;
    Ok(moved)
}

impl Store {
    /// Stored articles sharing at least one LSH band with `band_keys`: (seq, fingerprint),
    /// in seq order.
    pub fn candidates(&self, band_keys: &[u64]) -> Result<Vec<(u64, sled::IVec)>, StoreError> {
        let t = self.t()?;
        let mut out = Vec::new();
        for seq in t.index.lookup(band_keys) {
            if let Some(fp) = t.sigs.get(seq.to_be_bytes())? {
                out.push((seq, fp));
            }
        }
        Ok(out)
    }

    /// Entries in the in-memory band index and the heap bytes it holds.
    pub fn band_index_size(&self) -> Result<(usize, usize), StoreError> {
        Ok(self.t()?.index.size())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{cfg, insert};
    use super::*;

    /// Rewrites a schema-2 store into the schema-1 layout (what newsd before the migration
    /// wrote: one empty `lsh` key per band, `band ++ seq`, and no `bands` tree).
    fn downgrade(store: Store, leave_bands: bool) {
        let t = store.t().unwrap();
        let lsh = t.db.open_tree(OLD_LSH).unwrap();
        for entry in t.bands.iter() {
            let (seq, keys) = entry.unwrap();
            for band in unpack(&keys).unwrap() {
                lsh.insert([&band.to_be_bytes()[..], &seq[..]].concat(), &[])
                    .unwrap();
            }
        }
        if !leave_bands {
            t.db.drop_tree("bands").unwrap();
        }
        t.schema.insert(VERSION, &1u32.to_be_bytes()).unwrap();
        drop(t);
        store.flush().unwrap();
        drop(store);
        std::thread::sleep(std::time::Duration::from_millis(100));
    }

    #[test]
    fn a_schema_1_store_opens_with_every_article_and_its_bands() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&cfg(dir.path())).unwrap();
        insert(&store, "http://a.example/1", &[10, 11]);
        insert(&store, "http://a.example/2", &[11, 12]);
        insert(&store, "http://a.example/3", &[13]);
        downgrade(store, false);

        let store = Store::open(&cfg(dir.path())).unwrap();
        let t = store.t().unwrap();
        assert_eq!(
            t.schema.get(VERSION).unwrap().unwrap().as_ref(),
            &super::super::SCHEMA_VERSION.to_be_bytes()
        );
        assert!(!t.db.tree_names().iter().any(|n| n == OLD_LSH));
        assert_eq!(store.stats().unwrap().articles, 3);
        let seqs = |keys: &[u64]| -> Vec<u64> {
            store
                .candidates(keys)
                .unwrap()
                .into_iter()
                .map(|(s, _)| s)
                .collect()
        };
        assert_eq!(seqs(&[11]), vec![0, 1]);
        assert_eq!(seqs(&[13, 99]), vec![2]);
        assert_eq!(seqs(&[99]), Vec::<u64>::new());
        assert_eq!(
            unpack(&t.bands.get(0u64.to_be_bytes()).unwrap().unwrap()),
            Some(vec![10, 11])
        );
        let (_, fp) = &store.candidates(&[12]).unwrap()[0];
        assert_eq!(fp.as_ref(), b"http://a.example/2", "fingerprints untouched");
        // The next article continues the counter and is found too.
        drop(t);
        assert_eq!(insert(&store, "http://a.example/4", &[12]).seq, 3);
        assert_eq!(seqs(&[12]), vec![1, 3]);
    }

    #[test]
    fn an_interrupted_migration_is_finished_by_the_next_open() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&cfg(dir.path())).unwrap();
        insert(&store, "http://a.example/1", &[10, 11]);
        insert(&store, "http://a.example/2", &[11, 12]);
        // Killed after part of `bands` was written: version 1, `lsh` and a stale `bands`.
        downgrade(store, true);
        let store = Store::open(&cfg(dir.path())).unwrap();
        store
            .t()
            .unwrap()
            .bands
            .insert(7u64.to_be_bytes(), pack(&[11]))
            .unwrap();
        // Now killed after the version was written but before `lsh` was dropped.
        let t = store.t().unwrap();
        let lsh = t.db.open_tree(OLD_LSH).unwrap();
        lsh.insert(
            [&11u64.to_be_bytes()[..], &0u64.to_be_bytes()[..]].concat(),
            &[],
        )
        .unwrap();
        t.schema.insert(VERSION, &1u32.to_be_bytes()).unwrap();
        drop((t, lsh));
        store.flush().unwrap();
        drop(store);
        std::thread::sleep(std::time::Duration::from_millis(100));
        let store = Store::open(&cfg(dir.path())).unwrap();
        let t = store.t().unwrap();
        assert!(!t.db.tree_names().iter().any(|n| n == OLD_LSH));
        assert_eq!(
            t.bands.len(),
            1,
            "rebuilt from lsh alone: {:?}",
            t.bands.iter().collect::<Vec<_>>()
        );
        assert_eq!(store.candidates(&[11]).unwrap().len(), 1);
    }
}
