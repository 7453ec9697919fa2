//! Request bodies derived from a valid one, for table-driven tests:
//!
//! ```ignore
//! let ok = json!({"store_id": 1, "horizon": 7});
//! for (body, field) in [
//!     (merged(&ok, &json!({"horizon": 0})), "horizon"),
//!     (without(&ok, &["store_id"]), "store_id"),
//!     (with(&ok, |b| b["config"]["extra"] = json!(1)), "config.extra"),
//! ] {
//!     app.post("/path", &body).await.assert_invalid(field);
//! }
//! ```

use serde_json::Value;

/// `base` with `edit` applied to a copy.
pub fn with(base: &Value, edit: impl FnOnce(&mut Value)) -> Value {
    let mut value = base.clone();
    edit(&mut value);
    value
}

/// `base` with each top-level member of the object `patch` set (replacing
/// the member of the same name).
pub fn merged(base: &Value, patch: &Value) -> Value {
    with(base, |value| {
        if let Some(members) = patch.as_object() {
            for (key, member) in members {
                value[key] = member.clone();
            }
        }
    })
}

/// `base` without the top-level members `keys`.
pub fn without(base: &Value, keys: &[&str]) -> Value {
    with(base, |value| {
        if let Some(object) = value.as_object_mut() {
            for key in keys {
                object.remove(*key);
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn derived_bodies_leave_the_base_alone() {
        let base = json!({"a": 1, "b": {"c": 2}});
        assert_eq!(
            merged(&base, &json!({"b": 3, "d": 4})),
            json!({"a": 1, "b": 3, "d": 4})
        );
        assert_eq!(without(&base, &["a", "x"]), json!({"b": {"c": 2}}));
        assert_eq!(
            with(&base, |v| v["b"]["c"] = json!(5)),
            json!({"a": 1, "b": {"c": 5}})
        );
        assert_eq!(base, json!({"a": 1, "b": {"c": 2}}));
    }
}
