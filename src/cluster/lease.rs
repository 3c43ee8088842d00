//! Leases in KV `<name>_leases` (every entry lapses `lease_secs` after its last write):
//! `member.<node>` (heartbeat), `part.<p>` (the owner of feed partition p) and `committer`.
//!
//! Every third of a lease period each worker: renews its heartbeat; lists the live members;
//! for each partition computes the rendezvous winner (highest hash of member and partition,
//! so a join or a death moves only the partitions that must move); claims the partitions it
//! wins whose lease is free (create), renews those it holds (update with the revision it
//! holds: a refused update means it lost the lease), and gives up those it no longer wins —
//! first it stops polling them, then, once its in-flight polls of them have ended, it
//! deletes the lease, so a host is never polled by two workers at once. The committer lease
//! is claimed by whoever finds it free; its holder runs the [`Committer`].
//!
//! A worker that cannot renew for two thirds of a lease (NATS unreachable) stops polling
//! and committing before its leases lapse and others take over.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::TryStreamExt;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing::warn;

use super::committer::Committer;
use super::{ClusterError, Nats};
use crate::events;
use crate::metrics::Metrics;

/// What the lease loop tells the rest of the worker, and what it is told back.
pub struct Roles {
    /// Partitions this worker may poll now (the scheduler's feed set follows it).
    owned: watch::Sender<BTreeSet<u32>>,
    /// In-flight polls per partition (a partition is released only at zero).
    busy: Mutex<HashMap<u32, usize>>,
    /// Why the worker cannot work now (NATS unreachable), for `/readyz` and dispatch.
    problem: Mutex<Option<String>>,
    /// This worker holds the committer lease (for `STATUS=`).
    committer: std::sync::atomic::AtomicBool,
    pub partitions: u32,
}

impl Roles {
    pub fn new(partitions: u32) -> Roles {
        Roles {
            owned: watch::channel(BTreeSet::new()).0,
            busy: Mutex::new(HashMap::new()),
            problem: Mutex::new(Some("not yet a member of the cluster".into())),
            committer: std::sync::atomic::AtomicBool::new(false),
            partitions,
        }
    }

    pub fn subscribe(&self) -> watch::Receiver<BTreeSet<u32>> {
        self.owned.subscribe()
    }

    pub fn owned_count(&self) -> usize {
        self.owned.borrow().len()
    }

    pub fn is_committer(&self) -> bool {
        self.committer.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn poll_started(&self, partition: u32) {
        *self.lock_busy().entry(partition).or_default() += 1;
    }

    pub fn poll_ended(&self, partition: u32) {
        let mut busy = self.lock_busy();
        if let Some(n) = busy.get_mut(&partition) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                busy.remove(&partition);
            }
        }
    }

    fn busy(&self, partition: u32) -> bool {
        self.lock_busy().contains_key(&partition)
    }

    fn lock_busy(&self) -> std::sync::MutexGuard<'_, HashMap<u32, usize>> {
        self.busy.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn problem(&self) -> Option<String> {
        self.problem
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn set_problem(&self, p: Option<String>) {
        *self.problem.lock().unwrap_or_else(|p| p.into_inner()) = p;
    }

    fn set_owned(&self, owned: BTreeSet<u32>) {
        self.owned.send_if_modified(|o| {
            let changed = *o != owned;
            *o = owned;
            changed
        });
    }
}

/// The rendezvous winner of `partition` among `members`.
pub fn owner_of(members: &[String], partition: u32) -> Option<&str> {
    members
        .iter()
        .max_by_key(|m| {
            let key = format!("{m}/{partition}");
            (xxhash_rust::xxh3::xxh3_64(key.as_bytes()), m.as_str())
        })
        .map(String::as_str)
}

/// The lease loop of one worker.
pub struct Leases {
    pub nats: Nats,
    pub node: String,
    pub roles: Arc<Roles>,
    pub metrics: Arc<Metrics>,
    pub committer: Arc<Committer>,
}

/// The running committer of this worker, if it holds the lease.
struct Committing {
    revision: u64,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Leases {
    /// Runs until `stop`; then gives up every lease it holds (so others take over at once
    /// instead of after a lease period).
    pub async fn run(self, stop: CancellationToken) {
        let period = self.nats.cfg.lease() / 3;
        let mut held: BTreeMap<u32, u64> = BTreeMap::new();
        let mut committing: Option<Committing> = None;
        let mut last_ok = Instant::now();
        let errors = crate::pipeline::gate::ErrorLog::new(Duration::from_secs(60));
        loop {
            match self.turn(&mut held, &mut committing).await {
                Ok(()) => {
                    last_ok = Instant::now();
                    self.roles.set_problem(None);
                }
                Err(e) => {
                    let msg = e.to_string();
                    events::cluster_error(
                        &self.metrics,
                        &msg,
                        "renew leases",
                        errors.admit("leases"),
                    );
                    self.roles.set_problem(Some(format!(
                        "cannot renew leases through NATS ({}): {msg}",
                        self.nats.cfg.nats_url
                    )));
                    // Stop before the leases lapse and another worker takes them.
                    if last_ok.elapsed() >= period * 2 {
                        self.give_up_all(&mut held, &mut committing, false).await;
                    }
                }
            }
            self.metrics
                .cluster_roles(self.roles.owned_count(), committing.is_some());
            self.roles
                .committer
                .store(committing.is_some(), std::sync::atomic::Ordering::Relaxed);
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = tokio::time::sleep(period) => {}
            }
        }
        self.give_up_all(&mut held, &mut committing, true).await;
    }

    async fn turn(
        &self,
        held: &mut BTreeMap<u32, u64>,
        committing: &mut Option<Committing>,
    ) -> Result<(), ClusterError> {
        let kv = &self.nats.leases;
        let me = self.node.as_str();
        kv.put(format!("member.{me}"), me.to_string().into())
            .await
            .map_err(|e| ClusterError::nats("heartbeat", e))?;
        let mut members: Vec<String> = kv
            .keys()
            .await
            .map_err(|e| ClusterError::nats("list members", e))?
            .try_collect::<Vec<String>>()
            .await
            .map_err(|e| ClusterError::nats("list members", e))?
            .into_iter()
            .filter_map(|k| k.strip_prefix("member.").map(str::to_string))
            .collect();
        if !members.iter().any(|m| m == me) {
            members.push(me.to_string());
        }
        members.sort();
        let want: BTreeSet<u32> = (0..self.roles.partitions)
            .filter(|p| owner_of(&members, *p) == Some(me))
            .collect();

        // Partitions no longer ours: stop polling at once, release when idle.
        let mut owned: BTreeSet<u32> = held.keys().copied().filter(|p| want.contains(p)).collect();
        self.roles.set_owned(owned.clone());
        let (mut released, mut lost, mut gained) = (Vec::new(), Vec::new(), Vec::new());
        for (p, rev) in held.clone() {
            let key = format!("part.{p}");
            if !want.contains(&p) && !self.roles.busy(p) {
                let _ = kv.delete_expect_revision(&key, Some(rev)).await;
                held.remove(&p);
                released.push(p);
                continue;
            }
            match kv.update(&key, me.to_string().into(), rev).await {
                Ok(new) => {
                    held.insert(p, new);
                }
                Err(_) => {
                    held.remove(&p);
                    owned.remove(&p);
                    self.roles.set_owned(owned.clone());
                    lost.push(p);
                }
            }
        }
        // Partitions we win and do not hold: claim the free ones (the previous owner
        // deletes its lease once idle, or it lapses).
        let free: Vec<u32> = want
            .iter()
            .copied()
            .filter(|p| !held.contains_key(p))
            .collect();
        for p in free {
            let key = format!("part.{p}");
            if let Some(rev) = self.claim(&key).await {
                held.insert(p, rev);
                owned.insert(p);
                gained.push(p);
            }
        }
        self.roles.set_owned(owned);
        for (list, gain, why) in [
            (released, false, "released"),
            (lost, false, "lost"),
            (gained, true, "claimed"),
        ] {
            if !list.is_empty() {
                let what = list
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(",");
                events::lease_changed(
                    &self.metrics,
                    &format!("partitions {what}"),
                    list.len(),
                    gain,
                    why,
                );
            }
        }
        self.committer_turn(committing).await;
        Ok(())
    }

    /// Takes a free lease, or one still held under this node's name (a restart with the
    /// same `cluster.node`); its revision.
    async fn claim(&self, key: &str) -> Option<u64> {
        let kv = &self.nats.leases;
        let me = self.node.as_str();
        if let Ok(rev) = kv.create(key, me.to_string().into()).await {
            return Some(rev);
        }
        let entry = kv.entry(key.to_string()).await.ok()??;
        if entry.operation != async_nats::jetstream::kv::Operation::Put
            || entry.value != me.as_bytes()
        {
            return None;
        }
        kv.update(key, me.to_string().into(), entry.revision)
            .await
            .ok()
    }

    async fn committer_turn(&self, committing: &mut Option<Committing>) {
        let kv = &self.nats.leases;
        let me = self.node.as_str();
        if let Some(c) = committing.as_mut() {
            let renewed = if c.task.is_finished() {
                None // it failed (logged); let the lease go so it restarts cleanly
            } else {
                kv.update("committer", me.to_string().into(), c.revision)
                    .await
                    .ok()
            };
            match renewed {
                Some(rev) => c.revision = rev,
                None => self.stop_committing(committing, true, "lost").await,
            }
            return;
        }
        if !self.nats.cfg.committer {
            return;
        }
        if let Some(revision) = self.claim("committer").await {
            events::lease_changed(&self.metrics, "committer", 1, true, "claimed");
            let stop = CancellationToken::new();
            let (committer, s, metrics) =
                (self.committer.clone(), stop.clone(), self.metrics.clone());
            let task = tokio::spawn(async move {
                if let Err(e) = committer.run(&s).await {
                    events::cluster_error(&metrics, &e.to_string(), "commit", Some(0));
                }
            });
            *committing = Some(Committing {
                revision,
                stop,
                task,
            });
        }
    }

    /// Stops the committer, if this worker runs it, waits for it, and with `release` deletes
    /// its lease (so another worker takes over at once, not after a lease period).
    async fn stop_committing(&self, committing: &mut Option<Committing>, release: bool, why: &str) {
        let Some(c) = committing.take() else { return };
        c.stop.cancel();
        let _ = c.task.await;
        if release {
            let _ = self
                .nats
                .leases
                .delete_expect_revision("committer", Some(c.revision))
                .await;
        }
        events::lease_changed(&self.metrics, "committer", 1, false, why);
    }

    /// Stops polling and committing; `release` also deletes the leases (a clean stop).
    async fn give_up_all(
        &self,
        held: &mut BTreeMap<u32, u64>,
        committing: &mut Option<Committing>,
        release: bool,
    ) {
        self.roles.set_owned(BTreeSet::new());
        self.stop_committing(committing, release, "given up").await;
        if release {
            // In-flight polls have been drained by the daemon before it stops the leases.
            for (p, rev) in held.iter() {
                let _ = self
                    .nats
                    .leases
                    .delete_expect_revision(format!("part.{p}"), Some(*rev))
                    .await;
            }
            let _ = self
                .nats
                .leases
                .delete(format!("member.{}", self.node))
                .await;
        } else if !held.is_empty() {
            warn!(
                event = "partitions_given_up",
                count = held.len(),
                "NATS unreachable for two thirds of a lease: polling stops until it is back"
            );
        }
        held.clear();
    }
}
