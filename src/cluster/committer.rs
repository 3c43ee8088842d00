//! The committer: runs on the one worker holding the committer lease. It reads the
//! candidates stream in order, decides each candidate against the replica with the
//! single-node writer's rule ([`crate::pipeline::writer::decide`]), publishes the decision
//! to the articles stream fenced by `expected-last-sequence`, then applies it to its own
//! replica and records the URLs in KV `<name>_urls`.
//!
//! Per candidate, in order: decode → known? copy of which stored article? new (seq = the
//! replica's next seq)? → publish (id `decision-<cand>`, expected last = the last record
//! applied) → apply → URLs. A publish refused for the wrong last sequence (another
//! committer wrote, or our own earlier publish landed but its ack was lost), or answered as
//! a duplicate, means this replica is behind the store of record: catch up, resume after
//! the last decided candidate.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::message::PublishMessage;
use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;
use tracing::info;

use super::replica::{Replica, catch_up, read_from};
use super::{Candidate, ClusterError, Decided, Decision, Nats, url_key};
use crate::dedup::{Engine, Fingerprint};
use crate::events;
use crate::metrics::Metrics;
use crate::pipeline::writer::{self, Entry, Pending, decide};
use crate::store::{DuplicateRecord, Original, Store};

/// How often decided candidates are purged from the candidates stream (their "ack").
const PURGE_EVERY: Duration = Duration::from_secs(5);

pub struct Committer {
    pub nats: Nats,
    pub replica: Arc<Replica>,
    pub engine: Arc<Engine>,
    pub metrics: Arc<Metrics>,
}

/// Why a committing run ended without an error.
enum Ended {
    Stopped,
    /// The articles stream moved past this replica: catch up and resume.
    Fenced,
}

impl Committer {
    /// Commits until `stop` (the lease was lost, or shutdown). NATS errors are returned
    /// (the lease loop retries).
    pub async fn run(&self, stop: &CancellationToken) -> Result<(), ClusterError> {
        loop {
            match self.run_once(stop).await? {
                Ended::Stopped => return Ok(()),
                Ended::Fenced => info!(
                    event = "committer_fenced",
                    "the articles stream is ahead of this replica: catching up"
                ),
            }
        }
    }

    async fn run_once(&self, stop: &CancellationToken) -> Result<Ended, ClusterError> {
        let pos = catch_up(&self.nats, &self.replica).await?;
        let mut expected = pos.applied;
        let mut next_cand = pos.cand + 1;
        info!(
            event = "committer_started",
            articles_seq = expected,
            from_candidate = next_cand
        );
        let candidates = self.nats.cfg.candidates_stream();
        let mut messages = read_from(&self.nats, &candidates, next_cand).await?;
        let mut last_purge = Instant::now();
        let mut purged_to = 0;
        loop {
            let msg = tokio::select! {
                _ = stop.cancelled() => return Ok(Ended::Stopped),
                m = messages.next() => m,
            };
            let Some(msg) = msg else {
                return Err(ClusterError::nats("read candidates", "stream ended"));
            };
            let msg = msg.map_err(|e| ClusterError::nats("read candidates", e))?;
            let (cand, pending) = {
                let i = msg
                    .info()
                    .map_err(|e| ClusterError::nats("read candidates", e))?;
                (i.stream_sequence, i.pending)
            };
            if cand < next_cand {
                continue;
            }
            let decision = Decision {
                cand,
                what: self.decide(&msg.payload).await?,
            };
            let payload = serde_json::to_vec(&decision).map_err(|e| ClusterError::Record {
                what: format!("decision for candidate {cand}"),
                reason: e.to_string(),
            })?;
            let publish = PublishMessage::build()
                .payload(payload.into())
                .message_id(format!("decision-{cand}"))
                .expected_last_sequence(expected);
            let ack = self
                .nats
                .js
                .send_publish(self.nats.cfg.articles_subject(), publish)
                .await
                .map_err(|e| ClusterError::nats("publish decision", e))?
                .await;
            let seq = match ack {
                Ok(ack) if ack.duplicate => return Ok(Ended::Fenced),
                Ok(ack) => ack.sequence,
                Err(e) if e.kind() == PublishErrorKind::WrongLastSequence => {
                    return Ok(Ended::Fenced);
                }
                Err(e) => return Err(ClusterError::nats("publish decision", e)),
            };
            let r = self.replica.clone();
            let d = decision.clone();
            tokio::task::spawn_blocking(move || r.apply(seq, &d))
                .await
                .map_err(|e| ClusterError::nats("apply decision", e))??;
            expected = seq;
            next_cand = cand + 1;
            self.record_urls(&decision.what).await;
            let (what, article) = summary(&decision.what);
            events::candidate_decided(&self.metrics, cand, what, article, pending);
            if last_purge.elapsed() >= PURGE_EVERY && next_cand > purged_to + 1 {
                last_purge = Instant::now();
                // Everything below `next_cand` is decided and in the articles stream.
                match self.nats.stream(&candidates).await {
                    Ok(s) => {
                        if s.purge().sequence(next_cand).await.is_ok() {
                            purged_to = next_cand - 1;
                        }
                    }
                    Err(e) => events::cluster_error(
                        &self.metrics,
                        &e.to_string(),
                        "purge candidates",
                        None,
                    ),
                }
            }
        }
    }

    /// The decision for one candidate, against the replica (blocking work off the runtime).
    async fn decide(&self, payload: &[u8]) -> Result<Decided, ClusterError> {
        let candidate: Candidate = match serde_json::from_slice(payload) {
            Ok(c) => c,
            Err(e) => {
                return Ok(Decided::Unreadable {
                    reason: e.to_string(),
                });
            }
        };
        let store = self.replica.store().clone();
        let engine = self.engine.clone();
        tokio::task::spawn_blocking(move || decide_candidate(&store, &engine, candidate))
            .await
            .map_err(|e| ClusterError::nats("decide", e))?
    }

    /// Makes the decision's URLs known to every worker (best effort: the committer's own
    /// replica is what decides; a missing entry only costs a worker a fetch).
    async fn record_urls(&self, d: &Decided) {
        let puts = d.known_urls().into_iter().map(|(url, name)| {
            let value = name.unwrap_or("-").to_string();
            self.nats.urls.put(url_key(url), value.into())
        });
        for r in futures_util::future::join_all(puts).await {
            if let Err(e) = r {
                events::cluster_error(&self.metrics, &e.to_string(), "record URL", None);
            }
        }
    }
}

fn decide_candidate(
    store: &Store,
    engine: &Engine,
    candidate: Candidate,
) -> Result<Decided, ClusterError> {
    let p = match candidate {
        Candidate::Reject { urls, reject } => return Ok(Decided::Reject { urls, reject }),
        Candidate::Page(p) => p,
    };
    let fp = match Fingerprint::from_bytes(&p.fingerprint) {
        Ok(fp) => fp,
        Err(e) => {
            return Ok(Decided::Unreadable {
                reason: format!("{}: fingerprint: {e}", p.record.canonical_url),
            });
        }
    };
    let canonical = p.record.canonical_url.clone();
    let entry = Entry {
        canonical: &canonical,
        aliases: &p.aliases,
        text: &p.text,
        fingerprint: &fp,
    };
    // One candidate at a time: nothing is pending beside it.
    let decision = decide(store, engine, &entry, &Pending::default())?;
    Ok(match decision {
        writer::Decision::Known => Decided::Known {
            url: canonical,
            aliases: p.aliases,
        },
        writer::Decision::Copy {
            original,
            similarity,
        } => {
            // A fresh Pending holds no earlier article, so the original is a stored one.
            let Original::Seq(seq) = original else {
                return Err(ClusterError::Record {
                    what: canonical,
                    reason: "a copy of an article of no batch".into(),
                });
            };
            let of = store.name_by_seq(seq)?.unwrap_or_default();
            Decided::Copy {
                of_seq: seq,
                of,
                dup: DuplicateRecord {
                    url: canonical,
                    feed: Some(p.feed.clone()),
                    similarity,
                    seen_at: p.record.fetched_at.clone(),
                    original: None,
                },
                aliases: p.aliases,
            }
        }
        writer::Decision::New { .. } => {
            let p = *p;
            let seq = store.next_seq()?;
            let id = u64::from_str_radix(&p.record.id, 16).unwrap_or(0);
            let mut record = p.record;
            record.seq = seq;
            record.name = crate::article::article_name(seq, id);
            Decided::Stored {
                record: Box::new(record),
                text: p.text,
                aliases: p.aliases,
                fingerprint: p.fingerprint,
            }
        }
    })
}

fn summary(d: &Decided) -> (&'static str, Option<&str>) {
    match d {
        Decided::Stored { record, .. } => ("stored", Some(record.name.as_str())),
        Decided::Copy { of, .. } => ("copy", Some(of.as_str())),
        Decided::Known { .. } => ("known", None),
        Decided::Reject { .. } => ("reject", None),
        Decided::Unreadable { .. } => ("unreadable", None),
    }
}
