//! `newsd import DIR`: rebuilds a store from an export directory — texts, metadata,
//! duplicate records, names and seqs exactly as exported, the dedup index recomputed with
//! the config's `[dedup]` engine.
//!
//! Validate first, then write: every article of the export is checked (see
//! [`crate::export::read_dir`]) before the first is written; the write pass checks each again
//! and an error there empties the store again (it was empty before). An import the process
//! did not survive leaves a marker that makes the store refuse to open (exit 3): remove the
//! directory and import again.

use std::collections::HashSet;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, bail};
use xxhash_rust::xxh3::xxh3_64;

use crate::config::Config;
use crate::dedup::Engine;
use crate::export::ExportError;
use crate::model::split_text;
use crate::store::Store;

pub fn run(cfg: &Config, dir: &Path) -> anyhow::Result<()> {
    if cfg.cluster.is_some() {
        bail!(
            "newsd import: this config has a [cluster] section; a worker's store is a replica of the cluster's articles stream and is rebuilt from it (move the directory away and restart the worker)"
        );
    }
    let engine = Engine::new(&cfg.dedup)?;
    let started = Instant::now();
    // Pass 1: the whole export is sound, and no URL is claimed twice.
    let mut hashes: Vec<u64> = Vec::new();
    let mut urls: HashSet<u64> = HashSet::new();
    let validated = crate::export::read_dir(dir, |record, text| {
        for url in
            std::iter::once(&record.canonical_url).chain(record.duplicates.iter().map(|d| &d.url))
        {
            if !urls.insert(xxh3_64(url.as_bytes())) {
                return Err(ExportError::Bad {
                    path: dir.join("manifest.jsonl").display().to_string(),
                    reason: format!("{url} is listed twice (as an article or a copy)"),
                });
            }
        }
        hashes.push(xxh3_64(text.as_bytes()));
        Ok(())
    })
    .with_context(|| format!("{} is not a sound export: nothing imported", dir.display()))?;
    if !cfg.store.data_dir.exists() {
        super::ensure_dir(&cfg.store.data_dir)?;
    }
    let store = Store::open(&cfg.store)?;
    store.begin_import()?;
    // Pass 2: write, one transaction per article.
    let mut n = 0;
    let mut bar =
        super::progress::Progress::start("newsd import", "articles", Some(hashes.len() as u64));
    let written = crate::export::read_dir(dir, |record, text| {
        if hashes.get(n) != Some(&xxh3_64(text.as_bytes())) {
            return Err(ExportError::Bad {
                path: dir.join(&record.name).display().to_string(),
                reason: "changed while it was being imported".into(),
            });
        }
        let (title, body) = split_text(&text);
        let fingerprint = engine.fingerprint(title, body);
        store.import_article(
            &record,
            &text,
            &fingerprint.to_bytes(),
            &engine.band_keys(&fingerprint),
        )?;
        n += 1;
        bar.add(1);
        Ok(())
    });
    bar.finish();
    match written {
        Ok(count) if count == validated => store.finish_import()?,
        result => {
            store
                .discard_import()
                .context("the import failed and the store could not be emptied again")?;
            match result {
                Err(e) => {
                    return Err(anyhow::Error::from(e).context(format!(
                        "import from {} failed: the store at {} was emptied again",
                        dir.display(),
                        cfg.store.data_dir.display()
                    )));
                }
                Ok(count) => bail!(
                    "{} changed while it was being imported ({validated} articles, then {count}): the store was emptied again",
                    dir.display()
                ),
            }
        }
    }
    let stats = store.stats()?;
    if super::progress::quiet() {
        return Ok(());
    }
    super::output::status(format_args!(
        "newsd import: {validated} articles and {} copies from {} into {} (next seq {}) in {:.1} s",
        stats.duplicates,
        dir.display(),
        cfg.store.data_dir.display(),
        stats.next_seq,
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CleanArticle;

    /// Import fingerprints a stored text; the writer fingerprinted the extracted article it
    /// was made from (`title`, blocks joined by blank lines). Both must give the same bytes,
    /// or an imported store would find other candidates than the original did.
    #[test]
    fn an_imported_text_gets_the_fingerprint_the_writer_gave_it() {
        let engine = Engine::new(&crate::dedup::DedupConfig::default()).unwrap();
        let expected =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/seed-site/expected");
        let mut seen = 0;
        for entry in std::fs::read_dir(expected).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "txt") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let (title, body) = split_text(&text);
            let article = CleanArticle {
                title: title.to_string(),
                blocks: body
                    .split("\n\n")
                    .map(|b| b.trim().to_string())
                    .filter(|b| !b.is_empty())
                    .collect(),
                meta: Default::default(),
            };
            assert_eq!(article.text(), text, "{}", path.display());
            let writer = engine.fingerprint(&article.title, &article.blocks.join("\n\n"));
            let import = engine.fingerprint(title, body);
            assert_eq!(writer.to_bytes(), import.to_bytes(), "{}", path.display());
            seen += 1;
        }
        assert!(seen >= 5, "seed texts read: {seen}");
    }
}
