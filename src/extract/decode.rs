//! Bytes → text. Precedence follows the HTML standard's encoding sniffing, simplified:
//! BOM > HTTP `Content-Type` charset > `<meta charset>` / `http-equiv` / XML declaration in the
//! first bytes > statistical detection (chardetng). Binary payloads are refused up front so the
//! parser never sees them.

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};

use super::ExtractError;

/// How far into the document a `<meta charset>` is looked for (the standard says 1024 bytes;
/// real pages put long `<head>` preambles first, so be a little more generous).
const PRESCAN_BYTES: usize = 4096;
/// How much of an undeclared document chardetng looks at: enough to be sure, bounded in cost.
const DETECT_BYTES: usize = 64 * 1024;

/// Decodes an HTML payload to UTF-8 text (see the module doc for the precedence). Takes the
/// body by value: valid UTF-8 (most of the web) becomes the text without a copy, validated
/// once.
pub fn decode_html(mut bytes: Vec<u8>, content_type: Option<&str>) -> Result<String, ExtractError> {
    if let Some((enc, bom_len)) = Encoding::for_bom(&bytes) {
        let (text, _) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        return Ok(text.into_owned());
    }
    check_binary(&bytes)?;
    let declared = content_type
        .and_then(charset_from_content_type)
        .or_else(|| prescan(&bytes[..bytes.len().min(PRESCAN_BYTES)]));
    let enc = match declared {
        Some(enc) if enc != UTF_8 => enc,
        // Declared UTF-8, or undeclared: valid UTF-8 is the text as it is.
        declared => {
            bytes = match String::from_utf8(bytes) {
                Ok(text) => return Ok(text),
                Err(e) => e.into_bytes(),
            };
            // Declared UTF-8 but not quite: decoded with replacement characters below.
            declared.unwrap_or_else(|| {
                let mut det = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
                let sample = &bytes[..bytes.len().min(DETECT_BYTES)];
                det.feed(sample, sample.len() == bytes.len());
                det.guess(None, chardetng::Utf8Detection::Allow)
            })
        }
    };
    let (text, _) = enc.decode_without_bom_handling(&bytes);
    Ok(text.into_owned())
}

/// An HTML label as the standard maps it: UTF-16 declared inside the bytes cannot be true (we
/// could read the declaration as ASCII), and `x-user-defined` means windows-1252.
fn html_label(label: &[u8]) -> Option<&'static Encoding> {
    let enc = Encoding::for_label(label)?;
    Some(
        if enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE {
            UTF_8
        } else if enc == encoding_rs::X_USER_DEFINED {
            WINDOWS_1252
        } else {
            enc
        },
    )
}

fn charset_from_content_type(ct: &str) -> Option<&'static Encoding> {
    let lower = ct.to_ascii_lowercase();
    let pos = lower.find("charset=")?;
    let rest = lower[pos + 8..].trim_start_matches(['"', '\'']);
    let end = rest.find(['"', '\'', ';', ' ', ',']).unwrap_or(rest.len());
    Encoding::for_label(&rest.as_bytes()[..end])
}

/// Finds `charset=` inside a `<meta …>` tag or `encoding=` in an XML declaration.
fn prescan(head: &[u8]) -> Option<&'static Encoding> {
    let lower = head.to_ascii_lowercase();
    if lower.starts_with(b"<?xml") {
        let end = find(&lower, b"?>", 0).unwrap_or(lower.len());
        if let Some(p) = find(&lower[..end], b"encoding=", 0)
            && let Some(enc) = attr_value(&lower[p + 9..end]).and_then(html_label)
        {
            return Some(enc);
        }
    }
    let mut from = 0;
    while let Some(start) = find(&lower, b"<meta", from) {
        let end = find(&lower, b">", start).unwrap_or(lower.len());
        let tag = &lower[start..end];
        if let Some(p) = find(tag, b"charset", 0) {
            let rest = &tag[p + 7..];
            let rest = rest.trim_ascii_start();
            if let Some(rest) = rest.strip_prefix(b"=")
                && let Some(enc) = attr_value(rest).and_then(html_label)
            {
                return Some(enc);
            }
        }
        from = end;
    }
    None
}

/// The value after `=`: quoted or bare, stopping at a delimiter.
fn attr_value(s: &[u8]) -> Option<&[u8]> {
    let s = s.trim_ascii_start();
    let s = s
        .strip_prefix(b"\"")
        .or_else(|| s.strip_prefix(b"'"))
        .unwrap_or(s);
    let end = s
        .iter()
        .position(|&b| matches!(b, b'"' | b'\'' | b';' | b' ' | b'/' | b'>' | b'\t' | b'\n'))
        .unwrap_or(s.len());
    (end > 0).then(|| &s[..end])
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Refuses payloads that are evidently not text: known binary signatures, NUL bytes or a high
/// share of control characters near the start (a UTF-16 page without BOM is not worth rescuing).
fn check_binary(bytes: &[u8]) -> Result<(), ExtractError> {
    const MAGIC: &[(&[u8], &str)] = &[
        (b"%PDF", "PDF document"),
        (b"\x89PNG", "PNG image"),
        (b"GIF8", "GIF image"),
        (b"\xff\xd8\xff", "JPEG image"),
        (b"PK\x03\x04", "ZIP archive"),
        (b"\x1f\x8b", "gzip data (not decompressed)"),
        (b"RIFF", "RIFF media"),
        (b"\x00\x00\x00", "binary data"),
    ];
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ExtractError::NotHtml {
            reason: "empty body".into(),
        });
    }
    for (magic, what) in MAGIC {
        if bytes.starts_with(magic) {
            return Err(ExtractError::NotHtml {
                reason: (*what).into(),
            });
        }
    }
    let sample = &bytes[..bytes.len().min(1024)];
    let controls = sample
        .iter()
        .filter(|&&b| b == 0 || (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c)))
        .count();
    if sample.contains(&0) || controls * 20 > sample.len() {
        return Err(ExtractError::NotHtml {
            reason: "binary data (control bytes)".into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_1252_from_meta() {
        let bytes = b"<html><head><meta charset=\"windows-1252\"></head><body>caf\xe9 \x93q\x94</body></html>";
        assert!(
            decode_html(bytes.to_vec(), None)
                .unwrap()
                .contains("café “q”")
        );
    }

    #[test]
    fn iso_8859_2_from_http_equiv() {
        let bytes = b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-2\"><p>\xb1\xe6</p>";
        assert!(decode_html(bytes.to_vec(), None).unwrap().contains("ąć"));
    }

    #[test]
    fn header_beats_meta() {
        let bytes = b"<meta charset=\"utf-8\"><p>caf\xe9</p>";
        assert!(
            decode_html(bytes.to_vec(), Some("text/html; charset=ISO-8859-1"))
                .unwrap()
                .contains("café")
        );
    }

    #[test]
    fn bom_beats_header_and_meta() {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice("<meta charset=\"iso-8859-1\"><p>café</p>".as_bytes());
        let text = decode_html(bytes, Some("text/html; charset=windows-1252")).unwrap();
        assert!(text.contains("café") && !text.starts_with('\u{feff}'));
        let mut utf16 = vec![0xFF, 0xFE];
        for u in "<p>hé</p>".encode_utf16() {
            utf16.extend_from_slice(&u.to_le_bytes());
        }
        assert!(decode_html(utf16, None).unwrap().contains("hé"));
    }

    #[test]
    fn shift_jis_and_gb18030() {
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("<p>日本語のニュース記事です。</p>");
        assert!(
            decode_html(sjis.to_vec(), Some("text/html; charset=Shift_JIS"))
                .unwrap()
                .contains("日本語")
        );
        let mut html = b"<meta charset=gb18030>".to_vec();
        html.extend_from_slice(&encoding_rs::GB18030.encode("<p>中文新闻</p>").0);
        assert!(decode_html(html, None).unwrap().contains("中文新闻"));
    }

    #[test]
    fn undeclared_legacy_text_is_detected() {
        let (bytes, _, _) = encoding_rs::WINDOWS_1252
            .encode("<p>Le café est très apprécié à Paris, été comme hiver; déjà célèbre.</p>");
        assert!(
            decode_html(bytes.to_vec(), None)
                .unwrap()
                .contains("très apprécié")
        );
        let (sjis, _, _) = encoding_rs::SHIFT_JIS
            .encode("<p>これは日本語のニュース記事です。東京で会議が開かれました。</p>");
        assert!(decode_html(sjis.to_vec(), None).unwrap().contains("日本語"));
    }

    #[test]
    fn binary_is_not_html() {
        for bytes in [
            &b"\x89PNG\r\n\x1a\n\0\0\0"[..],
            b"\0\x01\x02\x03garbage\0\0",
            b"   ",
            b"%PDF-1.7",
        ] {
            assert!(
                matches!(
                    decode_html(bytes.to_vec(), None),
                    Err(ExtractError::NotHtml { .. })
                ),
                "{bytes:?}"
            );
        }
    }

    #[test]
    fn each_charset_case_decodes_to_the_exact_text() {
        let (legacy, _, _) = encoding_rs::WINDOWS_1252.encode("<p>Le café est très apprécié.</p>");
        let cases: [(&[u8], Option<&str>, &str); 7] = [
            ("<p>naïve café</p>".as_bytes(), None, "<p>naïve café</p>"),
            (
                "<p>naïve café</p>".as_bytes(),
                Some("text/html; charset=utf-8"),
                "<p>naïve café</p>",
            ),
            // Declared UTF-8, one stray Latin-1 byte: replaced, not refused.
            (
                b"<meta charset=utf-8><p>caf\xe9 ok</p>",
                None,
                "<meta charset=utf-8><p>caf\u{fffd} ok</p>",
            ),
            (
                b"<p>caf\xe9 ok</p>",
                Some("text/html; charset=UTF-8"),
                "<p>caf\u{fffd} ok</p>",
            ),
            (
                b"<meta charset=\"windows-1252\"><p>caf\xe9 \x93q\x94</p>",
                None,
                "<meta charset=\"windows-1252\"><p>café “q”</p>",
            ),
            (&legacy, None, "<p>Le café est très apprécié.</p>"),
            (
                b"\xef\xbb\xbf<p>bom</p>",
                Some("text/html; charset=iso-8859-1"),
                "<p>bom</p>",
            ),
        ];
        for (bytes, ct, text) in cases {
            assert_eq!(
                decode_html(bytes.to_vec(), ct).unwrap(),
                text,
                "{ct:?} {bytes:?}"
            );
        }
        assert!(decode_html(b"%PDF-1.4".to_vec(), None).is_err());
    }

    #[test]
    fn utf16_label_in_meta_means_utf8() {
        let bytes = "<meta charset=utf-16><p>naïve</p>".as_bytes();
        assert!(decode_html(bytes.to_vec(), None).unwrap().contains("naïve"));
    }
}
