//! The two middlewares every request passes, outermost first:
//!
//! 1. [`request_context`]: gives the request an id and a language, renders
//!    every error (ours and actix's own) as problem+json in that language,
//!    stamps `X-Request-Id`, logs one line and records metrics;
//! 2. [`method_override`]: `POST` + `X-HTTP-Method-Override: PATCH|PUT|DELETE`
//!    becomes that method before routing, because WeChat's `wx.request` and
//!    some corporate proxies cannot send `PATCH`; `HEAD` is routed as `GET`.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{CONTENT_LANGUAGE, CONTENT_TYPE, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpRequest, web};

use crate::error::{ApiError, PROBLEM_JSON};
use crate::i18n::{Lang, Text};
use crate::metrics::Metrics;

/// The request-id header, read from the client when sane, else generated.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// The method-override header.
pub const METHOD_OVERRIDE: HeaderName = HeaderName::from_static("x-http-method-override");

/// Who is asking, in which language: set by [`request_context`].
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// This request's id (echoed in `X-Request-Id` and in error bodies).
    pub request_id: String,
    /// The language of messages.
    pub lang: Lang,
}

impl RequestContext {
    /// The context of a request (a default one outside the middleware).
    pub fn of(req: &HttpRequest) -> Self {
        req.extensions()
            .get::<Self>()
            .cloned()
            .unwrap_or_else(|| Self {
                request_id: String::new(),
                lang: Lang::from_headers(req.headers()),
            })
    }
}

fn request_id_from(req: &ServiceRequest) -> String {
    req.headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|id| {
            !id.is_empty()
                && id.len() <= 64
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        })
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}

/// See the module documentation.
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    let context = RequestContext {
        request_id: request_id_from(&req),
        lang: Lang::from_headers(req.headers()),
    };
    req.extensions_mut().insert(context.clone());
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let method = req.method().clone();
    let path = req.path().to_owned();

    let response = match next.call(req).await {
        Ok(response) => as_problem(response.map_into_boxed_body(), &context),
        Err(error) => {
            // Only a middleware error lands here; handlers' errors arrive
            // as responses. Without the request no response can be built,
            // so let actix answer and log it.
            tracing::error!(request_id = %context.request_id, %error, "middleware error");
            return Err(error);
        }
    };
    let mut response = response;
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&context.request_id) {
        headers.insert(REQUEST_ID, value);
    }
    headers.insert(
        CONTENT_LANGUAGE,
        HeaderValue::from_static(context.lang.tag()),
    );

    let status = response.status();
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let elapsed = started.elapsed();
    if let Some(metrics) = metrics {
        // The method as routed (after HEAD and method override).
        metrics.record(
            response.request().method(),
            &route,
            status.as_u16(),
            elapsed,
        );
    }
    tracing::info!(
        request_id = %context.request_id,
        %method,
        %path,
        status = status.as_u16(),
        micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
        "request"
    );
    Ok(response)
}

/// Re-renders an error response as problem+json in the request's language:
/// our own [`ApiError`] with its code and fields, anything else (actix's
/// plain-text errors) as a generic problem for its status.
fn as_problem(
    response: ServiceResponse<BoxBody>,
    context: &RequestContext,
) -> ServiceResponse<BoxBody> {
    let status = response.status();
    if !status.is_client_error() && !status.is_server_error() {
        return response;
    }
    let rendered = if let Some(error) = response
        .response()
        .error()
        .and_then(|e| e.as_error::<ApiError>())
    {
        error.render(context.lang, &context.request_id)
    } else {
        let already_problem = response
            .headers()
            .get(CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
        if already_problem {
            return response;
        }
        if let Some(error) = response.response().error() {
            tracing::debug!(request_id = %context.request_id, %error, "framework error");
        }
        ApiError::from_status(status).render(context.lang, &context.request_id)
    };
    response.into_response(rendered)
}

/// See the module documentation.
pub async fn method_override(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    // HEAD is GET without a body (RFC 9110); actix leaves the body out of a
    // HEAD answer by itself, so routing it as GET is all it takes.
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    if req.method() == Method::POST
        && let Some(value) = req.headers().get(METHOD_OVERRIDE)
    {
        let method = match value.to_str().map(str::to_ascii_uppercase).as_deref() {
            Ok("PATCH") => Method::PATCH,
            Ok("PUT") => Method::PUT,
            Ok("DELETE") => Method::DELETE,
            _ => {
                let error = ApiError::bad_request(
                    "request.invalid_method_override",
                    Text::new(
                        "X-HTTP-Method-Override 只能是 PATCH、PUT 或 DELETE",
                        "X-HTTP-Method-Override must be PATCH, PUT or DELETE",
                    ),
                );
                return Ok(req.error_response(error));
            }
        };
        req.head_mut().method = method;
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_boxed_body)
}
