//! The hook spool: how short-lived hook processes record decisions without
//! paying for a store.
//!
//! A hook runs once per tool call and must answer in about a millisecond.
//! Opening a store (reading a JSON file, connecting to PostgreSQL, running
//! migrations) costs far more than that, and the decision upsert needs the
//! session record. So a hook appends its decision as one JSON line to a
//! spool file (`.cavra/api/hook-spool.jsonl`, or `CAVRA_HOOK_SPOOL`);
//! whoever owns the stores (`cavra serve`, every second and on start and
//! stop, and `cavra ops ingest`) moves the spooled decisions into the
//! activity store with the normal upsert, which also rebuilds the sessions.
//!
//! Durability: the append is complete in the kernel before the hook answers,
//! so it survives the hook, the agent or the server being killed at any
//! point. It is not fsynced by default: an fsync costs a hook call 0.3–0.6
//! ms, about a third of its whole budget, and protects only against power
//! loss or a kernel crash in the second before the ingester (which fsyncs
//! the store) picks the line up. `CAVRA_HOOK_SPOOL_SYNC=1` fsyncs every
//! append.
//!
//! Concurrency: writers hold `flock` on the spool while appending. The
//! ingester renames the spool aside, takes the lock on the renamed file (so
//! writers that opened it before the rename finish first), reads, upserts
//! and deletes it. A writer that finds, after locking, that its file is no
//! longer the one at the spool path reopens. Upserts are keyed by
//! `decision_id`, so a crash between upsert and delete only repeats work.
//! Lines that are not valid decisions are kept in `<spool>.rejected`.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{Result, StoreError};
use crate::{Kind, Stores, records};

/// Default spool path, relative to the directory the stores are relative to.
pub const DEFAULT_SPOOL: &str = ".cavra/api/hook-spool.jsonl";

/// The spool path from `CAVRA_HOOK_SPOOL`, or the default, resolved
/// against `base` when relative.
pub fn spool_path(env: impl Fn(&str) -> Option<String>, base: Option<&Path>) -> PathBuf {
    let p = env("CAVRA_HOOK_SPOOL")
        .filter(|v| !v.trim().is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_SPOOL));
    match base {
        Some(b) if p.is_relative() => b.join(p),
        _ => p,
    }
}

fn same_file(f: &File, path: &Path) -> bool {
    match (f.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
        _ => false,
    }
}

/// Whether `CAVRA_HOOK_SPOOL_SYNC` asks for an fsync per append.
pub fn sync_from_env(env: impl Fn(&str) -> Option<String>) -> bool {
    env("CAVRA_HOOK_SPOOL_SYNC")
        .is_some_and(|v| matches!(v.trim(), "1" | "true" | "yes" | "always"))
}

/// Appends records, one JSON line each, in one write under the lock;
/// fsyncs when `sync` is set.
pub fn append(path: &Path, records: &[Value], sync: bool) -> std::io::Result<()> {
    append_until(path, records, sync, None)
}

/// [`append`], giving up with `TimedOut` when the lock is still held by
/// another process at `due` (hooks answer within a deadline).
pub fn append_until(
    path: &Path,
    records: &[Value],
    sync: bool,
    due: Option<std::time::Instant>,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    for r in records {
        serde_json::to_writer(&mut buf, r)?;
        buf.push(b'\n');
    }
    if buf.is_empty() {
        return Ok(());
    }
    // Never follow a symlink at the spool path: a repository could ship
    // `.cavra/api/hook-spool.jsonl -> /dev/stdout` (corrupting the hook's
    // answer) or `-> ~/.bashrc`. Only a regular file is appended to.
    let open = || crate::fsx::open_regular(path, OpenOptions::new().create(true).append(true));
    for _ in 0..16 {
        let mut f = match open() {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                match path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    Some(dir) => std::fs::create_dir_all(dir)?,
                    None => return Err(e),
                }
                open()?
            }
            Err(e) => return Err(e),
        };
        lock_until(&f, due)?;
        if !same_file(&f, path) {
            continue;
        }
        f.write_all(&buf)?;
        if sync {
            f.sync_data()?;
        }
        return Ok(());
    }
    Err(std::io::Error::other(format!(
        "{} kept moving while appending",
        path.display()
    )))
}

fn lock_until(f: &std::fs::File, due: Option<std::time::Instant>) -> std::io::Result<()> {
    let Some(due) = due else {
        return f.lock();
    };
    let mut pause = std::time::Duration::from_micros(200);
    loop {
        match f.try_lock() {
            Ok(()) => return Ok(()),
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
        let left = due.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "another process held the spool lock until the deadline",
            ));
        }
        std::thread::sleep(pause.min(left));
        pause = (pause * 2).min(std::time::Duration::from_millis(20));
    }
}

/// What one ingest did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct IngestReport {
    pub ingested: usize,
    pub rejected: usize,
}

/// A name for this ingest's renamed-aside spool that no other ingest, in
/// this process or another, uses: a failed ingest leaves its file for the
/// next one, which must not rename the spool over it.
fn aside_path(path: &Path) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    path.with_extension(format!(
        "ingesting.{}.{nanos}.{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Refuses a spool path that is not a regular file (a symbolic link a
/// repository shipped would have the ingester read, and copy into the
/// rejected file, whatever it names).
fn regular(path: &Path) -> Result<bool> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_file() => Ok(true),
        Ok(_) => Err(StoreError::io(
            path,
            std::io::Error::other("not a regular file; refusing to ingest through it"),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(StoreError::io(path, e)),
    }
}

/// Moves every spooled decision into the activity store.
pub async fn ingest(stores: &Stores, path: &Path) -> Result<IngestReport> {
    let mut report = IngestReport::default();
    let mut refused = None;
    // Finish earlier ingests that failed or crashed before deleting their
    // file (this process's too: their names are never reused).
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Some(stem) = path.file_stem().map(|s| s.to_string_lossy().into_owned())
        && let Ok(entries) = std::fs::read_dir(dir)
    {
        let prefix = format!("{stem}.ingesting.");
        let mut left: Vec<PathBuf> = entries
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
            .map(|e| e.path())
            .collect();
        left.sort();
        for file in left {
            // One that is not a regular file (a link a repository planted)
            // is refused, but does not stop the spool from being ingested:
            // the error is reported once everything else is in.
            if let Err(e) = regular(&file) {
                refused.get_or_insert(e);
                continue;
            }
            let r = ingest_file(stores, &file, path).await?;
            report.ingested += r.ingested;
            report.rejected += r.rejected;
        }
    }
    if regular(path)? {
        let aside = aside_path(path);
        match std::fs::rename(path, &aside) {
            Ok(()) => {
                let r = ingest_file(stores, &aside, path).await?;
                report.ingested += r.ingested;
                report.rejected += r.rejected;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(StoreError::io(path, e)),
        }
    }
    match refused {
        Some(e) => Err(e),
        None => Ok(report),
    }
}

/// Ingests one renamed-aside spool file and deletes it. Another ingester
/// (`cavra ops ingest` while `cavra serve` runs) may have taken it: a file
/// gone before it is opened, or unlinked while this one waited for its
/// lock, was ingested by the other.
async fn ingest_file(stores: &Stores, file: &Path, spool: &Path) -> Result<IngestReport> {
    let f = match crate::fsx::open_regular(file, OpenOptions::new().read(true)) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(IngestReport::default());
        }
        Err(e) => return Err(StoreError::io(file, e)),
    };
    f.lock().map_err(|e| StoreError::io(file, e))?;
    if !same_file(&f, file) {
        return Ok(IngestReport::default());
    }
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for line in BufReader::new(&f).split(b'\n') {
        let line = line.map_err(|e| StoreError::io(file, e))?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        // A hook writes whole decisions: a line without the fields every
        // decision has (`{"x":1}`) is not one, however the defaults would
        // fill it in.
        let whole = |v: &Value| {
            ["decision_id", "decision", "action_type"].iter().all(|k| {
                v.get(k)
                    .and_then(Value::as_str)
                    .is_some_and(|s| !s.trim().is_empty())
            })
        };
        match serde_json::from_slice::<Value>(&line)
            .map_err(|e| e.to_string())
            .and_then(|v| {
                if whole(&v) {
                    Ok(v)
                } else {
                    Err("not a whole decision".to_string())
                }
            })
            .and_then(|v| records::normalize(Kind::Decision, &v).map_err(|e| e.to_string()))
        {
            Ok(r) => good.push(r),
            Err(_) => bad.push(line),
        }
    }
    let report = IngestReport {
        ingested: good.len(),
        rejected: bad.len(),
    };
    // Each put is durable when acknowledged (a fsynced journal line, a
    // committed transaction), so the file may go once they all are.
    for chunk in good.chunks(500) {
        stores.put_records(Kind::Decision, chunk.to_vec()).await?;
    }
    if !bad.is_empty() {
        let rej = spool.with_extension("rejected");
        let mut out = {
            use std::os::unix::fs::OpenOptionsExt;
            crate::fsx::open_regular(
                &rej,
                OpenOptions::new().create(true).append(true).mode(0o600),
            )
            .map_err(|e| StoreError::io(&rej, e))?
        };
        for l in &bad {
            out.write_all(l)
                .and_then(|()| out.write_all(b"\n"))
                .map_err(|e| StoreError::io(&rej, e))?;
        }
        out.sync_data().map_err(|e| StoreError::io(&rej, e))?;
    }
    match std::fs::remove_file(file) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(StoreError::io(file, e)),
    }
    Ok(report)
}
