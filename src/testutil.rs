//! In-process test support: a small HTTP server on 127.0.0.1 whose routes a test can change
//! while it runs, and generated news pages. Unit tests only (the integration tests have their
//! own fixture server in `tests/it/server.rs`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// One route's answer.
#[derive(Clone, Debug)]
pub struct Route {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
    /// Sent as `ETag`; a request with a matching `If-None-Match` gets 304.
    pub etag: Option<&'static str>,
    /// Waits this long before answering.
    pub delay: Duration,
}

impl Route {
    pub fn ok(content_type: &'static str, body: String) -> Route {
        Route {
            status: 200,
            content_type,
            body,
            etag: None,
            delay: Duration::ZERO,
        }
    }

    /// The same route, answered only after `delay`.
    pub fn after(self, delay: Duration) -> Route {
        Route { delay, ..self }
    }
}

/// A request the server saw: path and its `If-None-Match`, if any.
#[derive(Clone, Debug, PartialEq)]
pub struct Seen {
    pub path: String,
    pub if_none_match: Option<String>,
}

#[derive(Clone)]
pub struct Server {
    pub base: String,
    routes: Arc<Mutex<HashMap<String, Route>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: tokio_util::sync::CancellationToken,
}

impl Server {
    /// Starts serving on an ephemeral 127.0.0.1 port until [`Server::stop`].
    pub async fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = Server {
            base,
            routes: Arc::default(),
            seen: Arc::default(),
            stop: tokio_util::sync::CancellationToken::new(),
        };
        let s = server.clone();
        tokio::spawn(async move {
            loop {
                let (mut conn, _) = tokio::select! {
                    _ = s.stop.cancelled() => return,
                    a = listener.accept() => match a { Ok(x) => x, Err(_) => continue },
                };
                let s = s.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 2048];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match conn.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&head).into_owned();
                    let path = head.split(' ').nth(1).unwrap_or("/").to_string();
                    let inm = head.lines().find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("if-none-match")
                            .then(|| v.trim().to_string())
                    });
                    s.seen.lock().unwrap().push(Seen {
                        path: path.clone(),
                        if_none_match: inm.clone(),
                    });
                    let route = s.routes.lock().unwrap().get(&path).cloned();
                    let reply = match route {
                        None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string(),
                        Some(r) => {
                            tokio::time::sleep(r.delay).await;
                            let etag = r.etag.map(|e| format!("ETag: {e}\r\n")).unwrap_or_default();
                            if r.etag.is_some() && inm.as_deref() == r.etag {
                                format!("HTTP/1.1 304 Not Modified\r\n{etag}Content-Length: 0\r\nConnection: close\r\n\r\n")
                            } else {
                                format!(
                                    "HTTP/1.1 {} X\r\nContent-Type: {}\r\n{etag}Content-Length: {}\r\nConnection: close\r\n\r\n{}",
                                    r.status,
                                    r.content_type,
                                    r.body.len(),
                                    r.body
                                )
                            }
                        }
                    };
                    let _ = conn.write_all(reply.as_bytes()).await;
                    let _ = conn.shutdown().await;
                });
            }
        });
        server
    }

    pub fn route(&self, path: &str, route: Route) {
        self.routes.lock().unwrap().insert(path.to_string(), route);
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Requests seen so far for `path`.
    pub fn seen(&self, path: &str) -> Vec<Seen> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.path == path)
            .cloned()
            .collect()
    }

    pub fn stop(&self) {
        self.stop.cancel();
    }
}

/// An RSS feed listing `links` (absolute URLs), in this order.
pub fn rss(links: &[String]) -> String {
    let items: String = links
        .iter()
        .enumerate()
        .map(|(i, l)| format!("<item><title>Story {i}</title><link>{l}</link></item>"))
        .collect();
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Test feed</title><link>http://x/</link>{items}</channel></rss>"
    )
}

/// A news page whose article is a distinct story `n` (names and figures included, so the
/// dedup fact check has something to compare).
pub fn story_page(n: u32) -> String {
    const WORDS: &[&str] = &[
        "council", "river", "budget", "harvest", "station", "school", "market", "bridge", "museum",
        "voters", "farmers", "workers", "storm", "festival", "hospital", "court", "railway",
        "library", "harbour", "factory", "village", "garden", "tunnel", "airport",
    ];
    const NAMES: &[&str] = &[
        "Amadou",
        "Kessler",
        "Ortega",
        "Lindqvist",
        "Moreau",
        "Ivanova",
        "Costa",
        "Bianchi",
    ];
    let mut x = u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move |m: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % m as u64) as usize
    };
    let mut paras = String::new();
    for p in 0..5 {
        let mut words = Vec::new();
        for i in 0..40 {
            if i == 7 {
                words.push(NAMES[next(NAMES.len())].to_string());
            } else if i == 21 {
                words.push(format!("{}", 100 + next(9000)));
            } else {
                words.push(WORDS[next(WORDS.len())].to_string());
            }
        }
        paras.push_str(&format!(
            "<p>In paragraph {p} of story {n} the {}.</p>\n",
            words.join(" ")
        ));
    }
    format!(
        "<!doctype html><html><head><title>Story {n}</title></head><body><nav><a href=\"/\">Home</a></nav><article><h1>Story {n}</h1>\n{paras}</article><footer>Contact us</footer></body></html>"
    )
}
