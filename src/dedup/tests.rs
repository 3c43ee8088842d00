//! Engine tests: the seed-site check, configuration, encoding, and properties of the rule.

use super::*;
use proptest::prelude::*;

const SEED_DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/fixtures/seed-site/expected/"
);

/// Body blocks of a seed article (clean-text format: title, blank line, blocks).
fn seed_blocks(slug: &str) -> Vec<String> {
    let path = format!("{SEED_DIR}{slug}.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let (_title, body) = text.split_once('\n').expect("title line");
    body.split("\n\n")
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .map(String::from)
        .collect()
}

fn engine() -> Engine {
    Engine::new(&DedupConfig::default()).expect("default config is valid")
}

/// The seed site (fixtures/seed-site/build.py): five distinct stories, three of them about
/// the same event, then two republished copies that must be found.
#[test]
fn seed_site_copies_are_found_and_same_event_stories_kept() {
    let engine = engine();
    let mut index = MemoryIndex::new(engine.clone());
    let originals = [
        "russia-burkina-faso-strategic-ties",
        "traore-moscow-visit",
        "burkina-faso-russia-instructors",
        "russia-strengthens-presence-burkina-faso",
        "burkina-faso-further-russian-assistance",
    ];
    for slug in originals {
        let fp = engine.fingerprint(&seed_blocks(slug).join("\n\n"));
        assert_eq!(
            index.check_and_insert(fp),
            None,
            "{slug} must be stored as new"
        );
    }

    // B5: straight quotes, last block dropped, a credit line added.
    let straighten = |s: &str| {
        s.replace(['\u{2019}', '\u{2018}'], "'")
            .replace(['\u{201c}', '\u{201d}'], "\"")
    };
    let instructors = seed_blocks("burkina-faso-russia-instructors");
    let mut b5: Vec<String> = instructors[..instructors.len() - 1]
        .iter()
        .map(|b| straighten(b))
        .collect();
    b5.push("This article was originally published by the Ouaga Observer and is republished with permission.".into());
    let (original, similarity) = index
        .check_and_insert(engine.fingerprint(&b5.join("\n\n")))
        .expect("B5 is a copy");
    assert_eq!(
        original, 2,
        "B5 copies burkina-faso-russia-instructors (similarity {similarity})"
    );

    // B6: five copy edits and a read-more promo line at index 3.
    let edits = [
        (
            "In a rare, behind-the-scenes conversation",
            "In a rare behind-the-scenes conversation",
        ),
        (
            "hinted at the deepening ties",
            "pointed to the deepening ties",
        ),
        (
            "a relationship he described as",
            "a relationship that he described as",
        ),
        (
            "has since sparked speculation",
            "has since fuelled speculation",
        ),
        ("remained tight-lipped", "stayed tight-lipped"),
    ];
    let mut b6 = seed_blocks("russia-burkina-faso-strategic-ties");
    for (old, new) in edits {
        let hits: Vec<usize> = (0..b6.len()).filter(|&i| b6[i].contains(old)).collect();
        assert_eq!(hits.len(), 1, "{old}");
        b6[hits[0]] = b6[hits[0]].replace(old, new);
    }
    b6.insert(
        3,
        "READ MORE: Sahel juntas look east as Western troops leave".into(),
    );
    let (original, similarity) = index
        .check_and_insert(engine.fingerprint(&b6.join("\n\n")))
        .expect("B6 is a copy");
    assert_eq!(
        original, 0,
        "B6 copies russia-burkina-faso-strategic-ties (similarity {similarity})"
    );
    assert_eq!(index.len(), 5);
}

#[test]
fn engine_and_index_can_be_shared_across_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<Engine>();
    shared::<MemoryIndex>();
    shared::<Fingerprint>();
}

#[test]
fn config_errors_name_the_key() {
    let bad = |cfg: DedupConfig| Engine::new(&cfg).unwrap_err().to_string();
    let msg = bad(DedupConfig {
        bands: 16,
        ..DedupConfig::default()
    });
    assert!(
        msg.contains("dedup.bands × dedup.rows must be 128"),
        "{msg}"
    );
    let msg = bad(DedupConfig {
        fact_threshold: 1.5,
        ..DedupConfig::default()
    });
    assert!(msg.starts_with("dedup.fact_threshold"), "{msg}");
    let msg = bad(DedupConfig {
        shingle_words: 0,
        ..DedupConfig::default()
    });
    assert!(msg.starts_with("dedup.shingle_words"), "{msg}");
    let cfg: DedupConfig = serde_json::from_str(r#"{"jaccard_threshold": 0.6}"#).unwrap();
    assert_eq!(
        cfg,
        DedupConfig {
            jaccard_threshold: 0.6,
            ..DedupConfig::default()
        }
    );
    assert!(serde_json::from_str::<DedupConfig>(r#"{"jacard_threshold": 0.6}"#).is_err());
}

#[test]
fn fingerprint_bytes_round_trip_and_are_versioned() {
    let engine = engine();
    let fp = engine.fingerprint(&seed_blocks("traore-moscow-visit").join("\n\n"));
    assert!(fp.fact_count() > 5 && fp.shingle_count() > 100);
    let bytes = fp.to_bytes();
    assert_eq!(bytes[0], 1);
    let back = Fingerprint::from_bytes(&bytes).unwrap();
    assert_eq!(back, fp);
    assert_eq!(engine.band_keys(&back), engine.band_keys(&fp));
    assert_eq!(engine.band_keys(&fp).len(), 32 + LEAD_BANDS);

    let mut newer = bytes.clone();
    newer[0] = 2;
    assert!(matches!(
        Fingerprint::from_bytes(&newer),
        Err(DedupError::Version {
            found: 2,
            supported: 1
        })
    ));
    assert!(matches!(
        Fingerprint::from_bytes(&bytes[..bytes.len() - 1]),
        Err(DedupError::Corrupt(_))
    ));
    assert!(matches!(
        Fingerprint::from_bytes(&[]),
        Err(DedupError::Corrupt(_))
    ));
}

#[test]
fn empty_bodies_never_match() {
    let engine = engine();
    let c = engine.compare(&engine.fingerprint(""), &engine.fingerprint(" \n\n "));
    assert!(!c.is_duplicate);
    assert_eq!(engine.band_keys(&engine.fingerprint("")).len(), 32);
}

#[test]
fn band_keys_of_different_bands_differ_by_construction() {
    let engine = engine();
    let keys = engine.band_keys(&engine.fingerprint("one two three four five six"));
    for (band, key) in keys.iter().enumerate() {
        assert_eq!(*key & 0x7f, band as u64);
    }
}

#[test]
fn template_with_other_names_and_figures_is_not_a_copy() {
    let engine = engine();
    let wrap = "Shares in Acme Holdings rose 4.5 per cent to 312 cents on Tuesday after the company \
                told investors in Sydney that profit would reach 48 million dollars for the year. \
                The broader market was steady in early trade, with gains in the energy and materials \
                sectors offset by losses among the banks and the big retailers, while bond yields \
                were little changed ahead of the central bank meeting later this week. Chief \
                executive John Smith said the result showed the benefit of the cost program, and \
                that Acme expected Westpac to back the 2024 expansion plan.";
    let other = wrap
        .replace("Acme Holdings", "Boral Industries")
        .replace("Acme", "Boral")
        .replace("4.5", "2.1")
        .replace("312", "188")
        .replace("Sydney", "Perth")
        .replace("48", "17")
        .replace("John Smith", "Mary Jones")
        .replace("Westpac", "Macquarie")
        .replace("2024", "2025");
    let c = engine.compare(&engine.fingerprint(&other), &engine.fingerprint(wrap));
    assert!(
        c.jaccard > 0.3 && c.fact_overlap < 0.2 && !c.is_duplicate,
        "{c:?}"
    );
    let copy = wrap.replace("for the year", "for the full year");
    assert!(
        engine
            .compare(&engine.fingerprint(&copy), &engine.fingerprint(wrap))
            .is_duplicate
    );
}

/// A word of a generated article: lower-case, capitalised, a number, quoted, or a dash.
fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[a-z]{2,9}",
        2 => "[A-Z][a-z]{2,8}",
        1 => "[0-9]{1,4}",
        1 => "[a-z]{2,6}[.,]",
        1 => "\"[a-z]{2,7}\"",
        1 => "[a-z]{2,5}'s",
        1 => Just("-".to_string()),
    ]
}

/// An article body: 1–6 blocks of 3–40 words.
fn body() -> impl Strategy<Value = Vec<Vec<String>>> {
    prop::collection::vec(prop::collection::vec(word(), 3..40), 1..6)
}

fn render(blocks: &[Vec<String>]) -> String {
    blocks
        .iter()
        .map(|b| b.join(" "))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The same body with different typography: each word gap one of several whitespace forms,
/// curly quotes, typographic dashes, and zero-width characters inside words.
fn reformat(blocks: &[Vec<String>], choices: &[u8]) -> String {
    let mut pick = choices.iter().cycle().copied();
    let blocks: Vec<String> = blocks
        .iter()
        .map(|words| {
            let mut out = String::new();
            for (i, w) in words.iter().enumerate() {
                if i > 0 {
                    out.push_str(
                        ["  ", "\u{00A0}", "\n", " \u{200B}", "\t", " "]
                            [usize::from(pick.next().unwrap_or(0)) % 6],
                    );
                }
                let mut w = match pick.next().unwrap_or(0) % 3 {
                    0 => w
                        .replacen('"', "\u{201C}", 1)
                        .replacen('"', "\u{201D}", 1)
                        .replace('\'', "\u{2019}"),
                    1 if w == "-" => "\u{2014}".to_string(),
                    _ => w.clone(),
                };
                if w.len() > 2 && w.is_ascii() && pick.next().unwrap_or(0) % 4 == 0 {
                    w.insert(1, '\u{200B}');
                }
                out.push_str(&w);
            }
            out
        })
        .collect();
    blocks.join("\n\n")
}

proptest! {
    // No regression files: a failure prints its minimal input, and tests must not write to src/.
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn identical_texts_always_match(blocks in body()) {
        let engine = engine();
        let text = render(&blocks);
        prop_assume!(text.chars().any(char::is_alphanumeric));
        let c = engine.compare(&engine.fingerprint(&text), &engine.fingerprint(&text));
        prop_assert!(c.is_duplicate);
        prop_assert_eq!(c.similarity, 1.0);
        let mut index = MemoryIndex::new(engine.clone());
        prop_assert_eq!(index.check_and_insert(engine.fingerprint(&text)), None);
        prop_assert_eq!(index.check_and_insert(engine.fingerprint(&text)), Some((0, 1.0)));
    }

    #[test]
    fn typography_never_changes_a_decision(
        a in body(),
        b in body(),
        keep in 0usize..6,
        choices in prop::collection::vec(any::<u8>(), 1..64),
    ) {
        let engine = engine();
        // Compare A with a partial copy of it (some blocks of A, then B), in both typographies.
        let mixed: Vec<Vec<String>> = a.iter().take(keep).chain(&b).cloned().collect();
        let original = engine.fingerprint(&render(&a));
        let plain = engine.fingerprint(&render(&mixed));
        let styled = engine.fingerprint(&reformat(&mixed, &choices));
        prop_assert_eq!(&styled, &plain);
        prop_assert_eq!(engine.compare(&styled, &original), engine.compare(&plain, &original));
    }

    #[test]
    fn unrelated_texts_never_match(a in body(), b in body()) {
        let engine = engine();
        let (ta, tb) = (render(&a), render(&b));
        // Random word sequences share no 5-word run unless one is nearly the other.
        prop_assume!(ta.len() > 200 && tb.len() > 200 && ta != tb);
        let c = engine.compare(&engine.fingerprint(&ta), &engine.fingerprint(&tb));
        prop_assert!(!c.is_duplicate, "{:?}", c);
    }
}
