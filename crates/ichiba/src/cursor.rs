//! Opaque list cursors: a keyset position (`sort key`, `id`) encoded so clients cannot depend on
//! its shape. Every paged list of the API and the web app uses these.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::AppError;

/// Encodes a keyset position (`sort key`, `id`) as an opaque cursor.
pub fn encode_cursor(key: &str, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{key}\n{id}"))
}

/// Decodes a cursor made by [`encode_cursor`]; a cursor that was not is a 400.
pub fn decode_cursor(cursor: &str) -> Result<(String, String), AppError> {
    let bad = || AppError::BadRequest {
        code: "invalid_cursor",
        message: "cursor の値が正しくありません。".into(),
    };
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (key, id) = text.split_once('\n').ok_or_else(bad)?;
    Ok((key.to_string(), id.to_string()))
}

/// Decodes an optional cursor whose sort key is an integer (a time in ms, a price, a score): the
/// keyset position `(key, id)` after which the next page starts. A bad cursor is a 400.
pub fn decode_key_cursor(cursor: Option<&str>) -> Result<Option<(i64, String)>, AppError> {
    let Some(c) = cursor else { return Ok(None) };
    let (key, id) = decode_cursor(c)?;
    let key = key.parse::<i64>().map_err(|_| AppError::BadRequest {
        code: "invalid_cursor",
        message: "cursor の値が正しくありません。".into(),
    })?;
    Ok(Some((key, id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_rejected() {
        let c = encode_cursor("1500", "abc");
        assert_eq!(
            decode_cursor(&c).unwrap(),
            ("1500".to_string(), "abc".to_string())
        );
        assert!(decode_cursor("!!!").is_err());
        assert!(decode_cursor(&URL_SAFE_NO_PAD.encode("no-newline")).is_err());
    }
}
