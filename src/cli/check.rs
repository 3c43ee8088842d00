//! `newsd check`: verifies a stopped store (or a copy of its directory) against the
//! invariants in the store module docs; exit 0 with a short report, or 1 listing every
//! violation.

use anyhow::bail;

use crate::config::Config;
use crate::dedup::{Engine, Fingerprint};
use crate::store::check::CheckOptions;
use crate::store::{Store, StoreError};

/// Opens the store for a read-only command that cannot go through the daemon, with the
/// way out when the daemon holds it.
pub(super) fn open_stopped(cfg: &Config, command: &str) -> anyhow::Result<Store> {
    let dir = &cfg.store.data_dir;
    if !dir.exists() {
        bail!(
            "no store at {} (nothing ingested yet, or pass --data-dir)",
            dir.display()
        );
    }
    match Store::open(&cfg.store) {
        Ok(store) => Ok(store),
        Err(StoreError::Locked { path }) => bail!(
            "store at {p} is locked by a running daemon: `newsd {command}` needs the daemon stopped, or a copy of the directory (cp -a {p} /tmp/newsd-copy && newsd --data-dir /tmp/newsd-copy {command})",
            p = path.display()
        ),
        Err(e) => Err(e.into()),
    }
}

pub fn run(cfg: &Config, json: bool) -> anyhow::Result<()> {
    let store = open_stopped(cfg, "check")?;
    let engine = Engine::new(&cfg.dedup)?;
    let band_keys = |bytes: &[u8]| {
        Fingerprint::from_bytes(bytes)
            .map(|fp| engine.band_keys(&fp))
            .map_err(|e| e.to_string())
    };
    // The schedule never waits longer than its caps; twice the longest, and at least a
    // week (a long Retry-After), is "absurdly far".
    let longest = cfg
        .schedule
        .max_interval_secs
        .max(cfg.schedule.max_backoff_secs);
    let max_poll_ahead = chrono::Duration::seconds(
        i64::try_from(longest.saturating_mul(2))
            .unwrap_or(i64::MAX / 1000)
            .max(7 * 86_400),
    );
    let report = store.check(&CheckOptions {
        band_keys: &band_keys,
        now: chrono::Utc::now(),
        max_poll_ahead,
    })?;
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        for v in &report.violations {
            println!("{v}");
        }
        println!(
            "{}: {} articles (next seq {}), {} copies, {} URLs, {} LSH entries, {} feeds, {} rejected: {}",
            cfg.store.data_dir.display(),
            report.articles,
            report.next_seq,
            report.duplicates,
            report.urls,
            report.lsh_entries,
            report.feeds,
            report.rejects,
            match report.violations.len() {
                0 => "ok".to_string(),
                n => format!("{n} violations"),
            }
        );
    }
    if !report.violations.is_empty() {
        return Err(super::Exit {
            code: 1,
            message: format!(
                "store at {}: {} violations of its invariants (listed on stdout; the numbers refer to the store module docs)",
                cfg.store.data_dir.display(),
                report.violations.len()
            ),
        }
        .into());
    }
    Ok(())
}
