//! `cavra ops`: stores, backup, restore, retention plan and migration,
//! through the real binary on real JSON, SQLite and PostgreSQL stores.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::type_complexity
)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use cavra_store::{Kind, Location, StoreName, Stores, plan_at};
use serde_json::{Value, json};

fn cavra(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cavra"));
    cmd.current_dir(dir).args(args);
    for k in [
        "CAVRA_DATABASE_URL",
        "CAVRA_ACTIVITY_DB",
        "CAVRA_ACTIVITY_STORE",
        "CAVRA_DATABASE_SCHEMA",
    ] {
        cmd.env_remove(k);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn ok_json(out: Output) -> Value {
    assert!(
        out.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn pg_url() -> String {
    std::env::var("CAVRA_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

async fn fresh_schema() -> String {
    let schema = format!("cavra_t_{}", cavra_policy::random_hex(12));
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&pg_url())
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    schema
}

/// Fills the default JSON stores under `dir/.cavra/api`.
async fn seed_json(dir: &Path) {
    let locs = Location::parse_spec(&format!("json:{}", dir.join(".cavra/api").display())).unwrap();
    let stores = Stores::open(plan_at(&locs, "test")).await.unwrap();
    for i in 0..30 {
        stores
            .put(Kind::Decision, &json!({"decision_id": format!("d{i:02}"), "session_id": format!("s{}", i % 4), "decision": if i % 5 == 0 { "block" } else { "allow" }}))
            .await
            .unwrap();
    }
    stores
        .put(Kind::Repository, &json!({"repository": "payments/api"}))
        .await
        .unwrap();
    stores
        .put(Kind::Agent, &json!({"agent_id": "codex"}))
        .await
        .unwrap();
    stores
        .put(
            Kind::Evidence,
            &json!({"session_id": "s1", "metadata_kind": "session"}),
        )
        .await
        .unwrap();
    stores.close().await.unwrap();
}

/// The item of a JSON list whose `name` is `name`.
fn named(list: &Value, name: &str) -> Value {
    list.as_array()
        .and_then(|a| a.iter().find(|i| i["name"] == name))
        .cloned()
        .unwrap_or_else(|| panic!("no {name} in {list}"))
}

/// A scratch directory with seeded JSON stores backed up to `bk/`.
async fn backed_up() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    seed_json(dir.path()).await;
    ok_json(cavra(
        dir.path(),
        &["ops", "backup", "--output", "bk", "--json"],
        &[],
    ));
    dir
}

/// `cavra ops restore bk/manifest.json --target-dir fresh` plus `extra`.
fn restore_fresh(dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "ops",
        "restore",
        "bk/manifest.json",
        "--target-dir",
        "fresh",
    ];
    args.extend_from_slice(extra);
    cavra(dir, &args, &[])
}

#[test]
fn ops_stores_reports_every_default_store() {
    let dir = tempfile::tempdir().unwrap();
    let v = ok_json(cavra(dir.path(), &["ops", "stores", "--json"], &[]));
    let items = v.as_array().unwrap();
    assert_eq!(items.len(), 6);
    for s in items {
        assert_eq!(s["kind"], "json");
        assert_eq!(s["configured_by"], "default");
        assert_eq!(s["exists"], false);
        assert!(s["path"].as_str().unwrap().starts_with(".cavra/api/"));
    }
    let v = ok_json(cavra(
        dir.path(),
        &["ops", "stores", "--json"],
        &[("CAVRA_ACTIVITY_DB", "a.db")],
    ));
    let activity = named(&v, "activity");
    assert_eq!(activity["kind"], "sqlite");
    assert_eq!(activity["configured_by"], "CAVRA_ACTIVITY_DB");
    // Human output is a table.
    let out = cavra(dir.path(), &["ops", "stores"], &[]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("STORE"), "{text}");
    assert!(text.contains("evidence_metadata"));
}

/// Regression: a JSON store whose records were still only in its journal
/// (no compaction yet) was reported as `exists: false` with records in it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ops_stores_counts_a_journal_only_json_store_as_existing() {
    let dir = tempfile::tempdir().unwrap();
    let api = dir.path().join(".cavra/api");
    let locs = Location::parse_spec(&format!("json:{}", api.display())).unwrap();
    let stores = Stores::open(plan_at(&locs, "test")).await.unwrap();
    stores
        .put(
            Kind::Decision,
            &json!({"decision_id": "d1", "session_id": "s1"}),
        )
        .await
        .unwrap();
    // As a running server leaves it: appended, not yet compacted (closing
    // compacts).
    assert!(
        !api.join("activity.json").exists(),
        "one small write should stay in the journal"
    );
    let v = ok_json(cavra(dir.path(), &["ops", "stores", "--json"], &[]));
    let by_name = |n: &str| {
        v.as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == n)
            .cloned()
            .unwrap()
    };
    let activity = by_name("activity");
    assert_eq!(activity["exists"], true, "{activity}");
    assert_eq!(activity["records"]["decisions"], 1);
    assert!(activity["size_bytes"].as_u64().unwrap() > 0);
    assert_eq!(by_name("integrations")["exists"], false);
    stores.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_and_restore_json_stores() {
    let dir = tempfile::tempdir().unwrap();
    seed_json(dir.path()).await;
    let m = ok_json(cavra(
        dir.path(),
        &["ops", "backup", "--output", "bk", "--json"],
        &[],
    ));
    assert_eq!(m["schema_version"], "cavra.persistent_api.backup.v1");
    let entries = m["stores"].as_array().unwrap();
    assert_eq!(entries.len(), 6);
    let activity = entries.iter().find(|e| e["name"] == "activity").unwrap();
    assert_eq!(activity["backup_path"], "stores/activity.json");
    assert_eq!(activity["records"]["decisions"], 30);
    assert_eq!(activity["sha256"].as_str().unwrap().len(), 64);
    // Integrations was never written: no copy unless --include-missing.
    let integ = entries
        .iter()
        .find(|e| e["name"] == "integrations")
        .unwrap();
    assert_eq!(integ["exists"], false);
    assert!(integ.get("sha256").is_none());

    let r = ok_json(cavra(
        dir.path(),
        &[
            "ops",
            "restore",
            "bk/manifest.json",
            "--target-dir",
            "restored",
            "--json",
        ],
        &[],
    ));
    let restored: Vec<&str> = r
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["action"] == "restored")
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(restored.len(), 4, "{r}");
    let original = std::fs::read(dir.path().join(".cavra/api/activity.json")).unwrap();
    let copy = std::fs::read(dir.path().join("restored/.cavra/api/activity.json")).unwrap();
    assert_eq!(original, copy);
    // A second restore skips what exists; --overwrite replaces it.
    let r = ok_json(cavra(
        dir.path(),
        &[
            "ops",
            "restore",
            "bk/manifest.json",
            "--target-dir",
            "restored",
            "--json",
        ],
        &[],
    ));
    assert!(
        r.as_array()
            .unwrap()
            .iter()
            .filter(|i| i["exists"] != false)
            .all(|i| i["action"] != "restored")
    );
    std::fs::write(dir.path().join("restored/.cavra/api/activity.json"), b"{}").unwrap();
    ok_json(cavra(
        dir.path(),
        &[
            "ops",
            "restore",
            "bk/manifest.json",
            "--target-dir",
            "restored",
            "--overwrite",
            "--json",
        ],
        &[],
    ));
    assert_eq!(
        std::fs::read(dir.path().join("restored/.cavra/api/activity.json")).unwrap(),
        original
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_a_wrong_checksum_and_writes_nothing() {
    let dir = backed_up().await;
    // Tamper with one copy.
    let copy = dir.path().join("bk/stores/registry.json");
    let mut bytes = std::fs::read(&copy).unwrap();
    bytes.extend_from_slice(b" ");
    std::fs::write(&copy, bytes).unwrap();
    let out = restore_fresh(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("checksum mismatch"), "{err}");
    assert!(err.contains("registry.json"), "{err}");
    assert!(!dir.path().join("fresh").exists(), "nothing restored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_paths_that_escape() {
    let dir = backed_up().await;
    let manifest_path = dir.path().join("bk/manifest.json");
    let mut m: Value = serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    m["stores"][0]["backup_path"] = json!("../../etc/passwd");
    std::fs::write(&manifest_path, serde_json::to_vec(&m).unwrap()).unwrap();
    let out = restore_fresh(dir.path(), &[]);
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8(out.stderr).unwrap().contains("escapes"));
    m["stores"][0]["backup_path"] = json!("stores/evidence_metadata.json");
    m["stores"][3]["source_path"] = json!("../../outside.json");
    std::fs::write(&manifest_path, serde_json::to_vec(&m).unwrap()).unwrap();
    let out = restore_fresh(dir.path(), &[]);
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8(out.stderr).unwrap().contains("escapes"));
    assert!(!dir.path().join("outside.json").exists());
    // Regression: the entries before the escaping one were already
    // restored; every target is now checked before anything is written.
    assert!(!dir.path().join("fresh").exists(), "nothing restored");
}

/// Regression: a JSON store that exists only as its journal (before its
/// first fold, or after a crash) counted as absent, so a restore without
/// `--overwrite` deleted the journal and its records.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_skips_a_store_that_exists_only_as_its_journal() {
    let dir = backed_up().await;
    let target = dir.path().join("fresh/.cavra/api");
    std::fs::create_dir_all(&target).unwrap();
    let journal = target.join("activity.json.wal");
    std::fs::write(&journal, b"{\"journal\":1}\n").unwrap();
    let r = ok_json(restore_fresh(dir.path(), &["--json"]));
    let activity = named(&r, "activity");
    assert_eq!(activity["action"], "skipped_existing", "{r}");
    assert_eq!(std::fs::read(&journal).unwrap(), b"{\"journal\":1}\n");
    assert!(!target.join("activity.json").exists());
    // With --overwrite the restored file replaces the store, and the stale
    // journal is gone (it would be replayed into the restored file).
    ok_json(restore_fresh(dir.path(), &["--overwrite", "--json"]));
    assert_eq!(
        std::fs::read(target.join("activity.json")).unwrap(),
        std::fs::read(dir.path().join("bk/stores/activity.json")).unwrap()
    );
    assert!(!journal.exists());
    let leftovers: Vec<_> = std::fs::read_dir(&target)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains(".restore.") || n.contains(".pre-restore"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// A directory inside the target that is a symbolic link would carry the
/// restore elsewhere: refused before anything is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_to_write_through_a_symbolic_link() {
    let dir = backed_up().await;
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::create_dir_all(dir.path().join("fresh")).unwrap();
    std::os::unix::fs::symlink(&elsewhere, dir.path().join("fresh/.cavra")).unwrap();
    let out = restore_fresh(dir.path(), &[]);
    assert_ne!(out.status.code(), Some(0));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("symbolic link"), "{err}");
    assert!(err.contains(".cavra"), "{err}");
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_json_to_sqlite_to_postgres_and_back_up_each() {
    let dir = tempfile::tempdir().unwrap();
    seed_json(dir.path()).await;
    // JSON -> SQLite
    let r = ok_json(cavra(
        dir.path(),
        &["ops", "migrate", "--to", "sqlite:all.db", "--json"],
        &[],
    ));
    assert_eq!(r["copied"]["decisions"], 30);
    assert_eq!(r["copied"]["sessions"], 4);
    let sqlite_env: Vec<(String, String)> = StoreName::ALL
        .iter()
        .map(|n| (format!("CAVRA_{}_DB", n.env_stem()), "all.db".to_string()))
        .collect();
    let env: Vec<(&str, &str)> = sqlite_env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let st = ok_json(cavra(dir.path(), &["ops", "stores", "--json"], &env));
    let activity = named(&st, "activity");
    assert_eq!(activity["kind"], "sqlite");
    assert_eq!(activity["records"]["decisions"], 30);
    // SQLite backup uses an online copy that is itself a database.
    let m = ok_json(cavra(
        dir.path(),
        &["ops", "backup", "--output", "bk-sqlite", "--json"],
        &env,
    ));
    let a = m["stores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "activity")
        .unwrap();
    assert_eq!(a["backup_path"], "stores/activity.db");
    let head = std::fs::read(dir.path().join("bk-sqlite/stores/activity.db")).unwrap();
    assert!(head.starts_with(b"SQLite format 3\0"));

    // SQLite -> PostgreSQL
    let schema = fresh_schema().await;
    let url = pg_url();
    let r = ok_json(cavra(
        dir.path(),
        &[
            "ops",
            "migrate",
            "--from",
            "sqlite:all.db",
            "--to",
            &url,
            "--json",
        ],
        &[("CAVRA_DATABASE_SCHEMA", &schema)],
    ));
    assert_eq!(r["copied"]["decisions"], 30);
    let pg_env = [
        ("CAVRA_DATABASE_URL", url.as_str()),
        ("CAVRA_DATABASE_SCHEMA", schema.as_str()),
    ];
    let st = ok_json(cavra(dir.path(), &["ops", "stores", "--json"], &pg_env));
    assert!(
        st.as_array()
            .unwrap()
            .iter()
            .all(|s| s["kind"] == "postgres")
    );
    let activity = named(&st, "activity");
    assert_eq!(activity["records"]["decisions"], 30);
    assert_eq!(activity["records"]["sessions"], 4);
    // PostgreSQL backup: JSON documents restore loads back (here into
    // JSON files, with no database configured).
    ok_json(cavra(
        dir.path(),
        &["ops", "backup", "--output", "bk-pg", "--json"],
        &pg_env,
    ));
    let r = ok_json(cavra(
        dir.path(),
        &[
            "ops",
            "restore",
            "bk-pg/manifest.json",
            "--target-dir",
            "from-pg",
            "--json",
        ],
        &[],
    ));
    assert!(
        r.as_array()
            .unwrap()
            .iter()
            .all(|i| i["action"] == "restored"),
        "{r}"
    );
    let doc: Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("from-pg/.cavra/api/activity.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(doc["decisions"].as_array().unwrap().len(), 30);
    // … and into the database with --overwrite.
    let r = ok_json(cavra(
        dir.path(),
        &["ops", "restore", "bk-pg/manifest.json", "--json"],
        &pg_env,
    ));
    assert!(
        r.as_array()
            .unwrap()
            .iter()
            .filter(|i| i["name"] == "activity")
            .all(|i| i["action"] == "skipped_existing"),
        "{r}"
    );
    let r = ok_json(cavra(
        dir.path(),
        &[
            "ops",
            "restore",
            "bk-pg/manifest.json",
            "--overwrite",
            "--json",
        ],
        &pg_env,
    ));
    assert!(
        r.as_array()
            .unwrap()
            .iter()
            .all(|i| i["action"] == "restored"),
        "{r}"
    );
    let st = ok_json(cavra(dir.path(), &["ops", "stores", "--json"], &pg_env));
    let activity = named(&st, "activity");
    assert_eq!(activity["records"]["decisions"], 30);

    // Migrating onto itself is refused.
    let out = cavra(
        dir.path(),
        &[
            "ops",
            "migrate",
            "--from",
            "sqlite:all.db",
            "--to",
            "sqlite:all.db",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let out = cavra(dir.path(), &["ops", "migrate", "--to", "mongodb://x"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("not a store spec")
    );
}

#[test]
fn retention_plan_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let v = ok_json(cavra(dir.path(), &["ops", "retention-plan"], &[]));
    assert_eq!(v["retention_days"], 2555);
    assert_eq!(v["classification"], "regulated-sdlc");
    assert_eq!(v["legal_hold"], false);
    assert_eq!(v["delete_protection"], true);
    assert_eq!(v["stores"].as_array().unwrap().len(), 6);
    let v = ok_json(cavra(
        dir.path(),
        &["ops", "retention-plan", "--retention-days", "30"],
        &[],
    ));
    assert_eq!(v["delete_protection"], false);
    let v = ok_json(cavra(
        dir.path(),
        &[
            "ops",
            "retention-plan",
            "--retention-days",
            "30",
            "--legal-hold",
        ],
        &[],
    ));
    assert_eq!(v["delete_protection"], true);
    assert_eq!(v["disposition"], "retain");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_store_is_named_by_ops() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".cavra/api")).unwrap();
    std::fs::write(
        dir.path().join(".cavra/api/activity.json"),
        b"{\"sessions\": [",
    )
    .unwrap();
    let out = cavra(dir.path(), &["ops", "stores"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains(".cavra/api/activity.json"), "{err}");
    let out = cavra(dir.path(), &["ops", "backup", "--output", "bk"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        std::fs::read(dir.path().join(".cavra/api/activity.json")).unwrap(),
        b"{\"sessions\": ["
    );
}

/// Hook processes spool their decisions; `ops ingest` moves them into the
/// activity store (default JSON and SQLite), rebuilding the session.
#[test]
fn hook_decisions_reach_the_activity_store_through_ingest() {
    for sqlite in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        let db = root.join("activity.db");
        let db_s = db.display().to_string();
        let env: Vec<(&str, &str)> = if sqlite {
            vec![("CAVRA_ACTIVITY_DB", db_s.as_str())]
        } else {
            vec![]
        };
        for cmd in ["rm -rf /", "ls", "npm publish"] {
            let input = json!({"session_id": "sess-ingest", "cwd": root, "hook_event_name": "PreToolUse",
                               "tool_name": "Bash", "tool_input": {"command": cmd}});
            let mut child = Command::new(env!("CARGO_BIN_EXE_cavra"))
                .args(["hook", "claude-code"])
                .current_dir(&root)
                .env_remove("CAVRA_HOOK_SPOOL")
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.to_string().as_bytes())
                .unwrap();
            assert!(child.wait_with_output().unwrap().status.success());
        }
        let spool = root.join(".cavra/api/hook-spool.jsonl");
        assert_eq!(std::fs::read_to_string(&spool).unwrap().lines().count(), 3);
        let v = ok_json(cavra(&root, &["ops", "ingest", "--json"], &env));
        assert_eq!(v["ingested"], 3, "{v}");
        assert!(!spool.exists(), "the spool is consumed");
        // Ingesting again finds nothing.
        let v = ok_json(cavra(&root, &["ops", "ingest", "--json"], &env));
        assert_eq!(v["ingested"], 0);
        let loc = if sqlite {
            Location::Sqlite(db.clone())
        } else {
            Location::Json(root.join(".cavra/api/activity.json"))
        };
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let mut locs = std::collections::BTreeMap::new();
            for n in StoreName::ALL {
                locs.insert(
                    n,
                    if n == StoreName::Activity {
                        loc.clone()
                    } else {
                        Location::Json(root.join(".cavra/api").join(n.default_file()))
                    },
                );
            }
            let stores = Stores::open(plan_at(&locs, "test")).await.unwrap();
            let s = stores
                .get(Kind::Session, "sess-ingest")
                .await
                .unwrap()
                .expect("session rebuilt from the hook decisions");
            assert_eq!(s["agent_id"], "claude-code", "{s}");
            assert_eq!(stores.count(Kind::Decision).await.unwrap(), 3);
            stores.close().await.unwrap();
        });
    }
}

/// Regression: a backup that failed halfway (a corrupt store) had already
/// replaced some files of the previous backup in the same directory, whose
/// manifest then no longer matched them: the good backup was lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_backup_leaves_the_previous_one_intact() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok_json(cavra(
        d,
        &[
            "ops",
            "backup",
            "--include-missing",
            "--output",
            "bk",
            "--json",
        ],
        &[],
    ));
    let snapshot = |root: &Path| -> BTreeMap<String, Vec<u8>> {
        let mut out = BTreeMap::new();
        for e in std::fs::read_dir(root.join("stores")).unwrap().flatten() {
            out.insert(
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            );
        }
        out.insert(
            "manifest".into(),
            std::fs::read(root.join("manifest.json")).unwrap(),
        );
        out
    };
    let before = snapshot(&d.join("bk"));
    // The activity store gains a session; the inventory store is corrupt.
    let mut doc: Value =
        serde_json::from_slice(&std::fs::read(d.join("bk/stores/activity.json")).unwrap()).unwrap();
    doc["sessions"] = json!([{"session_id": "s-new", "schema_version": "cavra.session.v1"}]);
    std::fs::create_dir_all(d.join(".cavra/api")).unwrap();
    std::fs::write(d.join(".cavra/api/activity.json"), doc.to_string()).unwrap();
    std::fs::write(d.join(".cavra/api/inventory.json"), b"{").unwrap();
    let out = cavra(
        d,
        &["ops", "backup", "--include-missing", "--output", "bk"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(
        snapshot(&d.join("bk")),
        before,
        "the previous backup is untouched"
    );
    let left: Vec<_> = std::fs::read_dir(d.join("bk"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".partial"))
        .collect();
    assert!(left.is_empty());
    ok_json(cavra(
        d,
        &[
            "ops",
            "restore",
            "bk/manifest.json",
            "--target-dir",
            "rt",
            "--json",
        ],
        &[],
    ));
}
