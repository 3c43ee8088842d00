//! Helpers: run the newsd binary, write configs, read exports.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub fn newsd_bin() -> &'static str {
    env!("CARGO_BIN_EXE_newsd")
}

/// Runs `newsd --config CONFIG ARGS…` to completion.
pub fn newsd(config: &Path, args: &[&str]) -> Output {
    Command::new(newsd_bin())
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("NEWSD_CONFIG")
        .env_remove("NEWSD_DATA_DIR")
        .env("NEWSD_LOG_FORMAT", "json")
        .output()
        .expect("run newsd")
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
    s.push_str("\n[daemon]\ndrain_timeout_secs = 5\n\n");
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
