//! Keyset pagination: a page continues strictly after the last row of the
//! previous one, by (sort column, id), so rows inserted meanwhile never shift
//! a page or appear twice, and page N costs the same as page 1.

use serde::{Deserialize, Serialize};

use crate::error::StoreError;

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Smallest first.
    Asc,
    /// Largest first.
    Desc,
}

/// The sort-column value of the last row of a page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SortValue {
    /// An integer column (ids, floors).
    Int(i64),
    /// A text column (names, numbers).
    Text(String),
}

/// Where the next page starts: after this sort value and id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct After {
    /// The sort-column value of the last row seen.
    pub value: SortValue,
    /// The id of the last row seen (breaks ties between equal values).
    pub id: i64,
}

impl After {
    /// The position after the row `id` in a list sorted by id alone.
    pub fn id(id: i64) -> Self {
        Self {
            value: SortValue::Int(id),
            id,
        }
    }

    /// The position as (text, id) for a text sort column.
    pub fn text(&self) -> Result<(String, i64), StoreError> {
        match &self.value {
            SortValue::Text(text) => Ok((text.clone(), self.id)),
            SortValue::Int(_) => Err(StoreError::InvalidCursor),
        }
    }

    /// The position as (integer, id) for an integer sort column.
    pub fn int<I: TryFrom<i64>>(&self) -> Result<(I, i64), StoreError> {
        match self.value {
            SortValue::Int(value) => I::try_from(value)
                .map(|value| (value, self.id))
                .map_err(|_| StoreError::InvalidCursor),
            SortValue::Text(_) => Err(StoreError::InvalidCursor),
        }
    }
}

/// Which slice of a list to load.
#[derive(Debug, Clone)]
pub struct PageRequest<S> {
    /// The resource's sort column.
    pub sort: S,
    /// Its direction.
    pub direction: Direction,
    /// Continue after this position; `None` for the first page.
    pub after: Option<After>,
    /// How many rows at most (already bounded by the API).
    pub limit: i64,
}

/// One page of rows and where the next one starts.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The rows, in sort order.
    pub items: Vec<T>,
    /// The position to continue from; `None` on the last page.
    pub next: Option<After>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` loaded rows: the extra row only
    /// proves there is a next page and is not returned.
    pub fn from_rows(mut rows: Vec<T>, limit: i64, key: impl Fn(&T) -> After) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let next = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(key)
        } else {
            None
        };
        Self { items: rows, next }
    }

    /// Converts every item, keeping the position.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next: self.next,
        }
    }
}

/// Orders a boxed query by `(column, id)` in `direction` and, given the last
/// position `after: Option<(value, id)>`, keeps only rows beyond it.
///
/// The condition is written `column >= v AND (column > v OR id > last)` rather
/// than the plain OR so both planners can start an index range scan at `v`.
#[macro_export]
macro_rules! keyset {
    ($query:expr, $column:expr, $id:expr, $direction:expr, $after:expr) => {{
        use diesel::{BoolExpressionMethods, ExpressionMethods, QueryDsl};
        let query = $query;
        match ($direction, $after) {
            ($crate::page::Direction::Asc, None) => query.order(($column.asc(), $id.asc())),
            ($crate::page::Direction::Desc, None) => query.order(($column.desc(), $id.desc())),
            ($crate::page::Direction::Asc, Some((value, last_id))) => query
                .filter(
                    $column
                        .ge(value.clone())
                        .and($column.gt(value).or($id.gt(last_id))),
                )
                .order(($column.asc(), $id.asc())),
            ($crate::page::Direction::Desc, Some((value, last_id))) => query
                .filter(
                    $column
                        .le(value.clone())
                        .and($column.lt(value).or($id.lt(last_id))),
                )
                .order(($column.desc(), $id.desc())),
        }
    }};
}

/// Orders a boxed query by id alone and continues after `after_id`.
#[macro_export]
macro_rules! keyset_by_id {
    ($query:expr, $id:expr, $direction:expr, $after_id:expr) => {{
        use diesel::{ExpressionMethods, QueryDsl};
        let query = $query;
        match ($direction, $after_id) {
            ($crate::page::Direction::Asc, None) => query.order($id.asc()),
            ($crate::page::Direction::Desc, None) => query.order($id.desc()),
            ($crate::page::Direction::Asc, Some(last_id)) => {
                query.filter($id.gt(last_id)).order($id.asc())
            }
            ($crate::page::Direction::Desc, Some(last_id)) => {
                query.filter($id.lt(last_id)).order($id.desc())
            }
        }
    }};
}

/// Keeps the rows of a boxed query that match an [`ArchivedFilter`] on the
/// table's `archived_at` column.
#[macro_export]
macro_rules! filter_archived {
    ($query:expr, $archived_at:expr, $filter:expr) => {{
        use diesel::{ExpressionMethods, QueryDsl};
        match $filter {
            $crate::page::ArchivedFilter::Exclude => $query.filter($archived_at.is_null()),
            $crate::page::ArchivedFilter::Only => $query.filter($archived_at.is_not_null()),
            $crate::page::ArchivedFilter::Include => $query,
        }
    }};
}

/// Keeps the rows of a boxed query whose text `$column` contains
/// `$needle` (ASCII case-insensitively, `%` and `_` literal), the same on
/// both backends.
#[macro_export]
macro_rules! filter_contains {
    ($query:expr, $column:expr, $needle:expr) => {{
        use diesel::{QueryDsl, TextExpressionMethods};
        $query.filter(
            $crate::page::lower($column)
                .like($crate::page::contains_pattern($needle))
                .escape('\\'),
        )
    }};
}

/// Which records a list shows by their archive state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ArchivedFilter {
    /// Active records only (the default).
    #[default]
    Exclude,
    /// Active and archived.
    Include,
    /// Archived records only.
    Only,
}

/// A `LIKE` pattern that finds `needle` anywhere, with `%`, `_` and `\`
/// taken literally (use with `.escape('\\')`). ASCII is lower-cased to match
/// `lower(column)`, which both backends apply to ASCII alike.
pub fn contains_pattern(needle: &str) -> String {
    let mut pattern = String::with_capacity(needle.len() + 2);
    pattern.push('%');
    for c in needle.trim().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c.to_ascii_lowercase());
    }
    pattern.push('%');
    pattern
}

diesel::define_sql_function! {
    /// SQL `lower(text)`, the same function on both backends.
    fn lower(text: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_escapes_wildcards() {
        assert_eq!(contains_pattern(" 50%_A\\ "), "%50\\%\\_a\\\\%");
    }

    #[test]
    fn page_keeps_limit_and_points_after_last() {
        let page = Page::from_rows(vec![1, 2, 3], 2, |n| After {
            value: SortValue::Int(*n),
            id: *n,
        });
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(page.next.map(|a| a.id), Some(2));
        let last = Page::from_rows(vec![1, 2], 2, |n| After {
            value: SortValue::Int(*n),
            id: *n,
        });
        assert!(last.next.is_none());
    }

    #[test]
    fn cursor_values_must_match_the_column_type() {
        let text = After {
            value: SortValue::Text("a".into()),
            id: 1,
        };
        assert!(text.int::<i32>().is_err());
        let big = After {
            value: SortValue::Int(i64::MAX),
            id: 1,
        };
        assert!(big.int::<i32>().is_err());
        assert_eq!(big.int::<i64>().unwrap(), (i64::MAX, 1));
    }
}
