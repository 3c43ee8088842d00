//! Broken pipe on stdout (issue 12): `newsd list | head -1` and the like exit 0, quietly.

use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Output, Stdio};

use crate::server::{Server, seed_dir};
use crate::util::*;

/// Runs newsd with its stdout on a pipe whose reader has already gone (`newsd … | true`
/// where `true` exited first). Unlike reading one line and closing, this reaches the write
/// error whatever the size of the output: a short output would fit the pipe's buffer and
/// never notice a reader that left after it was written.
fn into_closed_pipe(config: &std::path::Path, args: &[&str]) -> Output {
    let mut fds = [0; 2];
    // SAFETY: pipe(2) fills the two descriptors we pass.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: both descriptors are fresh and owned here alone.
    let (reader, writer) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(reader);
    newsd_command(config, args)
        .env("NEWSD_LOG_LEVEL", "warn")
        .stdout(Stdio::from(writer))
        .output()
        .expect("run newsd")
}

#[test]
fn every_view_exits_quietly_when_its_reader_goes_away() {
    let server = Server::start(&seed_dir().join("site"));
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &[server.url("/feeds/sahel.xml")], "");
    assert_ok(&newsd(&config, &["once"]));
    let listed = newsd(&config, &["list", "--json"]);
    assert_ok(&listed);
    let first: serde_json::Value =
        serde_json::from_slice(listed.stdout.split(|&b| b == b'\n').next().unwrap()).unwrap();
    let name = first["name"].as_str().unwrap().to_string();
    let page = seed_dir().join("site/articles/traore-moscow-visit.html");
    let texts = seed_texts();
    let mut commands: Vec<Vec<&str>> = vec![
        vec!["list"],
        vec!["list", "--json"],
        vec!["show", &name],
        vec!["show", &name, "--json"],
        vec!["feeds"],
        vec!["feeds", "--json"],
        vec!["stats"],
        vec!["stats", "--json"],
        vec!["validate"],
        vec!["clean", page.to_str().unwrap()],
        vec!["clean", "--explain", page.to_str().unwrap()],
    ];
    commands.push(
        ["dedup"]
            .into_iter()
            .chain(texts.iter().map(String::as_str))
            .collect(),
    );
    for args in &commands {
        // The command has something to say…
        let normal = newsd(&config, args);
        assert_ok(&normal);
        assert!(!normal.stdout.is_empty(), "{args:?} wrote nothing");
        // …and nobody left to hear it.
        let o = into_closed_pipe(&config, args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {:?}\n{err}", o.status);
        // clean --explain writes its report to stderr after stdout: none of it once stdout
        // is gone, and never an error or a panic message.
        assert!(err.is_empty(), "{args:?}:\n{err}");
    }
}

/// `newsd dedup --list … | head -1` literally: read one line, close the pipe. The output
/// (about 200 KB) is larger than a pipe's buffer (64 KiB), so newsd is still writing when the
/// reader goes.
#[test]
fn a_reader_that_takes_one_line_and_leaves_ends_newsd_quietly() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let texts = seed_texts();
    let list = dir.path().join("list.txt");
    let lines: Vec<&str> = texts
        .iter()
        .map(String::as_str)
        .cycle()
        .take(3000)
        .collect();
    std::fs::write(&list, lines.join("\n")).unwrap();
    let config = write_config(dir.path(), &[], "");
    let full = newsd(&config, &["dedup", "--list", list.to_str().unwrap()]);
    assert_ok(&full);
    assert!(full.stdout.len() > 128 * 1024, "{}", full.stdout.len());

    let mut child = newsd_command(&config, &["dedup", "--list", list.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with('{'), "{first}");
    // The reader is dropped here: the pipe is closed.
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{:?}\n{err}", o.status);
    // Not even dedup's summary: the run stopped where its reader left.
    assert!(err.is_empty(), "{err}");
}

/// The seed site's expected texts (paths), as `newsd dedup` input.
fn seed_texts() -> Vec<String> {
    std::fs::read_dir(seed_dir().join("expected"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .map(|p| p.to_str().unwrap().to_string())
        .collect()
}
