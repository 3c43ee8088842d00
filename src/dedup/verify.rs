//! Text verification of a candidate copy: is it the same text with other names and figures?
//!
//! A template story (the daily market wrap, a results table, a press release with the blanks
//! filled in) keeps another story's wording and puts other names and figures into it, often
//! so few that the fingerprints — shingles, fact sets, lead — still say "copy". A copy of a
//! story is edited differently: words are inserted, deleted and rewritten around the story's
//! facts, a figure is corrected, a name misspelt, chrome added or dropped, but a name is not
//! swapped for another at the same place of otherwise identical text.
//!
//! So when the fingerprints call a pair a copy, the two texts are walked token by token, and
//! every difference must be a *swap* for the pair to be a template: a few capitalised words or
//! figures on each side, in identical surroundings, where each side names something the other
//! text lacks and the two are not one misspelling apart. The first difference that is not a
//! swap (an insertion, a deletion, a rewrite of ordinary words) settles it as a copy, so most
//! copies cost a walk to their first edit.

use super::text::{Detail, Kind, Scan, is_stop};

/// Longest replacement, in tokens per side, that can be a swap ("Morning Consult" for "Office
/// Moving"); longer ones are rewrites.
const MAX_SWAP_TOKENS: usize = 6;

/// The swaps between two texts that differ in nothing else.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swaps {
    /// Replacements of names (capitalised words).
    pub names: usize,
    /// Replacements of figures.
    pub numbers: usize,
}

/// A body scanned with the per-token detail the walk needs.
pub(crate) struct Text {
    scan: Scan,
}

impl Text {
    pub(crate) fn new(body: &str) -> Text {
        let mut scan = Scan {
            detail: Some(Detail::default()),
            ..Scan::default()
        };
        // Furniture only matters to fact sets; kinds are the same in any block.
        super::text::scan(&super::text::nfkc(body), 0, &mut scan);
        Text { scan }
    }

    fn tokens(&self) -> &[u64] {
        &self.scan.tokens
    }

    fn detail(&self) -> &Detail {
        self.scan
            .detail
            .as_ref()
            .expect("Text::new asks for detail")
    }

    /// A word that can name something: a name fact, or a capitalised word of two letters or
    /// more that is not a function word (a name that starts a sentence).
    fn content(&self, i: usize) -> bool {
        let d = self.detail();
        match d.kinds[i] {
            Kind::Name => true,
            Kind::Capital => {
                let t = d.token(i);
                t.chars().nth(1).is_some() && !is_stop(t)
            }
            Kind::Number | Kind::Word => false,
        }
    }

    fn all(&self, r: &std::ops::Range<usize>, f: impl Fn(Kind) -> bool) -> bool {
        r.clone().all(|i| f(self.detail().kinds[i]))
    }

    fn any(&self, r: &std::ops::Range<usize>, f: impl Fn(Kind) -> bool) -> bool {
        r.clone().any(|i| f(self.detail().kinds[i]))
    }

    /// Folded text of a range of tokens, without separators.
    fn chars(&self, r: std::ops::Range<usize>) -> Vec<char> {
        r.flat_map(|i| self.detail().token(i).chars()).collect()
    }
}

/// The swaps that turn `old` into `new`, or `None` when the texts differ in anything else
/// (or not at all).
pub(crate) fn swaps(old: &Text, new: &Text) -> Option<Swaps> {
    let (a, b) = (old.tokens(), new.tokens());
    let mut out = Swaps::default();
    let (mut i, mut j) = (0, 0);
    loop {
        while i < a.len() && j < b.len() && a[i] == b[j] {
            i += 1;
            j += 1;
        }
        if i == a.len() && j == b.len() {
            break;
        }
        let (di, dj) = resync(&a[i..], &b[j..])?;
        match classify(old, i..i + di, new, j..j + dj)? {
            Kind::Number => out.numbers += 1,
            _ => out.names += 1,
        }
        i += di;
        j += dj;
    }
    (out.names + out.numbers > 0).then_some(out)
}

/// The shortest replacement (`di` tokens of `a` for `dj` of `b`, each at most
/// [`MAX_SWAP_TOKENS`]) after which both sequences agree again (or both end). One equal token
/// is enough: two swaps may be a word apart ("GoDaddy and Categorize Mobile Apps"), and a
/// resynchronisation on a chance match errs towards "copy", since everything after it must
/// still be swaps. Pure insertions and deletions (a zero on one side) are found too, before
/// any replacement of the same total length, and are not swaps.
fn resync(a: &[u64], b: &[u64]) -> Option<(usize, usize)> {
    let agree = |di: usize, dj: usize| match (a.get(di), b.get(dj)) {
        (Some(x), Some(y)) => x == y,
        (None, None) => true,
        _ => false,
    };
    for total in 1..=2 * MAX_SWAP_TOKENS {
        // An insertion (di = 0) comes first, a deletion (di = total) last.
        for di in total.saturating_sub(MAX_SWAP_TOKENS)..=total.min(MAX_SWAP_TOKENS) {
            let dj = total - di;
            if di <= a.len() && dj <= b.len() && agree(di, dj) {
                return Some((di, dj));
            }
        }
    }
    None
}

/// Whether replacing `old[a]` by `new[b]` swaps names (`Kind::Name`) or figures
/// (`Kind::Number`); `None` when it is any other edit.
fn classify(
    old: &Text,
    a: std::ops::Range<usize>,
    new: &Text,
    b: std::ops::Range<usize>,
) -> Option<Kind> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let capital = |k| matches!(k, Kind::Name | Kind::Capital);
    if old.all(&a, capital) && new.all(&b, capital) {
        // A name for a name, or for a capitalised word the fact check leaves out ("What are"
        // / "SageMaker are")…
        let has_content = |t: &Text, r: &std::ops::Range<usize>| r.clone().any(|i| t.content(i));
        if !has_content(old, &a) && !has_content(new, &b) {
            return None;
        }
        // …where each side names something the other text lacks: "He" for "Smith" is no
        // swap when the other text has Smith, nor a name moved within a sentence…
        let novel = |side: &Text, r: &std::ops::Range<usize>, other: &Text| {
            let mut words = r.clone().filter(|&i| side.content(i)).peekable();
            words.peek().is_none() || words.any(|i| !other.tokens().contains(&side.tokens()[i]))
        };
        if !novel(old, &a, new) || !novel(new, &b, old) {
            return None;
        }
        // …and not one word misspelt or mangled: one edit apart, or sharing most of their
        // letters at the ends ("contributor" / "contrihoweveror").
        let (x, y) = (old.chars(a), new.chars(b));
        let prefix = x.iter().zip(&y).take_while(|(p, q)| p == q).count();
        let suffix = x
            .iter()
            .rev()
            .zip(y.iter().rev())
            .take_while(|(p, q)| p == q)
            .count();
        if osa_distance(&x, &y) <= 1 || 2 * (prefix + suffix) >= x.len().min(y.len()) {
            return None;
        }
        return Some(Kind::Name);
    }
    let number = |k| k == Kind::Number;
    if old.any(&a, number) && new.any(&b, number) && old.all(&a, |k| k != Kind::Word)
        && new.all(&b, |k| k != Kind::Word)
        // "1,597" and "1 597" are one figure.
        && old.chars(a) != new.chars(b)
    {
        return Some(Kind::Number);
    }
    None
}

/// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
fn osa_distance(a: &[char], b: &[char]) -> usize {
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for (i, row) in d.chunks_exact_mut(w).enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[..w].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j] + 1)
                .min(d[i * w + j - 1] + 1)
                .min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
        }
    }
    d[a.len() * w + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn swaps_of(old: &str, new: &str) -> Option<Swaps> {
        swaps(&Text::new(old), &Text::new(new))
    }

    fn names(n: usize) -> Option<Swaps> {
        Some(Swaps {
            names: n,
            numbers: 0,
        })
    }

    #[test]
    fn osa_counts_transpositions_as_one_edit() {
        let c = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(osa_distance(&c("bundle"), &c("bnudle")), 1);
        assert_eq!(osa_distance(&c("bundle"), &c("bundles")), 1);
        assert_eq!(osa_distance(&c("kitten"), &c("sitting")), 3);
        assert_eq!(osa_distance(&c(""), &c("abc")), 3);
    }

    #[test]
    fn names_swapped_in_identical_text_are_a_template() {
        let old = "Shares of Acme rose after the Treasury said the plan would go ahead.\n\n\
                   Google Morning Consult could not be used for everything";
        let new = "Shares of Globex rose after the Treasury said the plan would go ahead.\n\n\
                   Google Office Moving could not be used for everything";
        assert_eq!(swaps_of(old, new), names(2));
        // A capitalised function word swapped for a name counts too.
        assert_eq!(
            swaps_of(
                "They met. What are the odds, said Ann",
                "They met. SageMaker are the odds, said Ann"
            ),
            names(1)
        );
    }

    #[test]
    fn figures_swapped_are_counted_apart() {
        assert_eq!(
            swaps_of(
                "The index rose 12 points to 3,100 on Friday.",
                "The index rose 45 points to 2,950 on Friday."
            ),
            Some(Swaps {
                names: 0,
                numbers: 2
            })
        );
        // The same figure, spaced differently, is no swap (and nothing else differs).
        assert_eq!(
            swaps_of("It cost 1,597 euros.", "It cost 1 597 euros."),
            None
        );
    }

    #[test]
    fn a_copys_edits_are_not_swaps() {
        let old = "Shares of Acme rose after the Treasury said the plan would go ahead.";
        // Identical texts, or differing in case and quotes only.
        assert_eq!(swaps_of(old, old), None);
        assert_eq!(swaps_of(old, &old.to_uppercase()), None);
        // A swap plus any other edit: a copy that also corrects a name is still a copy.
        assert_eq!(
            swaps_of(
                old,
                "Shares of Globex rose after the Treasury said the plan would now go ahead."
            ),
            None
        );
        // Misspelt, mangled, moved or resolved names.
        assert_eq!(swaps_of(old, &old.replace("Acme", "Amce")), None);
        assert_eq!(
            swaps_of("A Contributor wrote it.", "A Contrihoweveror wrote it."),
            None
        );
        assert_eq!(
            swaps_of(
                "Smith met Globex. Smith said so.",
                "Smith met Globex. He said so."
            ),
            None
        );
        assert_eq!(
            swaps_of(
                "Then Smith met Jones. Smith said so.",
                "Then Smith met Jones. Jones said so."
            ),
            None
        );
        // Lower-case words rewritten, inserted or deleted.
        assert_eq!(swaps_of(old, &old.replace("rose", "fell")), None);
        assert_eq!(
            swaps_of(old, &old.replace("the plan", "the new plan")),
            None
        );
        assert_eq!(swaps_of(old, &old.replace(" would go ahead", "")), None);
    }
}
