//! The egress guard: keeps newsd off loopback, private and link-local networks.
//!
//! A feed is untrusted input: its links, and the redirects of the servers it names, decide
//! where newsd connects. With `allow_private_networks = false` three checks close every path:
//! IP-literal hosts are checked before the request and on each redirect hop (the `url` crate
//! has already normalised spellings such as `127.1`, `2130706433` or `0x7f.1` to an address),
//! and host names are checked after resolution, inside the client's resolver, so the address
//! that is checked is the address that is connected to.
//!
//! `fetch.allowed_private_addrs` exempts exact `IP:port` pairs (an intranet feed server, a
//! test fixture) from the check for IP-literal URLs only: a host NAME that resolves to a
//! private address stays refused, because the resolver cannot see the port it is for.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// Starts every refusal's message, so an operator sees who refused.
pub(crate) const BLOCKED_MARK: &str = "egress guard";

/// A refusal of the guard, raised inside the client (resolver, redirect policy) as a type the
/// fetcher finds in reqwest's error chain.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Blocked(pub String);

/// A name that did not resolve (or resolved to no address): DNS, not the peer, failed.
#[derive(Debug, thiserror::Error)]
#[error("{host}: {reason}")]
pub struct DnsFailed {
    /// The name looked up.
    pub host: String,
    /// What the resolver said.
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct EgressGuard {
    allow_private: bool,
    /// Literal socket addresses reachable despite `allow_private = false`.
    exempt: std::sync::Arc<[SocketAddr]>,
}

impl EgressGuard {
    pub fn new(allow_private: bool) -> EgressGuard {
        EgressGuard::with_exemptions(allow_private, &[])
    }

    pub fn with_exemptions(allow_private: bool, exempt: &[SocketAddr]) -> EgressGuard {
        EgressGuard {
            allow_private,
            exempt: exempt.into(),
        }
    }

    /// Checks scheme and IP-literal host; names are checked at resolution.
    pub fn check_url(&self, url: &Url) -> Result<(), String> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "{BLOCKED_MARK}: scheme {:?} is not http or https",
                url.scheme()
            ));
        }
        let ip = match url.host() {
            Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
            Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
            Some(Host::Domain(_)) => return Ok(()),
            None => return Err(format!("{BLOCKED_MARK}: URL has no host")),
        };
        if let Some(port) = url.port_or_known_default()
            && self.exempt.contains(&SocketAddr::new(ip, port))
        {
            return Ok(());
        }
        self.check_ip(ip)
    }

    pub fn check_ip(&self, ip: IpAddr) -> Result<(), String> {
        if !self.allow_private && ip_is_private(ip) {
            return Err(format!(
                "{BLOCKED_MARK}: {ip} is a private, loopback or link-local address (fetch.allow_private_networks = false)"
            ));
        }
        Ok(())
    }
}

impl Resolve for EgressGuard {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = self.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let looked_up = tokio::net::lookup_host((host.as_str(), 0)).await;
            let addrs: Vec<SocketAddr> = match looked_up {
                Ok(addrs) => addrs.collect(),
                Err(e) => {
                    let reason = e.to_string();
                    return Err(Box::new(DnsFailed {
                        host: host.clone(),
                        reason,
                    }) as _);
                }
            };
            let allowed: Vec<SocketAddr> = addrs
                .iter()
                .copied()
                .filter(|a| guard.check_ip(a.ip()).is_ok())
                .collect();
            if allowed.is_empty() {
                let shown: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
                if shown.is_empty() {
                    let reason = "resolved to no address".to_string();
                    return Err(Box::new(DnsFailed {
                        host: host.clone(),
                        reason,
                    }) as _);
                }
                return Err(Box::new(Blocked(format!(
                    "{BLOCKED_MARK}: {host} resolves only to private, loopback or link-local addresses ({})",
                    shown.join(", ")
                ))) as _);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// True for addresses a public news feed has no business pointing at.
pub fn ip_is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4_is_private(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_v4(v6) {
                return v4_is_private(v4);
            }
            let seg0 = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (seg0 & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (seg0 & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (seg0 & 0xffc0) == 0xfec0 // site-local (deprecated) fec0::/10
        }
    }
}

fn v4_is_private(v4: Ipv4Addr) -> bool {
    let [a, b, ..] = v4.octets();
    v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_broadcast()
        || v4.is_multicast()
        || a == 0 // "this network" 0.0.0.0/8
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT 100.64.0.0/10
        || (a == 192 && b == 0 && v4.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking 198.18.0.0/15
        || a >= 240 // reserved
}

/// The IPv4 address inside IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`) and
/// NAT64 (`64:ff9b::a.b.c.d`) IPv6 addresses, which all reach the IPv4 host.
fn embedded_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = v6.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, ..] => Some(tail),
        [0, 0, 0, 0, 0, 0, hi, _] if hi != 0 => Some(tail),
        [0x64, 0xff9b, 0, 0, 0, 0, ..] => Some(tail),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocked(url: &str) -> bool {
        EgressGuard::new(false)
            .check_url(&Url::parse(url).unwrap())
            .is_err()
    }

    #[test]
    fn ip_literals_in_every_spelling_are_refused() {
        for url in [
            "http://127.0.0.1/",
            "http://127.1/",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://0177.0.0.1/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://10.0.0.5/",
            "http://172.16.3.4/",
            "http://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data/",
            "http://0.0.0.0/",
            "http://[fe80::1]/",
            "http://[fd00::1]/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://100.64.0.1/",
        ] {
            assert!(blocked(url), "{url} must be blocked");
        }
    }

    #[test]
    fn public_addresses_and_names_pass() {
        for url in [
            "http://93.184.216.34/",
            "https://example.org/feed",
            "http://[2606:4700::1111]/",
        ] {
            assert!(!blocked(url), "{url} must pass");
        }
    }

    #[test]
    fn the_switch_allows_private_targets() {
        let g = EgressGuard::new(true);
        assert!(
            g.check_url(&Url::parse("http://127.0.0.1:8080/").unwrap())
                .is_ok()
        );
    }

    #[test]
    fn exemptions_cover_exact_literal_socket_addresses_only() {
        let g = EgressGuard::with_exemptions(false, &["127.0.0.1:8080".parse().unwrap()]);
        let ok = |u: &str| g.check_url(&Url::parse(u).unwrap()).is_ok();
        assert!(ok("http://127.0.0.1:8080/feed"));
        assert!(ok("http://127.1:8080/feed"), "same address, other spelling");
        assert!(!ok("http://127.0.0.1:8081/"), "another port is not exempt");
        assert!(!ok("http://10.0.0.1:8080/"));
    }

    #[test]
    fn other_schemes_are_refused() {
        assert!(blocked("file:///etc/passwd"));
        assert!(blocked("ftp://example.org/"));
    }

    #[tokio::test]
    async fn names_resolving_to_loopback_are_refused() {
        let g = EgressGuard::new(false);
        let err = match g.resolve("localhost".parse::<Name>().unwrap()).await {
            Ok(_) => panic!("localhost must not resolve through the guard"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains(BLOCKED_MARK), "{err}");
    }
}
