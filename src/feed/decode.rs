//! Byte → UTF-8 decoding with the charset rules of DESIGN §6, hardened against lying labels.
//!
//! Precedence is BOM > HTTP `charset` > XML declaration > detection, with two exceptions
//! that exist because real feeds mislabel themselves: a body that is valid UTF-8 is read as
//! UTF-8 whatever a label says (legacy-encoded text containing non-ASCII is practically never
//! valid UTF-8 by accident), and a UTF-8 label on bytes that are not UTF-8 is ignored.

use std::borrow::Cow;
use std::ops::Range;

use encoding_rs::{Encoding, ISO_2022_JP, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};

use super::repair::attr_value;

/// Decodes `body` to UTF-8 and strips a BOM. Borrows when the body already is UTF-8.
pub(super) fn to_utf8<'a>(
    body: &'a [u8],
    content_type: Option<&str>,
    tld: Option<&str>,
) -> Cow<'a, str> {
    if let Some((encoding, bom_len)) = Encoding::for_bom(body) {
        let rest = &body[bom_len..];
        return if encoding == UTF_8 {
            utf8_with_fallback(rest, tld)
        } else {
            encoding.decode_without_bom_handling(rest).0
        };
    }
    // UTF-16 without a BOM still starts with `<` as a 16-bit unit.
    match body {
        [b'<', 0, _, 0, ..] => return UTF_16LE.decode_without_bom_handling(body).0,
        [0, b'<', 0, _, ..] => return UTF_16BE.decode_without_bom_handling(body).0,
        _ => {}
    }
    let lead = body.trim_ascii_start();
    let label = content_type
        .and_then(http_charset)
        .or_else(|| decl_encoding(lead).map(|r| &lead[r]))
        .and_then(Encoding::for_label);
    match std::str::from_utf8(body) {
        // ISO-2022-JP is 7-bit, so its text is valid UTF-8 and only the label tells.
        Ok(_) if label == Some(ISO_2022_JP) && body.contains(&0x1b) => {
            ISO_2022_JP.decode_without_bom_handling(body).0
        }
        Ok(text) => Cow::Borrowed(text),
        Err(_) => match label {
            Some(enc) if enc != UTF_8 && enc != UTF_16LE && enc != UTF_16BE => {
                enc.decode_without_bom_handling(body).0
            }
            _ => utf8_with_fallback(body, tld),
        },
    }
}

/// Bytes that ought to be UTF-8 but are not. Valid multi-byte sequences hardly ever occur by
/// chance in legacy text, so if there are some and not far fewer than invalid bytes, it is
/// UTF-8 with stray legacy bytes (a pasted Latin-1 snippet, a cut character): keep the UTF-8
/// and read each invalid byte as Windows-1252 rather than U+FFFD. Otherwise the whole body
/// is in a legacy encoding: detect which (Latin-1 is only one candidate; Cyrillic and CJK
/// feeds mislabel themselves too).
fn utf8_with_fallback<'a>(body: &'a [u8], tld: Option<&str>) -> Cow<'a, str> {
    if let Ok(text) = std::str::from_utf8(body) {
        return Cow::Borrowed(text);
    }
    let (mut multibyte, mut invalid) = (0usize, 0usize);
    for chunk in body.utf8_chunks() {
        multibyte += chunk.valid().bytes().filter(|b| *b >= 0xc0).count();
        invalid += chunk.invalid().len();
    }
    if multibyte > 0 && multibyte * 2 >= invalid {
        let mut out = String::with_capacity(body.len() + invalid * 2);
        for chunk in body.utf8_chunks() {
            out.push_str(chunk.valid());
            out.push_str(&WINDOWS_1252.decode_without_bom_handling(chunk.invalid()).0);
        }
        return Cow::Owned(out);
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(body, true);
    let tld = tld.filter(|t| {
        !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    });
    let encoding = detector.guess(tld.map(str::as_bytes), chardetng::Utf8Detection::Deny);
    encoding.decode_without_bom_handling(body).0
}

/// The `charset` parameter of a `Content-Type` header value, unquoted.
fn http_charset(content_type: &str) -> Option<&[u8]> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches(['"', '\'']).as_bytes())
    })
}

/// Byte range of the `encoding` value in a leading `<?xml …?>` declaration.
pub(super) fn decl_encoding(text: &[u8]) -> Option<Range<usize>> {
    let decl_end = text
        .strip_prefix(b"<?xml")?
        .windows(2)
        .take(256)
        .position(|w| w == b"?>")?
        + 5;
    attr_value(&text[..decl_end], b"encoding")
}

/// After transcoding, the declaration must not name the old encoding any more: feed-rs would
/// decode the UTF-8 text a second time with it. Leaves a UTF-8 declaration untouched.
pub(super) fn declare_utf8(text: Cow<'_, str>) -> Cow<'_, str> {
    match decl_encoding(text.as_bytes()) {
        Some(r)
            if !text[r.clone()].eq_ignore_ascii_case("utf-8")
                && !text[r.clone()].eq_ignore_ascii_case("utf8") =>
        {
            let mut owned = text.into_owned();
            owned.replace_range(r, "UTF-8");
            Cow::Owned(owned)
        }
        _ => text,
    }
}
