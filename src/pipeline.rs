//! Pipeline: wires the stages together. The only module that knows several stages.
//!
//! ```text
//!  poll_feed ──► fetch feed ──► parse (blocking pool) ──► per item: canonical URL, skip known
//!      │                                                          │ PageJob (bounded queue)
//!      │                                                          ▼
//!      │                                   page workers: fetch page ──► decode + extract +
//!      │                                   canonical + fingerprint (blocking pool)
//!      │  in feed order                                            │ Prepared
//!      └──────────────────────────────► writer thread (one): known? ► dedup ► store
//! ```
//!
//! Per item, in order: canonicalise the feed link → skip if the store knows it → fetch the
//! page → decode and extract → the page's canonical URL → skip if known → fingerprint →
//! (writer) duplicate of a stored article? record it : store it. The writer is a single
//! thread so two copies arriving together cannot both be stored. A feed's poll commits its
//! items to the writer in feed order (pages are fetched concurrently), so ingest order —
//! and so which copy counts as the original — follows the publisher's order.
//!
//! Cursor safety: a feed's new validators are saved only when every item of that response
//! is settled (stored, known, recorded as duplicate or permanently rejected); otherwise the
//! old validators stay, the next poll gets a full response, and the unsettled items are
//! tried again.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use tracing::{Instrument, debug, error, info, info_span, warn};
use url::Url;

use crate::article;
use crate::config::{Config, FeedSpec};
use crate::dedup::{Engine, Fingerprint};
use crate::extract::{ExtractError, Extractor};
use crate::feed::{self, FeedError};
use crate::fetch::{CacheHints, FetchError, Fetcher, Kind, Outcome};
use crate::metrics::Metrics;
use crate::model::{CleanArticle, FeedItem, split_text};
use crate::schedule::{self, FeedState};
use crate::store::{ArticleRecord, DuplicateRecord, NewArticle, Reject, Store, StoreError};

/// What became of one feed item.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemOutcome {
    Stored(String),
    Duplicate {
        of: String,
        similarity: f64,
    },
    /// Already stored, recorded or rejected: not fetched (or, if only its page's canonical
    /// URL was known, fetched once and now aliased).
    Known,
    /// Permanently failed (not HTML, no article text, 404 …): recorded, not retried.
    Rejected(String),
    /// Transiently failed (timeout, 5xx …): retried on a later poll.
    Failed(String),
}

impl ItemOutcome {
    fn settled(&self) -> bool {
        !matches!(self, ItemOutcome::Failed(_))
    }
}

/// Counts of one or more polls, for `newsd once` and the logs.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    pub feeds_polled: usize,
    pub feeds_not_modified: usize,
    pub feed_errors: usize,
    pub items: usize,
    pub stored: usize,
    pub duplicates: usize,
    pub known: usize,
    pub rejected: usize,
    pub failed: usize,
}

impl Report {
    pub fn add(&mut self, o: &Report) {
        self.feeds_polled += o.feeds_polled;
        self.feeds_not_modified += o.feeds_not_modified;
        self.feed_errors += o.feed_errors;
        self.items += o.items;
        self.stored += o.stored;
        self.duplicates += o.duplicates;
        self.known += o.known;
        self.rejected += o.rejected;
        self.failed += o.failed;
    }

    fn count(&mut self, o: &ItemOutcome) {
        self.items += 1;
        match o {
            ItemOutcome::Stored(_) => self.stored += 1,
            ItemOutcome::Duplicate { .. } => self.duplicates += 1,
            ItemOutcome::Known => self.known += 1,
            ItemOutcome::Rejected(_) => self.rejected += 1,
            ItemOutcome::Failed(_) => self.failed += 1,
        }
    }
}

/// A page handed to the workers.
struct PageJob {
    feed: String,
    item: FeedItem,
    reply: oneshot::Sender<Result<Prepared, ItemOutcome>>,
}

/// An extracted article, ready for the writer.
struct Prepared {
    feed: String,
    fetched_url: Url,
    canonical: Url,
    /// URLs that lead here besides the canonical (feed link, its canonical form, fetched URL).
    aliases: Vec<String>,
    article: CleanArticle,
    text: String,
    fingerprint: Fingerprint,
}

struct WriteJob {
    prepared: Prepared,
    reply: oneshot::Sender<ItemOutcome>,
}

/// The running pipeline: page workers and the writer thread, plus what a feed poll needs.
/// Cheap to clone; the workers stop once every clone is dropped.
#[derive(Clone)]
pub struct Pipeline {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: Arc<Config>,
    store: Arc<Store>,
    fetcher: Fetcher,
    metrics: Arc<Metrics>,
    pages: mpsc::Sender<PageJob>,
    writes: mpsc::Sender<WriteJob>,
}

/// Handles to the pipeline's background work, to be awaited (or aborted) at shutdown.
pub struct Workers {
    pub page_workers: JoinSet<()>,
    pub writer: tokio::task::JoinHandle<()>,
}

impl Pipeline {
    /// Starts the page workers and the writer thread.
    pub fn start(
        cfg: Arc<Config>,
        store: Arc<Store>,
        fetcher: Fetcher,
        extractor: Arc<Extractor>,
        engine: Arc<Engine>,
        metrics: Arc<Metrics>,
    ) -> (Pipeline, Workers) {
        let (pages_tx, pages_rx) = mpsc::channel::<PageJob>(cfg.daemon.queue_capacity);
        let (writes_tx, writes_rx) = mpsc::channel::<WriteJob>(cfg.daemon.queue_capacity);
        let pages_rx = Arc::new(tokio::sync::Mutex::new(pages_rx));
        let mut page_workers = JoinSet::new();
        for _ in 0..cfg.daemon.page_workers {
            let rx = pages_rx.clone();
            let fetcher = fetcher.clone();
            let extractor = extractor.clone();
            let engine = engine.clone();
            let store = store.clone();
            let metrics = metrics.clone();
            page_workers.spawn(async move {
                loop {
                    let job = { rx.lock().await.recv().await };
                    let Some(job) = job else { break };
                    let span = info_span!("article", feed = %job.feed, url = %job.item.link);
                    let stages = Stages {
                        fetcher: &fetcher,
                        extractor: &extractor,
                        engine: &engine,
                        store: &store,
                        metrics: &metrics,
                    };
                    let result = prepare(stages, job.feed, job.item).instrument(span).await;
                    let _ = job.reply.send(result);
                }
            });
        }
        let writer_store = store.clone();
        let writer =
            tokio::task::spawn_blocking(move || writer_loop(writes_rx, &writer_store, &engine));
        let pipeline = Pipeline {
            inner: Arc::new(Inner {
                cfg,
                store,
                fetcher,
                metrics,
                pages: pages_tx,
                writes: writes_tx,
            }),
        };
        (
            pipeline,
            Workers {
                page_workers,
                writer,
            },
        )
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.inner.store
    }

    /// Polls one feed: fetch, parse, process every new item, update and persist its state.
    pub async fn poll_feed(&self, spec: &FeedSpec) -> Report {
        let feed = spec.url.as_str().to_string();
        let span = info_span!("feed_poll", feed = %feed);
        self.poll_feed_inner(spec)
            .instrument(span)
            .await
            .unwrap_or_else(|e| {
                warn!(event = "store_error", error = %e, "feed state could not be read or saved");
                self.inner.metrics.feed_poll("error");
                Report {
                    feed_errors: 1,
                    ..Report::default()
                }
            })
    }

    async fn poll_feed_inner(&self, spec: &FeedSpec) -> Result<Report, StoreError> {
        let cfg = &self.inner.cfg;
        let store = &self.inner.store;
        let feed = spec.url.as_str();
        let mut state = store.feed_state(feed)?.unwrap_or_default();
        let now = Utc::now();
        state.last_polled = Some(now);
        let interval = spec
            .interval
            .unwrap_or(Duration::from_secs(cfg.schedule.default_interval_secs));
        let mut report = Report {
            feeds_polled: 1,
            ..Report::default()
        };

        let metrics = &self.inner.metrics;
        let started = std::time::Instant::now();
        let fetched = self
            .inner
            .fetcher
            .get(&spec.url, Kind::Feed, Some(&state.validators))
            .await;
        metrics.fetch_duration("feed", started.elapsed());
        let (fetched, hints) = match fetched {
            Ok(Outcome::NotModified(hints)) => {
                debug!(event = "feed_not_modified");
                metrics.feed_poll("not_modified");
                report.feeds_not_modified = 1;
                self.succeed(&mut state, interval, hints);
                store.put_feed_state(feed, &state)?;
                return Ok(report);
            }
            Ok(Outcome::Fetched(f)) => {
                let hints = f.hints;
                (f, hints)
            }
            Err(e) => {
                if let FetchError::Status { status: 410, .. } = e {
                    warn!(event = "feed_gone", error = %e, "feed disabled: the server says it is gone for good");
                    state.disabled = Some(format!("410 Gone at {}", now.to_rfc3339()));
                }
                self.fail(&mut state, e.kind(), &e.to_string(), e.retry_after());
                metrics.fetch_error("feed", e.kind());
                metrics.feed_poll("error");
                store.put_feed_state(feed, &state)?;
                report.feed_errors = 1;
                return Ok(report);
            }
        };

        let max_items = cfg.fetch.max_feed_items;
        let (body, content_type, final_url) =
            (fetched.body, fetched.content_type, fetched.final_url);
        let parsed = tokio::task::spawn_blocking(move || {
            feed::parse_feed(&body, content_type.as_deref(), &final_url, max_items)
        })
        .await
        .unwrap_or_else(|e| {
            Err(FeedError::Malformed {
                reason: format!("parser crashed: {e}"),
            })
        });
        let parsed = match parsed {
            Ok(p) => p,
            Err(e) => {
                self.fail(&mut state, "parse", &format!("{feed}: {e}"), None);
                metrics.fetch_error("feed", "parse");
                metrics.feed_poll("error");
                store.put_feed_state(feed, &state)?;
                report.feed_errors = 1;
                return Ok(report);
            }
        };
        if parsed.title.is_some() {
            state.title = parsed.title.clone();
        }
        state.ttl_mins = parsed.ttl_mins;

        // Hand every unknown item to the page workers; keep the replies in feed order.
        let mut pending = Vec::new();
        for item in parsed.items {
            let link = article::canonicalize(&item.link);
            let known = match store.known(link.as_str())? {
                Some(k) => Some(k),
                None => store.known(item.link.as_str())?,
            };
            if known.is_some() {
                report.count(&ItemOutcome::Known);
                continue;
            }
            let (tx, rx) = oneshot::channel();
            let job = PageJob {
                feed: feed.to_string(),
                item,
                reply: tx,
            };
            if self.inner.pages.send(job).await.is_err() {
                break; // workers gone: shutting down
            }
            pending.push(rx);
        }
        let mut all_settled = true;
        for rx in pending {
            let outcome = match rx.await {
                Ok(Ok(prepared)) => self.write(prepared).await,
                Ok(Err(outcome)) => outcome,
                Err(_) => ItemOutcome::Failed("worker stopped".into()),
            };
            all_settled &= outcome.settled();
            match outcome {
                ItemOutcome::Stored(_) => {
                    state.articles += 1;
                    metrics.stored();
                }
                ItemOutcome::Duplicate { .. } => metrics.duplicate(),
                ItemOutcome::Rejected(_) => metrics.rejected(),
                ItemOutcome::Known | ItemOutcome::Failed(_) => {}
            }
            report.count(&outcome);
        }
        if all_settled {
            state.validators = fetched.validators;
        }
        self.succeed(&mut state, interval, hints);
        store.put_feed_state(feed, &state)?;
        metrics.feed_poll("ok");
        info!(
            event = "feed_polled",
            items = report.items,
            stored = report.stored,
            duplicates = report.duplicates,
            known = report.known,
            rejected = report.rejected,
            failed = report.failed,
        );
        Ok(report)
    }

    async fn write(&self, prepared: Prepared) -> ItemOutcome {
        let (tx, rx) = oneshot::channel();
        if self
            .inner
            .writes
            .send(WriteJob {
                prepared,
                reply: tx,
            })
            .await
            .is_err()
        {
            return ItemOutcome::Failed("writer stopped".into());
        }
        rx.await
            .unwrap_or_else(|_| ItemOutcome::Failed("writer stopped".into()))
    }

    fn succeed(&self, state: &mut FeedState, interval: Duration, hints: CacheHints) {
        let wait = schedule::after_success(
            &self.inner.cfg.schedule,
            interval,
            state.ttl_mins,
            hints,
            &mut rand::rng(),
        );
        let now = Utc::now();
        state.error_streak = 0;
        state.last_error = None;
        state.last_success = Some(now);
        state.next_poll = Some(now + chrono::Duration::from_std(wait).unwrap_or_default());
    }

    fn fail(&self, state: &mut FeedState, kind: &str, error: &str, retry_after: Option<Duration>) {
        state.error_streak = state.error_streak.saturating_add(1);
        let wait = schedule::after_error(
            &self.inner.cfg.schedule,
            state.error_streak,
            retry_after,
            &mut rand::rng(),
        );
        state.last_error = Some(error.to_string());
        state.next_poll = Some(Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default());
        warn!(
            event = "feed_error",
            error_kind = kind,
            error = error,
            streak = state.error_streak,
            retry_in_secs = wait.as_secs(),
        );
    }
}

/// What a page worker works with.
#[derive(Clone, Copy)]
struct Stages<'a> {
    fetcher: &'a Fetcher,
    extractor: &'a Arc<Extractor>,
    engine: &'a Arc<Engine>,
    store: &'a Store,
    metrics: &'a Metrics,
}

/// Page worker body: fetch, decode, extract, canonicalise, fingerprint.
async fn prepare(st: Stages<'_>, feed: String, item: FeedItem) -> Result<Prepared, ItemOutcome> {
    let Stages {
        fetcher,
        extractor,
        engine,
        store,
        metrics,
    } = st;
    let link_canonical = article::canonicalize(&item.link);
    let mut aliases = vec![item.link.to_string(), link_canonical.to_string()];
    let reject = |reason: String, aliases: &[String]| {
        warn!(event = "article_rejected", error = %reason);
        let rec = Reject {
            reason: reason.clone(),
            at: Utc::now().to_rfc3339(),
        };
        if let Err(e) = store.record_reject(aliases, &rec) {
            warn!(event = "store_error", error = %e);
        }
        ItemOutcome::Rejected(reason)
    };
    let started = std::time::Instant::now();
    let fetched = fetcher.get(&item.link, Kind::Page, None).await;
    metrics.fetch_duration("page", started.elapsed());
    if let Err(e) = &fetched {
        metrics.fetch_error("page", e.kind());
    }
    let fetched = match fetched {
        Ok(Outcome::Fetched(f)) => f,
        Ok(Outcome::NotModified(_)) => {
            return Err(ItemOutcome::Failed(
                "unexpected 304 for an unconditional request".into(),
            ));
        }
        Err(e) if e.is_permanent() => return Err(reject(e.to_string(), &aliases)),
        Err(e) => {
            warn!(event = "article_fetch_error", error_kind = e.kind(), error = %e);
            return Err(ItemOutcome::Failed(e.to_string()));
        }
    };
    let fetched_url = fetched.final_url.clone();
    aliases.push(fetched_url.to_string());
    if let Some(ct) = &fetched.content_type
        && !is_htmlish(ct)
    {
        metrics.extract_failure("not-html");
        return Err(reject(
            format!("{fetched_url}: not an HTML page (Content-Type {ct})"),
            &aliases,
        ));
    }
    let (extractor, engine) = (extractor.clone(), engine.clone());
    let url_for_task = fetched_url.clone();
    let item_for_task = item.clone();
    let started = std::time::Instant::now();
    let done = tokio::task::spawn_blocking(move || {
        let html = crate::extract::decode_html(&fetched.body, fetched.content_type.as_deref())?;
        let mut article = extractor.extract(&html, Some(&url_for_task))?;
        fill_from_feed(&mut article, &item_for_task);
        let canonical =
            article::page_canonical(&url_for_task, article.meta.canonical_url.as_deref());
        let fingerprint = engine.fingerprint(&article.title, &article.blocks.join("\n\n"));
        Ok::<_, ExtractError>((article, canonical, fingerprint))
    })
    .await;
    metrics.extract_duration(started.elapsed());
    let (article, canonical, fingerprint) = match done {
        Ok(Ok(x)) => x,
        Ok(Err(e)) => {
            metrics.extract_failure(e.kind());
            return Err(reject(format!("{fetched_url}: {e}"), &aliases));
        }
        Err(e) => {
            metrics.extract_failure("crashed");
            return Err(reject(
                format!("{fetched_url}: extractor crashed: {e}"),
                &aliases,
            ));
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

/// The writer: the one place that decides "duplicate or new" and writes, one job at a time.
fn writer_loop(mut rx: mpsc::Receiver<WriteJob>, store: &Store, engine: &Engine) {
    while let Some(job) = rx.blocking_recv() {
        // A panic here would leave the daemon running but storing nothing; contain it to the
        // one article (sled transactions are atomic, so nothing half-written remains).
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            write_one(store, engine, job.prepared)
        }));
        let outcome = match result {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(e)) => {
                warn!(event = "store_error", error = %e);
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
        let _ = job.reply.send(outcome);
    }
    if let Err(e) = store.flush() {
        warn!(event = "store_error", error = %e, "flush failed");
    }
}

fn write_one(store: &Store, engine: &Engine, p: Prepared) -> Result<ItemOutcome, StoreError> {
    let span = info_span!("article", feed = %p.feed, url = %p.canonical);
    let _enter = span.enter();
    if let Some(known) = store.known(p.canonical.as_str())? {
        store.add_aliases(p.canonical.as_str(), &p.aliases)?;
        debug!(event = "article_known", known = ?known);
        return Ok(ItemOutcome::Known);
    }
    let band_keys = engine.band_keys(&p.fingerprint);
    let mut copies: Vec<(u64, f64, bool)> = Vec::new();
    for (seq, bytes) in store.candidates(&band_keys)? {
        let Ok(old) = Fingerprint::from_bytes(&bytes) else {
            warn!(event = "store_error", seq, "unreadable fingerprint skipped");
            continue;
        };
        let cmp = engine.compare(&p.fingerprint, &old);
        if cmp.is_duplicate {
            copies.push((seq, cmp.similarity, cmp.needs_text_check));
        }
    }
    // Best first (ties to the earliest: candidates come in seq order and the sort is stable);
    // the first that survives the template check, if it needs it, is the original.
    copies.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut best = None;
    for (seq, similarity, check) in copies {
        if check
            && let Some(old) = store.text_by_seq(seq)?
            && let Some(swaps) = engine.template_swaps(split_text(&p.text).1, split_text(&old).1)
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
        best = Some((seq, similarity));
        break;
    }
    let now = Utc::now().to_rfc3339();
    if let Some((seq, similarity)) = best {
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
        info!(event = "article_duplicate", article = %of, similarity);
        return Ok(ItemOutcome::Duplicate { of, similarity });
    }
    let a = &p.article;
    let record = ArticleRecord {
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
        fetched_at: now,
        words: a.word_count(),
        content_hash: article::content_hash(&p.text),
        duplicates: Vec::new(),
    };
    let stored = store.insert_article(NewArticle {
        record,
        text: &p.text,
        aliases: &p.aliases,
        fingerprint: &p.fingerprint.to_bytes(),
        band_keys: &band_keys,
    })?;
    info!(event = "article_stored", article = %stored.name, words = stored.words);
    Ok(ItemOutcome::Stored(stored.name))
}
