//! One feed poll: fetch, parse, hand every new item to the page workers, commit the results
//! in feed order, and persist the feed's state (validators only when every item settled).

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use chrono::Utc;
use futures_util::FutureExt;
use tokio::sync::oneshot;
use tracing::{Instrument, info_span};

use super::order::{Place, Turn, within};
use super::{ItemOutcome, PageJob, Pipeline, PollDone, Prepared, Report};
use crate::article;
use crate::config::FeedSpec;
use crate::events;
use crate::feed::{self, FeedError};
use crate::fetch::{CacheHints, FetchError, Kind, Outcome};
use crate::metrics::{Abandon, ErrorKind, ExtractFailure, Target};
use crate::model::FeedItem;
use crate::schedule::{self, FeedState};
use crate::store::StoreError;

/// How soon a feed whose poll could not read or save its state is tried again (ingest is
/// paused meanwhile if the store is failing, so this is a floor, not a hammer).
const STORE_RETRY: Duration = Duration::from_secs(60);

/// How long the ready articles of a poll wait for its next page before they go to the writer
/// without it.
const FLUSH_AFTER: Duration = Duration::from_millis(250);

impl Pipeline {
    /// Polls one feed and reports on every way out: a poll that panics or runs past
    /// `daemon.poll_timeout_secs` is recorded as a failed poll of its feed (error streak,
    /// backoff), so its feed is released and polled again later.
    pub async fn poll(&self, spec: &FeedSpec) -> PollDone {
        self.poll_after(spec, None).await
    }

    /// [`Pipeline::poll`] at a place in `newsd once`'s list order (see [`super::order`]): the
    /// poll fetches and extracts side by side with the others, but registers its pages after
    /// the poll before it and hands articles to the writer only after that poll has ended.
    /// The waits do not count against `daemon.poll_timeout_secs`. The next poll in line may
    /// commit once this returns (the place goes with it).
    pub async fn poll_after(&self, spec: &FeedSpec, place: Option<Place>) -> PollDone {
        let feed = spec.url.as_str().to_string();
        let span = info_span!("feed_poll", feed = %feed);
        let timeout = Duration::from_secs(self.inner.cfg.daemon.poll_timeout_secs);
        let turn = Turn::new(place);
        let run = AssertUnwindSafe(self.poll_feed(spec, &turn))
            .catch_unwind()
            .instrument(span.clone());
        let ran = within(timeout, &turn, run).await;
        // Not counted against the timeout: the earlier polls' time.
        turn.finish().await;
        let abandoned = match ran {
            Some(Ok(done)) => return done,
            Some(Err(panic)) => {
                let msg = panic_message(&*panic);
                (Abandon::Panic, format!("{feed}: the poll panicked: {msg}"))
            }
            None => (
                Abandon::Timeout,
                format!(
                    "{feed}: the poll took longer than daemon.poll_timeout_secs ({} s); items done so far are kept",
                    timeout.as_secs()
                ),
            ),
        };
        let (why, error) = abandoned;
        let _enter = span.enter();
        let metrics = &self.inner.metrics;
        let next = match self.feed_state(&feed).await {
            Some(mut state) => {
                let wait = self.fail(&mut state, why.label(), &error, None);
                events::poll_abandoned(metrics, why, &error, state.error_streak, wait);
                self.save_state(&feed, &state).await;
                state.next_poll
            }
            None => {
                events::poll_abandoned(metrics, why, &error, 0, STORE_RETRY);
                Some(Utc::now() + STORE_RETRY)
            }
        };
        PollDone {
            report: Report {
                feeds_polled: 1,
                feed_errors: 1,
                ..Report::default()
            },
            next,
            failure: Some(match why {
                Abandon::Panic => ErrorKind::Panic,
                Abandon::Timeout => ErrorKind::Timeout,
            }),
        }
    }

    /// The feed's saved state (default for a new feed); `None` when the store failed (the
    /// gate has been told) or, in cluster mode, NATS could not be asked.
    async fn feed_state(&self, feed: &str) -> Option<FeedState> {
        if let Some(shared) = &self.inner.shared {
            return match shared.feed_state(feed).await {
                Ok(s) => Some(s.unwrap_or_default()),
                // Counted and logged by the cluster link; the poll is retried later.
                Err(_) => None,
            };
        }
        match self.inner.store.feed_state(feed) {
            Ok(s) => Some(s.unwrap_or_default()),
            Err(e) => {
                self.inner.gate.store_failed(&e, "read feed state");
                None
            }
        }
    }

    async fn save_state(&self, feed: &str, state: &FeedState) -> bool {
        if let Some(shared) = &self.inner.shared {
            return match shared.save_feed_state(feed, state).await {
                Ok(()) => true,
                Err(_) => false,
            };
        }
        match self.inner.store.put_feed_state(feed, state) {
            Ok(()) => true,
            Err(e) => {
                self.inner.gate.store_failed(&e, "save feed state");
                false
            }
        }
    }

    /// Polls one feed: fetch, parse, process every new item, update and persist its state.
    async fn poll_feed(&self, spec: &FeedSpec, turn: &Turn) -> PollDone {
        let feed = spec.url.as_str();
        if let Some(hook) = &self.inner.hooks.before_poll {
            hook(feed);
        }
        let Some(mut state) = self.feed_state(feed).await else {
            return store_trouble(Report::default());
        };
        // Cluster mode: a feed this worker has just taken over may have been polled by its
        // previous owner moments ago; its saved state says when it is due.
        if self.inner.shared.is_some()
            && let Some(next) = state.next_poll
            && next > Utc::now()
            && state.disabled.is_none()
        {
            return PollDone {
                report: Report::default(),
                next: Some(next),
                failure: None,
            };
        }
        let (report, failure) = match self.poll_with(spec, &mut state, turn).await {
            Ok(x) => x,
            Err(e) => {
                self.inner.gate.store_failed(&e, "feed poll");
                return store_trouble(Report {
                    feeds_polled: 1,
                    ..Report::default()
                });
            }
        };
        if !self.save_state(feed, &state).await {
            return store_trouble(report);
        }
        PollDone {
            next: if state.disabled.is_some() {
                None
            } else {
                state.next_poll
            },
            report,
            failure,
        }
    }

    /// The poll proper; updates `state` in memory. Returns the counts and how the feed itself
    /// failed, if it did.
    async fn poll_with(
        &self,
        spec: &FeedSpec,
        state: &mut FeedState,
        turn: &Turn,
    ) -> Result<(Report, Option<ErrorKind>), StoreError> {
        let cfg = &self.inner.cfg;
        let feed = spec.url.as_str();
        let now = Utc::now();
        state.last_polled = Some(now);
        let interval = spec
            .interval
            .unwrap_or(Duration::from_secs(cfg.schedule.default_interval_secs));
        let mut report = Report {
            feeds_polled: 1,
            ..Report::default()
        };

        let metrics = &self.inner.metrics;
        let started = std::time::Instant::now();
        let fetched = self
            .inner
            .fetcher
            .get(&spec.url, Kind::Feed, Some(&state.validators))
            .await;
        events::fetched(metrics, Target::Feed, started.elapsed());
        let (fetched, hints) = match fetched {
            Ok(Outcome::NotModified(hints)) => {
                events::feed_not_modified(metrics);
                report.feeds_not_modified = 1;
                self.succeed(state, interval, hints);
                return Ok((report, None));
            }
            Ok(Outcome::Fetched(f)) => {
                let hints = f.hints;
                (f, hints)
            }
            Err(e) => {
                if let FetchError::Status { status: 410, .. } = e {
                    events::feed_gone(&e.to_string());
                    state.disabled = Some(format!("410 Gone at {}", now.to_rfc3339()));
                }
                let error = e.to_string();
                let wait = self.fail(state, e.kind(), &error, e.retry_after());
                events::feed_error(metrics, e.kind(), &error, state.error_streak, wait);
                report.feed_errors = 1;
                return Ok((report, ErrorKind::from_label(e.kind())));
            }
        };

        let max_items = cfg.fetch.max_feed_items;
        let (body, content_type, final_url) =
            (fetched.body, fetched.content_type, fetched.final_url);
        let parsed = self
            .inner
            .cpu
            .run(move || feed::parse_feed(&body, content_type.as_deref(), &final_url, max_items))
            .await
            .unwrap_or_else(|e| {
                Err(FeedError::Malformed {
                    reason: format!("parser crashed: {e}"),
                })
            });
        let parsed = match parsed {
            Ok(p) => p,
            Err(e) => {
                let error = format!("{feed}: {e}");
                let wait = self.fail(state, "parse", &error, None);
                events::feed_error(metrics, "parse", &error, state.error_streak, wait);
                report.feed_errors = 1;
                return Ok((report, Some(ErrorKind::Parse)));
            }
        };
        if parsed.title.is_some() {
            state.title = parsed.title.clone();
        }
        if parsed.dropped_entries > 0 {
            events::feed_entries_dropped(metrics, parsed.dropped_entries);
        }
        state.ttl_mins = parsed.ttl_mins;

        // Hand every unknown item to the page workers; keep the replies in feed order. In a
        // `newsd once` pass, a page an earlier feed of the pass fetches is looked at again
        // once that feed has ended (it is then stored, or this poll fetches it).
        turn.wait_to_register().await;
        let mut pending = Vec::new();
        for item in parsed.items {
            let link = article::canonicalize(&item.link);
            if self.known(&link, &item).await? {
                report.count(&ItemOutcome::Known);
                continue;
            }
            if !turn.claim(&[link.as_str(), item.link.as_str()]) {
                pending.push(Pending::Later(Box::new((link, item))));
                continue;
            }
            match self.send_page(feed, item).await {
                Some(rx) => pending.push(Pending::Page(rx)),
                None => break, // workers gone: shutting down
            }
        }
        turn.registered();
        // The articles go to the writer in feed order, as chunks: a chunk is flushed when
        // the next page is not ready within FLUSH_AFTER (or is the last), so a slow page does
        // not hold back the ready ones before it; a poll whose pages come in together is one
        // job, one transaction and one reply. The verdicts are collected after.
        let mut outcomes: Vec<Option<ItemOutcome>> = vec![None; pending.len()];
        let mut chunks: Vec<(Vec<usize>, oneshot::Receiver<Vec<ItemOutcome>>)> = Vec::new();
        let mut chunk: (Vec<usize>, Vec<Prepared>) = Default::default();
        for (i, p) in pending.into_iter().enumerate() {
            let mut rx = match p {
                Pending::Page(rx) => rx,
                Pending::Later(later) => {
                    let (link, item) = *later;
                    turn.wait_to_commit().await;
                    // Chunks may be with the writer already: a store error fails this item
                    // (retried next pass) instead of the whole poll's counts.
                    match self.known(&link, &item).await {
                        Ok(false) => {}
                        Ok(true) => {
                            outcomes[i] = Some(ItemOutcome::Known);
                            continue;
                        }
                        Err(e) => {
                            self.inner.gate.store_failed(&e, "read known URLs");
                            outcomes[i] = Some(ItemOutcome::Failed(e.to_string()));
                            continue;
                        }
                    }
                    match self.send_page(feed, item).await {
                        Some(rx) => rx,
                        None => {
                            outcomes[i] = Some(ItemOutcome::Failed("worker stopped".into()));
                            continue;
                        }
                    }
                }
            };
            let ready = match (&mut rx).now_or_never() {
                Some(r) => r,
                None if chunk.0.is_empty() => rx.await,
                None => match tokio::time::timeout(FLUSH_AFTER, &mut rx).await {
                    Ok(r) => r,
                    Err(_) => {
                        let (idx, pages) = std::mem::take(&mut chunk);
                        turn.wait_to_commit().await;
                        chunks.push((idx, self.submit(pages).await));
                        rx.await
                    }
                },
            };
            match ready {
                Ok(Ok(prepared)) => {
                    chunk.0.push(i);
                    chunk.1.push(prepared);
                }
                Ok(Err(outcome)) => outcomes[i] = Some(outcome),
                Err(_) => outcomes[i] = Some(ItemOutcome::Failed("worker stopped".into())),
            }
        }
        if !chunk.0.is_empty() {
            let (idx, pages) = chunk;
            turn.wait_to_commit().await;
            chunks.push((idx, self.submit(pages).await));
        }
        for (idx, rx) in chunks {
            let mut verdicts = rx.await.unwrap_or_default().into_iter();
            for i in idx {
                outcomes[i] = Some(
                    verdicts
                        .next()
                        .unwrap_or_else(|| ItemOutcome::Failed("writer stopped".into())),
                );
            }
        }
        let mut all_settled = true;
        for outcome in outcomes.into_iter() {
            let outcome = outcome.unwrap_or_else(|| ItemOutcome::Failed("not decided".into()));
            all_settled &= outcome.settled();
            match &outcome {
                ItemOutcome::Stored(_) => state.articles += 1,
                ItemOutcome::Duplicate { .. } => state.copies += 1,
                ItemOutcome::Rejected(_, failure) => {
                    state.rejected += 1;
                    if *failure == Some(ExtractFailure::NoContent) {
                        state.empty += 1;
                    }
                }
                ItemOutcome::Known | ItemOutcome::Failed(_) | ItemOutcome::Queued => {}
            }
            report.count(&outcome);
        }
        if all_settled {
            state.validators = fetched.validators;
        }
        self.succeed(state, interval, hints);
        events::feed_polled(metrics, &report);
        Ok((report, None))
    }

    /// Whether the item's page is stored, recorded or rejected already (by `link`, its
    /// canonical link, or its link as given).
    async fn known(&self, link: &url::Url, item: &FeedItem) -> Result<bool, StoreError> {
        Ok(match &self.inner.shared {
            None => match self.inner.store.known(link.as_str())? {
                Some(_) => true,
                None => self.inner.store.known(item.link.as_str())?.is_some(),
            },
            Some(shared) => match shared.known(link.as_str()).await {
                Ok(true) => true,
                Ok(false) => shared.known(item.link.as_str()).await.unwrap_or(false),
                // Unknown for now: fetched, and the committer sorts it out.
                Err(_) => false,
            },
        })
    }

    /// Queues the item's page for the page workers; None when they are gone (shutdown).
    async fn send_page(
        &self,
        feed: &str,
        item: FeedItem,
    ) -> Option<oneshot::Receiver<Result<Prepared, ItemOutcome>>> {
        let (tx, rx) = oneshot::channel();
        let job = PageJob {
            feed: feed.to_string(),
            item,
            reply: tx,
        };
        self.inner.pages.send(job).await.ok()?;
        Some(rx)
    }

    fn succeed(&self, state: &mut FeedState, interval: Duration, hints: CacheHints) {
        let wait = schedule::after_success(
            &self.inner.cfg.schedule,
            interval,
            state.ttl_mins,
            hints,
            &mut rand::rng(),
        );
        let now = Utc::now();
        state.error_streak = 0;
        state.last_error = None;
        state.last_error_kind = None;
        state.last_success = Some(now);
        state.next_poll = Some(now + chrono::Duration::from_std(wait).unwrap_or_default());
    }

    /// Records a failed poll in `state` (streak, last error, next poll after the backoff);
    /// returns the backoff.
    fn fail(
        &self,
        state: &mut FeedState,
        kind: &str,
        error: &str,
        retry_after: Option<Duration>,
    ) -> Duration {
        state.error_streak = state.error_streak.saturating_add(1);
        let wait = schedule::after_error(
            &self.inner.cfg.schedule,
            state.error_streak,
            retry_after,
            &mut rand::rng(),
        );
        state.last_error = Some(error.to_string());
        state.last_error_kind = Some(kind.to_string());
        state.next_poll = Some(Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default());
        wait
    }
}

/// An item of a poll, in feed order.
enum Pending {
    /// Its page is with the page workers.
    Page(oneshot::Receiver<Result<Prepared, ItemOutcome>>),
    /// An earlier feed of the `newsd once` pass fetches its page: looked at again when that
    /// feed has ended (with its canonical link; boxed: rare, and large).
    Later(Box<(url::Url, FeedItem)>),
}

/// A poll cut short by the store: retried after [`STORE_RETRY`] (the gate pauses ingest
/// meanwhile when the store is failing).
fn store_trouble(report: Report) -> PollDone {
    PollDone {
        report,
        next: Some(Utc::now() + STORE_RETRY),
        failure: None,
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}
