//! The admin endpoint of `newsd run`: `/metrics` (Prometheus text), `/healthz`, `/readyz`;
//! every other path is 404.
//!
//! A deliberately small HTTP/1.x responder: one request per connection, `GET` only, the
//! request head capped at 8 KiB and 5 seconds, then `Connection: close`. It reads [`Metrics`]
//! and [`Health`] and must not read the store: operators expose this port to a scraper, so
//! nothing stored may ride on it (the live export is on the control socket, [`super::control`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info};

pub use super::health::Health;
use crate::metrics::{Metrics, Process};

/// Largest request head read.
const MAX_HEAD_BYTES: usize = 8 * 1024;
/// Time a client gets to send its request head.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// When the endpoint first served (≈ when the daemon started), for `newsd_uptime_seconds`.
static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Process figures for `/metrics`, read from `/proc/self` at scrape time.
fn process() -> Process {
    // SAFETY: sysconf has no preconditions.
    let page = u64::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
    let rss_bytes = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map(|pages| pages * page);
    let open_fds = std::fs::read_dir("/proc/self/fd")
        .ok()
        .map(|d| d.count() as u64);
    Process {
        uptime: STARTED.get_or_init(std::time::Instant::now).elapsed(),
        rss_bytes,
        open_fds,
    }
}

/// Binds the admin address; failing to bind is a startup error the operator must see.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let listener = TcpListener::bind(addr).await?;
    info!(event = "admin_listening", addr = %listener.local_addr()?, "metrics at /metrics, probes at /healthz and /readyz");
    Ok(listener)
}

/// Serves requests until `shutdown` is cancelled.
pub async fn serve(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    health: Arc<Health>,
    shutdown: CancellationToken,
) {
    STARTED.get_or_init(std::time::Instant::now);
    loop {
        let (stream, peer) = tokio::select! {
            _ = shutdown.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    debug!(event = "admin_accept_error", error = %e);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let (metrics, health) = (metrics.clone(), health.clone());
        tokio::spawn(async move {
            if let Err(e) = respond(stream, &metrics, &health).await {
                debug!(event = "admin_request_error", %peer, error = %e);
            }
        });
    }
}

async fn respond(mut stream: TcpStream, metrics: &Metrics, health: &Health) -> std::io::Result<()> {
    let mut head = Vec::with_capacity(512);
    let read = tokio::time::timeout(READ_TIMEOUT, async {
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_HEAD_BYTES {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        Ok::<_, std::io::Error>(())
    })
    .await;
    let (status, content_type, body) = match read {
        Ok(Ok(())) => route(&head, metrics, health),
        Ok(Err(e)) => return Err(e),
        Err(_) => ("408 Request Timeout", "text/plain", "timeout\n".to_string()),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

/// The reply to a request head: status line, content type and body.
fn route(head: &[u8], metrics: &Metrics, health: &Health) -> (&'static str, &'static str, String) {
    const TEXT: &str = "text/plain; charset=utf-8";
    let line = head
        .split(|&b| b == b'\r' || b == b'\n')
        .next()
        .unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut parts = line.split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if !parts.next().is_some_and(|v| v.starts_with("HTTP/1.")) {
        return ("400 Bad Request", TEXT, "bad request\n".into());
    }
    if method != "GET" {
        return ("405 Method Not Allowed", TEXT, "only GET\n".into());
    }
    match target.split('?').next().unwrap_or("") {
        "/metrics" => (
            "200 OK",
            "text/plain; version=0.0.4; charset=utf-8",
            metrics.render(&process()),
        ),
        "/healthz" => match health.problem() {
            None => ("200 OK", TEXT, "ok\n".into()),
            Some(why) => ("503 Service Unavailable", TEXT, format!("{why}\n")),
        },
        "/readyz" => match health.unready() {
            None => ("200 OK", TEXT, "ready\n".into()),
            Some(why) => ("503 Service Unavailable", TEXT, format!("{why}\n")),
        },
        _ => ("404 Not Found", TEXT, "not found\n".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::health::unix_now;
    use std::sync::atomic::Ordering;

    #[test]
    fn routes_probes_metrics_and_bad_requests() {
        let m = Metrics::new();
        let h = Health::new(Duration::from_secs(60));
        let status = |req: &str| (route(req.as_bytes(), &m, &h)).0;
        assert_eq!(status("GET /healthz HTTP/1.1\r\n\r\n"), "200 OK");
        assert_eq!(
            status("GET /readyz HTTP/1.1\r\n\r\n"),
            "503 Service Unavailable"
        );
        h.set_ready(true);
        assert_eq!(status("GET /readyz HTTP/1.0\r\n\r\n"), "200 OK");
        let (s, ct, body) = route(b"GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n\r\n", &m, &h);
        assert_eq!(
            (s, ct),
            ("200 OK", "text/plain; version=0.0.4; charset=utf-8")
        );
        assert!(body.contains("newsd_articles_stored_total 0"));
        assert_eq!(
            status("POST /metrics HTTP/1.1\r\n\r\n"),
            "405 Method Not Allowed"
        );
        // Nothing stored rides on this port (issue 15).
        for path in [
            "/export",
            "/export?all",
            "/nope",
            "/",
            "/metrics/x",
            "/../export",
        ] {
            let req = format!("GET {path} HTTP/1.1\r\n\r\n");
            assert_eq!(status(&req), "404 Not Found", "{path}");
        }
        assert_eq!(status("garbage"), "400 Bad Request");
        assert_eq!(status(""), "400 Bad Request");
        // A loop that stopped turning is unhealthy.
        let stalled = Health::new(Duration::from_secs(60));
        stalled.last_tick.store(unix_now() - 61, Ordering::Relaxed);
        assert_eq!(
            (route(b"GET /healthz HTTP/1.1\r\n\r\n", &m, &stalled)).0,
            "503 Service Unavailable"
        );
    }
}
