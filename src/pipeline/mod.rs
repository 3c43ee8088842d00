//! Pipeline: wires the stages together. The only module that knows several stages.
//!
//! ```text
//!  poll (poll.rs) ──► fetch feed ──► parse (page thread) ──► per item: canonical URL, skip known
//!      │                                                          │ PageJob (bounded queue)
//!      │                                                          ▼
//!      │                       page workers (page.rs, async): fetch page ──► CPU job (bounded
//!      │                       queue) ──► page threads (cpu.rs, one per core): decode +
//!      │                       extract + canonical + fingerprint
//!      │  in feed order: ONE job per poll (a chunk when     │ Prepared (oneshot back to the poll)
//!      │  the next page is not ready within 250 ms)         ▼
//!      └──────────────────────────────► writer thread (writer.rs): known? ► dedup ► store
//!                                        (one reply per job; queued jobs = one transaction)
//! ```
//!
//! Per item, in order: canonicalise the feed link → skip if the store knows it → fetch the
//! page → decode and extract → the page's canonical URL → skip if known → fingerprint →
//! (writer) duplicate of a stored article? record it : store it. The writer is a single
//! thread so two copies arriving together cannot both be stored. A feed's poll commits its
//! items to the writer in feed order (pages are fetched concurrently), so ingest order —
//! and so which copy counts as the original — follows the publisher's order.
//!
//! Hand-offs per poll: the poll gives the writer its prepared articles as ONE job (one
//! channel send, one wake-up of the writer, one reply), not one per page; ready articles wait
//! at most 250 ms for the next page of the poll, then go as a chunk of their own, so a slow
//! page never holds back the ones before it. The writer still decides each article on its
//! own and writes a batch in one all-or-nothing transaction (never half an article); an
//! article whose record the store refuses is retried alone. In cluster mode a chunk's
//! candidates are published back to back in feed order and their acknowledgements awaited
//! together. Page CPU work runs on the page threads, not on the runtime's workers or the
//! blocking pool (a `spawn_blocking` per page parked and woke pool threads: a futex storm).
//!
//! Cursor safety: a feed's new validators are saved only when every item of that response
//! is settled (stored, known, recorded as duplicate or permanently rejected); otherwise the
//! old validators stay, the next poll gets a full response, and the unsettled items are
//! tried again.
//!
//! Every way out of a poll is reported ([`Pipeline::poll`]): a poll that panics or outlives
//! `daemon.poll_timeout_secs` is recorded as a failed poll of its feed (error streak,
//! backoff), so the scheduler always gets its feed back. Store failures go to the ingest
//! [`gate`], which pauses ingest instead of letting every item log the same error.
//! [`liveness`] records what the writer, page workers and page threads are holding, for the
//! health check.

mod cpu;
pub mod gate;
pub mod liveness;
pub mod order;
mod page;
mod poll;
pub(crate) mod writer;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use url::Url;

use crate::cluster::{Candidate, PageCandidate};
use crate::config::Config;
use crate::dedup::{Engine, Fingerprint};
use crate::extract::{Extractor, SiteMemory};
use crate::fetch::Fetcher;
use crate::metrics::{ErrorKind, ExtractFailure, Metrics};
use crate::model::{CleanArticle, FeedItem};
use crate::schedule::FeedState;
use crate::store::Store;

pub use gate::Gate;
pub use liveness::Liveness;

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
    /// Permanently failed (not HTML, no article text, 404 …): recorded, not retried; with
    /// the extraction failure when extraction was the reason.
    Rejected(String, Option<ExtractFailure>),
    /// Transiently failed (timeout, 5xx, store unavailable …): retried on a later poll.
    Failed(String),
    /// Cluster mode: in the candidates stream; the committer decides (settled for the feed).
    Queued,
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
    /// Cluster mode: handed to the committer through the candidates stream.
    #[serde(skip_serializing_if = "is_zero")]
    pub queued: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
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
        self.queued += o.queued;
    }

    fn count(&mut self, o: &ItemOutcome) {
        self.items += 1;
        match o {
            ItemOutcome::Stored(_) => self.stored += 1,
            ItemOutcome::Duplicate { .. } => self.duplicates += 1,
            ItemOutcome::Known => self.known += 1,
            ItemOutcome::Rejected(..) => self.rejected += 1,
            ItemOutcome::Failed(_) => self.failed += 1,
            ItemOutcome::Queued => self.queued += 1,
        }
    }
}

/// How a poll ended, for the scheduler: the counts and when the feed is due again.
#[derive(Debug, Clone, PartialEq)]
pub struct PollDone {
    pub report: Report,
    /// Next poll (wall time, as persisted); `None` when the feed is disabled (410 Gone).
    pub next: Option<DateTime<Utc>>,
    /// How the feed itself failed (fetch error kind, parse, panic, timeout), if it did; a
    /// store problem is not the feed's failure.
    pub failure: Option<ErrorKind>,
}

/// The cluster's shared state as a worker sees it (cluster mode, DESIGN §10): feed state,
/// known URLs and the hand-off to the committer live in NATS, not in the local store. An
/// error is the cluster being unreachable: the item or poll is retried later.
pub trait Shared: Send + Sync {
    fn feed_state<'a>(&'a self, feed: &'a str) -> BoxFuture<'a, Result<Option<FeedState>, String>>;
    fn save_feed_state<'a>(
        &'a self,
        feed: &'a str,
        state: &'a FeedState,
    ) -> BoxFuture<'a, Result<(), String>>;
    /// Whether the cluster already stored, recorded or rejected `url`.
    fn known<'a>(&'a self, url: &'a str) -> BoxFuture<'a, Result<bool, String>>;
    /// Hands a candidate to the committer; Ok once it is durably in the candidates stream.
    fn publish(&self, candidate: Candidate) -> BoxFuture<'_, Result<(), String>>;
    /// Hands a poll's chunk of candidates to the committer, in order (they land in the
    /// stream in that order); one result per candidate, as [`Shared::publish`]'s.
    fn publish_all(&self, candidates: Vec<Candidate>) -> BoxFuture<'_, Vec<Result<(), String>>>;
}

pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

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

/// A chunk of one poll's articles, in feed order, for the writer; one verdict per article
/// comes back, in the same order, as ONE reply.
struct WriteJob {
    pages: Vec<Prepared>,
    reply: oneshot::Sender<Vec<ItemOutcome>>,
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
    gate: Arc<Gate>,
    /// Cluster mode: where feed state, known URLs and candidates go instead of `store`.
    shared: Option<Arc<dyn Shared>>,
    hooks: Hooks,
    pages: mpsc::Sender<PageJob>,
    writes: mpsc::Sender<WriteJob>,
    /// The page threads (feed parses; the page workers hold their own handle).
    cpu: cpu::Cpu,
}

/// Handles to the pipeline's background work, to be awaited (or aborted) at shutdown.
pub struct Workers {
    pub page_workers: JoinSet<()>,
    pub writer: tokio::task::JoinHandle<()>,
}

/// What the pipeline's stages share.
pub struct Parts {
    pub cfg: Arc<Config>,
    pub store: Arc<Store>,
    pub fetcher: Fetcher,
    pub extractor: Arc<Extractor>,
    pub engine: Arc<Engine>,
    pub metrics: Arc<Metrics>,
    pub gate: Arc<Gate>,
    pub liveness: Arc<Liveness>,
    /// What each host repeats on its pages (site chrome), learned as pages are extracted.
    pub site_memory: Arc<SiteMemory>,
    /// Cluster mode (None = single node).
    pub shared: Option<Arc<dyn Shared>>,
}

/// Fault-injection seams for tests: code run at the start of every poll and before every
/// write, to make them panic or stall on purpose. Empty in the daemon.
#[derive(Clone, Default)]
pub struct Hooks {
    /// Called with the feed URL at the start of every poll.
    pub before_poll: Option<PollHook>,
    /// Called on the writer thread before every write.
    pub before_write: Option<WriteHook>,
}

pub type PollHook = Arc<dyn Fn(&str) + Send + Sync>;
pub type WriteHook = Arc<dyn Fn() + Send + Sync>;

/// How many page threads to run: one per core the process may use. Size the [`Liveness`]
/// with it; the pipeline starts one page thread per slot there.
pub fn page_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl Pipeline {
    /// Starts the page workers, the page threads and the writer thread; fails only when the
    /// system refuses a thread.
    pub fn start(parts: Parts) -> std::io::Result<(Pipeline, Workers)> {
        Self::start_with(parts, Hooks::default())
    }

    /// [`Pipeline::start`] with test hooks.
    pub fn start_with(parts: Parts, hooks: Hooks) -> std::io::Result<(Pipeline, Workers)> {
        let cfg = &parts.cfg;
        let (pages_tx, pages_rx) = mpsc::channel::<PageJob>(cfg.daemon.queue_capacity);
        let (writes_tx, writes_rx) = mpsc::channel::<WriteJob>(cfg.daemon.queue_capacity);
        let cpu = cpu::Cpu::start(cfg.daemon.queue_capacity, parts.liveness.clone())?;
        let page_workers = page::spawn_workers(&parts, pages_rx, cpu.clone());
        let writer = writer::spawn(
            writes_rx,
            writer::Writer {
                store: parts.store.clone(),
                engine: parts.engine.clone(),
                metrics: parts.metrics.clone(),
                gate: parts.gate.clone(),
                liveness: parts.liveness.clone(),
                hook: hooks.before_write.clone(),
            },
        );
        let pipeline = Pipeline {
            inner: Arc::new(Inner {
                cfg: parts.cfg,
                store: parts.store,
                fetcher: parts.fetcher,
                metrics: parts.metrics,
                gate: parts.gate,
                shared: parts.shared,
                hooks,
                pages: pages_tx,
                writes: writes_tx,
                cpu,
            }),
        };
        Ok((
            pipeline,
            Workers {
                page_workers,
                writer,
            },
        ))
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.inner.store
    }

    pub fn gate(&self) -> &Arc<Gate> {
        &self.inner.gate
    }

    /// Cluster mode's shared state, if this is a cluster worker.
    pub fn shared(&self) -> Option<&Arc<dyn Shared>> {
        self.inner.shared.as_ref()
    }

    /// Hands a chunk of one poll's prepared articles (in feed order) to the writer as ONE
    /// job, without waiting for the verdicts, which come (one per article, in order) on the
    /// returned receiver; the writer takes queued jobs as one batch (one transaction).
    /// Cluster mode: the chunk's candidates go to the candidates stream instead, sent back to
    /// back in feed order; each verdict (`Queued`, or `Failed`) is ready once the stream has
    /// acknowledged (or refused) its candidate.
    async fn submit(&self, pages: Vec<Prepared>) -> oneshot::Receiver<Vec<ItemOutcome>> {
        let (tx, rx) = oneshot::channel();
        if let Some(shared) = &self.inner.shared {
            let now = chrono::Utc::now().to_rfc3339();
            let candidates = pages
                .into_iter()
                .map(|p| {
                    let record = writer::record(&p, now.clone());
                    Candidate::Page(Box::new(PageCandidate {
                        feed: p.feed,
                        aliases: p.aliases,
                        record,
                        text: p.text,
                        fingerprint: p.fingerprint.to_bytes(),
                    }))
                })
                .collect();
            let outcomes = shared
                .publish_all(candidates)
                .await
                .into_iter()
                .map(|r| match r {
                    Ok(()) => ItemOutcome::Queued,
                    Err(e) => ItemOutcome::Failed(e),
                })
                .collect();
            let _ = tx.send(outcomes);
            return rx;
        }
        let job = WriteJob { pages, reply: tx };
        if let Err(mpsc::error::SendError(job)) = self.inner.writes.send(job).await {
            let failed = ItemOutcome::Failed("writer stopped".into());
            let _ = job.reply.send(vec![failed; job.pages.len()]);
        }
        rx
    }
}

#[cfg(test)]
mod tests;
