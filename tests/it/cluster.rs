//! Cluster mode (issue 14, DESIGN §10) against a real `nats-server` with JetStream, started
//! on a free 127.0.0.1 port with its store in a temp dir (`.ci/run` installs the Debian
//! package). Workers are real `newsd run` processes, each with its own data directory.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

use crate::e2e::{assert_seed_export, seed};
use crate::site::Site;
use crate::util::*;

/// A nats-server with JetStream on 127.0.0.1; killed (and its store removed) on drop.
pub struct Nats {
    child: Child,
    pub url: String,
    port: u16,
    dir: tempfile::TempDir,
}

impl Nats {
    /// The server binary: Debian's package, or one on PATH.
    fn binary() -> Option<String> {
        ["/usr/sbin/nats-server", "/usr/bin/nats-server"]
            .into_iter()
            .map(String::from)
            .find(|p| Path::new(p).exists())
            .or_else(|| {
                let ok = Command::new("nats-server").arg("--version").output();
                ok.is_ok_and(|o| o.status.success())
                    .then(|| "nats-server".to_string())
            })
    }

    /// A server on a free port, or None (the test is skipped, and says so) when nats-server
    /// is not installed outside CI. In CI (`CI` set, as `.ci/run` does) a missing server
    /// fails the test: there the cluster tests must run.
    #[track_caller]
    pub fn start() -> Option<Nats> {
        if Nats::binary().is_none() {
            assert!(
                std::env::var_os("CI").is_none(),
                "nats-server is not installed (apt-get install -y nats-server)"
            );
            eprintln!("skipped: cluster tests need nats-server (apt-get install -y nats-server)");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        Some(Nats::start_on(port, dir))
    }

    #[track_caller]
    fn start_on(port: u16, dir: tempfile::TempDir) -> Nats {
        let bin = Nats::binary().expect("nats-server installed");
        let log = std::fs::File::create(dir.path().join("nats.log")).unwrap();
        let child = Command::new(&bin)
            .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
            .arg(dir.path().join("js"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
        let nats = Nats {
            child,
            url: format!("nats://127.0.0.1:{port}"),
            port,
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let log = std::fs::read_to_string(nats.dir.path().join("nats.log")).unwrap_or_default();
            if log.contains("Server is ready") {
                return nats;
            }
            assert!(
                Instant::now() < deadline,
                "nats-server did not start:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the server (keeping its store), returns what restarts it on the same port.
    fn kill(mut self) -> (u16, tempfile::TempDir) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let port = self.port;
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        (port, dir)
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A worker's config in `dir`: the feeds, per-host concurrency 1, 1 s intervals, and a
/// `[cluster]` section naming it `node` (3 s leases, so takeovers are quick).
fn worker_config(dir: &Path, nats: &str, node: &str, feeds: &[String], daemon: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    write_config_with(
        dir,
        feeds,
        &[("per_host_concurrency", "1")],
        &format!(
            "{daemon}\n[schedule]\ndefault_interval_secs = 1\nmin_interval_secs = 1\nbackoff_base_secs = 1\nmax_backoff_secs = 2\njitter_ratio = 0.0\n\n[cluster]\nnats_url = \"{nats}\"\nname = \"t\"\npartitions = 16\nlease_secs = 3\nnode = \"{node}\"\n\n"
        ),
    )
}

/// Exports the store of record through `reader` (a node that runs no daemon: its replica
/// catches up from the articles stream first).
fn export_via(reader: &Path, n: &mut usize) -> Vec<Value> {
    *n += 1;
    let out = reader.parent().unwrap().join(format!("export-{n}"));
    export(reader, &out)
}

/// For a failure message: each worker's warnings and errors and its last log lines.
fn worker_logs(daemons: &mut [Daemon]) -> String {
    let mut out = String::new();
    for (i, d) in daemons.iter_mut().enumerate() {
        let lines = d.log_so_far();
        let tail = lines.len().saturating_sub(60);
        out += &format!("--- worker {i}: {} log lines\n", lines.len());
        for (n, l) in lines.iter().enumerate() {
            if n >= tail || l.contains("\"WARN\"") || l.contains("\"ERROR\"") {
                out += l;
                out.push('\n');
            }
        }
    }
    out
}

fn cluster_status(config: &Path) -> Value {
    let out = newsd(config, &["cluster", "status", "--json"]);
    assert_ok(&out);
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_seed_site_through_two_workers_is_stored_as_by_one_node() {
    let Some(nats) = Nats::start() else { return };
    let s = seed();
    let root = tempfile::tempdir().unwrap();
    // One feed at a time: ingest order is then the feed order, as with `newsd once`.
    let workers: Vec<PathBuf> = ["w1", "w2"]
        .iter()
        .map(|n| {
            worker_config(
                &root.path().join(n),
                &nats.url,
                n,
                &s.feeds,
                "max_concurrent_feeds = 1",
            )
        })
        .collect();
    let reader = worker_config(
        &root.path().join("reader"),
        &nats.url,
        "reader",
        &s.feeds,
        "",
    );
    // w1 tells a fake systemd what it is doing.
    let sock_path = root.path().join("notify.sock");
    let sock = std::os::unix::net::UnixDatagram::bind(&sock_path).unwrap();
    let mut daemons: Vec<Daemon> = vec![
        Daemon::start_with_env(
            &workers[0],
            &[("NOTIFY_SOCKET", sock_path.to_str().unwrap())],
        ),
        Daemon::start(&workers[1]),
    ];
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut n = 0;
    let lines = loop {
        let lines = export_via(&reader, &mut n);
        let copies: usize = lines
            .iter()
            .map(|l| l["duplicates"].as_array().unwrap().len())
            .sum();
        if lines.len() >= 5 && copies >= 2 {
            break lines;
        }
        if Instant::now() >= deadline {
            panic!(
                "not settled in 90 s: {lines:#?}\n{}",
                worker_logs(&mut daemons)
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let status = cluster_status(&reader);
    assert_eq!(
        status["members"],
        serde_json::json!(["w1", "w2"]),
        "{status}"
    );
    assert!(status["committer"].is_string(), "{status}");
    // Feed health comes from the cluster's feed state, whichever worker polled the feed.
    let out = newsd(&reader, &["feeds", "--json"]);
    assert_ok(&out);
    let feeds: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(feeds.len(), 3);
    for f in &feeds {
        assert_eq!(f["status"], "ok", "{f}");
        assert!(f["last_success"].is_string(), "{f}");
    }
    // STATUS= names the worker and its share of the partitions once it holds some.
    let got = crate::unattended::notifications(&sock, |g| {
        g.iter()
            .any(|m| m.contains("; worker w1: ") && !m.contains(" 0 of 16 partitions"))
    });
    let status = got.iter().rev().find(|m| m.contains("worker w1")).unwrap();
    assert!(status.contains("of 16 partitions"), "{status}");
    for d in daemons {
        let (code, log) = d.stop();
        assert!(code.success(), "{}", log.join("\n"));
    }
    let export_dir = reader.parent().unwrap().join(format!("export-{n}"));
    assert_seed_export(&s, &export_dir, &lines);
    check_ok(&reader);
    // Every node answers with the same store of record: a worker's replica too.
    let again = export(&workers[0], &root.path().join("export-w1"));
    assert_eq!(again, lines);
}

/// Which worker a run SIGKILLs halfway.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Victim {
    None,
    Worker,
    Committer,
}

fn three_workers_over_a_growing_web(victim: Victim) {
    let seed: u64 = rand::random();
    eprintln!("cluster test ({victim:?}): seed {seed}");
    let Some(nats) = Nats::start() else { return };
    let site = Site::new(seed, 12, 24);
    // Slow enough answers that two workers polling one host would overlap.
    for server in &site.servers {
        server.set_latency(Duration::from_millis(15));
    }
    for i in 0..24 {
        site.add_page(i);
    }
    let feeds = site.feed_urls();
    let root = tempfile::tempdir().unwrap();
    let names = ["w0", "w1", "w2"];
    let configs: Vec<PathBuf> = names
        .iter()
        .map(|n| worker_config(&root.path().join(n), &nats.url, n, &feeds, ""))
        .collect();
    let reader = worker_config(&root.path().join("reader"), &nats.url, "reader", &feeds, "");
    let mut daemons: Vec<Option<Daemon>> = configs.iter().map(|c| Some(Daemon::start(c))).collect();
    let total = 150;
    let mut n = 0;
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut rng = StdRng::seed_from_u64(seed ^ 0xfeed);
            for i in 24..total {
                std::thread::sleep(Duration::from_millis(rng.random_range(20..80)));
                site.add_page(i);
            }
        });
        if victim != Victim::None {
            // Mid-run: once a third of the pages are in the store of record.
            let deadline = Instant::now() + Duration::from_secs(60);
            while site.settled(&export_via(&reader, &mut n)).0 < total / 3 {
                assert!(Instant::now() < deadline, "no progress before the kill");
                std::thread::sleep(Duration::from_millis(300));
            }
            let committer = cluster_status(&reader)["committer"]
                .as_str()
                .map(str::to_string);
            let i = match victim {
                Victim::Committer => names
                    .iter()
                    .position(|w| Some(*w) == committer.as_deref())
                    .expect("a committer"),
                _ => names
                    .iter()
                    .position(|w| Some(*w) != committer.as_deref())
                    .unwrap(),
            };
            eprintln!(
                "cluster test: SIGKILL {} (committer: {committer:?})",
                names[i]
            );
            daemons[i].take().unwrap().kill();
        }
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let lines = loop {
        let lines = export_via(&reader, &mut n);
        let (settled, served) = site.settled(&lines);
        if settled >= served {
            break lines;
        }
        assert!(
            Instant::now() < deadline,
            "{victim:?}: {settled} of {served} pages settled after 120 s; status {}",
            cluster_status(&reader)
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    let status = cluster_status(&reader);
    for d in daemons.into_iter().flatten() {
        let (code, log) = d.stop();
        assert!(code.success(), "{}", log.join("\n"));
    }
    site.assert_store(&lines, &format!("{victim:?}, seed {seed}"));
    assert_eq!(
        site.max_in_flight_per_host(),
        1,
        "a host served two requests at once"
    );
    assert_eq!(status["lag"], 0, "{status}");
    check_ok(&reader);
}

#[test]
fn three_workers_store_every_page_once() {
    three_workers_over_a_growing_web(Victim::None);
}

#[test]
fn a_worker_sigkilled_mid_run_loses_nothing() {
    three_workers_over_a_growing_web(Victim::Worker);
}

#[test]
fn the_committer_sigkilled_mid_run_loses_nothing() {
    three_workers_over_a_growing_web(Victim::Committer);
}

#[test]
fn a_nats_outage_pauses_the_workers_and_loses_nothing() {
    let seed: u64 = rand::random();
    eprintln!("cluster outage test: seed {seed}");
    let site = Site::new(seed, 3, 6);
    for i in 0..10 {
        site.add_page(i);
    }
    let Some(nats) = Nats::start() else { return };
    let feeds = site.feed_urls();
    let root = tempfile::tempdir().unwrap();
    let w0 = worker_config(&root.path().join("w0"), &nats.url, "w0", &feeds, "");
    let w1 = worker_config(&root.path().join("w1"), &nats.url, "w1", &feeds, "");
    let reader = worker_config(&root.path().join("reader"), &nats.url, "reader", &feeds, "");
    let mut d0 = Daemon::start(&w0);
    let d1 = Daemon::start(&w1);
    let admin = d0.admin_addr();
    let mut n = 0;
    let wait = |what: &str, secs: u64, done: &mut dyn FnMut() -> bool| {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while !done() {
            assert!(Instant::now() < deadline, "{what}: not within {secs} s");
            std::thread::sleep(Duration::from_millis(300));
        }
    };
    wait("first pages stored", 60, &mut || {
        site.settled(&export_via(&reader, &mut n)).0 >= 10
    });
    for i in 10..20 {
        site.add_page(i);
    }
    let (port, dir) = nats.kill();
    wait("readyz says the cluster is unreachable", 20, &mut || {
        let (code, body) = http_get(&admin, "/readyz");
        code == 503 && body.contains("cluster")
    });
    assert_eq!(
        http_get(&admin, "/healthz").0,
        200,
        "an outage is not a sickness"
    );
    for i in 20..30 {
        site.add_page(i);
    }
    std::thread::sleep(Duration::from_secs(2));
    let _nats = Nats::start_on(port, dir);
    wait("ready again", 40, &mut || {
        http_get(&admin, "/readyz").0 == 200
    });
    let mut lines = Vec::new();
    wait("every page settled after the outage", 90, &mut || {
        lines = export_via(&reader, &mut n);
        let (settled, served) = site.settled(&lines);
        settled >= served
    });
    for d in [d0, d1] {
        let (code, log) = d.stop();
        assert!(code.success(), "{}", log.join("\n"));
    }
    site.assert_store(&lines, &format!("outage, seed {seed}"));
}
