//! A tiny HTTP/1.1 fixture server on 127.0.0.1: serves the seed site (substituting
//! `{{BASE_URL}}`), answers conditional GETs with 304, and records every request so tests
//! can assert what newsd fetched.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub headers: HashMap<String, String>,
    pub status: u16,
}

/// A canned response.
#[derive(Debug, Clone)]
pub struct Route {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

#[derive(Default)]
struct State {
    routes: HashMap<String, Route>,
    log: Vec<Seen>,
}

pub struct Server {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    _rt: tokio::runtime::Runtime,
}

/// `../shared/fixtures/seed-site` from the crate root.
pub fn seed_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/seed-site")
}

impl Server {
    /// Serves `site_dir` (files under it by path) plus any routes added later.
    pub fn start(site_dir: &Path) -> Server {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        let base = format!("http://{addr}");
        let state = Arc::new(Mutex::new(State::default()));
        // Load the site into routes with {{BASE_URL}} substituted.
        for entry in walk(site_dir) {
            let rel = entry
                .strip_prefix(site_dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let text = std::fs::read_to_string(&entry)
                .unwrap()
                .replace("{{BASE_URL}}", &base);
            let ct = match entry.extension().and_then(|e| e.to_str()) {
                Some("html") => "text/html; charset=utf-8",
                Some("xml") => "application/rss+xml",
                Some("atom") => "application/atom+xml",
                Some("json") => "application/feed+json",
                _ => "application/octet-stream",
            };
            state.lock().unwrap().routes.insert(
                format!("/{rel}"),
                Route {
                    status: 200,
                    content_type: ct.into(),
                    body: text.into_bytes(),
                },
            );
        }
        let st = state.clone();
        rt.spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    continue;
                };
                let st = st.clone();
                tokio::spawn(async move {
                    let _ = serve(sock, st).await;
                });
            }
        });
        Server {
            addr,
            state,
            _rt: rt,
        }
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base(), path)
    }

    pub fn route(&self, path: &str, status: u16, content_type: &str, body: impl Into<Vec<u8>>) {
        self.state.lock().unwrap().routes.insert(
            path.to_string(),
            Route {
                status,
                content_type: content_type.into(),
                body: body.into(),
            },
        );
    }

    pub fn log(&self) -> Vec<Seen> {
        self.state.lock().unwrap().log.clone()
    }

    pub fn clear_log(&self) {
        self.state.lock().unwrap().log.clear();
    }

    /// How many times `path` (without query) was requested.
    pub fn hits(&self, path: &str) -> usize {
        self.log()
            .iter()
            .filter(|s| s.path.split('?').next() == Some(path))
            .count()
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

async fn serve(sock: tokio::net::TcpStream, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    let (r, mut w) = sock.into_split();
    let mut r = BufReader::new(r);
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
        let mut headers = HashMap::new();
        loop {
            let mut h = String::new();
            if r.read_line(&mut h).await? == 0 {
                return Ok(());
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        let route = {
            let st = state.lock().unwrap();
            st.routes.get(path.split('?').next().unwrap_or("")).cloned()
        };
        let route = route.unwrap_or(Route {
            status: 404,
            content_type: "text/plain".into(),
            body: b"not found".to_vec(),
        });
        let etag = format!("\"{:016x}\"", xxhash_rust::xxh3::xxh3_64(&route.body));
        let not_modified = route.status == 200 && headers.get("if-none-match") == Some(&etag);
        let status = if not_modified { 304 } else { route.status };
        state.lock().unwrap().log.push(Seen {
            path: path.clone(),
            headers,
            status,
        });
        let reason = match status {
            200 => "OK",
            304 => "Not Modified",
            404 => "Not Found",
            _ => "Status",
        };
        let body: &[u8] = if status == 304 { b"" } else { &route.body };
        let head = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\nETag: {etag}\r\n\r\n",
            route.content_type,
            body.len()
        );
        w.write_all(head.as_bytes()).await?;
        w.write_all(body).await?;
        w.flush().await?;
    }
}
