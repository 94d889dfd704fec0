//! The one rule for characters in user text, applied at the edge to every string of every request
//! (JSON bodies, URL-encoded forms, query strings, multipart text fields) before any feature sees
//! it, so no feature can forget it and both database backends store the same thing.
//!
//! - Line feed (`\n`) and tab (`\t`) are kept.
//! - A carriage return is a line break: `\r\n` and a lone `\r` become `\n`.
//! - Every other control character — C0 (U+0000–U+001F), DEL (U+007F) and C1 (U+0080–U+009F) —
//!   is refused: 422 `validation_failed` with the field named and code `invalid_characters`.
//!   (PostgreSQL cannot store U+0000 in text at all; the others only hide text from readers and
//!   from the contact guard.)
//! - Format characters (zero-width space U+200B, ZWNJ/ZWJ U+200C/U+200D, the BOM U+FEFF, bidi
//!   controls, soft hyphen, …) and blank fillers (U+3164 …) are **kept** inside text: ZWJ joins
//!   emoji sequences and ZWNJ is part of some scripts. But they carry no content: [`trim`] removes
//!   them with whitespace at the ends of a one-line value, and [`is_blank`] counts a text made of
//!   nothing else as empty, so such a display name, title or message is `required`. The contact
//!   guard has its own, narrower list of characters it drops before it reads a text
//!   (`guard::normalize`, tuned to what splits a contact); the two lists are not the same.
//!
//! Lone surrogates cannot occur: every extractor decodes UTF-8 into Rust strings first and refuses
//! what does not decode.

use std::borrow::Cow;

use serde_json::Value;

use crate::error::{FieldError, FieldErrors};

/// The machine code of a refused character.
pub const INVALID_CHARACTERS: &str = "invalid_characters";

/// Whether `c` is a control character this rule refuses (everything of category Cc but `\t`,
/// `\n` and `\r`, which [`clean`] keeps or converts).
pub fn is_refused_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// Whether `c` is an invisible format character or blank filler: kept inside text, but no content
/// of its own (see the module documentation).
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E007F}'
            | '\u{E0100}'..='\u{E01EF}'
    )
}

/// `s` without leading and trailing whitespace and invisible characters.
pub fn trim(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || is_invisible(c))
}

/// Whether `s` holds nothing but whitespace and invisible characters.
pub fn is_blank(s: &str) -> bool {
    trim(s).is_empty()
}

/// The field error of a refused character.
fn refused(field: &str, c: char) -> FieldError {
    FieldError {
        field: field.to_string(),
        code: INVALID_CHARACTERS,
        message: format!(
            "改行とタブ以外の制御文字（U+{:04X}）は使用できません。",
            c as u32
        ),
    }
}

/// Applies the rule to one value of field `field`: the value with line breaks normalised
/// (borrowed when nothing changed), or the error naming the field and the first refused
/// character.
pub fn clean<'a>(field: &str, s: &'a str) -> Result<Cow<'a, str>, FieldError> {
    // The common case, checked without allocating: no control character other than \t and \n.
    let Some(first) = s.find(|c: char| c.is_control() && c != '\t' && c != '\n') else {
        return Ok(Cow::Borrowed(s));
    };
    let mut out = String::with_capacity(s.len());
    out.push_str(&s[..first]);
    let mut chars = s[first..].chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push('\n');
            }
            c if is_refused_control(c) => return Err(refused(field, c)),
            c => out.push(c),
        }
    }
    Ok(Cow::Owned(out))
}

/// Applies [`clean`] to every string of a JSON document in place (object keys are names, not
/// text, and are left alone). Fields are named by their path: `title`, `options[2].title`.
pub fn clean_json(value: &mut Value) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::new();
    walk(value, &mut String::new(), &mut errors);
    errors.into_result(())
}

fn walk(value: &mut Value, path: &mut String, errors: &mut FieldErrors) {
    match value {
        Value::String(s) => match clean(path, s) {
            Ok(Cow::Borrowed(_)) => {}
            Ok(Cow::Owned(cleaned)) => *s = cleaned,
            Err(e) => errors.add(e.field, e.code, e.message),
        },
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                walk(item, path, errors);
                path.truncate(len);
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields.iter_mut() {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                walk(item, path, errors);
                path.truncate(len);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Applies [`clean`] to every value of a URL-encoded form or query string (`a=1&b=2`). Returns
/// the string to deserialise: borrowed when no value changed, re-encoded otherwise.
pub fn clean_urlencoded(encoded: &str) -> Result<Cow<'_, str>, FieldErrors> {
    // Parsing into pairs never fails: `application/x-www-form-urlencoded` has no invalid input
    // (bad escapes stay as they are, bad UTF-8 becomes U+FFFD), as for axum's own extractors.
    let mut pairs: Vec<(String, String)> = serde_urlencoded::from_str(encoded).unwrap_or_default();
    let mut errors = FieldErrors::new();
    let mut changed = false;
    for (key, value) in &mut pairs {
        let shown: String = key
            .chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .collect();
        match clean(&shown, value) {
            Ok(Cow::Borrowed(_)) => {}
            Ok(Cow::Owned(cleaned)) => {
                changed = true;
                *value = cleaned;
            }
            Err(e) => errors.add(e.field, e.code, e.message),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if !changed {
        return Ok(Cow::Borrowed(encoded));
    }
    Ok(Cow::Owned(
        serde_urlencoded::to_string(&pairs).unwrap_or_default(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn line_feeds_and_tabs_are_kept_and_carriage_returns_become_line_feeds() {
        assert!(matches!(
            clean("f", "a\tb\nc"),
            Ok(Cow::Borrowed("a\tb\nc"))
        ));
        assert_eq!(clean("f", "a\r\nb\rc\r").unwrap(), "a\nb\nc\n");
        assert_eq!(clean("f", "\r\n\r\n").unwrap(), "\n\n");
    }

    #[test]
    fn every_other_control_character_is_refused_naming_the_field() {
        for c in [
            '\u{0}', '\u{1}', '\u{8}', '\u{B}', '\u{1B}', '\u{7F}', '\u{85}', '\u{9F}',
        ] {
            let e = clean("body", &format!("a{c}b")).unwrap_err();
            assert_eq!(e.field, "body");
            assert_eq!(e.code, INVALID_CHARACTERS);
            assert!(
                e.message.contains(&format!("U+{:04X}", c as u32)),
                "{}",
                e.message
            );
        }
        // Refused after a carriage return too (the slow path).
        assert!(clean("f", "a\r\n\u{0}").is_err());
    }

    #[test]
    fn format_characters_are_kept_but_count_as_blank() {
        let family = "👨\u{200D}👩\u{200D}👧";
        assert!(matches!(clean("f", family), Ok(Cow::Borrowed(_))));
        assert!(!is_blank(family));
        assert!(is_blank("\u{200B}\u{200B} \u{FEFF}\u{3000}\u{200D}"));
        assert_eq!(
            trim("\u{FEFF} 山田\u{200B}太郎 \u{200B}"),
            "山田\u{200B}太郎"
        );
    }

    #[test]
    fn json_strings_are_cleaned_at_every_depth_and_named_by_path() {
        let mut v = json!({"title": "a\r\nb", "options": [{"title": "ok"}, {"title": "x\u{0}"}],
                           "n": 1, "tags": ["\u{7F}"]});
        let e = clean_json(&mut v).unwrap_err();
        let fields: Vec<_> = e.as_slice().iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, vec!["options[1].title", "tags[0]"]);
        let mut v = json!({"title": "a\r\nb", "list": ["c\rd"]});
        clean_json(&mut v).unwrap();
        assert_eq!(v, json!({"title": "a\nb", "list": ["c\nd"]}));
        let mut top = json!("\u{1}");
        assert_eq!(clean_json(&mut top).unwrap_err().as_slice()[0].field, "");
    }

    #[test]
    fn urlencoded_values_are_cleaned_and_reencoded_only_when_changed() {
        assert!(matches!(
            clean_urlencoded("q=%E3%83%AD%E3%82%B4&sort=new"),
            Ok(Cow::Borrowed(_))
        ));
        let e = clean_urlencoded("q=%00&ok=1").unwrap_err();
        assert_eq!(e.as_slice()[0].field, "q");
        let cleaned = clean_urlencoded("body=a%0D%0Ab&csrf=t").unwrap();
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&cleaned).unwrap();
        assert_eq!(pairs[0], ("body".into(), "a\nb".into()));
        assert_eq!(pairs[1], ("csrf".into(), "t".into()));
    }
}
