//! Turning request bodies into domain values, collecting every field problem
//! into one 422 rather than stopping at the first.
//!
//! Limits live in the domain; DTOs repeat them in `#[schema(...)]` so the
//! contract states them, and a schema-valid request is never refused for a
//! rule the schema does not show.

use serde::{Deserialize, Deserializer};
use wuye_domain::org::OrgError;
use wuye_domain::{Label, TextError};

use crate::error::FieldError;
use crate::i18n::Text;

/// The JSON-Schema pattern of a [`Label`]: at least one visible character
/// and no control characters. Used by DTO `#[schema(pattern = …)]`.
pub const LABEL_PATTERN: &str = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$";

/// Parses every field, then either binds each name to its parsed value or
/// returns one `422` listing every invalid field:
///
/// ```ignore
/// parse_fields! {
///     name = label("name", &body.name, NAME_MAX_CHARS);
///     floor = floor("floor", body.floor);
/// }
/// ```
#[macro_export]
macro_rules! parse_fields {
    ($($name:ident = $parse:expr;)+) => {
        let mut errors: Vec<$crate::error::FieldError> = Vec::new();
        $(
            let $name = match $parse {
                Ok(value) => Some(value),
                Err(error) => {
                    errors.push(error);
                    None
                }
            };
        )+
        let ($(Some($name),)+) = ($($name,)+) else {
            return Err($crate::error::ApiError::validation(errors));
        };
    };
}

/// Parses a required label.
pub fn label(field: &'static str, input: &str, max: usize) -> Result<Label, FieldError> {
    Label::parse(input, max).map_err(|e| text_error(field, e))
}

/// Parses an optional label (absent or `null` stays `None`).
pub fn optional_label(
    field: &'static str,
    input: Option<&str>,
    max: usize,
) -> Result<Option<Label>, FieldError> {
    input.map(|text| label(field, text, max)).transpose()
}

/// Parses a PATCH field that may be absent (keep), `null` (clear) or set.
pub fn patch_label(
    field: &'static str,
    input: Option<Option<&str>>,
    max: usize,
) -> Result<Option<Option<String>>, FieldError> {
    match input {
        None => Ok(None),
        Some(None) => Ok(Some(None)),
        Some(Some(text)) => Ok(Some(Some(label(field, text, max)?.into_inner()))),
    }
}

/// Maps a domain rule failure on `field` to a field error.
pub fn rule(field: &'static str, error: OrgError) -> FieldError {
    FieldError::new(field, error.code(), rule_message(error.code()))
}

fn text_error(field: &'static str, error: TextError) -> FieldError {
    match error {
        TextError::Blank => {
            FieldError::new(field, "blank", Text::new("不能为空", "must not be blank"))
        }
        TextError::TooLong { max } => FieldError::new(
            field,
            "too_long",
            Text::owned(
                format!("不能超过 {max} 个字符"),
                format!("must be at most {max} characters"),
            ),
        ),
        TextError::ControlCharacter => FieldError::new(
            field,
            "control_character",
            Text::new(
                "不能包含换行等控制字符",
                "must not contain control characters",
            ),
        ),
    }
}

/// Maps any domain rule failure, given by its stable code, to a field error.
pub fn rule_code(field: &'static str, code: &'static str) -> FieldError {
    FieldError::new(field, code, rule_message(code))
}

/// The message of a domain rule code, for rules checked in storage too.
pub fn rule_message(code: &str) -> Text {
    match code {
        "invalid_vip_card_prefix" => Text::new(
            "VIP 卡号前缀须为两个大写英文字母",
            "VIP card prefix must be two capital letters A–Z",
        ),
        "unknown_time_zone" => Text::new(
            "不是有效的 IANA 时区名称（如 Asia/Shanghai）",
            "not an IANA time-zone name (such as Asia/Shanghai)",
        ),
        "area_out_of_range" => Text::new(
            "面积须在 0 到 100000 平方米之间",
            "area must be between 0 and 100000 m²",
        ),
        "usable_area_exceeds_building_area" => Text::new(
            "套内面积不能大于建筑面积",
            "usable area cannot exceed building area",
        ),
        "floor_out_of_range" => Text::new(
            "楼层须在 -20 到 300 之间",
            "floor must be between -20 and 300",
        ),
        "invalid_username" => Text::new(
            "用户名须为 3 到 32 个小写字母、数字、点、下划线或连字符，并以字母或数字开头",
            "username must be 3–32 of a-z, 0-9, '.', '_' or '-', starting with a letter or digit",
        ),
        "password_length" => Text::new(
            "密码须为 10 到 128 个字符",
            "password must be 10 to 128 characters",
        ),
        "password_too_simple" => Text::new(
            "密码须同时包含字母和数字或符号",
            "password must mix letters with digits or symbols",
        ),
        "scope_needs_offices" => Text::new(
            "数据范围为指定管理处时，须列出至少一个管理处 id",
            "an office scope must list at least one office id",
        ),
        "scope_takes_no_offices" => Text::new(
            "只有指定管理处的数据范围才能列出管理处",
            "only an office scope lists offices",
        ),
        "scope_too_many_offices" => Text::new(
            "一个数据范围最多列出 200 个管理处",
            "a scope lists at most 200 offices",
        ),
        "invalid_mobile_phone" => Text::new(
            "不是有效的中国大陆手机号",
            "not a mainland China mobile phone number",
        ),
        "builtin_role_is_fixed" => Text::new(
            "内置角色不能修改或归档；请新建自定义角色",
            "built-in roles cannot be changed or archived; create a custom role instead",
        ),
        _ => Text::new("不符合业务规则", "breaks a business rule"),
    }
}

/// Deserialises a PATCH field so that absent stays `None` (keep) while an
/// explicit `null` becomes `Some(None)` (clear). Use with
/// `#[serde(default, deserialize_with = "double_option")]`.
pub fn double_option<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Deserialises an optional field that may be absent but never `null`
/// (the contract says so). Use with
/// `#[serde(default, deserialize_with = "non_null")]`.
pub fn non_null<'de, T, D>(deserializer: D) -> Result<Option<T>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    T::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use crate::error::ApiError;

    use super::*;

    fn parse_two(name: &str, address: &str) -> Result<(Label, Label), ApiError> {
        parse_fields! {
            name = label("name", name, 5);
            address = label("address", address, 5);
        }
        Ok((name, address))
    }

    #[test]
    fn every_invalid_field_is_reported_at_once() {
        let error = parse_two(" ", "toolongtext").unwrap_err();
        let body = serde_json::to_value(error.problem(crate::i18n::Lang::En, "r")).unwrap();
        let codes: Vec<_> = body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
            .collect();
        assert_eq!(codes, [("name", "blank"), ("address", "too_long")]);
        assert!(parse_two("a", "b").is_ok());
    }

    #[test]
    fn patch_label_keeps_clears_or_sets() {
        assert_eq!(patch_label("f", None, 5), Ok(None));
        assert_eq!(patch_label("f", Some(None), 5), Ok(Some(None)));
        assert_eq!(
            patch_label("f", Some(Some(" x ")), 5),
            Ok(Some(Some("x".into())))
        );
        assert!(patch_label("f", Some(Some("")), 5).is_err());
    }
}
