//! The one error type at the HTTP edge and its RFC 9457 problem+json body.
//!
//! Handlers and extractors return [`ApiError`]; the request-context
//! middleware renders it in the caller's language with the request id, so an
//! error never needs to know who asked. Every `code` is stable: clients
//! branch on it, and it is listed in the contract.

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;
use wuye_persistence::{ReferenceProblem, StoreError};

use crate::i18n::{Lang, Text};

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem details body, as every error response carries it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(examples(json!({
    "type": "urn:wuye:problem:validation.failed",
    "title": "请求数据无效",
    "status": 422,
    "detail": "请求中有 1 个字段无效",
    "code": "validation.failed",
    "request_id": "8f14e45f-ceea-467f-a8f2-2d3c1b7b0c11",
    "errors": [{"field": "number", "code": "blank", "message": "不能为空"}]
})))]
pub struct Problem {
    /// A URI naming the kind of problem: `urn:wuye:problem:<code>`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A short summary of the kind of problem, in the response language.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong this time, in the response language.
    pub detail: String,
    /// Stable machine-readable code, e.g. `precondition.failed`.
    pub code: String,
    /// The request id (also in `X-Request-Id`): quote it to support.
    pub request_id: String,
    /// Field-level problems, for validation errors.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

/// One invalid field of a request.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldProblem {
    /// The field, as named in the request (`unit_id`, `number`).
    pub field: String,
    /// Stable machine-readable code, e.g. `blank`, `too_long`, `not_found`.
    pub code: String,
    /// What is wrong, in the response language.
    pub message: String,
}

/// A field-level validation failure, before rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    field: String,
    code: &'static str,
    message: Text,
}

impl FieldError {
    /// A problem with `field`, with a stable `code` and a message.
    pub fn new(field: impl Into<String>, code: &'static str, message: Text) -> Self {
        Self {
            field: field.into(),
            code,
            message,
        }
    }
}

/// An error answer: status, stable code, message in both languages, and
/// anything the client needs to act on it.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    detail: Text,
    errors: Vec<FieldError>,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.code)
    }
}

impl ApiError {
    /// Any error: prefer the named constructors below.
    pub fn new(status: StatusCode, code: &'static str, detail: Text) -> Self {
        Self {
            status,
            code,
            detail,
            errors: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// Adds a response header (`Allow`, `Retry-After`).
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// 404: no such record, or none the caller may see — the two are
    /// deliberately indistinguishable.
    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            Text::new(
                "资源不存在，或不在您的数据范围内",
                "The resource does not exist or is outside your data scope",
            ),
        )
    }

    /// 422 with field-level problems.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let count = errors.len();
        let mut error = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation.failed",
            Text::owned(
                format!("请求中有 {count} 个字段无效"),
                format!("{count} field(s) of the request are invalid"),
            ),
        );
        error.errors = errors;
        error
    }

    /// 422 for one field.
    pub fn invalid_field(field: impl Into<String>, code: &'static str, message: Text) -> Self {
        Self::validation(vec![FieldError::new(field, code, message)])
    }

    /// 400: the request is malformed (syntax, wrong parameter type).
    pub fn bad_request(code: &'static str, detail: Text) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    /// 409: the request conflicts with the record's current state.
    pub fn conflict(code: &'static str, detail: Text) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }

    /// 428: a change without `If-Match`.
    pub fn precondition_required() -> Self {
        Self::new(
            StatusCode::PRECONDITION_REQUIRED,
            "precondition.required",
            Text::new(
                "修改需要 If-Match 请求头（取自上次读取的 ETag），以免覆盖他人的修改",
                "Changes need an If-Match header (the ETag you last read) so they never overwrite someone else's",
            ),
        )
    }

    /// 412: `If-Match` names a version that is no longer current.
    pub fn precondition_failed(current: i32) -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            "precondition.failed",
            Text::owned(
                format!("记录已被修改（当前版本 {current}），请重新读取后再提交"),
                format!("The record has changed (now version {current}); read it again and retry"),
            ),
        )
    }

    /// 503: the database cannot be reached; safe to retry later.
    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service.unavailable",
            Text::new(
                "服务暂时不可用，请稍后重试",
                "The service is temporarily unavailable; please retry shortly",
            ),
        )
        .with_header(
            actix_web::http::header::RETRY_AFTER,
            HeaderValue::from_static("5"),
        )
    }

    /// 500: something unexpected. `cause` is logged, never sent.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            Text::new(
                "服务器内部错误，请凭请求编号联系管理员",
                "Internal server error; contact support with the request id",
            ),
        )
    }

    /// A generic problem for a status that arrived without one (actix's
    /// own errors, a route that does not exist).
    pub fn from_status(status: StatusCode) -> Self {
        match status {
            StatusCode::NOT_FOUND => Self::new(
                status,
                "route.not_found",
                Text::new("没有这个接口", "No such endpoint"),
            ),
            StatusCode::PAYLOAD_TOO_LARGE => Self::new(
                status,
                "request.too_large",
                Text::new("请求体过大", "The request body is too large"),
            ),
            s if s.is_server_error() => Self::internal(&format!("untyped {s} response")),
            s => Self::new(
                s,
                "request.invalid",
                Text::new("请求无效", "The request is invalid"),
            ),
        }
    }

    /// Renders the problem body in `lang` for request `request_id`.
    pub fn problem(&self, lang: Lang, request_id: &str) -> Problem {
        Problem {
            problem_type: format!("urn:wuye:problem:{}", self.code),
            title: title(self.status, lang).to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.get(lang).to_owned(),
            code: self.code.to_owned(),
            request_id: request_id.to_owned(),
            errors: self
                .errors
                .iter()
                .map(|e| FieldProblem {
                    field: e.field.clone(),
                    code: e.code.to_owned(),
                    message: e.message.get(lang).to_owned(),
                })
                .collect(),
        }
    }

    /// The full response in `lang` for request `request_id`.
    pub fn render(&self, lang: Lang, request_id: &str) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.content_type(PROBLEM_JSON);
        for (name, value) in &self.headers {
            response.insert_header((name.clone(), value.clone()));
        }
        response.json(self.problem(lang, request_id))
    }
}

fn title(status: StatusCode, lang: Lang) -> &'static str {
    let (zh, en) = match status.as_u16() {
        400 => ("请求格式错误", "Bad request"),
        401 => ("未登录", "Unauthenticated"),
        403 => ("无权操作", "Forbidden"),
        404 => ("未找到", "Not found"),
        405 => ("不支持的请求方法", "Method not allowed"),
        406 => ("无法提供所需格式", "Not acceptable"),
        409 => ("状态冲突", "Conflict"),
        412 => ("版本已过期", "Precondition failed"),
        413 => ("请求体过大", "Payload too large"),
        415 => ("不支持的内容类型", "Unsupported media type"),
        422 => ("请求数据无效", "Unprocessable content"),
        428 => ("缺少 If-Match", "Precondition required"),
        429 => ("请求过于频繁", "Too many requests"),
        503 => ("服务不可用", "Service unavailable"),
        500..=599 => ("服务器错误", "Server error"),
        _ => ("请求错误", "Request error"),
    };
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    /// Rendered in Chinese without a request id; the request-context
    /// middleware re-renders it for the actual request.
    fn error_response(&self) -> HttpResponse {
        self.render(Lang::Zh, "")
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => Self::not_found(),
            StoreError::CompanyScopeRequired => Self::new(
                StatusCode::FORBIDDEN,
                "auth.company_scope_required",
                Text::new(
                    "此操作涉及公司级记录，需要全公司范围的授权",
                    "This concerns company-level records and needs a company-wide scope",
                ),
            ),
            StoreError::VersionMismatch { current } => Self::precondition_failed(current),
            StoreError::Archived => Self::conflict(
                "conflict.archived",
                Text::new(
                    "记录已归档，不能再修改",
                    "The record is archived and can no longer change",
                ),
            ),
            StoreError::InvalidCursor => crate::pagination::invalid_cursor(),
            StoreError::InvalidReference { field, problem } => Self::invalid_field(
                field,
                match problem {
                    ReferenceProblem::Missing => "reference.not_found",
                    ReferenceProblem::Archived => "reference.archived",
                },
                match problem {
                    ReferenceProblem::Missing => {
                        Text::new("引用的记录不存在", "The referenced record does not exist")
                    }
                    ReferenceProblem::Archived => Text::new(
                        "引用的记录已归档，不能在其下新建",
                        "The referenced record is archived; nothing new can be added below it",
                    ),
                },
            ),
            StoreError::Invalid { field, code } => {
                Self::invalid_field(field, code, crate::validate::rule_message(code))
            }
            StoreError::Duplicate { field } => {
                let mut error = Self::conflict(
                    "conflict.duplicate",
                    Text::owned(
                        format!("{field} 已被同一上级下的其他有效记录使用"),
                        format!(
                            "{field} is already used by another active record under the same parent"
                        ),
                    ),
                );
                error.errors.push(FieldError::new(
                    field,
                    "duplicate",
                    Text::new("已被使用", "already used"),
                ));
                error
            }
            StoreError::HasActiveChildren {
                children,
                active_children,
            } => Self::conflict(
                "conflict.has_active_children",
                Text::owned(
                    format!(
                        "还有 {active_children} 个有效的下级记录（{}），请先归档它们",
                        children_zh(children)
                    ),
                    format!(
                        "{active_children} active {children} still depend on it; archive them first"
                    ),
                ),
            ),
            StoreError::Unavailable(cause) => {
                tracing::warn!(%cause, "database unavailable");
                Self::unavailable()
            }
            other @ (StoreError::Config(_) | StoreError::Internal(_) | StoreError::Database(_)) => {
                Self::internal(&other)
            }
        }
    }
}

fn children_zh(children: &str) -> &'static str {
    match children {
        "estates" => "小区",
        "buildings" => "楼栋",
        "units" => "单元",
        "houses" => "房屋",
        "role_assignments" => "角色授权",
        _ => "下级记录",
    }
}

/// The result type of handlers.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_map_to_stable_statuses_and_codes() {
        let cases = [
            (StoreError::NotFound, 404, "not_found"),
            (
                StoreError::VersionMismatch { current: 3 },
                412,
                "precondition.failed",
            ),
            (StoreError::Archived, 409, "conflict.archived"),
            (
                StoreError::Duplicate { field: "number" },
                409,
                "conflict.duplicate",
            ),
            (
                StoreError::HasActiveChildren {
                    children: "houses",
                    active_children: 2,
                },
                409,
                "conflict.has_active_children",
            ),
            (
                StoreError::InvalidReference {
                    field: "unit_id",
                    problem: ReferenceProblem::Missing,
                },
                422,
                "validation.failed",
            ),
            (
                StoreError::Unavailable("down".into()),
                503,
                "service.unavailable",
            ),
            (
                StoreError::Internal("secret detail".into()),
                500,
                "internal",
            ),
        ];
        for (store, status, code) in cases {
            let error = ApiError::from(store);
            assert_eq!(error.status().as_u16(), status);
            assert_eq!(error.code(), code);
        }
    }

    #[test]
    fn problem_body_names_the_field_and_never_the_cause() {
        let error = ApiError::from(StoreError::InvalidReference {
            field: "unit_id",
            problem: ReferenceProblem::Missing,
        });
        let body = serde_json::to_value(error.problem(Lang::En, "req-1")).unwrap();
        assert_eq!(body["type"], "urn:wuye:problem:validation.failed");
        assert_eq!(body["status"], 422);
        assert_eq!(body["request_id"], "req-1");
        assert_eq!(body["errors"][0]["field"], "unit_id");
        assert_eq!(body["errors"][0]["code"], "reference.not_found");

        let internal = ApiError::from(StoreError::Internal("SELECT * FROM secrets".into()));
        let text = serde_json::to_string(&internal.problem(Lang::Zh, "req-2")).unwrap();
        assert!(!text.contains("SELECT"), "{text}");
        assert!(text.contains("req-2"));
    }

    #[test]
    fn messages_follow_the_language() {
        let error = ApiError::precondition_required();
        assert_ne!(
            error.problem(Lang::Zh, "").detail,
            error.problem(Lang::En, "").detail
        );
        assert_eq!(error.problem(Lang::En, "").title, "Precondition required");
    }
}
