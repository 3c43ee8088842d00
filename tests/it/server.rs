//! A tiny HTTP/1.1 fixture server on 127.0.0.1: serves the seed site (substituting
//! `{{BASE_URL}}`), answers conditional GETs with 304, and records every request so tests
//! can assert what newsd fetched.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub headers: HashMap<String, String>,
    pub status: u16,
    pub at: Instant,
}

/// How a response is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Normal,
    /// Announce the full length, send this many bytes, then reset the connection.
    ResetAfter(usize),
    /// Send one byte per interval.
    Trickle(Duration),
    /// Answer after this long (not counted as in flight meanwhile).
    After(Duration),
}

/// A canned response.
#[derive(Debug, Clone)]
pub struct Route {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
    pub headers: Vec<(String, String)>,
    pub delivery: Delivery,
}

impl Route {
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Route {
        Route {
            status,
            content_type: content_type.into(),
            body: body.into(),
            headers: Vec::new(),
            delivery: Delivery::Normal,
        }
    }

    pub fn header(mut self, k: &str, v: &str) -> Route {
        self.headers.push((k.into(), v.into()));
        self
    }

    pub fn delivery(mut self, d: Delivery) -> Route {
        self.delivery = d;
        self
    }
}

#[derive(Default)]
struct State {
    routes: HashMap<String, Route>,
    log: Vec<Seen>,
    /// Delay before every response, so unlimited clients would overlap requests.
    latency: Duration,
}

#[derive(Default)]
struct Gauge {
    now: AtomicUsize,
    max: AtomicUsize,
}

pub struct Server {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    gauge: Arc<Gauge>,
    _rt: tokio::runtime::Runtime,
}

/// `../shared/fixtures/seed-site` from the crate root.
pub fn seed_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/seed-site")
}

impl Server {
    /// Serves `site_dir` (files under it by path) plus any routes added later.
    pub fn start(site_dir: &Path) -> Server {
        Server::start_on(site_dir, "127.0.0.1")
    }

    /// [`Server::start`] on another loopback address (another host, for per-host limits).
    pub fn start_on(site_dir: &Path, ip: &str) -> Server {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = rt.block_on(TcpListener::bind((ip, 0))).unwrap();
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
            state
                .lock()
                .unwrap()
                .routes
                .insert(format!("/{rel}"), Route::new(200, ct, text.into_bytes()));
        }
        let st = state.clone();
        let gauge = Arc::new(Gauge::default());
        let g = gauge.clone();
        rt.spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    continue;
                };
                let (st, g) = (st.clone(), g.clone());
                tokio::spawn(async move {
                    let _ = serve(sock, st, g).await;
                });
            }
        });
        Server {
            addr,
            state,
            gauge,
            _rt: rt,
        }
    }

    /// A server with no files: only routes added later (a canary, a fault server).
    pub fn empty() -> Server {
        Server::empty_on("127.0.0.1")
    }

    /// [`Server::empty`] on another loopback address.
    pub fn empty_on(ip: &str) -> Server {
        let dir = tempfile::tempdir().unwrap();
        Server::start_on(dir.path(), ip)
    }

    pub fn set_latency(&self, d: Duration) {
        self.state.lock().unwrap().latency = d;
    }

    /// Most requests ever in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.gauge.max.load(Ordering::SeqCst)
    }

    pub fn put(&self, path: &str, route: Route) {
        self.state
            .lock()
            .unwrap()
            .routes
            .insert(path.to_string(), route);
    }

    /// The route served at `path`, if any.
    pub fn get(&self, path: &str) -> Option<Route> {
        self.state.lock().unwrap().routes.get(path).cloned()
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base(), path)
    }

    pub fn route(&self, path: &str, status: u16, content_type: &str, body: impl Into<Vec<u8>>) {
        self.put(path, Route::new(status, content_type, body));
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

async fn serve(
    sock: tokio::net::TcpStream,
    state: Arc<Mutex<State>>,
    gauge: Arc<Gauge>,
) -> std::io::Result<()> {
    let (r, mut w) = sock.into_split();
    let mut r = BufReader::new(r);
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let at = Instant::now();
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
        let now = gauge.now.fetch_add(1, Ordering::SeqCst) + 1;
        gauge.max.fetch_max(now, Ordering::SeqCst);
        let (route, latency) = {
            let st = state.lock().unwrap();
            (
                st.routes.get(path.split('?').next().unwrap_or("")).cloned(),
                st.latency,
            )
        };
        let route = route.unwrap_or_else(|| Route::new(404, "text/plain", "not found"));
        let etag = route
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("etag"))
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| format!("\"{:016x}\"", xxhash_rust::xxh3::xxh3_64(&route.body)));
        let not_modified = route.status == 200 && headers.get("if-none-match") == Some(&etag);
        let status = if not_modified { 304 } else { route.status };
        state.lock().unwrap().log.push(Seen {
            path: path.clone(),
            headers,
            status,
            at,
        });
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        // The request stops counting as in flight once its answer is being written: the
        // client may see the response and start the next one before this task runs again.
        gauge.now.fetch_sub(1, Ordering::SeqCst);
        if let Delivery::After(wait) = route.delivery {
            tokio::time::sleep(wait).await;
        }
        let body: &[u8] = if status == 304 { b"" } else { &route.body };
        let mut head = format!(
            "HTTP/1.1 {status} Status\r\nContent-Type: {}\r\nContent-Length: {}\r\n",
            route.content_type,
            body.len()
        );
        if !route
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("etag"))
        {
            head.push_str(&format!("ETag: {etag}\r\n"));
        }
        for (k, v) in &route.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        w.write_all(head.as_bytes()).await?;
        let result = match route.delivery {
            Delivery::Normal | Delivery::After(_) => w.write_all(body).await,
            Delivery::ResetAfter(n) => {
                w.write_all(&body[..n.min(body.len())]).await?;
                w.flush().await?;
                // Abort the connection mid-body.
                let sock = w.reunite(r.into_inner()).expect("same socket");
                sock.set_zero_linger()?;
                drop(sock);
                return Ok(());
            }
            Delivery::Trickle(every) => {
                let mut res = Ok(());
                for b in body {
                    res = w.write_all(std::slice::from_ref(b)).await;
                    if res.is_err() {
                        break;
                    }
                    let _ = w.flush().await;
                    tokio::time::sleep(every).await;
                }
                res
            }
        };
        result?;
        w.flush().await?;
    }
}
