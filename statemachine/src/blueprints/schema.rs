//! The subset of JSON Schema that a blueprint definition may hold, as the reference
//! checks it: `required` keys at the top, and per property its `type`, `enum`, nested
//! `properties` of objects and `items` of arrays. Anything else in a schema is ignored.

use serde_json::{Map, Value};

/// Checks a blueprint's spec (an object) against a definition's schema.
pub(crate) fn check(spec: &Map<String, Value>, schema: &Value) -> Result<(), String> {
    for required in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
        let Some(key) = required.as_str() else { continue };
        if !spec.contains_key(key) {
            return Err(format!("required field '{key}' is missing"));
        }
    }
    check_properties("", spec, schema)
}

fn check_properties(prefix: &str, object: &Map<String, Value>, schema: &Value) -> Result<(), String> {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else { return Ok(()) };
    for (key, value) in object {
        if let Some(property) = properties.get(key) {
            check_value(&format!("{prefix}{key}"), value, property)?;
        }
    }
    Ok(())
}

fn check_value(path: &str, value: &Value, property: &Value) -> Result<(), String> {
    let kind = property.get("type").and_then(Value::as_str).unwrap_or_default();
    let fits = match kind {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|f| f.fract() == 0.0),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        _ => true,
    };
    if !fits {
        let article = if kind.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
        return Err(format!("field '{path}' must be {article} {kind}"));
    }
    if let Some(allowed) = property.get("enum").and_then(Value::as_array).filter(|a| !a.is_empty())
        && !allowed.contains(value)
    {
        let listed: Vec<String> = allowed.iter().map(Value::to_string).collect();
        return Err(format!("field '{path}' has invalid value {value}, must be one of [{}]", listed.join(" ")));
    }
    if let Some(object) = value.as_object() {
        check_properties(&format!("{path}."), object, property)?;
    }
    if let (Some(items), Some(array)) = (property.get("items"), value.as_array()) {
        for (i, item) in array.iter().enumerate() {
            check_value(&format!("{path}[{i}]"), item, items)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn checked(spec: Value, schema: Value) -> Result<(), String> {
        check(spec.as_object().unwrap(), &schema)
    }

    #[test]
    fn required_keys_types_enums_and_nesting_are_checked() {
        let schema = json!({
            "type": "object",
            "required": ["image"],
            "properties": {
                "image": {"type": "string"},
                "replicas": {"type": "integer"},
                "mode": {"type": "string", "enum": ["fast", "slow"]},
                "ports": {"type": "array", "items": {"type": "integer"}},
                "env": {"type": "object", "properties": {"TZ": {"type": "string"}}}
            }
        });
        assert_eq!(checked(json!({"image": "nginx", "replicas": 3.0}), schema.clone()), Ok(()));
        assert_eq!(checked(json!({}), schema.clone()), Err("required field 'image' is missing".into()));
        assert_eq!(
            checked(json!({"image": "x", "replicas": 1.5}), schema.clone()),
            Err("field 'replicas' must be an integer".into())
        );
        assert_eq!(
            checked(json!({"image": "x", "mode": "medium"}), schema.clone()),
            Err(r#"field 'mode' has invalid value "medium", must be one of ["fast" "slow"]"#.into())
        );
        assert_eq!(
            checked(json!({"image": "x", "ports": [80, "http"]}), schema.clone()),
            Err("field 'ports[1]' must be an integer".into())
        );
        assert_eq!(
            checked(json!({"image": "x", "env": {"TZ": 1}}), schema.clone()),
            Err("field 'env.TZ' must be a string".into())
        );
        assert_eq!(checked(json!({"image": "x", "extra": [1]}), schema), Ok(()), "unknown keys are free");
    }
}
