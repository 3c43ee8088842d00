//! Opening the sled directory, and telling a damaged one from a new or crashed one.
//!
//! sled recovers a crashed log by keeping its longest valid prefix. It cannot tell a torn
//! tail from a truncated or garbled file, so a damaged store opens without an error as an
//! older or empty store, and a daemon would go on writing into it. Three signs give the
//! damage away before anything is written:
//!
//! 1. sled's own files are incomplete: `db` without `conf` (or a `conf` too short to hold
//!    its settings; sled would silently write a new one from this build's defaults). sled
//!    writes `conf` before it creates `db`, so no crash leaves `db` without it;
//! 2. the schema version cannot be read back although the store was created: a store's
//!    creation ends by writing the version, flushing, then writing the watermark, so a
//!    watermark without a version is damage, while sled files without either are a creation
//!    a crash interrupted (nothing was stored yet: the store is created again);
//! 3. the store holds fewer articles than the [watermark](WATERMARK_FILE) says were made
//!    durable by an earlier flush: flushed articles are gone, which no crash can do.
//!
//! sled may also panic or fail on a garbled file while opening or on the first reads; both
//! become [`StoreError::Damaged`] too (exit status 3), never a panic.
//!
//! Owns: those checks and the watermark file. Must not: repair anything (a damaged store is
//! left as it is for the operator: restore from an export, or move it away).

use std::path::Path;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use std::sync::{Arc, RwLock};

use super::{
    DUPLICATES, NEXT_SEQ, SCHEMA_VERSION, Store, StoreConfig, StoreError, Trees, VERSION, be_u64,
};

/// File next to sled's own, written after each successful [`super::Store::flush`]: the
/// `next_seq` (and duplicates count) that flush made durable. A store that reads back fewer
/// is damaged. It only ever lags the store, so a crash never makes it lie.
pub const WATERMARK_FILE: &str = "newsd-watermark.json";

/// What a flush made durable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Watermark {
    /// The seq counter at the flush: every article below it was durable.
    pub next_seq: u64,
    /// Duplicate records counted at the flush.
    pub duplicates: u64,
}

/// How long `open` waits for a lock held by a holder that is going away: sled's flusher
/// thread keeps the directory locked for a moment after its `Db` is dropped, and a restarted
/// daemon may start while the old process is still exiting.
const LOCK_WAIT: Duration = Duration::from_secs(2);

/// sled's settings file is at least this long (settings + CRC); shorter, sled ignores it.
const MIN_CONF_LEN: u64 = 9;

pub(super) fn damaged(path: &Path, reason: impl Into<String>) -> StoreError {
    StoreError::Damaged {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Whether `dir` already holds a sled database, checking that sled's files are complete.
/// Runs before sled opens (and so before sled rewrites anything).
pub(super) fn precheck(dir: &Path) -> Result<bool, StoreError> {
    let db = dir.join("db");
    let conf = dir.join("conf");
    let has_db = db.exists();
    match std::fs::metadata(&conf) {
        Ok(m) if m.len() >= MIN_CONF_LEN => Ok(true),
        Ok(m) if has_db => Err(damaged(
            dir,
            format!(
                "sled's settings file {} is {} bytes long (garbled or truncated)",
                conf.display(),
                m.len()
            ),
        )),
        Err(_) if has_db => Err(damaged(
            dir,
            format!(
                "sled's settings file {} is missing next to its data file",
                conf.display()
            ),
        )),
        // No data file yet: a creation interrupted while sled wrote its settings.
        Ok(_) | Err(_) => Ok(false),
    }
}

pub(super) fn read_watermark(dir: &Path) -> Result<Option<Watermark>, StoreError> {
    let path = dir.join(WATERMARK_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| damaged(dir, format!("{} is unreadable ({e})", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(damaged(dir, format!("cannot read {}: {e}", path.display()))),
    }
}

/// Writes the watermark atomically (temporary file, fsync, rename).
pub(super) fn write_watermark(dir: &Path, mark: Watermark) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = dir.join(format!(".{WATERMARK_FILE}.tmp"));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(&serde_json::to_vec(&mark).map_err(std::io::Error::from)?)?;
    f.sync_all()?;
    std::fs::rename(&tmp, dir.join(WATERMARK_FILE))
}

/// Runs `f`, turning a panic into [`StoreError::Damaged`]. The panic message goes into the
/// error instead of stderr (the operator gets one clear error, not a backtrace first).
pub(super) fn contain<T>(
    path: &Path,
    f: impl FnOnce() -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    thread_local! {
        static MESSAGE: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
        static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    static HOOK: std::sync::Once = std::sync::Once::new();
    // One hook for the process, installed once: panics on a thread inside `contain` are
    // recorded, every other panic goes to the previous hook as before.
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if QUIET.with(std::cell::Cell::get) {
                let message = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_string())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panic".into());
                let at = info
                    .location()
                    .map(|l| format!(" at {l}"))
                    .unwrap_or_default();
                MESSAGE.with(|m| *m.borrow_mut() = Some(format!("{message}{at}")));
            } else {
                previous(info);
            }
        }));
    });
    QUIET.with(|q| q.set(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    QUIET.with(|q| q.set(false));
    result.unwrap_or_else(|_| {
        let message = MESSAGE
            .with(|m| m.borrow_mut().take())
            .unwrap_or_else(|| "panic".into());
        Err(damaged(
            path,
            format!("sled panicked reading it: {message}"),
        ))
    })
}

/// Opens sled, waiting up to [`LOCK_WAIT`] for a lock held by a holder that is going away.
pub(super) fn open_db(cfg: &StoreConfig) -> Result<sled::Db, StoreError> {
    let path = &cfg.data_dir;
    let deadline = Instant::now() + LOCK_WAIT;
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
                if Instant::now() >= deadline {
                    return Err(StoreError::Locked { path: path.clone() });
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(sled::Error::Corruption { at, .. }) => {
                let at = at.map_or(String::new(), |at| format!(" ({at:?})"));
                return Err(damaged(path, format!("sled found corrupted data{at}")));
            }
            Err(sled::Error::Unsupported(why)) => {
                return Err(damaged(path, format!("sled cannot read it: {why}")));
            }
            Err(sled::Error::Io(io))
                if matches!(
                    io.kind(),
                    std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::InvalidData
                ) =>
            {
                return Err(damaged(path, format!("sled cannot read it: {io}")));
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

impl Store {
    /// Opens (or creates) the store, refusing a store written by a newer schema and a damaged
    /// one ([`StoreError::Damaged`], see `open.rs` for how damage is told from a crash).
    pub fn open(cfg: &StoreConfig) -> Result<Store, StoreError> {
        let path = cfg.data_dir.clone();
        let existed = precheck(&path)?;
        let watermark = read_watermark(&path)?;
        if let (false, Some(mark)) = (existed, watermark)
            && mark.next_seq > 0
        {
            return Err(damaged(
                &path,
                format!(
                    "sled's files are gone, but {WATERMARK_FILE} says {} articles were stored",
                    mark.next_seq
                ),
            ));
        }
        contain(&path, || {
            let store = Store {
                path: path.clone(),
                cfg: cfg.clone(),
                trees: RwLock::new(Some(Arc::new(Trees::open(cfg)?))),
            };
            store.check_schema(watermark.is_some())?;
            if let Some(mark) = watermark {
                store.check_watermark(mark)?;
            }
            let t = store.t()?;
            if t.schema.contains_key(super::import::IMPORTING)? {
                return Err(damaged(
                    &path,
                    format!(
                        "an import into it did not finish ({} articles are in)",
                        t.by_seq.len()
                    ),
                ));
            }
            store.upgrade()?;
            t.index.reload(&t.bands)?;
            drop(t);
            Ok(store)
        })
    }

    /// Brings an older store to [`SCHEMA_VERSION`] (keeping every article), and finishes a
    /// migration a crash interrupted.
    fn upgrade(&self) -> Result<(), StoreError> {
        let t = self.t()?;
        let version = t
            .schema
            .get(VERSION)?
            .and_then(|v| <[u8; 4]>::try_from(v.as_ref()).ok())
            .map_or(SCHEMA_VERSION, u32::from_be_bytes);
        let leftover = t.db.tree_names().iter().any(|n| n == super::bands::OLD_LSH);
        if version < 2 || leftover {
            let moved = super::bands::migrate_v1(&t.db, &t.bands, &t.schema, SCHEMA_VERSION)?;
            tracing::info!(
                event = "store_migrated",
                from = version,
                to = SCHEMA_VERSION,
                articles = moved,
                "store upgraded: LSH band keys now kept once per article"
            );
        }
        Ok(())
    }

    /// Reads the schema version; writes it into a new store.
    fn check_schema(&self, created: bool) -> Result<(), StoreError> {
        let t = self.t()?;
        match t.schema.get(VERSION)? {
            None if created => Err(damaged(
                &self.path,
                "it holds a sled database, but the schema version written when the store was created cannot be read back (garbled or truncated file, or not a newsd store)",
            )),
            None => {
                if !t.by_seq.is_empty() {
                    return Err(StoreError::Corrupt {
                        path: self.path.clone(),
                        reason: "articles present but no schema version".into(),
                    });
                }
                t.schema.insert(VERSION, &SCHEMA_VERSION.to_be_bytes())?;
                // The watermark last: from now on a missing version is damage.
                self.flush()
            }
            Some(v) => {
                let found =
                    u32::from_be_bytes(v.as_ref().try_into().map_err(|_| StoreError::Corrupt {
                        path: self.path.clone(),
                        reason: "schema version is not 4 bytes".into(),
                    })?);
                if found > SCHEMA_VERSION {
                    return Err(StoreError::NewerSchema {
                        path: self.path.clone(),
                        found,
                    });
                }
                Ok(())
            }
        }
    }

    /// Refuses a store that lost articles or duplicate records an earlier flush made durable.
    fn check_watermark(&self, mark: Watermark) -> Result<(), StoreError> {
        let now = self.watermark()?;
        if now.next_seq < mark.next_seq || now.duplicates < mark.duplicates {
            return Err(damaged(
                &self.path,
                format!(
                    "it reads back {} articles and {} duplicate records, but {} and {} had been flushed to disk ({WATERMARK_FILE}): stored data is gone (truncated or garbled file)",
                    now.next_seq, now.duplicates, mark.next_seq, mark.duplicates
                ),
            ));
        }
        Ok(())
    }

    /// The persisted counters, as a flush would record them.
    pub(super) fn watermark(&self) -> Result<Watermark, StoreError> {
        let t = self.t()?;
        let counter = |key: &[u8]| -> Result<u64, StoreError> {
            Ok(t.schema.get(key)?.and_then(|v| be_u64(&v)).unwrap_or(0))
        };
        Ok(Watermark {
            next_seq: counter(NEXT_SEQ)?,
            duplicates: counter(DUPLICATES)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{cfg, record};
    use super::super::{ArticleRecord, NewArticle};
    use super::*;

    /// A cleanly closed store of 50 articles of 3 kB each.
    fn closed_store(dir: &Path) -> StoreConfig {
        let c = cfg(dir);
        let store = Store::open(&c).unwrap();
        let text = "T\n\n".to_string() + &"word ".repeat(600) + "\n";
        for i in 0..50u64 {
            let url = format!("http://a.example/{i}");
            let record = ArticleRecord {
                words: 600,
                content_hash: crate::article::content_hash(&text),
                ..record(&url)
            };
            store
                .insert_article(NewArticle {
                    record,
                    text: &text,
                    aliases: &[],
                    fingerprint: b"fp",
                    band_keys: &[i],
                })
                .unwrap();
        }
        store.flush().unwrap();
        c
    }

    /// Opens a damaged store: it must be refused as damaged, naming the directory and the
    /// way out, and a second attempt must say the same (nothing was "repaired" into a valid
    /// looking store in between).
    #[track_caller]
    fn refused(c: &StoreConfig, why: &str) {
        for _ in 0..2 {
            let err = Store::open(c)
                .err()
                .expect("a damaged store must be refused");
            let msg = err.to_string();
            assert!(matches!(err, StoreError::Damaged { .. }), "{msg}");
            assert!(msg.contains(&c.data_dir.display().to_string()), "{msg}");
            assert!(msg.contains("newsd import") && msg.contains("move the directory away"));
            assert!(msg.contains(why), "{why:?} not in {msg}");
        }
    }

    #[test]
    fn a_clean_store_reopens_with_its_watermark() {
        let dir = tempfile::tempdir().unwrap();
        let c = closed_store(dir.path());
        let mark: Watermark =
            serde_json::from_slice(&std::fs::read(c.data_dir.join(WATERMARK_FILE)).unwrap())
                .unwrap();
        assert_eq!(mark.next_seq, 50);
        let store = Store::open(&c).unwrap();
        assert_eq!(store.stats().unwrap().articles, 50);
    }

    #[test]
    fn a_truncated_data_file_is_damage_not_an_older_store() {
        let dir = tempfile::tempdir().unwrap();
        let c = closed_store(dir.path());
        let db = c.data_dir.join("db");
        let len = std::fs::metadata(&db).unwrap().len();
        let f = std::fs::OpenOptions::new().write(true).open(&db).unwrap();
        f.set_len(len / 3).unwrap();
        refused(&c, "but 50 and 0 had been flushed");
    }

    #[test]
    fn a_garbled_data_file_is_damage_not_an_empty_store() {
        use std::io::{Seek, Write};
        let dir = tempfile::tempdir().unwrap();
        let c = closed_store(dir.path());
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(c.data_dir.join("db"))
            .unwrap();
        f.seek(std::io::SeekFrom::Start(10)).unwrap();
        f.write_all(&[0xA5; 20_000]).unwrap();
        drop(f);
        refused(&c, "schema version");
    }

    #[test]
    fn a_deleted_or_garbled_settings_file_is_damage() {
        let dir = tempfile::tempdir().unwrap();
        let c = closed_store(dir.path());
        std::fs::write(c.data_dir.join("conf"), b"zzzz").unwrap();
        refused(&c, "is 4 bytes long");
        std::fs::remove_file(c.data_dir.join("conf")).unwrap();
        refused(&c, "is missing next to its data file");
    }

    #[test]
    fn deleted_data_files_with_a_watermark_are_damage() {
        let dir = tempfile::tempdir().unwrap();
        let c = closed_store(dir.path());
        std::fs::remove_file(c.data_dir.join("db")).unwrap();
        std::fs::remove_file(c.data_dir.join("conf")).unwrap();
        refused(&c, "says 50 articles were stored");
    }

    #[test]
    fn a_creation_a_crash_interrupted_is_created_again() {
        let dir = tempfile::tempdir().unwrap();
        let c = cfg(dir.path());
        // sled's files exist, but neither the version nor the watermark were written.
        drop(sled::open(&c.data_dir).unwrap());
        std::thread::sleep(Duration::from_millis(100));
        let store = Store::open(&c).unwrap();
        assert_eq!(store.stats().unwrap().articles, 0);
        drop(store);
        std::thread::sleep(Duration::from_millis(100));
        assert!(Store::open(&c).is_ok(), "and it is a store from now on");
        // Killed while sled wrote its settings, before its data file existed.
        let other = cfg(&dir.path().join("b"));
        std::fs::create_dir_all(&other.data_dir).unwrap();
        std::fs::write(other.data_dir.join("conf"), b"abc").unwrap();
        assert!(Store::open(&other).is_ok());
    }

    #[test]
    fn a_panic_while_opening_is_contained() {
        let dir = tempfile::tempdir().unwrap();
        let err = contain(dir.path(), || -> Result<(), StoreError> {
            panic!("segment header garbled")
        })
        .unwrap_err();
        assert!(matches!(err, StoreError::Damaged { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("sled panicked reading it: segment header garbled"),
            "{err}"
        );
        // Panics outside `contain` still reach the normal hook and unwind as before.
        assert!(std::panic::catch_unwind(|| panic!("elsewhere")).is_err());
    }
}
