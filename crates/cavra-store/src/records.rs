//! Turning free-form JSON into a valid record of a kind, and the merge rules
//! applied on upsert (timestamps kept, sessions rebuilt from decisions).
//!
//! Everything here is pure: the backends fetch what a write needs
//! ([`PutContext`]) and store what [`plan_put`] returns.

use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::{Result, StoreError};
use crate::kinds::{FieldType, FilterOp, Kind, KindSpec};

/// A stored record: a JSON object.
pub type Record = Map<String, Value>;

/// Longest accepted id (keys are also used in URLs and file names).
pub const MAX_ID_LEN: usize = 256;
/// A session keeps at most this many evidence references from its decisions.
pub const MAX_SESSION_REFS: usize = 256;

/// The current time in the stored timestamp format.
pub fn now() -> String {
    cavra_policy::now_rfc3339()
}

const TS_FORMAT: &[time::format_description::FormatItem<'static>] = time::macros::format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]+00:00"
);

/// Parses an ISO-8601 / RFC 3339 timestamp and renders it in UTC with
/// microseconds, so that string order is time order on every backend.
pub fn normalize_timestamp(field: &str, raw: &str) -> Result<String> {
    let parsed = OffsetDateTime::parse(raw, &Rfc3339)
        .or_else(|_| {
            // `2026-01-02T03:04:05` without an offset: read as UTC.
            OffsetDateTime::parse(&format!("{raw}Z"), &Rfc3339)
        })
        .map_err(|_| {
            StoreError::invalid(
                field,
                format!("{raw:?} is not an ISO-8601 timestamp (e.g. 2026-11-22T10:00:00Z)"),
            )
        })?;
    // `9999-12-31T23:59:59-01:00` is year 10000 in UTC, which `time`
    // cannot represent (`to_offset` panics there).
    // A year below 0 would render with a sign and break string order.
    parsed
        .checked_to_offset(time::UtcOffset::UTC)
        .filter(|t| t.year() >= 0)
        .ok_or_else(|| {
            StoreError::invalid(
                field,
                format!("{raw:?} is outside the supported dates (years 0000 to 9999 in UTC)"),
            )
        })?
        .format(TS_FORMAT)
        .map_err(|e| StoreError::invalid(field, e.to_string()))
}

/// Adds `hours` to a stored timestamp.
pub fn add_hours(ts: &str, hours: f64) -> Result<String> {
    let t = OffsetDateTime::parse(ts, &Rfc3339)
        .map_err(|_| StoreError::invalid("timestamp", format!("bad timestamp {ts:?}")))?;
    let secs = (hours * 3600.0).round();
    let secs = if secs.is_finite() {
        secs.clamp(0.0, 1.0e10) as i64
    } else {
        0
    };
    t.checked_add(time::Duration::seconds(secs))
        .ok_or_else(|| {
            StoreError::invalid(
                "timestamp",
                format!("{ts:?} plus {hours} hours is past the year 9999"),
            )
        })?
        .format(TS_FORMAT)
        .map_err(|e| StoreError::invalid("timestamp", e.to_string()))
}

/// Checks an id: non-empty, bounded, printable, no `..` path segment.
pub fn check_id(field: &str, id: &str) -> Result<()> {
    if id.trim().is_empty() {
        return Err(StoreError::invalid(field, "must not be empty"));
    }
    if id.len() > MAX_ID_LEN {
        return Err(StoreError::invalid(
            field,
            format!("is {} bytes long; the limit is {MAX_ID_LEN}", id.len()),
        ));
    }
    if id.chars().any(|c| c.is_control()) {
        return Err(StoreError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    if id.split(['/', '\\']).any(|seg| seg == "..") {
        return Err(StoreError::invalid(
            field,
            "must not contain a '..' segment",
        ));
    }
    Ok(())
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn read<'a>(obj: &'a Record, name: &str, aliases: &[&str]) -> Option<&'a Value> {
    std::iter::once(name)
        .chain(aliases.iter().copied())
        .filter_map(|n| obj.get(n))
        .find(|v| !v.is_null())
}

fn string_of(field: &str, v: &Value) -> Result<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        // Numbers and booleans are accepted where a string is expected
        // (`"version": 2`), rendered as JSON.
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(StoreError::invalid(
            field,
            format!("must be a string, got {}", type_name(other)),
        )),
    }
}

fn list_of(field: &str, v: &Value) -> Result<Vec<Value>> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::String(s) => Ok(vec![Value::String(s.clone())]),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(s) => Ok(Value::String(s.clone())),
                other => Err(StoreError::invalid(
                    format!("{field}[{i}]"),
                    format!("must be a string, got {}", type_name(other)),
                )),
            })
            .collect(),
        other => Err(StoreError::invalid(
            field,
            format!(
                "must be a string or a list of strings, got {}",
                type_name(other)
            ),
        )),
    }
}

/// The path (`a.b[2].c`) of the first string or key in `v` holding a NUL.
/// Every backend must keep the same records and PostgreSQL cannot store a
/// NUL in text, so no backend accepts one.
pub fn nul_field(v: &Value) -> Option<String> {
    // Paths are built only once a NUL is known to be there.
    fn any_nul(v: &Value) -> bool {
        match v {
            Value::String(s) => s.contains('\0'),
            Value::Array(items) => items.iter().any(any_nul),
            Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || any_nul(v)),
            _ => false,
        }
    }
    any_nul(v).then(|| nul_at(v, String::new())).flatten()
}

fn nul_at(v: &Value, at: String) -> Option<String> {
    match v {
        Value::String(s) => s.contains('\0').then(|| field_name(at)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_at(item, format!("{at}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, item)| {
            let path = if at.is_empty() {
                k.clone()
            } else {
                format!("{at}.{k}")
            };
            if k.contains('\0') {
                return Some(field_name(path));
            }
            nul_at(item, path)
        }),
        _ => None,
    }
}

fn field_name(path: String) -> String {
    if path.is_empty() {
        "body".to_string()
    } else {
        path.replace('\0', "\\u0000")
    }
}

/// Every field a filter matches exactly is an indexed column: bounded like
/// a key, on every backend (PostgreSQL refuses index entries past about
/// 2.7 KB, with an error naming no field).
fn check_filtered_lengths(spec: &KindSpec, r: &Record) -> Result<()> {
    for f in spec.filters.iter().filter(|f| f.op == FilterOp::Eq) {
        if let Some(Value::String(v)) = r.get(f.field)
            && v.len() > MAX_ID_LEN
        {
            return Err(StoreError::invalid(
                f.field,
                format!(
                    "is {} bytes long; the limit for a filtered field is {MAX_ID_LEN}",
                    v.len()
                ),
            ));
        }
    }
    Ok(())
}

/// Whether a record read from elsewhere (an export being restored) can be
/// stored by every backend: no NUL anywhere, filtered fields bounded. The
/// checks every backend's database would otherwise make halfway through.
pub fn check_storable(kind: Kind, r: &Record) -> Result<()> {
    let nul = r.iter().find_map(|(k, v)| {
        if k.contains('\0') {
            return Some(field_name(k.clone()));
        }
        nul_field(v).map(|inner| match inner.as_str() {
            "body" => k.clone(),
            _ if inner.starts_with('[') => format!("{k}{inner}"),
            _ => format!("{k}.{inner}"),
        })
    });
    if let Some(field) = nul {
        return Err(StoreError::invalid(
            &field,
            "text may not contain a NUL character (\\u0000)",
        ));
    }
    check_filtered_lengths(kind.spec(), r)
}

/// Validates `input` against the kind's schema: enums, types, timestamps,
/// ids. Absent fields get their defaults; fields without a default stay
/// absent. Unknown fields are dropped unless the kind keeps them.
pub fn normalize(kind: Kind, input: &Value) -> Result<Record> {
    if let Some(field) = nul_field(input) {
        return Err(StoreError::invalid(
            &field,
            "text may not contain a NUL character (\\u0000)",
        ));
    }
    let spec = kind.spec();
    let obj = match input {
        Value::Object(o) => o,
        other => {
            return Err(StoreError::invalid(
                "body",
                format!("must be a JSON object, got {}", type_name(other)),
            ));
        }
    };
    // A near-miss of a known field (`trust-tier`, `Status`) is a typo, not
    // an extra: dropped, it would leave the permissive default in place.
    for k in obj.keys() {
        let known = |n: &str| {
            spec.fields
                .iter()
                .any(|f| f.name == n || f.aliases.contains(&n))
        };
        if known(k) {
            continue;
        }
        let norm = k.trim().to_ascii_lowercase().replace(['-', ' ', '.'], "_");
        if let Some(f) = spec
            .fields
            .iter()
            .find(|f| f.name == norm || f.aliases.contains(&norm.as_str()))
        {
            return Err(StoreError::invalid(
                k,
                format!("unknown field; did you mean `{}`?", f.name),
            ));
        }
    }
    let mut out = Record::new();
    if spec.keep_unknown {
        for (k, v) in obj {
            if !spec
                .fields
                .iter()
                .any(|f| f.name == k || f.aliases.contains(&k.as_str()))
            {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    out.insert(
        "schema_version".into(),
        Value::String(spec.schema_version.into()),
    );
    for field in spec.fields {
        let raw = read(obj, field.name, field.aliases);
        let value = match (field.ty, raw) {
            (FieldType::Str(default), None) => default.map(|d| Value::String(d.into())),
            (FieldType::Str(_), Some(v)) => Some(Value::String(string_of(field.name, v)?)),
            (FieldType::Enum { default, .. }, None) => default.map(|d| Value::String(d.into())),
            (FieldType::Enum { values, .. }, Some(v)) => {
                let s = string_of(field.name, v)?;
                let norm = s.trim().to_ascii_lowercase().replace('-', "_");
                if !values.contains(&norm.as_str()) {
                    return Err(StoreError::invalid(
                        field.name,
                        format!("{s:?} is not one of {}", values.join(", ")),
                    ));
                }
                Some(Value::String(norm))
            }
            (FieldType::List(default), None) => Some(Value::Array(
                default.iter().map(|d| Value::String((*d).into())).collect(),
            )),
            (FieldType::List(_), Some(v)) => Some(Value::Array(list_of(field.name, v)?)),
            (FieldType::Count, None) => None,
            (FieldType::Count, Some(v)) => match v.as_u64() {
                Some(n) if n <= i64::MAX as u64 => Some(Value::from(n)),
                _ => {
                    return Err(StoreError::invalid(
                        field.name,
                        format!("must be a non-negative integer, got {v}"),
                    ));
                }
            },
            (FieldType::Number { default, .. }, None) => {
                serde_json::Number::from_f64(default).map(Value::Number)
            }
            (FieldType::Number { min, max, .. }, Some(v)) => match v.as_f64() {
                Some(n) if (min..=max).contains(&n) => Some(v.clone()),
                _ => {
                    return Err(StoreError::invalid(
                        field.name,
                        format!("must be a number from {min} to {max}, got {v}"),
                    ));
                }
            },
            (FieldType::Timestamp, None) => None,
            (FieldType::Timestamp, Some(v)) => {
                let s = string_of(field.name, v)?;
                Some(Value::String(normalize_timestamp(field.name, &s)?))
            }
            (FieldType::Bool, None) => None,
            (FieldType::Bool, Some(Value::Bool(b))) => Some(Value::Bool(*b)),
            (FieldType::Object, None) => None,
            (FieldType::Object, Some(v @ Value::Object(_))) => Some(v.clone()),
            (FieldType::Array, None) => None,
            (FieldType::Array, Some(v @ Value::Array(_))) => Some(v.clone()),
            (FieldType::Bool | FieldType::Object | FieldType::Array, Some(v)) => {
                let want = match field.ty {
                    FieldType::Bool => "a boolean",
                    FieldType::Object => "an object",
                    _ => "a list",
                };
                return Err(StoreError::invalid(
                    field.name,
                    format!("must be {want}, got {}", type_name(v)),
                ));
            }
        };
        if let Some(value) = value {
            out.insert(field.name.into(), value);
        }
    }
    fill_kind_defaults(spec, obj, &mut out)?;
    let key = text(&out, spec.key).unwrap_or_default();
    check_id(spec.key, &key)?;
    check_filtered_lengths(spec, &out)?;
    // A decision's session id becomes a session's key: it obeys the same
    // rules as one given directly.
    if spec.kind == Kind::Decision
        && let Some(sid) = text(&out, "session_id")
    {
        check_id("session_id", &sid)?;
    }
    Ok(out)
}

/// A string field of a record.
pub fn text(r: &Record, name: &str) -> Option<String> {
    match r.get(name) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::Bool(b)) => Some(b.to_string()),
        _ => None,
    }
}

/// An integer field of a record.
pub fn int(r: &Record, name: &str) -> Option<i64> {
    r.get(name).and_then(Value::as_i64)
}

fn required(out: &Record, field: &str) -> Result<String> {
    match text(out, field) {
        Some(s) if !s.trim().is_empty() => Ok(s),
        _ => Err(StoreError::invalid(field, "is required")),
    }
}

fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

fn set(out: &mut Record, k: &str, v: impl Into<Value>) {
    out.insert(k.into(), v.into());
}

fn fill_kind_defaults(spec: &KindSpec, input: &Record, out: &mut Record) -> Result<()> {
    match spec.kind {
        Kind::Decision => {
            if text(out, "decision_id").is_none() {
                set(
                    out,
                    "decision_id",
                    format!("dec_{}", cavra_policy::random_hex(12)),
                );
            }
            if text(out, "policy_id").is_none() {
                let pack = text(out, "policy_pack").unwrap_or_default();
                set(out, "policy_id", pack);
            }
            if text(out, "correlation_id").is_none() {
                set(
                    out,
                    "correlation_id",
                    format!("corr_{}", cavra_policy::random_hex(12)),
                );
            }
            if text(out, "timestamp").is_none() {
                set(out, "timestamp", now());
            }
        }
        Kind::Session => {
            required(out, "session_id")?;
        }
        Kind::Repository => {
            let name = required(out, "repository")?;
            if text(out, "repository_id").is_none() {
                set(out, "repository_id", name);
            }
        }
        Kind::Rollout => {
            let repo = required(out, "repository")?;
            let pack = required(out, "policy_pack")?;
            if text(out, "rollout_id").is_none() {
                set(out, "rollout_id", format!("{repo}:{pack}"));
            }
        }
        Kind::Integration => {
            let provider = required(out, "provider")?;
            if text(out, "integration_id").is_none() {
                let env = text(out, "environment").unwrap_or_default();
                set(out, "integration_id", slug(&format!("{provider}-{env}")));
            }
            if text(out, "name").is_none() {
                set(out, "name", provider);
            }
        }
        Kind::Agent => {
            required(out, "agent_id")?;
        }
        Kind::McpServer => {
            let id = required(out, "server_id")?;
            if text(out, "name").is_none() {
                set(out, "name", id);
            }
            if text(out, "approval_state").is_none() {
                let tier = text(out, "trust_tier").unwrap_or_default();
                let state = if matches!(tier.as_str(), "unknown" | "experimental") {
                    "pending"
                } else {
                    "approved"
                };
                set(out, "approval_state", state);
            }
        }
        Kind::Evidence => {
            required(out, "session_id")?;
            if text(out, "created_at").is_none() {
                set(out, "created_at", now());
            }
            for k in ["decision_count", "blocked_count", "approval_required_count"] {
                if int(out, k).is_none() {
                    set(out, k, 0);
                }
            }
            // Index fields that are not strings are not indexed; reject them
            // rather than store a record the filters can never find.
            for col in spec.columns {
                if let Some(v) = out.get(col.name)
                    && !matches!(v, Value::String(_) | Value::Number(_) | Value::Null)
                {
                    return Err(StoreError::invalid(
                        col.name,
                        format!("must be a string, got {}", type_name(v)),
                    ));
                }
            }
        }
        Kind::Approval => {
            let embedded = input.get("decision").and_then(Value::as_object);
            for k in [
                "decision_id",
                "session_id",
                "correlation_id",
                "approver_group",
            ] {
                if text(out, k).is_none()
                    && let Some(v) = embedded.and_then(|d| text(d, k))
                {
                    set(out, k, v);
                }
            }
            required(out, "decision_id")?;
            if text(out, "approval_id").is_none() {
                set(
                    out,
                    "approval_id",
                    format!("apr_{}", cavra_policy::random_hex(12)),
                );
            }
            let requested = match text(out, "requested_at") {
                Some(t) => t,
                None => {
                    let t = now();
                    set(out, "requested_at", t.clone());
                    t
                }
            };
            if text(out, "expires_at").is_none() {
                let ttl = input
                    .get("ttl_hours")
                    .map(|v| {
                        v.as_f64().ok_or_else(|| {
                            StoreError::invalid("ttl_hours", format!("must be a number, got {v}"))
                        })
                    })
                    .transpose()?
                    .unwrap_or(24.0)
                    .max(1.0);
                set(out, "expires_at", add_hours(&requested, ttl)?);
            }
            if !out.contains_key("history") {
                set(out, "history", Value::Array(Vec::new()));
            }
        }
    }
    Ok(())
}

/// What a backend reads before an upsert, so that merging is the same
/// everywhere.
#[derive(Debug, Default)]
pub struct PutContext {
    /// The stored record with the same key, if any.
    pub existing: Option<Record>,
    /// Decisions only: the session the decision belongs to.
    pub session: Option<Record>,
    /// Decisions and sessions: whether the session has stored decisions.
    pub session_has_decisions: bool,
    /// Decisions only: the session a replaced decision used to belong to,
    /// when it moved to another session.
    pub old_session: Option<Record>,
}

/// Which reads [`plan_put`] needs for `record` of `kind`, beyond `existing`.
/// Returns the session id whose record and decision presence are needed.
pub fn session_of(kind: Kind, record: &Record) -> Option<String> {
    match kind {
        Kind::Decision | Kind::Session => text(record, "session_id"),
        _ => None,
    }
}

/// The records to write for one upsert, in order. The first is the record
/// itself as stored.
pub fn plan_put(kind: Kind, mut record: Record, ctx: PutContext) -> Vec<(Kind, Record)> {
    let spec = kind.spec();
    if spec.timestamps {
        let now = now();
        if text(&record, "created_at").is_none() {
            let created = ctx
                .existing
                .as_ref()
                .and_then(|e| text(e, "created_at"))
                .unwrap_or_else(|| now.clone());
            set(&mut record, "created_at", created);
        }
        if text(&record, "updated_at").is_none() {
            set(&mut record, "updated_at", now);
        }
    }
    match kind {
        Kind::Decision => plan_decision(record, ctx),
        Kind::Session => vec![(Kind::Session, merge_session(record, ctx))],
        _ => vec![(kind, record)],
    }
}

fn tally(decision: &Record) -> [i64; 3] {
    let d = text(decision, "decision").unwrap_or_default();
    [
        1,
        i64::from(d == "block"),
        i64::from(d == "require_approval"),
    ]
}

const COUNTS: [&str; 3] = ["decision_count", "blocked_count", "approval_required_count"];

fn add_counts(session: &mut Record, delta: [i64; 3], sign: i64) {
    for (k, d) in COUNTS.iter().zip(delta) {
        // Saturating: a stored count near i64::MAX (an import, a
        // hand-edited file) must not overflow and kill the writer.
        let cur = int(session, k).unwrap_or(0);
        set(
            session,
            k,
            cur.saturating_add(sign.saturating_mul(d)).max(0),
        );
    }
}

fn plan_decision(decision: Record, ctx: PutContext) -> Vec<(Kind, Record)> {
    let sid = text(&decision, "session_id").unwrap_or_else(|| "local".into());
    let ts = text(&decision, "timestamp").unwrap_or_else(now);
    let old_same_session = ctx
        .existing
        .as_ref()
        .filter(|old| text(old, "session_id").as_deref() == Some(sid.as_str()));

    let mut session = match ctx.session {
        Some(s) => s,
        None => {
            let mut s = Record::new();
            set(
                &mut s,
                "schema_version",
                Kind::Session.spec().schema_version,
            );
            set(&mut s, "session_id", sid.clone());
            set(&mut s, "state", "active");
            s
        }
    };
    for k in ["agent_id", "actor", "repository", "policy_pack"] {
        if text(&session, k).is_none()
            && let Some(v) = text(&decision, k)
        {
            set(&mut session, k, v);
        }
    }
    if !ctx.session_has_decisions {
        // Counts are rebuilt from stored decisions once there are any.
        for k in COUNTS {
            set(&mut session, k, 0);
        }
    }
    if let Some(old) = old_same_session {
        add_counts(&mut session, tally(old), -1);
    }
    add_counts(&mut session, tally(&decision), 1);
    let started = match text(&session, "started_at") {
        Some(s) if s <= ts => s,
        _ => ts.clone(),
    };
    let updated = match text(&session, "updated_at") {
        Some(u) if u >= ts => u,
        _ => ts.clone(),
    };
    set(&mut session, "started_at", started);
    set(&mut session, "updated_at", updated);
    let mut refs: Vec<Value> = match session.get("evidence_refs") {
        Some(Value::Array(a)) => a.clone(),
        _ => Vec::new(),
    };
    if let Some(Value::Array(new)) = decision.get("evidence_refs") {
        for r in new {
            if refs.len() >= MAX_SESSION_REFS {
                break;
            }
            if !refs.contains(r) {
                refs.push(r.clone());
            }
        }
    }
    set(&mut session, "evidence_refs", Value::Array(refs));

    let mut out = vec![(Kind::Decision, decision), (Kind::Session, session)];
    if let (Some(old), Some(mut old_session)) = (ctx.existing.as_ref(), ctx.old_session)
        && text(old, "session_id").as_deref() != Some(sid.as_str())
    {
        add_counts(&mut old_session, tally(old), -1);
        out.push((Kind::Session, old_session));
    }
    out
}

fn merge_session(patch: Record, ctx: PutContext) -> Record {
    let mut merged = ctx.existing.clone().unwrap_or_default();
    for (k, v) in &patch {
        if COUNTS.contains(&k.as_str()) && ctx.session_has_decisions {
            continue;
        }
        merged.insert(k.clone(), v.clone());
    }
    let defaults = [
        ("agent_id", "unknown-agent"),
        ("actor", "ai-agent"),
        ("repository", "local"),
        ("policy_pack", "cavra-ai-agent-baseline"),
        ("state", "active"),
    ];
    for (k, d) in defaults {
        if text(&merged, k).is_none() {
            set(&mut merged, k, d);
        }
    }
    let now = now();
    for k in ["started_at", "updated_at"] {
        if text(&merged, k).is_none() {
            set(&mut merged, k, now.clone());
        }
    }
    for k in COUNTS {
        if int(&merged, k).is_none() {
            set(&mut merged, k, 0);
        }
    }
    if !merged.contains_key("evidence_refs") {
        set(&mut merged, "evidence_refs", Value::Array(Vec::new()));
    }
    set(
        &mut merged,
        "schema_version",
        Kind::Session.spec().schema_version,
    );
    merged
}

/// Serializes a value with every object's keys sorted, the text
/// [`canonical`] would give, without building the sorted copy.
pub struct Sorted<'a>(pub &'a Value);

impl serde::Serialize for Sorted<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self.0 {
            Value::Object(m) => {
                let mut entries: Vec<(&String, &Value)> = m.iter().collect();
                entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, &Sorted(v))?;
                }
                map.end()
            }
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for v in items {
                    seq.serialize_element(&Sorted(v))?;
                }
                seq.end()
            }
            other => other.serialize(s),
        }
    }
}

/// Stored JSON text re-serialized with every object's keys sorted, the
/// text [`Sorted`] gives for the parsed value, without building a `Value`:
/// objects and arrays are split into borrowed pieces, scalars are copied as
/// they are. Only for text that serde_json wrote (the SQLite payloads),
/// whose scalars are already in serde_json's form.
pub struct SortedText<'a>(pub &'a serde_json::value::RawValue);

impl serde::Serialize for SortedText<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeMap, SerializeSeq};
        use serde_json::value::RawValue;
        let text = self.0.get();
        match text.trim_start().as_bytes().first() {
            Some(b'{') => {
                // Keys with escapes cannot be borrowed: parse those fully.
                let Ok(entries) =
                    serde_json::from_str::<std::collections::BTreeMap<&str, &RawValue>>(text)
                else {
                    let v: Value = serde_json::from_str(text).map_err(S::Error::custom)?;
                    return Sorted(&v).serialize(s);
                };
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, &SortedText(v))?;
                }
                map.end()
            }
            Some(b'[') => {
                let items: Vec<&RawValue> = serde_json::from_str(text).map_err(S::Error::custom)?;
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for v in items {
                    seq.serialize_element(&SortedText(v))?;
                }
                seq.end()
            }
            _ => self.0.serialize(s),
        }
    }
}

/// Sorts an object's keys (recursively), the order every backend returns.
pub fn canonical(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, canonical(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonical).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    /// Regression: a PostgreSQL restore cleared the store and then failed
    /// halfway on a record the database refused; the pre-check now refuses
    /// what the database would.
    #[test]
    fn storable_refuses_what_postgres_would() {
        let rec = |v: Value| v.as_object().unwrap().clone();
        assert!(check_storable(Kind::Decision, &rec(json!({"decision_id": "d"}))).is_ok());
        let e = check_storable(
            Kind::Decision,
            &rec(json!({"decision_id": "d", "evidence_refs": ["a\u{0}"]})),
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("evidence_refs[0]"), "{e}");
        let e = check_storable(
            Kind::Decision,
            &rec(json!({"decision_id": "d", "repository": "r".repeat(300)})),
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("repository"), "{e}");
    }

    #[test]
    fn sorted_text_is_the_canonical_text() {
        let v = json!({
            "z": [{"b": 1, "a": {"y": null, "x": [3, {"d": 1, "c": 2}]}}],
            "a": "é\"\n",
            "m": {"k2": true, "k10": 1.5, "K": -3},
        });
        let sorted = serde_json::to_string(&Sorted(&v)).unwrap();
        let raw = serde_json::value::RawValue::from_string(v.to_string()).unwrap();
        let from_text = serde_json::to_string(&SortedText(&raw)).unwrap();
        let canon = serde_json::to_string(&canonical(v)).unwrap();
        assert_eq!(sorted, canon);
        assert_eq!(from_text, canon);
        assert!(sorted.starts_with(r#"{"a":"é\"\n","m":{"K":-3,"k10":1.5,"k2":true}"#));
    }

    #[test]
    fn nul_in_any_text_is_refused_naming_where() {
        for (v, want) in [
            (json!({"a": "x\u{0}"}), Some("a")),
            (json!({"a": [1, {"b": ["", "\u{0}"]}]}), Some("a[1].b[1]")),
            (json!({"k\u{0}": 1}), Some("k\\u0000")),
            (json!("\u{0}"), Some("body")),
            (json!({"a": "x\\u0000"}), None),
            (json!({"a": [1, null, true, {"b": "ok"}]}), None),
        ] {
            assert_eq!(nul_field(&v).as_deref(), want, "{v}");
        }
        let err = normalize(
            Kind::Decision,
            &json!({"decision_id": "d", "target": "a\u{0}"}),
        )
        .unwrap_err();
        assert!(err.to_string().contains("target"), "{err}");
    }

    #[test]
    fn a_timestamp_past_year_9999_in_utc_is_refused_not_a_panic() {
        let err = normalize_timestamp("since", "9999-12-31T23:59:59-01:00").unwrap_err();
        assert!(err.to_string().contains("since"), "{err}");
        assert!(err.to_string().contains("9999"), "{err}");
        assert_eq!(
            normalize_timestamp("t", "9999-12-31T22:59:59-01:00").unwrap(),
            "9999-12-31T23:59:59.000000+00:00"
        );
        let err = normalize_timestamp("t", "0000-01-01T00:30:00+01:00").unwrap_err();
        assert!(err.to_string().contains("outside"), "{err}");
        let err = add_hours("9999-12-31T00:00:00.000000+00:00", 48.0).unwrap_err();
        assert!(err.to_string().contains("9999"), "{err}");
        let err = normalize(
            Kind::Session,
            &json!({"session_id": "s", "started_at": "9999-12-31T23:59:59-01:00"}),
        )
        .unwrap_err();
        assert!(err.to_string().contains("started_at"), "{err}");
    }
}

#[cfg(test)]
mod sorted_text_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn via_text(v: &Value) -> String {
        let raw = serde_json::value::RawValue::from_string(v.to_string()).unwrap();
        serde_json::to_string(&SortedText(&raw)).unwrap()
    }

    #[test]
    fn keys_with_escapes_fall_back_to_a_full_parse() {
        let v = json!({"b\"q": 1, "a\nb": {"z": 1, "y": 2}, "c": []});
        assert_eq!(via_text(&v), serde_json::to_string(&canonical(v)).unwrap());
    }

    #[test]
    fn floats_come_out_as_a_parse_would_give_them() {
        for f in [
            0.1,
            1e-7,
            123456.789,
            5e-324,
            1.7976931348623157e308,
            -2.5e-10,
            1.0 / 3.0,
        ] {
            let v = json!({"x": f, "y": [f, {"z": f}]});
            assert_eq!(
                via_text(&v),
                serde_json::to_string(&canonical(v.clone())).unwrap()
            );
            // And the stored text parses back to the same value.
            let back: Value = serde_json::from_str(&via_text(&v)).unwrap();
            assert_eq!(back, v);
        }
    }

    #[test]
    fn scalars_and_empty_containers_pass_through() {
        for v in [
            json!(null),
            json!(1.5),
            json!("x"),
            json!([]),
            json!({}),
            json!([[], {}]),
        ] {
            assert_eq!(
                via_text(&v),
                serde_json::to_string(&canonical(v.clone())).unwrap()
            );
        }
    }
}
