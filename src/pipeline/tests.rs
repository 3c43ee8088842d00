//! In-process tests of the pipeline's ordering and cursor-safety rules and of its ways out
//! (panic, store failure), against a local server.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use url::Url;

use super::*;
use crate::config::FeedSpec;
use crate::daemon::Services;
use crate::store::Known;
use crate::testutil::{Route, Server, rss, story_page};

const HTML: &str = "text/html; charset=utf-8";
const RSS: &str = "application/rss+xml";

pub(crate) fn test_config(dir: &std::path::Path) -> Config {
    let mut cfg = Config::defaults();
    cfg.store.data_dir = dir.join("data");
    cfg.store.cache_capacity_bytes = 1 << 20;
    cfg.store.min_free_bytes = 0;
    cfg.fetch.allow_private_networks = true;
    cfg.fetch.per_host_delay_ms = 0;
    cfg.fetch.per_host_concurrency = 4;
    cfg.fetch.request_timeout_secs = 10;
    cfg
}

fn spec(url: &str) -> FeedSpec {
    FeedSpec {
        url: Url::parse(url).unwrap(),
        interval: None,
        title: None,
        origin: "test".into(),
    }
}

/// A site whose `/feed` lists one story page, `/a` (story `n`).
async fn one_story_site(n: u32) -> Server {
    let server = Server::start().await;
    server.route("/a", Route::ok(HTML, story_page(n)));
    server.route("/feed", Route::ok(RSS, rss(&[server.url("/a")])));
    server
}

async fn stop(services: Services) {
    services
        .stop(tokio::time::Instant::now() + Duration::from_secs(5))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_are_committed_in_feed_order_whatever_order_their_pages_arrive_in() {
    let server = Server::start().await;
    // The original is slow to fetch; its copy, later in the feed, answers at once. The copy
    // must still be recorded under the original, not the other way round.
    server.route(
        "/a",
        Route::ok(HTML, story_page(1)).after(Duration::from_millis(400)),
    );
    server.route("/b", Route::ok(HTML, story_page(2)));
    server.route("/c", Route::ok(HTML, story_page(1)));
    server.route("/d", Route::ok(HTML, story_page(3)));
    let links: Vec<String> = ["/a", "/b", "/c", "/d"]
        .iter()
        .map(|p| server.url(p))
        .collect();
    server.route("/feed", Route::ok(RSS, rss(&links)));
    let dir = tempfile::tempdir().unwrap();
    let services = Services::start(test_config(dir.path())).unwrap();
    let done = services.pipeline.poll(&spec(&server.url("/feed"))).await;
    assert_eq!(
        (done.report.stored, done.report.duplicates, done.failure),
        (3, 1, None)
    );
    let names: Vec<(u64, String)> = services
        .store
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r.seq, r.url)
        })
        .collect();
    assert_eq!(
        names,
        [
            (0, links[0].clone()),
            (1, links[1].clone()),
            (2, links[3].clone())
        ]
    );
    let state = services
        .store
        .feed_state(&server.url("/feed"))
        .unwrap()
        .unwrap();
    assert_eq!((state.articles, state.copies, state.rejected), (3, 1, 0));
    let original = services.store.records().next().unwrap().unwrap().name;
    assert_eq!(
        services.store.known(&links[2]).unwrap(),
        Some(Known::Duplicate(original))
    );
    stop(services).await;
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ready_page_is_stored_while_a_slow_page_later_in_the_poll_still_loads() {
    let server = Server::start().await;
    server.route("/fast", Route::ok(HTML, story_page(30)));
    server.route(
        "/slow",
        Route::ok(HTML, story_page(31)).after(Duration::from_secs(6)),
    );
    let links: Vec<String> = ["/fast", "/slow"].iter().map(|p| server.url(p)).collect();
    server.route("/feed", Route::ok(RSS, rss(&links)));
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = test_config(dir.path());
    cfg.fetch.request_timeout_secs = 60;
    let services = Services::start(cfg).unwrap();
    let pipeline = services.pipeline.clone();
    let feed = spec(&server.url("/feed"));
    let poll = tokio::spawn(async move { pipeline.poll(&feed).await });
    // A reader of the store sees the fast page's article while the slow page is loading
    // (the poll cannot end before it answers).
    loop {
        let poll_over = poll.is_finished();
        if services.store.known(&links[0]).unwrap().is_some() {
            assert!(!poll_over, "stored only when the whole poll was done");
            break;
        }
        assert!(!poll_over, "the poll ended without storing the fast page");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(services.store.known(&links[1]).unwrap(), None);
    let done = poll.await.unwrap();
    assert_eq!((done.report.stored, done.failure), (2, None));
    let urls: Vec<String> = services.store.records().map(|r| r.unwrap().url).collect();
    assert_eq!(urls, links, "still in feed order");
    stop(services).await;
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validators_advance_only_when_every_item_is_settled() {
    let server = Server::start().await;
    let links: Vec<String> = ["/a", "/b"].iter().map(|p| server.url(p)).collect();
    let mut feed = Route::ok(RSS, rss(&links));
    feed.etag = Some("\"v1\"");
    server.route("/feed", feed);
    server.route("/a", Route::ok(HTML, story_page(10)));
    let mut down = Route::ok(HTML, "busy".into());
    down.status = 503;
    server.route("/b", down);
    let dir = tempfile::tempdir().unwrap();
    let services = Services::start(test_config(dir.path())).unwrap();
    let feed = spec(&server.url("/feed"));

    let first = services.pipeline.poll(&feed).await;
    assert_eq!((first.report.stored, first.report.failed), (1, 1));
    let state = services
        .store
        .feed_state(feed.url.as_str())
        .unwrap()
        .unwrap();
    assert_eq!(
        state.validators.etag, None,
        "an unsettled item keeps the old validators"
    );

    server.route("/b", Route::ok(HTML, story_page(11)));
    let second = services.pipeline.poll(&feed).await;
    assert_eq!(
        server.seen("/feed")[1].if_none_match,
        None,
        "the second poll asks for the full feed again"
    );
    assert_eq!((second.report.stored, second.report.known), (1, 1));
    assert_eq!(
        server.seen("/a").len(),
        1,
        "a stored item is not fetched again"
    );

    let third = services.pipeline.poll(&feed).await;
    assert_eq!(
        server.seen("/feed")[2].if_none_match.as_deref(),
        Some("\"v1\"")
    );
    assert_eq!(third.report.feeds_not_modified, 1);
    stop(services).await;
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_poll_releases_its_feed_with_a_backoff_and_the_next_poll_works() {
    let server = one_story_site(20).await;
    let dir = tempfile::tempdir().unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let hooks = Hooks {
        before_poll: Some(Arc::new(move |_| {
            if c.fetch_add(1, Ordering::SeqCst) == 0 {
                panic!("injected poll panic");
            }
        })),
        before_write: None,
    };
    let services = Services::start_with(test_config(dir.path()), hooks).unwrap();
    let feed = spec(&server.url("/feed"));
    let done = services.pipeline.poll(&feed).await;
    assert_eq!(done.failure, Some(crate::metrics::ErrorKind::Panic));
    assert_eq!(done.report.feed_errors, 1);
    let state = services
        .store
        .feed_state(feed.url.as_str())
        .unwrap()
        .unwrap();
    assert_eq!(state.error_streak, 1);
    assert!(
        state
            .last_error
            .as_deref()
            .unwrap()
            .contains("injected poll panic"),
        "{state:?}"
    );
    assert!(
        done.next.is_some() && done.next == state.next_poll,
        "the feed is due again after its backoff"
    );
    assert!(
        services
            .metrics
            .render(&Default::default())
            .contains("newsd_polls_abandoned_total{reason=\"panic\"} 1")
    );
    let again = services.pipeline.poll(&feed).await;
    assert_eq!((again.report.stored, again.failure), (1, None));
    stop(services).await;
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poll_past_its_timeout_is_abandoned_and_counted() {
    let server = Server::start().await;
    server.route(
        "/a",
        Route::ok(HTML, story_page(30)).after(Duration::from_secs(3)),
    );
    server.route("/feed", Route::ok(RSS, rss(&[server.url("/a")])));
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = test_config(dir.path());
    cfg.daemon.poll_timeout_secs = 1;
    let services = Services::start(cfg).unwrap();
    let feed = spec(&server.url("/feed"));
    let done = services.pipeline.poll(&feed).await;
    assert!(done.failure.is_some() && done.next.is_some());
    let state = services
        .store
        .feed_state(feed.url.as_str())
        .unwrap()
        .unwrap();
    assert!(state.last_error.unwrap().contains("poll_timeout_secs"));
    assert!(
        services
            .metrics
            .render(&Default::default())
            .contains("newsd_polls_abandoned_total{reason=\"timeout\"} 1")
    );
    stop(services).await;
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_writer_shows_in_liveness_and_recovers() {
    let server = one_story_site(40).await;
    let dir = tempfile::tempdir().unwrap();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let release_rx = std::sync::Mutex::new(release_rx);
    let hooks = Hooks {
        before_poll: None,
        before_write: Some(Arc::new(move || {
            let _ = release_rx.lock().unwrap().recv();
        })),
    };
    let services = Services::start_with(test_config(dir.path()), hooks).unwrap();
    let pipeline = services.pipeline.clone();
    let feed = spec(&server.url("/feed"));
    let poll = tokio::spawn(async move { pipeline.poll(&feed).await });
    let liveness = services.liveness.clone();
    let mut waited = 0;
    while liveness.writer_busy_for().is_none() {
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += 1;
        assert!(waited < 500, "the writer never took the job");
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(liveness.writer_busy_for().unwrap() >= Duration::from_millis(50));
    release_tx.send(()).unwrap();
    let done = poll.await.unwrap();
    assert_eq!(done.report.stored, 1);
    assert_eq!(liveness.writer_busy_for(), None, "idle again");
    stop(services).await;
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_failure_pauses_ingest_once_and_the_item_is_retried_after_recovery() {
    let server = Server::start().await;
    server.route("/a", Route::ok(HTML, story_page(50)));
    let mut feed_route = Route::ok(RSS, rss(&[server.url("/a")]));
    feed_route.etag = Some("\"e\"");
    server.route("/feed", feed_route);
    let dir = tempfile::tempdir().unwrap();
    let services = Services::start(test_config(dir.path())).unwrap();
    // The store fails under the pipeline (as sled does after an I/O error, every call
    // fails until a reopen): simulated by closing it.
    services.store.close();
    let feed = spec(&server.url("/feed"));
    let done = services.pipeline.poll(&feed).await;
    assert_eq!(done.report.stored, 0);
    assert!(services.gate.is_paused(), "a store failure pauses ingest");
    assert!(services.gate.recover(), "the store reopens");
    let again = services.pipeline.poll(&feed).await;
    assert_eq!(
        again.report.stored, 1,
        "nothing was lost: the item is stored now"
    );
    stop(services).await;
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_keeps_its_health_counts_rejected_empty_and_last_error_kind() {
    let server = Server::start().await;
    let links: Vec<String> = ["/ok", "/empty", "/gone"]
        .iter()
        .map(|p| server.url(p))
        .collect();
    server.route("/feed", Route::ok(RSS, rss(&links)));
    server.route("/ok", Route::ok(HTML, story_page(60)));
    server.route(
        "/empty",
        Route::ok(HTML, "<html><body><nav>Home</nav></body></html>".into()),
    );
    let dir = tempfile::tempdir().unwrap();
    let services = Services::start(test_config(dir.path())).unwrap();
    let feed = spec(&server.url("/feed"));
    services.pipeline.poll(&feed).await;
    let state = services
        .store
        .feed_state(feed.url.as_str())
        .unwrap()
        .unwrap();
    assert_eq!(
        (state.articles, state.rejected, state.empty),
        (1, 2, 1),
        "404 and empty page rejected, one of them for no text"
    );
    assert_eq!(state.last_error_kind, None);
    // The feed itself fails: its kind is kept until the next success.
    let mut down = Route::ok(RSS, String::new());
    down.status = 500;
    server.route("/feed", down);
    let done = services.pipeline.poll(&feed).await;
    assert_eq!(done.failure, Some(crate::metrics::ErrorKind::HttpStatus));
    let state = services
        .store
        .feed_state(feed.url.as_str())
        .unwrap()
        .unwrap();
    assert_eq!(state.last_error_kind.as_deref(), Some("http_status"));
    assert_eq!(state.error_streak, 1);
    stop(services).await;
    server.stop();
}

/// A story page of `host`'s template: the article plus the promo paragraph every page of
/// that site carries inside the article.
fn templated_page(n: u32) -> String {
    story_page(n).replace(
        "</article>",
        "<p>Lantern members read every investigation a day early and support independent reporting from the Sahel for less than a coffee a week.</p></article>",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_learns_a_hosts_chrome_and_drops_it_from_later_pages_of_that_host_only() {
    const PROMO: &str = "Lantern members read every investigation";
    let server = Server::start().await;
    let links: Vec<String> = (0..10)
        .map(|i| {
            let path = format!("/a/{i}");
            server.route(&path, Route::ok(HTML, templated_page(70 + i)));
            server.url(&path)
        })
        .collect();
    server.route("/feed", Route::ok(RSS, rss(&links)));
    let dir = tempfile::tempdir().unwrap();
    let services = Services::start(test_config(dir.path())).unwrap();
    let done = services.pipeline.poll(&spec(&server.url("/feed"))).await;
    assert_eq!(done.report.stored, 10);
    // The eleventh page of the host, and a page with the same promo on another host
    // (`localhost` is another host than `127.0.0.1` for the memory).
    server.route("/a/10", Route::ok(HTML, templated_page(80)));
    server.route("/b/0", Route::ok(HTML, templated_page(81)));
    let other = server.url("/b/0").replace("127.0.0.1", "localhost");
    server.route(
        "/feed2",
        Route::ok(RSS, rss(&[server.url("/a/10"), other.clone()])),
    );
    let done = services.pipeline.poll(&spec(&server.url("/feed2"))).await;
    assert_eq!(done.report.stored, 2);
    let text_of = |url: &str| {
        let (_, text) = services.store.find(url).unwrap().unwrap();
        text
    };
    assert!(
        !text_of(&server.url("/a/10")).contains(PROMO),
        "the host's repeated promo is site chrome by now"
    );
    assert!(
        text_of(&other).contains(PROMO),
        "another host is unaffected"
    );
    assert!(
        text_of(&links[0]).contains(PROMO),
        "what was stored stays as it was"
    );
    // The memory is saved with the store and read back by the next start.
    stop(services).await;
    let services = Services::start(test_config(dir.path())).unwrap();
    server.route("/a/11", Route::ok(HTML, templated_page(82)));
    server.route("/feed3", Route::ok(RSS, rss(&[server.url("/a/11")])));
    services.pipeline.poll(&spec(&server.url("/feed3"))).await;
    let (_, text) = services.store.find(&server.url("/a/11")).unwrap().unwrap();
    assert!(!text.contains(PROMO), "the memory survived the restart");
    stop(services).await;
    server.stop();
}
