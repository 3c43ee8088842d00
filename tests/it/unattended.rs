//! Months unattended: what systemd and the probes are told, disk full, the free-disk
//! watermark.

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::e2e::{Seed, seed};
use crate::server::{Delivery, Route, Server};
use crate::util::*;

/// Datagrams sent to a fake `NOTIFY_SOCKET`, collected until `until` says stop.
pub(crate) fn notifications(sock: &UnixDatagram, until: impl Fn(&[String]) -> bool) -> Vec<String> {
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !until(&got) {
        assert!(Instant::now() < deadline, "notifications so far: {got:#?}");
        if let Ok(n) = sock.recv(&mut buf) {
            got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    }
    got
}

/// `newsd run` over the seed site, telling a fake systemd (a datagram socket in its temp
/// dir) what it does, with systemd's watchdog set to `watchdog_usec`. Fields drop in order:
/// the daemon first, the site it reads last.
struct UnderFakeSystemd {
    daemon: Daemon,
    sock: UnixDatagram,
    config: PathBuf,
    dir: tempfile::TempDir,
    _seed: Seed,
}

fn under_fake_systemd(watchdog_usec: &str) -> UnderFakeSystemd {
    let seed = seed();
    let dir = tempfile::tempdir().unwrap();
    let sock_path = dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    let config = write_config(dir.path(), &seed.feeds, "");
    let daemon = Daemon::start_with_env(
        &config,
        &[
            ("NOTIFY_SOCKET", sock_path.to_str().unwrap()),
            ("WATCHDOG_USEC", watchdog_usec),
        ],
    );
    UnderFakeSystemd {
        daemon,
        sock,
        config,
        dir,
        _seed: seed,
    }
}

#[test]
fn systemd_hears_ready_status_watchdog_and_stopping() {
    let mut sys = under_fake_systemd("1000000");
    let got = notifications(&sys.sock, |g| {
        g.iter().any(|m| m.contains("READY=1"))
            && g.iter().any(|m| m.contains("5 stored today"))
            && g.iter().filter(|m| m.contains("WATCHDOG=1")).count() >= 3
    });
    let status = got
        .iter()
        .rev()
        .find(|m| m.contains("stored today"))
        .unwrap();
    assert!(
        status.contains("3 feeds: 0 due, 0 in flight, 0 failing hosts; 5 stored today"),
        "{status}"
    );
    sys.daemon.wait_for("\"feed_polled\"", 3);
    let (exit, _) = sys.daemon.stop();
    assert!(exit.success());
    let rest = notifications(&sys.sock, |g| g.iter().any(|m| m.contains("STOPPING=1")));
    assert!(!rest.is_empty());
}

/// systemd's socket holds 10 datagrams; a reader that stalls (PID 1 busy) must cost newsd
/// some notifications, counted and warned about once, not its scheduler: it keeps ingesting
/// and stops on SIGTERM.
#[test]
fn a_notify_socket_nobody_reads_costs_notifications_not_the_daemon() {
    // Pings every 50 ms; the socket is never read, so its queue fills after a few.
    let mut sys = under_fake_systemd("200000");
    let admin = sys.daemon.admin_addr();
    sys.daemon.wait_for("\"feed_polled\"", 3);
    let deadline = Instant::now() + Duration::from_secs(30);
    let dropped = loop {
        let (code, metrics) = http_get(&admin, "/metrics");
        assert_eq!(code, 200);
        let dropped: u64 = metrics
            .lines()
            .find_map(|l| l.strip_prefix("newsd_notify_dropped_total "))
            .expect("newsd_notify_dropped_total in /metrics")
            .parse()
            .unwrap();
        if dropped >= 3 {
            break dropped;
        }
        assert!(Instant::now() < deadline, "{dropped} dropped after 30 s");
        std::thread::sleep(Duration::from_millis(100));
    };
    let (exit, log) = sys.daemon.stop();
    assert!(exit.success(), "{}", log.join("\n"));
    let warnings = log
        .iter()
        .filter(|l| l.contains("\"notify_dropped\""))
        .count();
    assert_eq!(
        warnings, 1,
        "{dropped} dropped: one warning, not one per message"
    );
    let export_dir = sys.dir.path().join("export");
    assert_eq!(export(&sys.config, &export_dir).len(), 5);
}

/// A small tmpfs, unmounted (lazily, even if a test fails) when dropped. Needs root: CI runs
/// as root; elsewhere the tests that need it say so and pass without running.
struct Tmpfs {
    path: PathBuf,
}

impl Tmpfs {
    fn mount(path: &Path, size: &str) -> Option<Tmpfs> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: mounting a tmpfs needs root (CI runs as root)");
            return None;
        }
        std::fs::create_dir_all(path).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "root but cannot mount a tmpfs at {}", path.display());
        Some(Tmpfs {
            path: path.to_path_buf(),
        })
    }

    /// Fills the file system up to the last byte with `filler`.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let filler = self.path.join("filler");
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 64 * 1024];
        loop {
            if f.write_all(&block).is_err() {
                break;
            }
        }
        let small = [0u8; 512];
        while f.write_all(&small).is_ok() {}
        while f.write_all(&[0u8]).is_ok() {}
        filler
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

fn metric(addr: &str, series: &str) -> f64 {
    let (_, body) = http_get(addr, "/metrics");
    body.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("{series} not in:\n{body}"))
}

/// A due feed waiting for a poll slot must not wake the scheduler: it did, at once and again,
/// burning a core through every backlog (the first pass of a long list, slow hosts).
#[test]
fn a_due_feed_waiting_for_a_poll_slot_does_not_spin_the_scheduler() {
    let server = Server::empty();
    // Both feeds answer slowly (60 bytes, one per 100 ms): whichever starts first holds the
    // only poll slot for ~6 s while the other is due.
    let slow = Route::new(200, "application/rss+xml", "<rss>".repeat(12))
        .delivery(Delivery::Trickle(Duration::from_millis(100)));
    server.put("/a.xml", slow.clone());
    server.put("/b.xml", slow);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &[server.url("/a.xml"), server.url("/b.xml")],
        "max_concurrent_feeds = 1\n",
    );
    let mut daemon = Daemon::start(&config);
    let addr = daemon.admin_addr();
    let polled = || server.hits("/a.xml") + server.hits("/b.xml");
    let deadline = Instant::now() + Duration::from_secs(60);
    while polled() == 0 {
        assert!(Instant::now() < deadline, "no feed was polled");
        std::thread::sleep(Duration::from_millis(20));
    }
    let turns = metric(&addr, "newsd_scheduler_wakeups_total");
    std::thread::sleep(Duration::from_secs(2));
    let turns = metric(&addr, "newsd_scheduler_wakeups_total") - turns;
    assert_eq!(polled(), 1, "one poll slot: the second feed waits for it");
    assert!(
        turns <= 5.0,
        "with every slot taken the scheduler waits for a poll to end, yet it turned {turns} times in 2 s"
    );
    // The waiting feed starts when the slot frees.
    while server.hits("/a.xml") == 0 || server.hits("/b.xml") == 0 {
        assert!(
            Instant::now() < deadline,
            "the waiting feed was never polled"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    daemon.stop();
}

#[test]
fn a_full_disk_pauses_ingest_with_one_error_and_it_resumes_when_space_returns() {
    let dir = tempfile::tempdir().unwrap();
    let Some(fs) = Tmpfs::mount(&dir.path().join("mnt"), "16m") else {
        return;
    };
    let s = seed();
    // The feeds fail until the disk is full, so nothing is stored before.
    let feed_paths: Vec<String> = s
        .feeds
        .iter()
        .map(|f| f.trim_start_matches(&s.server.base()).to_string())
        .collect();
    let originals: Vec<Route> = feed_paths
        .iter()
        .map(|p| s.server.get(p).unwrap())
        .collect();
    for p in &feed_paths {
        s.server.route(p, 503, "text/plain", "later");
    }
    let config = write_config(
        dir.path(),
        &s.feeds,
        "[schedule]\nmin_interval_secs = 1\nbackoff_base_secs = 1\nmax_backoff_secs = 2\n",
    );
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "[store]\ndata_dir = \"data\"\n",
        &format!(
            "[store]\ndata_dir = \"{}\"\nmin_free_bytes = 0\n",
            fs.path.join("data").display()
        ),
    );
    std::fs::write(&config, text).unwrap();
    let mut daemon = Daemon::start(&config);
    let addr = daemon.admin_addr();
    daemon.wait_for("\"feed_error\"", 3);
    let filler = fs.fill();
    for (p, r) in feed_paths.iter().zip(&originals) {
        s.server.put(p, r.clone());
    }
    daemon.wait_for("\"ingest_paused\"", 1);
    assert_eq!(http_get(&addr, "/readyz").0, 503);
    assert!(http_get(&addr, "/readyz").1.contains("ingest paused"));
    assert_eq!(http_get(&addr, "/healthz").0, 200, "paused is not dead");
    assert_eq!(metric(&addr, "newsd_ingest_paused"), 1.0);
    // Stay full for a while: the daemon must not flood the log meanwhile.
    let mark = daemon.seen.len();
    std::thread::sleep(Duration::from_secs(4));
    std::fs::remove_file(&filler).unwrap();
    daemon.wait_for("\"ingest_resumed\"", 1);
    // What sled had not flushed when the disk filled is gone with the poisoned database,
    // feed cursors included: at least the feed whose write failed is polled again.
    daemon.wait_for("\"feed_polled\"", 1);
    let noisy: Vec<&String> = daemon.seen[mark..]
        .iter()
        .filter(|l| l.contains("\"level\":\"WARN\"") || l.contains("\"level\":\"ERROR\""))
        .collect();
    assert!(
        noisy.len() <= 6,
        "a full disk must not flood the log: {noisy:#?}"
    );
    let all = daemon.seen.join("\n");
    assert_eq!(
        all.matches("\"ingest_paused\"").count(),
        1,
        "one error line"
    );
    assert_eq!(http_get(&addr, "/readyz").0, 200);
    assert_eq!(metric(&addr, "newsd_ingest_paused"), 0.0);
    let (exit, _) = daemon.stop();
    assert!(exit.success());
    // A pass completes whatever the daemon had not re-done yet: then every story is stored
    // once, both copies recorded once, seqs dense (the daemon polled the feeds concurrently,
    // so their order is not the seed's).
    assert_ok(&newsd(&config, &["once"]));
    check_ok(&config);
    let out = dir.path().join("export");
    let lines = export(&config, &out);
    assert_seed_texts(&s, &out, &lines);
}

/// The export holds each seed story once with its copies recorded under it, in any ingest
/// order: the daemon polls feeds concurrently, so which copy of a story came first (and so
/// is the original) may differ from the seed's sequential order.
fn assert_seed_texts(s: &crate::e2e::Seed, out: &Path, lines: &[serde_json::Value]) {
    let stored = s.manifest["stored"].as_array().unwrap();
    assert_eq!(lines.len(), stored.len(), "{lines:#?}");
    let seqs: Vec<u64> = lines.iter().map(|l| l["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (0..stored.len() as u64).collect::<Vec<_>>());
    let copies_of = |page: &str| -> Vec<String> {
        s.manifest["duplicates"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["duplicate_of"] == page)
            .map(|d| s.server.url(d["page"].as_str().unwrap()))
            .collect()
    };
    for entry in stored {
        let page = entry["page"].as_str().unwrap();
        let mut group = copies_of(page);
        group.push(s.server.url(page));
        let holders: Vec<&serde_json::Value> = lines
            .iter()
            .filter(|l| group.iter().any(|u| l["canonical_url"] == u.as_str()))
            .collect();
        assert_eq!(holders.len(), 1, "{page}: one copy stored: {lines:#?}");
        let line = holders[0];
        let mut recorded: Vec<String> = line["duplicates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["url"].as_str().unwrap().to_string())
            .collect();
        recorded.push(line["canonical_url"].as_str().unwrap().to_string());
        recorded.sort();
        group.sort();
        assert_eq!(recorded, group, "{page}: the others recorded under it");
        if line["canonical_url"] == s.server.url(page).as_str() {
            let expected = std::fs::read_to_string(
                crate::server::seed_dir().join(entry["expected"].as_str().unwrap()),
            )
            .unwrap();
            let actual = std::fs::read_to_string(out.join(line["name"].as_str().unwrap())).unwrap();
            assert!(expected == actual, "{page}:\n{}", diff(&expected, &actual));
        }
    }
}

#[test]
fn below_the_free_disk_watermark_nothing_is_polled() {
    let s = seed();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &s.feeds, "");
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "[store]\ndata_dir = \"data\"\n",
        "[store]\ndata_dir = \"data\"\nmin_free_bytes = 1000000000000000000\n",
    );
    std::fs::write(&config, text).unwrap();
    // `once` refuses with the reason and the key to change.
    let out = newsd(&config, &["once"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("store.min_free_bytes"),
        "{}",
        stderr(&out)
    );
    // `run` stays up, not ready, and polls nothing.
    let mut daemon = Daemon::start(&config);
    let addr = daemon.admin_addr();
    daemon.wait_for("\"ingest_paused\"", 1);
    assert_eq!(http_get(&addr, "/readyz").0, 503);
    assert_eq!(metric(&addr, "newsd_ingest_paused"), 1.0);
    // Every feed is due and none may start: the scheduler rechecks once a second, it does
    // not spin.
    let turns = metric(&addr, "newsd_scheduler_wakeups_total");
    std::thread::sleep(Duration::from_secs(2));
    let turns = metric(&addr, "newsd_scheduler_wakeups_total") - turns;
    assert!(
        turns <= 6.0,
        "paused, the scheduler rechecks once a second, yet it turned {turns} times in 2 s"
    );
    let (exit, _) = daemon.stop();
    assert!(exit.success());
    assert!(s.server.log().is_empty(), "{:#?}", s.server.log());
}
