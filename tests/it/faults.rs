//! Fetching and scheduling under faults (issue 5): every fault has its test, healthy feeds
//! keep being served, and the canary server never sees a request.

use std::io::Write;
use std::sync::OnceLock;
use std::time::Duration;

use newsd::fetch::{FetchConfig, FetchError, Fetcher, Kind, Outcome};
use serde_json::Value;
use url::Url;

use crate::server::{Delivery, Route, Server, seed_dir};
use crate::util::*;

/// The server no request may ever reach.
fn canary() -> &'static Server {
    static CANARY: OnceLock<Server> = OnceLock::new();
    CANARY.get_or_init(Server::empty)
}

#[track_caller]
fn assert_canary_untouched() {
    let log = canary().log();
    assert!(log.is_empty(), "the canary was reached: {log:#?}");
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A fetcher with the guard ON, exempting only `server` (so the canary stays forbidden).
fn guarded(server: &Server, tweak: impl FnOnce(&mut FetchConfig)) -> Fetcher {
    let mut cfg = FetchConfig {
        allowed_private_addrs: vec![server.addr],
        per_host_delay_ms: 0,
        request_timeout_secs: 5,
        ..FetchConfig::default()
    };
    tweak(&mut cfg);
    Fetcher::new(&cfg).unwrap()
}

fn get(f: &Fetcher, url: &str, kind: Kind) -> Result<Outcome, FetchError> {
    rt().block_on(f.get(&Url::parse(url).unwrap(), kind, None))
}

fn feed_states(config: &std::path::Path) -> Vec<Value> {
    let out = newsd(config, &["feeds", "--json"]);
    assert_ok(&out);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn state_of<'a>(states: &'a [Value], url_suffix: &str) -> &'a Value {
    states
        .iter()
        .find(|s| s["url"].as_str().unwrap().ends_with(url_suffix))
        .unwrap_or_else(|| panic!("no state for {url_suffix}: {states:#?}"))
}

fn stored(config: &std::path::Path) -> u64 {
    let out = newsd(config, &["stats", "--json"]);
    assert_ok(&out);
    serde_json::from_slice::<Value>(&out.stdout).unwrap()["articles"]
        .as_u64()
        .unwrap()
}

fn seed_server() -> Server {
    Server::start(&seed_dir().join("site"))
}

#[test]
fn refused_connections_are_classified_and_healthy_feeds_carry_on() {
    let s = seed_server();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &[
            format!("http://{closed}/feed.xml"),
            s.url("/feeds/sahel.xml"),
        ],
        "",
    );
    once_logs(&config, "\"error_kind\":\"connect\"");
    assert_eq!(stored(&config), 5);
    let states = feed_states(&config);
    let bad = state_of(&states, "/feed.xml");
    assert_eq!(bad["status"], "failing");
    assert_eq!(bad["error_streak"], 1);
    assert_eq!(state_of(&states, "/feeds/sahel.xml")["status"], "ok");
}

#[test]
fn a_5xx_storm_backs_off_exponentially_and_recovers_on_the_first_200() {
    let s = seed_server();
    s.route("/storm.xml", 500, "text/plain", "boom");
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &[s.url("/storm.xml")],
        "[schedule]\nbackoff_base_secs = 100\nmin_interval_secs = 1\n",
    );
    for streak in 1..=4u64 {
        assert_ok(&newsd(&config, &["once"]));
        let states = feed_states(&config);
        let st = state_of(&states, "/storm.xml");
        assert_eq!(st["error_streak"], streak);
        assert!(st["last_error"].as_str().unwrap().contains("HTTP 500"));
        let polled =
            chrono::DateTime::parse_from_rfc3339(st["last_polled"].as_str().unwrap()).unwrap();
        let next = chrono::DateTime::parse_from_rfc3339(st["next_poll"].as_str().unwrap()).unwrap();
        let wait = (next - polled).num_seconds();
        let window = 100 * (1 << (streak - 1));
        assert!(
            (0..=window + 1).contains(&wait),
            "streak {streak}: waits {wait}s, window {window}s"
        );
    }
    s.route(
        "/storm.xml",
        200,
        "application/rss+xml",
        rss(&[s.url("/articles/traore-moscow-visit.html")]),
    );
    assert_ok(&newsd(&config, &["once"]));
    let states = feed_states(&config);
    let st = state_of(&states, "/storm.xml");
    assert_eq!(st["error_streak"], 0);
    assert_eq!(st["status"], "ok");
    assert_eq!(stored(&config), 1);
    check_ok(&config);
}

#[test]
fn retry_after_in_both_forms_delays_the_feed_and_pauses_the_host() {
    let s = seed_server();
    s.put(
        "/busy.xml",
        Route::new(429, "text/plain", "slow down").header("Retry-After", "1"),
    );
    let f = guarded(&s, |_| {});
    let err = get(&f, &s.url("/busy.xml"), Kind::Feed).unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));
    // The whole host is paused: the next request to it, for another path, waits.
    assert!(get(&f, &s.url("/feeds/sahel.xml"), Kind::Feed).is_ok());
    let log = s.log();
    let gap = log[1].at - log[0].at;
    assert!(
        gap >= Duration::from_millis(900),
        "host not paused: next request after {gap:?}"
    );

    // An HTTP-date Retry-After on 503 pushes the feed's next poll past it.
    let at = chrono::Utc::now() + chrono::Duration::hours(2);
    s.put(
        "/maint.xml",
        Route::new(503, "text/plain", "maintenance").header("Retry-After", &at.to_rfc2822()),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &[s.url("/maint.xml")], "");
    assert_ok(&newsd(&config, &["once"]));
    let states = feed_states(&config);
    let next = chrono::DateTime::parse_from_rfc3339(
        state_of(&states, "/maint.xml")["next_poll"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert!(
        next >= at - chrono::Duration::seconds(5),
        "next poll {next} before Retry-After {at}"
    );
}

#[test]
fn a_reset_mid_body_stores_nothing_and_the_item_is_retried() {
    let s = seed_server();
    let page = std::fs::read(seed_dir().join("site/articles/traore-moscow-visit.html")).unwrap();
    let page = String::from_utf8(page)
        .unwrap()
        .replace("{{BASE_URL}}", &s.base());
    s.put(
        "/flaky.html",
        Route::new(200, "text/html", page.clone()).delivery(Delivery::ResetAfter(500)),
    );
    s.route(
        "/one.xml",
        200,
        "application/rss+xml",
        rss(&[s.url("/flaky.html")]),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &[s.url("/one.xml")], "");
    let out = newsd(&config, &["once"]);
    assert_ok(&out);
    assert!(stderr(&out).contains("1 to retry"), "{}", stderr(&out));
    assert_eq!(stored(&config), 0);
    // The cursor did not move: the next poll is a full GET and the page is fetched again.
    let states = feed_states(&config);
    assert!(state_of(&states, "/one.xml")["validators"]["etag"].is_null());
    s.route("/flaky.html", 200, "text/html", page);
    s.clear_log();
    assert_ok(&newsd(&config, &["once"]));
    assert!(!s.log()[0].headers.contains_key("if-none-match"));
    assert_eq!(stored(&config), 1);
    check_ok(&config);
}

#[test]
fn a_trickling_server_hits_the_total_deadline() {
    let s = Server::empty();
    s.put(
        "/slow",
        Route::new(200, "application/rss+xml", vec![b' '; 200])
            .delivery(Delivery::Trickle(Duration::from_millis(100))),
    );
    let f = guarded(&s, |c| c.request_timeout_secs = 1);
    let err = get(&f, &s.url("/slow"), Kind::Feed).unwrap_err();
    assert_eq!(err.kind(), "timeout", "{err}");
}

#[test]
fn compression_bombs_stop_at_the_decoded_cap() {
    let zeros = vec![0u8; 64 << 20];
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&zeros).unwrap();
    let gz = gz.finish().unwrap();
    let mut br = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut br, 4096, 1, 22);
        w.write_all(&zeros).unwrap();
    }
    assert!(gz.len() < 1 << 20 && br.len() < 1 << 20);
    let s = Server::empty();
    s.put(
        "/gz",
        Route::new(200, "application/rss+xml", gz).header("Content-Encoding", "gzip"),
    );
    s.put(
        "/br",
        Route::new(200, "application/rss+xml", br).header("Content-Encoding", "br"),
    );
    let f = guarded(&s, |c| c.max_feed_bytes = 1 << 20);
    for path in ["/gz", "/br"] {
        let err = get(&f, &s.url(path), Kind::Feed).unwrap_err();
        assert_eq!(err.kind(), "too_large", "{path}: {err}");
        assert!(err.to_string().contains("1048576"), "{err}");
    }
}

#[test]
fn redirect_loops_and_redirects_to_private_addresses_are_refused() {
    let s = Server::empty();
    s.put(
        "/loop",
        Route::new(302, "text/plain", "").header("Location", "/loop"),
    );
    let c = canary();
    s.put(
        "/to-canary",
        Route::new(302, "text/plain", "").header("Location", &c.url("/secret")),
    );
    let by_name = format!("http://localhost:{}/secret", c.addr.port());
    s.put(
        "/to-canary-name",
        Route::new(301, "text/plain", "").header("Location", &by_name),
    );
    s.put(
        "/to-file",
        Route::new(302, "text/plain", "").header("Location", "file:///etc/passwd"),
    );
    let f = guarded(&s, |_| {});
    assert_eq!(
        get(&f, &s.url("/loop"), Kind::Feed).unwrap_err().kind(),
        "redirect"
    );
    for path in ["/to-canary", "/to-canary-name", "/to-file"] {
        let err = get(&f, &s.url(path), Kind::Page).unwrap_err();
        assert!(
            matches!(err.kind(), "blocked" | "redirect"),
            "{path}: {err}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains("egress guard") || msg.contains("not followed"),
            "{path}: {err}"
        );
    }
    assert_canary_untouched();
}

#[test]
fn ssrf_to_literal_and_named_private_addresses_never_connects() {
    let c = canary();
    let port = c.addr.port();
    let f = Fetcher::new(&FetchConfig::default()).unwrap();
    for url in [
        format!("http://127.0.0.1:{port}/"),
        format!("http://127.1:{port}/"),
        format!("http://2130706433:{port}/"),
        format!("http://0x7f.1:{port}/"),
        format!("http://0177.0.0.1:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        format!("http://localhost:{port}/"),
    ] {
        let err = get(&f, &url, Kind::Feed).unwrap_err();
        assert_eq!(err.kind(), "blocked", "{url}: {err}");
    }
    // The same through the daemon: the feed is refused, counted, and the canary untouched.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("newsd.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\ndata_dir = \"data\"\n[[feeds]]\nurl = \"http://2130706433:{port}/feed\"\n"
        ),
    )
    .unwrap();
    once_logs(&config, "\"error_kind\":\"blocked\"");
    assert_canary_untouched();
}

#[test]
fn a_huge_feed_is_capped_to_its_newest_items() {
    let s = seed_server();
    let items: Vec<String> = (0..5000)
        .map(|i| s.url(&format!("/gen/{i}.html")))
        .collect();
    s.route("/huge.xml", 200, "application/rss+xml", rss(&items));
    let dir = tempfile::tempdir().unwrap();
    let config = write_config_with(
        dir.path(),
        &[s.url("/huge.xml")],
        &[("max_feed_items", "10")],
        "",
    );
    assert_ok(&newsd(&config, &["once"]));
    let pages = s
        .log()
        .iter()
        .filter(|r| r.path.starts_with("/gen/"))
        .count();
    assert_eq!(pages, 10);
}

#[test]
fn a_deeply_nested_feed_is_an_error_not_a_crash() {
    let s = seed_server();
    let deep = format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel>{}{}</channel></rss>",
        "<x>".repeat(100_000),
        "</x>".repeat(100_000)
    );
    s.route("/deep.xml", 200, "application/rss+xml", deep);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &[s.url("/deep.xml"), s.url("/feeds/sahel.xml")],
        "",
    );
    let out = newsd(&config, &["once"]);
    assert_ok(&out);
    assert!(
        stderr(&out).to_lowercase().contains("deep"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stored(&config), 5);
}

#[test]
fn broken_but_repairable_feeds_are_kept() {
    let s = seed_server();
    let link = |slug: &str| s.url(&format!("/articles/{slug}.html"));
    // A bare ampersand in a title.
    let amp = rss(&[link("traore-moscow-visit")]).replace("Item 0", "Mali & Niger");
    // An invalid UTF-8 byte in a title.
    let mut bad_byte = rss(&[link("burkina-faso-russia-instructors")]).into_bytes();
    let at = bad_byte.windows(6).position(|w| w == b"Item 0").unwrap();
    bad_byte[at + 4] = 0xff;
    // ISO-8859-1 bytes under a UTF-8 declaration.
    let latin = rss(&[link("russia-burkina-faso-strategic-ties")])
        .replace("Item 0", "Ouagadougou \u{e9}t\u{e9}");
    let latin: Vec<u8> = latin.chars().map(|c| c as u32 as u8).collect();
    s.route("/amp.xml", 200, "application/rss+xml", amp);
    s.route("/byte.xml", 200, "application/rss+xml", bad_byte);
    s.route("/latin.xml", 200, "application/rss+xml", latin);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &[s.url("/amp.xml"), s.url("/byte.xml"), s.url("/latin.xml")],
        "",
    );
    once_logs(&config, "3 stored");
}

#[test]
fn gone_feeds_are_disabled_and_not_polled_again() {
    let s = seed_server();
    s.route("/gone.xml", 410, "text/plain", "gone");
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &[s.url("/gone.xml"), s.url("/feeds/digest.json")],
        "",
    );
    assert_ok(&newsd(&config, &["once"]));
    let states = feed_states(&config);
    assert_eq!(state_of(&states, "/gone.xml")["status"], "disabled");
    s.clear_log();
    assert_ok(&newsd(&config, &["once"]));
    assert_eq!(s.hits("/gone.xml"), 0);
    assert_eq!(s.hits("/feeds/digest.json"), 1);
    check_ok(&config);
}

#[test]
fn validators_are_echoed_byte_exact_and_304_costs_no_parse() {
    let s = seed_server();
    let etag = "W/\"v1 \u{2d}x;y\"";
    let lm = "Wed, 21 Oct 2015 07:28:00 GMT";
    s.put(
        "/cond.xml",
        Route::new(
            200,
            "application/rss+xml",
            rss(&[s.url("/articles/traore-moscow-visit.html")]),
        )
        .header("ETag", etag)
        .header("Last-Modified", lm),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &[s.url("/cond.xml")], "");
    assert_ok(&newsd(&config, &["once"]));
    s.clear_log();
    let out = newsd(&config, &["once"]);
    assert_ok(&out);
    let req = &s.log()[0];
    assert_eq!(
        req.headers.get("if-none-match").map(String::as_str),
        Some(etag)
    );
    assert_eq!(
        req.headers.get("if-modified-since").map(String::as_str),
        Some(lm)
    );
    assert_eq!(req.status, 304);
    assert!(stderr(&out).contains("1 not modified"), "{}", stderr(&out));
    assert_eq!(s.log().len(), 1, "a 304 leads to nothing else");
}

#[test]
fn fifty_feeds_on_one_host_respect_concurrency_and_delay() {
    let s = seed_server();
    s.set_latency(Duration::from_millis(30));
    let mut feeds = Vec::new();
    for i in 0..50 {
        let path = format!("/many/{i}.xml");
        s.route(
            &path,
            200,
            "application/rss+xml",
            rss(&[s.url(&format!("/many/{i}.html"))]),
        );
        s.route(&format!("/many/{i}.html"), 404, "text/plain", "no");
        feeds.push(s.url(&path));
    }
    let dir = tempfile::tempdir().unwrap();
    let config = write_config_with(
        dir.path(),
        &feeds,
        &[("per_host_concurrency", "2"), ("per_host_delay_ms", "20")],
        "",
    );
    let mut cfg = newsd::config::Config::load(&config, &Default::default()).unwrap();
    cfg.daemon.max_concurrent_feeds = 16;
    let (specs, problems) = cfg.load_feeds();
    assert!(problems.is_empty());
    rt().block_on(async {
        let services = newsd::daemon::Services::start(cfg).unwrap();
        let polls = specs.iter().map(|spec| services.pipeline.poll(spec));
        let reports = futures_util::future::join_all(polls).await;
        assert_eq!(reports.iter().map(|r| r.report.items).sum::<usize>(), 50);
        services
            .stop(tokio::time::Instant::now() + Duration::from_secs(5))
            .await
            .unwrap();
    });
    let log = s.log();
    assert_eq!(log.len(), 100, "50 feeds + 50 pages");
    assert!(
        s.max_in_flight() <= 2,
        "max in flight {}",
        s.max_in_flight()
    );
    // Starts are spaced by the delay on the client; the server sees them shifted by network
    // jitter, which cannot shrink the span of 100 requests by more than a few milliseconds.
    let mut starts: Vec<_> = log.iter().map(|r| r.at).collect();
    starts.sort();
    let span = starts[99] - starts[0];
    assert!(
        span >= Duration::from_millis(99 * 20 - 50),
        "100 requests within {span:?}"
    );
}

#[test]
fn environment_proxies_are_ignored() {
    let s = seed_server();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &[s.url("/feeds/digest.json")], "");
    let proxy = canary().base();
    let out = std::process::Command::new(newsd_bin())
        .arg("--config")
        .arg(&config)
        .arg("once")
        .env("HTTP_PROXY", &proxy)
        .env("http_proxy", &proxy)
        .env("ALL_PROXY", &proxy)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(stored(&config), 1);
    assert_canary_untouched();
}

#[test]
fn a_tls_failure_is_classified_as_tls() {
    let s = Server::empty();
    s.route("/feed", 200, "application/rss+xml", rss(&[]));
    let f = guarded(&s, |_| {});
    // The fixture server speaks plain HTTP: the TLS handshake cannot succeed.
    let err = get(&f, &format!("https://{}/feed", s.addr), Kind::Feed).unwrap_err();
    assert_eq!(err.kind(), "tls", "{err}");
}

/// Issue 12: each class comes from the error's type (reqwest's flags, the guard's typed
/// refusals, io error kinds, rustls errors), not from its message. `dns` is the one class a
/// test cannot produce offline: any name that fails to resolve is a question to the machine's
/// DNS server (names in /etc/hosts, like localhost, resolve).
#[test]
fn every_fetch_error_kind_that_can_happen_offline_is_classified() {
    let s = Server::empty();
    s.route("/feed", 200, "application/rss+xml", rss(&[]));
    s.route("/missing", 404, "text/plain", "no");
    s.route("/big", 200, "application/rss+xml", vec![b' '; 4096]);
    s.put(
        "/cut",
        Route::new(200, "application/rss+xml", vec![b' '; 512]).delivery(Delivery::ResetAfter(10)),
    );
    s.put(
        "/slow",
        Route::new(200, "application/rss+xml", vec![b' '; 200])
            .delivery(Delivery::Trickle(Duration::from_millis(100))),
    );
    s.put(
        "/loop",
        Route::new(302, "text/plain", "").header("Location", "/loop"),
    );
    let c = canary();
    s.put(
        "/to-private",
        Route::new(302, "text/plain", "").header("Location", &c.url("/secret")),
    );
    let by_name = format!("http://localhost:{}/secret", c.addr.port());
    s.put(
        "/to-private-name",
        Route::new(302, "text/plain", "").header("Location", &by_name),
    );
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    // Accepts, then answers a TLS ClientHello with bytes that are no TLS record.
    let not_tls = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let not_tls_addr = not_tls.local_addr().unwrap();
    let garbage = std::thread::spawn(move || {
        let (mut conn, _) = not_tls.accept().unwrap();
        let _ = conn.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n");
        std::thread::sleep(Duration::from_millis(200));
    });
    let f = guarded(&s, |c| {
        c.request_timeout_secs = 1;
        c.max_feed_bytes = 1024;
        c.allowed_private_addrs.extend([closed, not_tls_addr]);
    });
    let cases = [
        (format!("http://{closed}/feed"), "connect"),
        (s.url("/slow"), "timeout"),
        (s.url("/loop"), "redirect"),
        (s.url("/to-private"), "blocked"),
        (s.url("/to-private-name"), "blocked"),
        // The handshake broken off (the plain server waits for an HTTP head, then hangs up)…
        (format!("https://{}/feed", s.addr), "tls"),
        // …and a reply rustls itself refuses.
        (format!("https://{not_tls_addr}/feed"), "tls"),
        (s.url("/missing"), "http_status"),
        (s.url("/cut"), "body"),
        (s.url("/big"), "too_large"),
        (format!("ftp://{}/feed", s.addr), "bad_url"),
    ];
    for (url, kind) in cases {
        let err = get(&f, &url, Kind::Feed).unwrap_err();
        assert_eq!(err.kind(), kind, "{url}: {err}");
    }
    assert!(get(&f, &s.url("/feed"), Kind::Feed).is_ok());
    garbage.join().unwrap();
    assert_canary_untouched();
}
