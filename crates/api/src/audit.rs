//! Writing the audit log (R-X-1, R-CRM-2): one event per write, reveal or
//! export, in the transaction of the change itself. Changed fields are
//! stored with secrets removed and personal data masked, so the log is no
//! back door to what the API masks.

use serde::Serialize;
use serde_json::Value;
use wuye_domain::personal::{mask_middle, mask_phone};
use wuye_persistence::audit::{self as store, Actor, AuditTarget, NewAuditEvent};
use wuye_persistence::{DbConn, StoreError};

/// Appends an event: `actor` did `action` to `target`, changing `changes`
/// (a request body or any serialisable summary; redacted here).
pub fn record<C: Serialize + ?Sized>(
    conn: &mut DbConn,
    actor: &Actor,
    action: &str,
    target: AuditTarget,
    changes: &C,
) -> Result<(), StoreError> {
    let changes = serde_json::to_value(changes)
        .map_err(|e| StoreError::Internal(format!("audit changes not serialisable: {e}")))?;
    let changes = redact(changes).to_string();
    store::record(
        conn,
        &NewAuditEvent {
            actor,
            action,
            target,
            changes,
        },
    )
}

/// Field names whose values never enter the log at all.
const SECRET_FIELDS: &[&str] = &[
    "password",
    "current_password",
    "new_password",
    "secret",
    "token",
    "access_token",
    "refresh_token",
    "js_code",
    "phone_code",
    "key",
];

/// Masks personal data and drops secrets, at any depth.
pub fn redact(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(field, value)| {
                    let value = redact_field(&field, value);
                    (field, value)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(redact).collect()),
        other => other,
    }
}

fn redact_field(field: &str, value: Value) -> Value {
    if SECRET_FIELDS.contains(&field) {
        return Value::String("[redacted]".to_owned());
    }
    match value {
        Value::String(text) if field.contains("phone") || field == "mobile" => {
            Value::String(mask_phone(&text))
        }
        Value::String(text) if field.contains("id_number") => {
            Value::String(mask_middle(&text, 3, 4))
        }
        other => redact(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_dropped_and_personal_data_masked() {
        let redacted = redact(json!({
            "username": "li.lei",
            "password": "correct horse 9",
            "mobile": "13812345678",
            "nested": {"contact_phone": "13987654321", "id_number": "11010519491231002X"},
            "list": [{"refresh_token": "abc"}],
        }));
        assert_eq!(
            redacted,
            json!({
                "username": "li.lei",
                "password": "[redacted]",
                "mobile": "138****5678",
                "nested": {"contact_phone": "139****4321", "id_number": "110***********002X"},
                "list": [{"refresh_token": "[redacted]"}],
            })
        );
    }
}
