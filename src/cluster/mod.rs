//! Cluster mode (DESIGN §10): several `newsd run` workers share one store of record in NATS
//! JetStream. Off unless the config has a `[cluster]` section; single-node newsd never
//! touches this module.
//!
//! ```text
//!  every worker                                             one committer (lease)
//!  ┌────────────────────────────────────────┐               ┌───────────────────────────────┐
//!  │ lease.rs: member heartbeat, partitions │               │ committer.rs: candidates in    │
//!  │  (rendezvous over live members)        │               │  stream order → decide against │
//!  │ scheduler polls the feeds of its       │  candidates   │  the replica (the single-node  │
//!  │  partitions; feed state in KV feeds    │ ─────────────►│  writer's rule) → publish to   │
//!  │ page workers extract + fingerprint,    │  (msg id =    │  articles, fenced by expected- │
//!  │  publish (worker.rs)                   │  page+hash)   │  last-sequence → apply, KV urls│
//!  └────────────────────────────────────────┘               └───────────────────────────────┘
//!                 ▲ known URLs (replica, KV urls)                         │ articles stream
//!                 └──── replica.rs: every node applies the articles stream to its local sled
//!                       store (export, list, show, stats read it) ◄───────┘
//! ```
//!
//! | what | where | written by |
//! |---|---|---|
//! | members, partition owners, committer | KV `<name>_leases` (entries expire after `lease_secs`) | each worker / the committer |
//! | feed state (validators, next poll, backoff) | KV `<name>_feeds` | the partition's owner |
//! | known URLs → article name | KV `<name>_urls` | the committer |
//! | extracted, fingerprinted pages | stream `<name>_candidates` | workers |
//! | decisions (stored article, recorded copy, alias, reject), in seq order | stream `<name>_articles` | the committer, fenced |
//!
//! Invariants, and what keeps them:
//! - *One poller per host*: a feed's partition is the hash of its host; a partition is polled
//!   only by the holder of its lease, and a worker gives a partition up (deletes the lease)
//!   only after its in-flight polls of it have ended.
//! - *Ingest order = candidates order*: the committer reads the candidates stream in sequence
//!   order and decides each against the replica of every earlier decision.
//! - *No decision is lost or made twice*: every decision record carries the candidate's
//!   sequence; a decision is published with `expected-last-sequence` = the last record the
//!   committer applied, so a committer that is behind (a stale one, or one whose publish ack
//!   was lost) is refused, catches up, and resumes after the last decided candidate.
//! - *Dense seqs*: a stored article's seq is the number of stored articles before it in the
//!   articles stream; replicas allocate the same seq by applying the same records in order
//!   (checked on every apply).
//! - *Cursor safety*: a feed's validators advance only when each item is in the candidates
//!   stream (publish acknowledged) or already known; a re-publish has the same message id.
//! - A candidate is "acknowledged" by purging the candidates stream below the last decided
//!   one, only after the decision is in the articles stream.

pub mod committer;
pub mod lease;
pub mod records;
pub mod replica;
pub mod status;
pub mod worker;

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, kv, stream};

use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use crate::dedup::Engine;
use crate::metrics::Metrics;
use crate::store::Store;

pub use records::{Candidate, Decided, Decision, PageCandidate};

/// `[cluster]`: present = this `newsd run` is a worker of a cluster.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    /// NATS server(s), comma-separated (`nats://host:4222`).
    pub nats_url: String,
    /// Prefix of every stream and bucket (`[A-Za-z0-9_-]`): several clusters can share a NATS.
    #[serde(default = "default_name")]
    pub name: String,
    /// Feeds are split into this many partitions by host; more partitions than workers
    /// spreads the load evenly. Must be the same on every worker.
    #[serde(default = "default_partitions")]
    pub partitions: u32,
    /// A lease (membership, partition, committer) lapses this long after its holder last
    /// renewed it (every third of it): a dead worker's feeds move within about this time.
    #[serde(default = "default_lease_secs")]
    pub lease_secs: u64,
    /// This worker's name among the members; default `<hostname>-<pid>`.
    #[serde(default)]
    pub node: Option<String>,
    /// Whether this worker may take the committer lease (false keeps the committer on
    /// other machines, e.g. the ones with the fastest disk).
    #[serde(default = "default_true")]
    pub committer: bool,
}

fn default_true() -> bool {
    true
}

fn default_name() -> String {
    "newsd".into()
}
fn default_partitions() -> u32 {
    64
}
fn default_lease_secs() -> u64 {
    15
}

impl ClusterConfig {
    /// Every problem, as (key, reason).
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if self.nats_url.trim().is_empty() {
            out.push(("cluster.nats_url", "must name a NATS server".into()));
        }
        let token = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
        if !token(&self.name) {
            out.push((
                "cluster.name",
                format!(
                    "{:?}: letters, digits, '_' and '-' only (it names streams and buckets)",
                    self.name
                ),
            ));
        }
        if self.partitions == 0 || self.partitions > 4096 {
            out.push(("cluster.partitions", "must be 1..=4096".into()));
        }
        if self.lease_secs < 3 {
            out.push((
                "cluster.lease_secs",
                "must be at least 3 (renewed every third)".into(),
            ));
        }
        if let Some(n) = &self.node
            && !token(n)
        {
            out.push((
                "cluster.node",
                format!("{n:?}: letters, digits, '_' and '-' only"),
            ));
        }
        out
    }

    pub fn node_name(&self) -> String {
        self.node.clone().unwrap_or_else(|| {
            let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_string())
                .unwrap_or_default();
            let host: String = host
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect();
            format!(
                "{}-{}",
                if host.is_empty() { "node" } else { &host },
                std::process::id()
            )
        })
    }

    pub fn lease(&self) -> Duration {
        Duration::from_secs(self.lease_secs)
    }

    pub fn candidates_stream(&self) -> String {
        format!("{}_candidates", self.name)
    }
    pub fn candidates_subject(&self) -> String {
        format!("{}.candidates", self.name)
    }
    pub fn articles_stream(&self) -> String {
        format!("{}_articles", self.name)
    }
    pub fn articles_subject(&self) -> String {
        format!("{}.articles", self.name)
    }
    pub fn leases_bucket(&self) -> String {
        format!("{}_leases", self.name)
    }
    pub fn feeds_bucket(&self) -> String {
        format!("{}_feeds", self.name)
    }
    pub fn urls_bucket(&self) -> String {
        format!("{}_urls", self.name)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cannot reach NATS at {url}: {reason}")]
    Connect { url: String, reason: String },
    /// A JetStream call failed (NATS unreachable, timeout, refused).
    #[error("NATS {what}: {reason}")]
    Nats { what: String, reason: String },
    /// A record in a stream or bucket that cannot be read.
    #[error("{what}: unreadable record: {reason}")]
    Record { what: String, reason: String },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The local replica disagrees with the articles stream (another cluster's store, or
    /// changed by hand): it must be moved away and rebuilt.
    #[error(
        "the local replica at {path} disagrees with the articles stream at record {seq}: {reason}; move the directory away, it is rebuilt from the stream"
    )]
    Diverged {
        path: String,
        seq: u64,
        reason: String,
    },
}

impl ClusterError {
    pub(crate) fn nats(what: impl Into<String>, e: impl std::fmt::Display) -> ClusterError {
        ClusterError::Nats {
            what: what.into(),
            reason: e.to_string(),
        }
    }
}

/// A connection to the cluster's JetStream, with its streams and buckets.
#[derive(Clone)]
pub struct Nats {
    pub cfg: ClusterConfig,
    pub client: async_nats::Client,
    pub js: jetstream::Context,
    pub leases: kv::Store,
    pub feeds: kv::Store,
    pub urls: kv::Store,
}

/// How long a publish waits for the server's acknowledgement before it counts as failed.
const JS_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a republished candidate with the same message id is recognised as a repeat.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(30 * 60);

impl Nats {
    /// Connects and makes sure every stream and bucket exists (created on first use, with
    /// configs nats-server 2.9 accepts).
    pub async fn connect(cfg: &ClusterConfig) -> Result<Nats, ClusterError> {
        let client = async_nats::ConnectOptions::new()
            .name(format!("newsd {}", cfg.node_name()))
            .retry_on_initial_connect()
            .connection_timeout(Duration::from_secs(5))
            .connect(cfg.nats_url.as_str())
            .await
            .map_err(|e| ClusterError::Connect {
                url: cfg.nats_url.clone(),
                reason: e.to_string(),
            })?;
        Self::with_client(cfg, client).await
    }

    /// Like [`Nats::connect`] but fails at once when NATS cannot be reached (CLI commands).
    pub async fn connect_now(cfg: &ClusterConfig) -> Result<Nats, ClusterError> {
        let connect = async_nats::ConnectOptions::new()
            .name("newsd cli")
            .connection_timeout(Duration::from_secs(5))
            .connect(cfg.nats_url.as_str());
        let client = tokio::time::timeout(Duration::from_secs(10), connect)
            .await
            .map_err(|_| ClusterError::Connect {
                url: cfg.nats_url.clone(),
                reason: "timed out".into(),
            })?
            .map_err(|e| ClusterError::Connect {
                url: cfg.nats_url.clone(),
                reason: e.to_string(),
            })?;
        Self::with_client(cfg, client).await
    }

    async fn with_client(
        cfg: &ClusterConfig,
        client: async_nats::Client,
    ) -> Result<Nats, ClusterError> {
        let mut js = jetstream::new(client.clone());
        js.set_timeout(JS_TIMEOUT);
        for (name, subject) in [
            (cfg.candidates_stream(), cfg.candidates_subject()),
            (cfg.articles_stream(), cfg.articles_subject()),
        ] {
            js.get_or_create_stream(stream::Config {
                name: name.clone(),
                subjects: vec![subject],
                storage: stream::StorageType::File,
                retention: stream::RetentionPolicy::Limits,
                duplicate_window: DUPLICATE_WINDOW,
                ..Default::default()
            })
            .await
            .map_err(|e| ClusterError::nats(format!("stream {name}"), e))?;
        }
        // A bucket is a stream `KV_<bucket>`, created here with the settings the KV protocol
        // needs (async-nats' create_key_value first asks for account info in a form
        // nats-server 2.9 does not send), then opened as a KV store.
        let bucket = |name: String, max_age: Duration, storage: stream::StorageType| {
            let js = js.clone();
            async move {
                let window = if max_age.is_zero() {
                    Duration::from_secs(120)
                } else {
                    max_age.min(Duration::from_secs(120))
                };
                js.get_or_create_stream(stream::Config {
                    name: format!("KV_{name}"),
                    subjects: vec![format!("$KV.{name}.>")],
                    max_messages_per_subject: 1,
                    max_age,
                    storage,
                    allow_rollup: true,
                    deny_delete: true,
                    allow_direct: true,
                    discard: stream::DiscardPolicy::New,
                    num_replicas: 1,
                    duplicate_window: window,
                    ..Default::default()
                })
                .await
                .map_err(|e| ClusterError::nats(format!("bucket {name}"), e))?;
                js.get_key_value(&name)
                    .await
                    .map_err(|e| ClusterError::nats(format!("bucket {name}"), e))
            }
        };
        let leases = bucket(cfg.leases_bucket(), cfg.lease(), stream::StorageType::File).await?;
        let feeds = bucket(
            cfg.feeds_bucket(),
            Duration::ZERO,
            stream::StorageType::File,
        )
        .await?;
        let urls = bucket(cfg.urls_bucket(), Duration::ZERO, stream::StorageType::File).await?;
        Ok(Nats {
            cfg: cfg.clone(),
            client,
            js,
            leases,
            feeds,
            urls,
        })
    }

    pub fn connected(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }

    pub async fn stream(&self, name: &str) -> Result<stream::Stream, ClusterError> {
        self.js
            .get_stream(name)
            .await
            .map_err(|e| ClusterError::nats(format!("stream {name}"), e))
    }

    /// (last sequence, messages held) of a stream.
    pub async fn stream_state(&self, name: &str) -> Result<(u64, u64), ClusterError> {
        let mut s = self.stream(name).await?;
        let info = s
            .info()
            .await
            .map_err(|e| ClusterError::nats(format!("stream {name} info"), e))?;
        Ok((info.state.last_sequence, info.state.messages))
    }
}

/// A running worker's cluster side: the replica follower and the lease loop (which runs
/// the committer while it holds that lease).
pub struct Node {
    pub nats: Nats,
    pub roles: Arc<lease::Roles>,
    pub replica: Arc<replica::Replica>,
    stop_leases: CancellationToken,
    stop_follower: CancellationToken,
    leases: tokio::task::JoinHandle<()>,
    follower: tokio::task::JoinHandle<()>,
}

impl Node {
    pub fn start(
        nats: Nats,
        store: Arc<Store>,
        engine: Arc<Engine>,
        metrics: Arc<Metrics>,
    ) -> Node {
        metrics.cluster_enabled();
        let replica = Arc::new(replica::Replica::new(store, engine.clone()));
        let roles = Arc::new(lease::Roles::new(nats.cfg.partitions));
        let stop_follower = CancellationToken::new();
        let follower = tokio::spawn(replica::follow(
            nats.clone(),
            replica.clone(),
            metrics.clone(),
            stop_follower.clone(),
        ));
        let committer = Arc::new(committer::Committer {
            nats: nats.clone(),
            replica: replica.clone(),
            engine,
            metrics: metrics.clone(),
        });
        let stop_leases = CancellationToken::new();
        let leases = tokio::spawn(
            lease::Leases {
                nats: nats.clone(),
                node: nats.cfg.node_name(),
                roles: roles.clone(),
                metrics,
                committer,
            }
            .run(stop_leases.clone()),
        );
        Node {
            nats,
            roles,
            replica,
            stop_leases,
            stop_follower,
            leases,
            follower,
        }
    }

    /// This worker's share, for systemd's `STATUS=`: "worker w1: 21 of 64 partitions, committer".
    pub fn summary(&self) -> String {
        format!(
            "worker {}: {} of {} partitions{}",
            self.nats.cfg.node_name(),
            self.roles.owned_count(),
            self.roles.partitions,
            if self.roles.is_committer() {
                ", committer"
            } else {
                ""
            }
        )
    }

    /// Why this worker cannot work now, if it cannot.
    pub fn problem(&self) -> Option<String> {
        Self::problem_of(&self.nats, &self.roles)
    }

    pub fn problem_of(nats: &Nats, roles: &lease::Roles) -> Option<String> {
        if !nats.connected() {
            return Some(format!(
                "NATS unreachable at {} (reconnecting; nothing is lost)",
                nats.cfg.nats_url
            ));
        }
        roles.problem()
    }

    /// Gives up the leases (others take over at once) and stops following. Call after the
    /// in-flight polls have drained.
    pub async fn stop(self) {
        self.stop_leases.cancel();
        let _ = self.leases.await;
        self.stop_follower.cancel();
        let _ = self.follower.await;
        let _ = self.nats.client.flush().await;
    }
}

/// A KV key for a URL or feed (keys are subject tokens: no ':' or '?'): 32 hex digits of
/// its 128-bit hash.
pub fn url_key(url: &str) -> String {
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(url.as_bytes()))
}

/// The partition of a feed: its host's hash mod `partitions` (so one host, one owner).
pub fn partition_of(url: &url::Url, partitions: u32) -> u32 {
    let host = url.host_str().unwrap_or("");
    (xxhash_rust::xxh3::xxh3_64(host.as_bytes()) % u64::from(partitions.max(1))) as u32
}

#[cfg(test)]
mod tests;
