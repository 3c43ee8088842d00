//! Article text for the synthetic web: a pool of sentences per language, from which every
//! original article draws its own paragraphs, and the light edits that make a republished copy.
//!
//! Owns only text. It must not know about hosts, URLs or HTML. Every function is a pure
//! function of its seed, so a page is the same bytes every time it is served or dumped.

use std::collections::HashMap;
use std::path::Path;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Sentences below this many words are dropped from the pool (captions, list debris).
const MIN_SENTENCE_WORDS: usize = 6;
/// A language needs this many sentences to get its own pool: with fewer, two random articles
/// would share sentences often enough to look like copies to newsd.
const MIN_POOL: usize = 1500;

/// Sentences to build articles from, grouped by language.
pub struct Corpus {
    /// One pool per language: articles never mix languages, as real pages do not.
    pools: Vec<Vec<String>>,
    /// Cumulative pool sizes, so a language is picked in proportion to its share of the text.
    cumulative: Vec<usize>,
    /// Where the text came from, for the web manifest.
    pub source: String,
}

/// The text of one article: a headline and its body blocks, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Text {
    /// The headline as shown in the page's `<h1>` and the feed item.
    pub title: String,
    /// Body blocks: paragraphs, and (marked by `Block::Heading`) subheadings.
    pub blocks: Vec<Block>,
}

/// One block of an article body.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Para(String),
    Heading(String),
    Quote(String),
}

impl Block {
    pub fn text(&self) -> &str {
        match self {
            Block::Para(s) | Block::Heading(s) | Block::Quote(s) => s,
        }
    }
}

impl Corpus {
    /// Sentences from a `{id: {title, articleBody}}` JSON file (the dedup bench's bases),
    /// grouped by the language whatlang reports for each article.
    pub fn from_bases(path: &Path) -> Result<Corpus, String> {
        let raw = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let v: serde_json::Value =
            serde_json::from_str(&raw).map_err(|e| format!("{}: {e}", path.display()))?;
        let obj = v
            .as_object()
            .ok_or_else(|| format!("{}: expected a JSON object of articles", path.display()))?;
        let mut by_lang: HashMap<String, Vec<String>> = HashMap::new();
        for art in obj.values() {
            let Some(body) = art.get("articleBody").and_then(|b| b.as_str()) else {
                continue;
            };
            let lang = whatlang::detect_lang(body)
                .map(|l| l.code().to_string())
                .unwrap_or_default();
            by_lang.entry(lang).or_default().extend(sentences(body));
        }
        let mut langs: Vec<(String, Vec<String>)> = by_lang
            .into_iter()
            .filter(|(l, s)| !l.is_empty() && s.len() >= MIN_POOL)
            .collect();
        langs.sort_by(|a, b| a.0.cmp(&b.0));
        if langs.is_empty() {
            return Err(format!(
                "{}: no language has {MIN_POOL} sentences",
                path.display()
            ));
        }
        let source = format!(
            "{} ({})",
            path.display(),
            langs
                .iter()
                .map(|(l, s)| format!("{l}: {} sentences", s.len()))
                .collect::<Vec<_>>()
                .join(", ")
        );
        Ok(Corpus::from_pools(
            langs.into_iter().map(|(_, s)| s).collect(),
            source,
        ))
    }

    /// An English-like corpus made up from a fixed vocabulary: used by the tests and when no
    /// bases file is given. Names and figures are sprinkled in so newsd's fact check has facts.
    pub fn synthetic(sentences: usize) -> Corpus {
        let mut rng = StdRng::seed_from_u64(0x5eed);
        let pool = (0..sentences)
            .map(|_| {
                let n = rng.random_range(8..26);
                let mut words: Vec<String> = Vec::with_capacity(n);
                for i in 0..n {
                    let w = match rng.random_range(0..20) {
                        0 if i > 0 => NAMES[rng.random_range(0..NAMES.len())].to_string(),
                        1 if i > 0 => rng.random_range(2..2000).to_string(),
                        _ => WORDS[rng.random_range(0..WORDS.len())].to_string(),
                    };
                    words.push(w);
                }
                let mut s = words.join(" ");
                capitalise(&mut s);
                s.push('.');
                s
            })
            .collect();
        Corpus::from_pools(vec![pool], format!("synthetic ({sentences} sentences)"))
    }

    fn from_pools(pools: Vec<Vec<String>>, source: String) -> Corpus {
        let mut cumulative = Vec::with_capacity(pools.len());
        let mut total = 0;
        for p in &pools {
            total += p.len();
            cumulative.push(total);
        }
        Corpus {
            pools,
            cumulative,
            source,
        }
    }

    /// Sentences in all pools.
    pub fn len(&self) -> usize {
        self.cumulative.last().copied().unwrap_or(0)
    }

    /// The original article for `seed`: 4–14 blocks of 1–5 sentences from one language's pool,
    /// with an occasional subheading or quote, and a headline made from another sentence.
    pub fn article(&self, seed: u64) -> Text {
        let mut rng = StdRng::seed_from_u64(seed ^ 0xa871_c1e5);
        let pick = rng.random_range(0..self.len());
        let lang = self.cumulative.partition_point(|&c| c <= pick);
        let pool = &self.pools[lang];
        let sentence = |rng: &mut StdRng| pool[rng.random_range(0..pool.len())].as_str();
        let title = headline(sentence(&mut rng), &mut rng);
        let n = rng.random_range(4..15);
        let mut blocks = Vec::with_capacity(n);
        for i in 0..n {
            let roll = rng.random_range(0..12);
            if i > 1 && roll == 0 {
                blocks.push(Block::Heading(headline(sentence(&mut rng), &mut rng)));
            } else if i > 0 && roll == 1 {
                blocks.push(Block::Quote(sentence(&mut rng).to_string()));
            } else {
                let k = rng.random_range(1..6);
                let para: Vec<&str> = (0..k).map(|_| sentence(&mut rng)).collect();
                blocks.push(Block::Para(para.join(" ")));
            }
        }
        // A body must end with prose, not a heading.
        if matches!(blocks.last(), Some(Block::Heading(_))) {
            blocks.push(Block::Para(sentence(&mut rng).to_string()));
        }
        Text { title, blocks }
    }

    /// A republished copy of `original`: a new headline and light edits, as syndication and
    /// republication make them (a trimmed last paragraph, a promo line, one word changed).
    pub fn copy(&self, original: &Text, seed: u64) -> Text {
        let mut rng = StdRng::seed_from_u64(seed ^ 0xc0b1_e5ed);
        let mut blocks = original.blocks.clone();
        if blocks.len() >= 5 && rng.random_bool(0.5) {
            blocks.pop();
        }
        if rng.random_bool(0.5) {
            let i = rng.random_range(0..blocks.len());
            if let Block::Para(p) = &mut blocks[i] {
                let mut words: Vec<&str> = p.split(' ').collect();
                let w = rng.random_range(0..words.len());
                words[w] = "reportedly";
                *p = words.join(" ");
            }
        }
        if rng.random_bool(0.5) {
            blocks.push(Block::Para(
                "This story was first published by our partners and is republished with permission."
                    .to_string(),
            ));
        }
        let title = match rng.random_range(0..3) {
            0 => format!("UPDATE: {}", original.title),
            1 => format!("{} (report)", original.title),
            _ => {
                let pool = &self.pools[rng.random_range(0..self.pools.len())];
                headline(&pool[rng.random_range(0..pool.len())], &mut rng)
            }
        };
        Text { title, blocks }
    }
}

/// A headline from a sentence: its first 5–12 words, no final punctuation.
fn headline(sentence: &str, rng: &mut StdRng) -> String {
    let n = rng.random_range(5..13);
    let mut t: String = sentence
        .split_whitespace()
        .take(n)
        .collect::<Vec<_>>()
        .join(" ");
    while t.ends_with(|c: char| c.is_ascii_punctuation()) {
        t.pop();
    }
    capitalise(&mut t);
    t
}

fn capitalise(s: &mut String) {
    if let Some(c) = s.chars().next()
        && c.is_lowercase()
    {
        let up: String = c.to_uppercase().collect();
        s.replace_range(..c.len_utf8(), &up);
    }
}

/// Splits an article body into sentences of at least [`MIN_SENTENCE_WORDS`] words.
fn sentences(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    for para in body.split('\n') {
        let mut start = 0;
        let bytes = para.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            // "U.S. troops": a period after a capital letter is an abbreviation.
            let end = matches!(b, b'.' | b'!' | b'?')
                && bytes.get(i + 1).is_none_or(|&n| n == b' ')
                && !(i > 0 && bytes[i - 1].is_ascii_uppercase());
            if end {
                push_sentence(&mut out, &para[start..=i]);
                start = i + 1;
            }
        }
        push_sentence(&mut out, &para[start..]);
    }
    out
}

fn push_sentence(out: &mut Vec<String>, s: &str) {
    let s = s.trim();
    if s.split_whitespace().count() >= MIN_SENTENCE_WORDS && !s.contains('<') && !s.contains("http")
    {
        out.push(s.to_string());
    }
}

const NAMES: &[&str] = &[
    "Amara",
    "Bakary",
    "Chen",
    "Dubois",
    "Esther",
    "Fatou",
    "Garcia",
    "Hassan",
    "Ibrahim",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quinn",
    "Rossi",
    "Sow",
    "Traore",
    "Umar",
    "Vasquez",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zulu",
    "Niamey",
    "Bamako",
    "Dakar",
    "Lagos",
    "Geneva",
    "Brussels",
    "Reuters",
    "Parliament",
    "Senate",
];

const WORDS: &[&str] = &[
    "the",
    "a",
    "of",
    "to",
    "and",
    "in",
    "on",
    "for",
    "with",
    "by",
    "from",
    "after",
    "before",
    "government",
    "minister",
    "officials",
    "said",
    "says",
    "would",
    "could",
    "announced",
    "report",
    "reports",
    "city",
    "region",
    "country",
    "people",
    "residents",
    "police",
    "army",
    "talks",
    "agreement",
    "budget",
    "market",
    "prices",
    "rose",
    "fell",
    "percent",
    "week",
    "year",
    "month",
    "yesterday",
    "today",
    "election",
    "vote",
    "voters",
    "campaign",
    "court",
    "ruling",
    "judge",
    "case",
    "company",
    "shares",
    "investors",
    "growth",
    "economy",
    "bank",
    "rates",
    "inflation",
    "water",
    "drought",
    "rain",
    "harvest",
    "farmers",
    "schools",
    "students",
    "teachers",
    "hospital",
    "doctors",
    "health",
    "vaccine",
    "outbreak",
    "aid",
    "workers",
    "strike",
    "union",
    "protest",
    "crowd",
    "border",
    "troops",
    "ceasefire",
    "peace",
    "security",
    "attack",
    "village",
    "roads",
    "bridge",
    "project",
    "funding",
    "plan",
    "new",
    "old",
    "major",
    "local",
    "national",
    "international",
    "first",
    "last",
    "several",
    "many",
    "few",
    "more",
    "less",
    "than",
    "about",
    "over",
    "under",
    "while",
    "during",
    "because",
    "although",
    "however",
    "also",
    "still",
    "already",
    "only",
    "again",
    "expected",
    "planned",
    "delayed",
    "confirmed",
    "denied",
    "warned",
    "urged",
    "called",
    "asked",
    "told",
    "reporters",
    "statement",
    "spokesperson",
    "interview",
    "meeting",
    "summit",
    "leaders",
    "delegation",
    "president",
    "council",
    "committee",
    "mayor",
    "director",
    "analysts",
    "experts",
    "data",
    "figures",
    "survey",
    "study",
    "research",
    "energy",
    "oil",
    "gas",
    "power",
    "electricity",
    "fuel",
    "transport",
    "trade",
    "exports",
    "imports",
    "tariffs",
    "jobs",
    "unemployment",
    "wages",
    "housing",
    "rent",
    "families",
    "children",
    "women",
    "men",
    "youth",
    "community",
    "church",
    "mosque",
    "festival",
    "season",
    "team",
    "match",
    "coach",
    "players",
    "goal",
    "win",
    "loss",
    "draw",
    "league",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_split_on_final_punctuation_and_drop_short_ones() {
        let s = sentences(
            "One two three four five six. Short one. Seven eight nine ten eleven twelve!\nU.S. troops left the base on Monday morning early.",
        );
        assert_eq!(
            s,
            vec![
                "One two three four five six.",
                "Seven eight nine ten eleven twelve!",
                "U.S. troops left the base on Monday morning early."
            ]
        );
    }

    #[test]
    fn articles_are_deterministic_and_distinct() {
        let c = Corpus::synthetic(3000);
        assert_eq!(c.article(7), c.article(7));
        assert_ne!(c.article(7).blocks, c.article(8).blocks);
    }
}
