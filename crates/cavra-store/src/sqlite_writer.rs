//! The SQLite writer: one OS thread per store with its own connection
//! (rusqlite, same library as sqlx links), so a group of writes runs as one
//! synchronous transaction with prepared statements and no hop between
//! threads per statement. Requests arrive on the store's channel; what is
//! queued while one group commits forms the next group, so concurrent
//! writers share commits. A reply is sent only after `COMMIT` returns.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::error::{Result, StoreError};
use crate::group::{self, Cache, Work};
use crate::kinds::{ColType, Kind, StoreName};
use crate::records::{Record, text};
use crate::sql::{Batch, Request, answer, parse_payload, q, upsert_parts, work_of};

pub(crate) fn err(location: &str) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |e| StoreError::Database {
        store: location.to_string(),
        message: e.to_string(),
    }
}

/// Opens the writer's connection on an existing, migrated database.
pub(crate) fn connect(path: &Path, location: &str) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(err(location))?;
    conn.busy_timeout(Duration::from_secs(30))
        .map_err(err(location))?;
    // The reading pool's settings: WAL, synchronous NORMAL (a committed
    // write survives a crash of the process), a 16 MiB cache, and sampled
    // statistics (`PRAGMA optimize` after a large import must not scan a
    // million rows while writes wait).
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
         PRAGMA cache_size = -16384; PRAGMA temp_store = MEMORY; \
         PRAGMA analysis_limit = 1000;",
    )
    .map_err(err(location))?;
    conn.set_prepared_statement_cache_capacity(64);
    // Checkpoints normally run on the checkpointer's thread; this is the
    // backstop should it fall behind.
    conn.pragma_update(None, "wal_autocheckpoint", 16384)
        .map_err(err(location))?;
    Ok(conn)
}

/// Starts the checkpointer of the database at `path`: a thread with its
/// own connection that copies committed WAL frames into the database file
/// (`PRAGMA wal_checkpoint(PASSIVE)`, which never takes the write lock)
/// after commits. The writer thus never waits for that copy or its fsync;
/// its own automatic checkpoint stays as a backstop at 64 MiB of WAL. The
/// thread ends when the returned sender is dropped.
pub(crate) fn start_checkpointer(
    path: &Path,
    location: &str,
) -> Result<std::sync::mpsc::SyncSender<()>> {
    let conn = connect(path, location)?;
    let (kick, rx) = std::sync::mpsc::sync_channel::<()>(1);
    std::thread::Builder::new()
        .name("cavra-sqlite-checkpoint".into())
        .spawn(move || {
            // At once after a commit: commits made while a checkpoint
            // runs leave one kick, and the next checkpoint takes them all.
            // Letting commits gather first (20 ms) made each checkpoint
            // larger and stalled the writer in proportion: POST /decisions
            // at 1,500 req/s had a p99 of 12 ms that way, 2.5–3 ms this way.
            while rx.recv().is_ok() {
                // Busy or failed checkpoints are retried after the next
                // commit; the writer's own backstop bounds the WAL.
                let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
            }
        })
        .map_err(|e| StoreError::Database {
            store: location.to_string(),
            message: format!("cannot start the checkpoint thread: {e}"),
        })?;
    Ok(kick)
}

pub(crate) struct SqliteWriter {
    pub name: StoreName,
    pub location: String,
    pub conn: Connection,
    /// Tells the checkpointer that frames were committed.
    pub checkpoint: std::sync::mpsc::SyncSender<()>,
}

impl SqliteWriter {
    /// Serves requests until every sender is gone or `Close` arrives.
    pub(crate) fn run(mut self, mut rx: mpsc::UnboundedReceiver<Request>) {
        while let Some(first) = rx.blocking_recv() {
            let closes = self.handle(Batch::take(first, &mut rx));
            if !closes.is_empty() {
                // Whatever was queued behind the close is still answered.
                let more = self.handle(Batch::rest(&mut rx));
                for reply in closes.into_iter().chain(more) {
                    let _ = reply.send(Ok(()));
                }
                break;
            }
        }
    }

    /// Serves a batch; returns its close requests.
    fn handle(&mut self, b: Batch) -> Vec<tokio::sync::oneshot::Sender<Result<()>>> {
        for reply in b.clears {
            let _ = reply.send(self.clear());
        }
        if !b.puts.is_empty() {
            let imported: usize = b
                .puts
                .iter()
                .filter(|(_, raw, _)| *raw)
                .map(|(r, _, _)| r.len())
                .sum();
            let result = self.commit(work_of(&b.puts));
            if result.is_ok() {
                let _ = self.checkpoint.try_send(());
                if imported >= 1000 {
                    // Refresh the planner's statistics after a large import.
                    let _ = self.conn.execute_batch("PRAGMA optimize");
                }
            }
            for (records, raw, reply) in answer(b.puts, result) {
                let r = self
                    .commit(vec![(records, raw)])
                    .map(|mut v| v.pop().unwrap_or_default());
                let _ = reply.send(r);
            }
        }
        b.closes
    }

    /// Takes the write lock up front (`BEGIN IMMEDIATE`), so the
    /// transaction never has to upgrade a read lock and fail as busy.
    fn begin(&mut self) -> Result<(rusqlite::Transaction<'_>, String)> {
        let location = self.location.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err(&location))?;
        Ok((tx, location))
    }

    /// One transaction for a group: read what the plan needs, plan in
    /// memory, write the final state of every touched record.
    fn commit(&mut self, work: Work) -> Result<Vec<Vec<Record>>> {
        let (tx, location) = self.begin()?;
        let e = err(&location);
        let mut needs = group::needs(&work);
        let mut cache = Cache::new();
        for (kind, keys) in &needs.records {
            fetch(&tx, &location, *kind, keys.iter(), &mut cache)?;
        }
        let moved = group::moved_from(&needs, &cache);
        if !moved.is_empty() {
            fetch(&tx, &location, Kind::Session, moved.iter(), &mut cache)?;
            needs.has_decisions.extend(moved);
        }
        let mut has = HashSet::new();
        if !needs.has_decisions.is_empty() {
            let mut st = tx
                .prepare_cached(
                    "SELECT 1 FROM activity_decisions WHERE \"session_id\" = ?1 LIMIT 1",
                )
                .map_err(&e)?;
            for sid in needs.has_decisions {
                if st.exists([&sid]).map_err(&e)? {
                    has.insert(sid);
                }
            }
        }
        let plan = group::plan(work, &mut cache, has);
        for (kind, rows) in &plan.writes {
            let sql = upsert_sql(*kind);
            let mut st = tx.prepare_cached(&sql).map_err(&e)?;
            for r in rows {
                st.execute(rusqlite::params_from_iter(row_values(*kind, r, &location)?))
                    .map_err(&e)?;
            }
        }
        tx.commit().map_err(&e)?;
        Ok(plan.replies)
    }

    /// Deletes every record of this store, in one transaction.
    fn clear(&mut self) -> Result<()> {
        let name = self.name;
        let (tx, location) = self.begin()?;
        let e = err(&location);
        for kind in name.kinds() {
            let spec = kind.spec();
            tx.execute(&format!("DELETE FROM {}", spec.table), [])
                .map_err(&e)?;
            if !spec.facets.is_empty() {
                // The triggers brought the counts to zero.
                tx.execute(
                    &format!("DELETE FROM {}_counts WHERE n = 0", spec.table),
                    [],
                )
                .map_err(&e)?;
            }
        }
        tx.commit().map_err(&e)
    }
}

/// Reads the stored records of `kind` with `keys` into `cache` (absent
/// ones as `None`).
fn fetch<'k>(
    tx: &rusqlite::Transaction<'_>,
    location: &str,
    kind: Kind,
    keys: impl Iterator<Item = &'k String>,
    cache: &mut Cache,
) -> Result<()> {
    let spec = kind.spec();
    let e = err(location);
    let sql = format!(
        "SELECT payload FROM {} WHERE {} = ?1",
        spec.table,
        q(spec.key)
    );
    let mut st = tx.prepare_cached(&sql).map_err(&e)?;
    for key in keys {
        if cache.contains_key(&(kind, key.clone())) {
            continue;
        }
        let mut rows = st.query([key]).map_err(&e)?;
        let found = match rows.next().map_err(&e)? {
            Some(row) => {
                let raw: String = row.get(0).map_err(&e)?;
                Some(parse_payload(location, &raw)?)
            }
            None => None,
        };
        cache.insert((kind, key.clone()), found);
    }
    Ok(())
}

/// `INSERT … ON CONFLICT DO UPDATE` of one row of `kind`.
fn upsert_sql(kind: Kind) -> String {
    let (names, conflict) = upsert_parts(kind);
    let marks: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
    format!(
        "INSERT INTO {} ({}) VALUES ({}) {conflict}",
        kind.spec().table,
        names.join(", "),
        marks.join(", "),
    )
}

/// The column values and payload of one row, in [`upsert_sql`]'s order.
fn row_values(kind: Kind, r: &Record, location: &str) -> Result<Vec<SqlValue>> {
    let spec = kind.spec();
    let mut out = Vec::with_capacity(spec.columns.len() + 1);
    for c in spec.columns {
        out.push(match c.ty {
            ColType::Text => text(r, c.name).map_or(SqlValue::Null, SqlValue::Text),
            ColType::Int => r
                .get(c.name)
                .and_then(Value::as_i64)
                .map_or(SqlValue::Null, SqlValue::Integer),
        });
    }
    let payload = serde_json::to_string(r).map_err(|e| StoreError::Database {
        store: location.to_string(),
        message: e.to_string(),
    })?;
    out.push(SqlValue::Text(payload));
    Ok(out)
}
