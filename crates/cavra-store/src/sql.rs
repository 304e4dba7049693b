//! The SQL backends (sqlx): SQLite per store (`CAVRA_*_DB`) and PostgreSQL
//! for all stores (`CAVRA_DATABASE_URL`).
//!
//! One table per kind: the key, one indexed column per filter and sort
//! field, and the full record as `payload` (TEXT in SQLite, JSONB in
//! PostgreSQL). Writes from many tasks are grouped into one transaction by
//! a writer task. SQLite runs in WAL mode with a busy timeout and takes the
//! write lock up front (`BEGIN IMMEDIATE`); PostgreSQL runs its migrations
//! under an advisory lock.

use std::os::unix::fs::OpenOptionsExt;
use std::str::FromStr;
use std::time::Duration;

use serde_json::Value;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Row};
use tokio::sync::{mpsc, oneshot};

use crate::error::{Result, StoreError};
use crate::group;
use crate::kinds::{ColType, FilterOp, Kind, StoreName};
use crate::query::{FilterValue, Page, Query};
use crate::records::{Record, canonical, text};

/// Most requests grouped into one transaction.
pub(crate) const MAX_GROUP: usize = 512;
/// The current schema version of every store's tables.
const SCHEMA_VERSION: i64 = 2;
/// The version that added the decision counts table and the facet tails
/// of the decision filter indexes: a database from before it gets both.
const FACETS_SINCE: i64 = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// One store on a SQL database.
#[derive(Clone)]
pub struct SqlStore {
    name: StoreName,
    /// Where it lives, for messages (a path, or a URL without password).
    location: String,
    pool: Pool,
    tx: mpsc::UnboundedSender<Request>,
    /// SQLite: the connections list pages are read on.
    readers: Option<std::sync::Arc<crate::sqlite_reader::Readers>>,
}

pub(crate) enum Request {
    Put {
        records: Vec<(Kind, Record)>,
        raw: bool,
        reply: oneshot::Sender<Result<Vec<Record>>>,
    },
    Clear {
        reply: oneshot::Sender<Result<()>>,
    },
    /// Answer what is queued, then stop (the store is closing).
    Close {
        reply: oneshot::Sender<Result<()>>,
    },
}

/// A put as the writers hold it: records, whether raw, where to reply.
pub(crate) type PutRequest = (
    Vec<(Kind, Record)>,
    bool,
    oneshot::Sender<Result<Vec<Record>>>,
);

/// A batch of requests, sorted by what they ask for.
#[derive(Default)]
pub(crate) struct Batch {
    pub puts: Vec<PutRequest>,
    pub clears: Vec<oneshot::Sender<Result<()>>>,
    pub closes: Vec<oneshot::Sender<Result<()>>>,
}

impl Batch {
    /// `first` and whatever else is queued behind it, up to [`MAX_GROUP`].
    pub(crate) fn take(first: Request, rx: &mut mpsc::UnboundedReceiver<Request>) -> Batch {
        let mut b = Batch::default();
        b.add(first);
        let mut n = 1;
        while n < MAX_GROUP {
            match rx.try_recv() {
                Ok(r) => b.add(r),
                Err(_) => break,
            }
            n += 1;
        }
        b
    }

    /// Closes `rx` and takes every request still queued in it.
    pub(crate) fn rest(rx: &mut mpsc::UnboundedReceiver<Request>) -> Batch {
        rx.close();
        let mut b = Batch::default();
        while let Ok(r) = rx.try_recv() {
            b.add(r);
        }
        b
    }

    fn add(&mut self, r: Request) {
        match r {
            Request::Put {
                records,
                raw,
                reply,
            } => self.puts.push((records, raw, reply)),
            Request::Clear { reply } => self.clears.push(reply),
            Request::Close { reply } => self.closes.push(reply),
        }
    }
}

/// The work of a group of puts (kept apart so a failed group can be
/// retried request by request).
pub(crate) fn work_of(puts: &[PutRequest]) -> group::Work {
    puts.iter().map(|(r, raw, _)| (r.clone(), *raw)).collect()
}

/// Answers the puts of a group with its result. A failed group of several
/// requests is handed back: one bad request must not fail the others it
/// was grouped with, so each is retried on its own.
pub(crate) fn answer(puts: Vec<PutRequest>, result: Result<Vec<Vec<Record>>>) -> Vec<PutRequest> {
    match result {
        Ok(stored) => {
            for ((_, _, reply), s) in puts.into_iter().zip(stored) {
                let _ = reply.send(Ok(s));
            }
            Vec::new()
        }
        Err(e) if puts.len() == 1 => {
            if let Some((_, _, reply)) = puts.into_iter().next() {
                let _ = reply.send(Err(e));
            }
            Vec::new()
        }
        Err(_) => puts,
    }
}

macro_rules! on_pool {
    ($pool:expr, $p:ident => $body:expr) => {
        match $pool {
            Pool::Sqlite($p) => $body,
            Pool::Postgres($p) => $body,
        }
    };
}

pub(crate) fn q(ident: &str) -> String {
    format!("\"{ident}\"")
}

impl Pool {
    pub fn dialect(&self) -> Dialect {
        match self {
            Pool::Sqlite(_) => Dialect::Sqlite,
            Pool::Postgres(_) => Dialect::Postgres,
        }
    }

    pub async fn close(&self) {
        on_pool!(self, p => p.close().await)
    }
}

/// Removes a password from a database URL for messages.
pub fn redact_url(url: &str) -> String {
    let Some(scheme) = url.find("://") else {
        return url.to_string();
    };
    let prefix = url.get(..scheme + 3).unwrap_or("");
    let rest = url.get(scheme + 3..).unwrap_or("");
    // The authority ends at the first `/` or `?`; only an `@` inside it
    // separates credentials.
    let auth_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(auth_end);
    let authority = match authority.rfind('@') {
        Some(at) => {
            let (creds, host) = authority.split_at(at);
            match creds.split_once(':') {
                Some((user, _)) => format!("{user}:***{host}"),
                None => authority.to_string(),
            }
        }
        None => authority.to_string(),
    };
    // A password may also be a query parameter (`?password=…`).
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let params: Vec<String> = query
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _))
                        if matches!(
                            k.to_ascii_lowercase().as_str(),
                            "password" | "sslpassword"
                        ) =>
                    {
                        format!("{k}=***")
                    }
                    _ => kv.to_string(),
                })
                .collect();
            format!("{path}?{}", params.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{prefix}{authority}{tail}")
}

/// Opens a SQLite database file (created if missing) in WAL mode.
pub async fn open_sqlite(path: &std::path::Path) -> Result<Pool> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
    }
    // A new database is created `0600`, like the JSON stores: decisions
    // hold command lines. SQLite gives its `-wal` and `-shm` files the
    // database file's permissions.
    if std::fs::symlink_metadata(path).is_err() {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true).mode(0o600);
        match crate::fsx::open_regular(path, &mut opts) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(StoreError::io(path, e)),
        }
    }
    let opts = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(30))
        // Keep planner statistics fresh, so a multi-filter page uses the
        // most selective index.
        .analysis_limit(1000)
        // A larger page cache (16 MiB per connection) keeps index pages of
        // a big store hot; no memory map, so the server's RSS stays bounded.
        .pragma("cache_size", "-16384")
        .pragma("temp_store", "memory")
        .optimize_on_close(true, 1000);
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        // A local file needs no liveness ping before every use.
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(opts)
        .await
        .map_err(|e| StoreError::Database {
            store: path.display().to_string(),
            message: e.to_string(),
        })?;
    Ok(Pool::Sqlite(pool))
}

/// Connects to PostgreSQL. `schema` (tests) sets the search path.
pub async fn open_postgres(url: &str, schema: Option<&str>) -> Result<Pool> {
    let shown = redact_url(url);
    let mut opts = PgConnectOptions::from_str(url).map_err(|e| {
        StoreError::Config(format!(
            "CAVRA_DATABASE_URL {shown} is not a valid URL: {e}"
        ))
    })?;
    if let Some(schema) = schema {
        opts = opts.options([("search_path", schema)]);
    }
    // One direct connection first, so that a refused or misconfigured
    // server fails at once instead of after the pool's acquire timeout.
    let probe = tokio::time::timeout(
        Duration::from_secs(10),
        <sqlx::PgConnection as sqlx::Connection>::connect_with(&opts),
    )
    .await;
    match probe {
        Ok(Ok(conn)) => {
            let conn: sqlx::PgConnection = conn;
            let _ = sqlx::Connection::close(conn).await;
        }
        Ok(Err(e)) => {
            return Err(StoreError::Database {
                store: shown,
                message: format!("cannot connect: {e}"),
            });
        }
        Err(_) => {
            return Err(StoreError::Database {
                store: shown,
                message: "cannot connect: no answer within 10 s".into(),
            });
        }
    }
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(opts)
        .await
        .map_err(|e| StoreError::Database {
            store: shown.clone(),
            message: format!("cannot connect: {e}"),
        })?;
    Ok(Pool::Postgres(pool))
}

fn db_err(location: &str) -> impl Fn(sqlx::Error) -> StoreError + '_ {
    move |e| StoreError::Database {
        store: location.to_string(),
        message: e.to_string(),
    }
}

/// A sort direction with SQLite's NULL placement (NULLs smallest), spelled
/// out for PostgreSQL, in indexes and queries alike, so that PostgreSQL can
/// read a page straight from the index.
fn direction(dialect: Dialect, desc: bool) -> &'static str {
    match (dialect, desc) {
        (Dialect::Postgres, true) => "DESC NULLS LAST",
        (Dialect::Postgres, false) => "ASC NULLS FIRST",
        (Dialect::Sqlite, true) => "DESC",
        (Dialect::Sqlite, false) => "ASC",
    }
}

/// The DDL that brings one store's tables and indexes from schema version
/// `from` (0: none) to [`SCHEMA_VERSION`]. Creation is idempotent; an index
/// whose definition changed is dropped and rebuilt only when `from`
/// predates the change, so a migration never rebuilds what is current.
fn ddl(dialect: Dialect, store: StoreName, from: i64) -> Vec<String> {
    let mut out = Vec::new();
    for kind in store.kinds() {
        let spec = kind.spec();
        let t = spec.table;
        let mut cols = Vec::new();
        for c in spec.columns {
            // PostgreSQL compares text bytewise (COLLATE "C"), as SQLite and
            // the JSON backend do, so every backend orders alike and the
            // indexes serve the ORDER BY.
            let ty = match (c.ty, dialect) {
                (ColType::Text, Dialect::Sqlite) => "TEXT",
                (ColType::Text, Dialect::Postgres) => "TEXT COLLATE \"C\"",
                (ColType::Int, Dialect::Sqlite) => "INTEGER",
                (ColType::Int, Dialect::Postgres) => "BIGINT",
            };
            if c.name == spec.key {
                cols.push(format!("{} {ty} PRIMARY KEY", q(c.name)));
            } else {
                cols.push(format!("{} {ty}", q(c.name)));
            }
        }
        let payload = match dialect {
            Dialect::Sqlite => "payload TEXT NOT NULL",
            Dialect::Postgres => "payload JSONB NOT NULL",
        };
        cols.push(payload.into());
        out.push(format!(
            "CREATE TABLE IF NOT EXISTS {t} ({})",
            cols.join(", ")
        ));
        // One index per filter column, ending with the sort column so a
        // filtered page is an index range scan.
        // The sort columns, then the key: the exact ORDER BY of a page, so
        // a filtered page reads 50 index entries instead of sorting.
        let mut order: Vec<String> = spec
            .order
            .iter()
            .map(|(c, desc)| format!("{} {}", q(c), direction(dialect, *desc)))
            .collect();
        if !order.is_empty() {
            order.push(format!("{} {}", q(spec.key), direction(dialect, false)));
        }
        // Sessions keep `updated_at` in their filter indexes although every
        // decision moves their entries: without it SQLite answers a page
        // filtered on a rare or absent agent by walking the whole order
        // index (148 ms at 200,000 sessions, measured), because it expects
        // the LIMIT to stop the walk early.
        let mut indexed = Vec::new();
        for f in spec.filters {
            match f.op {
                FilterOp::Risky => {}
                FilterOp::Member => {
                    if dialect == Dialect::Postgres {
                        out.push(format!(
                            "CREATE INDEX IF NOT EXISTS {t}_{}_gin ON {t} USING GIN ((payload->'{}'))",
                            f.field, f.field
                        ));
                    }
                }
                _ => {
                    let is_order = spec.order.iter().any(|(c, _)| *c == f.field);
                    if indexed.contains(&f.field) || is_order {
                        continue;
                    }
                    indexed.push(f.field);
                    let mut parts = vec![q(f.field)];
                    parts.extend(order.iter().cloned());
                    // The enumerated facets (outcome, severity) ride along
                    // at the end, so a page filtered on them as well skips
                    // non-matching entries inside the index, without
                    // reading their rows.
                    let tail: Vec<&str> = spec
                        .filters
                        .iter()
                        .filter(|g| {
                            g.values.is_some()
                                && g.op == FilterOp::Eq
                                && g.field != f.field
                                && spec.facets.contains(&g.field)
                        })
                        .map(|g| g.field)
                        .collect();
                    parts.extend(tail.iter().map(|c| q(c)));
                    if 0 < from && from < FACETS_SINCE && !tail.is_empty() {
                        out.push(format!("DROP INDEX IF EXISTS {t}_{}_idx", f.field));
                    }
                    out.push(format!(
                        "CREATE INDEX IF NOT EXISTS {t}_{}_idx ON {t} ({})",
                        f.field,
                        parts.join(", ")
                    ));
                }
            }
        }
        if !order.is_empty() {
            out.push(format!(
                "CREATE INDEX IF NOT EXISTS {t}_order_idx ON {t} ({})",
                order.join(", ")
            ));
        }
        if !spec.facets.is_empty() {
            out.extend(facet_ddl(dialect, t, spec.facets, from < FACETS_SINCE));
        }
    }
    out
}

/// The counts table of a kind with facets, its triggers, and (when
/// `rebuild`: the table is new) its rows counted from the records already
/// stored, so a migrated database starts exact. `facet` is the combination
/// as one JSON array, the upsert key.
fn facet_ddl(dialect: Dialect, t: &str, facets: &[&str], rebuild: bool) -> Vec<String> {
    let ct = format!("{t}_counts");
    let (ty, int) = match dialect {
        Dialect::Sqlite => ("TEXT", "INTEGER"),
        Dialect::Postgres => ("TEXT COLLATE \"C\"", "BIGINT"),
    };
    let cols: Vec<String> = facets.iter().map(|c| q(c)).collect();
    let key = |row: &str| {
        let args: Vec<String> = facets.iter().map(|c| format!("{row}.{}", q(c))).collect();
        match dialect {
            Dialect::Sqlite => format!("json_array({})", args.join(", ")),
            Dialect::Postgres => format!("json_build_array({})::text", args.join(", ")),
        }
    };
    let values = |row: &str| {
        let vals: Vec<String> = facets.iter().map(|c| format!("{row}.{}", q(c))).collect();
        vals.join(", ")
    };
    let add = |row: &str| {
        format!(
            "INSERT INTO {ct} (facet, {}, n) VALUES ({}, {}, 1) \
             ON CONFLICT (facet) DO UPDATE SET n = {ct}.n + 1",
            cols.join(", "),
            key(row),
            values(row)
        )
    };
    let sub = |row: &str| format!("UPDATE {ct} SET n = n - 1 WHERE facet = {}", key(row));
    let mut out = vec![format!(
        "CREATE TABLE IF NOT EXISTS {ct} (facet TEXT PRIMARY KEY, {}, n {int} NOT NULL)",
        facets
            .iter()
            .map(|c| format!("{} {ty}", q(c)))
            .collect::<Vec<_>>()
            .join(", ")
    )];
    for c in facets {
        out.push(format!(
            "CREATE INDEX IF NOT EXISTS {ct}_{c}_idx ON {ct} ({})",
            q(c)
        ));
    }
    match dialect {
        Dialect::Sqlite => {
            out.push(format!(
                "CREATE TRIGGER IF NOT EXISTS {ct}_insert AFTER INSERT ON {t} BEGIN {}; END",
                add("NEW")
            ));
            out.push(format!(
                "CREATE TRIGGER IF NOT EXISTS {ct}_delete AFTER DELETE ON {t} BEGIN {}; END",
                sub("OLD")
            ));
            out.push(format!(
                "CREATE TRIGGER IF NOT EXISTS {ct}_update AFTER UPDATE ON {t} \
                 WHEN {} IS NOT {} BEGIN {}; {}; END",
                key("OLD"),
                key("NEW"),
                sub("OLD"),
                add("NEW")
            ));
        }
        Dialect::Postgres => {
            out.push(format!(
                "CREATE OR REPLACE FUNCTION {ct}_keep() RETURNS trigger LANGUAGE plpgsql AS $body$ \
                 BEGIN \
                 IF TG_OP = 'UPDATE' THEN IF {} = {} THEN RETURN NULL; END IF; END IF; \
                 IF TG_OP <> 'INSERT' THEN {}; END IF; \
                 IF TG_OP <> 'DELETE' THEN {}; END IF; \
                 RETURN NULL; \
                 END $body$",
                key("OLD"),
                key("NEW"),
                sub("OLD"),
                add("NEW")
            ));
            // Not `CREATE OR REPLACE TRIGGER`, which needs PostgreSQL 14.
            out.push(format!("DROP TRIGGER IF EXISTS {ct}_keep ON {t}"));
            out.push(format!(
                "CREATE TRIGGER {ct}_keep AFTER INSERT OR UPDATE OR DELETE ON {t} \
                 FOR EACH ROW EXECUTE FUNCTION {ct}_keep()"
            ));
        }
    }
    if rebuild {
        out.push(format!("DELETE FROM {ct}"));
        out.push(format!(
            "INSERT INTO {ct} (facet, {}, n) SELECT {}, {}, COUNT(*) FROM {t} AS r GROUP BY {}",
            cols.join(", "),
            key("r"),
            values("r"),
            facets
                .iter()
                .map(|c| format!("r.{}", q(c)))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    out
}

impl SqlStore {
    /// Migrates `name`'s tables on `pool` and starts its writer.
    pub async fn open(name: StoreName, pool: Pool, location: String) -> Result<SqlStore> {
        migrate(&pool, name, &location).await?;
        if let Pool::Sqlite(p) = &pool {
            // Gather statistics for tables that lack them (a database
            // filled by an import or an older version).
            sqlx::query("PRAGMA optimize=0x10002")
                .execute(p)
                .await
                .map_err(db_err(&location))?;
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let mut readers = None;
        match &pool {
            Pool::Sqlite(p) => {
                // Writes go through a connection of their own on a thread
                // of their own; list pages through reading connections of
                // their own; other reads use the pool.
                let path = p.connect_options().get_filename().to_path_buf();
                readers = Some(crate::sqlite_reader::Readers::new(&path, &location));
                let loc = location.clone();
                let (conn, checkpoint) = tokio::task::spawn_blocking(move || {
                    let conn = crate::sqlite_writer::connect(&path, &loc)?;
                    let kick = crate::sqlite_writer::start_checkpointer(&path, &loc)?;
                    Ok::<_, StoreError>((conn, kick))
                })
                .await
                .map_err(|e| StoreError::Database {
                    store: location.clone(),
                    message: e.to_string(),
                })??;
                let writer = crate::sqlite_writer::SqliteWriter {
                    name,
                    location: location.clone(),
                    conn,
                    checkpoint,
                };
                std::thread::Builder::new()
                    .name(format!("cavra-{}-writer", name.as_str()))
                    .spawn(move || writer.run(rx))
                    .map_err(|e| StoreError::Database {
                        store: location.clone(),
                        message: format!("cannot start the writer thread: {e}"),
                    })?;
            }
            Pool::Postgres(p) => {
                let writer = Writer {
                    name,
                    location: location.clone(),
                    pool: p.clone(),
                };
                tokio::spawn(writer_loop(writer, rx));
            }
        }
        Ok(SqlStore {
            name,
            location,
            pool,
            tx,
            readers,
        })
    }

    pub fn name(&self) -> StoreName {
        self.name
    }

    pub fn location(&self) -> &str {
        &self.location
    }

    pub fn dialect(&self) -> Dialect {
        self.pool.dialect()
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    pub async fn put(&self, records: Vec<(Kind, Record)>, raw: bool) -> Result<Vec<Record>> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Request::Put {
                records,
                raw,
                reply,
            })
            .map_err(|_| StoreError::Closed(self.name.as_str().into()))?;
        rx.await
            .map_err(|_| StoreError::Closed(self.name.as_str().into()))?
    }

    /// Answers every queued write, then stops the writer. Later writes
    /// fail with [`StoreError::Closed`].
    pub async fn close(&self) -> Result<()> {
        let (reply, rx) = oneshot::channel();
        if self.tx.send(Request::Close { reply }).is_err() {
            return Ok(());
        }
        // No answer means the writer died: nothing says the queue was served.
        rx.await
            .unwrap_or_else(|_| Err(StoreError::Closed(self.name.as_str().into())))
    }

    /// Deletes every record of this store (restore with `--overwrite`).
    pub async fn clear(&self) -> Result<()> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Request::Clear { reply })
            .map_err(|_| StoreError::Closed(self.name.as_str().into()))?;
        rx.await
            .map_err(|_| StoreError::Closed(self.name.as_str().into()))?
    }

    fn payload_expr(&self) -> &'static str {
        match self.dialect() {
            Dialect::Sqlite => "payload",
            Dialect::Postgres => "payload::text",
        }
    }

    pub async fn get(&self, kind: Kind, id: &str) -> Result<Option<Value>> {
        let spec = kind.spec();
        let mut sql = format!(
            "SELECT {} AS payload FROM {} WHERE {} = $1",
            self.payload_expr(),
            spec.table,
            q(spec.key)
        );
        let mut found =
            fetch_payloads(&self.pool, &self.location, &sql, &[Bind::Text(id.into())]).await?;
        if found.is_empty()
            && let Some(alt) = spec.alt_key
        {
            sql = format!(
                "SELECT {} AS payload FROM {} WHERE {} = $1 ORDER BY {} LIMIT 1",
                self.payload_expr(),
                spec.table,
                q(alt),
                q(spec.key)
            );
            found =
                fetch_payloads(&self.pool, &self.location, &sql, &[Bind::Text(id.into())]).await?;
        }
        Ok(found
            .into_iter()
            .next()
            .map(|r| canonical(Value::Object(r))))
    }

    fn where_clause(&self, query: &Query, binds: &mut Vec<Bind>) -> String {
        let dialect = self.dialect();
        let mut conds = Vec::new();
        for f in &query.filters {
            let col = q(f.def.field);
            let mut bind = |v: Bind| {
                binds.push(v);
                format!("${}", binds.len())
            };
            let cond = match (&f.def.op, &f.value) {
                (FilterOp::Eq, FilterValue::Text(v)) => {
                    format!("{col} = {}", bind(Bind::Text(v.clone())))
                }
                (FilterOp::Contains, FilterValue::Text(v)) => {
                    let p = bind(Bind::Text(v.clone()));
                    match dialect {
                        Dialect::Sqlite => format!("instr({col}, {p}) > 0"),
                        Dialect::Postgres => format!("strpos({col}, {p}) > 0"),
                    }
                }
                (FilterOp::Min, FilterValue::Int(n)) => {
                    format!("COALESCE({col}, 0) >= {}", bind(Bind::Int(*n)))
                }
                (FilterOp::Positive, FilterValue::Bool(true)) => format!("COALESCE({col}, 0) > 0"),
                (FilterOp::Positive, FilterValue::Bool(false)) => format!("COALESCE({col}, 0) = 0"),
                (FilterOp::Since, FilterValue::Text(v)) => {
                    format!("{col} >= {}", bind(Bind::Text(v.clone())))
                }
                (FilterOp::Until, FilterValue::Text(v)) => {
                    format!("{col} <= {}", bind(Bind::Text(v.clone())))
                }
                (FilterOp::MinSeverity, FilterValue::Text(v)) => {
                    let set: Vec<String> = crate::query::Filter::severities_from(v)
                        .into_iter()
                        .map(|s| bind(Bind::Text(s.to_string())))
                        .collect();
                    if set.is_empty() {
                        "1 = 0".to_string()
                    } else {
                        format!("{col} IN ({})", set.join(", "))
                    }
                }
                (FilterOp::Risky, FilterValue::Bool(b)) => {
                    // A record without an outcome or a severity (an import)
                    // is not a risk event: NULLs count as neither.
                    let risky = "(COALESCE(\"decision\", '') IN ('block', 'require_approval') \
                                 OR COALESCE(\"severity\", '') IN ('high', 'critical'))";
                    if *b {
                        risky.to_string()
                    } else {
                        format!("NOT {risky}")
                    }
                }
                (FilterOp::Member, FilterValue::Text(v)) => {
                    let p = bind(Bind::Text(v.clone()));
                    match dialect {
                        Dialect::Sqlite => format!(
                            "EXISTS (SELECT 1 FROM json_each(payload, '$.{}') WHERE json_each.value = {p})",
                            f.def.field
                        ),
                        Dialect::Postgres => {
                            // The `?` operator, not `jsonb_exists()`: only
                            // the operator can use the GIN index.
                            format!("(payload->'{}') ? {p}", f.def.field)
                        }
                    }
                }
                _ => "1 = 0".to_string(),
            };
            conds.push(cond);
        }
        if conds.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conds.join(" AND "))
        }
    }

    fn order_clause(&self, kind: Kind) -> String {
        let spec = kind.spec();
        let mut parts: Vec<String> = spec
            .order
            .iter()
            .map(|(c, desc)| format!("{} {}", q(c), direction(self.dialect(), *desc)))
            .collect();
        parts.push(format!(
            "{} {}",
            q(spec.key),
            direction(self.dialect(), false)
        ));
        format!(" ORDER BY {}", parts.join(", "))
    }

    pub async fn list(&self, query: Query) -> Result<Page> {
        let (rows, total) = self.page_texts(&query).await?;
        let items = rows
            .iter()
            .map(|raw| parse_payload(&self.location, raw).map(|r| canonical(Value::Object(r))))
            .collect::<Result<Vec<_>>>()?;
        Ok(Page {
            items,
            total,
            limit: query.limit,
            offset: query.offset,
        })
    }

    /// The page as JSON text, each record's keys sorted.
    pub async fn list_raw(&self, query: Query) -> Result<crate::query::RawPage> {
        let (rows, total) = self.page_texts(&query).await?;
        let bad = |e: serde_json::Error| StoreError::Database {
            store: self.location.clone(),
            message: format!("a stored payload is not JSON: {e}"),
        };
        let items = rows
            .into_iter()
            .map(|raw| match self.dialect() {
                // SQLite keeps the text serde_json wrote: sort it as text.
                Dialect::Sqlite => {
                    if !raw.trim_start().starts_with('{') {
                        return Err(StoreError::Database {
                            store: self.location.clone(),
                            message: "a stored payload is not a JSON object".into(),
                        });
                    }
                    let text = serde_json::value::RawValue::from_string(raw).map_err(bad)?;
                    serde_json::value::to_raw_value(&crate::records::SortedText(&text)).map_err(bad)
                }
                // PostgreSQL returns JSONB's rendering: go through a value,
                // so numbers come out as on every other backend.
                Dialect::Postgres => {
                    let v: Value = serde_json::from_str(&raw).map_err(bad)?;
                    serde_json::value::to_raw_value(&crate::records::Sorted(&v)).map_err(bad)
                }
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(crate::query::RawPage {
            items,
            total,
            limit: query.limit,
            offset: query.offset,
        })
    }

    /// The stored payloads of a page, and the total.
    async fn page_texts(&self, query: &Query) -> Result<(Vec<String>, i64)> {
        let spec = query.kind.spec();
        let mut binds = Vec::new();
        let wher = self.where_clause(query, &mut binds);
        // The exact total: summed from the kind's counts table when every
        // filter is on its facets, counted over the matching rows otherwise.
        let count_sql = if counts_serve(query) {
            format!(
                "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) AS n FROM {}_counts{wher}",
                spec.table
            )
        } else {
            format!("SELECT COUNT(*) AS n FROM {}{wher}", spec.table)
        };
        let mut page_binds = binds.clone();
        page_binds.push(Bind::Int(query.limit));
        page_binds.push(Bind::Int(query.offset));
        // The page's statement around an index hint.
        let head = format!(
            "SELECT {} AS payload FROM {}",
            self.payload_expr(),
            spec.table
        );
        let tail = format!(
            "{wher}{} LIMIT ${} OFFSET ${}",
            self.order_clause(query.kind),
            page_binds.len() - 1,
            page_binds.len()
        );
        let offset = query.offset;
        let Some(readers) = &self.readers else {
            // PostgreSQL, whose per-value statistics choose the index well.
            let total = fetch_count(&self.pool, &self.location, &count_sql, &binds).await?;
            if total <= offset {
                // Nothing on this page: no need to look for rows.
                return Ok((Vec::new(), total));
            }
            let sql = format!("{head}{tail}");
            let rows = fetch_texts(&self.pool, &self.location, &sql, &page_binds).await?;
            return Ok((rows, total));
        };
        // SQLite: the whole page in one call on a reading connection.
        let candidates = hint_candidates(query);
        let table = spec.table;
        let binds: Vec<_> = binds.iter().map(Bind::sqlite).collect();
        let page_binds: Vec<_> = page_binds.iter().map(Bind::sqlite).collect();
        readers
            .run(move |conn, location| {
                let total = crate::sqlite_reader::count(conn, location, &count_sql, &binds)?;
                if total <= offset {
                    return Ok((Vec::new(), total));
                }
                let mut counted = Vec::new();
                for (field, sql, value) in candidates {
                    counted.push((
                        crate::sqlite_reader::count(conn, location, &sql, &[value])?,
                        field,
                    ));
                }
                let sql = format!("{head}{}{tail}", index_hint(table, counted));
                let rows = crate::sqlite_reader::texts(conn, location, &sql, &page_binds)?;
                Ok((rows, total))
            })
            .await
    }

    /// Every record of `kind`, in key order, `batch` at a time.
    pub async fn export_page(
        &self,
        kind: Kind,
        after: Option<&str>,
        batch: i64,
    ) -> Result<Vec<Record>> {
        let spec = kind.spec();
        let (cond, mut binds) = match after {
            Some(k) => (
                format!(" WHERE {} > $1", q(spec.key)),
                vec![Bind::Text(k.into())],
            ),
            None => (String::new(), Vec::new()),
        };
        binds.push(Bind::Int(batch));
        let sql = format!(
            "SELECT {} AS payload FROM {}{cond} ORDER BY {} ASC LIMIT ${}",
            self.payload_expr(),
            spec.table,
            q(spec.key),
            binds.len()
        );
        fetch_payloads(&self.pool, &self.location, &sql, &binds).await
    }

    pub async fn count(&self, kind: Kind) -> Result<i64> {
        let sql = format!("SELECT COUNT(*) AS n FROM {}", kind.spec().table);
        fetch_count(&self.pool, &self.location, &sql, &[]).await
    }
}

/// Whether `query`'s total can be summed from its kind's counts table:
/// every filter is an equality or severity set on a facet column, or the
/// risky filter with `decision` and `severity` both facets.
fn counts_serve(query: &Query) -> bool {
    let facets = query.kind.spec().facets;
    !facets.is_empty()
        && query.filters.iter().all(|f| match f.def.op {
            FilterOp::Eq | FilterOp::MinSeverity => facets.contains(&f.def.field),
            FilterOp::Risky => facets.contains(&"decision") && facets.contains(&"severity"),
            _ => false,
        })
}

/// SQLite only: with two or more equality filters on facets, the
/// statements that count each one's rows, so the page can walk the index
/// of the most selective one ([`index_hint`]). SQLite's statistics are
/// sampled (`analysis_limit`) and rate every filter index alike, so left to
/// itself it may walk the index of `severity=low` (a quarter of the table)
/// when `agent_id` matches a fiftieth.
fn hint_candidates(query: &Query) -> Vec<(&'static str, String, rusqlite::types::Value)> {
    let spec = query.kind.spec();
    let eqs: Vec<(&'static str, &String)> = query
        .filters
        .iter()
        .filter_map(|f| match (&f.def.op, &f.value) {
            (FilterOp::Eq, FilterValue::Text(v)) if spec.facets.contains(&f.def.field) => {
                Some((f.def.field, v))
            }
            _ => None,
        })
        .collect();
    // A session filter (not a facet) is far more selective than any
    // facet: leave the choice to SQLite then.
    let other_eq = query
        .filters
        .iter()
        .any(|f| f.def.op == FilterOp::Eq && !spec.facets.contains(&f.def.field));
    if eqs.len() < 2 || other_eq {
        return Vec::new();
    }
    eqs.into_iter()
        .map(|(field, value)| {
            let sql = format!(
                "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) AS n FROM {}_counts WHERE {} = $1",
                spec.table,
                q(field)
            );
            (field, sql, rusqlite::types::Value::Text(value.clone()))
        })
        .collect()
}

/// ` INDEXED BY` the index of the facet with the fewest rows (the first
/// of equals), from [`hint_candidates`]' counts; nothing without
/// candidates.
fn index_hint(table: &str, counted: Vec<(i64, &str)>) -> String {
    counted
        .into_iter()
        .min_by_key(|(n, _)| *n)
        .map_or_else(String::new, |(_, field)| {
            format!(" INDEXED BY {table}_{field}_idx")
        })
}

#[derive(Clone, Debug)]
enum Bind {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    OptInt(Option<i64>),
}

impl Bind {
    /// The value for a rusqlite statement.
    fn sqlite(&self) -> rusqlite::types::Value {
        use rusqlite::types::Value as V;
        match self {
            Bind::Text(s) => V::Text(s.clone()),
            Bind::OptText(s) => s.clone().map_or(V::Null, V::Text),
            Bind::Int(n) => V::Integer(*n),
            Bind::OptInt(n) => n.map_or(V::Null, V::Integer),
        }
    }
}

macro_rules! bind_all {
    ($query:expr, $binds:expr) => {{
        let mut query = $query;
        for b in $binds {
            query = match b {
                Bind::Text(s) => query.bind(s.clone()),
                Bind::OptText(s) => query.bind(s.clone()),
                Bind::Int(n) => query.bind(*n),
                Bind::OptInt(n) => query.bind(*n),
            };
        }
        query
    }};
}

pub(crate) fn parse_payload(location: &str, raw: &str) -> Result<Record> {
    match serde_json::from_str::<Value>(raw) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(StoreError::Database {
            store: location.into(),
            message: "a stored payload is not a JSON object".into(),
        }),
        Err(e) => Err(StoreError::Database {
            store: location.into(),
            message: format!("a stored payload is not JSON: {e}"),
        }),
    }
}

async fn fetch_payloads(
    pool: &Pool,
    location: &str,
    sql: &str,
    binds: &[Bind],
) -> Result<Vec<Record>> {
    let rows = fetch_texts(pool, location, sql, binds).await?;
    rows.iter()
        .map(|raw| parse_payload(location, raw))
        .collect()
}

/// The `payload` column of every row `sql` selects, as stored.
async fn fetch_texts(
    pool: &Pool,
    location: &str,
    sql: &str,
    binds: &[Bind],
) -> Result<Vec<String>> {
    let rows: Vec<String> = on_pool!(pool, p => {
        let query = bind_all!(sqlx::query(AssertSqlSafe(sql.to_string())), binds);
        let rows = query.fetch_all(p).await.map_err(db_err(location))?;
        rows.iter()
            .map(|r| r.try_get::<String, _>("payload"))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(db_err(location))?
    });
    Ok(rows)
}

async fn fetch_count(pool: &Pool, location: &str, sql: &str, binds: &[Bind]) -> Result<i64> {
    on_pool!(pool, p => {
        let query = bind_all!(sqlx::query(AssertSqlSafe(sql.to_string())), binds);
        let row = query.fetch_one(p).await.map_err(db_err(location))?;
        row.try_get::<i64, _>("n").map_err(db_err(location))
    })
}

/// Creates the migrations table and this store's tables and indexes, in
/// the open transaction `$tx`, unless they are at the current version.
macro_rules! migrate_in {
    ($tx:ident, $dialect:expr, $name:expr, $err:expr) => {{
        let int = if $dialect == Dialect::Sqlite { "INTEGER" } else { "BIGINT" };
        sqlx::query(AssertSqlSafe(format!(
            "CREATE TABLE IF NOT EXISTS cavra_migrations (store TEXT PRIMARY KEY, version {int} NOT NULL)"
        )))
        .execute(&mut *$tx)
        .await
        .map_err($err)?;
        let current: Option<i64> =
            sqlx::query_scalar("SELECT version FROM cavra_migrations WHERE store = $1")
                .bind($name.as_str())
                .fetch_optional(&mut *$tx)
                .await
                .map_err($err)?;
        if current.unwrap_or(0) < SCHEMA_VERSION {
            for stmt in ddl($dialect, $name, current.unwrap_or(0)) {
                sqlx::query(AssertSqlSafe(stmt))
                    .execute(&mut *$tx)
                    .await
                    .map_err($err)?;
            }
            sqlx::query(
                "INSERT INTO cavra_migrations (store, version) VALUES ($1, $2) \
                 ON CONFLICT (store) DO UPDATE SET version = excluded.version",
            )
            .bind($name.as_str())
            .bind(SCHEMA_VERSION)
            .execute(&mut *$tx)
            .await
            .map_err($err)?;
        }
    }};
}

async fn migrate(pool: &Pool, name: StoreName, location: &str) -> Result<()> {
    let err = db_err(location);
    match pool {
        Pool::Sqlite(p) => {
            let mut tx = p.begin_with("BEGIN IMMEDIATE").await.map_err(&err)?;
            migrate_in!(tx, Dialect::Sqlite, name, &err);
            tx.commit().await.map_err(&err)?;
        }
        Pool::Postgres(p) => {
            let mut tx = p.begin().await.map_err(&err)?;
            // Several API instances may start at once: one migrates, the
            // others wait for the lock and find the work done.
            sqlx::query(
                "SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':cavra-migrations'))",
            )
            .execute(&mut *tx)
            .await
            .map_err(&err)?;
            migrate_in!(tx, Dialect::Postgres, name, &err);
            tx.commit().await.map_err(&err)?;
        }
    }
    Ok(())
}

/// The PostgreSQL writer (SQLite's is `sqlite_writer`).
struct Writer {
    name: StoreName,
    location: String,
    pool: PgPool,
}

async fn writer_loop(w: Writer, mut rx: mpsc::UnboundedReceiver<Request>) {
    while let Some(first) = rx.recv().await {
        let closes = w.handle(Batch::take(first, &mut rx)).await;
        if !closes.is_empty() {
            // Whatever was queued behind the close is still answered.
            let more = w.handle(Batch::rest(&mut rx)).await;
            for reply in closes.into_iter().chain(more) {
                let _ = reply.send(Ok(()));
            }
            break;
        }
    }
}

/// Splits rows into multi-row statements of at most 100 rows and about
/// 6 KiB. sqlx does not set TCP_NODELAY: a statement larger than its write
/// buffer goes out in several writes, and the last one waits for a delayed
/// ACK (about 20 ms per statement, measured on loopback); statements under
/// the buffer size do not wait.
fn statement_chunks(rows: &[Record]) -> Vec<&[Record]> {
    const MAX_BYTES: usize = 6 * 1024;
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes: usize = 0;
    for (i, r) in rows.iter().enumerate() {
        let n = serde_json::to_string(r).map(|s| s.len()).unwrap_or(0) + 256;
        if i > start && (bytes.saturating_add(n) > MAX_BYTES || i - start >= 100) {
            if let Some(c) = rows.get(start..i) {
                out.push(c);
            }
            start = i;
            bytes = 0;
        }
        bytes += n;
    }
    if let Some(c) = rows.get(start..)
        && !c.is_empty()
    {
        out.push(c);
    }
    out
}

/// The column list of `kind`'s rows (the payload last) and the
/// `ON CONFLICT … DO UPDATE SET …` clause of its upsert; both writers build
/// their upserts from them.
pub(crate) fn upsert_parts(kind: Kind) -> (Vec<String>, String) {
    let spec = kind.spec();
    let mut names: Vec<String> = spec.columns.iter().map(|c| q(c.name)).collect();
    names.push("payload".into());
    let updates: Vec<String> = names
        .iter()
        .filter(|n| **n != q(spec.key))
        .map(|n| format!("{n} = excluded.{n}"))
        .collect();
    let conflict = format!(
        "ON CONFLICT ({}) DO UPDATE SET {}",
        q(spec.key),
        updates.join(", ")
    );
    (names, conflict)
}

/// What a record's advisory lock is named by: `table␟key` (keys hold no
/// control characters), hashed in SQL with the schema the connection
/// writes to, so every instance computes the same id however it spells the
/// server's URL.
fn lock_name(kind: Kind, key: &str) -> String {
    format!("{}\u{1f}{key}", kind.spec().table)
}

impl Writer {
    fn err(&self) -> impl Fn(sqlx::Error) -> StoreError + '_ {
        db_err(&self.location)
    }

    /// Takes a transaction-scoped advisory lock for every record a group
    /// is about to read and merge, absent ones included. Without them two
    /// instances sharing the database read the same session at READ
    /// COMMITTED, each added its decision to the count it read, and the
    /// second upsert overwrote the first (5 + 1 + 1 = 6). Locks are taken
    /// in one statement, in id order, so groups do not deadlock on them;
    /// a late lock (a decision's old session) may, and is retried.
    async fn lock_keys(&self, tx: &mut sqlx::PgConnection, names: Vec<String>) -> Result<()> {
        if names.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "SELECT count(pg_advisory_xact_lock(k)) FROM ( \
             SELECT DISTINCT hashtextextended(current_schema() || chr(31) || n, 0) AS k \
             FROM unnest($1::text[]) AS n ORDER BY 1) AS ordered",
        )
        .bind(names)
        .execute(&mut *tx)
        .await
        .map_err(self.err())?;
        Ok(())
    }

    /// Reads the records with `keys` of `kind` into `cache` (absent ones
    /// as `None`), 100 keys per statement.
    async fn fetch_many<'k>(
        &self,
        tx: &mut sqlx::PgConnection,
        kind: Kind,
        keys: impl IntoIterator<Item = &'k String>,
        cache: &mut group::Cache,
    ) -> Result<()> {
        let spec = kind.spec();
        let keys: Vec<&String> = keys
            .into_iter()
            .filter(|k| !cache.contains_key(&(kind, (*k).clone())))
            .collect();
        for chunk in keys.chunks(100) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT {} AS k, payload::text AS payload FROM {} WHERE {} IN ({})",
                q(spec.key),
                spec.table,
                q(spec.key),
                marks.join(", ")
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for k in chunk {
                query = query.bind((*k).clone());
            }
            for row in query.fetch_all(&mut *tx).await.map_err(self.err())? {
                let k: String = row.try_get("k").map_err(self.err())?;
                let raw: String = row.try_get("payload").map_err(self.err())?;
                cache.insert((kind, k), Some(parse_payload(&self.location, &raw)?));
            }
        }
        for k in keys {
            cache.entry((kind, k.clone())).or_insert(None);
        }
        Ok(())
    }

    /// The sessions among `sessions` that have stored decisions.
    async fn with_decisions(
        &self,
        tx: &mut sqlx::PgConnection,
        sessions: Vec<String>,
    ) -> Result<std::collections::HashSet<String>> {
        let mut has = std::collections::HashSet::new();
        for chunk in sessions.chunks(100) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT DISTINCT \"session_id\" AS k FROM activity_decisions WHERE \"session_id\" IN ({})",
                marks.join(", ")
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for k in chunk {
                query = query.bind(k.clone());
            }
            for row in query.fetch_all(&mut *tx).await.map_err(self.err())? {
                has.insert(row.try_get::<String, _>("k").map_err(self.err())?);
            }
        }
        Ok(has)
    }

    /// One transaction's work for a group: every record the group needs is
    /// read with a few `IN (…)` statements, the merges are planned in
    /// memory ([`group::plan`]), and the results are written with
    /// multi-row upserts. A group of one costs five round trips; a group
    /// of a hundred, not many more.
    async fn write_group(
        &self,
        tx: &mut sqlx::PgConnection,
        work: group::Work,
    ) -> Result<Vec<Vec<Record>>> {
        let mut needs = group::needs(&work);
        let mut cache = group::Cache::new();
        let names = needs
            .records
            .iter()
            .flat_map(|(kind, keys)| keys.iter().map(|k| lock_name(*kind, k)))
            .collect();
        self.lock_keys(tx, names).await?;
        for (kind, keys) in &needs.records {
            self.fetch_many(tx, *kind, keys, &mut cache).await?;
        }
        let moved = group::moved_from(&needs, &cache);
        if !moved.is_empty() {
            let names = moved.iter().map(|k| lock_name(Kind::Session, k)).collect();
            self.lock_keys(tx, names).await?;
            self.fetch_many(tx, Kind::Session, &moved, &mut cache)
                .await?;
            needs.has_decisions.extend(moved);
        }
        let has = self
            .with_decisions(tx, needs.has_decisions.into_iter().collect())
            .await?;
        let plan = group::plan(work, &mut cache, has);
        for (kind, rows) in plan.writes {
            for chunk in statement_chunks(&rows) {
                let (sql, binds) = self.upsert_many_sql(kind, chunk)?;
                let query = bind_all!(sqlx::query(AssertSqlSafe(sql)), &binds);
                query.execute(&mut *tx).await.map_err(self.err())?;
            }
        }
        Ok(plan.replies)
    }

    /// One multi-row `INSERT … ON CONFLICT DO UPDATE` for `rows` (whose
    /// keys must be distinct).
    fn upsert_many_sql(&self, kind: Kind, rows: &[Record]) -> Result<(String, Vec<Bind>)> {
        let spec = kind.spec();
        let (names, conflict) = upsert_parts(kind);
        let mut binds = Vec::new();
        let mut tuples = Vec::new();
        for r in rows {
            let mut ph = Vec::new();
            for c in spec.columns {
                binds.push(match c.ty {
                    ColType::Text => Bind::OptText(text(r, c.name)),
                    ColType::Int => Bind::OptInt(r.get(c.name).and_then(Value::as_i64)),
                });
                ph.push(format!("${}", binds.len()));
            }
            let payload = serde_json::to_string(r).map_err(|e| StoreError::Database {
                store: self.location.clone(),
                message: e.to_string(),
            })?;
            binds.push(Bind::Text(payload));
            ph.push(format!("${}::jsonb", binds.len()));
            tuples.push(format!("({})", ph.join(", ")));
        }
        let sql = format!(
            "INSERT INTO {} ({}) VALUES {} {conflict}",
            spec.table,
            names.join(", "),
            tuples.join(", "),
        );
        Ok((sql, binds))
    }

    /// Serves a batch; returns its close requests.
    async fn handle(&self, b: Batch) -> Vec<oneshot::Sender<Result<()>>> {
        for reply in b.clears {
            let _ = reply.send(self.clear().await);
        }
        if !b.puts.is_empty() {
            let result = self.commit(work_of(&b.puts)).await;
            for (records, raw, reply) in answer(b.puts, result) {
                let r = self
                    .commit(vec![(records, raw)])
                    .await
                    .map(|mut v| v.pop().unwrap_or_default());
                let _ = reply.send(r);
            }
        }
        b.closes
    }

    /// One transaction for a group. Instances sharing the database can
    /// deadlock on the same rows (or counts rows); PostgreSQL aborts one of
    /// them, which is retried a few times.
    async fn commit(&self, work: group::Work) -> Result<Vec<Vec<Record>>> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let r: Result<Vec<Vec<Record>>> = async {
                let mut tx = self.pool.begin().await.map_err(self.err())?;
                let out = self.write_group(&mut tx, work.clone()).await?;
                tx.commit().await.map_err(self.err())?;
                Ok(out)
            }
            .await;
            match r {
                Err(StoreError::Database { message, .. })
                    if attempt < 4
                        && (message.contains("deadlock detected")
                            || message.contains("could not serialize")) =>
                {
                    tokio::time::sleep(Duration::from_millis(5 * attempt)).await;
                }
                other => return other,
            }
        }
    }

    /// Deletes every record of this writer's store, in one transaction.
    async fn clear(&self) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(self.err())?;
        for kind in self.name.kinds() {
            let spec = kind.spec();
            let sql = format!("DELETE FROM {}", spec.table);
            sqlx::query(AssertSqlSafe(sql))
                .execute(&mut *tx)
                .await
                .map_err(self.err())?;
            if !spec.facets.is_empty() {
                // The triggers brought the counts to zero. Only rows still
                // at zero go: another instance sharing the database may
                // have counted a new row since.
                let sql = format!("DELETE FROM {}_counts WHERE n = 0", spec.table);
                sqlx::query(AssertSqlSafe(sql))
                    .execute(&mut *tx)
                    .await
                    .map_err(self.err())?;
            }
        }
        tx.commit().await.map_err(self.err())
    }
}

#[cfg(test)]
mod redact_tests {
    use super::redact_url;

    #[test]
    fn passwords_are_masked_wherever_the_url_carries_them() {
        for (url, want) in [
            (
                "postgres://u:pw@127.0.0.1:5432/test",
                "postgres://u:***@127.0.0.1:5432/test",
            ),
            ("postgres://u@h/db", "postgres://u@h/db"),
            // Regression: a password given as a query parameter was shown
            // by GET /operations/stores and in error details.
            (
                "postgres://127.0.0.1:5432/test?user=postgres&password=S3cret",
                "postgres://127.0.0.1:5432/test?user=postgres&password=***",
            ),
            (
                "postgres://h/db?sslmode=require&SSLPASSWORD=k&application_name=x",
                "postgres://h/db?sslmode=require&SSLPASSWORD=***&application_name=x",
            ),
            // An `@` after the authority is not a credentials separator.
            (
                "postgres://h/db?user=a@b&password=p",
                "postgres://h/db?user=a@b&password=***",
            ),
            ("not a url", "not a url"),
        ] {
            assert_eq!(redact_url(url), want, "{url}");
        }
    }
}
