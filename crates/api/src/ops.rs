//! Operational endpoints: liveness, readiness, metrics, the contract, and
//! the answer for routes and methods that do not exist.

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header::{ALLOW, CONTENT_TYPE, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;
use wuye_persistence::Db;

use crate::error::{ApiError, ApiResult, Problem};
use crate::i18n::Text;
use crate::metrics::Metrics;

/// A health answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` when healthy.
    #[schema(examples("ok"))]
    pub status: String,
}

/// Liveness: the process answers.
#[utoipa::path(
    tag = "ops",
    operation_id = "get_healthz",
    summary = "存活检查 / Liveness",
    description = "进程在运行即返回 200，不访问数据库。\n\nAnswers 200 while the process runs; does not touch the database.",
    responses((status = 200, description = "存活 / Alive", body = Health))
)]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok".to_owned(),
    })
}

/// Readiness: the database answers.
#[utoipa::path(
    tag = "ops",
    operation_id = "get_readyz",
    summary = "就绪检查 / Readiness",
    description = "数据库可用时返回 200，否则 503（problem+json），负载均衡据此摘除节点。\n\nAnswers 200 when the database answers, else 503, so a load balancer can take the node out.",
    responses(
        (status = 200, description = "就绪 / Ready", body = Health),
        (status = 503, description = "数据库不可用 / Database unavailable", body = Problem, content_type = "application/problem+json")
    )
)]
#[get("/readyz")]
pub async fn readyz(db: web::Data<Db>) -> ApiResult<HttpResponse> {
    db.ping(Duration::from_secs(2)).await.map_err(|error| {
        tracing::warn!(%error, "not ready");
        ApiError::unavailable()
    })?;
    Ok(HttpResponse::Ok().json(Health {
        status: "ok".to_owned(),
    }))
}

/// Prometheus metrics.
#[utoipa::path(
    tag = "ops",
    operation_id = "get_metrics",
    summary = "运行指标 / Metrics",
    description = "Prometheus 文本格式的请求计数与延迟。\n\nRequest counts and latencies in Prometheus text format.",
    responses((status = 200, description = "指标 / Metrics", body = String, content_type = "text/plain"))
)]
#[get("/metrics")]
pub async fn metrics(metrics: web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics.render())
}

/// The OpenAPI document, byte for byte the committed `openapi/openapi.json`.
pub async fn openapi_json(document: web::Data<OpenApiJson>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "application/json"))
        .body(document.0.as_str().to_owned())
}

/// `/docs` → `/docs/`, where Swagger UI lives (its relative asset links need
/// the slash).
pub async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((actix_web::http::header::LOCATION, "/docs/"))
        .finish()
}

/// The serialised contract, shared by every worker.
#[derive(Debug, Clone)]
pub struct OpenApiJson(pub Arc<String>);

/// Every route the server knows, with its methods, for `405` + `Allow`.
#[derive(Debug, Default)]
pub struct RouteTable {
    routes: Vec<(Vec<Segment>, Vec<Method>)>,
}

#[derive(Debug, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Parameter,
}

impl RouteTable {
    /// Adds a route template (`/api/v1/houses/{id}`) served with `method`.
    pub fn add(&mut self, template: &str, method: Method) {
        let segments: Vec<Segment> = template
            .split('/')
            .map(|s| {
                if s.starts_with('{') && s.ends_with('}') {
                    Segment::Parameter
                } else {
                    Segment::Literal(s.to_owned())
                }
            })
            .collect();
        match self
            .routes
            .iter_mut()
            .find(|(existing, _)| *existing == segments)
        {
            Some((_, methods)) if !methods.contains(&method) => methods.push(method),
            Some(_) => {}
            None => self.routes.push((segments, vec![method])),
        }
    }

    /// The methods served on `path`, if any route matches it.
    fn methods_for(&self, path: &str) -> Option<&[Method]> {
        let parts: Vec<&str> = path.split('/').collect();
        self.routes.iter().find_map(|(segments, methods)| {
            let matches = segments.len() == parts.len()
                && segments
                    .iter()
                    .zip(&parts)
                    .all(|(segment, part)| match segment {
                        Segment::Literal(literal) => literal == part,
                        Segment::Parameter => !part.is_empty(),
                    });
            matches.then_some(methods.as_slice())
        })
    }
}

/// Unknown route → 404; known route, other method → 405 with `Allow`
/// (`OPTIONS` → 204 with `Allow`).
pub async fn fallback(req: HttpRequest, routes: web::Data<RouteTable>) -> ApiResult<HttpResponse> {
    let Some(methods) = routes.methods_for(req.path()) else {
        return Err(ApiError::from_status(StatusCode::NOT_FOUND));
    };
    let mut allowed: Vec<&str> = methods.iter().map(Method::as_str).collect();
    if methods.contains(&Method::GET) {
        allowed.push("HEAD");
    }
    allowed.push("OPTIONS");
    let allow =
        HeaderValue::from_str(&allowed.join(", ")).unwrap_or(HeaderValue::from_static("GET"));
    if req.method() == Method::OPTIONS {
        return Ok(HttpResponse::NoContent()
            .insert_header((ALLOW, allow))
            .finish());
    }
    Err(ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method.not_allowed",
        Text::owned(
            format!("该接口不支持 {} 方法", req.method()),
            format!("This endpoint does not support {}", req.method()),
        ),
    )
    .with_header(ALLOW, allow))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_table_matches_templates_by_segment() {
        let mut table = RouteTable::default();
        table.add("/api/v1/houses", Method::GET);
        table.add("/api/v1/houses", Method::POST);
        table.add("/api/v1/houses/{id}", Method::GET);
        assert_eq!(
            table.methods_for("/api/v1/houses"),
            Some(&[Method::GET, Method::POST][..])
        );
        assert_eq!(
            table.methods_for("/api/v1/houses/7"),
            Some(&[Method::GET][..])
        );
        assert_eq!(table.methods_for("/api/v1/houses/"), None);
        assert_eq!(table.methods_for("/api/v1/houses/7/x"), None);
    }
}
