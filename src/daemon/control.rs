//! The control socket of `newsd run`: a Unix domain socket `<data_dir>/newsd.sock`, mode 0600,
//! through which `newsd export` streams the store while the daemon holds sled's lock.
//!
//! Owns: the socket's life (created owner-only with no window where it is wider, a stale one
//! left by a killed daemon replaced, removed on shutdown), its one-line request protocol, and
//! the client side `newsd export` uses. Must not: listen on TCP (the stored articles never ride
//! on the metrics port, issue 15) or write to the store (it reads through [`crate::export`]).
//!
//! Who may connect is decided by the operating system: connecting needs write permission on
//! the socket file, which only its owner (the daemon's user) and root have. The socket lives in
//! the data directory because that is what the systemd unit (`StateDirectory`, `UMask=0077`)
//! and the container volume already isolate; sled ignores files it did not create there (it
//! only reads its `conf`, `db`, `blobs/` and `snap.*`).
//!
//! Protocol: the client sends one line, `export`; the daemon answers with the export stream
//! of [`crate::export`] and closes. Anything else gets one `{"error": …}` line, which the
//! export reader refuses.

use std::io::{BufReader, Write};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt};
use tokio::net::{UnixListener, UnixStream};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::export::ExportDir;
use crate::store::Store;

/// The socket's file name in the data directory.
pub const SOCKET_NAME: &str = "newsd.sock";
/// Longest request line read; `export` needs 7 bytes.
const MAX_REQUEST_BYTES: u64 = 256;
/// Time a client gets to send its request line.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest an export may wait for its client to take more data.
const EXPORT_WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest the client waits for the next line: the daemon reads sled while it keeps ingesting.
const CLIENT_READ_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("control socket {path}: {what}: {source}")]
    Io {
        path: PathBuf,
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "control socket {path}: another newsd answers on it (two daemons on one data directory?)"
    )]
    InUse { path: PathBuf },
    #[error(
        "control socket {path}: exists and is not a socket; move it away (newsd does not delete a file it did not create)"
    )]
    NotASocket { path: PathBuf },
    #[error(transparent)]
    Export(#[from] crate::export::ExportError),
}

fn io_err<'a>(
    path: &'a Path,
    what: &'static str,
) -> impl FnOnce(std::io::Error) -> ControlError + 'a {
    move |source| ControlError::Io {
        path: path.to_path_buf(),
        what,
        source,
    }
}

/// Where the control socket of a daemon using `data_dir` is.
pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join(SOCKET_NAME)
}

/// The running control socket. Dropping it stops the server and removes the socket file (if
/// it is still the one this daemon created).
pub struct Control {
    /// Where the socket is, to remove it on drop.
    path: PathBuf,
    /// Device and inode of the socket created, so that drop never removes a socket some other
    /// process put at the same path.
    id: (u64, u64),
    /// Stops the accept loop; exports in progress end with an error line.
    stop: CancellationToken,
}

impl Drop for Control {
    fn drop(&mut self) {
        self.stop.cancel();
        let ours =
            std::fs::symlink_metadata(&self.path).is_ok_and(|m| (m.dev(), m.ino()) == self.id);
        if ours && let Err(e) = std::fs::remove_file(&self.path) {
            warn!(event = "control_socket_remove_failed", path = %self.path.display(), error = %e);
        }
    }
}

/// Creates `<data_dir>/newsd.sock` (mode 0600) and serves exports of `store` on it until
/// `stop` is cancelled or the returned handle is dropped.
///
/// A data directory too deep for a socket address (Unix limits them to 107 bytes) is not a
/// reason to refuse to ingest: the daemon runs without the socket and says so (`newsd export`
/// then needs the daemon stopped).
pub async fn start(
    data_dir: &Path,
    store: Arc<Store>,
    stop: &CancellationToken,
) -> Result<Option<Control>, ControlError> {
    let path = socket_path(data_dir);
    let private = private_dir(data_dir);
    let longest = private
        .join("s")
        .as_os_str()
        .len()
        .max(path.as_os_str().len());
    if longest > MAX_SOCKET_PATH {
        warn!(event = "control_socket_off", path = %path.display(), "data directory path too long for a Unix socket ({longest} > {MAX_SOCKET_PATH} bytes): newsd export needs the daemon stopped");
        return Ok(None);
    }
    replace_stale(&path).await?;
    let (listener, id) = bind_private(&private, &path)?;
    info!(event = "control_listening", path = %path.display(), "newsd export reads the store here while the daemon runs");
    let stop = stop.child_token();
    tokio::spawn(serve(listener, store, stop.clone()));
    Ok(Some(Control { path, id, stop }))
}

/// Longest socket path: `sun_path` holds 108 bytes with its terminating NUL on Linux.
const MAX_SOCKET_PATH: usize = 107;

/// The directory the socket is created in before it is moved into place (short: it counts
/// against [`MAX_SOCKET_PATH`]).
fn private_dir(data_dir: &Path) -> PathBuf {
    data_dir.join(format!(".ns{}", std::process::id()))
}

/// A socket left at `path` by a daemon that was killed is removed; one that answers is an
/// error, and so is anything that is not a socket.
async fn replace_stale(path: &Path) -> Result<(), ControlError> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err(path, "cannot inspect")(e)),
    };
    if !meta.file_type().is_socket() {
        return Err(ControlError::NotASocket {
            path: path.to_path_buf(),
        });
    }
    match UnixStream::connect(path).await {
        Ok(_) => Err(ControlError::InUse {
            path: path.to_path_buf(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            info!(event = "control_socket_stale", path = %path.display(), "replacing the socket of a daemon that did not stop cleanly");
            std::fs::remove_file(path).map_err(io_err(path, "cannot remove the stale socket"))
        }
        Err(e) => Err(io_err(path, "cannot check the existing socket")(e)),
    }
}

/// Binds the socket inside a fresh directory only this user can enter, makes it 0600, then
/// renames it into place: no moment where another user could reach it, and no process-wide
/// umask change that would race with other threads creating files.
fn bind_private(private: &Path, path: &Path) -> Result<(UnixListener, (u64, u64)), ControlError> {
    // Left over by a process that died here with the same pid: ours to clear.
    let _ = std::fs::remove_dir_all(private);
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(private)
        .map_err(io_err(private, "cannot create"))?;
    let result = (|| {
        let tmp = private.join("s");
        let listener = UnixListener::bind(&tmp).map_err(io_err(path, "cannot bind"))?;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))
            .map_err(io_err(path, "cannot set mode 0600"))?;
        std::fs::rename(&tmp, path).map_err(io_err(path, "cannot move into place"))?;
        let meta = std::fs::symlink_metadata(path).map_err(io_err(path, "cannot inspect"))?;
        Ok((listener, (meta.dev(), meta.ino())))
    })();
    let _ = std::fs::remove_dir_all(private);
    result
}

async fn serve(listener: UnixListener, store: Arc<Store>, stop: CancellationToken) {
    loop {
        let stream = tokio::select! {
            _ = stop.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok((s, _)) => s,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    debug!(event = "control_accept_error", error = %e);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let (store, stop) = (store.clone(), stop.clone());
        tokio::spawn(async move {
            if let Err(e) = respond(stream, store, stop).await {
                debug!(event = "control_request_error", error = %e);
            }
        });
    }
}

async fn respond(
    stream: UnixStream,
    store: Arc<Store>,
    stop: CancellationToken,
) -> std::io::Result<()> {
    let mut line = String::new();
    let mut reader = tokio::io::BufReader::new(stream).take(MAX_REQUEST_BYTES);
    let read = tokio::time::timeout(READ_TIMEOUT, reader.read_line(&mut line)).await;
    let stream = reader.into_inner().into_inner();
    let stream = stream.into_std()?;
    stream.set_nonblocking(false)?;
    stream.set_write_timeout(Some(EXPORT_WRITE_TIMEOUT))?;
    let request = match read {
        Ok(Ok(_)) => line.trim_end().to_string(),
        Ok(Err(e)) => return Err(e),
        Err(_) => String::new(),
    };
    tokio::task::spawn_blocking(move || {
        let mut w = std::io::BufWriter::new(&stream);
        if request == "export" {
            crate::export::write_stream(&store, &mut w, || stop.is_cancelled())?;
        } else {
            let error = format!("unknown request {request:?} (expected \"export\")");
            serde_json::to_writer(&mut w, &serde_json::json!({ "error": error }))?;
            w.write_all(b"\n")?;
            w.flush()?;
        }
        drop(w);
        stream.shutdown(std::net::Shutdown::Write)
    })
    .await
    .map_err(std::io::Error::other)?
}

/// The client side (`newsd export` while the daemon runs): streams the export of the daemon
/// using `data_dir` into `dir`, with every check of [`crate::export::read_stream`].
pub fn export_from_daemon(data_dir: &Path, dir: &mut ExportDir) -> Result<(), ControlError> {
    let path = socket_path(data_dir);
    let mut stream = std::os::unix::net::UnixStream::connect(&path).map_err(|e| {
        let what = match e.kind() {
            _ if path.as_os_str().len() > MAX_SOCKET_PATH => {
                "the data directory's path is too long for a Unix socket, so the daemon has none: stop it to export"
            }
            std::io::ErrorKind::NotFound => "no socket (the daemon is not running, is an older newsd, or logged control_socket_off)",
            std::io::ErrorKind::ConnectionRefused => {
                "nobody answers (a daemon that was killed left it)"
            }
            std::io::ErrorKind::PermissionDenied => {
                "permission denied (run as the daemon's user, e.g. sudo -u or docker exec)"
            }
            _ => "cannot connect",
        };
        io_err(&path, what)(e)
    })?;
    stream
        .set_read_timeout(Some(CLIENT_READ_TIMEOUT))
        .and_then(|()| stream.write_all(b"export\n"))
        .map_err(io_err(&path, "cannot send the request"))?;
    crate::export::read_stream(BufReader::new(stream), dir)?;
    Ok(())
}

/// Reads whatever the daemon sends for `request` (for tests of the protocol).
#[cfg(test)]
fn raw_request(path: &Path, request: &str) -> std::io::Result<Vec<String>> {
    let mut stream = std::os::unix::net::UnixStream::connect(path)?;
    stream.write_all(request.as_bytes())?;
    std::io::BufRead::lines(BufReader::new(stream)).collect()
}

#[cfg(test)]
#[path = "control_tests.rs"]
mod tests;
