//! Article: identity of an article page.
//!
//! Owns the canonical URL (DESIGN §3) and the article id derived from it. Whether a URL is
//! known, the page fetch and the hand-off to extract are sequenced by the pipeline; this
//! module holds the pure rules those steps apply.

use url::Url;
use xxhash_rust::xxh3::xxh3_64;

/// Query parameters that only track the reader; they never select different content.
const TRACKING_PARAMS: &[&str] = &[
    "fbclid",
    "gclid",
    "dclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "yclid",
    "twclid",
    "igshid",
    "mc_cid",
    "mc_eid",
    "mkt_tok",
    "ref",
    "ref_src",
    "ref_url",
    "referrer",
    "_ga",
    "_gl",
    "_hsenc",
    "_hsmi",
    "hsctatracking",
    "oly_anon_id",
    "oly_enc_id",
    "vero_id",
    "wt.mc_id",
    "wt_mc",
    "xtor",
    "cmpid",
    "ncid",
    "ocid",
    "s_cid",
    "sr_share",
    "spm",
    "at_medium",
    "at_campaign",
    "at_source",
    "ito",
    "cmp",
    "feature",
    "rss",
    "share",
    "smid",
    "soc_src",
    "soc_trk",
    "__twitter_impression",
];

/// Prefixes of tracking-parameter families (`utm_source`, `utm_medium`, …).
const TRACKING_PREFIXES: &[&str] = &["utm_", "pk_", "mtm_", "hmb_", "__s"];

fn is_tracking(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    TRACKING_PARAMS.contains(&key.as_str()) || TRACKING_PREFIXES.iter().any(|p| key.starts_with(p))
}

/// Canonical form of an article URL: scheme and host lower-cased (the `url` crate does this
/// and drops default ports), fragment dropped, tracking parameters dropped, remaining query
/// parameters sorted (stable for equal keys), an empty query removed.
pub fn canonicalize(url: &Url) -> Url {
    let mut out = url.clone();
    out.set_fragment(None);
    if url.query().is_some() {
        let mut pairs: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| !is_tracking(k))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        if pairs.is_empty() {
            out.set_query(None);
        } else {
            out.query_pairs_mut().clear().extend_pairs(pairs);
        }
    }
    out
}

/// The canonical URL of a fetched page: the page's own `rel=canonical` / `og:url` when it is
/// on the same site as the fetched URL (a page may not claim another site's identity), else
/// the fetched URL after redirects; canonicalised either way.
pub fn page_canonical(fetched: &Url, declared: Option<&str>) -> Url {
    let declared = declared
        .and_then(|d| fetched.join(d.trim()).ok())
        .filter(|d| matches!(d.scheme(), "http" | "https") && same_site(fetched, d));
    canonicalize(declared.as_ref().unwrap_or(fetched))
}

/// Same site: one registrable domain (the public suffix plus one label, from the public
/// suffix list compiled into `psl`), so `news.example.co.uk` and `www.example.co.uk` are one
/// site while `someone.github.io` cannot speak for `github.io` (a public suffix, which is
/// nobody's site) or for `other.github.io`. IP addresses and names without a registrable
/// domain (`localhost`) are only the same site as themselves, `www.` aside.
fn same_site(a: &Url, b: &Url) -> bool {
    let (Some(ha), Some(hb)) = (a.host_str(), b.host_str()) else {
        return false;
    };
    if ha.strip_prefix("www.").unwrap_or(ha) == hb.strip_prefix("www.").unwrap_or(hb) {
        return true;
    }
    fn site(u: &Url) -> Option<&[u8]> {
        match u.host()? {
            url::Host::Domain(d) => {
                Some(psl::domain(d.trim_end_matches('.').as_bytes())?.as_bytes())
            }
            _ => None,
        }
    }
    site(a).is_some_and(|sa| site(b) == Some(sa))
}

/// The article id: XXH3-64 (seed 0) of the canonical URL string.
pub fn article_id(canonical: &Url) -> u64 {
    xxh3_64(canonical.as_str().as_bytes())
}

/// The content hash kept in an article's metadata: XXH3-64 of its stored text, 16 hex digits
/// (checks an export, spots silent corruption).
pub fn content_hash(text: &str) -> String {
    format!("{:016x}", xxh3_64(text.as_bytes()))
}

/// The stored name: `{seq:03}_{id:016x}.txt`.
pub fn article_name(seq: u64, id: u64) -> String {
    format!("{seq:03}_{id:016x}.txt")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        canonicalize(&Url::parse(s).unwrap()).to_string()
    }

    #[test]
    fn tracking_parameters_and_fragments_are_dropped() {
        assert_eq!(
            canon("HTTP://Example.ORG:80/a/b.html?utm_campaign=digest&utm_source=newsletter#top"),
            "http://example.org/a/b.html"
        );
        assert_eq!(
            canon("https://example.org:443/x?b=2&fbclid=abc&a=1&gclid=z&mc_cid=1&mc_eid=2&ref=rss"),
            "https://example.org/x?a=1&b=2"
        );
        assert_eq!(
            canon("https://example.org:8443/x?id=7"),
            "https://example.org:8443/x?id=7"
        );
    }

    #[test]
    fn page_canonical_is_trusted_only_on_the_same_site() {
        let fetched = Url::parse("https://www.example.org/story?utm_source=x").unwrap();
        assert_eq!(
            page_canonical(&fetched, Some("https://example.org/story-canonical")).as_str(),
            "https://example.org/story-canonical"
        );
        assert_eq!(
            page_canonical(&fetched, Some("/relative#frag")).as_str(),
            "https://www.example.org/relative"
        );
        assert_eq!(
            page_canonical(&fetched, Some("https://evil.example.net/story")).as_str(),
            "https://www.example.org/story"
        );
        assert_eq!(
            page_canonical(&fetched, None).as_str(),
            "https://www.example.org/story"
        );
    }

    #[test]
    fn same_site_is_one_registrable_domain_of_the_public_suffix_list() {
        let same = |a: &str, b: &str| {
            let (a, b) = (Url::parse(a).unwrap(), Url::parse(b).unwrap());
            (same_site(&a, &b), same_site(&b, &a))
        };
        // Two hosts of one registrable domain under a multi-label suffix.
        assert_eq!(
            same(
                "https://news.example.co.uk/a",
                "https://www.example.co.uk/a"
            ),
            (true, true)
        );
        assert_eq!(
            same("https://example.co.uk/", "https://a.b.example.co.uk/"),
            (true, true)
        );
        // A public suffix is nobody's site; neighbours on it are different sites.
        assert_eq!(
            same("https://someone.github.io/p", "https://github.io/p"),
            (false, false)
        );
        assert_eq!(
            same("https://someone.github.io/p", "https://other.github.io/p"),
            (false, false)
        );
        assert_eq!(
            same("https://example.co.uk/", "https://co.uk/"),
            (false, false)
        );
        assert_eq!(
            same("https://evil.example/", "https://example.org/"),
            (false, false)
        );
        // Addresses are compared whole: 127.0.0.1 and 10.0.0.1 share no "domain".
        assert_eq!(
            same("http://127.0.0.1:8080/a", "http://127.0.0.1:9090/b"),
            (true, true)
        );
        assert_eq!(
            same("http://127.0.0.1/", "http://10.0.0.1/"),
            (false, false)
        );
        assert_eq!(
            same("http://localhost/", "http://www.localhost/"),
            (true, true)
        );
        // What page_canonical makes of it.
        let fetched = Url::parse("https://someone.github.io/post").unwrap();
        assert_eq!(
            page_canonical(&fetched, Some("https://github.io/post")).as_str(),
            "https://someone.github.io/post"
        );
        let fetched = Url::parse("https://news.example.co.uk/story").unwrap();
        assert_eq!(
            page_canonical(&fetched, Some("https://www.example.co.uk/story")).as_str(),
            "https://www.example.co.uk/story"
        );
    }

    #[test]
    fn names_follow_the_seed_format() {
        assert_eq!(
            article_name(0, 0x76ac_e5f3_621f_ed2e),
            "000_76ace5f3621fed2e.txt"
        );
        assert_eq!(article_name(1000, 1), "1000_0000000000000001.txt");
        let u = Url::parse("http://example.org/a").unwrap();
        assert_eq!(article_id(&u), xxh3_64(b"http://example.org/a"));
    }
}
