//! The end-to-end contract on the seed site (issue 2 acceptance 1–3).

use std::collections::HashMap;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::time::Duration;

use serde_json::Value;

use crate::server::{Delivery, Route, Server, seed_dir};
use crate::util::*;

pub(crate) struct Seed {
    pub(crate) server: Server,
    pub(crate) manifest: Value,
    pub(crate) feeds: Vec<String>,
}

/// The seed site served from 127.0.0.1, with its feed URLs.
pub(crate) fn seed() -> Seed {
    let server = Server::start(&seed_dir().join("site"));
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(seed_dir().join("expected/manifest.json")).unwrap(),
    )
    .unwrap();
    let feeds = manifest["feeds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| server.url(f.as_str().unwrap()))
        .collect();
    Seed {
        server,
        manifest,
        feeds,
    }
}

impl Seed {
    pub(crate) fn url_of(&self, path: &str) -> String {
        self.server.url(path)
    }
}

fn by_canonical(lines: &[Value]) -> HashMap<String, &Value> {
    lines
        .iter()
        .map(|l| (l["canonical_url"].as_str().unwrap().to_string(), l))
        .collect()
}

/// Asserts the export equals what the seed manifest says an ingest must end with.
pub(crate) fn assert_seed_export(s: &Seed, export_dir: &std::path::Path, lines: &[Value]) {
    let m = &s.manifest;
    let stored = m["stored"].as_array().unwrap();
    assert_eq!(lines.len(), stored.len(), "stored articles: {lines:#?}");
    let name_re = |n: &str| {
        let (seq, rest) = n.split_once('_').unwrap();
        seq.len() >= 3
            && seq.bytes().all(|b| b.is_ascii_digit())
            && rest.len() == 20
            && rest.ends_with(".txt")
            && rest[..16]
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let by_url = by_canonical(lines);
    for (i, entry) in stored.iter().enumerate() {
        let page = entry["page"].as_str().unwrap();
        let canonical = s.server.url(page);
        let line = by_url
            .get(&canonical)
            .unwrap_or_else(|| panic!("{page} not stored: {lines:#?}"));
        let name = line["name"].as_str().unwrap();
        assert!(
            name_re(name),
            "{name} does not match ^\\d{{3,}}_[0-9a-f]{{16}}\\.txt$"
        );
        let id = format!("{:016x}", xxhash_rust::xxh3::xxh3_64(canonical.as_bytes()));
        assert_eq!(
            &name[name.len() - 20..name.len() - 4],
            id,
            "{page}: name hashes the canonical URL"
        );
        assert_eq!(line["id"], id);
        // Ingest order follows the feed order, so seq numbers follow the seed files.
        assert_eq!(line["seq"].as_u64(), Some(i as u64), "{page}");
        assert_eq!(name[..3], entry["seed"].as_str().unwrap()[..3], "{page}");
        let expected =
            std::fs::read_to_string(seed_dir().join(entry["expected"].as_str().unwrap())).unwrap();
        let actual = std::fs::read_to_string(export_dir.join(name)).unwrap();
        assert!(
            expected == actual,
            "{page}: text differs from expected:\n{}",
            diff(&expected, &actual)
        );
    }
    for dup in m["duplicates"].as_array().unwrap() {
        let copy = s.server.url(dup["page"].as_str().unwrap());
        let original = s.server.url(dup["duplicate_of"].as_str().unwrap());
        let line = by_url[&original];
        let copies: Vec<&str> = line["duplicates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["url"].as_str().unwrap())
            .collect();
        assert_eq!(copies, [copy.as_str()], "copies recorded under {original}");
        let d = &line["duplicates"][0];
        assert!(d["similarity"].as_f64().unwrap() > 0.0);
        assert!(d["feed"].as_str().unwrap().ends_with("/feeds/wire.atom"));
        assert!(d["seen_at"].is_string());
    }
    for group in m["distinct_same_event"].as_array().unwrap() {
        for page in group.as_array().unwrap() {
            assert!(
                by_url.contains_key(&s.server.url(page.as_str().unwrap())),
                "{page} must be kept"
            );
        }
    }
    for (page, meta) in m["metadata"].as_object().unwrap() {
        let line = by_url[&s.server.url(page)];
        for (key, want) in meta.as_object().unwrap() {
            let got = line[key]
                .as_str()
                .unwrap_or_else(|| panic!("{page}: no {key}"));
            let want = want.as_str().unwrap();
            if key == "published" {
                assert!(got.starts_with(want), "{page}: published {got} vs {want}");
            } else {
                assert_eq!(got, want, "{page}: {key}");
            }
        }
    }
}

#[test]
fn one_pass_over_the_seed_site_stores_each_story_once() {
    let s = seed();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &s.feeds, "");
    once_logs(&config, "5 stored, 2 duplicates");

    let export_dir = dir.path().join("export");
    let lines = export(&config, &export_dir);
    assert_seed_export(&s, &export_dir, &lines);

    // The JSON Feed's tracked link is the stored Traoré page: never fetched a second time.
    for same in s.manifest["same_url"].as_array().unwrap() {
        let page = same["is"].as_str().unwrap();
        assert_eq!(s.server.hits(page), 1, "{page} fetched once");
    }
    // Every page was fetched exactly once.
    for page in std::fs::read_dir(seed_dir().join("site/articles")).unwrap() {
        let name = page.unwrap().file_name().into_string().unwrap();
        assert_eq!(s.server.hits(&format!("/articles/{name}")), 1, "{name}");
    }

    // Pass 2: conditional requests, no page fetched, nothing added.
    s.server.clear_log();
    once_logs(&config, "0 stored, 0 duplicates");
    let log = s.server.log();
    assert_eq!(log.len(), 3, "only the three feeds are requested: {log:#?}");
    for seen in &log {
        assert!(seen.path.starts_with("/feeds/"), "{seen:?}");
        assert!(
            seen.headers.contains_key("if-none-match"),
            "conditional GET: {seen:?}"
        );
        assert_eq!(seen.status, 304);
    }
    let again = export(&config, &dir.path().join("export2"));
    assert_eq!(again, lines, "a second pass changes nothing");
    check_ok(&config);
}

#[test]
fn show_and_stats_report_the_recorded_copies() {
    let s = seed();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &s.feeds, "");
    assert_ok(&newsd(&config, &["once"]));
    let stats = newsd(&config, &["stats", "--json"]);
    assert_ok(&stats);
    let v: Value = serde_json::from_slice(&stats.stdout).unwrap();
    assert_eq!(v["articles"], 5);
    assert_eq!(v["duplicates"], 2);

    // show by the copy's URL finds the original and lists the copy.
    let copy = s.server.url("/articles/wire-lavrov-instructors.html");
    let show = newsd(&config, &["show", &copy, "--json"]);
    assert_ok(&show);
    let v: Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(
        v["canonical_url"],
        s.server
            .url("/articles/burkina-faso-russia-instructors.html")
    );
    assert_eq!(v["duplicates"][0]["url"], copy.as_str());
    assert!(
        v["text"]
            .as_str()
            .unwrap()
            .starts_with("Burkina Faso turns to Russia")
    );
    let list = newsd(&config, &["list"]);
    assert_ok(&list);
    assert_eq!(String::from_utf8_lossy(&list.stdout).lines().count(), 5);
}

#[test]
fn the_daemon_drains_on_sigterm_and_a_restart_refetches_nothing() {
    let s = seed();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &s.feeds, "");

    let mut daemon = Daemon::start(&config);
    daemon.wait_for("\"feed_polled\"", 3);
    let (status, log) = daemon.stop();
    assert!(status.success(), "exit status {status:?}");
    assert!(log.iter().any(|l| l.contains("\"stopped\"")), "{log:#?}");

    // The store reopens clean and holds the five stories.
    let stats = newsd(&config, &["stats", "--json"]);
    assert_ok(&stats);
    let v: Value = serde_json::from_slice(&stats.stdout).unwrap();
    assert_eq!(v["articles"], 5, "{v}");

    // A restart resumes the persisted schedule: no feed is due, nothing is fetched.
    s.server.clear_log();
    let mut daemon = Daemon::start(&config);
    daemon.wait_for("\"started\"", 1);
    std::thread::sleep(Duration::from_millis(500));
    let (status, _) = daemon.stop();
    assert!(status.success());
    assert!(
        s.server.log().is_empty(),
        "restart fetched: {:#?}",
        s.server.log()
    );
    check_ok(&config);
}

#[test]
fn the_daemon_outlives_its_log_reader_and_still_stops_on_sigterm() {
    use std::io::BufRead;
    let s = seed();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &s.feeds, "");
    let mut child = std::process::Command::new(newsd_bin())
        .args(["--config", config.to_str().unwrap(), "run"])
        .env("NEWSD_LOG_FORMAT", "json")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Read until the daemon runs, then go away: every later log line hits a closed pipe
    // (a log collector that died, a `newsd run | head`).
    let mut log = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("\"started\"") {
        line.clear();
        assert!(log.read_line(&mut line).unwrap() > 0, "no start line");
    }
    drop(log);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "newsd died with its log reader"
    );
    let status = terminate(&mut child);
    assert!(status.success(), "exit status {status:?}");
    // It drained and flushed: the store opens and holds what was ingested.
    assert_ok(&newsd(&config, &["stats"]));
}

#[test]
fn the_admin_endpoint_serves_metrics_and_probes() {
    let s = seed();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &s.feeds, "");
    let mut daemon = Daemon::start(&config);
    let addr = daemon.admin_addr();
    daemon.wait_for("\"feed_polled\"", 3);

    assert_eq!(http_get(&addr, "/healthz"), (200, "ok\n".into()));
    assert_eq!(http_get(&addr, "/readyz"), (200, "ready\n".into()));
    // Only the three probes: nothing stored rides on the metrics port (issue 15).
    for path in ["/export", "/nope", "/", "/metrics/../export"] {
        assert_eq!(http_get(&addr, path).0, 404, "{path}");
    }
    let (status, metrics) = http_get(&addr, "/metrics");
    assert_eq!(status, 200);
    let value = |series: &str| -> f64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("{series} not in:\n{metrics}"))
    };
    // The seed site: three feeds polled, five stories stored, two copies recorded, the
    // digest's tracked link known by its canonical URL (no fetch, no failure).
    assert_eq!(value("newsd_feeds"), 3.0);
    assert_eq!(value("newsd_feed_polls_total{result=\"ok\"}"), 3.0);
    assert_eq!(value("newsd_feed_polls_total{result=\"error\"}"), 0.0);
    assert_eq!(value("newsd_articles_stored_total"), 5.0);
    assert_eq!(value("newsd_duplicates_total"), 2.0);
    assert_eq!(value("newsd_pages_rejected_total"), 0.0);
    // Every request the server saw was timed, and every page fetched was extracted.
    let pages = s
        .server
        .log()
        .iter()
        .filter(|r| r.path.starts_with("/articles/"))
        .count() as f64;
    assert!(pages >= 7.0, "{:#?}", s.server.log());
    assert_eq!(
        value("newsd_fetch_duration_seconds_count{target=\"feed\"}"),
        3.0
    );
    assert_eq!(
        value("newsd_fetch_duration_seconds_count{target=\"page\"}"),
        pages
    );
    assert_eq!(value("newsd_extract_duration_seconds_count"), pages);
    // Extraction's own CPU is counted (the clock ticks per page thread; seven real pages
    // take well over a microsecond to parse).
    let extract_cpu = value("newsd_extract_cpu_seconds_total");
    assert!(extract_cpu > 0.0 && extract_cpu < 60.0, "{extract_cpu}");

    let (status, _) = daemon.stop();
    assert!(status.success());
    // The endpoint goes away with the daemon.
    assert!(std::net::TcpStream::connect(&addr).is_err());
}

#[test]
fn export_works_while_the_daemon_runs_and_matches_the_export_after_it_stops() {
    let s = seed();
    let dir = tempfile::tempdir().unwrap();
    // The live export needs no admin endpoint: it goes through the control socket.
    let config = write_config(dir.path(), &s.feeds, "");
    let text = std::fs::read_to_string(&config).unwrap();
    let patched = text.replace("admin_listen = \"127.0.0.1:0\"", "admin_listen = \"\"");
    assert_ne!(patched, text);
    std::fs::write(&config, patched).unwrap();
    let mut daemon = Daemon::start(&config);
    let socket = daemon.control_socket();
    daemon.wait_for("\"feed_polled\"", 3);

    // Owner only.
    let meta = std::fs::symlink_metadata(&socket).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);

    let live = dir.path().join("live");
    let during = export(&config, &live);
    assert_eq!(during.len(), 5, "{during:#?}");
    let copies: usize = during
        .iter()
        .map(|l| l["duplicates"].as_array().unwrap().len())
        .sum();
    assert_eq!(copies, 2);

    let (status, _) = daemon.stop();
    assert!(status.success());
    // Removed on shutdown.
    assert!(!socket.exists(), "{} left behind", socket.display());
    let after_dir = dir.path().join("after");
    let after = export(&config, &after_dir);
    assert_eq!(during, after);
    for line in &after {
        let name = line["name"].as_str().unwrap();
        assert_eq!(
            std::fs::read(live.join(name)).unwrap(),
            std::fs::read(after_dir.join(name)).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn a_killed_daemon_leaves_a_socket_the_next_one_replaces() {
    let s = seed();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &s.feeds, "");
    let mut daemon = Daemon::start(&config);
    let socket = daemon.control_socket();
    daemon.wait_for("\"feed_polled\"", 3);
    daemon.kill();
    assert!(socket.exists(), "SIGKILL leaves the socket file");
    // Its store lock went with it.
    assert_ok(&newsd(&config, &["stats"]));

    let mut daemon = Daemon::start(&config);
    assert_eq!(daemon.control_socket(), socket);
    assert_eq!(export(&config, &dir.path().join("live")).len(), 5);
    let (status, log) = daemon.stop();
    assert!(status.success(), "{}", log.join("\n"));
    assert!(log.iter().any(|l| l.contains("control_socket_stale")));
    assert!(!socket.exists());
}

#[test]
fn a_copy_arriving_after_a_restart_is_still_caught() {
    let s = seed();
    let dir = tempfile::tempdir().unwrap();
    // Process 1 ingests the originals only.
    let config = write_config(dir.path(), &[s.url_of("/feeds/sahel.xml")], "");
    assert_ok(&newsd(&config, &["once"]));
    // Process 2, a fresh start on the same store, sees only the copies.
    let config = write_config(dir.path(), &[s.url_of("/feeds/wire.atom")], "");
    once_logs(&config, "0 stored, 2 duplicates");
    let lines = export(&config, &dir.path().join("export"));
    assert_eq!(lines.len(), 5);
    let copies: usize = lines
        .iter()
        .map(|l| l["duplicates"].as_array().unwrap().len())
        .sum();
    assert_eq!(copies, 2);
}

#[test]
fn clean_fetches_a_url_with_the_configured_client_and_guard() {
    let s = seed();
    let page = s.url_of("/articles/traore-moscow-visit.html");
    let expected =
        std::fs::read_to_string(seed_dir().join("expected/traore-moscow-visit.txt")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The shipped default keeps the guard on: a loopback page is refused.
    let guarded = dir.path().join("guarded.toml");
    std::fs::write(&guarded, "[store]\ndata_dir = \"data\"\n").unwrap();
    let out = newsd(&guarded, &["clean", &page]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("egress guard"), "{}", stderr(&out));
    // The config's [fetch] section opens it, and the text is the seed's.
    let config = write_config(dir.path(), &[], "");
    let out = newsd(&config, &["clean", &page]);
    assert_ok(&out);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), expected);
}

#[test]
fn a_template_story_is_stored_and_its_copies_still_caught() {
    // The Traoré page with another president swapped in, word for word otherwise: the
    // fingerprints call it a copy, the text check does not.
    let s = seed();
    let page = std::fs::read_to_string(seed_dir().join("site/articles/traore-moscow-visit.html"))
        .unwrap()
        .replace("{{BASE_URL}}", &s.server.base());
    let template = page
        .replace("traore-moscow-visit.html", "traore-minsk-talks.html")
        .replace("Vladimir Putin", "Dmitry Medvedev")
        .replace("Putin", "Medvedev");
    assert_ne!(template, page);
    s.server.route(
        "/articles/traore-minsk-talks.html",
        200,
        "text/html",
        template.clone(),
    );
    // A copy of the template: the same page under another address, one sentence added.
    let copy = template
        .replace("traore-minsk-talks.html", "wire-traore-talks.html")
        .replacen("<p>", "<p>The story is developing and will be updated. ", 1);
    s.server
        .route("/articles/wire-traore-talks.html", 200, "text/html", copy);
    let feed = |paths: &[&str]| {
        let items: String = paths
            .iter()
            .enumerate()
            .map(|(i, p)| {
                format!(
                    "<item><title>Item {i}</title><link>{}</link><guid>t{i}</guid></item>",
                    s.url_of(p)
                )
            })
            .collect();
        format!(
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>T</title>{items}</channel></rss>"
        )
    };
    s.server.route(
        "/feeds/templates.xml",
        200,
        "application/rss+xml",
        feed(&[
            "/articles/traore-moscow-visit.html",
            "/articles/traore-minsk-talks.html",
            "/articles/wire-traore-talks.html",
        ]),
    );
    let feeds = [s.url_of("/feeds/templates.xml")];

    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &feeds, "");
    once_logs(&config, "2 stored, 1 duplicates");
    let lines = export(&config, &dir.path().join("export"));
    let urls = by_canonical(&lines);
    let model = urls[&s.url_of("/articles/traore-moscow-visit.html")];
    let stored = urls[&s.url_of("/articles/traore-minsk-talks.html")];
    assert!(
        model["duplicates"].as_array().unwrap().is_empty(),
        "{model}"
    );
    assert_eq!(
        stored["duplicates"][0]["url"],
        s.url_of("/articles/wire-traore-talks.html").as_str()
    );

    // With the check turned off the template is taken for a copy of its model.
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &feeds, "[dedup]\ntemplate_check = false\n\n");
    once_logs(&config, "1 stored, 2 duplicates");
}

/// `once` polls feeds side by side (up to `daemon.max_concurrent_feeds`) but keeps the list
/// order: the first listed feed's copy of a story is the original even when a later feed's
/// copy arrives long before it, a link two feeds list is fetched once, and a feed that ends
/// early in between (here: 404) does not let the later one jump the line.
#[test]
fn once_polls_feeds_side_by_side_and_commits_them_in_list_order() {
    let s = seed();
    let story = s.manifest["stored"][0]["page"].as_str().unwrap();
    let mut page = s.server.get(story).unwrap();
    // Two URLs, one story: without its canonical link each copy names itself.
    let html = String::from_utf8(page.body.clone()).unwrap();
    let at = html.find("<link rel=\"canonical\"").unwrap();
    let end = at + html[at..].find('>').unwrap() + 1;
    page.body = format!("{}{}", &html[..at], &html[end..]).into_bytes();
    s.server.put(
        "/ord/first.html",
        page.clone()
            .delivery(Delivery::After(Duration::from_millis(1500))),
    );
    s.server.put("/ord/second.html", page);
    let page_url = |name: &str| s.url_of(&format!("/ord/{name}.html"));
    s.server.put(
        "/ord/first.xml",
        Route::new(200, "application/rss+xml", rss(&[page_url("first")])),
    );
    // The last feed lists the first feed's page too: it must wait for it, not fetch it.
    s.server.put(
        "/ord/second.xml",
        Route::new(
            200,
            "application/rss+xml",
            rss(&[page_url("first"), page_url("second")]),
        ),
    );
    // Every answer takes a while, so polls one after the other never overlap.
    s.server.set_latency(Duration::from_millis(300));
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &[
            s.url_of("/ord/first.xml"),
            s.url_of("/ord/gone.xml"),
            s.url_of("/ord/second.xml"),
        ],
        "max_concurrent_feeds = 3\n",
    );
    let out = newsd(&config, &["once", "--json"]);
    assert_ok(&out);
    assert!(
        s.server.max_in_flight() >= 2,
        "the feeds were polled one after the other: {:#?}",
        s.server.log()
    );
    assert_eq!(s.server.hits("/ord/first.html"), 1, "fetched once");
    let lines = export(&config, &dir.path().join("export"));
    let urls: Vec<&str> = lines
        .iter()
        .map(|l| l["canonical_url"].as_str().unwrap())
        .collect();
    assert_eq!(
        urls,
        [s.url_of("/ord/first.html")],
        "the first listed feed's copy is the original, the last one's a copy of it"
    );
    let report: Value = stderr(&out)
        .lines()
        .find_map(|l| {
            serde_json::from_str::<Value>(l)
                .ok()
                .filter(|v| v.get("feeds_polled").is_some())
        })
        .expect("the --json report");
    let counts = ["stored", "duplicates", "known", "feed_errors"].map(|k| report[k].as_u64());
    assert_eq!(counts, [Some(1), Some(1), Some(1), Some(1)], "{report}");
}
