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
