//! Read-only views of the store: `export`, `list`, `show`, `feeds`, `stats`.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};

use crate::config::Config;
use crate::export::ExportDir;
use crate::store::{Store, StoreError};

fn open(cfg: &Config) -> anyhow::Result<Arc<Store>> {
    require_store(cfg)?;
    let store = Arc::new(Store::open(&cfg.store)?);
    sync_replica(cfg, &store);
    Ok(store)
}

/// Cluster mode: brings this node's replica up to the end of the articles stream first, so
/// that every node answers with the whole store of record. NATS unreachable: says so and
/// answers from the replica as it is.
fn sync_replica(cfg: &Config, store: &Arc<Store>) {
    let Some(c) = &cfg.cluster else { return };
    let synced = crate::dedup::Engine::new(&cfg.dedup)
        .map_err(anyhow::Error::from)
        .and_then(|engine| {
            let replica = Arc::new(crate::cluster::replica::Replica::new(
                store.clone(),
                Arc::new(engine),
            ));
            super::with_nats(c, async |nats| {
                crate::cluster::replica::catch_up(nats, &replica).await
            })
        });
    if let Err(e) = synced {
        super::output::status(format_args!(
            "newsd: answering from the local replica, which may be behind the cluster: {e:#}\n"
        ));
    }
}

fn require_store(cfg: &Config) -> anyhow::Result<()> {
    if cfg.cluster.is_some() {
        // A node that never ran has an empty replica, filled from the stream.
        return super::ensure_dir(&cfg.store.data_dir);
    }
    if !cfg.store.data_dir.exists() {
        bail!(
            "no store at {} (nothing ingested yet, or pass --data-dir)",
            cfg.store.data_dir.display()
        );
    }
    Ok(())
}

/// Every stored article as `out/<name>` (its text, byte for byte) plus `out/manifest.jsonl`
/// in seq order. When a running daemon holds the store, the export is streamed from its
/// control socket `<data_dir>/newsd.sock` instead (see [`crate::daemon::control`]).
pub fn export(cfg: &Config, out: &Path) -> anyhow::Result<()> {
    require_store(cfg)?;
    super::ensure_dir(out)?;
    let mut dir = ExportDir::create(out)?;
    let bar = std::sync::Arc::new(std::sync::Mutex::new(None::<super::progress::Progress>));
    let b = bar.clone();
    dir.on_added(move || {
        if let Some(p) = b.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            p.add(1);
        }
    });
    let start =
        |total: Option<u64>| {
            *bar.lock().unwrap_or_else(|e| e.into_inner()) = Some(
                super::progress::Progress::start("newsd export", "articles", total),
            );
        };
    match Store::open(&cfg.store) {
        Ok(store) => {
            let store = Arc::new(store);
            sync_replica(cfg, &store);
            start(Some(store.stats()?.articles));
            crate::export::from_store(&store, &mut dir)?;
        }
        Err(locked @ StoreError::Locked { .. }) => {
            start(None);
            crate::daemon::control::export_from_daemon(&cfg.store.data_dir, &mut dir)
                .with_context(|| format!("{locked}; exporting through the daemon failed"))?;
        }
        Err(e) => return Err(e.into()),
    }
    let n = dir.finish()?;
    if let Some(p) = bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
        p.finish();
    }
    if !super::progress::quiet() {
        super::output::status(format_args!(
            "newsd export: {n} articles to {}\n",
            out.display()
        ));
    }
    Ok(())
}

pub fn list(cfg: &Config, json: bool) -> anyhow::Result<()> {
    let store = open(cfg)?;
    let mut w = super::output::stdout();
    for record in store.records() {
        let r = record?;
        if json {
            serde_json::to_writer(&mut w, &r)?;
            writeln!(w)?;
        } else {
            writeln!(
                w,
                "{}  {:<10}  {:>5} words  {:>2} dup  {}",
                r.name,
                r.published
                    .as_deref()
                    .map_or("-", |p| p.get(..10).unwrap_or(p)),
                r.words,
                r.duplicates.len(),
                r.title
            )?;
        }
    }
    w.flush()?;
    Ok(())
}

pub fn show(cfg: &Config, name_or_url: &str, json: bool) -> anyhow::Result<()> {
    let store = open(cfg)?;
    let Some((r, text)) = store.find(name_or_url)? else {
        bail!("{name_or_url}: no stored article with this name or URL");
    };
    let mut w = super::output::stdout();
    if json {
        let mut v = serde_json::to_value(&r)?;
        v["text"] = serde_json::Value::String(text);
        serde_json::to_writer_pretty(&mut w, &v)?;
        writeln!(w)?;
        w.flush()?;
        return Ok(());
    }
    writeln!(w, "name:       {}", r.name)?;
    writeln!(w, "url:        {}", r.canonical_url)?;
    writeln!(w, "feed:       {}", r.feed.as_deref().unwrap_or("-"))?;
    writeln!(w, "title:      {}", r.title)?;
    writeln!(w, "author:     {}", r.author.as_deref().unwrap_or("-"))?;
    writeln!(w, "published:  {}", r.published.as_deref().unwrap_or("-"))?;
    writeln!(w, "site:       {}", r.site_name.as_deref().unwrap_or("-"))?;
    writeln!(w, "language:   {}", r.language.as_deref().unwrap_or("-"))?;
    writeln!(w, "fetched at: {}", r.fetched_at)?;
    writeln!(w, "words:      {}", r.words)?;
    writeln!(w, "copies:     {}", r.duplicates.len())?;
    for d in &r.duplicates {
        writeln!(
            w,
            "  - {} (feed {}, similarity {:.3}, seen {})",
            d.url,
            d.feed.as_deref().unwrap_or("-"),
            d.similarity,
            d.seen_at
        )?;
    }
    writeln!(w)?;
    w.write_all(text.as_bytes())?;
    w.flush()?;
    Ok(())
}

/// `newsd feeds`: every listed feed's health, in list order; `failing` keeps only the
/// feeds whose last poll failed (or that are disabled).
pub fn feeds(cfg: &Config, json: bool, failing: bool) -> anyhow::Result<()> {
    let (listed, _) = cfg.load_feeds();
    let states: std::collections::HashMap<String, _> = match &cfg.cluster {
        // Cluster mode: feed state lives in NATS (KV <name>_feeds), written by each feed's
        // current owner.
        Some(c) => {
            let urls: Vec<String> = listed.iter().map(|f| f.url.to_string()).collect();
            super::with_nats(c, async |nats| {
                crate::cluster::worker::feed_states(nats, &urls).await
            })?
        }
        None => open(cfg)?.feed_states()?.into_iter().collect(),
    };
    let now = chrono::Utc::now();
    let mut w = super::output::stdout();
    if !json {
        writeln!(
            w,
            "{:<8} {:>6} {:<13} {:<13} {:>6} {:>6} {:>5} {:>5}  {:<40} FEED",
            "STATUS",
            "STREAK",
            "LAST SUCCESS",
            "NEXT POLL",
            "STORED",
            "COPIES",
            "REJ",
            "EMPTY",
            "LAST ERROR"
        )?;
    }
    for spec in &listed {
        let state = states.get(spec.url.as_str()).cloned().unwrap_or_default();
        let status = if state.disabled.is_some() {
            "disabled"
        } else if state.error_streak > 0 {
            "failing"
        } else if state.last_success.is_some() {
            "ok"
        } else {
            "new"
        };
        if failing && !matches!(status, "failing" | "disabled") {
            continue;
        }
        let seen = state.articles + state.copies;
        let rate = |n: u64, of: u64| (of > 0).then(|| n as f64 / of as f64);
        if json {
            let mut v = serde_json::to_value(&state)?;
            v["url"] = spec.url.as_str().into();
            v["status"] = status.into();
            v["listed_in"] = spec.origin.clone().into();
            v["duplicate_rate"] = rate(state.copies, seen).into();
            v["empty_rate"] = rate(state.empty, seen + state.rejected).into();
            serde_json::to_writer(&mut w, &v)?;
            writeln!(w)?;
        } else {
            let error = match (&state.disabled, &state.last_error) {
                (Some(d), _) => d.clone(),
                (None, Some(e)) => format!(
                    "{}: {}",
                    state.last_error_kind.as_deref().unwrap_or("error"),
                    e
                ),
                _ => String::new(),
            };
            writeln!(
                w,
                "{:<8} {:>6} {:<13} {:<13} {:>6} {:>6} {:>5} {:>5}  {:<40} {}",
                status,
                state.error_streak,
                state.last_success.map_or("never".into(), |t| ago(now - t)),
                match (&state.disabled, state.next_poll) {
                    (Some(_), _) => "never".into(),
                    (None, Some(t)) if t > now => format!("in {}", span(t - now)),
                    _ => "now".into(),
                },
                state.articles,
                state.copies,
                state.rejected,
                state.empty,
                clip(&error, 40),
                spec.url
            )?;
        }
    }
    w.flush()?;
    Ok(())
}

/// "5m ago", "3h ago", "2d ago".
fn ago(d: chrono::Duration) -> String {
    format!("{} ago", span(d))
}

fn span(d: chrono::Duration) -> String {
    let s = d.num_seconds().max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
}

/// At most `n` characters, with an ellipsis when cut.
fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    let mut out: String = s.chars().take(n - 1).collect();
    out.push('…');
    out
}

pub fn stats(cfg: &Config, json: bool) -> anyhow::Result<()> {
    let store = open(cfg)?;
    let s = store.stats()?;
    let mut w = super::output::stdout();
    if json {
        serde_json::to_writer(&mut w, &s)?;
        writeln!(w)?;
    } else {
        writeln!(w, "articles:    {}", s.articles)?;
        writeln!(w, "duplicates:  {}", s.duplicates)?;
        writeln!(w, "known URLs:  {}", s.urls)?;
        writeln!(w, "feeds:       {}", s.feeds)?;
        writeln!(w, "rejected:    {}", s.rejects)?;
        writeln!(w, "next seq:    {}", s.next_seq)?;
        writeln!(w, "disk bytes:  {}", s.size_on_disk_bytes)?;
    }
    w.flush()?;
    Ok(())
}
