//! Optimistic concurrency: every mutable resource has a `version`, answers
//! carry it as a strong `ETag` (`"3"`), and changes must send it back in
//! `If-Match` — none is 428, a stale one 412 — so two clerks editing the
//! same house never silently overwrite each other.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header::{ETAG, IF_MATCH};
use actix_web::{FromRequest, HttpRequest, HttpResponse, HttpResponseBuilder};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;
use wuye_persistence::StoreError;

use crate::error::{ApiError, ApiResult};

/// The `If-Match` header, as documented on every change operation.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IfMatchHeader {
    /// The `ETag` from your last read of the record, e.g. `"3"` (or `*`
    /// for whatever version is current). Required: without it 428, when
    /// stale 412.
    #[serde(rename = "If-Match")]
    #[param(rename = "If-Match", example = "\"1\"", max_length = 256)]
    pub if_match: String,
}

/// What a change's `If-Match` allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// `*`: any current version.
    Any,
    /// One or more versions, any of which may be current.
    Versions(Vec<i32>),
}

impl IfMatch {
    /// Parses the header value; weak tags (`W/"3"`, added by some proxies)
    /// are read as their version. Tags that are no version of ours match
    /// nothing, so the change gets 412, as RFC 9110 asks.
    pub fn parse(value: &str) -> Self {
        if value.trim() == "*" {
            return Self::Any;
        }
        Self::Versions(
            value
                .split(',')
                .filter_map(|tag| {
                    let tag = tag.trim();
                    let tag = tag.strip_prefix("W/").unwrap_or(tag);
                    tag.strip_prefix('"')?.strip_suffix('"')?.parse().ok()
                })
                .collect(),
        )
    }

    /// The version the change must find: the single one named, or —
    /// for `*` and lists — the current one if it is allowed.
    pub fn expected_version(
        &self,
        current: impl FnOnce() -> Result<i32, StoreError>,
    ) -> ApiResult<i32> {
        match self {
            Self::Versions(versions) if versions.len() == 1 => Ok(versions[0]),
            Self::Any => Ok(current()?),
            Self::Versions(versions) => {
                let current = current()?;
                if versions.contains(&current) {
                    Ok(current)
                } else {
                    Err(ApiError::precondition_failed(current))
                }
            }
        }
    }
}

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = Ready<ApiResult<Self>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match req.headers().get(IF_MATCH).map(|v| v.to_str()) {
            None => Err(ApiError::precondition_required()),
            Some(Ok(value)) => Ok(Self::parse(value)),
            Some(Err(_)) => Ok(Self::Versions(Vec::new())),
        })
    }
}

/// The `ETag` of a version.
pub fn etag(version: i32) -> String {
    format!("\"{version}\"")
}

/// A `200 OK` with the record and its `ETag`.
pub fn ok_versioned<T: Serialize>(body: &T, version: i32) -> HttpResponse {
    versioned(HttpResponse::Ok(), body, version)
}

/// Adds the `ETag` to a response with the record as body.
pub fn versioned<T: Serialize>(
    mut builder: HttpResponseBuilder,
    body: &T,
    version: i32,
) -> HttpResponse {
    builder.insert_header((ETAG, etag(version))).json(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_strong_weak_lists_and_star() {
        assert_eq!(IfMatch::parse("\"3\""), IfMatch::Versions(vec![3]));
        assert_eq!(IfMatch::parse("W/\"3\""), IfMatch::Versions(vec![3]));
        assert_eq!(
            IfMatch::parse("\"1\", \"2\""),
            IfMatch::Versions(vec![1, 2])
        );
        assert_eq!(IfMatch::parse(" * "), IfMatch::Any);
        assert_eq!(IfMatch::parse("3"), IfMatch::Versions(vec![]));
        assert_eq!(IfMatch::parse("\"abc\""), IfMatch::Versions(vec![]));
    }

    #[test]
    fn lists_and_star_resolve_against_the_current_version() {
        let current = || Ok(5);
        assert_eq!(IfMatch::Any.expected_version(current).unwrap(), 5);
        assert_eq!(
            IfMatch::Versions(vec![4, 5])
                .expected_version(current)
                .unwrap(),
            5
        );
        assert_eq!(
            IfMatch::Versions(vec![2])
                .expected_version(current)
                .unwrap(),
            2
        );
        let stale = IfMatch::Versions(vec![1, 2])
            .expected_version(current)
            .unwrap_err();
        assert_eq!(stale.status().as_u16(), 412);
        let unparseable = IfMatch::Versions(vec![])
            .expected_version(current)
            .unwrap_err();
        assert_eq!(unparseable.status().as_u16(), 412);
    }
}
