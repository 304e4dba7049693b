//! List queries: validated filters, paging and the matching rules every
//! backend shares.

use serde::Serialize;
use serde_json::Value;

use crate::error::{Result, StoreError};
use crate::kinds::{FilterDef, FilterOp, Kind};
use crate::records::{Record, int, text};

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
                    let n = parse_int("limit", raw)?;
                    q.limit = n.clamp(1, MAX_LIMIT);
                }
                "offset" => {
                    let n = parse_int("offset", raw)?;
                    if n > MAX_OFFSET {
                        return Err(StoreError::invalid(
                            "offset",
                            format!("{n} is larger than the maximum {MAX_OFFSET}"),
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

fn parse_int(field: &str, raw: &str) -> Result<i64> {
    raw.trim()
        .parse::<i64>()
        .map_err(|_| StoreError::invalid(field, format!("{raw:?} is not an integer")))
}

impl Filter {
    pub fn parse(def: FilterDef, raw: &str) -> Result<Filter> {
        let value = match def.op {
            FilterOp::Min => FilterValue::Int(parse_int(def.param, raw)?),
            FilterOp::Positive => match raw.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => FilterValue::Bool(true),
                "false" | "0" | "no" => FilterValue::Bool(false),
                _ => {
                    return Err(StoreError::invalid(
                        def.param,
                        format!("{raw:?} is not a boolean (true or false)"),
                    ));
                }
            },
            FilterOp::Eq | FilterOp::Contains | FilterOp::Member => {
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

    pub fn matches(&self, r: &Record) -> bool {
        match (&self.def.op, &self.value) {
            (FilterOp::Eq, FilterValue::Text(v)) => {
                text(r, self.def.field).as_deref() == Some(v.as_str())
            }
            (FilterOp::Contains, FilterValue::Text(v)) => {
                text(r, self.def.field).is_some_and(|s| s.contains(v.as_str()))
            }
            (FilterOp::Min, FilterValue::Int(n)) => int(r, self.def.field).unwrap_or(0) >= *n,
            (FilterOp::Positive, FilterValue::Bool(b)) => {
                (int(r, self.def.field).unwrap_or(0) > 0) == *b
            }
            (FilterOp::Member, FilterValue::Text(v)) => match r.get(self.def.field) {
                Some(Value::Array(items)) => items.iter().any(|i| i.as_str() == Some(v.as_str())),
                _ => false,
            },
            _ => false,
        }
    }
}

/// Sorts records in the kind's documented order (the same on every backend):
/// the order columns, then the key ascending.
pub fn sort(kind: Kind, records: &mut [&Record]) {
    let spec = kind.spec();
    records.sort_by(|a, b| {
        for (col, desc) in spec.order {
            let ord = cmp_col(a, b, col);
            let ord = if *desc { ord.reverse() } else { ord };
            if ord.is_ne() {
                return ord;
            }
        }
        text(a, spec.key).cmp(&text(b, spec.key))
    });
}

fn cmp_col(a: &Record, b: &Record, col: &str) -> std::cmp::Ordering {
    // NULLs sort first ascending (as in SQLite and as we ask PostgreSQL to).
    text(a, col).cmp(&text(b, col))
}
