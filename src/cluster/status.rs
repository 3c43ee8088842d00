//! `newsd cluster status`: members, partition owners, the committer, and how far behind the
//! committer is (candidates not yet decided), read from NATS alone.

use std::collections::BTreeMap;

use futures_util::TryStreamExt;
use serde::Serialize;

use super::{ClusterError, Nats, replica::decode};

#[derive(Debug, Serialize)]
pub struct Status {
    pub nats_url: String,
    pub name: String,
    /// Live members (heartbeat within a lease period).
    pub members: Vec<String>,
    /// Partitions held per member.
    pub partitions_by_owner: BTreeMap<String, u32>,
    /// Partitions no live worker holds right now.
    pub partitions_unowned: u32,
    pub partitions: u32,
    pub committer: Option<String>,
    /// Last sequence of the candidates stream, and candidates still held there.
    pub candidates_last_seq: u64,
    pub candidates_held: u64,
    /// Records in the articles stream (the store of record).
    pub articles_last_seq: u64,
    /// The last candidate the committer decided.
    pub decided_candidate: u64,
    /// Candidates published but not decided yet.
    pub lag: u64,
}

pub async fn status(nats: &Nats) -> Result<Status, ClusterError> {
    let cfg = &nats.cfg;
    let kv = &nats.leases;
    let keys: Vec<String> = kv
        .keys()
        .await
        .map_err(|e| ClusterError::nats("list leases", e))?
        .try_collect()
        .await
        .map_err(|e| ClusterError::nats("list leases", e))?;
    let mut members = Vec::new();
    let mut partitions_by_owner: BTreeMap<String, u32> = BTreeMap::new();
    let mut committer = None;
    let mut owned = 0;
    for key in keys {
        if let Some(m) = key.strip_prefix("member.") {
            members.push(m.to_string());
            continue;
        }
        let Ok(Some(value)) = kv.get(key.clone()).await else {
            continue;
        };
        let owner = String::from_utf8_lossy(&value).into_owned();
        if key == "committer" {
            committer = Some(owner);
        } else if key.starts_with("part.") {
            owned += 1;
            *partitions_by_owner.entry(owner).or_default() += 1;
        }
    }
    members.sort();
    let (cand_last, cand_held) = nats.stream_state(&cfg.candidates_stream()).await?;
    let (articles_last, _) = nats.stream_state(&cfg.articles_stream()).await?;
    let decided = if articles_last == 0 {
        0
    } else {
        let s = nats.stream(&cfg.articles_stream()).await?;
        let msg = s
            .get_raw_message(articles_last)
            .await
            .map_err(|e| ClusterError::nats("read the last decision", e))?;
        decode(articles_last, &msg.payload)?.cand
    };
    Ok(Status {
        nats_url: cfg.nats_url.clone(),
        name: cfg.name.clone(),
        members,
        partitions_by_owner,
        partitions_unowned: cfg.partitions.saturating_sub(owned),
        partitions: cfg.partitions,
        committer,
        candidates_last_seq: cand_last,
        candidates_held: cand_held,
        articles_last_seq: articles_last,
        decided_candidate: decided,
        lag: cand_last.saturating_sub(decided),
    })
}
