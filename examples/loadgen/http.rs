//! A small HTTP/1.1 server for the synthetic web: one listener per host, keep-alive
//! connections, conditional GET (ETag / Last-Modified → 304), optional latency, and counters
//! the bench reads to count polls from the server side.
//!
//! Owns sockets and counters. It must not decide what a resource contains (see `render`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use crate::render::Renderer;
use crate::web::{FeedMode, LAST_MODIFIED, Resource};

/// Longest request line or header line accepted; longer ones close the connection.
const MAX_LINE: usize = 16 * 1024;

/// What the server has answered so far; served as JSON on the control address.
#[derive(Default)]
pub struct Stats {
    /// Feed polls answered with a body: the bench's poll count is 200s + 304s.
    pub feed_200: AtomicU64,
    /// Feed polls answered "unchanged".
    pub feed_304: AtomicU64,
    /// Article pages served: e2e checks newsd fetched each page once.
    pub page_200: AtomicU64,
    /// Article pages answered "unchanged" (newsd should never re-fetch a stored page).
    pub page_304: AtomicU64,
    /// Pages answered 404 because the web was built with `--gone-pages`.
    pub page_gone: AtomicU64,
    /// Requests for paths the web does not have (a bug in newsd or in the generator).
    pub not_found: AtomicU64,
    /// Bytes written, headers included: the traffic newsd had to read.
    pub bytes: AtomicU64,
    /// Connections accepted: few means newsd reuses them (keep-alive).
    pub connections: AtomicU64,
    /// Feeds polled at least once / at least twice: tells the bench when a pass is complete.
    pub feeds_polled_once: AtomicU64,
    pub feeds_polled_twice: AtomicU64,
    /// Polls per feed, to maintain the two counters above.
    per_feed: Vec<AtomicU32>,
}

impl Stats {
    pub fn new(feeds: usize) -> Stats {
        Stats {
            per_feed: (0..feeds).map(|_| AtomicU32::new(0)).collect(),
            ..Stats::default()
        }
    }

    fn feed_polled(&self, feed: usize) {
        match self.per_feed[feed].fetch_add(1, Ordering::Relaxed) {
            0 => self.feeds_polled_once.fetch_add(1, Ordering::Relaxed),
            1 => self.feeds_polled_twice.fetch_add(1, Ordering::Relaxed),
            _ => 0,
        };
    }

    pub fn json(&self) -> serde_json::Value {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        serde_json::json!({
            "feed_200": g(&self.feed_200),
            "feed_304": g(&self.feed_304),
            "feed_polls": g(&self.feed_200) + g(&self.feed_304),
            "page_200": g(&self.page_200),
            "page_304": g(&self.page_304),
            "page_gone": g(&self.page_gone),
            "not_found": g(&self.not_found),
            "bytes": g(&self.bytes),
            "connections": g(&self.connections),
            "feeds_polled_once": g(&self.feeds_polled_once),
            "feeds_polled_twice": g(&self.feeds_polled_twice),
        })
    }
}

/// The served web and how it answers.
pub struct App {
    /// Everything the web contains, rendered on request.
    pub render: Renderer,
    /// What has been answered, for the bench's window counts.
    pub stats: Stats,
    /// Delay before every response, as a slow origin would add.
    pub latency: Duration,
}

/// Accepts connections for `host` until the runtime stops.
pub async fn serve_host(listener: TcpListener, host: usize, app: Arc<App>) {
    loop {
        let Ok((sock, _)) = listener.accept().await else {
            continue;
        };
        app.stats.connections.fetch_add(1, Ordering::Relaxed);
        let app = app.clone();
        tokio::spawn(async move {
            let _ = connection(sock, Some(host), app).await;
        });
    }
}

/// Serves `GET /stats` (JSON counters) on the control address.
pub async fn serve_control(listener: TcpListener, app: Arc<App>) {
    loop {
        let Ok((sock, _)) = listener.accept().await else {
            continue;
        };
        let app = app.clone();
        tokio::spawn(async move {
            let _ = connection(sock, None, app).await;
        });
    }
}

/// One keep-alive connection: requests are answered in order until the peer closes or asks
/// to. `host` is `None` on the control address.
async fn connection(sock: TcpStream, host: Option<usize>, app: Arc<App>) -> std::io::Result<()> {
    sock.set_nodelay(true)?;
    let (rd, mut wr) = sock.into_split();
    let mut rd = BufReader::new(rd);
    let mut line = String::new();
    loop {
        line.clear();
        if rd.read_line(&mut line).await? == 0 || line.len() > MAX_LINE {
            return Ok(());
        }
        let request = line.trim_end().to_string();
        if request.is_empty() {
            continue;
        }
        let mut if_none_match = None;
        let mut if_modified_since = None;
        let mut close = request.ends_with("HTTP/1.0");
        loop {
            line.clear();
            if rd.read_line(&mut line).await? == 0 || line.len() > MAX_LINE {
                return Ok(());
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let Some((k, v)) = l.split_once(':') else {
                continue;
            };
            let v = v.trim();
            if k.eq_ignore_ascii_case("if-none-match") {
                if_none_match = Some(v.to_string());
            } else if k.eq_ignore_ascii_case("if-modified-since") {
                if_modified_since = Some(v.to_string());
            } else if k.eq_ignore_ascii_case("connection") {
                close = v.eq_ignore_ascii_case("close");
            }
        }
        let mut parts = request.split(' ');
        let method = parts.next().unwrap_or("");
        let path = parts.next().unwrap_or("/");
        if !app.latency.is_zero() {
            tokio::time::sleep(app.latency).await;
        }
        let cond = Conditional {
            if_none_match: if_none_match.as_deref(),
            if_modified_since: if_modified_since.as_deref(),
        };
        let mut resp = match host {
            Some(h) => app.respond(h, path, cond),
            None if path == "/stats" => Response::ok(
                "application/json",
                app.stats.json().to_string().into_bytes(),
            ),
            None => Response::status(404),
        };
        if method == "HEAD" {
            resp.head_only = true;
        }
        let bytes = resp.to_bytes(close);
        app.stats
            .bytes
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        wr.write_all(&bytes).await?;
        if close {
            return Ok(());
        }
    }
}

/// The validators a request carried.
#[derive(Debug, Clone, Copy, Default)]
pub struct Conditional<'a> {
    /// The ETag(s) newsd stored from an earlier answer.
    pub if_none_match: Option<&'a str>,
    /// The Last-Modified newsd stored, echoed back.
    pub if_modified_since: Option<&'a str>,
}

impl Conditional<'_> {
    /// RFC 9110: If-None-Match wins when present; else If-Modified-Since (the web never
    /// changes, so any date at or after [`LAST_MODIFIED`] that the client echoes matches).
    fn unchanged(&self, etag: &str) -> bool {
        match (self.if_none_match, self.if_modified_since) {
            (Some(inm), _) => inm.trim() == "*" || inm.split(',').any(|t| t.trim() == etag),
            (None, Some(ims)) => ims == LAST_MODIFIED,
            (None, None) => false,
        }
    }
}

/// A response before serialisation.
pub struct Response {
    /// 200, 304 or 404: the only statuses the web needs.
    pub status: u16,
    /// Sent with 200 and 404 (a 304 has no body to describe).
    pub content_type: &'static str,
    /// The resource's bytes; not sent with a 304 or to a HEAD.
    pub body: Vec<u8>,
    /// ETag to send (and Last-Modified with it).
    pub etag: Option<String>,
    /// HEAD: headers only.
    head_only: bool,
}

impl Response {
    fn ok(content_type: &'static str, body: Vec<u8>) -> Response {
        Response {
            status: 200,
            content_type,
            body,
            etag: None,
            head_only: false,
        }
    }

    fn status(status: u16) -> Response {
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            body: if status == 404 {
                b"not found\n".to_vec()
            } else {
                Vec::new()
            },
            etag: None,
            head_only: false,
        }
    }

    fn to_bytes(&self, close: bool) -> Vec<u8> {
        let reason = match self.status {
            200 => "OK",
            304 => "Not Modified",
            404 => "Not Found",
            _ => "Status",
        };
        let mut head = format!("HTTP/1.1 {} {reason}\r\n", self.status);
        if self.status != 304 {
            head.push_str(&format!(
                "Content-Type: {}\r\nContent-Length: {}\r\n",
                self.content_type,
                self.body.len()
            ));
        }
        if let Some(etag) = &self.etag {
            head.push_str(&format!(
                "ETag: {etag}\r\nLast-Modified: {LAST_MODIFIED}\r\n"
            ));
        }
        head.push_str(if close {
            "Connection: close\r\n\r\n"
        } else {
            "Connection: keep-alive\r\n\r\n"
        });
        let mut out = head.into_bytes();
        if self.status != 304 && !self.head_only {
            out.extend_from_slice(&self.body);
        }
        out
    }
}

impl App {
    /// The answer of `host` to `GET path`.
    pub fn respond(&self, host: usize, path: &str, cond: Conditional) -> Response {
        let web = &self.render.web;
        let s = &self.stats;
        let Some(res) = web.resolve(host, path) else {
            s.not_found.fetch_add(1, Ordering::Relaxed);
            return Response::status(404);
        };
        let etag = web.etag(res);
        match res {
            Resource::Feed(f) => {
                s.feed_polled(f);
                if web.shape.feed_mode == FeedMode::Unchanged200 {
                    s.feed_200.fetch_add(1, Ordering::Relaxed);
                    return Response::ok(web.format(f).content_type(), self.render.feed(f));
                }
                if cond.unchanged(&etag) {
                    s.feed_304.fetch_add(1, Ordering::Relaxed);
                    return not_modified(etag);
                }
                s.feed_200.fetch_add(1, Ordering::Relaxed);
                Response {
                    etag: Some(etag),
                    ..Response::ok(web.format(f).content_type(), self.render.feed(f))
                }
            }
            Resource::Page(p) => {
                if web.shape.gone_pages {
                    s.page_gone.fetch_add(1, Ordering::Relaxed);
                    return Response::status(404);
                }
                if cond.unchanged(&etag) {
                    s.page_304.fetch_add(1, Ordering::Relaxed);
                    return not_modified(etag);
                }
                s.page_200.fetch_add(1, Ordering::Relaxed);
                Response {
                    etag: Some(etag),
                    ..Response::ok("text/html; charset=utf-8", self.render.page(p))
                }
            }
        }
    }
}

fn not_modified(etag: String) -> Response {
    Response {
        etag: Some(etag),
        ..Response::status(304)
    }
}
