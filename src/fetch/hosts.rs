//! Per-host politeness: a concurrency limit, a minimum gap between requests, and a pause
//! when a host answers 429/503 with `Retry-After`. Feeds and article pages share it, so a
//! site is never hit harder than configured, whatever mix of work is queued for it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Longest pause one `Retry-After` may impose on a host (a bogus header cannot stall it for
/// a year).
const MAX_PAUSE: Duration = Duration::from_secs(6 * 3600);
/// How often idle hosts are forgotten, so the map shrinks when feeds leave the list.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct HostLimiter {
    inner: Arc<Inner>,
}

struct Inner {
    per_host: usize,
    delay: Duration,
    global: Arc<Semaphore>,
    hosts: Mutex<Hosts>,
}

#[derive(Default)]
struct Hosts {
    map: HashMap<String, Arc<HostState>>,
    /// When idle hosts were last forgotten.
    pruned: Option<Instant>,
}

struct HostState {
    slots: Arc<Semaphore>,
    /// Earliest start of the next request (the delay ledger and any Retry-After pause).
    next_start: Mutex<Instant>,
}

/// Held while a request runs; dropping it frees the host and global slots.
pub struct Permit {
    _host: OwnedSemaphorePermit,
    _global: OwnedSemaphorePermit,
}

impl HostLimiter {
    pub fn new(per_host: usize, delay: Duration, global: usize) -> HostLimiter {
        HostLimiter {
            inner: Arc::new(Inner {
                per_host: per_host.max(1),
                delay,
                global: Arc::new(Semaphore::new(global.max(1))),
                hosts: Mutex::new(Hosts::default()),
            }),
        }
    }

    fn state(&self, host: &str) -> Arc<HostState> {
        let mut hosts = self.inner.hosts.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if hosts
            .pruned
            .is_none_or(|t| now.duration_since(t) >= PRUNE_EVERY)
        {
            hosts.pruned = Some(now);
            let per_host = self.inner.per_host;
            // Idle: nobody waiting or holding a slot (only the map holds the state, every
            // slot free) and no delay or pause pending. Forgetting it loses nothing.
            hosts.map.retain(|_, st| {
                let idle = Arc::strong_count(st) == 1
                    && st.slots.available_permits() == per_host
                    && *st.next_start.lock().unwrap_or_else(|p| p.into_inner()) <= now;
                !idle
            });
        }
        hosts
            .map
            .entry(host.to_string())
            .or_insert_with(|| {
                Arc::new(HostState {
                    slots: Arc::new(Semaphore::new(self.inner.per_host)),
                    next_start: Mutex::new(Instant::now()),
                })
            })
            .clone()
    }

    /// Waits for a slot on `host` (FIFO), then for the host's next allowed start time.
    pub async fn acquire(&self, host: &str) -> Permit {
        let state = self.state(host);
        let host_permit = state
            .slots
            .clone()
            .acquire_owned()
            .await
            .expect("host semaphore is never closed");
        loop {
            let wait_until = {
                let mut next = state.next_start.lock().unwrap_or_else(|p| p.into_inner());
                let now = Instant::now();
                if *next <= now {
                    *next = now + self.inner.delay;
                    None
                } else {
                    Some(*next)
                }
            };
            match wait_until {
                None => break,
                Some(t) => tokio::time::sleep_until(t).await,
            }
        }
        let global = self
            .inner
            .global
            .clone()
            .acquire_owned()
            .await
            .expect("global semaphore is never closed");
        Permit {
            _host: host_permit,
            _global: global,
        }
    }

    /// Pauses every request to `host` for `wait` (capped), e.g. after 429 + Retry-After.
    pub fn pause(&self, host: &str, wait: Duration) {
        let state = self.state(host);
        let mut next = state.next_start.lock().unwrap_or_else(|p| p.into_inner());
        let until = Instant::now() + wait.min(MAX_PAUSE);
        if until > *next {
            *next = until;
        }
    }
}

impl HostLimiter {
    /// Hosts currently remembered (for tests and the soak check).
    pub fn hosts_tracked(&self) -> usize {
        self.inner
            .hosts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .map
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn idle_hosts_are_forgotten_busy_or_paused_ones_kept() {
        let limiter = HostLimiter::new(1, Duration::from_millis(10), 8);
        for i in 0..50 {
            let _p = limiter.acquire(&format!("h{i}.example")).await;
        }
        let busy = limiter.acquire("busy.example").await;
        limiter.pause("paused.example", Duration::from_secs(3600));
        assert_eq!(limiter.hosts_tracked(), 52);
        tokio::time::sleep(PRUNE_EVERY).await;
        let _p = limiter.acquire("new.example").await;
        // The 50 idle hosts are gone; the busy one (slot held) and the paused one stay.
        assert_eq!(limiter.hosts_tracked(), 3);
        drop(busy);
        // A paused host is still paused after the prune.
        let t = Instant::now();
        let _q = limiter.acquire("paused.example").await;
        assert!(t.elapsed() >= Duration::from_secs(3500));
    }

    #[tokio::test(start_paused = true)]
    async fn requests_to_one_host_are_spaced_by_the_delay() {
        let limiter = HostLimiter::new(1, Duration::from_millis(500), 8);
        let start = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..3 {
            let _p = limiter.acquire("a.example").await;
            starts.push(start.elapsed());
        }
        assert_eq!(
            starts,
            [
                Duration::ZERO,
                Duration::from_millis(500),
                Duration::from_millis(1000)
            ]
        );
        // Another host is not slowed by the first one's ledger.
        let t = Instant::now();
        let _p = limiter.acquire("b.example").await;
        assert_eq!(t.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_the_whole_host() {
        let limiter = HostLimiter::new(2, Duration::ZERO, 8);
        limiter.pause("a.example", Duration::from_secs(120));
        let t = Instant::now();
        let _p = limiter.acquire("a.example").await;
        assert_eq!(t.elapsed(), Duration::from_secs(120));
    }

    #[tokio::test(start_paused = true)]
    async fn concurrency_per_host_is_capped() {
        let limiter = HostLimiter::new(2, Duration::ZERO, 8);
        let a = limiter.acquire("h").await;
        let _b = limiter.acquire("h").await;
        let l2 = limiter.clone();
        let third = tokio::spawn(async move {
            let _c = l2.acquire("h").await;
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(!third.is_finished(), "a third request must wait for a slot");
        drop(a);
        third.await.unwrap();
    }
}
