//! `newsd once`: one pass over every feed, polls side by side, commits in list order.

use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesOrdered;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::{DISK_CHECK_EVERY, DaemonError, Services};
use crate::config::Config;
use crate::pipeline::Report;
use crate::pipeline::order::Line;

/// `newsd once`: polls every feed once, in list order, and returns the counts.
///
/// Up to `daemon.max_concurrent_feeds` feeds are polled at once (pages within a feed are
/// fetched concurrently too), but each poll hands its articles to the writer only after the
/// poll before it in the list has ended, so ingest order, and with it which copy of a story
/// is the original, is the list order whatever arrives first. A store that fails (or free
/// disk below the watermark) ends the pass with an error once the polls under way end:
/// nothing already stored is lost, and the next pass resumes.
/// `on_feed` is called with each feed's counts as it is done (the CLI's progress line).
pub async fn once(
    cfg: Config,
    shutdown: CancellationToken,
    mut on_feed: impl FnMut(&Report),
) -> Result<Report, DaemonError> {
    if cfg.cluster.is_some() {
        return Err(DaemonError::OnceInCluster);
    }
    let (feeds, problems) = cfg.load_feeds();
    for p in &problems {
        warn!(event = "feed_list_error", error = %p);
    }
    let drain = Duration::from_secs(cfg.daemon.drain_timeout_secs);
    let max_polls = cfg.daemon.max_concurrent_feeds.max(1);
    let services = Services::start(cfg)?;
    let mut report = Report::default();
    let mut stopped_by = None;
    let mut next_disk_check = Instant::now();
    // Up to `daemon.max_concurrent_feeds` polls at once, each at its place in the list
    // (pipeline::order): a page two feeds list is fetched by the earlier one, and articles
    // reach the writer in list order, so which copy of a story is the original does not
    // depend on which page arrived first. Results come back in list order too.
    let mut polls = FuturesOrdered::new();
    let mut line = Line::new();
    let mut list = feeds.iter();
    let mut starting = true;
    loop {
        while starting && polls.len() < max_polls {
            if shutdown.is_cancelled() {
                starting = false;
                break;
            }
            // Free disk is checked before the first feed and every DISK_CHECK_EVERY after; a
            // store that failed is not reopened here: the pass stops, as documented.
            if !services.gate.is_paused() && Instant::now() >= next_disk_check {
                next_disk_check = Instant::now() + DISK_CHECK_EVERY;
                let gate = services.gate.clone();
                let _ = tokio::task::spawn_blocking(move || gate.recover()).await;
            }
            if services.gate.is_paused() {
                stopped_by = services.gate.cause().map(|c| c.to_string());
                starting = false;
                break;
            }
            let Some(spec) = list.next() else {
                starting = false;
                break;
            };
            match services.store.feed_state(spec.url.as_str()) {
                Ok(Some(state)) if state.disabled.is_some() => {
                    let why = state.disabled.unwrap_or_default();
                    info!(event = "feed_disabled", feed = %spec.url, reason = %why);
                    continue;
                }
                Ok(_) => {}
                Err(e) => {
                    services.gate.store_failed(&e, "read feed state");
                    continue;
                }
            }
            polls.push_back(services.pipeline.poll_after(spec, Some(line.next_place())));
        }
        if polls.is_empty() {
            break;
        }
        tokio::select! {
            Some(done) = polls.next() => {
                report.add(&done.report);
                on_feed(&done.report);
            }
            _ = shutdown.cancelled() => break,
        }
    }
    drop(polls);
    if stopped_by.is_none() && services.gate.is_paused() {
        stopped_by = services.gate.cause().map(|c| c.to_string());
    }
    services.stop(Instant::now() + drain).await?;
    match stopped_by {
        Some(cause) => Err(DaemonError::StoreFailing(cause)),
        None => Ok(report),
    }
}
