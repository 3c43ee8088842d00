//! Daemon: start, schedule, reload, stop.
//!
//! Owns the long-running loop of `newsd run` and the single pass of `newsd once`. Shutdown is
//! passed in as a [`CancellationToken`] and starts at the head of the pipeline: the scheduler
//! stops dispatching, in-flight feed polls get `daemon.drain_timeout_secs` to finish, whatever
//! is left is abandoned (its feed cursor was not advanced, so it is retried on the next
//! start), the workers stop, and the store is flushed.

mod admin;
pub mod control;
mod notify;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chrono::Utc;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};
use url::Url;

use crate::config::{Config, FeedSpec};
use crate::dedup::{DedupError, Engine};
use crate::extract::{ExtractError, Extractor};
use crate::fetch::{FetchError, Fetcher};
use crate::metrics::Metrics;
use crate::pipeline::{Pipeline, Report, Workers};
use crate::store::{Store, StoreError};

/// How often the feed-list files are checked for changes (SIGHUP reloads at once).
const LIST_CHECK_EVERY: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("extract config: {0}")]
    Extract(#[from] ExtractError),
    #[error("dedup config: {0}")]
    Dedup(#[from] DedupError),
    #[error(transparent)]
    Control(#[from] control::ControlError),
    #[error("admin endpoint (daemon.admin_listen = {addr}): {source}")]
    Admin {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
}

/// Everything a pass or the daemon needs, built once.
pub struct Services {
    pub cfg: Arc<Config>,
    pub store: Arc<Store>,
    pub pipeline: Pipeline,
    /// What every stage counts; served by the admin endpoint of `newsd run`.
    pub metrics: Arc<Metrics>,
    workers: Workers,
}

impl Services {
    pub fn start(cfg: Config) -> Result<Services, DaemonError> {
        let cfg = Arc::new(cfg);
        let store = Arc::new(Store::open(&cfg.store)?);
        let fetcher = Fetcher::new(&cfg.fetch)?;
        let extractor = Arc::new(Extractor::new(&cfg.extract)?);
        let engine = Arc::new(Engine::new(&cfg.dedup)?);
        let metrics = Arc::new(Metrics::new());
        let (pipeline, workers) = Pipeline::start(
            cfg.clone(),
            store.clone(),
            fetcher,
            extractor,
            engine,
            metrics.clone(),
        );
        Ok(Services {
            cfg,
            store,
            pipeline,
            metrics,
            workers,
        })
    }

    /// Stops the workers (after the pipeline handle is dropped) and flushes the store.
    pub async fn stop(self, deadline: Instant) -> Result<(), StoreError> {
        let Services {
            store,
            pipeline,
            mut workers,
            ..
        } = self;
        drop(pipeline);
        let drained = tokio::time::timeout_at(deadline, async {
            while workers.page_workers.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            warn!(
                event = "drain_timeout",
                "page workers still busy at the deadline: abandoned"
            );
            workers.page_workers.abort_all();
            while workers.page_workers.join_next().await.is_some() {}
        }
        // The writer finishes the job it holds (one short transaction) and exits once every
        // sender is gone.
        let _ = workers.writer.await;
        store.flush()
    }
}

/// `newsd once`: polls every feed once, in list order, and returns the counts.
///
/// Feeds are polled one after another so that ingest order — and so which copy of a story
/// is the original — is reproducible; pages within a feed are fetched concurrently.
pub async fn once(cfg: Config, shutdown: CancellationToken) -> Result<Report, DaemonError> {
    let (feeds, problems) = cfg.load_feeds();
    for p in &problems {
        warn!(event = "feed_list_error", error = %p);
    }
    let drain = Duration::from_secs(cfg.daemon.drain_timeout_secs);
    let services = Services::start(cfg)?;
    let mut report = Report::default();
    for spec in &feeds {
        if shutdown.is_cancelled() {
            break;
        }
        if let Some(state) = services.store.feed_state(spec.url.as_str())?
            && let Some(why) = state.disabled
        {
            info!(event = "feed_disabled", feed = %spec.url, reason = %why);
            continue;
        }
        tokio::select! {
            r = services.pipeline.poll_feed(spec) => report.add(&r),
            _ = shutdown.cancelled() => break,
        }
    }
    services.stop(Instant::now() + drain).await?;
    Ok(report)
}

/// `newsd run`: polls every feed on its schedule until `shutdown` is cancelled; `reload`
/// (SIGHUP) re-reads the feed lists.
pub async fn run(
    cfg: Config,
    shutdown: CancellationToken,
    reload: Arc<Notify>,
) -> Result<Report, DaemonError> {
    let drain = Duration::from_secs(cfg.daemon.drain_timeout_secs);
    let max_polls = cfg.daemon.max_concurrent_feeds;
    let services = Services::start(cfg.clone())?;
    // The scheduler wakes at least every list check (or watchdog period): three missed
    // turns in a row mean it is stuck.
    let health = Arc::new(admin::Health::new(3 * LIST_CHECK_EVERY));
    // Not a child of `shutdown`: during the drain `/readyz` must still answer (503). The
    // guard stops the endpoint on every way out of this function.
    let admin_stop = CancellationToken::new();
    let _admin_guard = admin_stop.clone().drop_guard();
    // Validated with the config, so only binding can fail here.
    if let Ok(Some(addr)) = cfg.daemon.admin_addr() {
        let listener = admin::bind(addr)
            .await
            .map_err(|source| DaemonError::Admin { addr, source })?;
        tokio::spawn(admin::serve(
            listener,
            services.metrics.clone(),
            health.clone(),
            admin_stop.clone(),
        ));
    }
    // `newsd export` while the daemon runs; dropped (socket removed) on every way out.
    let _control = control::start(&cfg.store.data_dir, services.store.clone(), &admin_stop).await?;
    let mut lists = ListWatch::new(&cfg);
    let mut feeds = lists.load(&cfg);
    services.metrics.set_feeds(feeds.len());
    let mut due = due_times(&services.store, &feeds)?;
    let watchdog = notify::watchdog_interval();
    let mut in_flight: HashSet<Url> = HashSet::new();
    let mut polls: JoinSet<(Url, Report)> = JoinSet::new();
    let mut total = Report::default();
    info!(event = "started", feeds = feeds.len(), data_dir = %cfg.store.data_dir.display());
    notify::ready(feeds.len());
    health.set_ready(true);
    let mut next_list_check = Instant::now() + LIST_CHECK_EVERY;

    loop {
        // Dispatch every due feed, up to the concurrency cap.
        let now = Utc::now();
        for spec in &feeds {
            if polls.len() >= max_polls {
                break;
            }
            let is_due = due
                .get(&spec.url)
                .is_some_and(|t| t.is_none_or(|t| t <= now));
            if is_due && !in_flight.contains(&spec.url) {
                in_flight.insert(spec.url.clone());
                let pipeline = services.pipeline.clone();
                let spec = spec.clone();
                polls.spawn(async move {
                    let r = pipeline.poll_feed(&spec).await;
                    (spec.url, r)
                });
            }
        }
        let next_due = due
            .iter()
            .filter(|(url, _)| !in_flight.contains(*url))
            .filter_map(|(_, t)| *t)
            .min()
            .map(|t| {
                let wait = (t - Utc::now()).to_std().unwrap_or(Duration::ZERO);
                Instant::now() + wait
            });
        let mut wake = next_list_check;
        if let Some(t) = next_due {
            wake = wake.min(t);
        }
        if let Some(w) = watchdog {
            wake = wake.min(Instant::now() + w);
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            Some(joined) = polls.join_next(), if !polls.is_empty() => {
                match joined {
                    Ok((url, report)) => {
                        in_flight.remove(&url);
                        total.add(&report);
                        match next_poll(&services.store, &url)? {
                            Some(t) => due.insert(url, t),
                            None => due.remove(&url),
                        };
                        notify::status(&total);
                    }
                    Err(e) => error!(event = "poll_crashed", error = %e),
                }
            }
            _ = reload.notified() => {
                info!(event = "reload", reason = "SIGHUP");
                feeds = lists.load(&cfg);
                services.metrics.set_feeds(feeds.len());
                due = due_times(&services.store, &feeds)?;
            }
            _ = tokio::time::sleep_until(wake) => {
                if Instant::now() >= next_list_check {
                    next_list_check = Instant::now() + LIST_CHECK_EVERY;
                    if lists.changed() {
                        info!(event = "reload", reason = "feed list changed");
                        feeds = lists.load(&cfg);
                        services.metrics.set_feeds(feeds.len());
                        due = due_times(&services.store, &feeds)?;
                    }
                }
            }
        }
        notify::watchdog();
        health.tick();
    }

    info!(event = "stopping", in_flight = polls.len());
    health.set_ready(false);
    notify::stopping();
    let deadline = Instant::now() + drain;
    let drained = tokio::time::timeout_at(deadline, async {
        while let Some(joined) = polls.join_next().await {
            if let Ok((_, report)) = joined {
                total.add(&report);
            }
        }
    })
    .await;
    if drained.is_err() {
        warn!(
            event = "drain_timeout",
            abandoned = polls.len(),
            "feed polls abandoned; they are retried on the next start"
        );
        polls.abort_all();
        while polls.join_next().await.is_some() {}
    }
    services.stop(deadline).await?;
    info!(
        event = "stopped",
        stored = total.stored,
        duplicates = total.duplicates
    );
    Ok(total)
}

/// When each listed, enabled feed is due (None = now).
fn due_times(
    store: &Store,
    feeds: &[FeedSpec],
) -> Result<HashMap<Url, Option<chrono::DateTime<Utc>>>, StoreError> {
    let mut due = HashMap::new();
    for f in feeds {
        if let Some(t) = next_poll(store, &f.url)? {
            due.insert(f.url.clone(), t);
        }
    }
    Ok(due)
}

/// A feed's next poll: None when it is disabled, Some(None) when it is due now.
#[allow(clippy::option_option)]
fn next_poll(
    store: &Store,
    url: &Url,
) -> Result<Option<Option<chrono::DateTime<Utc>>>, StoreError> {
    Ok(match store.feed_state(url.as_str())? {
        Some(s) if s.disabled.is_some() => None,
        Some(s) => Some(s.next_poll),
        None => Some(None),
    })
}

/// Remembers the feed-list files' modification times to notice edits without inotify.
struct ListWatch {
    files: Vec<PathBuf>,
    stamps: Vec<Option<SystemTime>>,
}

impl ListWatch {
    fn new(cfg: &Config) -> ListWatch {
        let files = cfg.feed_files.clone();
        let stamps = files.iter().map(|f| mtime(f)).collect();
        ListWatch { files, stamps }
    }

    fn changed(&mut self) -> bool {
        let now: Vec<_> = self.files.iter().map(|f| mtime(f)).collect();
        let changed = now != self.stamps;
        self.stamps = now;
        changed
    }

    fn load(&mut self, cfg: &Config) -> Vec<FeedSpec> {
        self.changed();
        let (feeds, problems) = cfg.load_feeds();
        for p in &problems {
            warn!(event = "feed_list_error", error = %p);
        }
        info!(
            event = "feeds_loaded",
            feeds = feeds.len(),
            problems = problems.len()
        );
        feeds
    }
}

fn mtime(path: &std::path::Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Cancels `shutdown` on SIGTERM/SIGINT and wakes `reload` on SIGHUP.
pub fn spawn_signal_handlers(
    shutdown: CancellationToken,
    reload: Arc<Notify>,
) -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    tokio::spawn(async move {
        loop {
            tokio::select! {
                // Cancel first: nothing that can go wrong while logging may delay the stop.
                _ = term.recv() => { shutdown.cancel(); info!(event = "signal", signal = "SIGTERM"); }
                _ = int.recv() => { shutdown.cancel(); info!(event = "signal", signal = "SIGINT"); }
                _ = hup.recv() => reload.notify_one(),
            }
        }
    });
    Ok(())
}
