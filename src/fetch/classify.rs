//! Maps a failed request onto [`FetchError`] from the types in its error chain — reqwest's own
//! flags, the guard's typed refusals, `std::io::Error` kinds, rustls errors — never from the
//! wording of a message (which changes between versions of hyper, rustls and the OS).

use std::error::Error;
use std::io::ErrorKind;

use super::guard::{Blocked, DnsFailed};
use super::{FetchConfig, FetchError};

/// A redirect chain longer than `fetch.max_redirects`.
#[derive(Debug, thiserror::Error)]
#[error("more than {0} redirects")]
pub(super) struct TooManyRedirects(pub usize);

/// Every error in `e`'s chain, looking inside `std::io::Error`s too: an io error that wraps
/// another error (tokio-rustls wraps the rustls error so) reports that error's *source* as its
/// own, skipping the wrapped error itself.
fn chain<'a>(e: &'a (dyn Error + 'static)) -> impl Iterator<Item = &'a (dyn Error + 'static)> {
    std::iter::successors(Some(e), |&e: &&'a (dyn Error + 'static)| {
        match e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn Error + 'static)),
            None => e.source(),
        }
    })
}

fn io_kinds(e: &reqwest::Error) -> impl Iterator<Item = ErrorKind> + '_ {
    chain(e).filter_map(|e| e.downcast_ref::<std::io::Error>().map(std::io::Error::kind))
}

/// The error class of a failed request to `url`.
pub(super) fn classify(url: &str, e: &reqwest::Error, cfg: &FetchConfig) -> FetchError {
    let url = url.to_string();
    // For people: the whole chain ("connection refused", "egress guard: …").
    let mut reason = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        reason.push_str(": ");
        reason.push_str(&s.to_string());
        source = s.source();
    }
    let has = |pred: fn(&(dyn Error + 'static)) -> bool| chain(e).any(pred);
    // The guard refuses inside the resolver or the redirect policy; reqwest then reports a
    // connect or redirect error whose chain holds the refusal.
    if has(|e| e.is::<Blocked>()) {
        return FetchError::Blocked { url, reason };
    }
    if e.is_timeout() || io_kinds(e).any(|k| k == ErrorKind::TimedOut) {
        return FetchError::Timeout {
            url,
            secs: cfg.request_timeout_secs,
        };
    }
    if e.is_redirect() || has(|e| e.is::<TooManyRedirects>()) {
        return FetchError::Redirect { url, reason };
    }
    if has(|e| e.is::<DnsFailed>()) {
        return FetchError::Dns { url, reason };
    }
    // A rustls error; or, on https, the peer that accepted the TCP connection and then broke
    // off or sent what is not TLS (tokio-rustls reports that as an io error of kind
    // UnexpectedEof, "tls handshake eof", with no error type of its own to find).
    let tls_broken_off = e.is_connect()
        && url.starts_with("https:")
        && io_kinds(e).any(|k| matches!(k, ErrorKind::UnexpectedEof | ErrorKind::InvalidData));
    if has(|e| e.is::<rustls::Error>()) || tls_broken_off {
        return FetchError::Tls { url, reason };
    }
    if e.is_body() || e.is_decode() {
        return FetchError::Body { url, reason };
    }
    // Connection-level io errors, and whatever else went wrong before a response: the peer
    // was not reachable the way it should be.
    FetchError::Connect { url, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_looks_inside_io_errors() {
        // tokio-rustls style: the rustls error wrapped in an io error.
        let io = std::io::Error::new(
            ErrorKind::InvalidData,
            rustls::Error::General("bad record".into()),
        );
        assert!(io.source().is_none(), "std skips the wrapped error itself");
        assert!(chain(&io).any(|e| e.is::<rustls::Error>()));
        let io = std::io::Error::other(Blocked("egress guard: no".into()));
        assert!(chain(&io).any(|e| e.is::<Blocked>()));
        let plain = std::io::Error::from(ErrorKind::ConnectionRefused);
        assert_eq!(chain(&plain).count(), 1);
    }
}
