//! The SQL backends (sqlx): SQLite per store (`CAVRA_*_DB`) and PostgreSQL
//! for all stores (`CAVRA_DATABASE_URL`).
//!
//! One table per kind: the key, one indexed column per filter and sort
//! field, and the full record as `payload` (TEXT in SQLite, JSONB in
//! PostgreSQL). Writes from many tasks are grouped into one transaction by
//! a writer task. SQLite runs in WAL mode with a busy timeout and takes the
//! write lock up front (`BEGIN IMMEDIATE`); PostgreSQL runs its migrations
//! under an advisory lock.

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
use crate::kinds::{ColType, FilterOp, Kind, StoreName};
use crate::query::{FilterValue, Page, Query};
use crate::records::{PutContext, Record, canonical, plan_put, session_of, text};

/// Most requests grouped into one transaction.
const MAX_GROUP: usize = 512;
/// The current schema version of every store's tables.
const SCHEMA_VERSION: i64 = 1;

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
}

enum Request {
    Put {
        records: Vec<(Kind, Record)>,
        raw: bool,
        reply: oneshot::Sender<Result<Vec<Record>>>,
    },
    Clear {
        reply: oneshot::Sender<Result<()>>,
    },
}

macro_rules! on_pool {
    ($pool:expr, $p:ident => $body:expr) => {
        match $pool {
            Pool::Sqlite($p) => $body,
            Pool::Postgres($p) => $body,
        }
    };
}

fn q(ident: &str) -> String {
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
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let (head, tail) = url.split_at(at);
            let creds = head.get(scheme + 3..).unwrap_or("");
            let user = creds.split(':').next().unwrap_or("");
            let prefix = url.get(..scheme + 3).unwrap_or("");
            if creds.contains(':') {
                format!("{prefix}{user}:***{tail}")
            } else {
                format!("{prefix}{user}{tail}")
            }
        }
        _ => url.to_string(),
    }
}

/// Opens a SQLite database file (created if missing) in WAL mode.
pub async fn open_sqlite(path: &std::path::Path) -> Result<Pool> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
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

/// The DDL for one store's tables and indexes.
fn ddl(dialect: Dialect, store: StoreName) -> Vec<String> {
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
        let store = SqlStore {
            name,
            location,
            pool,
            tx,
        };
        let writer = store.clone_for_writer();
        tokio::spawn(writer_loop(writer, rx));
        Ok(store)
    }

    fn clone_for_writer(&self) -> Writer {
        Writer {
            name: self.name,
            location: self.location.clone(),
            pool: self.pool.clone(),
        }
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
                    let risky = "(\"decision\" IN ('block', 'require_approval') OR \"severity\" IN ('high', 'critical'))";
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
                            format!("jsonb_exists(payload->'{}', {p})", f.def.field)
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
        let spec = query.kind.spec();
        let mut binds = Vec::new();
        let wher = self.where_clause(&query, &mut binds);
        let count_sql = format!("SELECT COUNT(*) AS n FROM {}{wher}", spec.table);
        let total = fetch_count(&self.pool, &self.location, &count_sql, &binds).await?;
        let mut page_binds = binds.clone();
        page_binds.push(Bind::Int(query.limit));
        page_binds.push(Bind::Int(query.offset));
        let sql = format!(
            "SELECT {} AS payload FROM {}{wher}{} LIMIT ${} OFFSET ${}",
            self.payload_expr(),
            spec.table,
            self.order_clause(query.kind),
            page_binds.len() - 1,
            page_binds.len()
        );
        let rows = fetch_payloads(&self.pool, &self.location, &sql, &page_binds).await?;
        Ok(Page {
            items: rows
                .into_iter()
                .map(|r| canonical(Value::Object(r)))
                .collect(),
            total,
            limit: query.limit,
            offset: query.offset,
        })
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

#[derive(Clone, Debug)]
enum Bind {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    OptInt(Option<i64>),
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

fn parse_payload(location: &str, raw: &str) -> Result<Record> {
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
    let rows: Vec<String> = on_pool!(pool, p => {
        let query = bind_all!(sqlx::query(AssertSqlSafe(sql.to_string())), binds);
        let rows = query.fetch_all(p).await.map_err(db_err(location))?;
        rows.iter()
            .map(|r| r.try_get::<String, _>("payload"))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(db_err(location))?
    });
    rows.iter()
        .map(|raw| parse_payload(location, raw))
        .collect()
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
            for stmt in ddl($dialect, $name) {
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

struct Writer {
    name: StoreName,
    location: String,
    pool: Pool,
}

async fn writer_loop(w: Writer, mut rx: mpsc::UnboundedReceiver<Request>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        let mut puts = Vec::new();
        for req in batch {
            match req {
                Request::Put {
                    records,
                    raw,
                    reply,
                } => puts.push((records, raw, reply)),
                Request::Clear { reply } => {
                    let _ = reply.send(w.clear().await);
                }
            }
        }
        if puts.is_empty() {
            continue;
        }
        let work: Vec<(Vec<(Kind, Record)>, bool)> =
            puts.iter().map(|(r, raw, _)| (r.clone(), *raw)).collect();
        // After a large import, refresh the planner's statistics.
        let imported: usize = puts
            .iter()
            .filter(|(_, raw, _)| *raw)
            .map(|(r, _, _)| r.len())
            .sum();
        match w.commit(work).await {
            Ok(stored) => {
                if imported >= 1000
                    && let Pool::Sqlite(p) = &w.pool
                {
                    let _ = sqlx::query("PRAGMA optimize").execute(p).await;
                }
                for ((_, _, reply), s) in puts.into_iter().zip(stored) {
                    let _ = reply.send(Ok(s));
                }
            }
            Err(e) => {
                // One bad request must not fail the others it was grouped
                // with: retry each on its own.
                let msg = e.to_string();
                if puts.len() == 1 {
                    for (_, _, reply) in puts {
                        let _ = reply.send(Err(StoreError::Database {
                            store: w.location.clone(),
                            message: msg.clone(),
                        }));
                    }
                    continue;
                }
                for (records, raw, reply) in puts {
                    let r = w
                        .commit(vec![(records, raw)])
                        .await
                        .map(|mut v| v.pop().unwrap_or_default());
                    let _ = reply.send(r);
                }
            }
        }
    }
}

/// Splits rows into multi-row statements of at most 100 rows and about
/// (PostgreSQL) 6 KiB. sqlx does not set TCP_NODELAY: a statement larger
/// than its write buffer goes out in several writes, and the last one waits
/// for a delayed ACK (about 20 ms per statement, measured on loopback);
/// statements under the buffer size do not wait.
fn statement_chunks(rows: &[Record], dialect: Dialect) -> Vec<&[Record]> {
    let max_bytes: usize = match dialect {
        Dialect::Postgres => 6 * 1024,
        Dialect::Sqlite => usize::MAX,
    };
    if max_bytes == usize::MAX {
        return rows.chunks(100).collect();
    }
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes: usize = 0;
    for (i, r) in rows.iter().enumerate() {
        let n = serde_json::to_string(r).map(|s| s.len()).unwrap_or(0) + 256;
        if i > start && (bytes.saturating_add(n) > max_bytes || i - start >= 100) {
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

/// Reads the records with `keys` of `kind` into `cache` (absent ones as
/// `None`), 500 keys per statement.
macro_rules! fetch_many {
    ($self:ident, $tx:ident, $kind:expr, $keys:expr, $cache:ident) => {{
        let kind: Kind = $kind;
        let spec = kind.spec();
        let keys: Vec<String> = $keys
            .iter()
            .filter(|k| !$cache.contains_key(&(kind, (*k).clone())))
            .cloned()
            .collect();
        for chunk in keys.chunks(100) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT {} AS k, {} AS payload FROM {} WHERE {} IN ({})",
                q(spec.key),
                $self.payload_expr(),
                spec.table,
                q(spec.key),
                marks.join(", ")
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for k in chunk {
                query = query.bind(k.clone());
            }
            let rows = query
                .fetch_all(&mut *$tx)
                .await
                .map_err(db_err(&$self.location))?;
            for row in rows {
                let k: String = row.try_get("k").map_err(db_err(&$self.location))?;
                let raw: String = row.try_get("payload").map_err(db_err(&$self.location))?;
                $cache.insert((kind, k), Some(parse_payload(&$self.location, &raw)?));
            }
        }
        for k in keys {
            $cache.entry((kind, k)).or_insert(None);
        }
    }};
}

/// One transaction for a group of requests: every record the group needs
/// is read with a few `IN (…)` statements, the merges are planned in
/// memory (so several decisions of one session chain correctly), and the
/// results are written with multi-row upserts. A group of one costs five
/// round trips; a group of a hundred, not many more.
macro_rules! txn_body {
    ($self:ident, $tx:ident, $work:ident) => {{
        use std::collections::{BTreeSet, HashMap, HashSet};
        let mut cache: HashMap<(Kind, String), Option<Record>> = HashMap::new();
        let mut want: HashMap<Kind, BTreeSet<String>> = HashMap::new();
        let mut want_has: BTreeSet<String> = BTreeSet::new();
        for (records, raw) in &$work {
            if *raw {
                continue;
            }
            for (kind, r) in records {
                let key = text(r, kind.spec().key).unwrap_or_default();
                want.entry(*kind).or_default().insert(key);
                if let Some(sid) = session_of(*kind, r) {
                    want_has.insert(sid.clone());
                    if *kind == Kind::Decision {
                        want.entry(Kind::Session).or_default().insert(sid);
                    }
                }
            }
        }
        for (kind, keys) in &want {
            fetch_many!($self, $tx, *kind, keys, cache);
        }
        // Sessions that replaced decisions move out of.
        let old_sessions: BTreeSet<String> = want
            .get(&Kind::Decision)
            .map(|keys| {
                keys.iter()
                    .filter_map(|k| cache.get(&(Kind::Decision, k.clone())).cloned().flatten())
                    .filter_map(|d| text(&d, "session_id"))
                    .collect()
            })
            .unwrap_or_default();
        if !old_sessions.is_empty() {
            fetch_many!($self, $tx, Kind::Session, old_sessions, cache);
            want_has.extend(old_sessions);
        }
        let mut has: HashSet<String> = HashSet::new();
        let has_list: Vec<String> = want_has.into_iter().collect();
        for chunk in has_list.chunks(100) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT DISTINCT \"session_id\" AS k FROM activity_decisions WHERE \"session_id\" IN ({})",
                marks.join(", ")
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for k in chunk {
                query = query.bind(k.clone());
            }
            let rows = query
                .fetch_all(&mut *$tx)
                .await
                .map_err(db_err(&$self.location))?;
            for row in rows {
                let k: String = row.try_get("k").map_err(db_err(&$self.location))?;
                has.insert(k);
            }
        }

        let mut touched: Vec<(Kind, String)> = Vec::new();
        let mut touched_set: HashSet<(Kind, String)> = HashSet::new();
        let mut out = Vec::with_capacity($work.len());
        for (records, raw) in $work {
            let mut stored = Vec::new();
            for (kind, record) in records {
                let key = text(&record, kind.spec().key).unwrap_or_default();
                let planned = if raw {
                    vec![(kind, record)]
                } else {
                    let mut ctx = PutContext {
                        existing: cache.get(&(kind, key.clone())).cloned().flatten(),
                        ..PutContext::default()
                    };
                    if let Some(sid) = session_of(kind, &record) {
                        ctx.session_has_decisions = has.contains(&sid);
                        if kind == Kind::Decision {
                            ctx.session = cache.get(&(Kind::Session, sid.clone())).cloned().flatten();
                            if let Some(old_sid) =
                                ctx.existing.as_ref().and_then(|e| text(e, "session_id"))
                                && old_sid != sid
                            {
                                ctx.old_session =
                                    cache.get(&(Kind::Session, old_sid)).cloned().flatten();
                            }
                        }
                    }
                    plan_put(kind, record, ctx)
                };
                for (i, (k, r)) in planned.into_iter().enumerate() {
                    if i == 0 {
                        stored.push(r.clone());
                    }
                    if k == Kind::Decision
                        && let Some(sid) = text(&r, "session_id")
                    {
                        has.insert(sid);
                    }
                    let rk = text(&r, k.spec().key).unwrap_or_default();
                    cache.insert((k, rk.clone()), Some(r));
                    if touched_set.insert((k, rk.clone())) {
                        touched.push((k, rk));
                    }
                }
            }
            out.push(stored);
        }
        // Write the final state of every touched record, per kind, in
        // multi-row statements.
        let mut per_kind: Vec<(Kind, Vec<Record>)> = Vec::new();
        for (k, key) in &touched {
            let Some(Some(r)) = cache.get(&(*k, key.clone())) else {
                continue;
            };
            match per_kind.iter_mut().find(|(pk, _)| pk == k) {
                Some((_, v)) => v.push(r.clone()),
                None => per_kind.push((*k, vec![r.clone()])),
            }
        }
        for (kind, rows) in per_kind {
            for chunk in statement_chunks(&rows, $self.pool.dialect()) {
                let (sql, binds) = $self.upsert_many_sql(kind, chunk)?;
                let query = bind_all!(sqlx::query(AssertSqlSafe(sql)), &binds);
                query
                    .execute(&mut *$tx)
                    .await
                    .map_err(db_err(&$self.location))?;
            }
        }
        out
    }};
}

impl Writer {
    fn payload_expr(&self) -> &'static str {
        match self.pool.dialect() {
            Dialect::Sqlite => "payload",
            Dialect::Postgres => "payload::text",
        }
    }

    /// One multi-row `INSERT … ON CONFLICT DO UPDATE` for `rows` (whose
    /// keys must be distinct).
    fn upsert_many_sql(&self, kind: Kind, rows: &[Record]) -> Result<(String, Vec<Bind>)> {
        let spec = kind.spec();
        let pg = self.pool.dialect() == Dialect::Postgres;
        let mut names: Vec<String> = spec.columns.iter().map(|c| q(c.name)).collect();
        names.push("payload".into());
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
            ph.push(if pg {
                format!("${}::jsonb", binds.len())
            } else {
                format!("${}", binds.len())
            });
            tuples.push(format!("({})", ph.join(", ")));
        }
        let updates: Vec<String> = names
            .iter()
            .filter(|n| **n != q(spec.key))
            .map(|n| format!("{n} = excluded.{n}"))
            .collect();
        let sql = format!(
            "INSERT INTO {} ({}) VALUES {} ON CONFLICT ({}) DO UPDATE SET {}",
            spec.table,
            names.join(", "),
            tuples.join(", "),
            q(spec.key),
            updates.join(", ")
        );
        Ok((sql, binds))
    }

    async fn commit(&self, work: Vec<(Vec<(Kind, Record)>, bool)>) -> Result<Vec<Vec<Record>>> {
        match &self.pool {
            Pool::Sqlite(p) => {
                let mut tx = p
                    .begin_with("BEGIN IMMEDIATE")
                    .await
                    .map_err(db_err(&self.location))?;
                let out = txn_body!(self, tx, work);
                tx.commit().await.map_err(db_err(&self.location))?;
                Ok(out)
            }
            Pool::Postgres(p) => {
                let mut tx = p.begin().await.map_err(db_err(&self.location))?;
                let out = txn_body!(self, tx, work);
                tx.commit().await.map_err(db_err(&self.location))?;
                Ok(out)
            }
        }
    }

    /// Deletes every record of this writer's store, in one transaction.
    async fn clear(&self) -> Result<()> {
        let err = db_err(&self.location);
        on_pool!(&self.pool, p => {
            let mut tx = p.begin().await.map_err(&err)?;
            for kind in self.name.kinds() {
                let sql = format!("DELETE FROM {}", kind.spec().table);
                sqlx::query(AssertSqlSafe(sql)).execute(&mut *tx).await.map_err(&err)?;
            }
            tx.commit().await.map_err(&err)?;
        });
        Ok(())
    }
}
