//! The committer: runs on the one worker holding the committer lease. It reads the
//! candidates stream in order, decides each candidate against the replica with the
//! single-node writer's rule ([`crate::pipeline::writer::decide`]), publishes the decision
//! to the articles stream fenced by `expected-last-sequence`, then applies it to its own
//! replica and records the URLs in KV `<name>_urls`.
//!
//! In batches of what has arrived (up to 64), in order: decode → known? copy of which stored
//! article, or of a new article earlier in the batch? new (seq = the replica's next seq, then
//! the batch's)? → publish back to back (id `decision-<cand>`; the first expects the last
//! record applied, each next one also expects the previous one's id, so nothing lands after a
//! refusal) → apply what landed → URLs. A publish refused for the wrong last sequence
//! (another committer wrote, or our own earlier publish landed but its ack was lost), or
//! answered as a duplicate, means this replica is behind the store of record: catch up,
//! resume after the last decided candidate.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::message::PublishMessage;
use futures_util::{FutureExt, StreamExt};
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
/// Most candidates decided, published and applied together.
const BATCH: usize = 64;

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
            // A batch: the first candidate waited for, then whatever has already arrived.
            let first = tokio::select! {
                _ = stop.cancelled() => return Ok(Ended::Stopped),
                m = messages.next() => m,
            };
            let mut batch: Vec<(u64, u64, bytes::Bytes)> = Vec::new();
            let mut next = first;
            loop {
                let Some(msg) = next else {
                    return Err(ClusterError::nats("read candidates", "stream ended"));
                };
                let msg = msg.map_err(|e| ClusterError::nats("read candidates", e))?;
                let i = msg
                    .info()
                    .map_err(|e| ClusterError::nats("read candidates", e))?;
                if i.stream_sequence >= next_cand {
                    batch.push((i.stream_sequence, i.pending, msg.payload.clone()));
                }
                if batch.len() >= BATCH {
                    break;
                }
                match messages.next().now_or_never() {
                    Some(m) => next = m,
                    None => break,
                }
            }
            if batch.is_empty() {
                continue;
            }
            let decisions = self.decide_batch(&batch).await?;
            // Published back to back without waiting, each expecting the one before it: the
            // k-th is accepted only if the stream's last record is at `expected + k` AND is
            // this batch's previous decision (its message id), so once one is refused none
            // after it can land, and the stream holds a consistent prefix of the batch.
            let mut acks = Vec::with_capacity(decisions.len());
            for (k, d) in decisions.iter().enumerate() {
                let payload = serde_json::to_vec(d).map_err(|e| ClusterError::Record {
                    what: format!("decision for candidate {}", d.cand),
                    reason: e.to_string(),
                })?;
                let mut publish = PublishMessage::build()
                    .payload(payload.into())
                    .message_id(format!("decision-{}", d.cand))
                    .expected_last_sequence(expected + k as u64);
                if k > 0 {
                    publish = publish
                        .expected_last_message_id(format!("decision-{}", decisions[k - 1].cand));
                }
                acks.push(
                    self.nats
                        .js
                        .send_publish(self.nats.cfg.articles_subject(), publish)
                        .await
                        .map_err(|e| ClusterError::nats("publish decision", e))?,
                );
            }
            let mut seqs = Vec::with_capacity(acks.len());
            let mut fenced = false;
            for ack in acks {
                match ack.await {
                    Ok(ack) if ack.duplicate => fenced = true,
                    Ok(ack) if !fenced => seqs.push(ack.sequence),
                    Ok(_) => {}
                    Err(e) if e.kind() == PublishErrorKind::WrongLastSequence => fenced = true,
                    Err(e) => return Err(ClusterError::nats("publish decision", e)),
                }
            }
            // Apply what is in the stream (in order), then, if fenced, catch up from there.
            let applied: Vec<(u64, Decision)> = seqs
                .iter()
                .copied()
                .zip(decisions.iter().cloned())
                .collect();
            let r = self.replica.clone();
            let to_apply = applied.clone();
            tokio::task::spawn_blocking(move || {
                for (seq, d) in &to_apply {
                    r.apply(*seq, d)?;
                }
                Ok::<_, ClusterError>(())
            })
            .await
            .map_err(|e| ClusterError::nats("apply decision", e))??;
            for ((seq, d), (_, pending, _)) in applied.iter().zip(&batch) {
                expected = *seq;
                next_cand = d.cand + 1;
                let (what, article) = summary(&d.what);
                events::candidate_decided(&self.metrics, d.cand, what, article, *pending);
            }
            self.record_urls(applied.iter().map(|(_, d)| &d.what)).await;
            if fenced {
                return Ok(Ended::Fenced);
            }
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

    /// The decisions for a batch of candidates (stream seq, payload), in order, each seeing
    /// the ones before it (blocking work off the runtime).
    async fn decide_batch(
        &self,
        batch: &[(u64, u64, bytes::Bytes)],
    ) -> Result<Vec<Decision>, ClusterError> {
        let items: Vec<(u64, bytes::Bytes)> =
            batch.iter().map(|(c, _, p)| (*c, p.clone())).collect();
        let store = self.replica.store().clone();
        let engine = self.engine.clone();
        tokio::task::spawn_blocking(move || decide_candidates(&store, &engine, items))
            .await
            .map_err(|e| ClusterError::nats("decide", e))?
    }

    /// Makes the decision's URLs known to every worker (best effort: the committer's own
    /// replica is what decides; a missing entry only costs a worker a fetch).
    async fn record_urls(&self, decided: impl Iterator<Item = &Decided>) {
        let urls: Vec<(&str, Option<&str>)> = decided.flat_map(Decided::known_urls).collect();
        let puts = urls.into_iter().map(|(url, name)| {
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

/// Candidates decoded, then decided in order against the store and each other (as the
/// single-node writer decides a batch): a page may be a copy of a new article earlier in
/// the same batch, and takes the seq after the batch's earlier new articles.
pub(super) fn decide_candidates(
    store: &Store,
    engine: &Engine,
    items: Vec<(u64, bytes::Bytes)>,
) -> Result<Vec<Decision>, ClusterError> {
    let decoded: Vec<(u64, Result<Candidate, String>)> = items
        .into_iter()
        .map(|(cand, payload)| {
            let c = serde_json::from_slice::<Candidate>(&payload).map_err(|e| e.to_string());
            (cand, c)
        })
        .collect();
    let fingerprints: Vec<Option<Result<Fingerprint, String>>> = decoded
        .iter()
        .map(|(_, c)| match c {
            Ok(Candidate::Page(p)) => {
                Some(Fingerprint::from_bytes(&p.fingerprint).map_err(|e| e.to_string()))
            }
            _ => None,
        })
        .collect();
    let mut next_seq = store.next_seq()?;
    // Per write of the batch (new articles and copies, as `Pending` counts them): the new
    // article's (seq, name), for a later copy of it.
    let mut writes: Vec<Option<(u64, String)>> = Vec::new();
    let mut pending = Pending::default();
    let mut out = Vec::with_capacity(decoded.len());
    for ((cand, c), fp) in decoded.iter().zip(&fingerprints) {
        let what = match (c, fp) {
            (Err(e), _) => Decided::Unreadable { reason: e.clone() },
            (Ok(Candidate::Reject { urls, reject }), _) => Decided::Reject {
                urls: urls.clone(),
                reject: reject.clone(),
            },
            (Ok(Candidate::Page(p)), Some(Err(e))) => Decided::Unreadable {
                reason: format!("{}: fingerprint: {e}", p.record.canonical_url),
            },
            (Ok(Candidate::Page(p)), Some(Ok(fp))) => {
                let entry = Entry {
                    canonical: &p.record.canonical_url,
                    aliases: &p.aliases,
                    text: &p.text,
                    fingerprint: fp,
                };
                let decision = decide(store, engine, &entry, &pending)?;
                pending.push(entry, &decision);
                let canonical = p.record.canonical_url.clone();
                match decision {
                    writer::Decision::Known => Decided::Known {
                        url: canonical,
                        aliases: p.aliases.clone(),
                    },
                    writer::Decision::Copy {
                        original,
                        similarity,
                    } => {
                        let (of_seq, of) = match original {
                            Original::Seq(seq) => {
                                (seq, store.name_by_seq(seq)?.unwrap_or_default())
                            }
                            Original::Earlier(i) => {
                                writes.get(i).cloned().flatten().ok_or_else(|| {
                                    ClusterError::Record {
                                        what: canonical.clone(),
                                        reason: format!(
                                            "a copy of write {i} of the batch, not a new article"
                                        ),
                                    }
                                })?
                            }
                        };
                        writes.push(None);
                        Decided::Copy {
                            of_seq,
                            of,
                            dup: DuplicateRecord {
                                url: canonical,
                                feed: Some(p.feed.clone()),
                                similarity,
                                seen_at: p.record.fetched_at.clone(),
                                original: None,
                            },
                            aliases: p.aliases.clone(),
                        }
                    }
                    writer::Decision::New { .. } => {
                        let seq = next_seq;
                        next_seq += 1;
                        let id = u64::from_str_radix(&p.record.id, 16).unwrap_or(0);
                        let mut record = p.record.clone();
                        record.seq = seq;
                        record.name = crate::article::article_name(seq, id);
                        writes.push(Some((seq, record.name.clone())));
                        Decided::Stored {
                            record: Box::new(record),
                            text: p.text.clone(),
                            aliases: p.aliases.clone(),
                            fingerprint: p.fingerprint.clone(),
                        }
                    }
                }
            }
            (Ok(Candidate::Page(_)), None) => Decided::Unreadable {
                reason: "no fingerprint".into(),
            },
        };
        out.push(Decision { cand: *cand, what });
    }
    Ok(out)
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
