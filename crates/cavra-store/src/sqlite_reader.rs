//! SQLite list pages on connections of their own (rusqlite, the library
//! sqlx links). sqlx runs each SQLite connection on a worker thread and
//! hands every row across a channel, waking the reading task per row; a
//! page of 50 then cost more in thread switches than in SQLite. Here the
//! count, the index choice and the page of one request run in a single
//! blocking call on a pooled connection. At most [`READERS`] connections
//! exist, so their page caches bound the memory they take.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use rusqlite::types::Value as SqlValue;
use tokio::sync::Semaphore;

use crate::error::{Result, StoreError};

/// How many reading connections a store keeps at most (as many as the
/// sqlx pool it relieves).
const READERS: usize = 4;

pub(crate) struct Readers {
    path: PathBuf,
    location: String,
    idle: Mutex<Vec<Connection>>,
    permits: Semaphore,
}

impl Readers {
    pub(crate) fn new(path: &Path, location: &str) -> Arc<Readers> {
        Arc::new(Readers {
            path: path.to_path_buf(),
            location: location.to_string(),
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(READERS),
        })
    }

    /// Runs `f` on an idle connection (opened on first use) on tokio's
    /// blocking pool.
    pub(crate) async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Connection, &str) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| StoreError::Closed(self.location.clone()))?;
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let idle = this.idle.lock().ok().and_then(|mut v| v.pop());
            let conn = match idle {
                Some(c) => c,
                None => connect(&this.path, &this.location)?,
            };
            let out = f(&conn, &this.location);
            if let Ok(mut v) = this.idle.lock() {
                v.push(conn);
            }
            out
        })
        .await
        .map_err(|e| StoreError::Database {
            store: self.location.clone(),
            message: format!("a read did not finish: {e}"),
        })?
    }
}

/// The writer's settings, and no writes: a reader that tried one would be
/// a bug, refused by SQLite rather than committed.
fn connect(path: &Path, location: &str) -> Result<Connection> {
    let conn = crate::sqlite_writer::connect(path, location)?;
    conn.execute_batch("PRAGMA query_only = ON")
        .map_err(crate::sqlite_writer::err(location))?;
    Ok(conn)
}

/// The single integer `sql` selects (a count).
pub(crate) fn count(
    conn: &Connection,
    location: &str,
    sql: &str,
    binds: &[SqlValue],
) -> Result<i64> {
    let mut stmt = conn
        .prepare_cached(sql)
        .map_err(crate::sqlite_writer::err(location))?;
    stmt.query_row(rusqlite::params_from_iter(binds), |r| r.get::<_, i64>(0))
        .map_err(crate::sqlite_writer::err(location))
}

/// The first column of every row `sql` selects, as text (payloads).
pub(crate) fn texts(
    conn: &Connection,
    location: &str,
    sql: &str,
    binds: &[SqlValue],
) -> Result<Vec<String>> {
    let mut stmt = conn
        .prepare_cached(sql)
        .map_err(crate::sqlite_writer::err(location))?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(binds), |r| r.get::<_, String>(0))
        .map_err(crate::sqlite_writer::err(location))?;
    rows.collect::<rusqlite::Result<Vec<_>>>()
        .map_err(crate::sqlite_writer::err(location))
}
