//! Operator tools: `newsd health` (the container's HEALTHCHECK).

use crate::server::{Server, seed_dir};
use crate::util::*;

/// Points the config's `daemon.admin_listen` at `value`.
fn set_admin(config: &std::path::Path, value: &str) {
    let text = std::fs::read_to_string(config).unwrap();
    let patched = text.replace(
        "admin_listen = \"127.0.0.1:0\"",
        &format!("admin_listen = \"{value}\""),
    );
    assert_ne!(patched, text);
    std::fs::write(config, patched).unwrap();
}

#[test]
fn health_is_0_against_a_running_daemon_and_1_against_a_closed_port() {
    let server = Server::start(&seed_dir().join("site"));
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &[server.url("/feeds/sahel.xml")], "");
    let mut daemon = Daemon::start(&config);
    let addr = daemon.admin_addr();
    daemon.wait_for("\"feed_polled\"", 1);
    // A config naming the daemon's port, as an operator's would.
    let probe_dir = tempfile::tempdir().unwrap();
    let probe = write_config(probe_dir.path(), &[], "");
    set_admin(&probe, &addr);
    let o = newsd(&probe, &["health"]);
    assert_ok(&o);
    assert!(
        stderr(&o).contains("/healthz: HTTP/1.1 200"),
        "{}",
        stderr(&o)
    );
    let o = newsd(&probe, &["health", "--ready"]);
    assert_ok(&o);
    assert!(
        stderr(&o).contains("/readyz: HTTP/1.1 200"),
        "{}",
        stderr(&o)
    );
    let (status, _) = daemon.stop();
    assert!(status.success());

    // The daemon is gone: its port is closed.
    for args in [&["health"][..], &["health", "--ready"]] {
        let o = newsd(&probe, args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(&addr), "{}", stderr(&o));
    }
    // No endpoint configured: nothing to ask, a clear error.
    let off = write_config(probe_dir.path(), &[], "");
    set_admin(&off, "");
    let o = newsd(&off, &["health"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("admin_listen is off"), "{}", stderr(&o));
}

/// Runs `newsd --config CONFIG ARGS…` with stderr on a pseudo-terminal; returns what the
/// terminal showed.
fn on_a_terminal(config: &std::path::Path, args: &[&str]) -> (std::process::ExitStatus, String) {
    use std::io::Read;
    use std::os::fd::FromRawFd;
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes two descriptors into the given places; no name, termios or size.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened and are owned here.
    let (master, slave) = unsafe {
        (
            std::fs::File::from_raw_fd(master),
            std::process::Stdio::from(std::os::fd::OwnedFd::from_raw_fd(slave)),
        )
    };
    let mut child = newsd_command(config, args)
        .env("NEWSD_LOG_LEVEL", "error")
        .stderr(slave)
        .spawn()
        .unwrap();
    let reader = std::thread::spawn(move || {
        let mut master = master;
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        // EIO once the child (the last holder of the slave side) has exited.
        while let Ok(n) = master.read(&mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&out).into_owned()
    });
    let status = child.wait().unwrap();
    (status, reader.join().unwrap())
}

#[test]
fn progress_is_redrawn_on_a_terminal_plain_in_a_pipe_and_absent_when_quiet() {
    let server = Server::start(&seed_dir().join("site"));
    let feeds: Vec<String> = ["/feeds/sahel.xml", "/feeds/wire.atom", "/feeds/digest.json"]
        .iter()
        .map(|p| server.url(p))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &feeds, "");
    // On a terminal: a line redrawn in place, cleared at the end, then the summary.
    let (status, shown) = on_a_terminal(&config, &["once"]);
    assert!(status.success(), "{shown}");
    assert!(
        shown.contains("\r\x1b[Knewsd once: 1/3 feeds, "),
        "no progress line on the terminal: {shown:?}"
    );
    assert!(shown.contains("ETA"), "{shown:?}");
    assert!(shown.contains("newsd once: 3 feeds polled"), "{shown:?}");
    // In a pipe: plain lines, no terminal control, and a last line with the total.
    let out = newsd(&config, &["once", "--log-level", "error"]);
    assert_ok(&out);
    let err = stderr(&out);
    assert!(!err.contains('\r') && !err.contains('\x1b'), "{err:?}");
    // (a run this short gets only the last line: plain lines come every 10 s)
    assert!(
        err.lines()
            .any(|l| l.starts_with("newsd once: 3 feeds in ")),
        "{err}"
    );
    // Export counts articles the same way.
    let out_dir = dir.path().join("x");
    let (status, shown) = on_a_terminal(&config, &["export", "--out", out_dir.to_str().unwrap()]);
    assert!(status.success(), "{shown}");
    assert!(
        shown.contains("\r\x1b[Knewsd export: 1/5 articles"),
        "{shown:?}"
    );
    // Quiet: nothing at all.
    let quiet = newsd(&config, &["--quiet", "once", "--log-level", "error"]);
    assert_ok(&quiet);
    assert_eq!(stderr(&quiet), "");
}
