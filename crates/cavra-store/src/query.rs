//! List queries: validated filters, paging and the matching rules every
//! backend shares.

use serde::Serialize;
use serde_json::Value;

use crate::error::{Result, StoreError};
use crate::kinds::{FilterDef, FilterOp, Kind};
use crate::records::{Record, int};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;
/// Offsets beyond this are rejected (no store holds that many records, and
/// the SQL backends take `i64`).
pub const MAX_OFFSET: i64 = 1_000_000_000;

/// One validated filter.
#[derive(Clone, Debug)]
pub struct Filter {
    pub def: FilterDef,
    pub value: FilterValue,
}

#[derive(Clone, Debug)]
pub enum FilterValue {
    Text(String),
    Int(i64),
    Bool(bool),
}

#[derive(Clone, Debug)]
pub struct Query {
    pub kind: Kind,
    pub filters: Vec<Filter>,
    pub limit: i64,
    pub offset: i64,
}

/// A page as JSON text ready to send: each item is a record serialized
/// with its keys sorted, as in [`Page`].
#[derive(Debug, Serialize)]
pub struct RawPage {
    pub items: Vec<Box<serde_json::value::RawValue>>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

/// A page of records: `{items, total, limit, offset}`.
#[derive(Clone, Debug, Serialize)]
pub struct Page {
    pub items: Vec<Value>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

impl Query {
    pub fn new(kind: Kind) -> Query {
        Query {
            kind,
            filters: Vec::new(),
            limit: DEFAULT_LIMIT,
            offset: 0,
        }
    }

    /// Builds a query from `(param, value)` pairs (an HTTP query string or
    /// CLI flags). Unknown parameters are rejected with the list of known
    /// ones; enum values are checked; `limit` is clamped to 1..=500.
    pub fn from_params<'a>(
        kind: Kind,
        params: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Query> {
        let spec = kind.spec();
        let mut q = Query::new(kind);
        for (param, raw) in params {
            match param {
                "limit" => {
                    // Any integer is a limit, clamped (one beyond i64 too).
                    q.limit = parse_saturating("limit", raw)?.clamp(1, MAX_LIMIT);
                }
                "offset" => {
                    let n = parse_saturating("offset", raw)?;
                    if n > MAX_OFFSET {
                        return Err(StoreError::invalid(
                            "offset",
                            format!("{} is larger than the maximum {MAX_OFFSET}", raw.trim()),
                        ));
                    }
                    q.offset = n.max(0);
                }
                _ => {
                    let Some(def) = spec.filters.iter().find(|d| d.param == param) else {
                        let known: Vec<&str> = spec
                            .filters
                            .iter()
                            .map(|d| d.param)
                            .chain(["limit", "offset"])
                            .collect();
                        return Err(StoreError::invalid(
                            param,
                            format!(
                                "is not a filter of {}; known: {}",
                                spec.name,
                                known.join(", ")
                            ),
                        ));
                    };
                    q.filters.push(Filter::parse(*def, raw)?);
                }
            }
        }
        Ok(q)
    }

    pub fn with(mut self, param: &str, value: &str) -> Result<Query> {
        let extra = Query::from_params(self.kind, [(param, value)])?;
        self.filters.extend(extra.filters);
        if param == "limit" {
            self.limit = extra.limit;
        }
        if param == "offset" {
            self.offset = extra.offset;
        }
        Ok(self)
    }

    pub fn matches(&self, r: &Record) -> bool {
        self.filters.iter().all(|f| f.matches(r))
    }
}

/// An integer of any length (`-99999999999999999999`), saturated to i64.
fn parse_saturating(field: &str, raw: &str) -> Result<i64> {
    let t = raw.trim();
    let (negative, digits) = match t.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(StoreError::invalid(
            field,
            format!("{raw:?} is not an integer"),
        ));
    }
    Ok(match t.parse::<i64>() {
        Ok(n) => n,
        Err(_) if negative => i64::MIN,
        Err(_) => i64::MAX,
    })
}

fn parse_int(field: &str, raw: &str) -> Result<i64> {
    raw.trim()
        .parse::<i64>()
        .map_err(|_| StoreError::invalid(field, format!("{raw:?} is not an integer")))
}

impl Filter {
    pub fn parse(def: FilterDef, raw: &str) -> Result<Filter> {
        let value = match def.op {
            FilterOp::Min => FilterValue::Int(parse_int(def.param, raw)?),
            FilterOp::Since | FilterOp::Until => {
                FilterValue::Text(crate::records::normalize_timestamp(def.param, raw)?)
            }
            FilterOp::Positive | FilterOp::Risky => {
                match raw.trim().to_ascii_lowercase().as_str() {
                    "true" | "1" | "yes" => FilterValue::Bool(true),
                    "false" | "0" | "no" => FilterValue::Bool(false),
                    _ => {
                        return Err(StoreError::invalid(
                            def.param,
                            format!("{raw:?} is not a boolean (true or false)"),
                        ));
                    }
                }
            }
            FilterOp::Eq | FilterOp::Contains | FilterOp::Member | FilterOp::MinSeverity => {
                if let Some(values) = def.values {
                    let norm = raw.trim().to_ascii_lowercase().replace('-', "_");
                    if !values.contains(&norm.as_str()) {
                        return Err(StoreError::invalid(
                            def.param,
                            format!("{raw:?} is not one of {}", values.join(", ")),
                        ));
                    }
                    FilterValue::Text(norm)
                } else {
                    FilterValue::Text(raw.to_string())
                }
            }
        };
        Ok(Filter { def, value })
    }

    /// Matches a column value (as the SQL backends store it).
    pub fn matches_text(&self, v: Option<&str>) -> bool {
        let as_int = || v.and_then(|s| s.parse::<i64>().ok()).unwrap_or(0);
        match (&self.def.op, &self.value) {
            (FilterOp::Eq, FilterValue::Text(want)) => v == Some(want.as_str()),
            (FilterOp::Contains, FilterValue::Text(want)) => {
                v.is_some_and(|s| s.contains(want.as_str()))
            }
            (FilterOp::Min, FilterValue::Int(n)) => as_int() >= *n,
            (FilterOp::Positive, FilterValue::Bool(b)) => (as_int() > 0) == *b,
            (FilterOp::Since, FilterValue::Text(t)) => v.is_some_and(|s| s >= t.as_str()),
            (FilterOp::Until, FilterValue::Text(t)) => v.is_some_and(|s| s <= t.as_str()),
            (FilterOp::MinSeverity, FilterValue::Text(t)) => {
                v.is_some_and(|s| severity_rank(s) >= severity_rank(t))
            }
            _ => false,
        }
    }

    /// Severities at or above `min` (for SQL `IN` lists).
    pub fn severities_from(min: &str) -> Vec<&'static str> {
        crate::kinds::SEVERITIES
            .iter()
            .copied()
            .filter(|s| severity_rank(s) >= severity_rank(min))
            .collect()
    }

    pub fn matches(&self, r: &Record) -> bool {
        match (&self.def.op, &self.value) {
            (FilterOp::Eq, FilterValue::Text(v)) => {
                str_of(r, self.def.field).as_deref() == Some(v.as_str())
            }
            (FilterOp::Contains, FilterValue::Text(v)) => {
                str_of(r, self.def.field).is_some_and(|s| s.contains(v.as_str()))
            }
            (FilterOp::Min, FilterValue::Int(n)) => int(r, self.def.field).unwrap_or(0) >= *n,
            (FilterOp::Positive, FilterValue::Bool(b)) => {
                (int(r, self.def.field).unwrap_or(0) > 0) == *b
            }
            (FilterOp::Since | FilterOp::Until | FilterOp::MinSeverity, _) => {
                self.matches_text(str_of(r, self.def.field).as_deref())
            }
            (FilterOp::Risky, FilterValue::Bool(b)) => {
                let d = str_of(r, "decision");
                let s = str_of(r, "severity");
                let risky = matches!(d.as_deref(), Some("block" | "require_approval"))
                    || matches!(s.as_deref(), Some("high" | "critical"));
                risky == *b
            }
            (FilterOp::Member, FilterValue::Text(v)) => match r.get(self.def.field) {
                Some(Value::Array(items)) => items.iter().any(|i| i.as_str() == Some(v.as_str())),
                _ => false,
            },
            _ => false,
        }
    }
}

/// Position on the severity scale (unknown values rank lowest).
pub fn severity_rank(s: &str) -> usize {
    crate::kinds::SEVERITIES
        .iter()
        .position(|x| *x == s)
        .map_or(0, |i| i + 1)
}

/// A field as text, borrowed when it is a string (no allocation on the
/// hot path of filtering).
fn str_of<'a>(r: &'a Record, name: &str) -> Option<std::borrow::Cow<'a, str>> {
    match r.get(name) {
        Some(Value::String(s)) => Some(std::borrow::Cow::Borrowed(s.as_str())),
        Some(Value::Number(n)) => Some(std::borrow::Cow::Owned(n.to_string())),
        Some(Value::Bool(b)) => Some(std::borrow::Cow::Owned(b.to_string())),
        _ => None,
    }
}
