//! Every node's replica of the articles stream: a local sled store (the same format as a
//! single-node store) that applies the committer's decisions in stream order. `export`,
//! `list`, `show`, `stats` and `check` read it; the committer decides against it.
//!
//! Applying is idempotent: a record at or below the replica's position is skipped, and a
//! stored article or copy whose URL the replica already holds is not written again (the
//! position is saved after the record, so a crash between the two repeats one record).
//! A stored article must get the seq and name the committer gave it; if it does not, the
//! replica is not a replica of this stream ([`ClusterError::Diverged`]).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream::consumer::{DeliverPolicy, pull::OrderedConfig};
use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;
use tracing::info;

use super::{ClusterError, Decided, Decision, Nats};
use crate::dedup::{Engine, Fingerprint};
use crate::metrics::Metrics;
use crate::store::{NewArticle, ReplicaPosition, Store};

pub struct Replica {
    store: Arc<Store>,
    engine: Arc<Engine>,
    /// Applies are serialised: the follower and the committer both apply (the committer its
    /// own decisions at once, the follower everything, skipping what is already applied).
    lock: Mutex<()>,
}

impl Replica {
    pub fn new(store: Arc<Store>, engine: Arc<Engine>) -> Replica {
        Replica {
            store,
            engine,
            lock: Mutex::new(()),
        }
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    pub fn position(&self) -> Result<ReplicaPosition, ClusterError> {
        Ok(self.store.replica_position()?)
    }

    /// Applies the record at stream sequence `seq` unless it is already applied; true when
    /// it was new. Blocking (sled).
    pub fn apply(&self, seq: u64, d: &Decision) -> Result<bool, ClusterError> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let store = &self.store;
        let pos = store.replica_position()?;
        if seq <= pos.applied {
            return Ok(false);
        }
        let diverged = |reason: String| ClusterError::Diverged {
            path: store.path().display().to_string(),
            seq,
            reason,
        };
        match &d.what {
            Decided::Stored {
                record,
                text,
                aliases,
                fingerprint,
            } => {
                if store.known(&record.canonical_url)?.is_none() {
                    let fp =
                        Fingerprint::from_bytes(fingerprint).map_err(|e| ClusterError::Record {
                            what: format!("articles record {seq}"),
                            reason: e.to_string(),
                        })?;
                    let stored = store.insert_article(NewArticle {
                        record: (**record).clone(),
                        text,
                        aliases,
                        fingerprint,
                        band_keys: &self.engine.band_keys(&fp),
                    })?;
                    if stored.name != record.name {
                        return Err(diverged(format!(
                            "{} was stored here as {}",
                            record.name, stored.name
                        )));
                    }
                }
            }
            Decided::Copy {
                of_seq,
                of,
                dup,
                aliases,
            } => {
                if store.known(&dup.url)?.is_none() {
                    let name = store.record_duplicate(*of_seq, dup.clone(), aliases)?;
                    if &name != of {
                        return Err(diverged(format!("seq {of_seq} is {name} here, not {of}")));
                    }
                }
            }
            Decided::Known { url, aliases } => store.add_aliases(url, aliases)?,
            Decided::Reject { urls, reject } => store.record_reject(urls, reject)?,
            Decided::Unreadable { .. } => {}
        }
        store.set_replica_position(ReplicaPosition {
            applied: seq,
            cand: d.cand,
        })?;
        Ok(true)
    }
}

/// Decodes one record of the articles stream.
pub fn decode(seq: u64, payload: &[u8]) -> Result<Decision, ClusterError> {
    serde_json::from_slice(payload).map_err(|e| ClusterError::Record {
        what: format!("articles record {seq}"),
        reason: e.to_string(),
    })
}

/// Applies every record of the articles stream up to its current end (what `export` and a
/// new committer need); returns the position reached.
pub async fn catch_up(
    nats: &Nats,
    replica: &Arc<Replica>,
) -> Result<ReplicaPosition, ClusterError> {
    let (last, _) = nats.stream_state(&nats.cfg.articles_stream()).await?;
    let mut pos = replica.position()?;
    if pos.applied >= last {
        return Ok(pos);
    }
    let mut messages = read_from(nats, &nats.cfg.articles_stream(), pos.applied + 1).await?;
    while pos.applied < last {
        let Some(msg) = messages.next().await else {
            break;
        };
        apply_message(replica, msg).await?;
        pos = replica.position()?;
    }
    Ok(pos)
}

/// Applies one message of the articles stream unless the replica holds it already (the
/// committer on this node applies its own decisions at once: those are skipped unread);
/// returns how many messages the reader has still to deliver.
async fn apply_message(
    replica: &Arc<Replica>,
    msg: Result<async_nats::jetstream::Message, impl std::fmt::Display>,
) -> Result<u64, ClusterError> {
    let msg = msg.map_err(|e| ClusterError::nats("read articles", e))?;
    let (seq, pending) = {
        let i = msg
            .info()
            .map_err(|e| ClusterError::nats("read articles", e))?;
        (i.stream_sequence, i.pending)
    };
    if seq <= replica.position()?.applied {
        return Ok(pending);
    }
    let d = decode(seq, &msg.payload)?;
    let r = replica.clone();
    tokio::task::spawn_blocking(move || r.apply(seq, &d))
        .await
        .map_err(|e| ClusterError::nats("apply", e))??;
    Ok(pending)
}

/// An ordered (ephemeral, no acks) reader of `stream` from sequence `from`.
pub async fn read_from(
    nats: &Nats,
    stream: &str,
    from: u64,
) -> Result<async_nats::jetstream::consumer::pull::Ordered, ClusterError> {
    let s = nats.stream(stream).await?;
    let consumer = s
        .create_consumer(OrderedConfig {
            deliver_policy: DeliverPolicy::ByStartSequence {
                start_sequence: from.max(1),
            },
            ..Default::default()
        })
        .await
        .map_err(|e| ClusterError::nats(format!("read {stream}"), e))?;
    consumer
        .messages()
        .await
        .map_err(|e| ClusterError::nats(format!("read {stream}"), e))
}

/// Follows the articles stream for the life of the daemon, applying each record to the
/// replica. NATS trouble: retried with backoff. A record the replica cannot take (diverged,
/// unreadable, store failing) stops the follower with one error line; the replica then
/// stays behind (reported in `newsd_cluster_replica_lag` and by `cluster status`).
pub async fn follow(
    nats: Nats,
    replica: Arc<Replica>,
    metrics: Arc<Metrics>,
    stop: CancellationToken,
) {
    let mut backoff = Duration::from_millis(500);
    loop {
        let result = tokio::select! {
            _ = stop.cancelled() => return,
            r = follow_once(&nats, &replica, &metrics) => r,
        };
        match result {
            Err(e @ (ClusterError::Diverged { .. } | ClusterError::Record { .. })) => {
                tracing::error!(event = "replica_stopped", error = %e, "the replica stops following the articles stream");
                return;
            }
            Err(e) => {
                crate::events::cluster_error(&metrics, &e.to_string(), "follow articles", None);
            }
            Ok(()) => {}
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(Duration::from_secs(30));
    }
}

async fn follow_once(
    nats: &Nats,
    replica: &Arc<Replica>,
    metrics: &Metrics,
) -> Result<(), ClusterError> {
    let from = replica.position()?.applied + 1;
    let mut messages = read_from(nats, &nats.cfg.articles_stream(), from).await?;
    info!(event = "replica_following", from);
    while let Some(msg) = messages.next().await {
        let pending = apply_message(replica, msg).await?;
        metrics.cluster_replica_lag(pending);
    }
    Ok(())
}
