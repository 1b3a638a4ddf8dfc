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
