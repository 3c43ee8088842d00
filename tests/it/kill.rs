//! Kill test (issue 10, part 6): `newsd run` ingests a local site whose feeds keep growing
//! (about one page in ten a republished copy of an earlier story) and is SIGKILLed at random
//! moments, 10 ms to 1.5 s after it starts; `newsd check` must pass after every kill. At the
//! end one `newsd once` settles the rest, and the store must hold what the site served:
//! every story stored once with every other page of it recorded once as its copy, none lost,
//! seqs 0..n-1 with no name reused.
//!
//! `NEWSD_KILLS` sets the number of kills (default 30; 200 for the long run),
//! `NEWSD_KILL_SEED` replays a run (the seed is printed; page contents and kill delays follow
//! from it, the interleaving with the growing site only roughly).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

use crate::site::Site;
use crate::util::*;

const FEEDS: usize = 5;

#[test]
fn sigkill_at_random_moments_loses_nothing_and_reuses_no_name() {
    let kills: usize = std::env::var("NEWSD_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(30);
    let seed: u64 = std::env::var("NEWSD_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("kill test: seed {seed} (NEWSD_KILL_SEED={seed} replays it), {kills} kills");
    let site = Site::new(seed, 1, FEEDS);
    // A few pages per kill (at most 120 a feed: all stay within max_feed_items).
    let max_pages = (kills * 4).clamp(20, FEEDS * 120);
    for i in 0..8 {
        site.add_page(i);
    }
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &site.feed_urls(),
        "[schedule]\ndefault_interval_secs = 1\nmin_interval_secs = 1\nbackoff_base_secs = 1\nmax_backoff_secs = 2\njitter_ratio = 0.0\n\n",
    );
    let mut rng = StdRng::seed_from_u64(seed);
    let started = Instant::now();
    let done = AtomicBool::new(false);
    let mut failures: Vec<String> = Vec::new();
    let mut violations = 0;
    let mut checked = 0;
    std::thread::scope(|scope| {
        // The site grows while the daemon runs, is killed and restarts.
        let grower = scope.spawn(|| {
            let mut rng = StdRng::seed_from_u64(seed ^ 0xfeed);
            let mut i = 8;
            while !done.load(Ordering::SeqCst) && i < max_pages {
                std::thread::sleep(Duration::from_millis(rng.random_range(100..400)));
                site.add_page(i);
                i += 1;
            }
        });
        for k in 0..kills {
            let daemon = Daemon::start(&config);
            std::thread::sleep(Duration::from_millis(rng.random_range(10..=1500)));
            daemon.kill();
            if !dir.path().join("data").exists() {
                continue; // killed before it created the store
            }
            checked += 1;
            let out = newsd(&config, &["check"]);
            if !out.status.success() {
                let report = String::from_utf8_lossy(&out.stdout).into_owned();
                violations += report
                    .lines()
                    .filter(|l| l.starts_with("invariant "))
                    .count();
                failures.push(format!("after kill {k}:\n{report}{}", stderr(&out)));
            }
        }
        done.store(true, Ordering::SeqCst);
        grower.join().unwrap();
    });
    let kill_phase = started.elapsed();
    let stats = |config| -> Value {
        let out = newsd(config, &["stats", "--json"]);
        assert_ok(&out);
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let by_killed = stats(&config);
    // Settle what the killed runs left: one full pass over the final site.
    once_logs(&config, "newsd once");
    check_ok(&config);
    let served = site.pages.lock().unwrap().len();
    let last = stats(&config);
    eprintln!(
        "kill test: {kills} kills in {:.1} s, {checked} checks, {violations} violations; {} pages served ({} stories): the killed runs stored {} articles and {} copies, the final pass {} and {}",
        kill_phase.as_secs_f64(),
        served,
        *site.stories.lock().unwrap(),
        by_killed["articles"],
        by_killed["duplicates"],
        last["articles"].as_u64().unwrap() - by_killed["articles"].as_u64().unwrap(),
        last["duplicates"].as_u64().unwrap() - by_killed["duplicates"].as_u64().unwrap(),
    );
    assert!(failures.is_empty(), "seed {seed}:\n{}", failures.join("\n"));
    // Otherwise the kills interrupted nothing worth testing.
    assert!(
        by_killed["articles"].as_u64().unwrap() * 4 > last["articles"].as_u64().unwrap(),
        "the killed runs stored too little to test anything: {by_killed}"
    );

    let lines = export(&config, &dir.path().join("export"));
    site.assert_store(&lines, &format!("seed {seed}"));
    let stats = newsd(&config, &["stats", "--json"]);
    let stats: Value = serde_json::from_slice(&stats.stdout).unwrap();
    assert_eq!(
        stats["next_seq"].as_u64(),
        Some(lines.len() as u64),
        "{stats}"
    );
}
