//! The writer: the one place that decides "duplicate or new" and writes, one job at a time,
//! on its own thread (sled calls block).

use std::sync::Arc;

use chrono::Utc;
use tokio::sync::mpsc;
use tracing::{debug, error, info_span};

use super::{ItemOutcome, Prepared, WriteJob};
use crate::article;
use crate::dedup::{Engine, Fingerprint};
use crate::events;
use crate::metrics::Metrics;
use crate::model::split_text;
use crate::pipeline::{Gate, Liveness};
use crate::store::{ArticleRecord, DuplicateRecord, NewArticle, Store, StoreError};

/// Runs before each job; tests use it to stall or crash the writer on purpose.
type Hook = Option<super::WriteHook>;

/// What the writer thread works with.
pub(super) struct Writer {
    pub(super) store: Arc<Store>,
    pub(super) engine: Arc<Engine>,
    pub(super) metrics: Arc<Metrics>,
    pub(super) gate: Arc<Gate>,
    pub(super) liveness: Arc<Liveness>,
    pub(super) hook: Hook,
}

pub(super) fn spawn(rx: mpsc::Receiver<WriteJob>, w: Writer) -> tokio::task::JoinHandle<()> {
    tokio::task::spawn_blocking(move || writer_loop(rx, &w))
}

fn writer_loop(mut rx: mpsc::Receiver<WriteJob>, w: &Writer) {
    let Writer {
        store,
        engine,
        metrics,
        gate,
        liveness,
        hook,
    } = w;
    while let Some(job) = rx.blocking_recv() {
        liveness.writer_started();
        // A panic here would leave the daemon running but storing nothing; contain it to the
        // one article (sled transactions are atomic, so nothing half-written remains).
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            if let Some(h) = hook {
                h();
            }
            write_one(store, engine, metrics, job.prepared)
        }));
        let outcome = match result {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(e)) => {
                gate.store_failed(&e, "write article");
                ItemOutcome::Failed(e.to_string())
            }
            Err(_) => {
                error!(
                    event = "writer_panic",
                    "the writer panicked on one article; it will be retried"
                );
                ItemOutcome::Failed("writer panicked".into())
            }
        };
        liveness.writer_done();
        let _ = job.reply.send(outcome);
    }
    if let Err(e) = store.flush() {
        gate.store_failed(&e, "flush");
    }
}

fn write_one(
    store: &Store,
    engine: &Engine,
    metrics: &Metrics,
    p: Prepared,
) -> Result<ItemOutcome, StoreError> {
    let span = info_span!("article", feed = %p.feed, url = %p.canonical);
    let _enter = span.enter();
    let now = Utc::now().to_rfc3339();
    match decide(store, engine, p.canonical.as_str(), &p.text, &p.fingerprint)? {
        Verdict::Known => {
            store.add_aliases(p.canonical.as_str(), &p.aliases)?;
            Ok(ItemOutcome::Known)
        }
        Verdict::Copy { seq, similarity } => {
            let of = store.record_duplicate(
                seq,
                DuplicateRecord {
                    url: p.canonical.to_string(),
                    feed: Some(p.feed.clone()),
                    similarity,
                    seen_at: now,
                    original: None,
                },
                &p.aliases,
            )?;
            events::article_duplicate(metrics, &of, similarity);
            Ok(ItemOutcome::Duplicate { of, similarity })
        }
        Verdict::New => {
            let stored = store.insert_article(NewArticle {
                record: record_for(&p, now),
                text: &p.text,
                aliases: &p.aliases,
                fingerprint: &p.fingerprint.to_bytes(),
                band_keys: &engine.band_keys(&p.fingerprint),
            })?;
            events::article_stored(metrics, &stored.name, stored.words);
            Ok(ItemOutcome::Stored(stored.name))
        }
    }
}

/// The writer's verdict on one article.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Verdict {
    /// Its canonical URL is already stored, recorded or rejected.
    Known,
    /// A copy of the stored article `seq`.
    Copy {
        seq: u64,
        similarity: f64,
    },
    New,
}

/// "Known, a copy of which stored article, or new?", against everything in `store` (DESIGN
/// §4). Single node: the writer then writes at once; cluster mode: the committer publishes
/// the decision first, then writes it to its replica.
pub(crate) fn decide(
    store: &Store,
    engine: &Engine,
    canonical: &str,
    text: &str,
    fingerprint: &Fingerprint,
) -> Result<Verdict, StoreError> {
    if let Some(known) = store.known(canonical)? {
        debug!(event = "article_known", known = ?known);
        return Ok(Verdict::Known);
    }
    let band_keys = engine.band_keys(fingerprint);
    let mut copies: Vec<(u64, f64, bool)> = Vec::new();
    for (seq, bytes) in store.candidates(&band_keys)? {
        let Ok(old) = Fingerprint::from_bytes(&bytes) else {
            debug!(event = "store_error", seq, "unreadable fingerprint skipped");
            continue;
        };
        let cmp = engine.compare(fingerprint, &old);
        if cmp.is_duplicate {
            copies.push((seq, cmp.similarity, cmp.needs_text_check));
        }
    }
    // Best first (ties to the earliest: candidates come in seq order and the sort is stable);
    // the first that survives the template check, if it needs it, is the original.
    copies.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (seq, similarity, check) in copies {
        if check
            && let Some(old) = store.text_by_seq(seq)?
            && let Some(swaps) = engine.template_swaps(split_text(text).1, split_text(&old).1)
        {
            debug!(
                event = "article_template",
                seq,
                names = swaps.names,
                numbers = swaps.numbers,
                "same wording as a stored article with other names or figures: not a copy"
            );
            continue;
        }
        return Ok(Verdict::Copy { seq, similarity });
    }
    Ok(Verdict::New)
}

/// The record of a new article (seq and name are allocated when it is written).
pub(super) fn record_for(p: &Prepared, fetched_at: String) -> ArticleRecord {
    let a = &p.article;
    ArticleRecord {
        name: String::new(),
        seq: 0,
        id: format!("{:016x}", article::article_id(&p.canonical)),
        url: p.fetched_url.to_string(),
        canonical_url: p.canonical.to_string(),
        feed: Some(p.feed.clone()),
        title: a.title.clone(),
        author: a.meta.author.clone(),
        published: a.meta.published.clone(),
        site_name: a.meta.site_name.clone(),
        language: a.meta.language.clone(),
        fetched_at,
        words: a.word_count(),
        content_hash: article::content_hash(&p.text),
        duplicates: Vec::new(),
    }
}
