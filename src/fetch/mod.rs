//! Fetch: the process's one HTTP client.
//!
//! Owns every byte newsd sends or receives over the network: timeouts, redirect policy, the
//! decoded-size cap, conditional GET, per-host politeness and the egress guard. It knows
//! nothing about feeds, articles or the store; callers hand it a URL (and validators) and get
//! bytes, headers or a classified [`FetchError`] back.

mod classify;
mod guard;
mod hosts;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::StreamExt;
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{StatusCode, redirect};
use serde::{Deserialize, Serialize};
use url::Url;

pub use guard::{EgressGuard, ip_is_private};
pub use hosts::HostLimiter;

/// The `[fetch]` config section.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct FetchConfig {
    /// Sent on every request; publishers use it to contact the operator.
    pub user_agent: String,
    /// Off by default so a feed (or a redirect in one) cannot make newsd reach the intranet.
    pub allow_private_networks: bool,
    /// `IP:port` pairs reachable although `allow_private_networks` is off, for URLs that
    /// name them literally (an intranet feed server). Names never get this exemption.
    pub allowed_private_addrs: Vec<std::net::SocketAddr>,
    /// Total deadline of one request, connect to last body byte: a trickling server cannot
    /// hold a worker longer than this.
    pub request_timeout_secs: u64,
    /// Connect deadline, shorter than the total so dead hosts fail fast.
    pub connect_timeout_secs: u64,
    /// Cap on a page's decoded body; bodies over it are abandoned while streaming.
    pub max_page_bytes: u64,
    /// Cap on a feed's decoded body.
    pub max_feed_bytes: u64,
    /// Redirect hops followed before giving up.
    pub max_redirects: usize,
    /// Requests in flight to one host at once (feeds and pages together).
    pub per_host_concurrency: usize,
    /// Minimum gap between the starts of two requests to one host.
    pub per_host_delay_ms: u64,
    /// Requests in flight across all hosts.
    pub max_concurrency: usize,
    /// Items taken from one feed per poll (newest first); a 100k-item feed costs no more.
    pub max_feed_items: usize,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            user_agent: concat!(
                "newsd/",
                env!("CARGO_PKG_VERSION"),
                " (+https://github.com/newsd/newsd)"
            )
            .to_string(),
            allow_private_networks: false,
            allowed_private_addrs: Vec::new(),
            request_timeout_secs: 30,
            connect_timeout_secs: 10,
            max_page_bytes: 5 * 1024 * 1024,
            max_feed_bytes: 10 * 1024 * 1024,
            max_redirects: 5,
            per_host_concurrency: 1,
            per_host_delay_ms: 1000,
            max_concurrency: 16,
            max_feed_items: 200,
        }
    }
}

/// What kind of resource is fetched: picks the size cap and the Accept header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Feed,
    Page,
}

/// HTTP validators from a previous response, echoed back byte-exact for a conditional GET.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// Caching hints a response gives the scheduler.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheHints {
    /// `Cache-Control: max-age` (or `s-maxage`).
    pub max_age: Option<Duration>,
    /// `Expires`, relative to now (already in the past → None).
    pub expires_in: Option<Duration>,
}

/// A successful (2xx) response with its body read in full.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// URL after redirects.
    pub final_url: Url,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    pub validators: Validators,
    pub hints: CacheHints,
}

/// The result of a (possibly conditional) GET.
#[derive(Debug)]
pub enum Outcome {
    Fetched(Fetched),
    /// 304: the stored copy is current; nothing to parse.
    NotModified(CacheHints),
}

/// Why a fetch failed, classified for logs, metrics and the retry policy.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: blocked: {reason}")]
    Blocked { url: String, reason: String },
    #[error("{url}: unsupported URL: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("{url}: DNS lookup failed: {reason}")]
    Dns { url: String, reason: String },
    #[error("{url}: connection failed: {reason}")]
    Connect { url: String, reason: String },
    #[error("{url}: TLS failed: {reason}")]
    Tls { url: String, reason: String },
    #[error("{url}: timed out after {secs} s")]
    Timeout { url: String, secs: u64 },
    #[error("{url}: too many redirects or a bad redirect: {reason}")]
    Redirect { url: String, reason: String },
    #[error("{url}: HTTP {status}")]
    Status {
        url: String,
        status: u16,
        /// `Retry-After`, when the server sent one (429/503).
        retry_after: Option<Duration>,
    },
    #[error("{url}: body larger than {limit} bytes (decoded)")]
    TooLarge { url: String, limit: u64 },
    #[error("{url}: transfer failed: {reason}")]
    Body { url: String, reason: String },
}

impl FetchError {
    /// Stable short name of the error class (log field `error_kind`, metric label).
    pub fn kind(&self) -> &'static str {
        match self {
            FetchError::Blocked { .. } => "blocked",
            FetchError::BadUrl { .. } => "bad_url",
            FetchError::Dns { .. } => "dns",
            FetchError::Connect { .. } => "connect",
            FetchError::Tls { .. } => "tls",
            FetchError::Timeout { .. } => "timeout",
            FetchError::Redirect { .. } => "redirect",
            FetchError::Status { .. } => "http_status",
            FetchError::TooLarge { .. } => "too_large",
            FetchError::Body { .. } => "body",
        }
    }

    /// `Retry-After` the server asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Whether trying the same URL later could succeed. Permanent failures of an article page
    /// are remembered so the page is not fetched on every poll.
    pub fn is_permanent(&self) -> bool {
        match self {
            FetchError::Blocked { .. }
            | FetchError::BadUrl { .. }
            | FetchError::TooLarge { .. } => true,
            FetchError::Status { status, .. } => {
                matches!(status, 400 | 401 | 403 | 404 | 410 | 451)
            }
            _ => false,
        }
    }
}

/// The shared fetcher: one connection pool, one politeness ledger.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    guard: EgressGuard,
    hosts: HostLimiter,
    cfg: Arc<FetchConfig>,
}

impl Fetcher {
    pub fn new(cfg: &FetchConfig) -> Result<Fetcher, FetchError> {
        let guard =
            EgressGuard::with_exemptions(cfg.allow_private_networks, &cfg.allowed_private_addrs);
        let max_redirects = cfg.max_redirects;
        let redirect_guard = guard.clone();
        let policy = redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > max_redirects {
                return attempt.error(classify::TooManyRedirects(max_redirects));
            }
            if let Err(reason) = redirect_guard.check_url(attempt.url()) {
                return attempt.error(guard::Blocked(reason));
            }
            attempt.follow()
        });
        let client = reqwest::Client::builder()
            .user_agent(cfg.user_agent.clone())
            .connect_timeout(Duration::from_secs(cfg.connect_timeout_secs))
            .timeout(Duration::from_secs(cfg.request_timeout_secs))
            .redirect(policy)
            .no_proxy()
            .dns_resolver(Arc::new(guard.clone()))
            .gzip(true)
            .brotli(true)
            .deflate(true)
            .https_only(false)
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| FetchError::Connect {
                url: String::new(),
                reason: format!("cannot build the HTTP client: {e}"),
            })?;
        Ok(Fetcher {
            client,
            guard,
            hosts: HostLimiter::new(
                cfg.per_host_concurrency,
                Duration::from_millis(cfg.per_host_delay_ms),
                cfg.max_concurrency,
            ),
            cfg: Arc::new(cfg.clone()),
        })
    }

    pub fn config(&self) -> &FetchConfig {
        &self.cfg
    }

    /// GET `url`, conditionally when `validators` are given, honouring per-host limits.
    pub async fn get(
        &self,
        url: &Url,
        kind: Kind,
        validators: Option<&Validators>,
    ) -> Result<Outcome, FetchError> {
        let shown = url.as_str().to_string();
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::BadUrl {
                url: shown,
                reason: format!("scheme {:?} is not http or https", url.scheme()),
            });
        }
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        if host.is_empty() {
            return Err(FetchError::BadUrl {
                url: shown,
                reason: "no host".into(),
            });
        }
        self.guard
            .check_url(url)
            .map_err(|reason| FetchError::Blocked {
                url: shown.clone(),
                reason,
            })?;

        let _permit = self.hosts.acquire(&host).await;
        let result = self.get_now(url, kind, validators).await;
        if let Err(FetchError::Status {
            status: 429 | 503,
            retry_after: Some(wait),
            ..
        }) = &result
        {
            self.hosts.pause(&host, *wait);
        }
        result
    }

    async fn get_now(
        &self,
        url: &Url,
        kind: Kind,
        validators: Option<&Validators>,
    ) -> Result<Outcome, FetchError> {
        let shown = url.as_str();
        let mut req = self.client.get(url.clone()).header(
            header::ACCEPT,
            match kind {
                Kind::Feed => "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5",
                Kind::Page => "text/html, application/xhtml+xml;q=0.9, */*;q=0.5",
            },
        );
        if let Some(v) = validators {
            if let Some(etag) = v
                .etag
                .as_deref()
                .and_then(|s| HeaderValue::from_str(s).ok())
            {
                req = req.header(header::IF_NONE_MATCH, etag);
            }
            if let Some(lm) = v
                .last_modified
                .as_deref()
                .and_then(|s| HeaderValue::from_str(s).ok())
            {
                req = req.header(header::IF_MODIFIED_SINCE, lm);
            }
        }
        let resp = req
            .send()
            .await
            .map_err(|e| classify::classify(shown, &e, &self.cfg))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let hints = cache_hints(&headers, SystemTime::now());
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Outcome::NotModified(hints));
        }
        if status.is_redirection() {
            // reqwest hands back redirects it will not follow (a Location that is not
            // http/https, or none at all): that is a bad redirect, not a content status.
            let location = headers
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("(none)");
            return Err(FetchError::Redirect {
                url: shown.to_string(),
                reason: format!("HTTP {} to {location:?} not followed", status.as_u16()),
            });
        }
        if !status.is_success() {
            return Err(FetchError::Status {
                url: shown.to_string(),
                status: status.as_u16(),
                retry_after: retry_after(&headers, SystemTime::now()),
            });
        }
        let final_url = resp.url().clone();
        let limit = match kind {
            Kind::Feed => self.cfg.max_feed_bytes,
            Kind::Page => self.cfg.max_page_bytes,
        };
        if let Some(len) = resp.content_length()
            && len > limit
            && headers.get(header::CONTENT_ENCODING).is_none()
        {
            return Err(FetchError::TooLarge {
                url: shown.to_string(),
                limit,
            });
        }
        // Decompression happens inside the stream, so this counts decoded bytes: a small
        // compressed bomb stops at the cap with memory bounded by the cap. The buffer starts at
        // the announced length (capped by the limit; reqwest announces none for a compressed
        // body), so an uncompressed page is one allocation instead of a doubling series.
        let announced = resp.content_length().unwrap_or(0).min(limit);
        let mut body = Vec::with_capacity(usize::try_from(announced).unwrap_or(0));
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| classify::classify(shown, &e, &self.cfg))?;
            if body.len() as u64 + chunk.len() as u64 > limit {
                return Err(FetchError::TooLarge {
                    url: shown.to_string(),
                    limit,
                });
            }
            body.extend_from_slice(&chunk);
        }
        let header_str = |name| {
            headers
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        Ok(Outcome::Fetched(Fetched {
            final_url,
            content_type: header_str(header::CONTENT_TYPE),
            validators: Validators {
                etag: header_str(header::ETAG),
                last_modified: header_str(header::LAST_MODIFIED),
            },
            body,
            hints,
        }))
    }
}

/// `Cache-Control: max-age` / `s-maxage` and `Expires`.
pub fn cache_hints(headers: &HeaderMap, now: SystemTime) -> CacheHints {
    let mut hints = CacheHints::default();
    if let Some(cc) = headers
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
    {
        for directive in cc.split(',') {
            let directive = directive.trim();
            let value = directive
                .strip_prefix("s-maxage=")
                .or_else(|| directive.strip_prefix("max-age="));
            if let Some(secs) = value.and_then(|v| v.trim_matches('"').parse::<u64>().ok()) {
                hints.max_age = Some(hints.max_age.map_or(Duration::from_secs(secs), |d| {
                    d.max(Duration::from_secs(secs))
                }));
            }
        }
    }
    hints.expires_in = headers
        .get(header::EXPIRES)
        .and_then(|v| v.to_str().ok())
        .and_then(httpdate_parse)
        .and_then(|t| t.duration_since(now).ok());
    hints
}

/// `Retry-After` in either form: delta-seconds or an HTTP date.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate_parse(value)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Parses an HTTP date in the three forms RFC 9110 §5.6.7 requires recipients to accept
/// (IMF-fixdate, RFC 850, asctime), then — leniently — RFC 2822 spellings some servers send
/// (a numeric zone instead of `GMT`).
fn httpdate_parse(s: &str) -> Option<SystemTime> {
    let s = s.trim();
    if let Ok(t) = httpdate::parse_http_date(s) {
        return Some(t);
    }
    let dt = chrono::DateTime::parse_from_rfc2822(s).ok()?;
    let secs = u64::try_from(dt.timestamp()).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn retry_after_in_seconds_and_as_a_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480); // 2015-10-21 07:28:00 GMT
        let h = headers(&[("retry-after", "120")]);
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(120)));
        let h = headers(&[("retry-after", "Wed, 21 Oct 2015 07:30:00 GMT")]);
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(120)));
        let h = headers(&[("retry-after", "soon")]);
        assert_eq!(retry_after(&h, now), None);
    }

    #[test]
    fn http_dates_in_all_three_rfc_9110_forms() {
        // 2015-10-21 07:30:00 GMT, two minutes after `now`.
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        let at = now + Duration::from_secs(120);
        for form in [
            "Wed, 21 Oct 2015 07:30:00 GMT",     // IMF-fixdate
            "Wednesday, 21-Oct-15 07:30:00 GMT", // RFC 850
            "Wed Oct 21 07:30:00 2015",          // asctime
            "Thu Oct  1 07:30:00 2015",          // asctime pads the day with a space
            "Wed, 21 Oct 2015 09:30:00 +0200",   // RFC 2822 zone, accepted leniently
        ] {
            let expected = if form.contains("Oct  1") {
                at - Duration::from_secs(20 * 86_400)
            } else {
                at
            };
            assert_eq!(httpdate_parse(form), Some(expected), "{form}");
        }
        for junk in [
            "",
            "yesterday",
            "Wed, 32 Oct 2015 07:30:00 GMT",
            "1445412600",
        ] {
            assert_eq!(httpdate_parse(junk), None, "{junk}");
        }
        // Both headers that carry dates read every form.
        for form in [
            "Wednesday, 21-Oct-15 07:30:00 GMT",
            "Wed Oct 21 07:30:00 2015",
        ] {
            let h = headers(&[("retry-after", form), ("expires", form)]);
            assert_eq!(
                retry_after(&h, now),
                Some(Duration::from_secs(120)),
                "{form}"
            );
            assert_eq!(
                cache_hints(&h, now).expires_in,
                Some(Duration::from_secs(120)),
                "{form}"
            );
        }
    }

    #[test]
    fn cache_hints_read_max_age_and_expires() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        let h = headers(&[
            ("cache-control", "public, max-age=600, s-maxage=1200"),
            ("expires", "Wed, 21 Oct 2015 08:28:00 GMT"),
        ]);
        let hints = cache_hints(&h, now);
        assert_eq!(hints.max_age, Some(Duration::from_secs(1200)));
        assert_eq!(hints.expires_in, Some(Duration::from_secs(3600)));
        let past = headers(&[("expires", "Wed, 21 Oct 2015 06:28:00 GMT")]);
        assert_eq!(cache_hints(&past, now).expires_in, None);
    }

    #[test]
    fn permanent_errors_are_the_ones_retrying_cannot_fix() {
        let status = |s| FetchError::Status {
            url: "u".into(),
            status: s,
            retry_after: None,
        };
        assert!(status(404).is_permanent());
        assert!(!status(503).is_permanent());
        assert!(
            !FetchError::Timeout {
                url: "u".into(),
                secs: 1
            }
            .is_permanent()
        );
    }
}
