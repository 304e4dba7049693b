//! Reading packs: YAML with located errors, semantic validation,
//! inheritance (merge and normalisation, cycle detection), overlays, digests
//! and semantic diffs. The text of packs comes from a [`PackSource`]; this
//! module does no IO itself.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::compile::{CompiledPolicy, compile};
use crate::spec::PackSpec;

/// Largest pack file accepted, in bytes.
pub const MAX_PACK_BYTES: usize = 4 * 1024 * 1024;
/// Deepest inheritance chain.
pub const MAX_INHERITANCE_DEPTH: usize = 32;

/// The text of one pack file.
#[derive(Clone, Debug)]
pub struct PackFile {
    /// Directory name of the pack (the lookup id).
    pub id: String,
    /// Path shown in diagnostics.
    pub path: String,
    pub text: String,
}

/// Where packs come from (a directory, the packs built into the binary).
pub trait PackSource {
    /// The pack whose directory is `id`, if any.
    fn get(&self, id: &str) -> Option<PackFile>;
    /// Every pack id, sorted.
    fn ids(&self) -> Vec<String>;
    /// Why pack `id` is there but cannot be served (unreadable, too large,
    /// not UTF-8), so an error says so instead of "not found".
    fn problem(&self, _id: &str) -> Option<String> {
        None
    }
}

/// The error for a pack `source` does not serve.
fn missing(source: &dyn PackSource, id: &str, what: &str) -> String {
    source
        .problem(id)
        .map(|p| format!("{what} `{id}` cannot be read: {p}"))
        .unwrap_or_else(|| format!("{what} `{id}` not found"))
}

/// A problem in a pack, located as precisely as possible.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    pub file: String,
    pub line: Option<u64>,
    pub column: Option<u64>,
    /// Dotted path of the field, when known (`filesystem.block_read[2]`).
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
            if let Some(c) = self.column {
                write!(f, ":{c}")?;
            }
        }
        write!(f, ": ")?;
        if let Some(p) = &self.field {
            write!(f, "{p}: ")?;
        }
        write!(f, "{}", self.message)
    }
}

/// Errors of loading, each with its diagnostics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadError {
    pub diagnostics: Vec<Diagnostic>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.diagnostics.iter().map(ToString::to_string).collect();
        f.write_str(&lines.join("\n"))
    }
}

impl std::error::Error for LoadError {}

impl LoadError {
    fn one(file: &str, message: impl Into<String>) -> LoadError {
        LoadError {
            diagnostics: vec![Diagnostic {
                file: file.to_string(),
                line: None,
                column: None,
                field: None,
                message: message.into(),
            }],
        }
    }
}

/// Parse one YAML pack file into the typed model (syntax, types and unknown
/// fields), then validate its semantics.
pub fn parse_pack(file: &str, text: &str) -> Result<PackSpec, LoadError> {
    if text.len() > MAX_PACK_BYTES {
        return Err(LoadError::one(
            file,
            format!(
                "file is {} bytes, over the {MAX_PACK_BYTES}-byte limit",
                text.len()
            ),
        ));
    }
    let spec: PackSpec = parse_yaml(file, text)?;
    let diags = crate::validate::validate(&spec, file, text);
    if diags.is_empty() {
        Ok(spec)
    } else {
        Err(LoadError { diagnostics: diags })
    }
}

/// Parse YAML into `T`, turning serde-saphyr errors into located diagnostics.
pub fn parse_yaml<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T, LoadError> {
    if text.trim().is_empty() {
        return Err(LoadError::one(file, "file is empty"));
    }
    serde_saphyr::from_str::<T>(text).map_err(|e| {
        let loc = e.location();
        let msg = e.without_snippet().to_string();
        let msg = strip_location_prefix(&msg);
        LoadError {
            diagnostics: vec![Diagnostic {
                file: file.to_string(),
                line: loc.map(|l| l.line()),
                column: loc.map(|l| l.column()),
                field: None,
                message: msg,
            }],
        }
    })
}

fn strip_location_prefix(msg: &str) -> String {
    let first = msg.lines().next().unwrap_or(msg).trim();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    // "line 4 column 3: unknown field …"
    if let Some(rest) = first.strip_prefix("line ")
        && let Some((_, after)) = rest.split_once(": ")
    {
        return after.to_string();
    }
    first.to_string()
}

/// A pack after inheritance, merge and normalisation.
#[derive(Clone, Debug)]
pub struct ResolvedPack {
    /// The lookup id (directory name) or the file name.
    pub id: String,
    pub spec: PackSpec,
    /// Files that contributed, parents first.
    pub files: Vec<String>,
    /// The digest, when already known (a cached resolution).
    pub known_digest: Option<String>,
}

impl ResolvedPack {
    /// `sha256:` over the canonical JSON of the normalised pack.
    pub fn digest(&self) -> String {
        match &self.known_digest {
            Some(d) => d.clone(),
            None => digest_spec(&self.spec),
        }
    }

    pub fn compile(&self) -> Result<CompiledPolicy, LoadError> {
        let mut p = compile(&self.spec, &self.id).map_err(|msg| {
            LoadError::one(
                self.files.last().map(String::as_str).unwrap_or(&self.id),
                msg,
            )
        })?;
        p.digest = self.digest();
        Ok(p)
    }
}

/// Load pack `id` from `source`, resolving `metadata.inherits`.
pub fn resolve(source: &dyn PackSource, id: &str) -> Result<ResolvedPack, LoadError> {
    let file = source
        .get(id)
        .ok_or_else(|| LoadError::one(id, missing(source, id, "policy pack")))?;
    resolve_file(source, &file, &[])
}

/// Load a pack from its text, resolving parents from `source`, then apply
/// overlays in order.
pub fn resolve_file(
    source: &dyn PackSource,
    file: &PackFile,
    overlays: &[PackFile],
) -> Result<ResolvedPack, LoadError> {
    let mut stack = Vec::new();
    let mut memo = Memo::new();
    let (value, files, _) = resolve_value(source, file, &mut stack, &mut memo)?;
    let mut value = value;
    let mut files = files;
    for o in overlays {
        let spec = parse_pack(&o.path, &o.text)?;
        // An overlay is folded onto the pack as it stands; parents it names
        // would be silently dropped, so naming any is an error.
        if let Some(parent) = spec.inherits().first() {
            let (line, column) = crate::validate::locate(&o.text, parent);
            return Err(LoadError {
                diagnostics: vec![Diagnostic {
                    file: o.path.clone(),
                    line,
                    column,
                    field: Some("metadata.inherits".into()),
                    message: "an overlay cannot inherit: name the parents in the base pack".into(),
                }],
            });
        }
        let ov = to_value(&spec);
        value = merge(&value, &ov);
        files.push(o.path.clone());
    }
    let value = normalise(value);
    let spec: PackSpec = serde_json::from_value(value)
        .map_err(|e| LoadError::one(&file.path, format!("merged pack is invalid: {e}")))?;
    if !overlays.is_empty() {
        let diags = crate::validate::validate(&spec, &file.path, &file.text);
        if !diags.is_empty() {
            return Err(LoadError { diagnostics: diags });
        }
    }
    let diags = crate::validate::undefined_routes(&spec, &file.path, &file.text);
    if !diags.is_empty() {
        return Err(LoadError { diagnostics: diags });
    }
    Ok(ResolvedPack {
        id: file.id.clone(),
        spec,
        files,
        known_digest: None,
    })
}

/// Packs already resolved in one resolution, by lookup id: their merged
/// value, files and height. A pack reached by several paths (a diamond, or
/// a ladder of them) is parsed and merged once; without this a chain of 30
/// packs each inheriting the next two cost 2^30 parses. Reusing a result
/// cannot hide a cycle: a pack that resolved once has none above it.
type Memo = std::collections::HashMap<String, (Value, Vec<String>, usize)>;

fn resolve_value(
    source: &dyn PackSource,
    file: &PackFile,
    stack: &mut Vec<String>,
    memo: &mut Memo,
) -> Result<(Value, Vec<String>, usize), LoadError> {
    if let Some((v, files, height)) = memo.get(&file.id)
        && stack.len() + height <= MAX_INHERITANCE_DEPTH + 1
    {
        return Ok((v.clone(), files.clone(), *height));
    }
    if stack.len() > MAX_INHERITANCE_DEPTH {
        return Err(LoadError::one(
            &file.path,
            format!("inheritance deeper than {MAX_INHERITANCE_DEPTH} packs"),
        ));
    }
    let spec = parse_pack(&file.path, &file.text)?;
    let own_id = spec.pack_id().unwrap_or(&file.id).to_string();
    if stack.contains(&own_id) || stack.contains(&file.id) {
        let mut chain = stack.clone();
        chain.push(own_id);
        return Err(LoadError::one(
            &file.path,
            format!("inheritance cycle: {}", chain.join(" -> ")),
        ));
    }
    let parents = spec.inherits();
    let own = to_value(&spec);
    if parents.is_empty() {
        let files = vec![file.path.clone()];
        memo.insert(file.id.clone(), (own.clone(), files.clone(), 1));
        return Ok((own, files, 1));
    }
    stack.push(own_id);
    let mut acc: Option<Value> = None;
    let mut files = Vec::new();
    let mut height = 0;
    for parent in &parents {
        if stack.contains(parent) {
            let mut chain = stack.clone();
            chain.push(parent.clone());
            return Err(LoadError::one(
                &file.path,
                format!("inheritance cycle: {}", chain.join(" -> ")),
            ));
        }
        let pf = source.get(parent).ok_or_else(|| {
            let (line, column) = crate::validate::locate(&file.text, parent);
            LoadError {
                diagnostics: vec![Diagnostic {
                    file: file.path.clone(),
                    line,
                    column,
                    field: Some("metadata.inherits".into()),
                    message: missing(source, parent, "inherited policy pack"),
                }],
            }
        })?;
        let (pv, pfiles, h) = resolve_value(source, &pf, stack, memo)?;
        height = height.max(h);
        for f in pfiles {
            if !files.contains(&f) {
                files.push(f);
            }
        }
        acc = Some(match acc {
            None => pv,
            Some(a) => merge(&a, &pv),
        });
    }
    stack.pop();
    files.push(file.path.clone());
    let merged = match acc {
        Some(a) => merge(&a, &own),
        None => own,
    };
    memo.insert(file.id.clone(), (merged.clone(), files.clone(), height + 1));
    Ok((merged, files, height + 1))
}

fn to_value(spec: &PackSpec) -> Value {
    serde_json::to_value(spec).unwrap_or(Value::Null)
}

/// Fold `over` onto `base` as documented: `metadata` per key when the new
/// value is non-null (`inherits` always from `over`); sections merge
/// recursively, lists concatenate without duplicates; scalars are replaced.
/// `tests` and the rules-shape identity come from `over` only.
pub fn merge(base: &Value, over: &Value) -> Value {
    let (Value::Object(b), Value::Object(o)) = (base, over) else {
        return over.clone();
    };
    let mut out = Map::new();
    for (k, v) in b {
        if matches!(
            k.as_str(),
            "tests" | "id" | "title" | "version" | "description"
        ) {
            continue;
        }
        out.insert(k.clone(), v.clone());
    }
    for (k, v) in o {
        let merged = match (k.as_str(), out.get(k)) {
            ("metadata", Some(Value::Object(bm))) => {
                let mut m = bm.clone();
                m.remove("inherits");
                if let Value::Object(om) = v {
                    for (mk, mv) in om {
                        if !mv.is_null() {
                            m.insert(mk.clone(), mv.clone());
                        }
                    }
                }
                Value::Object(m)
            }
            (_, Some(existing)) => section_merge(existing, v),
            (_, None) => v.clone(),
        };
        out.insert(k.clone(), merged);
    }
    if let Some(Value::Object(m)) = out.get_mut("metadata") {
        match o.get("metadata").and_then(|om| om.get("inherits")) {
            Some(i) => {
                m.insert("inherits".into(), i.clone());
            }
            None => {
                m.remove("inherits");
            }
        }
    }
    Value::Object(out)
}

fn section_merge(base: &Value, over: &Value) -> Value {
    match (base, over) {
        (Value::Array(b), Value::Array(o)) => {
            let mut out: Vec<Value> = Vec::new();
            let mut seen: Vec<String> = Vec::new();
            for v in b.iter().chain(o) {
                let key = canonical_json(v);
                if !seen.contains(&key) {
                    seen.push(key);
                    out.push(v.clone());
                }
            }
            Value::Array(out)
        }
        (Value::Object(b), Value::Object(o)) => {
            let mut out = b.clone();
            for (k, v) in o {
                let merged = match out.get(k) {
                    Some(existing) => section_merge(existing, v),
                    None => v.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        _ => over.clone(),
    }
}

/// Sort the pattern lists of `filesystem`, `commands` and the server lists of
/// `mcp` byte-wise, so equivalent packs have one form and one digest.
pub fn normalise(mut v: Value) -> Value {
    for section in ["filesystem", "commands"] {
        if let Some(Value::Object(m)) = v.get_mut(section) {
            for (_, list) in m.iter_mut() {
                sort_string_list(list);
            }
        }
    }
    if let Some(Value::Object(m)) = v.get_mut("mcp") {
        for key in [
            "allowed_servers",
            "blocked_servers",
            "approval_required_servers",
        ] {
            if let Some(list) = m.get_mut(key) {
                sort_string_list(list);
            }
        }
    }
    v
}

fn sort_string_list(list: &mut Value) {
    if let Value::Array(items) = list
        && items.iter().all(Value::is_string)
    {
        items.sort_by(|a, b| {
            a.as_str()
                .unwrap_or("")
                .as_bytes()
                .cmp(b.as_str().unwrap_or("").as_bytes())
        });
        items.dedup();
    }
}

/// Compact JSON with keys sorted at every level.
pub fn canonical_json(v: &Value) -> String {
    fn sorted(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                let mut out = Map::new();
                for k in keys {
                    if let Some(x) = m.get(k) {
                        out.insert(k.clone(), sorted(x));
                    }
                }
                Value::Object(out)
            }
            Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    serde_json::to_string(&sorted(v)).unwrap_or_default()
}

/// `sha256:` over the canonical JSON of a value.
pub fn digest_value(v: &Value) -> String {
    let mut h = Sha256::new();
    h.update(canonical_json(v).as_bytes());
    format!("sha256:{}", hex::encode(h.finalize()))
}

pub fn digest_spec(spec: &PackSpec) -> String {
    digest_value(&normalise(to_value(spec)))
}

/// The semantic difference between two packs: dotted paths added, removed and
/// changed (string lists compared as sets).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct PackDiff {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
}

impl PackDiff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

pub fn diff(left: &PackSpec, right: &PackSpec) -> PackDiff {
    let l = flatten(&normalise(to_value(left)));
    let r = flatten(&normalise(to_value(right)));
    let mut d = PackDiff::default();
    for (k, v) in &l {
        match r.get(k) {
            None => d.removed.push(k.clone()),
            Some(rv) if rv != v => d.changed.push(k.clone()),
            _ => {}
        }
    }
    for k in r.keys() {
        if !l.contains_key(k) {
            d.added.push(k.clone());
        }
    }
    d
}

/// Flatten to dotted paths; lists of strings become one sorted leaf.
pub fn flatten(v: &Value) -> BTreeMap<String, String> {
    fn walk(prefix: &str, v: &Value, out: &mut BTreeMap<String, String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    let p = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&p, x, out);
                }
            }
            Value::Array(a) if a.iter().all(Value::is_string) => {
                let mut items: Vec<&str> = a.iter().filter_map(Value::as_str).collect();
                items.sort_unstable();
                out.insert(prefix.to_string(), format!("{items:?}"));
            }
            other => {
                out.insert(prefix.to_string(), canonical_json(other));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk("", v, &mut out);
    out
}
