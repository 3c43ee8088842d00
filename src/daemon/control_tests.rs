//! Tests of the control socket: both ends, the socket's mode and life, who may connect.

use std::io::BufRead;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};

use super::*;
use crate::export::tests::{record, refused_streams};
use crate::store::{NewArticle, StoreConfig};

fn store_in(dir: &Path) -> Arc<Store> {
    let cfg = StoreConfig {
        data_dir: dir.join("db"),
        cache_capacity_bytes: 1 << 20,
        ..StoreConfig::default()
    };
    let store = Store::open(&cfg).unwrap();
    for (i, text) in ["A\n\nOne.\n", "B\n\nTwo.\n"].iter().enumerate() {
        let mut r = record(i as u64, text);
        r.url = format!("https://example.org/{i}");
        r.canonical_url = r.url.clone();
        store
            .insert_article(NewArticle {
                record: r,
                text,
                aliases: &[],
                fingerprint: b"f",
                band_keys: &[],
            })
            .unwrap();
    }
    Arc::new(store)
}

/// Runs the client on a blocking thread (it is synchronous, the server is on the runtime).
async fn client_export(data_dir: &Path, out: &Path) -> Result<usize, ControlError> {
    let (data_dir, out) = (data_dir.to_path_buf(), out.to_path_buf());
    tokio::task::spawn_blocking(move || {
        std::fs::create_dir_all(&out).unwrap();
        let mut dir = ExportDir::create(&out)?;
        export_from_daemon(&data_dir, &mut dir)?;
        Ok(dir.finish()?)
    })
    .await
    .unwrap()
}

fn read_all(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_over_the_socket_equals_the_export_from_the_store() {
    let tmp = tempfile::tempdir().unwrap();
    let store = store_in(tmp.path());
    let data_dir = store.path().to_path_buf();
    let stop = CancellationToken::new();
    let control = start(&data_dir, store.clone(), &stop)
        .await
        .unwrap()
        .unwrap();

    // Owner only, from the start (it was created in a private directory, then moved).
    let meta = std::fs::symlink_metadata(socket_path(&data_dir)).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let leftovers: Vec<_> = std::fs::read_dir(&data_dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(".ns"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    let live = tmp.path().join("live");
    assert_eq!(client_export(&data_dir, &live).await.unwrap(), 2);
    let direct = tmp.path().join("direct");
    std::fs::create_dir(&direct).unwrap();
    let mut dir = ExportDir::create(&direct).unwrap();
    crate::export::from_store(&store, &mut dir).unwrap();
    dir.finish().unwrap();
    assert_eq!(read_all(&live), read_all(&direct));

    // Anything but `export` gets an error line, which the export reader refuses.
    let path = socket_path(&data_dir);
    let answer = tokio::task::spawn_blocking(move || raw_request(&path, "GET /export\n"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(answer.len(), 1, "{answer:?}");
    assert!(answer[0].contains("unknown request"), "{answer:?}");

    drop(control);
    assert!(!socket_path(&data_dir).exists(), "socket left behind");
    let err = client_export(&data_dir, &tmp.path().join("after"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no socket"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_socket_is_replaced_a_live_one_and_other_files_are_not() {
    let tmp = tempfile::tempdir().unwrap();
    let store = store_in(tmp.path());
    let data_dir = store.path().to_path_buf();
    let path = socket_path(&data_dir);
    let stop = CancellationToken::new();

    // A killed daemon leaves its socket file; nobody answers on it.
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(path.exists());
    let control = start(&data_dir, store.clone(), &stop).await.unwrap();
    assert!(control.is_some());
    assert_eq!(
        client_export(&data_dir, &tmp.path().join("out"))
            .await
            .unwrap(),
        2
    );

    // A socket somebody answers on is not taken over, and is still there afterwards.
    let err = start(&data_dir, store.clone(), &stop).await.err().unwrap();
    assert!(matches!(err, ControlError::InUse { .. }), "{err}");
    assert!(err.to_string().contains(&path.display().to_string()));
    assert!(path.exists());
    drop(control);

    // A file that is not a socket is never deleted.
    std::fs::write(&path, "operator's notes").unwrap();
    let err = start(&data_dir, store, &stop).await.err().unwrap();
    assert!(matches!(err, ControlError::NotASocket { .. }), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "operator's notes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_the_daemon_stop_token_stops_accepting() {
    let tmp = tempfile::tempdir().unwrap();
    let store = store_in(tmp.path());
    let data_dir = store.path().to_path_buf();
    let stop = CancellationToken::new();
    let _control = start(&data_dir, store, &stop).await.unwrap().unwrap();
    stop.cancel();
    // The accept loop drops the listener: connecting is refused from then on.
    let path = socket_path(&data_dir);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match std::os::unix::net::UnixStream::connect(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => break,
            _ if tokio::time::Instant::now() > deadline => panic!("still accepting"),
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

/// A fake daemon at `<data_dir>/newsd.sock` that answers every connection with `stream`.
fn fake_daemon(data_dir: &Path, stream: String) -> std::thread::JoinHandle<()> {
    let listener = std::os::unix::net::UnixListener::bind(socket_path(data_dir)).unwrap();
    std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut request = String::new();
        BufReader::new(&conn).read_line(&mut request).unwrap();
        assert_eq!(request, "export\n");
        conn.write_all(stream.as_bytes()).unwrap();
    })
}

#[test]
fn cut_tampered_and_error_streams_are_refused_over_the_socket() {
    let cases = refused_streams("the daemon is shutting down");
    for (stream, why) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let server = fake_daemon(tmp.path(), stream.clone());
        let out = tmp.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let mut dir = ExportDir::create(&out).unwrap();
        let err = export_from_daemon(tmp.path(), &mut dir)
            .and_then(|()| Ok(dir.finish()?))
            .expect_err(&stream)
            .to_string();
        server.join().unwrap();
        assert!(err.contains(why), "{stream:?}: {err}");
        assert!(!out.join("manifest.jsonl").exists());
        assert!(!out.join(".manifest.jsonl.tmp").exists());
    }
}

/// Another user cannot connect: the socket is 0600. As root (CI), a child that drops to
/// nobody (uid/gid 65534) tries to connect in `pre_exec` and gets EACCES although every
/// directory on the way is open to it. Unprivileged, a test cannot become another user, so
/// it checks the mode bits only (root would bypass them anyway).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_user_cannot_connect() {
    use std::os::unix::process::CommandExt;

    let tmp = tempfile::tempdir().unwrap();
    let store = store_in(tmp.path());
    let data_dir = store.path().to_path_buf();
    let stop = CancellationToken::new();
    let _control = start(&data_dir, store, &stop).await.unwrap().unwrap();
    let path = socket_path(&data_dir);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        let why = "not root: cannot run a client as another user; checked the mode bits only";
        let _ = writeln!(std::io::stderr(), "{why}");
        return;
    }
    // Only the socket's own mode may stand in the way.
    for d in [tmp.path(), data_dir.as_path()] {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    // The address is built before the fork: the child only makes system calls.
    // SAFETY: sockaddr_un is plain data; all zeroes is a valid value.
    let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    let bytes = path.as_os_str().as_encoded_bytes();
    assert!(bytes.len() < addr.sun_path.len());
    for (dst, src) in addr.sun_path.iter_mut().zip(bytes) {
        *dst = *src as libc::c_char;
    }
    let try_as = |uid: libc::uid_t| {
        let mut cmd = std::process::Command::new("/bin/true");
        // SAFETY: between fork and exec the closure makes only async-signal-safe system
        // calls (setgroups, setgid, setuid, socket, connect) on values built before the fork.
        unsafe {
            cmd.pre_exec(move || {
                if uid != 0
                    && (libc::setgroups(0, std::ptr::null()) != 0
                        || libc::setgid(uid) != 0
                        || libc::setuid(uid) != 0)
                {
                    return Err(std::io::Error::last_os_error());
                }
                let fd = libc::socket(libc::AF_UNIX, libc::SOCK_STREAM, 0);
                if fd < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                let len = std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
                if libc::connect(fd, (&raw const addr).cast(), len) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                libc::close(fd);
                Ok(())
            });
        }
        cmd.status().map(|s| s.success())
    };
    // The same child as root connects: the refusal below is the user's, not the probe's.
    assert!(try_as(0).unwrap());
    let err = try_as(65534).expect_err("nobody connected to the control socket");
    assert_eq!(err.raw_os_error(), Some(libc::EACCES), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_directory_too_deep_for_a_socket_runs_without_one() {
    let tmp = tempfile::tempdir().unwrap();
    let deep = tmp.path().join("d".repeat(110));
    let store = store_in(&deep);
    let data_dir = store.path().to_path_buf();
    let stop = CancellationToken::new();
    assert!(start(&data_dir, store, &stop).await.unwrap().is_none());
    assert!(!socket_path(&data_dir).exists());
    let err = client_export(&data_dir, &tmp.path().join("out"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("too long"), "{err}");
}
