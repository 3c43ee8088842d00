//! Page workers: fetch an article page, decode, extract, canonicalise and fingerprint it
//! (CPU-bound work on the page threads, [`super::cpu`]), and hand the result back to the
//! feed's poll.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tracing::{Instrument, info_span};

use super::cpu::{Cpu, CpuError};
use super::{ItemOutcome, PageJob, Parts, Prepared, Shared};
use crate::article;
use crate::cluster::Candidate;
use crate::dedup::Engine;
use crate::events;
use crate::extract::{Extractor, SiteMemory};
use crate::fetch::{Fetcher, Kind, Outcome};
use crate::metrics::{ExtractFailure, Metrics, Target, thread_cpu_time};
use crate::model::{CleanArticle, FeedItem};
use crate::pipeline::{Gate, Liveness};
use crate::store::{Reject, Store};

/// What a page worker works with.
#[derive(Clone)]
struct Worker {
    fetcher: Fetcher,
    extractor: Arc<Extractor>,
    engine: Arc<Engine>,
    store: Arc<Store>,
    metrics: Arc<Metrics>,
    gate: Arc<Gate>,
    liveness: Arc<Liveness>,
    site_memory: Arc<SiteMemory>,
    /// Cluster mode: rejects go to the committer instead of the local store.
    shared: Option<Arc<dyn Shared>>,
    cpu: Cpu,
}

/// Starts `daemon.page_workers` workers sharing one bounded queue.
pub(super) fn spawn_workers(parts: &Parts, rx: mpsc::Receiver<PageJob>, cpu: Cpu) -> JoinSet<()> {
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let worker = Worker {
        fetcher: parts.fetcher.clone(),
        extractor: parts.extractor.clone(),
        engine: parts.engine.clone(),
        store: parts.store.clone(),
        metrics: parts.metrics.clone(),
        gate: parts.gate.clone(),
        liveness: parts.liveness.clone(),
        site_memory: parts.site_memory.clone(),
        shared: parts.shared.clone(),
        cpu,
    };
    let mut set = JoinSet::new();
    for slot in 0..parts.cfg.daemon.page_workers {
        let (rx, w) = (rx.clone(), worker.clone());
        set.spawn(async move {
            loop {
                let job = { rx.lock().await.recv().await };
                let Some(job) = job else { break };
                let span = info_span!("article", feed = %job.feed, url = %job.item.link);
                w.liveness.page_started(slot);
                let result = w.prepare(job.feed, job.item).instrument(span).await;
                w.liveness.page_done(slot);
                let _ = job.reply.send(result);
            }
        });
    }
    set
}

impl Worker {
    /// Remembers a permanent failure so the page is not fetched again. If the store (or, in
    /// cluster mode, the candidates stream) cannot take it, the item counts as failed
    /// (retried), since nothing remembers it.
    async fn reject(
        &self,
        reason: String,
        failure: Option<ExtractFailure>,
        aliases: &[String],
    ) -> ItemOutcome {
        let rec = Reject {
            reason: reason.clone(),
            at: Utc::now().to_rfc3339(),
        };
        if let Some(shared) = &self.shared {
            let candidate = Candidate::Reject {
                urls: aliases.to_vec(),
                reject: rec,
            };
            return match shared.publish(candidate).await {
                Ok(()) => {
                    events::article_rejected(&self.metrics, &reason, failure);
                    ItemOutcome::Rejected(reason, failure)
                }
                Err(e) => ItemOutcome::Failed(format!("{reason} (not recorded: {e})")),
            };
        }
        match self.store.record_reject(aliases, &rec) {
            Ok(()) => {
                events::article_rejected(&self.metrics, &reason, failure);
                ItemOutcome::Rejected(reason, failure)
            }
            Err(e) => {
                self.gate.store_failed(&e, "record reject");
                ItemOutcome::Failed(format!("{reason} (not recorded: {e})"))
            }
        }
    }

    /// Fetch, decode, extract, canonicalise, fingerprint.
    async fn prepare(&self, feed: String, item: FeedItem) -> Result<Prepared, ItemOutcome> {
        let metrics = &self.metrics;
        let link_canonical = article::canonicalize(&item.link);
        let mut aliases = vec![item.link.to_string(), link_canonical.to_string()];
        let started = std::time::Instant::now();
        let fetched = self.fetcher.get(&item.link, Kind::Page, None).await;
        events::fetched(metrics, Target::Page, started.elapsed());
        if let Err(e) = &fetched {
            events::page_fetch_failed(metrics, e.kind(), &e.to_string(), e.is_permanent());
        }
        let fetched = match fetched {
            Ok(Outcome::Fetched(f)) => f,
            Ok(Outcome::NotModified(_)) => {
                return Err(ItemOutcome::Failed(
                    "unexpected 304 for an unconditional request".into(),
                ));
            }
            Err(e) if e.is_permanent() => {
                return Err(self.reject(e.to_string(), None, &aliases).await);
            }
            Err(e) => return Err(ItemOutcome::Failed(e.to_string())),
        };
        let fetched_url = fetched.final_url.clone();
        aliases.push(fetched_url.to_string());
        if let Some(ct) = &fetched.content_type
            && !is_htmlish(ct)
        {
            return Err(self
                .reject(
                    format!("{fetched_url}: not an HTML page (Content-Type {ct})"),
                    Some(ExtractFailure::NotHtml),
                    &aliases,
                )
                .await);
        }
        let (extractor, engine) = (self.extractor.clone(), self.engine.clone());
        let memory = self.site_memory.clone();
        let url_for_task = fetched_url.clone();
        let item_for_task = item.clone();
        let started = std::time::Instant::now();
        let done = self
            .cpu
            .run(move || {
                let cpu = thread_cpu_time();
                // Site chrome the host repeats is dropped, and kept out of the fingerprint; then
                // the page is remembered (after, so a page is never judged by its own blocks).
                let page =
                    crate::extract::decode_html(fetched.body, fetched.content_type.as_deref())
                        .and_then(|html| {
                            extractor.extract_with(&html, Some(&url_for_task), Some(&memory))
                        });
                let extract_cpu = thread_cpu_time().saturating_sub(cpu);
                let page = match page {
                    Ok(page) => page,
                    Err(e) => return (extract_cpu, Err(e)),
                };
                if let Some(host) = &page.host {
                    let page_id = xxhash_rust::xxh3::xxh3_64(url_for_task.as_str().as_bytes());
                    memory.observe_page(host, page_id, &page);
                }
                let body = page.fingerprint_text();
                let mut article = page.article;
                fill_from_feed(&mut article, &item_for_task);
                let canonical =
                    article::page_canonical(&url_for_task, article.meta.canonical_url.as_deref());
                let fingerprint = engine.fingerprint(&article.title, &body);
                (extract_cpu, Ok((article, canonical, fingerprint)))
            })
            .await;
        let extract_cpu = done.as_ref().map_or(Duration::ZERO, |(cpu, _)| *cpu);
        events::extracted(metrics, started.elapsed(), extract_cpu);
        let (article, canonical, fingerprint) = match done.map(|(_, r)| r) {
            Ok(Ok(x)) => x,
            Ok(Err(e)) => {
                let failure = ExtractFailure::from_label(e.kind());
                return Err(self
                    .reject(format!("{fetched_url}: {e}"), failure, &aliases)
                    .await);
            }
            Err(e @ CpuError::Stopped) => {
                return Err(ItemOutcome::Failed(format!("{fetched_url}: {e}")));
            }
            Err(e) => {
                let reason = format!("{fetched_url}: extractor crashed: {e}");
                return Err(self
                    .reject(reason, Some(ExtractFailure::Crashed), &aliases)
                    .await);
            }
        };
        aliases.retain(|a| a != canonical.as_str());
        aliases.sort();
        aliases.dedup();
        let text = article.text();
        Ok(Prepared {
            feed,
            fetched_url,
            canonical,
            aliases,
            article,
            text,
            fingerprint,
        })
    }
}

/// Feed metadata fills what the page did not say.
fn fill_from_feed(article: &mut CleanArticle, item: &FeedItem) {
    if article.title.is_empty()
        && let Some(t) = &item.title
    {
        article.title = t.split_whitespace().collect::<Vec<_>>().join(" ");
    }
    if article.meta.author.is_none() {
        article.meta.author = item.author.clone();
    }
    if article.meta.published.is_none() {
        article.meta.published = item.published.map(|p| p.to_rfc3339());
    }
}

fn is_htmlish(content_type: &str) -> bool {
    let ct = content_type.to_ascii_lowercase();
    let mime = ct.split(';').next().unwrap_or("").trim();
    mime.is_empty()
        || mime == "text/html"
        || mime == "application/xhtml+xml"
        || mime == "text/plain" // mislabelled pages are common; the decoder still refuses binary
        || mime == "application/octet-stream"
}
