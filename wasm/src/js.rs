//! Plain JavaScript helpers: properties, integers, option keys, `TypeError`s, JSON.
//! Nothing here knows streams, BSON or core.

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

/// A `TypeError` for an argument of the wrong shape.
pub fn type_error(message: impl std::fmt::Display) -> JsValue {
    js_sys::TypeError::new(&message.to_string()).into()
}

/// A JSON value as a plain JavaScript value (objects, not `Map`s; integers past 2^53
/// as the nearest `number`, as `JSON.parse` gives them).
pub fn json_to_js(value: &serde_json::Value) -> JsValue {
    use serde_json::Value;
    match value {
        Value::Null => JsValue::NULL,
        Value::Bool(b) => JsValue::from_bool(*b),
        Value::Number(n) => JsValue::from_f64(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => JsValue::from_str(s),
        Value::Array(items) => items.iter().map(json_to_js).collect::<Array>().into(),
        Value::Object(map) => {
            let object = Object::new();
            for (k, v) in map {
                set(&object, k, &json_to_js(v));
            }
            object.into()
        }
    }
}

/// A property of `target` (`undefined` when `target` is not an object, or the getter
/// throws).
pub fn get(target: &JsValue, key: &str) -> JsValue {
    if !target.is_object() && !target.is_function() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// Sets a property (on an object we created, so it cannot fail).
pub fn set(target: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

/// `undefined` or `null`.
pub fn is_absent(v: &JsValue) -> bool {
    v.is_undefined() || v.is_null()
}

/// A required string property.
pub fn string_field(target: &JsValue, key: &str, what: &str) -> Result<String, String> {
    get(target, key).as_string().ok_or_else(|| format!("{what}: `{key}` must be a string"))
}

/// An optional string property.
pub fn optional_string(target: &JsValue, key: &str, what: &str) -> Result<Option<String>, JsValue> {
    let value = get(target, key);
    if is_absent(&value) {
        return Ok(None);
    }
    value.as_string().map(Some).ok_or_else(|| type_error(format!("{what}.{key} must be a string")))
}

/// An optional function property.
pub fn optional_function(target: &JsValue, key: &str, what: &str) -> Result<Option<js_sys::Function>, JsValue> {
    let value = get(target, key);
    if is_absent(&value) {
        return Ok(None);
    }
    value.dyn_into().map(Some).map_err(|_| type_error(format!("{what}.{key} must be a function")))
}

/// A non-negative integer given as `bigint` or `number`.
pub fn to_u64(v: &JsValue, what: &str) -> Result<u64, JsValue> {
    if v.is_bigint() {
        return u64::try_from(v.clone())
            .map_err(|_| type_error(format!("{what} must be a non-negative 64-bit integer")));
    }
    v.as_f64()
        .and_then(safe_u64)
        .ok_or_else(|| type_error(format!("{what} must be a non-negative integer (bigint or number)")))
}

/// A `number` that is a safe non-negative integer.
pub fn safe_u64(n: f64) -> Option<u64> {
    (n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_991.0).then_some(n as u64)
}

/// An optional non-negative integer property.
pub fn optional_u64(options: &JsValue, key: &str, what: &str) -> Result<Option<u64>, JsValue> {
    let v = get(options, key);
    if is_absent(&v) {
        Ok(None)
    } else {
        to_u64(&v, &format!("{what}.{key}")).map(Some)
    }
}

/// The own enumerable string keys of an object.
pub fn keys(object: &JsValue) -> Array {
    match object.dyn_ref::<Object>() {
        Some(o) => Object::keys(o),
        None => Array::new(),
    }
}

/// Checks an options object: absent, or an object whose every key is in `allowed`.
/// A misspelt option is a `TypeError` naming it, never ignored.
///
/// `what` names the object in messages (`"options"`, `"options.storage"`).
pub fn check_options(options: &JsValue, allowed: &[&str], what: &str) -> Result<(), JsValue> {
    if is_absent(options) {
        return Ok(());
    }
    if !options.is_object() || Array::is_array(options) {
        return Err(type_error(format!("{what} must be an object")));
    }
    for key in keys(options).iter() {
        let key = key.as_string().unwrap_or_default();
        if !allowed.contains(&key.as_str()) {
            let known = allowed.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
            return Err(type_error(format!("{what}: unknown option `{key}` (the options are {known})")));
        }
    }
    Ok(())
}
