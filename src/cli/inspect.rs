//! Read-only views of the store: `export`, `list`, `show`, `feeds`, `stats`.

use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{Context, bail};

use crate::config::Config;
use crate::export::ExportDir;
use crate::store::{Store, StoreError};

fn open(cfg: &Config) -> anyhow::Result<Store> {
    require_store(cfg)?;
    Ok(Store::open(&cfg.store)?)
}

fn require_store(cfg: &Config) -> anyhow::Result<()> {
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
    match Store::open(&cfg.store) {
        Ok(store) => crate::export::from_store(&store, &mut dir)?,
        Err(locked @ StoreError::Locked { .. }) => {
            crate::daemon::control::export_from_daemon(&cfg.store.data_dir, &mut dir)
                .with_context(|| format!("{locked}; exporting through the daemon failed"))?;
        }
        Err(e) => return Err(e.into()),
    }
    let n = dir.finish()?;
    eprintln!("newsd export: {n} articles to {}", out.display());
    Ok(())
}

pub fn list(cfg: &Config, json: bool) -> anyhow::Result<()> {
    let store = open(cfg)?;
    let mut w = BufWriter::new(std::io::stdout().lock());
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
    if json {
        let mut v = serde_json::to_value(&r)?;
        v["text"] = serde_json::Value::String(text);
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!("name:       {}", r.name);
    println!("url:        {}", r.canonical_url);
    println!("feed:       {}", r.feed.as_deref().unwrap_or("-"));
    println!("title:      {}", r.title);
    println!("author:     {}", r.author.as_deref().unwrap_or("-"));
    println!("published:  {}", r.published.as_deref().unwrap_or("-"));
    println!("site:       {}", r.site_name.as_deref().unwrap_or("-"));
    println!("language:   {}", r.language.as_deref().unwrap_or("-"));
    println!("fetched at: {}", r.fetched_at);
    println!("words:      {}", r.words);
    println!("copies:     {}", r.duplicates.len());
    for d in &r.duplicates {
        println!(
            "  - {} (feed {}, similarity {:.3}, seen {})",
            d.url,
            d.feed.as_deref().unwrap_or("-"),
            d.similarity,
            d.seen_at
        );
    }
    println!();
    print!("{text}");
    Ok(())
}

pub fn feeds(cfg: &Config, json: bool) -> anyhow::Result<()> {
    let store = open(cfg)?;
    let (listed, _) = cfg.load_feeds();
    let states: std::collections::HashMap<String, _> = store.feed_states()?.into_iter().collect();
    let mut w = BufWriter::new(std::io::stdout().lock());
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
        if json {
            let mut v = serde_json::to_value(&state)?;
            v["url"] = spec.url.as_str().into();
            v["status"] = status.into();
            v["listed_in"] = spec.origin.clone().into();
            serde_json::to_writer(&mut w, &v)?;
            writeln!(w)?;
        } else {
            let next = state
                .next_poll
                .map_or("now".to_string(), |t| t.to_rfc3339());
            writeln!(
                w,
                "{:<8} {:>5} articles  next {}  {}{}",
                status,
                state.articles,
                next,
                spec.url,
                match (&state.disabled, &state.last_error) {
                    (Some(d), _) => format!("  ({d})"),
                    (None, Some(e)) => format!("  ({} failures: {e})", state.error_streak),
                    _ => String::new(),
                }
            )?;
        }
    }
    w.flush()?;
    Ok(())
}

pub fn stats(cfg: &Config, json: bool) -> anyhow::Result<()> {
    let store = open(cfg)?;
    let s = store.stats()?;
    if json {
        println!("{}", serde_json::to_string(&s)?);
    } else {
        println!("articles:    {}", s.articles);
        println!("duplicates:  {}", s.duplicates);
        println!("known URLs:  {}", s.urls);
        println!("feeds:       {}", s.feeds);
        println!("rejected:    {}", s.rejects);
        println!("next seq:    {}", s.next_seq);
        println!("disk bytes:  {}", s.size_on_disk_bytes);
    }
    Ok(())
}
