//! A bounded soak: hundreds of feeds on short intervals, a share of them faulty, the list
//! shrinking halfway; memory, file descriptors and threads must plateau.
//!
//! `NEWSD_SOAK_SECS` (default 90) and `NEWSD_SOAK_FEEDS` (default 300) make it longer or
//! larger.

use std::time::{Duration, Instant};

use crate::server::Server;
use crate::util::*;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A distinct article page: story `n`, with names and figures.
fn story(n: u64) -> String {
    const WORDS: &[&str] = &[
        "council", "river", "budget", "harvest", "station", "school", "market", "bridge", "museum",
        "voters", "farmers", "workers", "storm", "festival", "hospital", "court", "railway",
        "library", "harbour", "factory", "village", "garden", "tunnel", "airport",
    ];
    let mut x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move |m: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % m as u64) as usize
    };
    let mut body = String::new();
    for p in 0..4 {
        let words: Vec<&str> = (0..40).map(|_| WORDS[next(WORDS.len())]).collect();
        body.push_str(&format!(
            "<p>Paragraph {p} of report {n} says Ms Halvorsen counted {} {}.</p>",
            1000 + next(9000),
            words.join(" ")
        ));
    }
    format!(
        "<html><head><title>Report {n}</title><script>{}</script></head><body><nav><a href=\"/\">Home</a></nav><article><h1>Report {n}</h1>{body}</article></body></html>",
        "var x = 1;".repeat(200)
    )
}

struct Sample {
    at: Duration,
    rss_kib: u64,
    fds: usize,
    threads: usize,
}

fn sample(pid: u32, start: Instant) -> Sample {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    Sample {
        at: start.elapsed(),
        rss_kib: field("VmRSS:"),
        fds: std::fs::read_dir(format!("/proc/{pid}/fd"))
            .unwrap()
            .count(),
        threads: field("Threads:") as usize,
    }
}

#[test]
fn memory_fds_and_threads_plateau_over_hundreds_of_feeds() {
    let secs = env_or("NEWSD_SOAK_SECS", 90);
    let n_feeds = env_or("NEWSD_SOAK_FEEDS", 300);
    let s = Server::empty();
    let mut next_story = 0u64;
    let mut items: Vec<Vec<String>> = vec![Vec::new(); n_feeds as usize];
    let publish = |feed: usize, items: &mut Vec<Vec<String>>, next_story: &mut u64| {
        let path = format!("/p/{}.html", *next_story);
        s.route(&path, 200, "text/html", story(*next_story));
        *next_story += 1;
        items[feed].push(s.url(&path));
        let body: String = items[feed]
            .iter()
            .rev()
            .take(5)
            .map(|l| format!("<item><title>{l}</title><link>{l}</link></item>"))
            .collect();
        s.route(
            &format!("/f/{feed}.xml"),
            200,
            "application/rss+xml",
            format!("<rss version=\"2.0\"><channel><title>F{feed}</title>{body}</channel></rss>"),
        );
    };
    // One feed in ten is faulty: missing, garbage, or failing.
    for feed in 0..n_feeds as usize {
        match feed % 30 {
            0 => {} // 404
            10 => s.route(&format!("/f/{feed}.xml"), 200, "text/xml", "<rss><chan"),
            20 => s.route(&format!("/f/{feed}.xml"), 500, "text/plain", "down"),
            _ => publish(feed, &mut items, &mut next_story),
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("feeds.txt");
    let all: Vec<String> = (0..n_feeds)
        .map(|f| s.url(&format!("/f/{f}.xml")))
        .collect();
    std::fs::write(&list, all.join("\n")).unwrap();
    let config = write_config_with(
        dir.path(),
        &[],
        &[("per_host_concurrency", "16")],
        "[schedule]\ndefault_interval_secs = 2\nmin_interval_secs = 1\nbackoff_base_secs = 1\nmax_backoff_secs = 4\n",
    );
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("feed_files = [\"feeds.txt\"]\n{text}").replace(
            "drain_timeout_secs = 5",
            "drain_timeout_secs = 5\nmax_concurrent_feeds = 16",
        ),
    )
    .unwrap();
    let mut daemon = Daemon::start(&config);
    let addr = daemon.admin_addr();
    let pid = daemon.pid();
    let start = Instant::now();
    let mut samples = Vec::new();
    let mut shrunk = false;
    let mut feed_cursor = 0usize;
    while start.elapsed() < Duration::from_secs(secs) {
        std::thread::sleep(Duration::from_secs(2));
        // The feeds keep growing: a few new stories every round.
        for _ in 0..5 {
            feed_cursor = (feed_cursor + 7) % n_feeds as usize;
            if !feed_cursor.is_multiple_of(10) {
                publish(feed_cursor, &mut items, &mut next_story);
            }
        }
        // Halfway: a third of the feeds leave the list (SIGHUP reload).
        if !shrunk && start.elapsed() >= Duration::from_secs(secs / 2) {
            shrunk = true;
            let kept: Vec<&String> = all.iter().take(all.len() * 2 / 3).collect();
            std::fs::write(
                &list,
                kept.iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join("\n"),
            )
            .unwrap();
            // SAFETY: plain kill(2) on our own child.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGHUP) };
        }
        samples.push(sample(pid, start));
    }
    let (_, metrics) = http_get(&addr, "/metrics");
    let gauge = |series: &str| -> f64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or(-1.0)
    };
    assert_eq!(gauge("newsd_feeds"), (n_feeds * 2 / 3) as f64);
    let polls = gauge("newsd_feed_polls_total{result=\"ok\"}")
        + gauge("newsd_feed_polls_total{result=\"not_modified\"}");
    let errors = gauge("newsd_feed_polls_total{result=\"error\"}");
    let (exit, log) = daemon.stop();
    assert!(exit.success());
    check_ok(&config);
    assert!(
        !log.iter()
            .any(|l| l.contains("\"panic") || l.contains("poll_crashed")),
        "no crash"
    );

    let half = samples.len() / 2;
    let second = &samples[half..];
    let (first_s, last_s) = (&second[0], &second[second.len() - 1]);
    let max_rss = second.iter().map(|s| s.rss_kib).max().unwrap();
    let max_fds = second.iter().map(|s| s.fds).max().unwrap();
    let max_threads = second.iter().map(|s| s.threads).max().unwrap();
    eprintln!(
        "soak: {secs} s, {n_feeds} feeds ({} stories published), {polls} ok or 304 polls, {errors} failed polls; \
         second half from {:?}: RSS {} → {} KiB (max {max_rss}), fds {} → {} (max {max_fds}), threads {} → {} (max {max_threads})",
        next_story,
        first_s.at,
        first_s.rss_kib,
        last_s.rss_kib,
        first_s.fds,
        last_s.fds,
        first_s.threads,
        last_s.threads,
    );
    assert!(
        polls > n_feeds as f64,
        "every feed polled more than once: {polls}"
    );
    assert!(
        last_s.rss_kib <= first_s.rss_kib + first_s.rss_kib / 4 + 16 * 1024,
        "RSS keeps growing in the second half: {} → {} KiB",
        first_s.rss_kib,
        last_s.rss_kib
    );
    assert!(
        max_fds <= first_s.fds + 32,
        "fds grow: {} → {max_fds}",
        first_s.fds
    );
    assert!(
        max_threads <= first_s.threads + 8,
        "threads grow: {} → {max_threads}",
        first_s.threads
    );
}
