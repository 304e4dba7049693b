//! API errors: always `{"detail": "…"}` with the right status, and the
//! request extractors that produce them.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use cavra_store::StoreError;
use serde_json::{Value, json};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub detail: String,
}

impl ApiError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            detail: detail.into(),
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, detail)
    }

    /// A 400 naming the field.
    pub fn field(field: &str, message: impl std::fmt::Display) -> ApiError {
        ApiError::bad_request(format!("{field}: {message}"))
    }

    pub fn not_found(what: &str, id: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, format!("{what} {id:?} not found"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(status = %self.status, detail = %self.detail, "request failed");
        }
        (self.status, axum::Json(json!({"detail": self.detail}))).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match &e {
            StoreError::Invalid { .. } => ApiError::bad_request(e.to_string()),
            StoreError::Closed(_) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
            _ => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        }
    }
}

pub type ApiResult<T = axum::Json<Value>> = Result<T, ApiError>;

/// A JSON request body: `Content-Type: application/json` (else 415), at
/// most the configured size (else 413), valid JSON (else 400 with the
/// line and column).
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<JsonBody, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|ct| {
                let mime = ct
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "the request body must be JSON (Content-Type: application/json)",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            let status = e.status();
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    status,
                    format!(
                        "the request body is larger than the limit of {} bytes",
                        crate::body_limit()
                    ),
                )
            } else {
                ApiError::new(status, format!("could not read the request body: {e}"))
            }
        })?;
        if bytes.is_empty() {
            return Err(ApiError::bad_request("body: a JSON object is required"));
        }
        // One pass that also refuses a key given twice: the last one would
        // win silently, and a proxy or a log reading the first would see
        // another request.
        let UniqueKeys(value) = serde_json::from_slice(&bytes).map_err(|e| {
            if e.is_data() {
                ApiError::bad_request(format!("body: {e}"))
            } else {
                ApiError::bad_request(format!("body: malformed JSON: {e}"))
            }
        })?;
        // A NUL can only arrive escaped; look for it only when the escape is
        // there at all.
        if bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000"))
            && let Some(field) = cavra_store::records::nul_field(&value)
        {
            return Err(ApiError::field(
                &field,
                "text may not contain a NUL character (\\u0000)",
            ));
        }
        Ok(JsonBody(value))
    }
}

/// The id at the end of a route's path (`/sessions/{session_id}`),
/// percent-decoded; an id that is not UTF-8 or holds a NUL is a 400 naming
/// the path, where axum's own rejection read only "Bad Request".
pub struct PathId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<PathId, ApiError> {
        let axum::extract::Path(id) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|e| {
                    ApiError::field(
                        "path",
                        format!(
                            "the id is not valid (percent-decoded it must be UTF-8): {}",
                            e.body_text()
                        ),
                    )
                })?;
        if id.contains('\0') {
            return Err(ApiError::field(
                "path",
                "an id may not contain a NUL character (%00)",
            ));
        }
        Ok(PathId(id))
    }
}

/// The query string as ordered `(name, value)` pairs.
pub struct Params(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Params, ApiError> {
        let raw = parts.uri.query().unwrap_or("");
        let pairs: Vec<(String, String)> = serde_urlencoded_pairs(raw)?;
        if let Some((k, _)) = pairs
            .iter()
            .find(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            return Err(ApiError::field(
                &k.replace('\0', "%00"),
                "query parameters may not contain a NUL character (%00)",
            ));
        }
        // No documented parameter takes several values. A repeated one
        // used to be read three ways (first wins, last wins, or both as
        // filters); it is now refused, naming it.
        let mut seen = std::collections::HashSet::new();
        for (k, _) in &pairs {
            if !seen.insert(k.as_str()) {
                return Err(ApiError::field(
                    k,
                    "is given more than once; give each query parameter once",
                ));
            }
        }
        Ok(Params(pairs))
    }
}

fn serde_urlencoded_pairs(raw: &str) -> Result<Vec<(String, String)>, ApiError> {
    axum::extract::Query::<Vec<(String, String)>>::try_from_uri(
        &format!("/?{raw}")
            .parse()
            .map_err(|_| ApiError::bad_request("query: not a valid query string"))?,
    )
    .map(|q| q.0)
    .map_err(|e| ApiError::bad_request(format!("query: {e}")))
}

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Rejects parameters not in `known`, naming them.
    pub fn only(&self, known: &[&str]) -> Result<(), ApiError> {
        for (k, _) in &self.0 {
            if !known.contains(&k.as_str()) {
                return Err(ApiError::field(
                    k,
                    format!("unknown query parameter; known: {}", known.join(", ")),
                ));
            }
        }
        Ok(())
    }

    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// A string field of a JSON body.
pub fn body_str<'a>(body: &'a Value, field: &str) -> Result<Option<&'a str>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(other) => Err(ApiError::field(
            field,
            format!("must be a string, got {other}"),
        )),
    }
}

/// The body must be an object.
pub fn body_object(body: &Value) -> Result<&serde_json::Map<String, Value>, ApiError> {
    body.as_object()
        .ok_or_else(|| ApiError::bad_request("body: must be a JSON object"))
}

/// A field of a JSON value (`Null` when absent): indexing without the
/// possibility of a panic.
pub fn at<'a>(v: &'a Value, key: &str) -> &'a Value {
    static NULL: Value = Value::Null;
    v.get(key).unwrap_or(&NULL)
}

/// Sets a field of a JSON object (no effect on other values).
pub fn set(v: &mut Value, key: &str, value: Value) {
    if let Some(obj) = v.as_object_mut() {
        obj.insert(key.to_string(), value);
    }
}

/// A JSON document read into a [`Value`], failing on an object that names
/// a key twice.
struct UniqueKeys(Value);

impl<'de> serde::Deserialize<'de> for UniqueKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UniqueKeysVisitor).map(UniqueKeys)
    }
}

struct UniqueKeysVisitor;

impl<'de> serde::de::Visitor<'de> for UniqueKeysVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(UniqueKeys(v)) = a.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(k) = a.next_key::<String>()? {
            let UniqueKeys(v) = a.next_value()?;
            if out.insert(k.clone(), v).is_some() {
                return Err(serde::de::Error::custom(format!(
                    "{k}: the key is given more than once"
                )));
            }
        }
        Ok(Value::Object(out))
    }
}
