//! The scheduler's book of feeds: which feed is due when, which are in flight, which fail.
//!
//! Owns: one entry per listed feed and a queue ordered by due time. Every operation costs
//! O(log n) in the number of feeds (a dispatch, a completion, a reload's per-feed update), so
//! the cost of a poll does not grow with the feed list. Must not: do I/O or know about the
//! pipeline; the daemon loop feeds it due times and completions.
//!
//! Times are tokio [`Instant`]s (so tests can pause time); the daemon converts the wall-clock
//! `next_poll` the store persists.

use std::collections::{BTreeMap, HashMap};

use tokio::time::Instant;
use url::Url;

use crate::config::FeedSpec;
use crate::metrics::{ERROR_KINDS, ErrorKind};

/// When a feed is due, as the daemon learns it from the store or a finished poll.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Due {
    At(Instant),
    /// Disabled (410 Gone): kept in the book, never dispatched.
    Never,
}

#[derive(Debug)]
enum Slot {
    /// Waiting in the queue under this key.
    Queued((Instant, u64)),
    /// Dispatched, not yet completed (its dispatch time is in `in_flight`).
    InFlight,
    Disabled,
}

#[derive(Debug)]
struct Entry {
    spec: FeedSpec,
    slot: Slot,
    /// How its last poll failed, if it did (feeds the failing-hosts and per-kind counts).
    failing: Option<ErrorKind>,
    /// Removed from the list while in flight: dropped when it completes.
    removed: bool,
}

/// The book. See the module docs.
#[derive(Debug, Default)]
pub struct Scheduler {
    feeds: HashMap<Url, Entry>,
    /// Due time (+ a tie-breaker, so two feeds due at once are both kept) → feed.
    queue: BTreeMap<(Instant, u64), Url>,
    next_tie: u64,
    /// Failing feeds per host; a host is failing while its count is above zero.
    failing_hosts: HashMap<String, usize>,
    /// Failing feeds per error kind (for the `newsd_failing_feeds` gauge).
    failing_kinds: [u64; ERROR_KINDS],
    /// Dispatch time of each in-flight feed (at most `daemon.max_concurrent_feeds`), so the
    /// oldest is found without walking every feed.
    in_flight: HashMap<Url, Instant>,
}

impl Scheduler {
    pub fn new() -> Scheduler {
        Scheduler::default()
    }

    /// Replaces the feed list. Feeds already known keep their place (and an in-flight poll
    /// stays in flight); new feeds are placed by `due`; feeds no longer listed are dropped
    /// (at once, or when their in-flight poll completes), so the book shrinks with the list.
    pub fn set_feeds(&mut self, specs: Vec<FeedSpec>, mut due: impl FnMut(&FeedSpec) -> Due) {
        let listed: std::collections::HashSet<&Url> = specs.iter().map(|s| &s.url).collect();
        let gone: Vec<Url> = self
            .feeds
            .keys()
            .filter(|u| !listed.contains(u))
            .cloned()
            .collect();
        for url in gone {
            let in_flight = matches!(self.feeds[&url].slot, Slot::InFlight);
            if in_flight {
                if let Some(e) = self.feeds.get_mut(&url) {
                    e.removed = true;
                }
            } else {
                self.remove(&url);
            }
        }
        for spec in specs {
            match self.feeds.get_mut(&spec.url) {
                Some(e) => {
                    e.removed = false;
                    e.spec = spec; // an edited interval takes effect from the next poll
                }
                None => {
                    let d = due(&spec);
                    let url = spec.url.clone();
                    self.feeds.insert(
                        url.clone(),
                        Entry {
                            spec,
                            slot: Slot::Disabled,
                            failing: None,
                            removed: false,
                        },
                    );
                    self.place(&url, d);
                }
            }
        }
    }

    fn remove(&mut self, url: &Url) {
        if let Some(e) = self.feeds.remove(url) {
            if let Slot::Queued(key) = e.slot {
                self.queue.remove(&key);
            }
            if e.failing.is_some() {
                self.set_failing(url, e.failing, None);
            }
        }
    }

    fn place(&mut self, url: &Url, due: Due) {
        let Some(e) = self.feeds.get_mut(url) else {
            return;
        };
        if let Slot::Queued(key) = e.slot {
            self.queue.remove(&key);
        }
        e.slot = match due {
            Due::Never => Slot::Disabled,
            Due::At(t) => {
                let key = (t, self.next_tie);
                self.next_tie += 1;
                self.queue.insert(key, url.clone());
                Slot::Queued(key)
            }
        };
    }

    /// Takes the earliest feed due at `now`, marking it in flight.
    pub fn pop_due(&mut self, now: Instant) -> Option<FeedSpec> {
        let (&key, _) = self.queue.first_key_value()?;
        if key.0 > now {
            return None;
        }
        let (_, url) = self.queue.pop_first()?;
        let e = self.feeds.get_mut(&url)?;
        e.slot = Slot::InFlight;
        let spec = e.spec.clone();
        self.in_flight.insert(url, now);
        Some(spec)
    }

    /// A poll of `url` ended: it is due again per `due`, and `failure` says how the feed itself
    /// failed, if it did.
    pub fn complete(&mut self, url: &Url, due: Due, failure: Option<ErrorKind>) {
        self.in_flight.remove(url);
        let Some(e) = self.feeds.get(url) else {
            return;
        };
        if e.removed {
            self.remove(url);
            return;
        }
        let was = e.failing;
        if was != failure {
            if let Some(e) = self.feeds.get_mut(url) {
                e.failing = failure;
            }
            self.set_failing(url, was, failure);
        }
        self.place(url, due);
    }

    /// Re-reads every waiting feed's due time (after the store came back, its persisted
    /// state may differ from what this book assumed). In-flight feeds are left alone.
    pub fn reschedule_all(&mut self, mut due: impl FnMut(&FeedSpec) -> Due) {
        let waiting: Vec<(Url, Due)> = self
            .feeds
            .iter()
            .filter(|(_, e)| !matches!(e.slot, Slot::InFlight))
            .map(|(u, e)| (u.clone(), due(&e.spec)))
            .collect();
        for (url, d) in waiting {
            self.place(&url, d);
        }
    }

    fn set_failing(&mut self, url: &Url, was: Option<ErrorKind>, now: Option<ErrorKind>) {
        if let Some(k) = was {
            self.failing_kinds[k as usize] = self.failing_kinds[k as usize].saturating_sub(1);
        }
        if let Some(k) = now {
            self.failing_kinds[k as usize] += 1;
        }
        if was.is_some() == now.is_some() {
            return;
        }
        let host = url.host_str().unwrap_or_default().to_string();
        if now.is_some() {
            *self.failing_hosts.entry(host).or_default() += 1;
        } else if let Some(n) = self.failing_hosts.get_mut(&host) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.failing_hosts.remove(&host);
            }
        }
    }

    /// When the earliest waiting feed is due.
    pub fn next_due(&self) -> Option<Instant> {
        self.queue.first_key_value().map(|(k, _)| k.0)
    }

    /// Feeds in the book (listed, plus removed ones still in flight).
    pub fn len(&self) -> usize {
        self.feeds.len()
    }

    pub fn is_empty(&self) -> bool {
        self.feeds.is_empty()
    }

    /// Feeds due at `now` and waiting for a free poll slot (or for ingest to resume).
    /// O(due feeds); for status lines, not for every dispatch.
    pub fn due_count(&self, now: Instant) -> usize {
        self.queue.range(..=(now, u64::MAX)).count()
    }

    /// Dispatch time of every in-flight poll (at most `daemon.max_concurrent_feeds`).
    pub fn in_flight(&self) -> impl Iterator<Item = Instant> + '_ {
        self.in_flight.values().copied()
    }

    /// Hosts whose feeds' last poll failed.
    pub fn failing_hosts(&self) -> usize {
        self.failing_hosts.len()
    }

    /// Feeds whose last poll failed, per error kind.
    pub fn failing_by_kind(&self) -> &[u64; ERROR_KINDS] {
        &self.failing_kinds
    }

    #[cfg(test)]
    fn failing_host_names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.failing_hosts.keys().map(String::as_str).collect();
        v.sort();
        v
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn spec(url: &str) -> FeedSpec {
        FeedSpec {
            url: Url::parse(url).unwrap(),
            interval: None,
            title: None,
            origin: String::new(),
        }
    }

    fn urls(list: &[&str]) -> Vec<FeedSpec> {
        list.iter().map(|u| spec(u)).collect()
    }

    #[tokio::test(start_paused = true)]
    async fn feeds_come_due_in_order_and_only_when_due() {
        let t0 = Instant::now();
        let mut s = Scheduler::new();
        let at = |secs: u64| Due::At(t0 + Duration::from_secs(secs));
        s.set_feeds(
            urls(&["http://a.test/f", "http://b.test/f", "http://c.test/f"]),
            |f| match f.url.host_str() {
                Some("a.test") => at(30),
                Some("b.test") => at(10),
                _ => Due::Never,
            },
        );
        assert_eq!(s.next_due(), Some(t0 + Duration::from_secs(10)));
        assert!(s.pop_due(t0).is_none(), "nothing is due yet");
        let now = t0 + Duration::from_secs(60);
        assert_eq!(s.due_count(now), 2);
        let first = s.pop_due(now).unwrap();
        let second = s.pop_due(now).unwrap();
        assert_eq!(first.url.as_str(), "http://b.test/f");
        assert_eq!(second.url.as_str(), "http://a.test/f");
        assert!(
            s.pop_due(now).is_none(),
            "the disabled feed is never dispatched"
        );
        assert_eq!(s.in_flight().count(), 2);
        // Completion puts a feed back at its next due time; in flight it is not due twice.
        s.complete(&first.url, at(100), None);
        assert_eq!(s.next_due(), Some(t0 + Duration::from_secs(100)));
        assert_eq!(s.in_flight().count(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn two_feeds_due_at_the_same_instant_are_both_kept() {
        let t0 = Instant::now();
        let mut s = Scheduler::new();
        s.set_feeds(urls(&["http://a.test/1", "http://a.test/2"]), |_| {
            Due::At(t0)
        });
        assert!(s.pop_due(t0).is_some() && s.pop_due(t0).is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn a_reload_drops_unlisted_feeds_and_keeps_in_flight_ones_until_they_end() {
        let t0 = Instant::now();
        let mut s = Scheduler::new();
        s.set_feeds(urls(&["http://a.test/f", "http://b.test/f"]), |_| {
            Due::At(t0)
        });
        let a = s.pop_due(t0).unwrap();
        s.complete(&a.url, Due::At(t0), Some(ErrorKind::Connect));
        let a = s.pop_due(t0).unwrap(); // in flight again
        assert_eq!(s.failing_host_names(), ["a.test"]);
        s.set_feeds(urls(&["http://c.test/f"]), |_| Due::At(t0));
        // b was waiting: gone at once; a is in flight: kept until it completes.
        assert_eq!(s.len(), 2);
        s.complete(&a.url, Due::At(t0), Some(ErrorKind::Connect));
        assert_eq!(s.len(), 1, "the book shrinks with the list");
        assert!(s.failing_host_names().is_empty());
        assert_eq!(
            s.pop_due(t0).unwrap().url.as_str(),
            "http://c.test/f",
            "only the listed feed is dispatched"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn failing_hosts_count_hosts_not_feeds_and_recover() {
        let t0 = Instant::now();
        let mut s = Scheduler::new();
        s.set_feeds(
            urls(&["http://a.test/1", "http://a.test/2", "http://b.test/1"]),
            |_| Due::At(t0),
        );
        let mut polled = Vec::new();
        while let Some(f) = s.pop_due(t0) {
            polled.push(f.url);
        }
        for u in &polled {
            let failed = u.host_str() == Some("a.test");
            s.complete(u, Due::At(t0), failed.then_some(ErrorKind::Dns));
        }
        assert_eq!(s.failing_hosts(), 1);
        assert_eq!(s.failing_by_kind()[ErrorKind::Dns as usize], 2);
        let f = s.pop_due(t0).unwrap();
        s.complete(&f.url, Due::At(t0), None);
        let f = s.pop_due(t0).unwrap();
        s.complete(&f.url, Due::At(t0), Some(ErrorKind::Timeout));
        assert_eq!(s.failing_hosts(), 1, "a.test still has a failing feed");
        assert_eq!(s.failing_by_kind()[ErrorKind::Dns as usize], 0);
        assert_eq!(s.failing_by_kind()[ErrorKind::Timeout as usize], 1);
    }

    #[tokio::test(start_paused = true)]
    async fn reschedule_moves_waiting_feeds_only() {
        let t0 = Instant::now();
        let later = t0 + Duration::from_secs(500);
        let mut s = Scheduler::new();
        s.set_feeds(urls(&["http://a.test/f", "http://b.test/f"]), |_| {
            Due::At(later)
        });
        assert!(s.pop_due(later).is_some());
        s.reschedule_all(|_| Due::At(t0));
        assert_eq!(s.due_count(t0), 1, "the in-flight feed is not queued twice");
    }
}
