//! Helpers: run the newsd binary, write configs, read exports.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use serde_json::Value;

pub fn newsd_bin() -> &'static str {
    env!("CARGO_BIN_EXE_newsd")
}

/// `newsd --config CONFIG ARGS…`, with JSON logs and no config from the environment.
pub fn newsd_command(config: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(newsd_bin());
    c.arg("--config")
        .arg(config)
        .args(args)
        .env_remove("NEWSD_CONFIG")
        .env_remove("NEWSD_DATA_DIR")
        .env("NEWSD_LOG_FORMAT", "json");
    c
}

/// Runs `newsd --config CONFIG ARGS…` to completion.
pub fn newsd(config: &Path, args: &[&str]) -> Output {
    newsd_command(config, args).output().expect("run newsd")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
pub fn assert_ok(o: &Output) {
    assert!(
        o.status.success(),
        "newsd failed ({:?})\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        stderr(o)
    );
}

/// Runs `newsd once`, asserts it succeeded and its stderr contains `needle`; returns stderr.
#[track_caller]
pub fn once_logs(config: &Path, needle: &str) -> String {
    let out = newsd(config, &["once"]);
    assert_ok(&out);
    let err = stderr(&out);
    assert!(err.contains(needle), "{needle:?} not in:\n{err}");
    err
}

/// A config for tests: private networks allowed (the fixtures are on 127.0.0.1), no
/// politeness delay, the given feeds inline.
pub fn write_config(dir: &Path, feeds: &[String], extra: &str) -> PathBuf {
    write_config_with(dir, feeds, &[], extra)
}

/// [`write_config`] with `[fetch]` keys set or overridden, e.g. `("max_feed_items", "10")`.
pub fn write_config_with(
    dir: &Path,
    feeds: &[String],
    fetch: &[(&str, &str)],
    extra: &str,
) -> PathBuf {
    let mut fetch_keys = vec![
        ("allow_private_networks", "true"),
        ("per_host_delay_ms", "0"),
        ("per_host_concurrency", "2"),
        ("request_timeout_secs", "10"),
    ];
    for (k, v) in fetch {
        match fetch_keys.iter_mut().find(|(key, _)| key == k) {
            Some(entry) => entry.1 = v,
            None => fetch_keys.push((k, v)),
        }
    }
    let mut s = String::from("[store]\ndata_dir = \"data\"\n\n[fetch]\n");
    for (k, v) in fetch_keys {
        s.push_str(&format!("{k} = {v}\n"));
    }
    // An ephemeral admin port: daemons of tests running at once must not collide.
    s.push_str("\n[daemon]\ndrain_timeout_secs = 5\nadmin_listen = \"127.0.0.1:0\"\n\n");
    s.push_str(extra);
    for f in feeds {
        s.push_str(&format!("\n[[feeds]]\nurl = \"{f}\"\n"));
    }
    let path = dir.join("newsd.toml");
    std::fs::write(&path, s).unwrap();
    path
}

/// Exports the store and returns (manifest lines, export dir).
pub fn export(config: &Path, out: &Path) -> Vec<Value> {
    assert_ok(&newsd(config, &["export", "--out", out.to_str().unwrap()]));
    std::fs::read_to_string(out.join("manifest.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A readable line diff for text mismatches.
pub fn diff(expected: &str, actual: &str) -> String {
    let mut out = String::new();
    let (e, a): (Vec<_>, Vec<_>) = (expected.lines().collect(), actual.lines().collect());
    for i in 0..e.len().max(a.len()) {
        let (x, y) = (e.get(i), a.get(i));
        if x != y {
            out.push_str(&format!("line {}:\n  - {:?}\n  + {:?}\n", i + 1, x, y));
        }
    }
    out
}

/// `newsd run` in the background, its JSON log lines collected as they come.
pub struct Daemon {
    child: Child,
    lines: Receiver<String>,
    /// Every line received so far.
    pub seen: Vec<String>,
}

impl Daemon {
    pub fn start(config: &Path) -> Daemon {
        Daemon::start_with_env(config, &[])
    }

    /// [`Daemon::start`] with extra environment variables.
    pub fn start_with_env(config: &Path, env: &[(&str, &str)]) -> Daemon {
        let mut child = newsd_command(config, &["run"])
            .envs(env.iter().copied())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Daemon {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits (60 s at most) until `count` more log lines contain `what`; returns the last.
    #[track_caller]
    pub fn wait_for(&mut self, what: &str, count: usize) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut found = 0;
        let mut last = String::new();
        while found < count {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    if l.contains(what) {
                        found += 1;
                        last = l.clone();
                    }
                    self.seen.push(l);
                }
                Err(_) => panic!("no {count}× {what:?} in the log:\n{}", self.seen.join("\n")),
            }
        }
        last
    }

    /// Waits for the admin endpoint and returns the address it listens on.
    #[track_caller]
    pub fn admin_addr(&mut self) -> String {
        let listening = self.wait_for("\"admin_listening\"", 1);
        let line: Value = serde_json::from_str(&listening).unwrap();
        line["fields"]["addr"]
            .as_str()
            .or(line["addr"].as_str())
            .unwrap_or_else(|| panic!("no addr in {line}"))
            .to_string()
    }

    /// The daemon's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the control socket and returns its path.
    #[track_caller]
    pub fn control_socket(&mut self) -> PathBuf {
        let listening = self.wait_for("\"control_listening\"", 1);
        let line: Value = serde_json::from_str(&listening).unwrap();
        let path = line["fields"]["path"].as_str().or(line["path"].as_str());
        PathBuf::from(path.unwrap_or_else(|| panic!("no path in {line}")))
    }

    /// Waits (`within` at most) for the daemon to exit by itself; None if it still runs.
    pub fn wait_exit(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                while let Ok(l) = self.lines.recv_timeout(Duration::from_secs(5)) {
                    self.seen.push(l);
                }
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// SIGKILL, and waits until the process is gone (its store lock with it).
    pub fn kill(mut self) -> ExitStatus {
        self.child.kill().unwrap();
        self.child.wait().unwrap()
    }

    /// The log lines read so far (without waiting), for a failure message.
    pub fn log_so_far(&mut self) -> &[String] {
        while let Ok(l) = self.lines.try_recv() {
            self.seen.push(l);
        }
        &self.seen
    }

    /// Sends SIGTERM and waits (30 s at most) for the exit; collects the remaining log.
    #[track_caller]
    pub fn stop(mut self) -> (ExitStatus, Vec<String>) {
        let status = terminate(&mut self.child);
        // The reader thread ends with the pipe; take what it read.
        while let Ok(l) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.seen.push(l);
        }
        (status, std::mem::take(&mut self.seen))
    }
}

impl Drop for Daemon {
    /// A test that fails while its daemon runs must not leave it behind (holding the test's
    /// output pipe and a temporary store).
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Sends SIGTERM to `child` and waits (30 s at most) for it to exit.
#[track_caller]
pub fn terminate(child: &mut Child) -> ExitStatus {
    let pid = child.id() as libc::pid_t;
    // SAFETY: plain kill(2) on our own child.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            panic!("newsd did not exit within 30 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A plain HTTP/1.1 GET to `addr` (host:port); returns the status code and the body.
pub fn http_get(addr: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, body.to_string())
}

/// Every file under `dir` (relative path → bytes), to compare directories byte for byte.
pub fn files(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut std::collections::BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// `newsd check` on the store of `config`: asserts it passes, returns its report line.
#[track_caller]
pub fn check_ok(config: &Path) -> String {
    let out = newsd(config, &["check"]);
    assert_ok(&out);
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(report.trim_end().ends_with(": ok"), "{report}");
    report
}

/// An RSS 2.0 feed whose items link to `items` (titles "Item 0", "Item 1", …).
pub fn rss(items: &[String]) -> String {
    let items: String = items
        .iter()
        .enumerate()
        .map(|(i, link)| {
            format!("<item><title>Item {i}</title><link>{link}</link><guid>g{i}</guid></item>")
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>T</title>{items}</channel></rss>"
    )
}
