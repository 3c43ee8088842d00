//! Text normalisation, tokenisation and fact extraction, in one pass over the body.
//!
//! Normalisation (DESIGN §4): NFKC, zero-width characters dropped, case-folded, typographic
//! quotes and dashes folded to ASCII, `\w+` tokens. Tokens are never materialised as owned
//! strings: a lower-case ASCII word is hashed (XXH3-64, seeded) where it lies in the text,
//! any other token is folded into one reused buffer first; runs of ASCII — nearly all of an
//! English article — are handled a word at a time, not a character at a time. This pass is
//! most of the cost of fingerprinting.
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
    /// Hashes of the whole token sequence and of its wording.
    pub shape: Shape,
    /// What each token is, recorded only when `Some` before the scan (the swap check of
    /// `verify` needs it; fingerprinting does not).
    pub detail: Option<Detail>,
}

/// Two hashes of a token sequence: of every token, and of its *wording*, the sequence with each
/// run of capitalised words and figures replaced by one placeholder. Texts that differ only in
/// their names and figures (a template story and its model) have the same wording and other
/// tokens; a copy that inserts, deletes or rewrites an ordinary word has another wording.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub tokens: u64,
    pub wording: u64,
}

impl Shape {
    /// Order-dependent mix of one more value into a running hash.
    #[inline]
    fn mix(acc: u64, v: u64) -> u64 {
        (acc.rotate_left(23) ^ v).wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }
}

/// Stands for a run of capitalised words and figures in [`Shape::wording`].
const RUN: u64 = 0x6e65_7773_645f_7275; // "newsd_ru"

/// Per-token detail of a scan: the folded text and the kind of every token.
#[derive(Debug, Default)]
pub(crate) struct Detail {
    /// Folded token texts, concatenated; token `i` is `text[ends[i - 1]..ends[i]]`.
    pub text: String,
    pub ends: Vec<u32>,
    pub kinds: Vec<Kind>,
}

impl Detail {
    /// Folded text of token `i`.
    pub fn token(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.text[start..self.ends[i] as usize]
    }
}

/// What a token is to the fact check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A capitalised word that gives a name fact (wherever it is: furniture keeps its kind).
    Name,
    /// A digit-led token, part of a number fact.
    Number,
    /// Another capitalised word (starting a sentence, a function word, an initial).
    Capital,
    /// Anything else.
    Word,
}

/// NFKC-normalises `text`, borrowing it when it already is.
///
/// Only the non-ASCII runs (each with the character before it, which a combining mark could
/// compose with) are checked and normalised: ASCII is its own NFKC form and no composition
/// ends in an ASCII character, so normalising run by run equals normalising the whole text,
/// at a fraction of the cost when an English text holds a few curly quotes.
pub(crate) fn nfkc(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0; // text[..copied] is in `out` (or needs no change so far)
    let mut i = 0;
    while let Some(off) = bytes[i..].iter().position(|b| !b.is_ascii()) {
        let start = (i + off).saturating_sub(1).max(copied);
        let end = bytes[i + off..]
            .iter()
            .position(u8::is_ascii)
            .map_or(bytes.len(), |n| i + off + n);
        let run = &text[start..end];
        if is_nfkc_quick(run.chars()) != IsNormalized::Yes {
            let out = out.get_or_insert_with(|| String::with_capacity(text.len() + 16));
            out.push_str(&text[copied..start]);
            out.extend(run.nfkc());
            copied = end;
        }
        i = end;
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut out) => {
            out.push_str(&text[copied..]);
            Cow::Owned(out)
        }
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
pub(crate) fn is_stop(folded: &str) -> bool {
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
    folded.len() <= 4
        && (folded.chars().nth(1).is_none()
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
            ))
}

/// The separator run between two tokens, summarised.
#[derive(Default)]
struct Sep {
    len: u32,
    last: char,
    terminator: bool,
    space: bool,
    newline: bool,
    /// Characters other than whitespace since the last line break.
    ink: bool,
    /// A line with nothing but whitespace: the end of a block.
    blank_line: bool,
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
}

/// ASCII bytes of `\w`: letters, digits, `_`.
static ASCII_WORD: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 128 {
        t[b] = (b as u8).is_ascii_alphanumeric() || b == b'_' as usize;
        b += 1;
    }
    t
};

/// Scanner state: the output, the token being read, the pending number, the separator.
struct Scanner<'a> {
    out: &'a mut Scan,
    min_block_words: usize,
    block: Block,
    /// Folded text of the token being read (empty between tokens).
    token: String,
    capital: bool,
    digit: bool,
    sentence_start: bool,
    prev_abbrev: bool,
    /// Whether the last token was capitalised or a figure (inside a run, for the wording).
    in_run: bool,
    /// Digits of the number fact being read, which may span several tokens.
    number: String,
    sep: Sep,
}

/// Scans an NFKC-normalised body into token hashes and fact hashes.
///
/// A block ends at a blank line. A token starts a sentence when it is the first of the body or
/// of a block, or when `.`, `!`, `?` or `:` and whitespace precede it and the previous token is
/// not an abbreviation (quotes and brackets may come between, other marks may not). A single
/// line break is neither: hard-wrapped copies must give the same facts as the original.
/// Capitalised words of one letter (initials, "I") are not facts. A number fact is a
/// digit-led token joined with the following ones across single `.` or `,` separators
/// ("1,250.5" is one fact, the comma dropped, so a reformatted thousands separator stays the
/// same fact).
pub(crate) fn scan(text: &str, min_block_words: usize, out: &mut Scan) {
    out.tokens.clear();
    out.tokens.reserve(text.len() / 5);
    out.facts.clear();
    out.lead_start = None;
    out.shape = Shape::default();
    if let Some(d) = &mut out.detail {
        d.text.clear();
        d.ends.clear();
        d.kinds.clear();
    }
    let mut s = Scanner {
        out,
        min_block_words,
        block: Block::default(),
        token: String::with_capacity(32),
        capital: false,
        digit: false,
        sentence_start: false,
        prev_abbrev: false,
        in_run: false,
        number: String::new(),
        sep: Sep::default(),
    };
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if ASCII_WORD[usize::from(b)] {
            let end = bytes[i..]
                .iter()
                .position(|&b| !ASCII_WORD[usize::from(b)])
                .map_or(bytes.len(), |n| i + n);
            let next = bytes.get(end).copied();
            if s.token.is_empty() && next.is_none_or(|n| n.is_ascii()) {
                // A whole token in ASCII, the common case: hashed in place.
                s.ascii_token(&text[i..end], next == Some(b'.'));
            } else {
                s.ascii_word(&text[i..end]);
            }
            i = end;
        } else if b == b' ' && s.sep.len == 0 {
            // The usual gap between two words: one space.
            s.end_token(false);
            s.sep.len = 1;
            s.sep.last = ' ';
            s.sep.space = true;
            i += 1;
        } else if b.is_ascii() {
            s.separator(char::from(b));
            i += 1;
        } else {
            let c = text[i..].chars().next().expect("i is on a char boundary");
            i += c.len_utf8();
            match fold(c) {
                None => {}
                Some(c) if is_word(c) => s.word_char(c),
                Some(c) => s.separator(c),
            }
        }
    }
    s.finish();
}

impl Scanner<'_> {
    /// A run of ASCII word characters: starts or continues the current token.
    fn ascii_word(&mut self, run: &str) {
        if self.token.is_empty() {
            let first = char::from(run.as_bytes()[0]);
            self.start_token(first.is_ascii_uppercase(), first.is_ascii_digit());
        }
        let from = self.token.len();
        self.token.push_str(run);
        self.token[from..].make_ascii_lowercase();
    }

    /// A whole token made of one ASCII run; `full_stop` tells whether a `.` follows.
    fn ascii_token(&mut self, run: &str, full_stop: bool) {
        let first = run.as_bytes()[0];
        self.start_token(first.is_ascii_uppercase(), first.is_ascii_digit());
        if run.bytes().any(|b| b.is_ascii_uppercase()) {
            self.token.push_str(run);
            self.token.make_ascii_lowercase();
            self.end_token(full_stop);
        } else {
            self.record_token(run, full_stop);
        }
    }

    fn word_char(&mut self, c: char) {
        if self.token.is_empty() {
            self.start_token(c.is_uppercase(), c.is_ascii_digit());
        }
        push_folded(&mut self.token, c);
    }

    fn start_token(&mut self, capital: bool, digit: bool) {
        let sep = std::mem::take(&mut self.sep);
        if digit && sep.len == 1 && matches!(sep.last, '.' | ',') {
            if sep.last == '.' {
                self.number.push('.');
            }
        } else if !self.number.is_empty() {
            emit_number(&mut self.number, &mut self.out.facts);
        }
        if sep.blank_line {
            self.block.end(self.min_block_words, self.out);
        }
        self.sentence_start = self.out.tokens.is_empty()
            || sep.blank_line
            || (sep.terminator && (sep.space || sep.newline) && !self.prev_abbrev);
        self.capital = capital;
        self.digit = digit;
    }

    /// Hashes the finished token (if any) and records its fact; `full_stop` says whether a `.`
    /// follows it at once, the only case where it matters that it is an abbreviation.
    fn end_token(&mut self, full_stop: bool) {
        if self.token.is_empty() {
            return;
        }
        let mut token = std::mem::take(&mut self.token);
        self.record_token(&token, full_stop);
        token.clear();
        self.token = token;
    }

    /// Hashes a finished, folded token and records its fact.
    fn record_token(&mut self, token: &str, full_stop: bool) {
        self.prev_abbrev = full_stop && is_abbrev(token);
        let h = xxh3_64_with_seed(token.as_bytes(), TOKEN_SEED);
        self.out.tokens.push(h);
        let shape = &mut self.out.shape;
        shape.tokens = Shape::mix(shape.tokens, h);
        if !(self.capital || self.digit) {
            shape.wording = Shape::mix(shape.wording, h);
        } else if !self.in_run {
            shape.wording = Shape::mix(shape.wording, RUN);
        }
        self.in_run = self.capital || self.digit;
        let kind = if self.digit {
            self.number.push_str(token);
            Kind::Number
        } else if self.capital
            && !self.sentence_start
            && token.chars().nth(1).is_some()
            && !is_stop(token)
        {
            self.out.facts.push((h >> 32) as u32);
            Kind::Name
        } else if self.capital {
            Kind::Capital
        } else {
            Kind::Word
        };
        if let Some(d) = &mut self.out.detail {
            d.text.push_str(token);
            d.ends.push(d.text.len() as u32);
            d.kinds.push(kind);
        }
    }

    fn separator(&mut self, c: char) {
        self.end_token(c == '.');
        let sep = &mut self.sep;
        sep.len += 1;
        sep.last = c;
        if c == '\n' {
            sep.blank_line |= sep.newline && !sep.ink;
            sep.newline = true;
            sep.ink = false;
            return;
        }
        sep.ink |= !c.is_whitespace();
        match c {
            '.' | '!' | '?' | ':' => sep.terminator = true,
            c if c.is_whitespace() => sep.space = true,
            '"' | '\'' | '(' | ')' | '[' | ']' => {}
            // "said. - Veeam", "1. 2": a dash or other mark after the stop continues.
            _ => sep.terminator = false,
        }
    }

    /// Ends the body: its last token, number and block; drops trailing furniture's facts.
    fn finish(mut self) {
        self.end_token(false);
        emit_number(&mut self.number, &mut self.out.facts);
        self.block.end(self.min_block_words, self.out);
        if let Some(start) = self.block.short_run_facts {
            self.out.facts.truncate(start);
        }
    }
}

#[inline]
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
    fn wording_leaves_out_names_and_figures_only() {
        let shape = |text: &str| {
            let mut s = Scan::default();
            scan(&nfkc(text), 0, &mut s);
            s.shape
        };
        let model = shape("Acme Holdings rose 12 per cent, said John Smith in Sydney.");
        for template in [
            "Globex rose 7 per cent, said Mary Jane Jones in Perth.",
            "ACME rose 12.5 per cent, said J. Smith in New South Wales.",
        ] {
            let s = shape(template);
            assert!(
                s.wording == model.wording && s.tokens != model.tokens,
                "{template}"
            );
        }
        // Typography is not wording; ordinary words are.
        let same = shape("Acme  Holdings rose 12 per\ncent, said John Smith in Sydney.");
        assert_eq!(same, model);
        for copy in [
            "Acme Holdings rose 12 per cent, John Smith said in Sydney.",
            "Acme Holdings rose 12 percent, said John Smith in Sydney.",
            "Acme Holdings rose 12 per cent, said John Smith in Sydney on Friday.",
            "Acme Holdings Rose 12 per cent, said John Smith in Sydney.",
        ] {
            assert_ne!(shape(copy).wording, model.wording, "{copy}");
        }
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
