//! CAVRA persistence: every record kind (sessions, decisions, repositories,
//! policy rollouts, integrations, agents, MCP servers, evidence metadata,
//! approvals) behind one interface, on three backends with the same
//! behaviour:
//!
//! - JSON files, the documented default (`.cavra/api/*.json`, moved with
//!   `CAVRA_*_STORE`), crash-safe and safe across processes ([`json`]);
//! - SQLite per store (`CAVRA_*_DB`) and PostgreSQL for all stores
//!   (`CAVRA_DATABASE_URL`), through sqlx ([`sql`]).
//!
//! Record schemas, filters and ordering are data ([`kinds`]); validation
//! and merge rules are pure functions ([`records`]); the backends only
//! store and fetch.

pub mod error;
pub mod fsx;
mod group;
pub mod json;
pub mod kinds;
pub mod ops;
pub mod query;
pub mod records;
pub mod spool;
pub mod sql;
mod sqlite_reader;
mod sqlite_writer;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

pub use error::{Result, StoreError};
pub use kinds::{Kind, StoreName};
pub use query::{Page, Query, RawPage};
pub use records::Record;

use json::JsonStore;
use sql::{Pool, SqlStore};

/// The default directory of the JSON stores.
pub const DEFAULT_DIR: &str = ".cavra/api";

/// Where one store lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    Json(PathBuf),
    Sqlite(PathBuf),
    /// A PostgreSQL URL and an optional schema (search path).
    Postgres {
        url: String,
        schema: Option<String>,
    },
}

impl Location {
    pub fn mode(&self) -> &'static str {
        match self {
            Location::Json(_) => "json",
            Location::Sqlite(_) => "sqlite",
            Location::Postgres { .. } => "postgres",
        }
    }

    /// A path or a URL without its password.
    pub fn display(&self) -> String {
        match self {
            Location::Json(p) | Location::Sqlite(p) => p.display().to_string(),
            Location::Postgres { url, schema } => {
                let base = sql::redact_url(url);
                match schema {
                    Some(s) => format!("{base} (schema {s})"),
                    None => base,
                }
            }
        }
    }

    /// Parses a backend spec used by `ops migrate`: `json:DIR`, `json`
    /// (the default directory), `sqlite:FILE` (one file for every store)
    /// or a `postgres://` URL.
    pub fn parse_spec(spec: &str) -> Result<BTreeMap<StoreName, Location>> {
        let mut out = BTreeMap::new();
        if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
            for n in StoreName::ALL {
                out.insert(
                    n,
                    Location::Postgres {
                        url: spec.to_string(),
                        schema: None,
                    },
                );
            }
        } else if let Some(file) = spec.strip_prefix("sqlite:") {
            let file = file.strip_prefix("//").unwrap_or(file);
            if file.is_empty() {
                return Err(StoreError::Config(
                    "sqlite: needs a file, e.g. sqlite:.cavra/api/cavra.db".into(),
                ));
            }
            for n in StoreName::ALL {
                out.insert(n, Location::Sqlite(PathBuf::from(file)));
            }
        } else if spec == "json" || spec.starts_with("json:") {
            let dir = spec.strip_prefix("json:").unwrap_or(DEFAULT_DIR);
            for n in StoreName::ALL {
                out.insert(n, Location::Json(Path::new(dir).join(n.default_file())));
            }
        } else {
            return Err(StoreError::Config(format!(
                "{spec:?} is not a store spec; use json[:DIR], sqlite:FILE or postgres://…"
            )));
        }
        Ok(out)
    }
}

/// How one store was chosen, for `ops stores` and `/operations/stores`.
#[derive(Clone, Debug)]
pub struct StorePlan {
    pub name: StoreName,
    pub location: Location,
    /// The environment variable that chose it, or `default`.
    pub configured_by: String,
}

/// Reads the store configuration from environment variables (`env` is
/// `std::env::var` in production):
/// `CAVRA_DATABASE_URL` (postgres, all stores) > `CAVRA_X_DB` (SQLite) >
/// `CAVRA_X_STORE` (JSON path) > `.cavra/api/<file>`.
pub fn plan_from_env(env: impl Fn(&str) -> Option<String>) -> Result<Vec<StorePlan>> {
    let get = |k: &str| env(k).filter(|v| !v.trim().is_empty());
    let mut plans = Vec::new();
    let pg = get("CAVRA_DATABASE_URL");
    if let Some(url) = &pg
        && !(url.starts_with("postgres://") || url.starts_with("postgresql://"))
    {
        return Err(StoreError::Config(format!(
            "CAVRA_DATABASE_URL must be a postgres:// URL, got {}",
            sql::redact_url(url)
        )));
    }
    for name in StoreName::ALL {
        let stem = name.env_stem();
        let (location, by) = if let Some(url) = &pg {
            (
                Location::Postgres {
                    url: url.clone(),
                    schema: get("CAVRA_DATABASE_SCHEMA"),
                },
                "CAVRA_DATABASE_URL".to_string(),
            )
        } else if let Some(db) = get(&format!("CAVRA_{stem}_DB")) {
            let path = db
                .strip_prefix("sqlite://")
                .or_else(|| db.strip_prefix("sqlite:"))
                .unwrap_or(&db)
                .to_string();
            (
                Location::Sqlite(PathBuf::from(path)),
                format!("CAVRA_{stem}_DB"),
            )
        } else if let Some(path) = get(&format!("CAVRA_{stem}_STORE")) {
            (
                Location::Json(PathBuf::from(path)),
                format!("CAVRA_{stem}_STORE"),
            )
        } else {
            (
                Location::Json(Path::new(DEFAULT_DIR).join(name.default_file())),
                "default".to_string(),
            )
        };
        plans.push(StorePlan {
            name,
            location,
            configured_by: by,
        });
    }
    Ok(plans)
}

/// Plans with every store at `locations` (tests, `ops migrate`).
pub fn plan_at(locations: &BTreeMap<StoreName, Location>, by: &str) -> Vec<StorePlan> {
    locations
        .iter()
        .map(|(name, location)| StorePlan {
            name: *name,
            location: location.clone(),
            configured_by: by.to_string(),
        })
        .collect()
}

#[derive(Clone)]
enum Backend {
    Json(JsonStore),
    Sql(SqlStore),
}

/// What `ops stores` and `/operations/stores` report for one store.
#[derive(Clone, Debug, Serialize)]
pub struct StoreStatus {
    pub name: String,
    pub kind: String,
    pub path: String,
    pub configured_by: String,
    pub exists: bool,
    pub size_bytes: u64,
    pub records: BTreeMap<String, i64>,
}

/// All six stores, opened.
#[derive(Clone)]
pub struct Stores {
    backends: BTreeMap<StoreName, (Backend, StorePlan)>,
    pools: Vec<Pool>,
}

impl Stores {
    /// Opens the stores the environment configures.
    pub async fn from_env() -> Result<Stores> {
        Stores::open(plan_from_env(|k| std::env::var(k).ok())?).await
    }

    /// Opens every planned store: JSON stores lazily, SQL stores with
    /// their migrations. PostgreSQL stores with the same URL and schema
    /// share one pool; SQLite stores with the same file share one pool.
    pub async fn open(plans: Vec<StorePlan>) -> Result<Stores> {
        let mut pools: Vec<(Location, Pool)> = Vec::new();
        let mut backends = BTreeMap::new();
        for plan in plans {
            let backend = match &plan.location {
                Location::Json(path) => Backend::Json(JsonStore::open(plan.name, path.clone())),
                loc @ (Location::Sqlite(_) | Location::Postgres { .. }) => {
                    let pool = match pools.iter().find(|(l, _)| l == loc) {
                        Some((_, p)) => p.clone(),
                        None => {
                            let p = match loc {
                                Location::Sqlite(path) => sql::open_sqlite(path).await?,
                                Location::Postgres { url, schema } => {
                                    sql::open_postgres(url, schema.as_deref()).await?
                                }
                                Location::Json(_) => continue,
                            };
                            pools.push((loc.clone(), p.clone()));
                            p
                        }
                    };
                    Backend::Sql(SqlStore::open(plan.name, pool, loc.display()).await?)
                }
            };
            backends.insert(plan.name, (backend, plan));
        }
        for name in StoreName::ALL {
            if !backends.contains_key(&name) {
                return Err(StoreError::Config(format!(
                    "store {} is not configured",
                    name.as_str()
                )));
            }
        }
        Ok(Stores {
            backends,
            pools: pools.into_iter().map(|(_, p)| p).collect(),
        })
    }

    fn backend(&self, name: StoreName) -> Result<&Backend> {
        self.backends
            .get(&name)
            .map(|(b, _)| b)
            .ok_or_else(|| StoreError::Config(format!("store {} is not open", name.as_str())))
    }

    pub fn plans(&self) -> Vec<StorePlan> {
        self.backends.values().map(|(_, p)| p.clone()).collect()
    }

    /// `json`, `sqlite` or `postgres`.
    pub fn mode(&self, name: StoreName) -> &'static str {
        self.backends
            .get(&name)
            .map_or("json", |(_, p)| p.location.mode())
    }

    /// Validates `input` as a record of `kind` and upserts it. Returns the
    /// stored record.
    pub async fn put(&self, kind: Kind, input: &Value) -> Result<Value> {
        let record = records::normalize(kind, input)?;
        let mut out = self.put_records(kind, vec![record]).await?;
        out.pop()
            .ok_or_else(|| StoreError::Closed(kind.store().as_str().into()))
    }

    /// Upserts already-normalized records of one kind as one write.
    pub async fn put_records(&self, kind: Kind, records: Vec<Record>) -> Result<Vec<Value>> {
        let writes = records.into_iter().map(|r| (kind, r)).collect();
        let stored = match self.backend(kind.store())? {
            Backend::Json(j) => j.put(writes, false).await?,
            Backend::Sql(s) => s.put(writes, false).await?,
        };
        Ok(stored
            .into_iter()
            .map(|r| records::canonical(Value::Object(r)))
            .collect())
    }

    /// Stores records exactly as given (no defaults, no merging): restores
    /// and migrations.
    pub async fn import(&self, kind: Kind, records: Vec<Record>) -> Result<()> {
        for r in &records {
            if records::text(r, kind.spec().key).is_none() {
                return Err(StoreError::invalid(
                    kind.spec().key,
                    format!("a {} record has no {}", kind.as_str(), kind.spec().key),
                ));
            }
            // What every backend can store, checked alike on each (a
            // migration to PostgreSQL must not fail halfway on a field
            // the others took).
            records::check_storable(kind, r)?;
        }
        let writes = records.into_iter().map(|r| (kind, r)).collect();
        match self.backend(kind.store())? {
            Backend::Json(j) => j.put(writes, true).await?,
            Backend::Sql(s) => s.put(writes, true).await?,
        };
        Ok(())
    }

    /// One record by id (or by its alternate key: repository name,
    /// integration provider, MCP server name).
    pub async fn get(&self, kind: Kind, id: &str) -> Result<Option<Value>> {
        match self.backend(kind.store())? {
            Backend::Json(j) => j.get(kind, id).await,
            Backend::Sql(s) => s.get(kind, id).await,
        }
    }

    pub async fn list(&self, query: Query) -> Result<Page> {
        match self.backend(query.kind.store())? {
            Backend::Json(j) => j.list(query).await,
            Backend::Sql(s) => s.list(query).await,
        }
    }

    /// The page [`Stores::list`] gives, as JSON text ready to send: SQLite
    /// payloads are re-serialized with sorted keys straight from their
    /// text, PostgreSQL payloads through one parse, never through a sorted
    /// copy.
    pub async fn list_raw(&self, query: Query) -> Result<RawPage> {
        match self.backend(query.kind.store())? {
            Backend::Json(j) => {
                // The JSON store's items come sorted already.
                let page = j.list(query).await?;
                let items = page
                    .items
                    .iter()
                    .map(|v| {
                        serde_json::value::to_raw_value(v).map_err(|e| {
                            StoreError::Config(format!("cannot serialize a record: {e}"))
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(RawPage {
                    items,
                    total: page.total,
                    limit: page.limit,
                    offset: page.offset,
                })
            }
            Backend::Sql(s) => s.list_raw(query).await,
        }
    }

    pub async fn count(&self, kind: Kind) -> Result<i64> {
        match self.backend(kind.store())? {
            Backend::Json(j) => j.count(kind).await,
            Backend::Sql(s) => s.count(kind).await,
        }
    }

    /// Calls `sink` with every record of `kind`, `batch` at a time.
    pub async fn export<F>(&self, kind: Kind, batch: usize, mut sink: F) -> Result<()>
    where
        F: AsyncSink,
    {
        let batch = batch.max(1);
        match self.backend(kind.store())? {
            Backend::Json(j) => {
                let all = j.export(kind).await?;
                for chunk in all.chunks(batch) {
                    sink.accept(chunk.to_vec()).await?;
                }
            }
            Backend::Sql(s) => {
                let mut after: Option<String> = None;
                loop {
                    let page = s.export_page(kind, after.as_deref(), batch as i64).await?;
                    let Some(last) = page.last() else { break };
                    after = records::text(last, kind.spec().key);
                    let done = page.len() < batch;
                    sink.accept(page).await?;
                    if done {
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    /// Deletes every record of a store (restore with `--overwrite`).
    pub async fn clear(&self, name: StoreName) -> Result<()> {
        match self.backend(name)? {
            Backend::Json(j) => Err(StoreError::Backup(format!(
                "JSON store {} is restored by copying its file, not cleared",
                j.path().display()
            ))),
            Backend::Sql(s) => s.clear().await,
        }
    }

    /// Folds JSON journals into their store files (shutdown, backups).
    pub async fn flush(&self) -> Result<()> {
        for (backend, _) in self.backends.values() {
            if let Backend::Json(j) = backend
                && (j.path().exists() || json_journal(j.path()).exists())
            {
                j.compact().await?;
            }
        }
        Ok(())
    }

    /// Flushes and closes every store.
    pub async fn close(&self) -> Result<()> {
        let mut r = self.flush().await;
        for (backend, _) in self.backends.values() {
            if let Backend::Sql(s) = backend {
                let closed = s.close().await;
                if r.is_ok() {
                    r = closed;
                }
            }
        }
        for p in &self.pools {
            p.close().await;
        }
        r
    }

    pub(crate) fn json_store(&self, name: StoreName) -> Option<&JsonStore> {
        match self.backends.get(&name) {
            Some((Backend::Json(j), _)) => Some(j),
            _ => None,
        }
    }

    /// The SQL pool behind a store, if it is on SQLite or PostgreSQL
    /// (benchmarks measure a raw baseline on it).
    pub fn sql_pool(&self, name: StoreName) -> Option<&Pool> {
        self.sql_store(name).map(SqlStore::pool)
    }

    pub(crate) fn sql_store(&self, name: StoreName) -> Option<&SqlStore> {
        match self.backends.get(&name) {
            Some((Backend::Sql(s), _)) => Some(s),
            _ => None,
        }
    }

    /// Each store's kind, location, configuration source, existence, size
    /// and record counts. Reading a corrupt store reports the error.
    pub async fn status(&self) -> Result<Vec<StoreStatus>> {
        let mut out = Vec::new();
        for (backend, plan) in self.backends.values() {
            let (exists, size_bytes) = match &plan.location {
                Location::Json(p) => {
                    let main = std::fs::metadata(p).ok();
                    let wal = std::fs::metadata(json_journal(p)).ok();
                    // Records may live only in the journal until the
                    // first compaction: the store exists all the same.
                    (
                        main.is_some() || wal.is_some(),
                        main.map_or(0, |m| m.len()) + wal.map_or(0, |m| m.len()),
                    )
                }
                Location::Sqlite(p) => {
                    let size = ["", "-wal"]
                        .iter()
                        .filter_map(|s| {
                            let mut os = p.as_os_str().to_owned();
                            os.push(s);
                            std::fs::metadata(PathBuf::from(os)).ok()
                        })
                        .map(|m| m.len())
                        .sum();
                    (p.exists(), size)
                }
                Location::Postgres { .. } => (true, 0),
            };
            let mut records = BTreeMap::new();
            for kind in plan.name.kinds() {
                let n = match backend {
                    Backend::Json(j) => j.count(*kind).await?,
                    Backend::Sql(s) => s.count(*kind).await?,
                };
                records.insert(kind.as_str().to_string(), n);
            }
            let size_bytes = match (&plan.location, backend) {
                (Location::Postgres { .. }, Backend::Sql(s)) => ops::pg_size(s).await.unwrap_or(0),
                _ => size_bytes,
            };
            out.push(StoreStatus {
                name: plan.name.as_str().into(),
                kind: plan.location.mode().into(),
                path: plan.location.display(),
                configured_by: plan.configured_by.clone(),
                exists,
                size_bytes,
                records,
            });
        }
        Ok(out)
    }
}

/// The journal file beside a JSON store file.
pub fn json_journal(path: &Path) -> PathBuf {
    json::sibling(path, ".wal")
}

/// A consumer of exported record batches.
pub trait AsyncSink {
    fn accept(&mut self, batch: Vec<Record>) -> impl std::future::Future<Output = Result<()>>;
}

/// Collects exported records into a vector.
#[derive(Default)]
pub struct Collect(pub Vec<Record>);

impl AsyncSink for Collect {
    async fn accept(&mut self, batch: Vec<Record>) -> Result<()> {
        self.0.extend(batch);
        Ok(())
    }
}
