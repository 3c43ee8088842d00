//! The phrase families matched in one pass over a block: every phrase is filed under a hash
//! of its first two bytes, so each position of the block looks only at the few phrases that
//! can start there, instead of each family testing each of its phrases against the block.

use std::ops::Range;
use std::sync::OnceLock;

use crate::extract::phrases::{At, FAMILIES};

const BUCKETS: usize = 4096;

fn bucket(a: u8, b: u8) -> usize {
    (usize::from(a) * 31 + usize::from(b)) & (BUCKETS - 1)
}

/// Phrases grouped by bucket: `phrases[start[h]..start[h + 1]]` are those of bucket `h`.
struct Table {
    start: Vec<u16>,
    phrases: Vec<(u8, &'static [u8])>,
}

impl Table {
    fn build(keep: impl Fn(At) -> bool) -> Table {
        let mut filed: Vec<(usize, u8, &'static [u8])> = Vec::new();
        for (f, fam) in FAMILIES.iter().enumerate() {
            if !keep(fam.at) {
                continue;
            }
            for p in fam.phrases.iter().map(|p| p.as_bytes()) {
                // Every phrase has at least two bytes (checked by a unit test).
                filed.push((bucket(p[0], p[1]), f as u8, p));
            }
        }
        filed.sort_by_key(|e| e.0);
        let mut start = vec![0u16; BUCKETS + 1];
        for e in &filed {
            start[e.0 + 1] += 1;
        }
        for h in 0..BUCKETS {
            start[h + 1] += start[h];
        }
        Table {
            start,
            phrases: filed.into_iter().map(|(_, f, p)| (f, p)).collect(),
        }
    }

    fn at(&self, s: &[u8], i: usize) -> &[(u8, &'static [u8])] {
        match s.get(i..i + 2) {
            Some(&[a, b]) => {
                let h = bucket(a, b);
                &self.phrases[usize::from(self.start[h])..usize::from(self.start[h + 1])]
            }
            _ => &[],
        }
    }
}

struct Index {
    /// Phrases that may sit anywhere.
    anywhere: Table,
    /// Phrases that must open the block or be all of it.
    placed: Table,
}

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        assert!(FAMILIES.len() <= 64, "the families hit are a u64");
        Index {
            anywhere: Table::build(|at| matches!(at, At::Anywhere)),
            placed: Table::build(|at| !matches!(at, At::Anywhere)),
        }
    })
}

/// The families (bit `i` for `FAMILIES[i]`) with a phrase where the family wants it in the
/// lower-cased block `lower`, among the families whose length cap allows `words`: at the start
/// of `lower` or of `lower[trim]` (the block without its surrounding punctuation) for
/// [`At::Start`], anywhere for [`At::Anywhere`], equal to `lower[trim]` for [`At::Whole`].
pub(super) fn families_hit(lower: &str, trim: Range<usize>, words: usize) -> u64 {
    let idx = index();
    let s = lower.as_bytes();
    let mut open = 0u64;
    for (f, fam) in FAMILIES.iter().enumerate() {
        if words <= fam.max_words {
            open |= 1 << f;
        }
    }
    let mut hit = 0u64;
    let mut take = |f: u8, ok: bool| {
        if ok && open & (1 << f) != 0 {
            hit |= 1 << f;
        }
    };
    for start in [0, trim.start] {
        for &(f, p) in idx.placed.at(s, start) {
            let ok = match FAMILIES[usize::from(f)].at {
                At::Whole => start == trim.start && &s[trim.clone()] == p,
                _ => {
                    let end = if start == 0 { s.len() } else { trim.end };
                    s[start..end].starts_with(p)
                }
            };
            take(f, ok);
        }
        if trim.start == 0 {
            break;
        }
    }
    for i in 0..s.len().saturating_sub(1) {
        for &(f, p) in idx.anywhere.at(s, i) {
            take(f, s[i..].starts_with(p));
        }
    }
    hit
}
