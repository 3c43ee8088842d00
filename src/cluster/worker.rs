//! A worker's link to the cluster: what the pipeline asks of the shared state in cluster
//! mode ([`Shared`]) — feed state in KV `<name>_feeds`, known URLs in the local replica and
//! KV `<name>_urls`, candidates published to `<name>_candidates` with their message id.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::context::{PublishAckFuture, PublishErrorKind};
use async_nats::jetstream::message::PublishMessage;
use serde::{Deserialize, Serialize};

use super::{Candidate, Nats, url_key};
use crate::events;
use crate::metrics::Metrics;
use crate::pipeline::gate::ErrorLog;
use crate::pipeline::{BoxFuture, Shared};
use crate::schedule::FeedState;
use crate::store::{Reject, Store};

/// Room left in a message for JSON escaping growth and headers.
const PAYLOAD_SLACK: usize = 4096;

/// A feed's entry in KV `<name>_feeds` (the key is the hash of its URL, so the URL is kept
/// in the value for `cluster status` and people).
#[derive(Debug, Serialize, Deserialize)]
pub struct FeedEntry {
    pub feed: String,
    pub state: FeedState,
}

/// The saved state of each of `feeds` in KV `<name>_feeds` (`newsd feeds` in cluster mode);
/// feeds never polled are absent.
pub async fn feed_states(
    nats: &Nats,
    feeds: &[String],
) -> Result<std::collections::HashMap<String, FeedState>, super::ClusterError> {
    let mut out = std::collections::HashMap::new();
    for feed in feeds {
        let got = nats
            .feeds
            .get(url_key(feed))
            .await
            .map_err(|e| super::ClusterError::nats("read feed state", e))?;
        if let Some(entry) = got.and_then(|b| serde_json::from_slice::<FeedEntry>(&b).ok()) {
            out.insert(feed.clone(), entry.state);
        }
    }
    Ok(out)
}

pub struct Link {
    nats: Nats,
    /// This node's replica of the articles stream: the cheapest "already known?" answer.
    replica: Arc<Store>,
    metrics: Arc<Metrics>,
    errors: ErrorLog,
}

impl Link {
    pub fn new(nats: Nats, replica: Arc<Store>, metrics: Arc<Metrics>) -> Link {
        Link {
            nats,
            replica,
            metrics,
            errors: ErrorLog::new(Duration::from_secs(60)),
        }
    }

    fn failed(&self, during: &str, e: impl std::fmt::Display) -> String {
        let error = format!("{during}: {e}");
        events::cluster_error(&self.metrics, &error, during, self.errors.admit(during));
        error
    }

    async fn publish_candidate(&self, candidate: Candidate) -> Result<(), String> {
        let ack = self.send_candidate(candidate).await?;
        self.acknowledged(ack).await
    }

    /// Sends a candidate to the candidates stream; the stream's acknowledgement is the
    /// returned future's ([`Link::acknowledged`]).
    async fn send_candidate(&self, candidate: Candidate) -> Result<PublishAckFuture, String> {
        let id = candidate.message_id();
        let mut payload =
            serde_json::to_vec(&candidate).map_err(|e| self.failed("encode candidate", e))?;
        let max = self.nats.client.server_info().max_payload;
        if payload.len() + PAYLOAD_SLACK > max {
            // Too big for the cluster's messages: remembered as a reject, like any page
            // newsd cannot store.
            let Candidate::Page(p) = candidate else {
                return Err(self.failed("publish candidate", "reject too large"));
            };
            let mut urls = p.aliases.clone();
            urls.push(p.record.canonical_url.clone());
            let reject = Candidate::Reject {
                urls,
                reject: Reject {
                    reason: format!(
                        "{}: article of {} bytes is larger than the NATS max_payload ({max} bytes)",
                        p.record.canonical_url,
                        p.text.len()
                    ),
                    at: p.record.fetched_at.clone(),
                },
            };
            payload = serde_json::to_vec(&reject).map_err(|e| self.failed("encode reject", e))?;
        }
        let publish = PublishMessage::build()
            .payload(payload.into())
            .message_id(id);
        self.nats
            .js
            .send_publish(self.nats.cfg.candidates_subject(), publish)
            .await
            .map_err(|e| self.failed("publish candidate", e))
    }

    /// Waits for the stream to acknowledge a sent candidate: Ok once it is durably there.
    async fn acknowledged(&self, ack: PublishAckFuture) -> Result<(), String> {
        match ack.await {
            Ok(_) => {
                events::candidate_published(&self.metrics);
                Ok(())
            }
            Err(e) if e.kind() == PublishErrorKind::TimedOut => {
                Err(self.failed("publish candidate", "no acknowledgement in time"))
            }
            Err(e) => Err(self.failed("publish candidate", e)),
        }
    }
}

impl Shared for Link {
    fn feed_state<'a>(&'a self, feed: &'a str) -> BoxFuture<'a, Result<Option<FeedState>, String>> {
        Box::pin(async move {
            let got = self
                .nats
                .feeds
                .get(url_key(feed))
                .await
                .map_err(|e| self.failed("read feed state", e))?;
            let Some(bytes) = got else { return Ok(None) };
            // An entry that cannot be read (another version wrote it): start afresh, as a
            // new feed; the cursor is only an optimisation.
            Ok(serde_json::from_slice::<FeedEntry>(&bytes)
                .ok()
                .map(|e| e.state))
        })
    }

    fn save_feed_state<'a>(
        &'a self,
        feed: &'a str,
        state: &'a FeedState,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let entry = FeedEntry {
                feed: feed.to_string(),
                state: state.clone(),
            };
            let bytes = serde_json::to_vec(&entry).map_err(|e| self.failed("encode feed", e))?;
            self.nats
                .feeds
                .put(url_key(feed), bytes.into())
                .await
                .map_err(|e| self.failed("save feed state", e))?;
            Ok(())
        })
    }

    fn known<'a>(&'a self, url: &'a str) -> BoxFuture<'a, Result<bool, String>> {
        Box::pin(async move {
            if let Ok(Some(_)) = self.replica.known(url) {
                return Ok(true);
            }
            let got = self
                .nats
                .urls
                .get(url_key(url))
                .await
                .map_err(|e| self.failed("look up URL", e))?;
            Ok(got.is_some())
        })
    }

    fn publish(&self, candidate: Candidate) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(self.publish_candidate(candidate))
    }

    /// Sent back to back (one connection, so they land in this order), then the
    /// acknowledgements are awaited: one round trip for the chunk instead of one per
    /// candidate.
    fn publish_all(&self, candidates: Vec<Candidate>) -> BoxFuture<'_, Vec<Result<(), String>>> {
        Box::pin(async move {
            let mut sent = Vec::with_capacity(candidates.len());
            for candidate in candidates {
                sent.push(self.send_candidate(candidate).await);
            }
            let mut out = Vec::with_capacity(sent.len());
            for ack in sent {
                out.push(match ack {
                    Ok(ack) => self.acknowledged(ack).await,
                    Err(e) => Err(e),
                });
            }
            out
        })
    }
}
