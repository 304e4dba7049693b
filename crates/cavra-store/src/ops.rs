//! Store operations: backup, restore, retention plan, migration between
//! backends. The CLI (`cavra ops …`) and the API share these.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

use serde::Serialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::error::{Result, StoreError};
use crate::kinds::{Kind, StoreName};
use crate::records::{Record, canonical, now};
use crate::sql::{Pool, SqlStore};
use crate::{AsyncSink, Collect, Location, Stores};

pub const BACKUP_SCHEMA: &str = "cavra.persistent_api.backup.v1";
pub const RETENTION_SCHEMA: &str = "cavra.persistent_api.retention_plan.v1";

/// Progress of a long operation: (what, done, total).
pub type Progress<'a> = &'a mut dyn FnMut(&str, u64, u64);

pub fn sha256_file(path: &Path) -> Result<String> {
    let bytes = fs::read(path).map_err(|e| StoreError::io(path, e))?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

pub(crate) async fn pg_size(store: &SqlStore) -> Result<u64> {
    let Pool::Postgres(p) = store.pool() else {
        return Ok(0);
    };
    let mut total = 0i64;
    for kind in store.name().kinds() {
        let n: i64 = sqlx::query_scalar(
            "SELECT COALESCE(pg_total_relation_size(to_regclass($1)), 0)::bigint",
        )
        .bind(kind.spec().table)
        .fetch_one(p)
        .await
        .map_err(|e| StoreError::Database {
            store: store.location().into(),
            message: e.to_string(),
        })?;
        total += n;
    }
    Ok(u64::try_from(total).unwrap_or(0))
}

/// Writes `bytes` to `path` atomically (temporary file, fsync, rename).
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
    }
    crate::fsx::replace_file(path, bytes, 0o666, false).map_err(|(p, e)| StoreError::io(&p, e))
}

/// One store's entry in a backup manifest.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct BackupEntry {
    pub name: String,
    pub kind: String,
    pub source_path: String,
    pub configured_by: String,
    pub exists: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_path: Option<String>,
    pub size_bytes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default)]
    pub records: BTreeMap<String, i64>,
}

#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct BackupManifest {
    pub schema_version: String,
    pub product: String,
    pub created_at: String,
    pub stores: Vec<BackupEntry>,
}

/// The records of a store as a document in the JSON store layout.
async fn store_document(
    stores: &Stores,
    name: StoreName,
) -> Result<(Vec<u8>, BTreeMap<String, i64>)> {
    let mut doc = Map::new();
    let mut counts = BTreeMap::new();
    for kind in name.kinds() {
        let mut all = Collect::default();
        stores.export(*kind, 5000, &mut all).await?;
        counts.insert(kind.as_str().to_string(), all.0.len() as i64);
        doc.insert(
            kind.spec().collection.into(),
            Value::Array(all.0.into_iter().map(Value::Object).collect()),
        );
    }
    let mut bytes = serde_json::to_vec_pretty(&canonical(Value::Object(doc)))
        .map_err(|e| StoreError::Backup(e.to_string()))?;
    bytes.push(b'\n');
    Ok((bytes, counts))
}

impl<T: AsyncSink> AsyncSink for &mut T {
    async fn accept(&mut self, batch: Vec<Record>) -> Result<()> {
        (**self).accept(batch).await
    }
}

/// `cavra ops backup`: copies every store into `output/stores/` and writes
/// `output/manifest.json` with a sha256 per copy. JSON stores are copied
/// after their journal is folded in; SQLite databases are copied online
/// with `VACUUM INTO` (a consistent snapshot while writers continue);
/// PostgreSQL stores are exported as JSON documents in the JSON store
/// layout, which `restore` loads back.
///
/// The backup is made in a staging directory inside `output` and moved into
/// place only once every store is copied: a backup that fails halfway
/// (a corrupt store, a full disk) leaves the previous backup in `output`
/// as it was, instead of some of its files replaced and its manifest's
/// checksums no longer matching.
pub async fn backup(
    stores: &Stores,
    output: &Path,
    include_missing: bool,
    progress: Progress<'_>,
) -> Result<BackupManifest> {
    // Staging left by a backup that was killed is removed first.
    if let Ok(entries) = fs::read_dir(output) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(".partial-")
                && e.file_type().is_ok_and(|t| t.is_dir())
            {
                let _ = fs::remove_dir_all(e.path());
            }
        }
    }
    let stage = output.join(format!(".partial-{}", std::process::id()));
    let manifest = match backup_into(stores, &stage, include_missing, progress).await {
        Ok(m) => m,
        Err(e) => {
            let _ = fs::remove_dir_all(&stage);
            return Err(e);
        }
    };
    let moved = (|| -> Result<()> {
        let dir = output.join("stores");
        fs::create_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
        for rel in manifest
            .stores
            .iter()
            .filter_map(|e| e.backup_path.as_ref())
        {
            let (from, to) = (stage.join(rel), output.join(rel));
            fs::rename(&from, &to).map_err(|e| StoreError::io(&to, e))?;
        }
        // The manifest last: until it moves, the old one describes the
        // old files it was written with, except those just replaced.
        let to = output.join("manifest.json");
        fs::rename(stage.join("manifest.json"), &to).map_err(|e| StoreError::io(&to, e))?;
        crate::json::fsync_dir(&to)
    })();
    let _ = fs::remove_dir_all(&stage);
    moved.map(|()| manifest)
}

async fn backup_into(
    stores: &Stores,
    output: &Path,
    include_missing: bool,
    progress: Progress<'_>,
) -> Result<BackupManifest> {
    let dir = output.join("stores");
    fs::create_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
    let plans = stores.plans();
    let total = plans.len() as u64;
    let mut entries = Vec::new();
    for (i, plan) in plans.into_iter().enumerate() {
        progress(plan.name.as_str(), i as u64, total);
        let name = plan.name;
        let mut entry = BackupEntry {
            name: name.as_str().into(),
            kind: plan.location.mode().into(),
            source_path: plan.location.display(),
            configured_by: plan.configured_by.clone(),
            exists: false,
            backup_path: None,
            size_bytes: 0,
            sha256: None,
            records: BTreeMap::new(),
        };
        for kind in name.kinds() {
            entry
                .records
                .insert(kind.as_str().into(), stores.count(*kind).await?);
        }
        let rel = match &plan.location {
            Location::Json(path) => {
                if let Some(j) = stores.json_store(name)
                    && (path.exists() || crate::json_journal(path).exists())
                {
                    j.compact().await?;
                }
                entry.exists = path.exists();
                if !entry.exists && !include_missing {
                    entries.push(entry);
                    continue;
                }
                let rel = format!("stores/{}.json", name.as_str());
                let bytes = if entry.exists {
                    fs::read(path).map_err(|e| StoreError::io(path, e))?
                } else {
                    store_document(stores, name).await?.0
                };
                write_atomic(&output.join(&rel), &bytes)?;
                rel
            }
            Location::Sqlite(path) => {
                entry.exists = path.exists();
                let rel = format!("stores/{}.db", name.as_str());
                let target = output.join(&rel);
                if target.exists() {
                    fs::remove_file(&target).map_err(|e| StoreError::io(&target, e))?;
                }
                let Some(s) = stores.sql_store(name) else {
                    return Err(StoreError::Backup(format!(
                        "store {} is not open",
                        name.as_str()
                    )));
                };
                let Pool::Sqlite(p) = s.pool() else {
                    return Err(StoreError::Backup(format!(
                        "store {} is not SQLite",
                        name.as_str()
                    )));
                };
                let abs = std::path::absolute(&target).map_err(|e| StoreError::io(&target, e))?;
                sqlx::query("VACUUM INTO $1")
                    .bind(abs.display().to_string())
                    .execute(p)
                    .await
                    .map_err(|e| StoreError::Database {
                        store: path.display().to_string(),
                        message: format!("online backup failed: {e}"),
                    })?;
                rel
            }
            Location::Postgres { .. } => {
                entry.exists = true;
                let rel = format!("stores/{}.json", name.as_str());
                let (bytes, _) = store_document(stores, name).await?;
                write_atomic(&output.join(&rel), &bytes)?;
                rel
            }
        };
        let file = output.join(&rel);
        entry.size_bytes = fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        entry.sha256 = Some(sha256_file(&file)?);
        entry.backup_path = Some(rel);
        entries.push(entry);
    }
    progress("manifest", total, total);
    let manifest = BackupManifest {
        schema_version: BACKUP_SCHEMA.into(),
        product: "CAVRA".into(),
        created_at: now(),
        stores: entries,
    };
    let mut bytes =
        serde_json::to_vec_pretty(&manifest).map_err(|e| StoreError::Backup(e.to_string()))?;
    bytes.push(b'\n');
    write_atomic(&output.join("manifest.json"), &bytes)?;
    Ok(manifest)
}

/// What restore did with one store.
#[derive(Clone, Debug, Serialize)]
pub struct RestoreItem {
    pub name: String,
    pub kind: String,
    /// `restored`, `skipped_existing` or `skipped_missing`.
    pub action: String,
    pub target: String,
}

/// A relative path with no `..`, no root: safe to join under a directory.
fn contained(field: &str, raw: &str) -> Result<PathBuf> {
    let p = Path::new(raw);
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(s) => out.push(s),
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) | Component::ParentDir => {
                return Err(StoreError::Backup(format!(
                    "{field} {raw:?} escapes the target directory"
                )));
            }
        }
    }
    if out.as_os_str().is_empty() {
        return Err(StoreError::Backup(format!("{field} is empty")));
    }
    Ok(out)
}

/// Where a store file is restored: `source_path` itself, or under
/// `target_dir` (an absolute source path keeps its components below the
/// target directory).
fn restore_target(source: &str, target_dir: Option<&Path>) -> Result<PathBuf> {
    match target_dir {
        None => {
            if Path::new(source)
                .components()
                .any(|c| c == Component::ParentDir)
            {
                return Err(StoreError::Backup(format!(
                    "source_path {source:?} contains '..'; pass --target-dir"
                )));
            }
            Ok(PathBuf::from(source))
        }
        Some(dir) => {
            let stripped = source.trim_start_matches('/');
            Ok(dir.join(contained("source_path", stripped)?))
        }
    }
}

/// What one manifest entry restores, decided before anything is written.
enum Planned<'s> {
    /// No backup file: the store did not exist when it was backed up.
    Missing,
    /// A PostgreSQL export loaded into the PostgreSQL stores: the records
    /// of each kind, every one an object with its key.
    Database(&'s Stores, Vec<(Kind, Vec<Record>)>),
    /// A file copied to `target`; `sha256` is checked again on the copy.
    File {
        from: PathBuf,
        target: PathBuf,
        sha256: String,
    },
}

/// The files beside a store file that belong to it: SQLite's write-ahead
/// log and shared memory, the JSON store's journal. A stale one beside a
/// restored file would be replayed into it.
fn sidecars(kind: &str, target: &Path) -> Vec<PathBuf> {
    if kind == "sqlite" {
        vec![
            crate::json::sibling(target, "-wal"),
            crate::json::sibling(target, "-shm"),
        ]
    } else {
        vec![crate::json_journal(target)]
    }
}

/// Refuses a target reached through a symbolic link: the target itself and,
/// under `--target-dir`, every directory between it and the target.
fn refuse_links(target: &Path, target_dir: Option<&Path>) -> Result<()> {
    let mut cur = Some(target);
    while let Some(p) = cur {
        if target_dir.is_some_and(|d| p == d) {
            break;
        }
        if fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(StoreError::Backup(format!(
                "{} is a symbolic link; restore does not write through links",
                p.display()
            )));
        }
        if target_dir.is_none() {
            break;
        }
        cur = p.parent();
    }
    Ok(())
}

/// Copies `from` into a new file beside `to` (never an existing name, so
/// never through a planted link), hashing what it writes, and fsyncs it.
/// Returns the copy only when its hash is `want`: the bytes restored are
/// the bytes checked, even if the backup changes meanwhile.
fn stage_copy(from: &Path, to: &Path, want: &str) -> Result<PathBuf> {
    use std::io::Read;
    if let Some(dir) = to.parent()
        && !dir.as_os_str().is_empty()
    {
        fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let tmp = crate::json::sibling(to, &format!(".restore.{}.{nanos}", std::process::id()));
    let copied = (|| -> std::io::Result<String> {
        let mut src = fs::File::open(from)?;
        let mut dst = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        let mut hash = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = src.read(&mut buf)?;
            let Some(chunk) = buf.get(..n).filter(|c| !c.is_empty()) else {
                break;
            };
            hash.update(chunk);
            dst.write_all(chunk)?;
        }
        dst.sync_all()?;
        Ok(hex::encode(hash.finalize()))
    })();
    match copied {
        Ok(got) if got == want => Ok(tmp),
        Ok(got) => {
            let _ = fs::remove_file(&tmp);
            Err(StoreError::Backup(format!(
                "{} changed during the restore: the manifest says {want}, the copy has {got}; {} was left as it was",
                from.display(),
                to.display()
            )))
        }
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            // A partial create (disk full) is gone; the target is untouched.
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                return Err(StoreError::io(&tmp, e));
            }
            Err(StoreError::io(to, e))
        }
    }
}

/// Puts the staged copy `tmp` in place of `target`: the target's sidecars
/// are moved aside first, and back should the rename fail, so the old
/// store keeps its log until the new file is in place.
fn put_in_place(tmp: &Path, target: &Path, sides: &[PathBuf]) -> Result<()> {
    let mut aside: Vec<(PathBuf, PathBuf)> = Vec::new();
    let undo = |aside: &[(PathBuf, PathBuf)]| {
        for (side, moved) in aside.iter().rev() {
            let _ = fs::rename(moved, side);
        }
        let _ = fs::remove_file(tmp);
    };
    for side in sides {
        if fs::symlink_metadata(side).is_err() {
            continue;
        }
        let moved = crate::json::sibling(side, ".pre-restore");
        if let Err(e) = fs::rename(side, &moved) {
            undo(&aside);
            return Err(StoreError::io(side, e));
        }
        aside.push((side.clone(), moved));
    }
    if let Err(e) = fs::rename(tmp, target) {
        undo(&aside);
        return Err(StoreError::io(target, e));
    }
    crate::json::fsync_dir(target)?;
    for (_, moved) in aside {
        let _ = fs::remove_file(moved);
    }
    Ok(())
}

/// The records of a PostgreSQL export, per kind of `name`, each an object
/// with its key; anything else refuses the whole restore.
fn export_records(file: &Path, name: StoreName) -> Result<Vec<(Kind, Vec<Record>)>> {
    let bytes = fs::read(file).map_err(|e| StoreError::io(file, e))?;
    let mut doc: Value = serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt {
        path: file.to_path_buf(),
        message: e.to_string(),
    })?;
    let mut out = Vec::new();
    for kind in name.kinds() {
        let spec = kind.spec();
        let items = match doc.get_mut(spec.collection).map(Value::take) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a,
            Some(_) => {
                return Err(StoreError::Corrupt {
                    path: file.to_path_buf(),
                    message: format!("`{}` is not a list", spec.collection),
                });
            }
        };
        let mut records = Vec::with_capacity(items.len());
        for (i, v) in items.into_iter().enumerate() {
            let Value::Object(r) = v else {
                return Err(StoreError::Corrupt {
                    path: file.to_path_buf(),
                    message: format!("{}[{i}] is not an object", spec.collection),
                });
            };
            if crate::records::text(&r, spec.key).is_none() {
                return Err(StoreError::Corrupt {
                    path: file.to_path_buf(),
                    message: format!("{}[{i}] has no {}", spec.collection, spec.key),
                });
            }
            // What PostgreSQL would refuse after the store was cleared.
            if let Err(e) = crate::records::check_storable(*kind, &r) {
                return Err(StoreError::Corrupt {
                    path: file.to_path_buf(),
                    message: format!("{}[{i}]: {e}", spec.collection),
                });
            }
            records.push(r);
        }
        out.push((*kind, records));
    }
    Ok(out)
}

/// `cavra ops restore`: checks every entry first — checksum, target path,
/// links, a PostgreSQL export's records — so a bad entry restores nothing;
/// skips a target that exists (its file or its journal or log) unless
/// `overwrite`; copies each file beside its target while checking its hash
/// again, and only then puts it in place. PostgreSQL entries are loaded into
/// `stores` when it is on PostgreSQL, else written as JSON store files.
pub async fn restore(
    manifest_path: &Path,
    target_dir: Option<&Path>,
    overwrite: bool,
    stores: Option<&Stores>,
    progress: Progress<'_>,
) -> Result<Vec<RestoreItem>> {
    let bytes = fs::read(manifest_path).map_err(|e| StoreError::io(manifest_path, e))?;
    let manifest: BackupManifest = serde_json::from_slice(&bytes).map_err(|e| {
        StoreError::Backup(format!(
            "{} is not a backup manifest: {e}",
            manifest_path.display()
        ))
    })?;
    if manifest.schema_version != BACKUP_SCHEMA {
        return Err(StoreError::Backup(format!(
            "{}: schema_version is {:?}, expected {BACKUP_SCHEMA}",
            manifest_path.display(),
            manifest.schema_version
        )));
    }
    let base = manifest_path.parent().unwrap_or(Path::new("."));
    let pg_target = stores.filter(|s| s.plans().iter().any(|p| p.location.mode() == "postgres"));
    // 1. Check everything before touching anything.
    let mut planned = Vec::new();
    for entry in &manifest.stores {
        let name = StoreName::parse(&entry.name).ok_or_else(|| {
            StoreError::Backup(format!("unknown store {:?} in manifest", entry.name))
        })?;
        let Some(rel) = &entry.backup_path else {
            planned.push((entry, name, Planned::Missing));
            continue;
        };
        let file = base.join(contained("backup_path", rel)?);
        let want = entry.sha256.as_deref().ok_or_else(|| {
            StoreError::Backup(format!("store {}: the manifest has no sha256", entry.name))
        })?;
        let got = sha256_file(&file)?;
        if got != want {
            return Err(StoreError::Backup(format!(
                "checksum mismatch for {}: manifest says {want}, file has {got}; nothing was restored",
                file.display()
            )));
        }
        if entry.kind == "postgres"
            && let Some(stores) = pg_target
        {
            planned.push((
                entry,
                name,
                Planned::Database(stores, export_records(&file, name)?),
            ));
            continue;
        }
        let source = if entry.kind == "postgres" {
            // No database to load into: restore as a JSON store file.
            format!("{}/{}", crate::DEFAULT_DIR, name.default_file())
        } else {
            entry.source_path.clone()
        };
        let target = restore_target(&source, target_dir)?;
        refuse_links(&target, target_dir)?;
        planned.push((
            entry,
            name,
            Planned::File {
                from: file,
                target,
                sha256: want.to_string(),
            },
        ));
    }
    // 2. Restore.
    let total = planned.len() as u64;
    let mut out = Vec::new();
    for (i, (entry, name, plan)) in planned.into_iter().enumerate() {
        progress(&entry.name, i as u64, total);
        let item = |action: &str, kind: &str, target: String| RestoreItem {
            name: entry.name.clone(),
            kind: kind.to_string(),
            action: action.into(),
            target,
        };
        match plan {
            Planned::Missing => {
                out.push(item(
                    "skipped_missing",
                    &entry.kind,
                    entry.source_path.clone(),
                ));
            }
            Planned::Database(stores, kinds) => {
                let mut existing = 0;
                for kind in name.kinds() {
                    existing += stores.count(*kind).await?;
                }
                if existing > 0 && !overwrite {
                    out.push(item(
                        "skipped_existing",
                        &entry.kind,
                        entry.source_path.clone(),
                    ));
                    continue;
                }
                stores.clear(name).await?;
                for (kind, records) in kinds {
                    for chunk in records.chunks(1000) {
                        stores.import(kind, chunk.to_vec()).await?;
                    }
                }
                out.push(item("restored", &entry.kind, entry.source_path.clone()));
            }
            Planned::File {
                from,
                target,
                sha256,
            } => {
                let kind = if entry.kind == "postgres" {
                    "json"
                } else {
                    entry.kind.as_str()
                };
                let sides = sidecars(kind, &target);
                // A JSON store may exist only as its journal (before its
                // first fold, or after a crash): that is an existing store.
                let exists = std::iter::once(&target)
                    .chain(&sides)
                    .any(|p| fs::symlink_metadata(p).is_ok());
                if exists && !overwrite {
                    out.push(item("skipped_existing", kind, target.display().to_string()));
                    continue;
                }
                let tmp = stage_copy(&from, &target, &sha256)?;
                put_in_place(&tmp, &target, &sides)?;
                out.push(item("restored", kind, target.display().to_string()));
            }
        }
    }
    progress("done", total, total);
    Ok(out)
}

/// `cavra ops retention-plan` and `GET /operations/retention-plan`.
pub async fn retention_plan(
    stores: &Stores,
    retention_days: u32,
    classification: &str,
    legal_hold: bool,
) -> Result<Value> {
    let generated = now();
    let retain_until = crate::records::add_hours(&generated, f64::from(retention_days) * 24.0)?;
    let delete_protection = legal_hold || retention_days >= 365;
    let mut items = Vec::new();
    for st in stores.status().await? {
        let backup_kind = match st.kind.as_str() {
            "json" => "file copy after folding the journal",
            "sqlite" => "online copy with VACUUM INTO",
            _ => "logical export to the JSON store layout",
        };
        items.push(json!({
            "name": st.name,
            "kind": st.kind,
            "path": st.path,
            "configured_by": st.configured_by,
            "exists": st.exists,
            "size_bytes": st.size_bytes,
            "records": st.records,
            "retain_until": retain_until,
            "backup_method": backup_kind,
            "backup_path": format!("stores/{}.{}", st.name, if st.kind == "sqlite" { "db" } else { "json" }),
        }));
    }
    Ok(json!({
        "schema_version": RETENTION_SCHEMA,
        "product": "CAVRA",
        "generated_at": generated,
        "retention_days": retention_days,
        "classification": classification,
        "legal_hold": legal_hold,
        "retain_until": retain_until,
        "delete_protection": delete_protection,
        "disposition": if legal_hold { "retain" } else { "eligible_for_review_after_retain_until" },
        "stores": items,
        "backup": {
            "command": "cavra ops backup --output .cavra/backups/latest",
            "manifest_schema": BACKUP_SCHEMA,
            "frequency": "daily",
        },
        "restore_test": {
            "command": "cavra ops restore .cavra/backups/latest/manifest.json --target-dir .cavra/restore-test",
            "frequency": "monthly",
            "steps": [
                "run the restore command into an empty target directory",
                "every sha256 in the manifest is checked before any file is written",
                "start `cavra serve` with CAVRA_*_STORE / CAVRA_*_DB pointing at the restored files and compare record counts with the manifest",
            ],
        },
    }))
}

/// Report of a migration: records copied per kind.
#[derive(Clone, Debug, Serialize)]
pub struct MigrateReport {
    pub from: BTreeMap<String, String>,
    pub to: BTreeMap<String, String>,
    pub copied: BTreeMap<String, i64>,
}

struct CopySink<'a> {
    to: &'a Stores,
    kind: Kind,
    done: u64,
    total: u64,
    progress: Progress<'a>,
}

impl AsyncSink for CopySink<'_> {
    async fn accept(&mut self, batch: Vec<Record>) -> Result<()> {
        let n = batch.len() as u64;
        self.to.import(self.kind, batch).await?;
        self.done += n;
        (self.progress)(self.kind.as_str(), self.done, self.total);
        Ok(())
    }
}

/// `cavra ops migrate`: copies every record of every kind from one set of
/// stores to another (records kept as they are), then checks the counts.
pub async fn migrate(from: &Stores, to: &Stores, progress: Progress<'_>) -> Result<MigrateReport> {
    let mut copied = BTreeMap::new();
    for kind in Kind::ALL {
        let total = u64::try_from(from.count(kind).await?).unwrap_or(0);
        let mut sink = CopySink {
            to,
            kind,
            done: 0,
            total,
            progress: &mut *progress,
        };
        from.export(kind, 1000, &mut sink).await?;
        copied.insert(kind.as_str().to_string(), sink.done as i64);
    }
    to.flush().await?;
    for kind in Kind::ALL {
        let want = copied.get(kind.as_str()).copied().unwrap_or(0);
        let have = to.count(kind).await?;
        if have < want {
            return Err(StoreError::Backup(format!(
                "after migrating, the target has {have} {} but {want} were copied",
                kind.as_str()
            )));
        }
    }
    let describe = |s: &Stores| {
        s.plans()
            .into_iter()
            .map(|p| (p.name.as_str().to_string(), p.location.display()))
            .collect()
    };
    Ok(MigrateReport {
        from: describe(from),
        to: describe(to),
        copied,
    })
}
