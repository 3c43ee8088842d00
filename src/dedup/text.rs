//! Text normalisation, tokenisation and fact extraction, in one pass over the body.
//!
//! Normalisation (DESIGN §4): NFKC, zero-width characters dropped, case-folded, typographic
//! quotes and dashes folded to ASCII, `\w+` tokens. Tokens are never materialised as strings:
//! each one is folded into a reused buffer and hashed (XXH3-64, seeded), because allocating
//! hundreds of small strings per article would dominate the cost of the whole stage.
//!
//! Facts are what tells a copy from a template story (same wording, other names and figures):
//! numbers, and capitalised words that do not start a sentence. They are collected from the
//! same scan, before case folding erases the capital.

use std::borrow::Cow;

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// Seed of the token hash; part of the fingerprint format (changing it needs a new version).
const TOKEN_SEED: u64 = 0x6e65_7773_645f_746b; // "newsd_tk"
/// Seed of number facts, distinct from word facts so "2024" the number and a word never meet.
const NUMBER_SEED: u64 = 0x6e65_7773_645f_6e6d; // "newsd_nm"

/// Output of [`scan`]: token hashes in text order, the (unsorted, repeated) fact hashes, and
/// where the lead starts: the first token of the first block that is not furniture.

#[derive(Debug, Default)]
pub(crate) struct Scan {
    pub tokens: Vec<u64>,
    pub facts: Vec<u32>,
    pub lead_start: Option<usize>,
}

/// NFKC-normalises `text`, borrowing it when it already is (always true for ASCII).
pub(crate) fn nfkc(text: &str) -> Cow<'_, str> {
    if text.is_ascii() || is_nfkc_quick(text.chars()) == IsNormalized::Yes {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.nfkc().collect())
    }
}

/// Folds typographic variants to the character a copy editor would consider the same, and
/// drops invisible characters (`None`), which would otherwise split a word in two.
#[inline]
fn fold(c: char) -> Option<char> {
    if c.is_ascii() {
        return Some(c);
    }
    match c {
        '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}' => None,
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '\u{02BC}' => Some('\''),
        '\u{201C}'..='\u{201F}' | '\u{2033}' | '\u{00AB}' | '\u{00BB}' => Some('"'),
        '\u{2010}'..='\u{2015}' | '\u{2212}' => Some('-'),
        // NFKC already turned no-break and other compatibility spaces into U+0020.
        c => Some(c),
    }
}

/// `\w` as in Unicode regular expressions: letters, digits, combining marks, connector `_`.
#[inline]
fn is_word(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric() || c == '_'
    } else {
        c.is_alphanumeric() || unicode_normalization::char::is_combining_mark(c)
    }
}

/// Appends the case-folded form of `c` (full lowercase plus the two folds lowercase misses).
#[inline]
fn push_folded(buf: &mut String, c: char) {
    if c.is_ascii() {
        buf.push(c.to_ascii_lowercase());
        return;
    }
    for l in c.to_lowercase() {
        match l {
            'ß' => buf.push_str("ss"),
            'ς' => buf.push('σ'),
            l => buf.push(l),
        }
    }
}

/// Capitalised words that carry no fact: function words that start quotes or clauses,
/// honorifics, and calendar names (every story has a Monday).
fn is_stop(folded: &str) -> bool {
    matches!(
        folded,
        "a" | "an"
            | "and"
            | "as"
            | "at"
            | "but"
            | "by"
            | "for"
            | "from"
            | "he"
            | "her"
            | "his"
            | "i"
            | "if"
            | "in"
            | "it"
            | "its"
            | "my"
            | "no"
            | "not"
            | "of"
            | "on"
            | "or"
            | "our"
            | "she"
            | "so"
            | "that"
            | "the"
            | "their"
            | "there"
            | "these"
            | "they"
            | "this"
            | "those"
            | "to"
            | "we"
            | "what"
            | "when"
            | "where"
            | "who"
            | "why"
            | "with"
            | "yes"
            | "you"
            | "your"
            | "mr"
            | "mrs"
            | "ms"
            | "dr"
            | "prof"
            | "sir"
            | "monday"
            | "tuesday"
            | "wednesday"
            | "thursday"
            | "friday"
            | "saturday"
            | "sunday"
            | "january"
            | "february"
            | "march"
            | "april"
            | "may"
            | "june"
            | "july"
            | "august"
            | "september"
            | "october"
            | "november"
            | "december"
    )
}

/// Tokens after which a full stop does not end the sentence ("Mr. Smith", "J. Smith").
fn is_abbrev(folded: &str) -> bool {
    folded.chars().nth(1).is_none()
        || matches!(
            folded,
            "mr" | "mrs"
                | "ms"
                | "dr"
                | "st"
                | "jr"
                | "sr"
                | "prof"
                | "gen"
                | "col"
                | "lt"
                | "sgt"
                | "capt"
                | "gov"
                | "sen"
                | "rep"
                | "inc"
                | "ltd"
                | "co"
                | "corp"
                | "no"
                | "vs"
                | "jan"
                | "feb"
                | "mar"
                | "apr"
                | "jun"
                | "jul"
                | "aug"
                | "sep"
                | "sept"
                | "oct"
                | "nov"
                | "dec"
        )
}

/// The separator run between two tokens, summarised.
#[derive(Default)]
struct Sep {
    len: u32,
    last: char,
    terminator: bool,
    space: bool,
    newlines: u32,
}

/// The token being read: its folded text and what its first character said.
#[derive(Default)]
struct Token {
    text: String,
    capital: bool,
    digit: bool,
    sentence_start: bool,
}

/// Scans an NFKC-normalised body into token hashes and fact hashes.
///
/// A token starts a sentence when it is the first of the body or of a block (a blank line
/// before it), or when `.`, `!`, `?` or `:` and whitespace precede it and the previous token is
/// not an abbreviation (quotes and brackets may come between, other marks may not). A single line break is not a boundary: hard-wrapped copies must give
/// the same facts as the original. A number fact is a digit-led token joined with the
/// following ones across single `.` or `,` separators ("1,250.5" is one fact, the comma
/// dropped, so a reformatted thousands separator stays the same fact).
pub(crate) fn scan(text: &str, min_block_words: usize, out: &mut Scan) {
    out.tokens.clear();
    out.facts.clear();
    out.lead_start = None;
    let mut block = Block::default();
    let mut tok = Token::default();
    let mut num = String::new();
    let mut sep = Sep::default();
    let mut prev_abbrev = false;

    for c in text.chars().filter_map(fold) {
        if is_word(c) {
            if tok.text.is_empty() {
                tok.digit = c.is_ascii_digit();
                if tok.digit && sep.len == 1 && matches!(sep.last, '.' | ',') {
                    if sep.last == '.' {
                        num.push('.');
                    }
                } else {
                    emit_number(&mut num, &mut out.facts);
                }
                if sep.newlines >= 2 {
                    block.end(min_block_words, out);
                }
                tok.sentence_start = out.tokens.is_empty()
                    || sep.newlines >= 2
                    || (sep.terminator && (sep.space || sep.newlines > 0) && !prev_abbrev);
                tok.capital = c.is_uppercase();
                sep = Sep::default();
            }
            push_folded(&mut tok.text, c);
        } else {
            if !tok.text.is_empty() {
                prev_abbrev = end_token(&mut tok, &mut num, out);
            }
            sep.len += 1;
            sep.last = c;
            match c {
                '.' | '!' | '?' | ':' => sep.terminator = true,
                '\n' => sep.newlines += 1,
                c if c.is_whitespace() => sep.space = true,
                '"' | '\'' | '(' | ')' | '[' | ']' => {}
                // "said. - Veeam", "1. 2": a dash or other mark after the stop continues.
                _ => sep.terminator = false,
            }
        }
    }
    if !tok.text.is_empty() {
        end_token(&mut tok, &mut num, out);
    }
    emit_number(&mut num, &mut out.facts);
    block.finish(min_block_words, out);
}

/// Where the current block (paragraph) began in the output, and where the current run of
/// short blocks began.
#[derive(Default)]
struct Block {
    first_token: usize,
    first_fact: usize,
    short_run_facts: Option<usize>,
}

impl Block {
    /// Closes a block. Short blocks at the top and bottom of a body (bylines, datelines,
    /// credits, tag and promo lines: furniture) keep their tokens but not their facts, because
    /// such lines name outlets and people that differ between copies of one story and repeat
    /// across different stories of one outlet; nor can they start the lead. Short blocks
    /// between paragraphs are subheadings and keep their facts.
    fn end(&mut self, min_words: usize, out: &mut Scan) {
        if out.tokens.len() - self.first_token >= min_words {
            self.short_run_facts = None;
            out.lead_start.get_or_insert(self.first_token);
        } else if out.lead_start.is_none() {
            out.facts.truncate(self.first_fact);
        } else {
            self.short_run_facts.get_or_insert(self.first_fact);
        }
        self.first_token = out.tokens.len();
        self.first_fact = out.facts.len();
    }

    /// Closes the body: drops the facts of its trailing furniture.
    fn finish(&mut self, min_words: usize, out: &mut Scan) {
        self.end(min_words, out);
        if let Some(start) = self.short_run_facts {
            out.facts.truncate(start);
        }
    }
}

/// Hashes the finished token, records its fact, and tells whether it is an abbreviation.
fn end_token(tok: &mut Token, num: &mut String, out: &mut Scan) -> bool {
    let h = xxh3_64_with_seed(tok.text.as_bytes(), TOKEN_SEED);
    out.tokens.push(h);
    if tok.digit {
        num.push_str(&tok.text);
    } else if tok.capital && !tok.sentence_start && !is_stop(&tok.text) {
        out.facts.push((h >> 32) as u32);
    }
    let abbrev = is_abbrev(&tok.text);
    tok.text.clear();
    abbrev
}

fn emit_number(num: &mut String, facts: &mut Vec<u32>) {
    if !num.is_empty() {
        facts.push(xxh3_64_with_seed(num.as_bytes(), NUMBER_SEED) as u32);
        num.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<u64> {
        let mut s = Scan::default();
        scan(&nfkc(text), 0, &mut s);
        s.tokens
    }

    fn facts(text: &str) -> Vec<u32> {
        let mut s = Scan::default();
        scan(&nfkc(text), 0, &mut s);
        s.facts.sort_unstable();
        s.facts.dedup();
        s.facts
    }

    fn word(w: &str) -> u32 {
        (xxh3_64_with_seed(w.as_bytes(), TOKEN_SEED) >> 32) as u32
    }

    fn number(n: &str) -> u32 {
        xxh3_64_with_seed(n.as_bytes(), NUMBER_SEED) as u32
    }

    fn sorted(mut v: Vec<u32>) -> Vec<u32> {
        v.sort_unstable();
        v
    }

    #[test]
    fn normalisation_folds_case_width_quotes_and_invisibles() {
        let plain = tokens("Don't say \"cafe\" - it's the CAFE 12");
        assert_eq!(
            tokens("don\u{2019}t SAY \u{201C}cafe\u{201D} \u{2014} it\u{2019}s the cafe 12"),
            plain
        );
        assert_eq!(
            tokens("Don't say \"ca\u{200B}fe\" - it's the CAFE \u{FF11}\u{FF12}"),
            plain
        );
        assert_eq!(
            tokens("Don't\u{00A0}say\n\"cafe\"   -   it's the\tCAFE 12  "),
            plain
        );
        // NFD input composes to the same tokens as NFC input.
        assert_eq!(
            tokens("Caf\u{0065}\u{0301} cr\u{00E8}me"),
            tokens("CAF\u{00C9} CR\u{00C8}ME")
        );
        assert_eq!(tokens("Straße"), tokens("STRASSE"));
        assert_eq!(
            tokens("snake_case word"),
            vec![
                xxh3_64_with_seed(b"snake_case", TOKEN_SEED),
                xxh3_64_with_seed(b"word", TOKEN_SEED),
            ]
        );
        assert!(tokens(" \u{200B} -- \n\n ").is_empty());
    }

    #[test]
    fn facts_are_numbers_and_mid_sentence_capitals() {
        let f = facts(
            "The minister met Lavrov in Moscow on Monday. Talks lasted 3.5 hours and cost 1,250 roubles.\n\nRussia said: Yes.",
        );
        assert_eq!(
            f,
            sorted(vec![
                word("lavrov"),
                word("moscow"),
                number("3.5"),
                number("1250")
            ])
        );
    }

    #[test]
    fn abbreviations_and_hard_wraps_do_not_start_sentences() {
        assert_eq!(
            facts("We met Mr. Smith and J. Doe."),
            sorted(vec![word("smith"), word("doe")])
        );
        assert_eq!(
            facts("It reached\nOuagadougou today"),
            vec![word("ouagadougou")]
        );
        assert!(facts("It ended.\nOuagadougou was calm").is_empty());
        assert!(facts("It ended\n\nOuagadougou was calm").is_empty());
    }
}
