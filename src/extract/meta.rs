//! Page metadata: title, author, publication date, outlet, canonical URL, language.
//!
//! Sources in order of trust: Open Graph / article meta tags (set by the CMS for sharing, so
//! usually right), JSON-LD (rich but often generic or broken), then the visible page (`<h1>`,
//! `<time>`, `<title>`). Language is detected from the extracted body text, because `lang`
//! attributes are template defaults far too often.

use serde_json::Value;

use super::collapse_ws;
use super::dom::{Dom, Tag};

#[derive(Debug, Default)]
pub struct Meta {
    pub title: String,
    pub author: Option<String>,
    pub published: Option<String>,
    pub site_name: Option<String>,
    pub canonical_url: Option<String>,
    /// JSON-LD `articleBody`, the fallback when the DOM yields no text.
    pub article_body: Option<String>,
}

#[derive(Default)]
struct JsonLd {
    headline: Option<String>,
    author: Option<String>,
    published: Option<String>,
    publisher: Option<String>,
    body: Option<String>,
    url: Option<String>,
}

pub fn collect(dom: &Dom, json_ld: &[String], page_url: Option<&url::Url>) -> Meta {
    let mut og_title = None;
    let mut og_site = None;
    let mut og_url = None;
    let mut meta_author = None;
    let mut meta_date = None;
    let mut time_date = None;
    let mut canonical = None;
    let mut title_tag = None;
    let mut itemprop_author = None;
    for m in &dom.metas {
        let get = |k: &str| m.attrs.iter().find(|(a, _)| a == k).map(|(_, v)| v.trim());
        match m.tag {
            Tag::Meta => {
                let key = get("property")
                    .or_else(|| get("name"))
                    .or_else(|| get("itemprop"));
                let (Some(key), Some(content)) = (key, get("content")) else {
                    continue;
                };
                if content.is_empty() {
                    continue;
                }
                let key = key.to_ascii_lowercase();
                let slot = match key.as_str() {
                    "og:title" => &mut og_title,
                    "og:site_name" => &mut og_site,
                    "og:url" => &mut og_url,
                    "author" | "dc.creator" | "sailthru.author" | "parsely-author" => {
                        &mut meta_author
                    }
                    "article:published_time"
                    | "datepublished"
                    | "date"
                    | "pubdate"
                    | "publishdate"
                    | "dc.date"
                    | "dc.date.issued"
                    | "dcterms.date"
                    | "dcterms.created"
                    | "sailthru.date"
                    | "parsely-pub-date"
                    | "og:published_time"
                    | "article:published" => &mut meta_date,
                    _ => continue,
                };
                if slot.is_none() {
                    *slot = Some(content.to_owned());
                }
            }
            Tag::Link => {
                let is_canonical = get("rel").is_some_and(|r| {
                    r.split_ascii_whitespace()
                        .any(|t| t.eq_ignore_ascii_case("canonical"))
                });
                if is_canonical && canonical.is_none() {
                    canonical = get("href").map(str::to_owned);
                }
            }
            Tag::Time => {
                if time_date.is_none() {
                    time_date = get("datetime").map(str::to_owned);
                }
            }
            Tag::Title => {
                if title_tag.is_none() {
                    title_tag = Some(dom.subtree_text(m.node as usize));
                }
            }
            _ => {
                if itemprop_author.is_none()
                    && get("itemprop").is_some_and(|v| v.eq_ignore_ascii_case("author"))
                {
                    let t = dom.subtree_text(m.node as usize);
                    if !t.is_empty() && t.len() < 80 {
                        itemprop_author = Some(t);
                    }
                }
            }
        }
    }
    let ld = parse_json_ld(json_ld);
    let h1 = dom
        .nodes
        .iter()
        .position(|n| n.tag == Tag::H(1) && !n.hidden)
        .map(|i| dom.subtree_text(i))
        .filter(|t| !t.is_empty());

    let site_name = og_site
        .or(ld.publisher)
        .map(|s| collapse_ws(&s))
        .filter(|s| !s.is_empty());
    let title = og_title
        .or(ld.headline)
        .map(|t| collapse_ws(&t))
        .filter(|t| !t.is_empty())
        .map(|t| strip_site_suffix(&t, site_name.as_deref(), false))
        .or(h1)
        .or_else(|| title_tag.map(|t| strip_site_suffix(&t, site_name.as_deref(), true)))
        .unwrap_or_default();
    let author = ld
        .author
        .or(meta_author
            .filter(|a| !a.starts_with("http"))
            .map(|a| collapse_ws(&a)))
        .or(itemprop_author)
        .filter(|a| !a.is_empty());
    let published = meta_date
        .or(ld.published)
        .or(time_date)
        .and_then(|d| normalize_date(&d));
    let canonical_url = canonical
        .or(og_url)
        .or(ld.url)
        .and_then(|c| resolve(&c, page_url));
    Meta {
        title,
        author,
        published,
        site_name,
        canonical_url,
        article_body: ld.body,
    }
}

fn resolve(href: &str, base: Option<&url::Url>) -> Option<String> {
    let href = href.trim();
    let u = match base {
        Some(b) => b.join(href).ok()?,
        None => url::Url::parse(href).ok()?,
    };
    matches!(u.scheme(), "http" | "https").then(|| u.to_string())
}

/// Drops a trailing ` | Outlet` / ` - Outlet` / ` — Outlet`. For og:title/headline only when the
/// suffix is the known site name; for `<title>` any short last segment goes.
fn strip_site_suffix(title: &str, site: Option<&str>, loose: bool) -> String {
    for sep in [" | ", " - ", " – ", " — ", " :: ", " · ", " • "] {
        if let Some(pos) = title.rfind(sep) {
            let (head, tail) = (&title[..pos], title[pos + sep.len()..].trim());
            let is_site = site.is_some_and(|s| s.eq_ignore_ascii_case(tail))
                || (loose && tail.split_whitespace().count() <= 4 && head.len() > tail.len());
            if is_site && !head.trim().is_empty() {
                return head.trim().to_owned();
            }
        }
    }
    title.to_owned()
}

/// RFC 3339 when a time is known (kept as the page wrote it if already valid), else
/// `YYYY-MM-DD`.
pub fn normalize_date(raw: &str) -> Option<String> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime};
    let s = raw.trim();
    if DateTime::parse_from_rfc3339(s).is_ok() {
        return Some(s.to_owned());
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%z",
        "%Y-%m-%dT%H:%M%z",
    ] {
        if let Ok(d) = DateTime::parse_from_str(s, fmt) {
            return Some(d.to_rfc3339());
        }
    }
    if let Ok(d) = DateTime::parse_from_rfc2822(s) {
        return Some(d.to_rfc3339());
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(d.date().format("%Y-%m-%d").to_string());
        }
    }
    let day = s.get(..10)?;
    NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .ok()
        .map(|d| d.format("%Y-%m-%d").to_string())
}

fn parse_json_ld(blocks: &[String]) -> JsonLd {
    let mut out = JsonLd::default();
    let mut fallback = JsonLd::default();
    for raw in blocks {
        let Ok(v) = serde_json::from_str::<Value>(raw.trim()) else {
            continue;
        };
        let mut stack = vec![&v];
        let mut budget = 200;
        while let Some(v) = stack.pop() {
            budget -= 1;
            if budget == 0 {
                break;
            }
            match v {
                Value::Array(a) => stack.extend(a.iter().rev()),
                Value::Object(o) => {
                    if let Some(g) = o.get("@graph") {
                        stack.push(g);
                    }
                    let article = type_names(o.get("@type")).any(|t| {
                        t.ends_with("Article")
                            || t.ends_with("Posting")
                            || t == "Report"
                            || t == "WebPage"
                    });
                    let webpage_only = type_names(o.get("@type")).all(|t| t == "WebPage");
                    let target = if article && !webpage_only {
                        &mut out
                    } else {
                        &mut fallback
                    };
                    fill(target, o);
                }
                _ => {}
            }
        }
    }
    out.headline = out.headline.or(fallback.headline);
    out.published = out.published.or(fallback.published);
    out.author = out.author.or(fallback.author);
    out.publisher = out.publisher.or(fallback.publisher);
    out.body = out.body.or(fallback.body);
    out
}

fn type_names(v: Option<&Value>) -> impl Iterator<Item = &str> {
    let list: Vec<&str> = match v {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    list.into_iter()
}

fn fill(t: &mut JsonLd, o: &serde_json::Map<String, Value>) {
    let s = |k: &str| {
        o.get(k)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .filter(|s| !s.trim().is_empty())
    };
    if t.headline.is_none() {
        t.headline = s("headline");
    }
    if t.published.is_none() {
        t.published = s("datePublished");
    }
    if t.body.is_none() {
        t.body = s("articleBody");
    }
    if t.url.is_none() && o.contains_key("headline") {
        t.url = s("url");
    }
    if t.author.is_none() {
        t.author = o.get("author").and_then(names).filter(|a| !a.is_empty());
    }
    if t.publisher.is_none() {
        t.publisher = o.get("publisher").and_then(names).filter(|a| !a.is_empty());
    }
}

/// `"Name"`, `{"name": …}` or a list of either → names joined with ", ".
fn names(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.starts_with("http") => Some(collapse_ws(s)),
        Value::Object(o) => o.get("name").and_then(Value::as_str).map(collapse_ws),
        Value::Array(a) => {
            let all: Vec<String> = a
                .iter()
                .filter_map(names)
                .filter(|n| !n.is_empty())
                .collect();
            (!all.is_empty()).then(|| all.join(", "))
        }
        _ => None,
    }
}

/// English function words that are not words of another common language written in Latin
/// script ("in", "a", "to", "is", "was", "by", "on" are left out for that reason).
const ENGLISH_MARKERS: [&str; 17] = [
    "the", "of", "and", "that", "for", "with", "are", "this", "from", "have", "has", "been",
    "which", "their", "they", "were", "would",
];

/// Whether the sample is English beyond doubt: at least 24 words, a tenth or more of them
/// [`ENGLISH_MARKERS`] (English prose runs at 15–20 %, other languages near 0–2 %). A cheap
/// scan that spares whatlang (which scores every Latin-script language's trigram profile) the
/// most common case; anything less clear goes to whatlang.
fn plainly_english(sample: &str) -> bool {
    let (mut words, mut markers) = (0u32, 0u32);
    for word in sample.split(|c: char| !c.is_alphabetic()) {
        if word.is_empty() {
            continue;
        }
        words += 1;
        if word.len() <= 5 && ENGLISH_MARKERS.iter().any(|m| m.eq_ignore_ascii_case(word)) {
            markers += 1;
        }
    }
    words >= 24 && markers * 10 >= words
}

/// ISO 639-1 code of the body text's language, when whatlang is reasonably sure (plainly
/// English text is recognised without it).
pub fn language(blocks: &[String]) -> Option<String> {
    // whatlang's cost grows with the text; a couple of hundred bytes of prose settle the
    // language. Prose blocks first: headings and labels are often English on any site.
    const SAMPLE_BYTES: usize = 256;
    let mut sample = String::with_capacity(SAMPLE_BYTES + 8);
    let prose = blocks.iter().filter(|b| b.len() >= 80);
    for b in prose.chain(blocks.iter().filter(|b| b.len() < 80)) {
        let room = SAMPLE_BYTES.saturating_sub(sample.len());
        if room == 0 {
            break;
        }
        let mut end = b.len().min(room);
        while !b.is_char_boundary(end) {
            end -= 1;
        }
        sample.push_str(&b[..end]);
        sample.push('\n');
    }
    if plainly_english(&sample) {
        return Some("en".to_owned());
    }
    let info = whatlang::detect(&sample)?;
    if info.confidence() < 0.1 {
        return None;
    }
    let code = match info.lang().code() {
        "epo" => "eo",
        "eng" => "en",
        "rus" => "ru",
        "cmn" => "zh",
        "spa" => "es",
        "por" => "pt",
        "ita" => "it",
        "ben" => "bn",
        "fra" => "fr",
        "deu" => "de",
        "ukr" => "uk",
        "kat" => "ka",
        "ara" => "ar",
        "hin" => "hi",
        "jpn" => "ja",
        "heb" => "he",
        "yid" => "yi",
        "pol" => "pl",
        "amh" => "am",
        "jav" => "jv",
        "kor" => "ko",
        "nob" => "nb",
        "dan" => "da",
        "swe" => "sv",
        "fin" => "fi",
        "tur" => "tr",
        "nld" => "nl",
        "hun" => "hu",
        "ces" => "cs",
        "ell" => "el",
        "bul" => "bg",
        "bel" => "be",
        "mar" => "mr",
        "kan" => "kn",
        "ron" => "ro",
        "slv" => "sl",
        "hrv" => "hr",
        "srp" => "sr",
        "mkd" => "mk",
        "lit" => "lt",
        "lav" => "lv",
        "est" => "et",
        "tam" => "ta",
        "vie" => "vi",
        "urd" => "ur",
        "tha" => "th",
        "guj" => "gu",
        "uzb" => "uz",
        "pan" => "pa",
        "aze" => "az",
        "ind" => "id",
        "tel" => "te",
        "pes" => "fa",
        "mal" => "ml",
        "ori" => "or",
        "mya" => "my",
        "nep" => "ne",
        "sin" => "si",
        "khm" => "km",
        "tuk" => "tk",
        "aka" => "ak",
        "zul" => "zu",
        "sna" => "sn",
        "afr" => "af",
        "lat" => "la",
        "slk" => "sk",
        "cat" => "ca",
        "tgl" => "tl",
        "hye" => "hy",
        "cym" => "cy",
        _ => return None,
    };
    Some(code.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_normalize() {
        assert_eq!(
            normalize_date("2024-06-21T08:00:00+02:00").as_deref(),
            Some("2024-06-21T08:00:00+02:00")
        );
        assert_eq!(
            normalize_date("2024-06-21T08:00:00+0200").as_deref(),
            Some("2024-06-21T08:00:00+02:00")
        );
        assert_eq!(normalize_date("2024-06-21").as_deref(), Some("2024-06-21"));
        assert_eq!(
            normalize_date("2024-06-21 08:00:00").as_deref(),
            Some("2024-06-21")
        );
        assert_eq!(
            normalize_date("Fri, 21 Jun 2024 06:00:00 +0000").as_deref(),
            Some("2024-06-21T06:00:00+00:00")
        );
        assert_eq!(normalize_date("yesterday"), None);
    }

    #[test]
    fn site_suffix_is_stripped() {
        assert_eq!(
            strip_site_suffix("Big news | The Outlet", Some("The Outlet"), false),
            "Big news"
        );
        assert_eq!(
            strip_site_suffix("Big news - Outlet", None, true),
            "Big news"
        );
        assert_eq!(
            strip_site_suffix("Left - right debate", None, false),
            "Left - right debate"
        );
    }

    #[test]
    fn plainly_english_text_skips_whatlang_and_other_languages_do_not() {
        let en = "The council said on Tuesday that the plan, which has been debated for months, \
                  would go ahead with the support of the mayor and of their partners, who were \
                  asked to present the budget for this year from the next meeting.";
        assert!(super::plainly_english(en));
        assert_eq!(super::language(&[en.to_string()]).as_deref(), Some("en"));
        // Too short to be beyond doubt.
        assert!(!super::plainly_english(
            "The end of the war and the start of the peace."
        ));
        for other in [
            "Der Stadtrat hat am Dienstag beschlossen, dass der Plan, der seit Monaten diskutiert \
             wird, mit der Unterstützung des Bürgermeisters und seiner Partner umgesetzt wird, \
             die das Budget für dieses Jahr bei der nächsten Sitzung vorlegen sollen.",
            "De gemeenteraad heeft dinsdag besloten dat het plan, waarover al maanden wordt \
             gedebatteerd, doorgaat met de steun van de burgemeester en van de partners, die \
             gevraagd is of ze de begroting voor dit jaar op de volgende vergadering presenteren.",
            "Bystyret sa tirsdag at planen, som har vært diskutert i flere måneder, blir \
             gjennomført med støtte fra ordføreren og partnerne, som ble bedt om å legge fram \
             budsjettet for i år på det neste møtet, for det er viktig for byen.",
            "Rada miasta poinformowała we wtorek, że plan, o którym dyskutowano od miesięcy, \
             zostanie zrealizowany przy wsparciu burmistrza i partnerów, by to było możliwe, \
             a budżet na ten rok ma być przedstawiony na następnym posiedzeniu.",
        ] {
            assert!(!super::plainly_english(other), "{other}");
            assert_ne!(super::language(&[other.to_string()]).as_deref(), Some("en"));
        }
    }
}
