//! Cursor pagination shared by every list: `?limit=` (default 20, at most
//! 200) and an opaque `?cursor=`; answers are `{items, next_cursor}`.
//!
//! The cursor is the last row's sort value and id (keyset), bound to the sort
//! order it was made for, so pages stay stable while rows are inserted.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wuye_persistence::page::{After, ArchivedFilter, Direction, Page, PageRequest, SortValue};

use crate::error::{ApiError, ApiResult};
use crate::i18n::Text;

/// Rows per page when the client does not say.
pub const DEFAULT_LIMIT: i64 = 20;
/// Most rows per page.
pub const MAX_LIMIT: i64 = 200;

/// `limit` and `cursor`, accepted by every list operation.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Rows per page (1–200, default 20).
    #[serde(default, deserialize_with = "crate::extract::query_integer")]
    #[param(minimum = 1, maximum = 200, default = 20)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page; omit it (or leave it empty) for
    /// the first page.
    #[param(max_length = 512, nullable = false)]
    pub cursor: Option<String>,
}

/// Which records a list shows by their archive state.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ArchivedParam {
    /// Active records only.
    #[default]
    Exclude,
    /// Active and archived.
    Include,
    /// Archived only.
    Only,
}

impl From<ArchivedParam> for ArchivedFilter {
    fn from(param: ArchivedParam) -> Self {
        match param {
            ArchivedParam::Exclude => Self::Exclude,
            ArchivedParam::Include => Self::Include,
            ArchivedParam::Only => Self::Only,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct CursorBody {
    /// The `sort` parameter the cursor was made for.
    s: String,
    v: SortValue,
    i: i64,
}

/// The answer to a cursor that is not one of ours, or not for this sort:
/// 422, like every well-formed value that means nothing to the server (the
/// contract can only say "a string").
pub fn invalid_cursor() -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
        "pagination.invalid_cursor",
        Text::new(
            "cursor 无效：请使用上一页返回的 next_cursor，且不要改变 sort",
            "Invalid cursor: pass the previous page's next_cursor and keep the same sort",
        ),
    )
}

impl PageParams {
    /// Builds the storage request for `sort` (its wire name and meaning).
    pub fn request<S>(
        &self,
        sort_name: &str,
        sort: S,
        direction: Direction,
    ) -> ApiResult<PageRequest<S>> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::bad_request(
                "pagination.invalid_limit",
                Text::new(
                    "limit 须在 1 到 200 之间",
                    "limit must be between 1 and 200",
                ),
            ));
        }
        // `cursor=` (empty) is the first page, as if it were absent:
        // clients often send the parameter unconditionally.
        let after = self
            .cursor
            .as_deref()
            .filter(|cursor| !cursor.is_empty())
            .map(|cursor| decode(cursor, sort_name))
            .transpose()?;
        Ok(PageRequest {
            sort,
            direction,
            after,
            limit,
        })
    }
}

fn decode(cursor: &str, sort_name: &str) -> ApiResult<After> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| invalid_cursor())?;
    let body: CursorBody = serde_json::from_slice(&bytes).map_err(|_| invalid_cursor())?;
    if body.s != sort_name {
        return Err(invalid_cursor());
    }
    Ok(After {
        value: body.v,
        id: body.i,
    })
}

fn encode(after: After, sort_name: &str) -> String {
    let body = CursorBody {
        s: sort_name.to_owned(),
        v: after.value,
        i: after.id,
    };
    // Serialising this plain struct cannot fail.
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&body).unwrap_or_default())
}

/// Longest `q` text filter, in characters.
pub const SEARCH_MAX_CHARS: usize = 100;

/// Checks a `q` text filter: at most [`SEARCH_MAX_CHARS`] characters, no
/// control characters (PostgreSQL refuses a NUL in text); an empty one
/// filters nothing.
pub fn search_text(q: Option<&str>) -> ApiResult<Option<String>> {
    match q {
        Some(text) if text.chars().count() > SEARCH_MAX_CHARS => Err(ApiError::bad_request(
            "request.invalid_query",
            Text::new("q 不能超过 100 个字符", "q must be at most 100 characters"),
        )),
        Some(text) if text.chars().any(char::is_control) => Err(ApiError::bad_request(
            "request.invalid_query",
            Text::new(
                "q 不能包含控制字符",
                "q must not contain control characters",
            ),
        )),
        Some(text) if text.trim().is_empty() => Ok(None),
        other => Ok(other.map(str::to_owned)),
    }
}

/// Converts a storage page into `(items, next_cursor)` for a page DTO.
pub fn into_parts<R, T>(
    page: Page<R>,
    sort_name: &str,
    item: impl FnMut(R) -> T,
) -> (Vec<T>, Option<String>) {
    let page = page.map(item);
    (page.items, page.next.map(|after| encode(after, sort_name)))
}

/// Declares a list response type `{items: [T], next_cursor}`. One concrete
/// type per resource keeps `items` a `$ref` in the contract (generic pages
/// get inlined by utoipa and duplicated by client generators).
#[macro_export]
macro_rules! page_type {
    ($name:ident, $item:ty, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, serde::Serialize, utoipa::ToSchema)]
        pub struct $name {
            /// This page's records, in the requested order.
            pub items: Vec<$item>,
            /// Pass as `cursor` to get the next page; `null` on the last page.
            pub next_cursor: Option<String>,
        }
    };
}

/// Declares a `sort` query parameter: each wire value (`"name"`,
/// `"-name"`) maps to a storage sort column and a direction.
#[macro_export]
macro_rules! sort_param {
    (
        $(#[$meta:meta])*
        $name:ident => $sort:ty, default $default:ident {
            $( $variant:ident = $wire:tt => ($column:expr, $direction:ident), )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, serde::Deserialize, utoipa::ToSchema)]
        pub enum $name {
            $(
                #[doc = concat!("`", $wire, "`")]
                #[serde(rename = $wire)]
                $variant,
            )+
        }

        impl Default for $name {
            fn default() -> Self {
                Self::$default
            }
        }

        impl $name {
            /// The wire value, which cursors are bound to.
            pub fn wire(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire,)+
                }
            }

            /// The storage column and direction.
            pub fn storage(self) -> ($sort, wuye_persistence::page::Direction) {
                match self {
                    $(Self::$variant => ($column, wuye_persistence::page::Direction::$direction),)+
                }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(limit: Option<i64>, cursor: Option<&str>) -> PageParams {
        PageParams {
            limit,
            cursor: cursor.map(str::to_owned),
        }
    }

    #[test]
    fn cursor_round_trips_for_its_own_sort_only() {
        let after = After {
            value: SortValue::Text("1502".into()),
            id: 7,
        };
        let cursor = encode(after.clone(), "-number");
        let request = params(None, Some(&cursor))
            .request("-number", (), Direction::Desc)
            .unwrap();
        assert_eq!(request.after, Some(after));
        assert_eq!(request.limit, DEFAULT_LIMIT);
        let other = params(None, Some(&cursor)).request("number", (), Direction::Asc);
        assert_eq!(other.unwrap_err().code(), "pagination.invalid_cursor");
    }

    #[test]
    fn search_text_refuses_control_characters_and_overlong_text() {
        assert_eq!(
            search_text(Some("a\u{0}b")).unwrap_err().code(),
            "request.invalid_query"
        );
        assert!(search_text(Some(&"x".repeat(SEARCH_MAX_CHARS + 1))).is_err());
        assert_eq!(search_text(Some("  ")).unwrap(), None);
        assert_eq!(search_text(Some("15")).unwrap().as_deref(), Some("15"));
    }

    #[test]
    fn garbage_cursors_and_limits_are_refused() {
        for cursor in ["!!!", "eyJ4IjoxfQ", "AAAA"] {
            let error = params(None, Some(cursor))
                .request("id", (), Direction::Asc)
                .unwrap_err();
            assert_eq!(error.code(), "pagination.invalid_cursor", "{cursor}");
        }
        for limit in [0, -1, MAX_LIMIT + 1] {
            let error = params(Some(limit), None)
                .request("id", (), Direction::Asc)
                .unwrap_err();
            assert_eq!(error.code(), "pagination.invalid_limit");
        }
        assert!(
            params(Some(MAX_LIMIT), None)
                .request("id", (), Direction::Asc)
                .is_ok()
        );
    }
}
