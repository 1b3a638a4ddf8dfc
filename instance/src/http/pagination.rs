//! Cursor pagination: a page size from `?limit=`, and splitting one extra fetched row off into
//! the next page's cursor.

use crate::error::{Error, Result};

/// The page size for `limit`: `default` when absent, else 1..=`max`.
pub fn page_size(limit: Option<i64>, default: i64, max: i64) -> Result<i64> {
    match limit {
        None => Ok(default.min(max)),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(Error::invalid(format!("limit must be between 1 and {max}"))),
    }
}

/// Whether `raw` is a cursor of ids with `prefix`: `{prefix}_` and 32 lowercase hex digits (a
/// UUIDv7, so that ids sort by creation).
pub fn is_cursor(raw: &str, prefix: &str) -> bool {
    raw.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|hex| {
            hex.len() == 32
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

/// The `cursor` parameter: absent or empty is the first page; anything that is not a cursor
/// of `prefix` ids is a `400`, never silently the first page.
pub fn cursor<'a>(raw: Option<&'a str>, prefix: &str) -> Result<Option<&'a str>> {
    match raw.filter(|c| !c.is_empty()) {
        None => Ok(None),
        Some(c) if is_cursor(c, prefix) => Ok(Some(c)),
        Some(_) => Err(Error::invalid(
            "cursor is not a next_cursor of this list: pass the value a previous page returned",
        )),
    }
}

/// `rows` were fetched with `limit + 1`: keeps `limit` of them and, if there was one more,
/// returns the cursor of the last kept row.
pub fn split_page<T>(
    mut rows: Vec<T>,
    limit: i64,
    cursor_of: impl Fn(&T) -> String,
) -> (Vec<T>, Option<String>) {
    if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        let cursor = rows.last().map(cursor_of);
        (rows, cursor)
    } else {
        (rows, None)
    }
}
