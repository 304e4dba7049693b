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
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp.{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let r = (|| -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        Ok(())
    })();
    if let Err(e) = r {
        let _ = fs::remove_file(&tmp);
        return Err(StoreError::io(path, e));
    }
    Ok(())
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
pub async fn backup(
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

/// `cavra ops restore`: verifies every checksum first (a mismatch restores
/// nothing), refuses paths that escape, skips existing targets unless
/// `overwrite`. PostgreSQL entries are loaded into `stores` when it is on
/// PostgreSQL, else written as JSON store files.
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
    // 1. Check everything before touching anything.
    let mut planned = Vec::new();
    for entry in &manifest.stores {
        if StoreName::parse(&entry.name).is_none() {
            return Err(StoreError::Backup(format!(
                "unknown store {:?} in manifest",
                entry.name
            )));
        }
        let Some(rel) = &entry.backup_path else {
            planned.push((entry, None));
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
        planned.push((entry, Some(file)));
    }
    // 2. Restore.
    let total = planned.len() as u64;
    let mut out = Vec::new();
    let pg_target = stores.filter(|s| s.plans().iter().any(|p| p.location.mode() == "postgres"));
    for (i, (entry, file)) in planned.into_iter().enumerate() {
        progress(&entry.name, i as u64, total);
        let Some(file) = file else {
            out.push(RestoreItem {
                name: entry.name.clone(),
                kind: entry.kind.clone(),
                action: "skipped_missing".into(),
                target: entry.source_path.clone(),
            });
            continue;
        };
        let name = StoreName::parse(&entry.name)
            .ok_or_else(|| StoreError::Backup(format!("unknown store {:?}", entry.name)))?;
        if entry.kind == "postgres"
            && let Some(stores) = pg_target
        {
            let mut existing = 0;
            for kind in name.kinds() {
                existing += stores.count(*kind).await?;
            }
            if existing > 0 && !overwrite {
                out.push(RestoreItem {
                    name: entry.name.clone(),
                    kind: entry.kind.clone(),
                    action: "skipped_existing".into(),
                    target: entry.source_path.clone(),
                });
                continue;
            }
            let doc: Value =
                serde_json::from_slice(&fs::read(&file).map_err(|e| StoreError::io(&file, e))?)
                    .map_err(|e| StoreError::Corrupt {
                        path: file.clone(),
                        message: e.to_string(),
                    })?;
            stores.clear(name).await?;
            for kind in name.kinds() {
                let records: Vec<Record> = doc
                    .get(kind.spec().collection)
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(|v| v.as_object().cloned()).collect())
                    .unwrap_or_default();
                for chunk in records.chunks(1000) {
                    stores.import(*kind, chunk.to_vec()).await?;
                }
            }
            out.push(RestoreItem {
                name: entry.name.clone(),
                kind: entry.kind.clone(),
                action: "restored".into(),
                target: entry.source_path.clone(),
            });
            continue;
        }
        let source = if entry.kind == "postgres" {
            // No database to load into: restore as a JSON store file.
            format!("{}/{}", crate::DEFAULT_DIR, name.default_file())
        } else {
            entry.source_path.clone()
        };
        let target = restore_target(&source, target_dir)?;
        if target.exists() && !overwrite {
            out.push(RestoreItem {
                name: entry.name.clone(),
                kind: entry.kind.clone(),
                action: "skipped_existing".into(),
                target: target.display().to_string(),
            });
            continue;
        }
        let bytes = fs::read(&file).map_err(|e| StoreError::io(&file, e))?;
        if entry.kind == "sqlite" {
            // A stale write-ahead log beside the old database would be
            // replayed into the restored one.
            for suffix in ["-wal", "-shm"] {
                let mut os = target.as_os_str().to_owned();
                os.push(suffix);
                let side = PathBuf::from(os);
                if side.exists() {
                    fs::remove_file(&side).map_err(|e| StoreError::io(&side, e))?;
                }
            }
        }
        if entry.kind == "json" || entry.kind == "postgres" {
            let wal = crate::json_journal(&target);
            if wal.exists() {
                fs::remove_file(&wal).map_err(|e| StoreError::io(&wal, e))?;
            }
        }
        write_atomic(&target, &bytes)?;
        out.push(RestoreItem {
            name: entry.name.clone(),
            kind: if entry.kind == "postgres" {
                "json".into()
            } else {
                entry.kind.clone()
            },
            action: "restored".into(),
            target: target.display().to_string(),
        });
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
