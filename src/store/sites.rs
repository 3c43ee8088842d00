//! The `sites` tree: the extractor's site memory, one record per host (host key → the
//! versioned bytes of [`SiteMemory::encode_host`]).
//!
//! Owns only the persistence of those bytes; what they mean belongs to `extract::memory`.
//! Records are small (at most 2,565 bytes per host) and independent, so a save writes only
//! the hosts changed since the previous save, and a bad record is reported with its host and
//! left untouched on disk.

use super::{Store, StoreError};
use crate::extract::SiteMemory;

const TREE: &str = "sites";

impl Store {
    fn sites(&self) -> Result<sled::Tree, StoreError> {
        Ok(self.t()?.db.open_tree(TREE)?)
    }

    /// Loads every host's site memory. A record this build cannot read (corrupt, or written
    /// by a newer newsd) is an error naming its host; nothing on disk is changed.
    pub fn load_site_memory(&self) -> Result<SiteMemory, StoreError> {
        let memory = SiteMemory::new();
        for item in self.sites()?.iter() {
            let (k, v) = item?;
            let host = super::utf8(&k, "sites/<host>")?;
            memory
                .decode_host(&host, &v)
                .map_err(|e| StoreError::Record {
                    key: format!("sites/{host}"),
                    reason: e.to_string(),
                })?;
        }
        Ok(memory)
    }

    /// Writes the hosts whose memory changed since the last save; returns how many.
    pub fn save_site_memory(&self, memory: &SiteMemory) -> Result<usize, StoreError> {
        let tree = self.sites()?;
        let dirty = memory.take_dirty();
        let mut batch = sled::Batch::default();
        for (host, bytes) in &dirty {
            batch.insert(host.as_bytes(), bytes.as_slice());
        }
        tree.apply_batch(batch)?;
        tree.flush()?;
        Ok(dirty.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_memory_survives_a_reopen_and_bad_records_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = super::super::StoreConfig {
            data_dir: dir.path().join("db"),
            cache_capacity_bytes: 1 << 20,
            ..super::super::StoreConfig::default()
        };
        let html = |n: usize| {
            let w = [
                "rain", "wind", "snow", "hail", "fog", "heat", "frost", "storm", "calm", "thaw",
            ];
            let (a, b) = (w[n % 10], w[(n / 10) % 10]);
            format!(
                "<html><body><article><h1>Story {a} {b}</h1><p>The {a} and the {b} say something new about the world, \
                 with enough words to be the article body of this page, and a clause more.</p>\
                 <p>Our weekly briefing lands every Friday, with the five things worth knowing.</p></article></body></html>"
            )
        };
        let ex = crate::extract::Extractor::new(&Default::default()).unwrap();
        let url = url::Url::parse("https://news.example/a").unwrap();
        {
            let store = Store::open(&cfg).unwrap();
            let memory = SiteMemory::new();
            for n in 0..9 {
                let page = ex
                    .extract_with(&html(n), Some(&url), Some(&memory))
                    .unwrap();
                memory.observe(page.host.as_deref().unwrap(), &page);
            }
            assert_eq!(store.save_site_memory(&memory).unwrap(), 1);
            assert_eq!(
                store.save_site_memory(&memory).unwrap(),
                0,
                "nothing changed"
            );
        }
        let store = Store::open(&cfg).unwrap();
        let memory = store.load_site_memory().unwrap();
        assert_eq!(memory.pages("news.example"), 9);
        let fresh = ex.extract_with(&html(99), Some(&url), None).unwrap();
        assert_eq!(
            fresh.article.blocks.len(),
            2,
            "without memory the box stays"
        );
        let page = ex
            .extract_with(&html(99), Some(&url), Some(&memory))
            .unwrap();
        assert_eq!(
            page.article.blocks,
            vec![
                "The thaw and the thaw say something new about the world, with enough words to be the article body of this page, and a clause more."
            ]
        );
        // A damaged record: a clear error with the host, and the record is still there.
        store
            .sites()
            .unwrap()
            .insert("bad.example", &[1u8, 0][..])
            .unwrap();
        let err = store.load_site_memory().unwrap_err().to_string();
        assert!(err.contains("sites/bad.example"), "{err}");
        assert!(store.sites().unwrap().get("bad.example").unwrap().is_some());
    }
}
