//! Bad input answers clearly and loses nothing (issue 2 acceptance 4).

use serde_json::Value;

use crate::server::{Server, seed_dir};

/// A log field, on the event itself or on its span (`feed` and `url` live on the span).
fn field<'a>(event: &'a Value, key: &str) -> Option<&'a str> {
    event[key].as_str().or_else(|| event["span"][key].as_str())
}
use crate::util::*;

#[test]
fn config_errors_name_the_file_the_key_and_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("[fetch]\nbogus_key = 1\n", "bogus_key", "unknown field"),
        (
            "[fetch]\nrequest_timeout_secs = \"soon\"\n",
            "fetch.request_timeout_secs",
            "line 2",
        ),
        (
            "[[feeds]]\nurl = \"not a url\"\n",
            "feeds[0].url",
            "not a URL",
        ),
        (
            "[[feeds]]\nurl = \"ftp://example.org/feed\"\n",
            "feeds[0].url",
            "not http or https",
        ),
    ];
    for (text, key, reason) in cases {
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, text).unwrap();
        let out = newsd(&path, &["validate"]);
        assert_eq!(out.status.code(), Some(2), "{text}");
        let err = stderr(&out);
        assert!(err.contains("bad.toml"), "{err}");
        assert!(err.contains(key), "{key} in {err}");
        assert!(err.contains(reason), "{reason} in {err}");
        // Every command refuses a bad config the same way, before touching the store.
        let out = newsd(&path, &["once"]);
        assert_eq!(out.status.code(), Some(2), "{err}");
    }
    // A bad line in a feed list is reported with its file and line.
    std::fs::write(
        dir.path().join("list.txt"),
        "https://example.org/rss\nnot a url\n",
    )
    .unwrap();
    let path = dir.path().join("list.toml");
    std::fs::write(&path, "feed_files = [\"list.txt\"]\n").unwrap();
    let out = newsd(&path, &["validate"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("list.txt: line 2"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bad_feeds_and_pages_are_reported_and_the_rest_carries_on() {
    let server = Server::start(&seed_dir().join("site"));
    server.route(
        "/bad/html-feed",
        200,
        "text/html",
        "<!DOCTYPE html><html><body><p>Not a feed</p></body></html>",
    );
    server.route(
        "/bad/garbage",
        200,
        "application/rss+xml",
        (0u8..=255).cycle().take(4096).collect::<Vec<u8>>(),
    );
    server.route("/bad/missing", 404, "text/plain", "gone");
    server.route(
        "/img/photo.png",
        200,
        "image/png",
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(),
    );
    server.route(
        "/bad/empty.html",
        200,
        "text/html",
        "<html><body><nav>Home</nav></body></html>",
    );
    let rss = format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Mixed</title>\
         <item><title>Image</title><link>{0}/img/photo.png</link></item>\
         <item><title>Empty</title><link>{0}/bad/empty.html</link></item>\
         <item><title>Good</title><link>{0}/articles/traore-moscow-visit.html</link></item>\
         </channel></rss>",
        server.base()
    );
    server.route("/bad/mixed.xml", 200, "application/rss+xml", rss);

    let dir = tempfile::tempdir().unwrap();
    // First a clean ingest of the seed site…
    let seed_feeds: Vec<String> = ["/feeds/sahel.xml", "/feeds/wire.atom"]
        .iter()
        .map(|p| server.url(p))
        .collect();
    let config = write_config(dir.path(), &seed_feeds, "");
    assert_ok(&newsd(&config, &["once"]));
    let before = export(&config, &dir.path().join("before"));
    assert_eq!(before.len(), 5);

    // …then the same store with broken feeds listed first.
    let mut feeds: Vec<String> = [
        "/bad/html-feed",
        "/bad/garbage",
        "/bad/missing",
        "/bad/mixed.xml",
    ]
    .iter()
    .map(|p| server.url(p))
    .collect();
    feeds.push(server.url("/feeds/digest.json"));
    let config = write_config(dir.path(), &feeds, "");
    let out = newsd(&config, &["once"]);
    assert_ok(&out);
    let log = stderr(&out);
    let events: Vec<Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let error_for = |feed: &str, event: &str| -> String {
        events
            .iter()
            .find(|e| e["event"] == event && field(e, "feed").is_some_and(|f| f.ends_with(feed)))
            .and_then(|e| e["error"].as_str().map(str::to_string))
            .unwrap_or_else(|| panic!("no {event} for {feed} in:\n{log}"))
    };
    let html = error_for("/bad/html-feed", "feed_error");
    assert!(
        html.contains("/bad/html-feed") && html.to_lowercase().contains("html"),
        "{html}"
    );
    let garbage = error_for("/bad/garbage", "feed_error");
    assert!(garbage.contains("/bad/garbage"), "{garbage}");
    let missing = error_for("/bad/missing", "feed_error");
    assert!(missing.contains("404"), "{missing}");
    let image = events
        .iter()
        .find(|e| {
            e["event"] == "article_rejected"
                && field(e, "url").is_some_and(|u| u.ends_with("/img/photo.png"))
        })
        .unwrap_or_else(|| panic!("no rejection for the image:\n{log}"));
    assert!(
        image["error"]
            .as_str()
            .unwrap()
            .contains("not an HTML page"),
        "{image}"
    );
    assert!(
        events.iter().any(|e| e["event"] == "article_rejected"
            && field(e, "url").is_some_and(|u| u.ends_with("/bad/empty.html"))),
        "no rejection for the empty page:\n{log}"
    );
    // The summary still counts the good feed; nothing new was stored (all known).
    assert!(log.contains("3 failed"), "{log}");

    // Stored data is intact, byte for byte.
    let after = export(&config, &dir.path().join("after"));
    assert_eq!(after, before);
    for line in &after {
        let name = line["name"].as_str().unwrap();
        assert_eq!(
            std::fs::read(dir.path().join("before").join(name)).unwrap(),
            std::fs::read(dir.path().join("after").join(name)).unwrap()
        );
    }
    // The health view shows exactly the failing feeds, each with the kind of its error …
    let feeds_out = newsd(&config, &["feeds", "--failing", "--json"]);
    assert_ok(&feeds_out);
    let failing: Vec<Value> = String::from_utf8_lossy(&feeds_out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<(String, String)> = failing
        .iter()
        .map(|f| {
            let url = f["url"].as_str().unwrap();
            let path = url.trim_start_matches(&server.base()).to_string();
            (
                path,
                f["last_error_kind"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("/bad/html-feed".to_string(), "parse".to_string()),
            ("/bad/garbage".to_string(), "parse".to_string()),
            ("/bad/missing".to_string(), "http_status".to_string()),
        ]
    );
    assert!(
        failing
            .iter()
            .all(|f| f["status"] == "failing" && f["error_streak"] == 1)
    );
    // … and a healthy feed's page counts: the image and the empty page were rejected, the
    // empty one for having no text.
    let all = newsd(&config, &["feeds", "--json"]);
    let mixed: Value = String::from_utf8_lossy(&all.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|f| f["url"].as_str().unwrap().ends_with("/bad/mixed.xml"))
        .unwrap();
    assert_eq!(mixed["status"], "ok");
    assert_eq!(
        (mixed["rejected"].as_u64(), mixed["empty"].as_u64()),
        (Some(2), Some(1))
    );
    // The table has one row per failing feed under its header.
    let table = newsd(&config, &["feeds", "--failing"]);
    let text = String::from_utf8_lossy(&table.stdout).into_owned();
    let rows: Vec<&str> = text.lines().collect();
    assert!(
        rows[0].starts_with("STATUS") && rows[0].ends_with("FEED"),
        "{text}"
    );
    assert_eq!(rows.len(), 4, "{text}");
    assert!(
        rows[3].contains("http_status") && rows[3].ends_with("/bad/missing"),
        "{text}"
    );
}
