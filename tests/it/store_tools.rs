//! `newsd check`, `newsd import` and damaged stores, through the binary (issue 10, parts
//! 3–5): exit statuses and what the operator reads.

use std::path::{Path, PathBuf};
use std::time::Duration;

use newsd::store::{ArticleRecord, NewArticle, Store, StoreConfig};

use crate::e2e::seed;
use crate::util::*;

fn store_cfg(config: &Path) -> StoreConfig {
    StoreConfig {
        data_dir: config.parent().unwrap().join("data"),
        cache_capacity_bytes: 1 << 20,
        ..StoreConfig::default()
    }
}

/// A store that ingested the whole seed site (5 articles, 2 copies), closed cleanly.
fn seed_store(dir: &Path, feeds: &[String]) -> PathBuf {
    let config = write_config(dir, feeds, "");
    once_logs(&config, "5 stored, 2 duplicates");
    config
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn export_import_export_is_byte_identical_and_the_index_still_works() {
    let s = seed();
    let a = tempfile::tempdir().unwrap();
    let config_a = seed_store(a.path(), &s.feeds);
    check_ok(&config_a);
    let export_a = a.path().join("export");
    export(&config_a, &export_a);

    let b = tempfile::tempdir().unwrap();
    let config_b = write_config(b.path(), &s.feeds, "");
    let out = newsd(&config_b, &["import", export_a.to_str().unwrap()]);
    assert_ok(&out);
    assert!(
        stderr(&out).contains("5 articles and 2 copies"),
        "{}",
        stderr(&out)
    );
    let report = check_ok(&config_b);
    assert!(
        report.contains("5 articles (next seq 5), 2 copies"),
        "{report}"
    );
    let export_b = b.path().join("export");
    export(&config_b, &export_b);
    let (fa, fb) = (files(&export_a), files(&export_b));
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (name, bytes) in &fa {
        assert!(fb[name] == *bytes, "{name} differs after the round trip");
    }

    // The imported store knows every stored and copied URL: a pass over the same feeds
    // stores and records nothing new.
    once_logs(&config_b, "0 stored, 0 duplicates");

    // A copy published after the import is caught through the rebuilt LSH index.
    let page = std::fs::read_to_string(
        crate::server::seed_dir().join("site/articles/traore-moscow-visit.html"),
    )
    .unwrap()
    .replace("{{BASE_URL}}", &s.server.base());
    let copy = page
        .replace("traore-moscow-visit.html", "traore-repost.html")
        .replacen("<p>", "<p>Republished with permission. ", 1);
    s.server
        .route("/articles/traore-repost.html", 200, "text/html", copy);
    s.server.route(
        "/feeds/repost.xml",
        200,
        "application/rss+xml",
        format!(
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>R</title><item><title>Repost</title><link>{}</link></item></channel></rss>",
            s.url_of("/articles/traore-repost.html")
        ),
    );
    let config_c = write_config(b.path(), &[s.url_of("/feeds/repost.xml")], "");
    once_logs(&config_c, "0 stored, 1 duplicates");
    check_ok(&config_c);
}

#[test]
fn import_refuses_a_store_that_is_not_empty_and_leaves_it_alone() {
    let s = seed();
    let a = tempfile::tempdir().unwrap();
    let config = seed_store(a.path(), &s.feeds);
    let out_dir = a.path().join("export");
    export(&config, &out_dir);
    let out = newsd(&config, &["import", out_dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("not empty (5 articles, 2 copies") && err.contains("move the directory away"),
        "{err}"
    );
    assert!(check_ok(&config).contains("5 articles (next seq 5), 2 copies"));
}

#[test]
fn a_bad_export_is_refused_before_anything_is_written() {
    let s = seed();
    let a = tempfile::tempdir().unwrap();
    let config = seed_store(a.path(), &s.feeds);
    let good = a.path().join("export");
    let lines = export(&config, &good);
    let last = lines.last().unwrap()["name"].as_str().unwrap().to_string();

    // (what is done to a copy of the export, what the refusal must say)
    let last_for_cut = last.clone();
    let cases: Vec<(Damage, String)> = vec![
        (
            Box::new(move |d: &Path| {
                let p = d.join(&last_for_cut);
                let text = std::fs::read_to_string(&p).unwrap();
                let cut = &text[..text.rfind("\n\n").unwrap() + 1];
                std::fs::write(&p, cut).unwrap();
            }),
            format!("{last}: its body has"),
        ),
        (
            Box::new(|d: &Path| {
                let p = d.join("manifest.jsonl");
                let m = std::fs::read_to_string(&p).unwrap();
                std::fs::write(&p, m.replacen("\"seq\":1,", "\"seq\":7,", 1)).unwrap();
            }),
            "manifest.jsonl:2: name".into(),
        ),
        (
            Box::new(move |d: &Path| std::fs::remove_file(d.join(&last)).unwrap()),
            "cannot read".into(),
        ),
    ];
    for (i, (damage, why)) in cases.iter().enumerate() {
        let bad = a.path().join(format!("bad{i}"));
        std::fs::create_dir(&bad).unwrap();
        for (name, bytes) in files(&good) {
            std::fs::write(bad.join(name), bytes).unwrap();
        }
        damage(&bad);
        let b = tempfile::tempdir().unwrap();
        let target = write_config(b.path(), &[], "");
        let out = newsd(&target, &["import", bad.to_str().unwrap()]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "case {i}: {err}");
        assert!(
            err.contains(why) && err.contains("nothing imported"),
            "case {i}: {why:?} not in {err}"
        );
        assert!(
            !b.path().join("data").exists(),
            "case {i}: a refused import must not even create the store"
        );
    }
}

#[test]
fn check_lists_every_violation_and_exits_1() {
    let s = seed();
    let a = tempfile::tempdir().unwrap();
    let config = seed_store(a.path(), &s.feeds);
    {
        // Damage the store through its public API, as a buggy writer would.
        let store = Store::open(&store_cfg(&config)).unwrap();
        let state = newsd::schedule::FeedState {
            error_streak: 2,
            ..Default::default()
        };
        store.put_feed_state(&s.feeds[0], &state).unwrap();
        let url = "http://127.0.0.1:9/bogus";
        store
            .insert_article(NewArticle {
                record: ArticleRecord {
                    name: String::new(),
                    seq: 0,
                    id: format!("{:016x}", xxhash_rust::xxh3::xxh3_64(url.as_bytes())),
                    url: url.into(),
                    canonical_url: url.into(),
                    feed: None,
                    title: "Bogus".into(),
                    author: None,
                    published: None,
                    site_name: None,
                    language: None,
                    fetched_at: String::new(),
                    words: 1,
                    content_hash: "0000000000000000".into(),
                    duplicates: vec![],
                },
                text: "Bogus\n\nText.\n",
                aliases: &[],
                fingerprint: b"not a fingerprint",
                band_keys: &[],
            })
            .unwrap();
        store.flush().unwrap();
    }
    let out = newsd(&config, &["check"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = stdout(&out);
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(lines.len(), 4, "{report}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("invariant 3: articles 005_")
                && l.contains("the record says 0000000000000000")),
        "{report}"
    );
    assert!(
        lines.iter().any(
            |l| l.starts_with("invariant 6: sigs seq 5: fingerprint of 005_")
                && l.contains("does not decode")
        ),
        "{report}"
    );
    assert!(
        lines.contains(
            &format!(
                "invariant 10: feeds {}: error streak 2 with no last error",
                s.feeds[0]
            )
            .as_str()
        ),
        "{report}"
    );
    assert!(lines[3].ends_with(": 3 violations"), "{report}");
    assert!(
        stderr(&out).contains("3 violations of its invariants"),
        "{}",
        stderr(&out)
    );
    let json = newsd(&config, &["check", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["violations"].as_array().unwrap().len(), 3, "{v}");
}

#[test]
fn check_on_a_store_held_by_the_daemon_says_how_to_check_it() {
    let s = seed();
    let a = tempfile::tempdir().unwrap();
    let config = seed_store(a.path(), &s.feeds);
    let mut daemon = Daemon::start(&config);
    daemon.admin_addr();
    let out = newsd(&config, &["check"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("locked by a running daemon") && err.contains("cp -a"),
        "{err}"
    );
    let (status, _) = daemon.stop();
    assert!(status.success());
    check_ok(&config);
}

/// Something done to a directory on purpose.
type Damage = Box<dyn Fn(&Path)>;

/// Damage done to a cleanly closed store's directory, and what the refusal says.
fn damages() -> Vec<(&'static str, Damage, &'static str)> {
    vec![
        (
            "truncated db",
            Box::new(|d: &Path| {
                let db = d.join("db");
                let len = std::fs::metadata(&db).unwrap().len();
                let f = std::fs::OpenOptions::new().write(true).open(&db).unwrap();
                f.set_len(len / 3).unwrap();
            }),
            "had been flushed to disk",
        ),
        (
            "garbage in db",
            Box::new(|d: &Path| {
                use std::io::{Seek, Write};
                let mut f = std::fs::OpenOptions::new()
                    .write(true)
                    .open(d.join("db"))
                    .unwrap();
                f.seek(std::io::SeekFrom::Start(10)).unwrap();
                f.write_all(&[0x5a; 64 * 1024]).unwrap();
            }),
            "",
        ),
        (
            "conf deleted",
            Box::new(|d: &Path| std::fs::remove_file(d.join("conf")).unwrap()),
            "settings file",
        ),
    ]
}

#[test]
fn a_damaged_store_is_one_clear_error_with_exit_status_3() {
    let s = seed();
    for (what, damage, why) in damages() {
        let a = tempfile::tempdir().unwrap();
        let config = seed_store(a.path(), &s.feeds);
        let data = a.path().join("data");
        damage(&data);
        let x = a.path().join("x");
        let export_to = ["export", "--out", x.to_str().unwrap()];
        for cmd in [&["check"][..], &["stats"], &["once"], &export_to] {
            let out = newsd(&config, cmd);
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(3), "{what}, {cmd:?}: {err}");
            assert!(!err.contains("panicked"), "{what}, {cmd:?}: {err}");
            let line = err
                .lines()
                .find(|l| l.starts_with("newsd: error:"))
                .unwrap_or_else(|| panic!("{what}, {cmd:?}: {err}"));
            assert!(
                line.contains(&format!("store at {} is damaged", data.display()))
                    && line.contains(why)
                    && line.contains("newsd import")
                    && line.contains("move the directory away"),
                "{what}, {cmd:?}: {line}"
            );
        }
        // The daemon too: it exits 3 at once instead of running on what is left.
        let mut daemon = Daemon::start(&config);
        let status = daemon
            .wait_exit(Duration::from_secs(30))
            .unwrap_or_else(|| panic!("{what}: the daemon kept running on a damaged store"));
        assert_eq!(status.code(), Some(3), "{what}: {}", daemon.seen.join("\n"));
    }
}

#[test]
fn an_interrupted_import_is_refused_as_damaged() {
    let s = seed();
    let a = tempfile::tempdir().unwrap();
    let config = seed_store(a.path(), &s.feeds);
    let out_dir = a.path().join("export");
    export(&config, &out_dir);
    let b = tempfile::tempdir().unwrap();
    let target = write_config(b.path(), &[], "");
    {
        // An import that died after its first article.
        let store = Store::open(&store_cfg(&target)).unwrap();
        store.begin_import().unwrap();
        newsd::export::read_dir(&out_dir, |record, text| {
            if record.seq == 0 {
                store.import_article(&record, &text, b"fp", &[1]).unwrap();
            }
            Ok(())
        })
        .unwrap();
    }
    let out = newsd(&target, &["stats"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("an import into it did not finish (1 articles are in)"),
        "{}",
        stderr(&out)
    );
}
