//! Engine tests: the seed-site check, configuration, encoding, and properties of the rule.

use super::*;
use proptest::prelude::*;

const SEED_DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/fixtures/seed-site/expected/"
);

/// Headline and body blocks of a seed article (clean-text format: title, blank line, blocks).
fn seed_article(slug: &str) -> (String, Vec<String>) {
    let path = format!("{SEED_DIR}{slug}.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let (title, body) = text.split_once('\n').expect("title line");
    let blocks = body
        .split("\n\n")
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .map(String::from)
        .collect();
    (title.trim().to_string(), blocks)
}

fn seed_blocks(slug: &str) -> Vec<String> {
    seed_article(slug).1
}

fn seed_fingerprint(engine: &Engine, slug: &str) -> Fingerprint {
    let (title, blocks) = seed_article(slug);
    engine.fingerprint(&title, &blocks.join("\n\n"))
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
        let fp = seed_fingerprint(&engine, slug);
        assert_eq!(
            index.check_and_insert(fp),
            None,
            "{slug} must be stored as new"
        );
    }

    // The site's two wire copies, with their rewritten headlines.
    for (slug, of) in [
        ("wire-lavrov-instructors", 2),
        ("wire-russia-burkina-ties", 0),
    ] {
        let c = engine.compare(
            &seed_fingerprint(&engine, slug),
            &seed_fingerprint(&engine, originals[of]),
        );
        assert!(c.is_duplicate && !c.headline_conflict, "{slug}: {c:?}");
    }

    // B5: straight quotes, last block dropped, a credit line added, a wire headline prefix.
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
        .check_and_insert(engine.fingerprint(
            "UPDATE 1-Burkina Faso turns to Russia as Lavrov pledges more military instructors",
            &b5.join("\n\n"),
        ))
        .expect("B5 is a copy");
    assert_eq!(
        original, 2,
        "B5 copies burkina-faso-russia-instructors (similarity {similarity})"
    );

    // B6: five copy edits, a read-more promo line at index 3, the headline in capitals.
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
        .check_and_insert(engine.fingerprint(
            "RUSSIA AND BURKINA FASO DEEPEN STRATEGIC TIES | SAHEL WIRE",
            &b6.join("\n\n"),
        ))
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
    let fp = seed_fingerprint(&engine, "traore-moscow-visit");
    assert!(fp.fact_count() > 5 && fp.shingle_count() > 100);
    assert!(fp.headline_fact_count() >= 2, "{fp:?}");
    let bytes = fp.to_bytes();
    assert_eq!(bytes[0], 3);
    let back = Fingerprint::from_bytes(&bytes).unwrap();
    assert_eq!(back, fp);
    assert_eq!(engine.band_keys(&back), engine.band_keys(&fp));
    assert_eq!(engine.band_keys(&fp).len(), 32 + LEAD_BANDS);

    let mut newer = bytes.clone();
    newer[0] = 4;
    let err = Fingerprint::from_bytes(&newer).unwrap_err();
    assert!(matches!(
        err,
        DedupError::Version {
            found: 4,
            supported: 3
        }
    ));
    assert_eq!(
        err.to_string(),
        "fingerprint format version 4 is not supported (this build reads 3)"
    );

    // Version 2 (before the shape): the same layout without the two shape hashes. It reads as
    // the article without a shape, so the template check never fires on it, and is written
    // back as version 2.
    let mut v2 = bytes[..14].to_vec();
    v2[0] = 2;
    v2.extend_from_slice(&bytes[22..]);
    let shapeless = Fingerprint::from_bytes(&v2).unwrap();
    assert_eq!(
        shapeless,
        Fingerprint {
            shape: None,
            ..fp.clone()
        }
    );
    assert_eq!(shapeless.to_bytes(), v2);
    assert!(engine.compare(&shapeless, &fp).is_duplicate);
    assert!(!engine.compare(&shapeless, &fp).needs_text_check);

    // Version 1 (before headlines): version 2 without the three headline counts. It reads as
    // the article without its headline or shape, so neither check fires on it.
    let headless = engine.fingerprint("", &seed_blocks("traore-moscow-visit").join("\n\n"));
    let v3 = headless.to_bytes();
    let mut v1 = v3[..11].to_vec();
    v1[0] = 1;
    v1.extend_from_slice(&v3[22..]);
    assert_eq!(
        Fingerprint::from_bytes(&v1).unwrap(),
        Fingerprint {
            shape: None,
            ..headless
        }
    );
    assert!(matches!(
        Fingerprint::from_bytes(&v1[..v1.len() - 2]),
        Err(DedupError::Corrupt(_))
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
    let c = engine.compare(
        &engine.fingerprint("", ""),
        &engine.fingerprint("Same headline", " \n\n "),
    );
    assert!(!c.is_duplicate);
    assert_eq!(engine.band_keys(&engine.fingerprint("", "")).len(), 32);
}

#[test]
fn band_keys_of_different_bands_differ_by_construction() {
    let engine = engine();
    let keys = engine.band_keys(&engine.fingerprint("", "one two three four five six"));
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
    let c = engine.compare(
        &engine.fingerprint("", &other),
        &engine.fingerprint("", wrap),
    );
    assert!(
        c.jaccard > 0.3 && c.fact_overlap < 0.2 && !c.is_duplicate,
        "{c:?}"
    );
    let copy = wrap.replace("for the year", "for the full year");
    assert!(
        engine
            .compare(
                &engine.fingerprint("", &copy),
                &engine.fingerprint("", wrap)
            )
            .is_duplicate
    );
}

/// The model of the text-check tests: many names and figures, so that swapping one or two
/// leaves the fact sets overlapping as a copy's would.
const MODEL: &str = "Shares in Acme Holdings rose 4.5 per cent to 312 cents on Tuesday after the \
    company told investors in Sydney that profit would reach 48 million dollars. The broader \
    market was steady in early trade, with gains in the energy and materials sectors offset by \
    losses among the banks, while bond yields were little changed ahead of the Reserve Bank \
    meeting in Canberra. Chief executive John Smith said the result showed the benefit of the \
    cost program, and that Acme expected Westpac, Macquarie and the Commonwealth Bank to back \
    the 2024 expansion plan in Brisbane, Perth and Darwin.\n\nMarket Wrap by Jane Doe";

/// Whether `new` is taken for a copy of `old` once the text check has had its say.
fn copy_after_text_check(engine: &Engine, new: &str, old: &str) -> (bool, Comparison) {
    let c = engine.compare(&engine.fingerprint("", new), &engine.fingerprint("", old));
    let copy = c.is_duplicate && (!c.needs_text_check || engine.template_swaps(new, old).is_none());
    (copy, c)
}

#[test]
fn same_wording_with_other_names_or_figures_is_not_a_copy() {
    let engine = engine();
    // One name swapped (in two places), or two figures, in a text the fingerprints still call
    // a copy: a template story.
    for template in [
        MODEL.replace("John Smith", "Mary Jones"),
        MODEL.replace("Jane Doe", "Bill Hart"),
        MODEL
            .replace("Westpac", "Suncorp")
            .replace("Acme", "Globex"),
        MODEL.replace("4.5", "2.1").replace("312", "288"),
    ] {
        let (copy, c) = copy_after_text_check(&engine, &template, MODEL);
        assert!(
            c.is_duplicate && c.needs_text_check && !copy,
            "{template}: {c:?}"
        );
    }
    // Copies: the same text, a corrected figure, a misspelt name, an inserted sentence, the
    // byline dropped; only the pairs with the same wording need the texts.
    for (text, checked) in [
        (MODEL.to_string(), false),
        (MODEL.replace("312", "313"), true),
        (MODEL.replace("Westpac", "Wsetpac"), true),
        (MODEL.replace("John Smith", "John Smyth"), true),
        (
            MODEL.replace(
                " The broader",
                " A spokesperson did not comment. The broader",
            ),
            false,
        ),
        (MODEL.replace("\n\nMarket Wrap by Jane Doe", ""), false),
        (
            MODEL
                .replace("Jane Doe", "Bill Hart")
                .replace("steady", "calm"),
            false,
        ),
    ] {
        let (copy, c) = copy_after_text_check(&engine, &text, MODEL);
        assert!(copy && c.needs_text_check == checked, "{text}: {c:?}");
    }
    // The check can be turned off.
    let off = Engine::new(&DedupConfig {
        template_check: false,
        ..DedupConfig::default()
    })
    .unwrap();
    let (copy, _) = copy_after_text_check(&off, &MODEL.replace("John Smith", "Mary Jones"), MODEL);
    assert!(copy);
}

#[test]
fn the_index_offers_only_same_wording_pairs_to_the_text_check() {
    let engine = engine();
    let texts = [
        MODEL.to_string(),
        MODEL.replace("John Smith", "Mary Jones"),
        MODEL
            .replace("John Smith", "Mary Jones")
            .replace("steady", "calm"),
        MODEL.replace(
            " The broader",
            " A spokesperson did not comment. The broader",
        ),
    ];
    let mut index = MemoryIndex::new(engine.clone());
    let mut asked = Vec::new();
    let mut results = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        let found = index.check_and_insert_with(engine.fingerprint("", text), |original| {
            asked.push((i, original));
            engine.template_swaps(text, &texts[original]).is_none()
        });
        results.push(found.map(|(original, _)| original));
    }
    // The template is stored; its own copy (one word changed) is matched to it, the best
    // candidate, with no text check; so is the model's copy to the model.
    assert_eq!(results, [None, None, Some(1), Some(0)]);
    assert_eq!(asked, [(1, 0)]);
    // Without texts, the index takes the template for a copy.
    let mut plain = MemoryIndex::new(engine.clone());
    assert_eq!(
        plain.check_and_insert(engine.fingerprint("", &texts[0])),
        None
    );
    assert!(
        plain
            .check_and_insert(engine.fingerprint("", &texts[1]))
            .is_some()
    );
}

#[test]
fn headline_with_other_names_or_figures_is_not_a_copy() {
    let engine = engine();
    // The same body (boilerplate that names nobody), headlines of one wording about other
    // companies or other figures: template stories, told apart by the headline alone.
    let body = "The broader market was steady in early trade, with gains in the energy and \
                materials sectors offset by losses among the banks and the big retailers, while \
                bond yields were little changed ahead of the central bank meeting later this week.";
    let title = "Shares in Acme Holdings rise 4.5 per cent as profit beats forecasts";
    let original = engine.fingerprint(title, body);
    for other in [
        "Shares in Boral Industries rise 4.5 per cent as profit beats forecasts",
        "Shares in Acme Holdings rise 2.1 per cent as profit beats forecasts",
    ] {
        let c = engine.compare(&engine.fingerprint(other, body), &original);
        assert!(
            c.jaccard == 1.0 && c.headline_conflict && !c.is_duplicate,
            "{other}: {c:?}"
        );
    }
    // Copies rewrite the headline but keep its names and figures, or add some on one side.
    for copy in [
        title,
        "UPDATE 1-Shares in Acme Holdings rise 4.5 per cent as profit beats forecasts",
        "SHARES IN ACME HOLDINGS RISE 4.5 PER CENT AS PROFIT BEATS FORECASTS",
        "Shares In Acme Holdings Rise 4.5 Per Cent As Profit Beats Forecasts | Reuters",
        "Acme Holdings shares rise 4.5 per cent",
        "Markets steady ahead of the central bank meeting",
        "",
    ] {
        let c = engine.compare(&engine.fingerprint(copy, body), &original);
        assert!(c.is_duplicate && !c.headline_conflict, "{copy}: {c:?}");
    }
    // A wholly new headline about the same story: no shared wording, no veto.
    let c = engine.compare(
        &engine.fingerprint("Profit at Acme tops forecasts, says Smith", body),
        &engine.fingerprint("Boral backs Westpac expansion plan", body),
    );
    assert!(c.is_duplicate, "{c:?}");
    // The check can be turned off.
    let off = Engine::new(&DedupConfig {
        headline_novel_facts: 0,
        ..DedupConfig::default()
    })
    .unwrap();
    let c = off.compare(
        &off.fingerprint("Shares in Boral Industries rise 2.1 per cent", body),
        &off.fingerprint(title, body),
    );
    assert!(c.is_duplicate, "{c:?}");
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
        let c = engine.compare(&engine.fingerprint("", &text), &engine.fingerprint("", &text));
        prop_assert!(c.is_duplicate);
        prop_assert_eq!(c.similarity, 1.0);
        let mut index = MemoryIndex::new(engine.clone());
        prop_assert_eq!(index.check_and_insert(engine.fingerprint("", &text)), None);
        prop_assert_eq!(index.check_and_insert(engine.fingerprint("", &text)), Some((0, 1.0)));
    }

    #[test]
    fn rewritten_headlines_never_veto_a_copy(
        blocks in body(),
        title in prop::collection::vec(word(), 1..12),
        prefix in prop_oneof![Just(""), Just("UPDATE 1-"), Just("EXCLUSIVE: "), Just("BREAKING: ")],
        suffix in prop_oneof![Just(""), Just(" | Reuters"), Just(" - report"), Just(" (VIDEO)")],
        cut in 1usize..12,
        case in 0u8..3,
    ) {
        let engine = engine();
        let original = title.join(" ");
        // The story repeats its headline's names and figures (mid-sentence, in a paragraph).
        let text = format!(
            "Our correspondent reports that {original} according to people familiar with the \
             matter.\n\n{}",
            render(&blocks)
        );
        // The copy's headline: cut after some words, in another case, with a prefix and a suffix.
        let kept = title[..cut.min(title.len())].join(" ");
        let kept = match case {
            0 => kept,
            1 => kept.to_uppercase(),
            _ => kept
                .split(' ')
                .map(|w| {
                    let mut c = w.chars();
                    c.next().map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
                })
                .collect::<Vec<_>>()
                .join(" "),
        };
        let copy = format!("{prefix}{kept}{suffix}");
        let c = engine.compare(&engine.fingerprint(&copy, &text), &engine.fingerprint(&original, &text));
        prop_assert!(c.is_duplicate && !c.headline_conflict, "{:?} vs {:?}: {:?}", copy, original, c);
        // And a fingerprint survives its bytes, headline included.
        let fp = engine.fingerprint(&copy, &text);
        prop_assert_eq!(Fingerprint::from_bytes(&fp.to_bytes()).unwrap(), fp);
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
        let original = engine.fingerprint("Original headline", &render(&a));
        let plain = engine.fingerprint("A Headline", &render(&mixed));
        let styled = engine.fingerprint("A\u{00A0}Headline", &reformat(&mixed, &choices));
        prop_assert_eq!(&styled, &plain);
        prop_assert_eq!(engine.compare(&styled, &original), engine.compare(&plain, &original));
    }

    #[test]
    fn renamed_texts_are_never_copies(blocks in body(), which in any::<prop::sample::Index>()) {
        let engine = engine();
        let text = render(&blocks);
        // One capitalised word renamed wherever it occurs (ROT13: no letter stays in place, so
        // the new name is not a misspelling of the old); a template of the text that keeps its
        // other facts, as the fingerprints of a copy would.
        let rot13 = |w: &str| -> String {
            w.chars()
                .map(|c| match c {
                    'a'..='m' | 'A'..='M' => (c as u8 + 13) as char,
                    'n'..='z' | 'N'..='Z' => (c as u8 - 13) as char,
                    c => c,
                })
                .collect()
        };
        let names: Vec<&String> =
            blocks.iter().flatten().filter(|w| w.starts_with(char::is_uppercase)).collect();
        prop_assume!(!names.is_empty());
        let name = which.get(&names).to_string();
        let renamed: Vec<Vec<String>> = blocks
            .iter()
            .map(|b| b.iter().map(|w| if *w == name { rot13(w) } else { w.clone() }).collect())
            .collect();
        let other = render(&renamed);
        // A name, not a function word, and a new one found nowhere in the model (a chance
        // clash of random words would make it a moved word, not a swap).
        let words: std::collections::HashSet<String> =
            text.split_whitespace().map(str::to_lowercase).collect();
        prop_assume!(!text::is_stop(&name.to_lowercase()));
        prop_assume!(!words.contains(&rot13(&name).to_lowercase()));
        // Nor may the model keep the name in another case ("zcx," beside "Zcx"): a template
        // that leaves the old name in its text has not swapped it.
        let tokens = text
            .to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|t| *t == name.to_lowercase())
            .count();
        prop_assume!(tokens == names.iter().filter(|w| **w == &name).count());
        let (copy, c) = copy_after_text_check(&engine, &other, &text);
        prop_assert!(!copy, "{:?}", c);
    }

    #[test]
    fn unrelated_texts_never_match(a in body(), b in body()) {
        let engine = engine();
        let (ta, tb) = (render(&a), render(&b));
        // Random word sequences share no 5-word run unless one is nearly the other.
        prop_assume!(ta.len() > 200 && tb.len() > 200 && ta != tb);
        let c = engine.compare(&engine.fingerprint("", &ta), &engine.fingerprint("", &tb));
        prop_assert!(!c.is_duplicate, "{:?}", c);
    }
}
