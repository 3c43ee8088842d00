//! Daemon: start, schedule, reload, stop.
//!
//! Owns the long-running loop of `newsd run` and the single pass of `newsd once`. Shutdown is
//! passed in as a [`CancellationToken`] and starts at the head of the pipeline: the scheduler
//! stops dispatching, in-flight feed polls get `daemon.drain_timeout_secs` to finish, whatever
//! is left is abandoned (its feed cursor was not advanced, so it is retried on the next
//! start), the workers stop, and the store is flushed.
//!
//! Pieces: [`scheduler`] (the due-time book, O(log n) per poll), `once` (the single pass:
//! polls side by side, committed in list order), [`health`] (what the probes
//! and the watchdog say, from evidence of progress), `supervise` below (the ingest gate's
//! recovery loop: free disk and store reopen), `admin` (the loopback HTTP endpoint),
//! `notify` (systemd).

mod admin;
pub mod control;
pub mod health;
mod lists;
mod notify;
mod once;
pub mod scheduler;

pub use once::once;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};
use url::Url;

use crate::cluster::{ClusterConfig, Nats, Node};
use crate::config::{Config, FeedSpec};
use crate::dedup::{DedupError, Engine};
use crate::events;
use crate::extract::{ExtractError, Extractor, SiteMemory};
use crate::fetch::{FetchError, Fetcher};
use crate::metrics::{ErrorKind, Metrics};
use crate::pipeline::{Gate, Hooks, Liveness, Parts, Pipeline, PollDone, Report, Shared, Workers};
use crate::store::{Store, StoreError};
use health::Health;
use lists::ListWatch;
use scheduler::{Due, Scheduler};

/// How often the feed-list files are checked for changes (SIGHUP reloads at once).
const LIST_CHECK_EVERY: Duration = Duration::from_secs(30);
/// How often free disk is checked while ingest runs.
const DISK_CHECK_EVERY: Duration = Duration::from_secs(10);
/// Backoff of the store reopen attempts while ingest is paused: from the first to the last.
const RECOVER_BACKOFF: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(60));
/// Longest gap between two `STATUS=` updates to systemd.
const STATUS_EVERY: Duration = Duration::from_secs(5);
/// How soon a feed whose poll task vanished (aborted) is tried again.
const LOST_POLL_RETRY: Duration = Duration::from_secs(60);

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
    #[error(
        "ingest stopped: {0} (the store is failing; see the log for the first error, free disk space, then restart)"
    )]
    StoreFailing(String),
    #[error(
        "the store became unusable while running: {0}. Restore it from an export (`newsd import`) or move the directory away"
    )]
    StoreDamaged(String),
    #[error("cluster: {0}")]
    Cluster(#[from] crate::cluster::ClusterError),
    #[error(
        "`newsd once` is single-node only: this config has a [cluster] section (run the workers with `newsd run`)"
    )]
    OnceInCluster,
    #[error("cannot start the pipeline's page threads: {0}")]
    Threads(#[source] std::io::Error),
}

/// Everything a pass or the daemon needs, built once.
pub struct Services {
    pub cfg: Arc<Config>,
    pub store: Arc<Store>,
    pub pipeline: Pipeline,
    /// What every stage counts; served by the admin endpoint of `newsd run`.
    pub metrics: Arc<Metrics>,
    /// Pauses ingest while the store cannot write.
    pub gate: Arc<Gate>,
    /// What the writer and page workers are holding, for the health check.
    pub liveness: Arc<Liveness>,
    /// The extractor's site memory, saved to the store periodically and at stop.
    pub site_memory: Arc<SiteMemory>,
    /// Cluster mode: leases, committer and replica follower (None on a single node).
    pub cluster: Option<Node>,
    workers: Workers,
}

impl Services {
    pub fn start(cfg: Config) -> Result<Services, DaemonError> {
        Self::start_with(cfg, Hooks::default())
    }

    /// [`Services::start`] with the pipeline's test hooks.
    pub fn start_with(cfg: Config, hooks: Hooks) -> Result<Services, DaemonError> {
        Self::build(cfg, hooks, None)
    }

    /// A cluster worker's services: the local store is its replica; feed state, known URLs
    /// and candidates go through `nats`. Must run inside the runtime (it starts the lease
    /// loop and the replica follower).
    pub fn start_worker(cfg: Config, hooks: Hooks, nats: Nats) -> Result<Services, DaemonError> {
        Self::build(cfg, hooks, Some(nats))
    }

    fn build(cfg: Config, hooks: Hooks, nats: Option<Nats>) -> Result<Services, DaemonError> {
        let cfg = Arc::new(cfg);
        let store = Arc::new(Store::open(&cfg.store)?);
        let metrics = Arc::new(Metrics::new());
        let gate = Arc::new(Gate::new(
            store.clone(),
            metrics.clone(),
            cfg.store.min_free_bytes,
        ));
        let liveness = Arc::new(Liveness::new(
            cfg.daemon.page_workers,
            crate::pipeline::page_threads(),
        ));
        // A memory that cannot be read is a loss of learning, not of data: start afresh.
        let site_memory = Arc::new(store.load_site_memory().unwrap_or_else(|e| {
            warn!(event = "site_memory_unreadable", error = %e, "site memory starts empty");
            SiteMemory::new()
        }));
        let engine = Arc::new(Engine::new(&cfg.dedup)?);
        let fetcher = Fetcher::new(&cfg.fetch)?;
        let (shared, cluster) = match nats {
            Some(nats) => {
                let link: Arc<dyn Shared> = Arc::new(crate::cluster::worker::Link::new(
                    nats.clone(),
                    store.clone(),
                    metrics.clone(),
                ));
                let node = Node::start(nats, store.clone(), engine.clone(), metrics.clone());
                (Some(link), Some(node))
            }
            None => (None, None),
        };
        let (pipeline, workers) = Pipeline::start_with(
            Parts {
                cfg: cfg.clone(),
                store: store.clone(),
                fetcher,
                extractor: Arc::new(Extractor::new(&cfg.extract)?),
                engine,
                metrics: metrics.clone(),
                gate: gate.clone(),
                liveness: liveness.clone(),
                site_memory: site_memory.clone(),
                shared,
            },
            hooks,
        )
        .map_err(DaemonError::Threads)?;
        Ok(Services {
            cfg,
            store,
            pipeline,
            metrics,
            gate,
            liveness,
            site_memory,
            cluster,
            workers,
        })
    }

    /// Stops the workers (after the pipeline handle is dropped) and flushes the store.
    pub async fn stop(self, deadline: Instant) -> Result<(), StoreError> {
        let Services {
            store,
            pipeline,
            mut workers,
            gate,
            site_memory,
            cluster,
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
        if let Some(node) = cluster {
            node.stop().await;
        }
        save_site_memory(&store, &gate, &site_memory);
        if !store.is_open() {
            // Closed after a failure: what it had written was flushed or is lost with the
            // failure; the reopen that would flush it is the next start's.
            info!(event = "store_closed", cause = ?gate.cause().map(|c| c.to_string()));
            return Ok(());
        }
        store.flush()
    }
}

/// `newsd run`: polls every feed on its schedule until `shutdown` is cancelled; `reload`
/// (SIGHUP) re-reads the feed lists.
pub async fn run(
    cfg: Config,
    shutdown: CancellationToken,
    reload: Arc<Notify>,
) -> Result<Report, DaemonError> {
    run_with(cfg, shutdown, reload, Hooks::default()).await
}

/// [`run`] with the pipeline's test hooks.
pub async fn run_with(
    cfg: Config,
    shutdown: CancellationToken,
    reload: Arc<Notify>,
    hooks: Hooks,
) -> Result<Report, DaemonError> {
    let drain = Duration::from_secs(cfg.daemon.drain_timeout_secs);
    let services = match &cfg.cluster {
        None => Services::start_with(cfg.clone(), hooks)?,
        Some(c) => {
            let Some(nats) = connect_cluster(c, &shutdown).await else {
                return Ok(Report::default());
            };
            Services::start_worker(cfg.clone(), hooks, nats)?
        }
    };
    let d = &cfg.daemon;
    let work_stall =
        Duration::from_secs(d.poll_timeout_secs + d.drain_timeout_secs + d.stall_timeout_secs);
    // The scheduler wakes at least every list check (or watchdog period): three missed
    // turns in a row mean it is stuck.
    let mut health = Health::new(3 * LIST_CHECK_EVERY).watching(
        services.liveness.clone(),
        services.gate.clone(),
        Duration::from_secs(d.stall_timeout_secs),
        work_stall,
    );
    if let Some(node) = &services.cluster {
        let (nats, roles) = (node.nats.clone(), node.roles.clone());
        health = health.with_cluster(move || Node::problem_of(&nats, &roles));
    }
    let health = Arc::new(health);
    // Not children of `shutdown`: during the drain `/readyz` must still answer (503). The
    // guard stops the endpoint and the supervisor on every way out of this function.
    let background = CancellationToken::new();
    let _guard = background.clone().drop_guard();
    // Validated with the config, so only binding can fail here.
    if let Ok(Some(addr)) = cfg.daemon.admin_addr() {
        let listener = admin::bind(addr)
            .await
            .map_err(|source| DaemonError::Admin { addr, source })?;
        tokio::spawn(admin::serve(
            listener,
            services.metrics.clone(),
            health.clone(),
            background.clone(),
        ));
    }
    // `newsd export` while the daemon runs; dropped (socket removed) on every way out.
    let _control = control::start(&cfg.store.data_dir, services.store.clone(), &background).await?;
    // The first check (free disk) before the first dispatch: a disk below the watermark
    // must not see a single poll.
    let gate = services.gate.clone();
    let _ = tokio::task::spawn_blocking(move || gate.recover()).await;
    // Cancelled by the supervisor when the store turns out damaged: the loop then takes the
    // normal shutdown path (drain, STOPPING, flush) and the daemon exits non-zero.
    let fatal = CancellationToken::new();
    tokio::spawn(supervise(
        services.gate.clone(),
        background.clone(),
        fatal.clone(),
    ));

    let mut sched = Schedule::new(&cfg, &services, health.clone());
    info!(event = "started", feeds = sched.book.len(), data_dir = %cfg.store.data_dir.display());
    let delivered = notify::ready(sched.book.len());
    sched.notified("READY", delivered);
    health.set_ready(true);
    sched.run(&shutdown, &fatal, &reload).await;

    info!(event = "stopping", in_flight = sched.polls.len());
    health.set_ready(false);
    let delivered = notify::stopping();
    sched.notified("STOPPING", delivered);
    let deadline = Instant::now() + drain;
    sched.drain(deadline).await;
    let total = sched.total.clone();
    drop(sched);
    let services_fatal = services.gate.fatal();
    services.stop(deadline).await?;
    info!(
        event = "stopped",
        stored = total.stored,
        duplicates = total.duplicates
    );
    match services_fatal {
        Some(why) => Err(DaemonError::StoreDamaged(why)),
        None => Ok(total),
    }
}

/// Connects to the cluster's NATS, retrying with backoff (and one warning a minute) until
/// it answers; None when shutdown comes first.
async fn connect_cluster(c: &ClusterConfig, shutdown: &CancellationToken) -> Option<Nats> {
    let mut backoff = Duration::from_millis(500);
    let errors = crate::pipeline::gate::ErrorLog::new(Duration::from_secs(60));
    loop {
        match Nats::connect(c).await {
            Ok(n) => return Some(n),
            Err(e) => {
                if let Some(suppressed) = errors.admit("connect") {
                    warn!(event = "cluster_unreachable", error = %e, suppressed, "retrying with backoff");
                }
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return None,
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(Duration::from_secs(30));
    }
}

/// The ingest gate's recovery loop: checks free disk every [`DISK_CHECK_EVERY`] while ingest
/// runs, and while it is paused retries the store with exponential backoff until writes
/// succeed again (see [`Gate::recover`]).
async fn supervise(gate: Arc<Gate>, stop: CancellationToken, fatal: CancellationToken) {
    let mut backoff = RECOVER_BACKOFF.0;
    loop {
        let g = gate.clone();
        let running = tokio::task::spawn_blocking(move || g.recover())
            .await
            .unwrap_or(false);
        if gate.fatal().is_some() {
            fatal.cancel();
            return;
        }
        let wait = if running {
            backoff = RECOVER_BACKOFF.0;
            DISK_CHECK_EVERY
        } else {
            let w = backoff;
            backoff = (backoff * 2).min(RECOVER_BACKOFF.1);
            w
        };
        // Paused by a failure inside the pipeline: start recovering at the short step.
        let woke = tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(wait) => false,
            _ = gate.paused(), if running => true,
        };
        if woke {
            backoff = RECOVER_BACKOFF.0;
            tokio::time::sleep(backoff).await;
        }
    }
}

/// Why the scheduler cannot start a poll now.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Blocked {
    /// Ingest paused (store failing, disk low) or, in cluster mode, NATS or the leases
    /// failing: rechecked every second.
    Paused,
    /// Every poll slot (`daemon.max_concurrent_feeds`) taken: a poll's end frees one.
    Full,
}

/// The scheduler loop of `newsd run` and its state.
struct Schedule<'a> {
    cfg: &'a Config,
    services: &'a Services,
    health: Arc<Health>,
    book: Scheduler,
    polls: JoinSet<(Url, PollDone)>,
    /// Which feed each poll task is for, so a task that dies without returning still
    /// releases its feed.
    tasks: HashMap<tokio::task::Id, Url>,
    total: Report,
    lists: ListWatch,
    /// Articles stored since the last UTC midnight (for `STATUS=`).
    stored_today: (chrono::NaiveDate, usize),
    next_status: Instant,
    /// Ingest was paused at the last turn (a resume re-reads every feed's due time).
    was_paused: bool,
    /// The health check failed at the last turn (its warning is logged once per episode).
    unhealthy: bool,
    /// Half systemd's watchdog timeout (None: no watchdog): the loop wakes at least this
    /// often, and pings are sent at most twice per interval, not on every turn.
    watchdog: Option<Duration>,
    next_ping: Instant,
    /// The last notification was not taken (its warning is logged once per episode).
    notify_failing: bool,
    /// Cluster mode: the partitions this worker holds (its feed set follows them).
    owned: Option<tokio::sync::watch::Receiver<std::collections::BTreeSet<u32>>>,
}

impl<'a> Schedule<'a> {
    fn new(cfg: &'a Config, services: &'a Services, health: Arc<Health>) -> Schedule<'a> {
        let mut lists = ListWatch::new(cfg);
        let feeds = lists.load(cfg);
        services.metrics.set_feeds(feeds.len());
        let owned = services.cluster.as_ref().map(|n| n.roles.subscribe());
        let mut s = Schedule {
            cfg,
            services,
            health,
            book: Scheduler::new(),
            polls: JoinSet::new(),
            tasks: HashMap::new(),
            total: Report::default(),
            lists,
            stored_today: (Utc::now().date_naive(), 0),
            next_status: Instant::now(),
            was_paused: false,
            unhealthy: false,
            watchdog: notify::watchdog_interval(),
            next_ping: Instant::now(),
            notify_failing: false,
            owned,
        };
        s.set_feeds(feeds);
        s
    }

    fn set_feeds(&mut self, mut feeds: Vec<FeedSpec>) {
        // Cluster mode: only the feeds of the partitions this worker holds (a feed's poll
        // reads its saved state from the cluster, so a newly held feed is "due" at once and
        // the poll finds out whether it really is).
        if let (Some(owned), Some(node)) = (&self.owned, &self.services.cluster) {
            let owned = owned.borrow();
            let n = node.roles.partitions;
            feeds.retain(|f| owned.contains(&crate::cluster::partition_of(&f.url, n)));
        }
        let (store, gate) = (&self.services.store, &self.services.gate);
        self.book
            .set_feeds(feeds, |spec| due_from_store(store, gate, &spec.url));
    }

    /// Runs until shutdown.
    async fn run(
        &mut self,
        shutdown: &CancellationToken,
        fatal: &CancellationToken,
        reload: &Notify,
    ) {
        let watchdog = self.watchdog;
        let mut next_list_check = Instant::now() + LIST_CHECK_EVERY;
        loop {
            self.services.metrics.scheduler_woke();
            self.after_pause();
            self.dispatch();
            let mut wake = next_list_check.min(self.next_status);
            // The next due feed is a reason to wake only when it could be dispatched then.
            // With every poll slot taken, a due feed would wake the loop at once, again and
            // again (a spin that burned a core through every backlog): a poll's end wakes it
            // instead. While paused, the one-second recheck below does.
            let blocked = self.dispatch_blocked();
            if let Some(t) = self.book.next_due()
                && blocked.is_none()
            {
                wake = wake.min(t);
            }
            if let Some(w) = watchdog {
                wake = wake.min(Instant::now() + w);
            }
            if blocked == Some(Blocked::Paused) {
                wake = wake.min(Instant::now() + Duration::from_secs(1));
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = fatal.cancelled() => break,
                Some(joined) = self.polls.join_next_with_id(), if !self.polls.is_empty() => {
                    self.completed(joined);
                }
                _ = reload.notified() => {
                    info!(event = "reload", reason = "SIGHUP");
                    self.reload();
                }
                Ok(()) = owned_changed(&mut self.owned) => {
                    self.reload();
                }
                _ = tokio::time::sleep_until(wake) => {
                    if Instant::now() >= next_list_check {
                        next_list_check = Instant::now() + LIST_CHECK_EVERY;
                        self.save_site_memory().await;
                        if self.lists.changed() {
                            info!(event = "reload", reason = "feed list changed");
                            self.reload();
                        }
                    }
                }
            }
            self.report_liveness();
        }
    }

    /// Saves what the site memory learned since the last save (every list check, ~30 s).
    async fn save_site_memory(&self) {
        if self.services.gate.is_paused() {
            return;
        }
        let (store, gate, memory) = (
            self.services.store.clone(),
            self.services.gate.clone(),
            self.services.site_memory.clone(),
        );
        let _ = tokio::task::spawn_blocking(move || save_site_memory(&store, &gate, &memory)).await;
    }

    /// Cluster mode: NATS unreachable or leases not renewed (polls would only fail to save
    /// their state, or poll hosts another worker may have taken).
    fn cluster_paused(&self) -> bool {
        self.services
            .cluster
            .as_ref()
            .is_some_and(|n| n.problem().is_some())
    }

    fn reload(&mut self) {
        let feeds = self.lists.load(self.cfg);
        self.services.metrics.set_feeds(feeds.len());
        self.set_feeds(feeds);
    }

    /// After a pause ends, the store may hold older feed states than this book assumed
    /// (sled loses what it had not flushed when it failed): re-read them.
    fn after_pause(&mut self) {
        let paused = self.services.gate.is_paused();
        if self.was_paused && !paused {
            let (store, gate) = (&self.services.store, &self.services.gate);
            self.book
                .reschedule_all(|spec| due_from_store(store, gate, &spec.url));
        }
        self.was_paused = paused;
    }

    /// Why no poll can start now, if none can.
    fn dispatch_blocked(&self) -> Option<Blocked> {
        if self.services.gate.is_paused() || self.cluster_paused() {
            Some(Blocked::Paused)
        } else if self.polls.len() >= self.cfg.daemon.max_concurrent_feeds {
            Some(Blocked::Full)
        } else {
            None
        }
    }

    /// Starts every due feed, up to the concurrency cap; none while ingest is paused.
    fn dispatch(&mut self) {
        let now = Instant::now();
        while self.dispatch_blocked().is_none() {
            let Some(spec) = self.book.pop_due(now) else {
                break;
            };
            if let Some(node) = &self.services.cluster {
                // Counted until the poll ends: the partition is not released while busy.
                let p = crate::cluster::partition_of(&spec.url, node.roles.partitions);
                node.roles.poll_started(p);
            }
            let pipeline = self.services.pipeline.clone();
            let url = spec.url.clone();
            let handle = self.polls.spawn(async move {
                let done = pipeline.poll(&spec).await;
                (spec.url, done)
            });
            self.tasks.insert(handle.id(), url);
        }
    }

    fn completed(
        &mut self,
        joined: Result<(tokio::task::Id, (Url, PollDone)), tokio::task::JoinError>,
    ) {
        let url = match &joined {
            Ok((_, (url, _))) => Some(url.clone()),
            Err(e) => self.tasks.get(&e.id()).cloned(),
        };
        if let (Some(url), Some(node)) = (url, &self.services.cluster) {
            node.roles
                .poll_ended(crate::cluster::partition_of(&url, node.roles.partitions));
        }
        match joined {
            Ok((id, (url, done))) => {
                self.tasks.remove(&id);
                self.total.add(&done.report);
                let today = Utc::now().date_naive();
                if self.stored_today.0 != today {
                    self.stored_today = (today, 0);
                }
                self.stored_today.1 += done.report.stored;
                self.book.complete(&url, due_at(done.next), done.failure);
                self.services
                    .metrics
                    .set_failing_feeds(self.book.failing_by_kind());
            }
            Err(e) => {
                // `Pipeline::poll` contains panics, so only an abort gets here; the feed is
                // released all the same.
                events::poll_lost(&self.services.metrics, &e.to_string());
                if let Some(url) = self.tasks.remove(&e.id()) {
                    let retry = Due::At(Instant::now() + LOST_POLL_RETRY);
                    self.book.complete(&url, retry, Some(ErrorKind::Panic));
                }
            }
        }
    }

    /// Publishes the evidence of progress; feeds the watchdog only when healthy.
    fn report_liveness(&mut self) {
        let now = Instant::now();
        let oldest = self.book.in_flight().min().map(|t| now.duration_since(t));
        self.health.tick_with(oldest);
        let problem = self.health.problem();
        // Logged when health changes, not on every turn while it stays bad.
        match (&problem, self.unhealthy) {
            (None, false) => self.ping(now),
            (None, true) => {
                self.unhealthy = false;
                info!(
                    event = "healthy_again",
                    "progress resumed; watchdog fed again"
                );
                self.next_ping = now;
                self.ping(now);
            }
            (Some(why), false) => {
                self.unhealthy = true;
                warn!(event = "unhealthy", error = %why, "watchdog not fed");
            }
            (Some(_), true) => {}
        }
        if now >= self.next_status {
            self.next_status = now + STATUS_EVERY;
            let delivered = notify::status(&notify::Status {
                feeds: self.book.len(),
                due: self.book.due_count(now),
                in_flight: self.polls.len(),
                failing_hosts: self.book.failing_hosts(),
                stored_today: self.stored_today.1,
                paused: self
                    .services
                    .gate
                    .cause()
                    .map(|c| c.to_string())
                    .or_else(|| self.services.cluster.as_ref()?.problem()),
                unhealthy: problem,
                cluster: self.services.cluster.as_ref().map(Node::summary),
            });
            self.notified("STATUS", delivered);
        }
    }

    /// Feeds systemd's watchdog, if it has one, at most twice per [`Schedule::watchdog`].
    fn ping(&mut self, now: Instant) {
        let Some(every) = self.watchdog else { return };
        if now >= self.next_ping {
            self.next_ping = now + every / 2;
            let delivered = notify::watchdog();
            self.notified("WATCHDOG", delivered);
        }
    }

    /// Counts a notification systemd did not take; warns once per run of them.
    fn notified(&mut self, what: &str, delivered: bool) {
        if !delivered {
            events::notify_dropped(&self.services.metrics, what, !self.notify_failing);
        }
        self.notify_failing = !delivered;
    }

    /// Waits for in-flight polls until `deadline`, then abandons the rest.
    async fn drain(&mut self, deadline: Instant) {
        let drained = tokio::time::timeout_at(deadline, async {
            while let Some(joined) = self.polls.join_next().await {
                if let Ok((_, done)) = joined {
                    self.total.add(&done.report);
                }
            }
        })
        .await;
        if drained.is_err() {
            warn!(
                event = "drain_timeout",
                abandoned = self.polls.len(),
                "feed polls abandoned; they are retried on the next start"
            );
            self.polls.abort_all();
            while self.polls.join_next().await.is_some() {}
        }
    }
}

/// Resolves when the held partitions change (never on a single node).
async fn owned_changed(
    owned: &mut Option<tokio::sync::watch::Receiver<std::collections::BTreeSet<u32>>>,
) -> Result<(), tokio::sync::watch::error::RecvError> {
    match owned {
        Some(rx) => rx.changed().await,
        None => std::future::pending().await,
    }
}

/// Writes the hosts whose site memory changed (blocking; small records, dirty hosts only).
fn save_site_memory(store: &Store, gate: &Gate, memory: &SiteMemory) {
    if let Err(e) = store.save_site_memory(memory) {
        gate.store_failed(&e, "save site memory");
    }
}

/// A feed's due time from its persisted state: now for a new feed, never when disabled.
/// A store failure tells the gate (which pauses ingest) and makes the feed due now, to be
/// polled once ingest resumes.
fn due_from_store(store: &Store, gate: &Gate, url: &Url) -> Due {
    match store.feed_state(url.as_str()) {
        Ok(Some(s)) if s.disabled.is_some() => Due::Never,
        Ok(Some(s)) => due_at(s.next_poll.or(Some(Utc::now()))),
        Ok(None) => Due::At(Instant::now()),
        Err(e) => {
            gate.store_failed(&e, "read feed state");
            Due::At(Instant::now())
        }
    }
}

/// Wall-clock next poll → scheduler instant (`None` = disabled).
fn due_at(next: Option<chrono::DateTime<Utc>>) -> Due {
    match next {
        None => Due::Never,
        Some(t) => {
            let wait = (t - Utc::now()).to_std().unwrap_or(Duration::ZERO);
            Due::At(Instant::now() + wait)
        }
    }
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
