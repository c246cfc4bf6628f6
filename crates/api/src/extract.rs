//! Request extractors whose failures are problem+json like every other error.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::{PathError, QueryPayloadError};
use actix_web::http::header::CONTENT_TYPE;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::i18n::Text;

/// A JSON request body.
///
/// Unlike `web::Json` it accepts integral floats such as `3.0` where an
/// integer is expected (JSON Schema counts them as integers, and so do
/// generated clients), tells a syntax error (400) from a body of the wrong
/// shape (422), and answers both as problem+json.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            })
            .unwrap_or(false);
        let body = Bytes::from_request(req, payload);
        Box::pin(async move {
            let body = body
                .await
                .map_err(|error| ApiError::from_status(error.as_response_error().status_code()))?;
            if !is_json {
                return Err(ApiError::new(
                    actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "request.unsupported_media_type",
                    Text::new(
                        "请求体须为 JSON（Content-Type: application/json）",
                        "The body must be JSON (Content-Type: application/json)",
                    ),
                ));
            }
            let mut value: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
                ApiError::bad_request(
                    "request.malformed_json",
                    Text::owned(
                        format!("请求体不是有效的 JSON：{e}"),
                        format!("The body is not valid JSON: {e}"),
                    ),
                )
            })?;
            // Every body is an object; serde would also read a struct from
            // an array of its fields in order, which no client means.
            if !value.is_object() {
                return Err(ApiError::new(
                    actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
                    "request.invalid_body",
                    Text::new("请求体须为 JSON 对象", "The body must be a JSON object"),
                ));
            }
            integral_floats_to_integers(&mut value);
            T::deserialize(value).map(Json).map_err(|e| {
                ApiError::new(
                    actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
                    "request.invalid_body",
                    Text::owned(
                        format!("请求体的结构或字段类型不符合接口定义：{e}"),
                        format!("The body does not match the operation's schema: {e}"),
                    ),
                )
            })
        })
    }
}

/// Rewrites `3.0` as `3` everywhere in a JSON value, so integer fields
/// accept what JSON Schema calls an integer. Fractional numbers stay.
fn integral_floats_to_integers(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Number(number) if number.is_f64() => {
            if let Some(float) = number.as_f64() {
                // Exactly representable range of i64 in f64.
                if float.fract() == 0.0 && float.abs() < 9.007_199_254_740_992e15 {
                    #[allow(clippy::cast_possible_truncation)]
                    let integer = float as i64;
                    *value = serde_json::Value::from(integer);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(integral_floats_to_integers),
        serde_json::Value::Object(fields) => {
            fields.values_mut().for_each(integral_floats_to_integers)
        }
        _ => {}
    }
}

/// The `{id}` of a resource path. Accepts what JSON Schema calls an
/// integer, `42` and also `42.0`, so generated clients that format integers
/// as floats still reach the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Id(pub i64);

impl FromRequest for Id {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let text = req.match_info().get("id").unwrap_or_default();
        std::future::ready(parse_id(text).map(Id).ok_or_else(|| {
            ApiError::bad_request(
                "request.invalid_path",
                Text::owned(
                    format!("路径中的 id 须为整数，收到 {text:?}"),
                    format!("The id in the path must be an integer, got {text:?}"),
                ),
            )
        }))
    }
}

/// Deserialises an optional integer query parameter, accepting integral
/// floats (`3.0`) as JSON Schema does. Use with
/// `#[serde(default, deserialize_with = "crate::extract::query_integer")]`.
pub fn query_integer<'de, D>(deserializer: D) -> Result<Option<i64>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::Deserialize;
    match Option::<String>::deserialize(deserializer)? {
        None => Ok(None),
        Some(text) => parse_id(&text)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("not an integer: {text:?}"))),
    }
}

fn parse_id(text: &str) -> Option<i64> {
    if let Ok(id) = text.parse::<i64>() {
        return Some(id);
    }
    let (whole, fraction) = text.split_once('.')?;
    if fraction.is_empty() || !fraction.bytes().all(|b| b == b'0') {
        return None;
    }
    whole.parse().ok()
}

/// Query-string failures as problem+json (register with `app_data`).
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|error: QueryPayloadError, _req| {
        ApiError::bad_request(
            "request.invalid_query",
            Text::owned(
                format!("查询参数无效：{error}"),
                format!("Invalid query parameter: {error}"),
            ),
        )
        .into()
    })
}

/// Path-parameter failures (`/houses/abc`) as problem+json.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|error: PathError, _req| {
        ApiError::bad_request(
            "request.invalid_path",
            Text::owned(
                format!("路径参数无效：{error}"),
                format!("Invalid path parameter: {error}"),
            ),
        )
        .into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_ids_accept_integral_floats_only() {
        assert_eq!(parse_id("42"), Some(42));
        assert_eq!(parse_id("-3"), Some(-3));
        assert_eq!(parse_id("138.0"), Some(138));
        assert_eq!(parse_id("138.00"), Some(138));
        for bad in ["138.5", "138.", "abc", "", "1e3", ".0"] {
            assert_eq!(parse_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn integral_floats_become_integers_and_fractions_stay() {
        let mut value =
            serde_json::json!({"floor": 3.0, "area": 89.5, "ids": [1.0, -2.0], "big": 1e300});
        integral_floats_to_integers(&mut value);
        assert_eq!(value["floor"], serde_json::json!(3));
        assert!(value["floor"].is_i64());
        assert_eq!(value["area"], serde_json::json!(89.5));
        assert_eq!(value["ids"], serde_json::json!([1, -2]));
        assert!(value["big"].is_f64());
    }
}
