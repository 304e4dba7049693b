//! Broken stores and bad configuration: a clear error naming the file or
//! store, the user's data untouched, no crash.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::type_complexity
)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use cavra_store::{Kind, Location, Query, StoreError, StoreName, Stores, plan_at, plan_from_env};
use serde_json::json;

fn json_plans(dir: &Path) -> BTreeMap<StoreName, Location> {
    StoreName::ALL
        .into_iter()
        .map(|n| (n, Location::Json(dir.join(n.default_file()))))
        .collect()
}

async fn json_stores(dir: &Path) -> Stores {
    Stores::open(plan_at(&json_plans(dir), "test"))
        .await
        .unwrap()
}

/// Puts one decision, which must fail: the error's text.
async fn put_err(stores: &Stores, decision: serde_json::Value) -> String {
    stores
        .put(Kind::Decision, &decision)
        .await
        .unwrap_err()
        .to_string()
}

/// Puts one decision, which must succeed.
async fn put(stores: &Stores, decision: serde_json::Value) {
    stores.put(Kind::Decision, &decision).await.unwrap();
}

async fn corrupt_case(content: &[u8], expect: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("activity.json");
    std::fs::write(&file, content).unwrap();
    let stores = json_stores(dir.path()).await;
    let err = stores
        .put(Kind::Decision, &json!({"decision_id": "d1"}))
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{msg}");
    assert!(msg.contains("activity.json"), "names the file: {msg}");
    assert!(msg.contains(expect), "{msg}");
    let err = stores.list(Query::new(Kind::Session)).await.unwrap_err();
    assert!(err.to_string().contains("activity.json"));
    // The user's bytes are exactly as they were, and nothing was journaled.
    assert_eq!(std::fs::read(&file).unwrap(), content);
    let wal = cavra_store::json_journal(&file);
    assert!(!wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0);
    // Other stores keep working.
    stores
        .put(Kind::Agent, &json!({"agent_id": "codex"}))
        .await
        .unwrap();
}

#[tokio::test]
async fn corrupt_json_store_is_reported_and_left_alone() {
    corrupt_case(b"{not json", "corrupt").await;
}

#[tokio::test]
async fn truncated_json_store_is_reported_and_left_alone() {
    corrupt_case(
        br#"{"sessions": [{"session_id": "a"}], "decisions": [{"deci"#,
        "EOF",
    )
    .await;
}

#[tokio::test]
async fn empty_json_store_is_reported() {
    corrupt_case(b"", "empty").await;
}

#[tokio::test]
async fn wrong_shape_json_store_is_reported() {
    corrupt_case(br#"{"decisions": {"a": 1}}"#, "not a list").await;
    corrupt_case(
        br#"{"decisions": [{"session_id": "x"}]}"#,
        "has no decision_id",
    )
    .await;
    corrupt_case(b"[1, 2]", "not a JSON object").await;
}

#[tokio::test]
async fn corrupt_journal_entry_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let wal = cavra_store::json_journal(&dir.path().join("activity.json"));
    std::fs::write(&wal, b"{\"w\": 5}\n").unwrap();
    let stores = json_stores(dir.path()).await;
    let err = stores
        .get(Kind::Decision, "x")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("activity.json.wal"), "{err}");
    assert_eq!(std::fs::read(&wal).unwrap(), b"{\"w\": 5}\n");
}

#[tokio::test]
async fn unknown_top_level_keys_survive_a_rewrite() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("activity.json");
    std::fs::write(
        &file,
        br#"{"sessions": [], "decisions": [], "notes": {"keep": true}}"#,
    )
    .unwrap();
    let stores = json_stores(dir.path()).await;
    put(&stores, json!({"decision_id": "d1"})).await;
    stores.close().await.unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(doc["notes"]["keep"], true);
    assert_eq!(doc["decisions"][0]["decision_id"], "d1");
}

#[tokio::test]
async fn sqlite_file_that_is_not_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("activity.db");
    let junk = b"this is my shopping list, not a database\n".repeat(200);
    std::fs::write(&db, &junk).unwrap();
    let mut plans = json_plans(dir.path());
    plans.insert(StoreName::Activity, Location::Sqlite(db.clone()));
    let err = match Stores::open(plan_at(&plans, "test")).await {
        Err(e) => e.to_string(),
        Ok(_) => panic!("opened a non-database"),
    };
    assert!(err.contains("activity.db"), "{err}");
    assert!(err.contains("not a database"), "{err}");
    assert_eq!(std::fs::read(&db).unwrap(), junk);
}

/// Review round 19: a new SQLite database (and so its `-wal` and `-shm`)
/// was created world-readable; decisions hold command lines.
#[tokio::test]
async fn a_new_sqlite_database_is_private_to_its_user() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("activity.db");
    let mut plans = json_plans(dir.path());
    plans.insert(StoreName::Activity, Location::Sqlite(db.clone()));
    let stores = Stores::open(plan_at(&plans, "test")).await.unwrap();
    put(&stores, json!({"decision_id": "d1", "agent_id": "a"})).await;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&db), 0o600);
    let wal = dir.path().join("activity.db-wal");
    if wal.exists() {
        assert_eq!(mode(&wal), 0o600);
    }
    stores.close().await.unwrap();
}

/// A row edited by hand into something that is not a JSON payload (text,
/// then a blob): a list page names the database instead of failing
/// blindly.
#[tokio::test]
async fn sqlite_row_with_a_damaged_payload_is_reported_on_a_page() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("activity.db");
    let mut plans = json_plans(dir.path());
    plans.insert(StoreName::Activity, Location::Sqlite(db.clone()));
    let stores = Stores::open(plan_at(&plans, "test")).await.unwrap();
    put(&stores, json!({"decision_id": "d1", "agent_id": "a"})).await;
    stores.close().await.unwrap();
    for damage in ["'not json'", "x'00ff'"] {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute(
            &format!("UPDATE activity_decisions SET payload = {damage}"),
            [],
        )
        .unwrap();
        drop(conn);
        let stores = Stores::open(plan_at(&plans, "test")).await.unwrap();
        let q = Query::from_params(Kind::Decision, vec![("agent_id", "a")]).unwrap();
        let err = stores.list_raw(q).await.unwrap_err().to_string();
        assert!(err.contains("activity.db"), "{damage}: {err}");
        stores.close().await.unwrap();
    }
}

#[tokio::test]
async fn postgres_url_that_cannot_connect() {
    let plans = plan_from_env(|k| {
        (k == "CAVRA_DATABASE_URL").then(|| "postgres://cavra:s3cret@127.0.0.1:1/cavra".to_string())
    })
    .unwrap();
    let err = match Stores::open(plans).await {
        Err(e) => e.to_string(),
        Ok(_) => panic!("connected to port 1"),
    };
    assert!(err.contains("127.0.0.1:1"), "{err}");
    assert!(err.contains("cannot connect"), "{err}");
    assert!(
        !err.contains("s3cret"),
        "the password is not printed: {err}"
    );
    let err = plan_from_env(|k| (k == "CAVRA_DATABASE_URL").then(|| "mysql://x".to_string()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("CAVRA_DATABASE_URL"), "{err}");
}

/// A full disk: a small tmpfs filled to its last block, where this machine
/// lets the test mount one (root with CAP_SYS_ADMIN). Elsewhere the journal
/// is made a symbolic link to /dev/full, which the store refuses to write
/// through: the write fails all the same, naming the journal.
#[tokio::test]
async fn full_disk_fails_the_write_and_keeps_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"])
        .arg(dir.path())
        .stderr(std::process::Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    let file = dir.path().join("activity.json");
    let stores = json_stores(dir.path()).await;
    put(&stores, json!({"decision_id": "before"})).await;
    stores.flush().await.unwrap();
    let before = std::fs::read(&file).unwrap();
    let wal = cavra_store::json_journal(&file);
    let filler = dir.path().join("filler");
    if mounted {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 4096];
        while f.write_all(&block).is_ok() {}
    } else {
        std::fs::remove_file(&wal).unwrap();
        std::os::unix::fs::symlink("/dev/full", &wal).unwrap();
    }
    let err = put_err(&stores, json!({"decision_id": "lost"})).await;
    assert!(err.contains("activity.json.wal"), "{err}");
    if mounted {
        assert!(err.to_lowercase().contains("space"), "{err}");
        std::fs::remove_file(&filler).unwrap();
    } else {
        assert!(err.contains("symbolic link"), "{err}");
        std::fs::remove_file(&wal).unwrap();
    }
    // The failed write is not visible, the file is untouched.
    assert!(stores.get(Kind::Decision, "lost").await.unwrap().is_none());
    assert!(
        stores
            .get(Kind::Decision, "before")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(std::fs::read(&file).unwrap(), before);
    // With room again, writes work.
    put(&stores, json!({"decision_id": "after"})).await;
    stores.close().await.unwrap();
    if mounted {
        let _ = std::process::Command::new("umount")
            .arg(dir.path())
            .status();
    }
}

/// Regression: the journal was opened through a symbolic link, so a
/// repository shipping `.cavra/api/activity.json.wal -> ~/token` had the
/// writer cut the token file (its torn-tail repair) and append to it.
#[tokio::test]
async fn a_symlinked_journal_is_refused_and_its_target_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("token");
    std::fs::write(&target, b"secret-without-newline").unwrap();
    let file = dir.path().join("activity.json");
    std::os::unix::fs::symlink(&target, cavra_store::json_journal(&file)).unwrap();
    let stores = json_stores(dir.path()).await;
    let err = put_err(&stores, json!({"decision_id": "d"})).await;
    assert!(
        err.contains("activity.json.wal") && err.contains("symbolic link"),
        "{err}"
    );
    assert_eq!(std::fs::read(&target).unwrap(), b"secret-without-newline");
}

/// Regression: the fold's temporary file was created through whatever sat
/// at `activity.json.tmp.<pid>` (a planted link truncated its target), and
/// the folded store lost the permissions its owner gave it.
#[tokio::test]
async fn the_fold_never_writes_through_a_link_and_keeps_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("activity.json");
    let stores = json_stores(dir.path()).await;
    put(&stores, json!({"decision_id": "a"})).await;
    stores.flush().await.unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&file), 0o600, "a new store is private to its user");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
    let target = dir.path().join("victim");
    std::fs::write(&target, b"keep me").unwrap();
    let mut tmp = file.as_os_str().to_owned();
    tmp.push(format!(".tmp.{}", std::process::id()));
    std::os::unix::fs::symlink(&target, &tmp).unwrap();
    put(&stores, json!({"decision_id": "b"})).await;
    stores.flush().await.unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), b"keep me");
    assert_eq!(mode(&file), 0o640, "the fold keeps the store's permissions");
    assert!(stores.get(Kind::Decision, "b").await.unwrap().is_some());
}

/// Regression: when the journal append succeeded but the fold after it
/// failed, every put of the group was reported as failed although it was
/// durable and readable; a client retrying a put without an id stored it
/// twice.
#[tokio::test]
async fn a_failed_fold_does_not_fail_durable_puts() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("activity.json");
    let stores = json_stores(dir.path()).await;
    // The fold's temporary path is taken by a directory: every fold fails.
    let mut tmp = file.as_os_str().to_owned();
    tmp.push(format!(".tmp.{}", std::process::id()));
    std::fs::create_dir(&tmp).unwrap();
    let big = "x".repeat(2_000);
    // Enough to pass the journal size at which a put also folds.
    for i in 0..200 {
        put(
            &stores,
            json!({"decision_id": format!("d{i}"), "target": big}),
        )
        .await;
    }
    assert!(
        std::fs::metadata(cavra_store::json_journal(&file))
            .unwrap()
            .len()
            > 256 * 1024,
        "the puts went past the fold threshold"
    );
    let err = stores.flush().await.unwrap_err().to_string();
    assert!(err.contains(".tmp."), "names the temporary file: {err}");
    assert_eq!(stores.count(Kind::Decision).await.unwrap(), 200);
    std::fs::remove_dir(&tmp).unwrap();
    stores.flush().await.unwrap();
    assert_eq!(stores.count(Kind::Decision).await.unwrap(), 200);
}

/// Regression: a session count at i64::MAX (an import, a hand-edited file)
/// overflowed when a decision was added, and the panic killed the store's
/// writer for the rest of the process.
#[tokio::test]
async fn a_count_at_the_limit_saturates() {
    let dir = tempfile::tempdir().unwrap();
    let stores = json_stores(dir.path()).await;
    put(&stores, json!({"decision_id": "d0", "session_id": "s"})).await;
    let mut s = stores
        .get(Kind::Session, "s")
        .await
        .unwrap()
        .unwrap()
        .as_object()
        .unwrap()
        .clone();
    s.insert("decision_count".into(), json!(i64::MAX));
    stores.import(Kind::Session, vec![s]).await.unwrap();
    put(&stores, json!({"decision_id": "d1", "session_id": "s"})).await;
    put(&stores, json!({"decision_id": "d2", "session_id": "other"})).await;
    assert_eq!(stores.count(Kind::Decision).await.unwrap(), 3);
}

/// Regression: a decision's session id was not checked, so it created a
/// session whose key the session rules refuse.
#[tokio::test]
async fn a_decision_session_id_obeys_the_id_rules() {
    let dir = tempfile::tempdir().unwrap();
    let stores = json_stores(dir.path()).await;
    for bad in ["../x", " ", "a\u{7}b"] {
        let err = stores
            .put(
                Kind::Decision,
                &json!({"decision_id": "d", "session_id": bad}),
            )
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("session_id"), "{bad:?}: {err}");
    }
    assert_eq!(stores.count(Kind::Session).await.unwrap(), 0);
}

/// A directory writes cannot go to. As root, permission bits do not stop
/// writes, so a read-only tmpfs is mounted when possible; otherwise a path
/// under /proc (where nothing can be created) stands in.
fn read_only_dir() -> (Option<tempfile::TempDir>, std::path::PathBuf, bool) {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o555)).unwrap();
    if std::fs::write(dir.path().join("probe"), b"x").is_err() {
        let p = dir.path().to_path_buf();
        return (Some(dir), p, false);
    }
    let _ = std::fs::remove_file(dir.path().join("probe"));
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "ro,size=1m", "tmpfs"])
        .arg(dir.path())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if mounted {
        let p = dir.path().to_path_buf();
        return (Some(dir), p, true);
    }
    (
        None,
        std::path::PathBuf::from("/proc/cavra-store-test"),
        false,
    )
}

#[tokio::test]
async fn read_only_directory_gives_a_clear_error() {
    let (guard, dir, mounted) = read_only_dir();
    let stores = json_stores(&dir).await;
    // Reading an empty read-only store works.
    assert_eq!(stores.count(Kind::Decision).await.unwrap(), 0);
    let err = put_err(&stores, json!({"decision_id": "d"})).await;
    assert!(
        err.contains(&dir.display().to_string()),
        "names the path: {err}"
    );
    if mounted {
        let _ = std::process::Command::new("umount").arg(&dir).status();
    }
    drop(guard);
}

#[tokio::test]
async fn bad_env_values_are_named() {
    let plans = plan_from_env(|k| match k {
        "CAVRA_ACTIVITY_DB" => Some("sqlite:///tmp/x.db".into()),
        "CAVRA_INVENTORY_STORE" => Some("/tmp/inv.json".into()),
        _ => None,
    })
    .unwrap();
    let by: BTreeMap<_, _> = plans
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                (p.location.mode(), p.configured_by.clone()),
            )
        })
        .collect();
    assert_eq!(by["activity"], ("sqlite", "CAVRA_ACTIVITY_DB".to_string()));
    assert_eq!(
        by["inventory"],
        ("json", "CAVRA_INVENTORY_STORE".to_string())
    );
    assert_eq!(by["registry"], ("json", "default".to_string()));
    let db_wins = plan_from_env(|k| match k {
        "CAVRA_APPROVAL_DB" => Some("a.db".into()),
        "CAVRA_APPROVAL_STORE" => Some("a.json".into()),
        _ => None,
    })
    .unwrap();
    let approvals = db_wins
        .iter()
        .find(|p| p.name == StoreName::Approvals)
        .unwrap();
    assert_eq!(approvals.location, Location::Sqlite("a.db".into()));
}

/// Regression: a long value in a filtered (indexed) field was stored by
/// JSON and SQLite but refused by PostgreSQL with an index-size error that
/// named no field. Every backend now refuses it alike, naming the field.
#[tokio::test]
async fn a_long_filtered_field_is_refused_alike_on_every_backend() {
    for backend in [
        common::Backend::Json,
        common::Backend::Sqlite,
        common::Backend::Postgres,
    ] {
        let t = common::open(backend).await;
        let err = t
            .stores
            .put(
                Kind::Decision,
                &json!({"decision_id": "d", "agent_id": "a".repeat(3_200)}),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Invalid { .. }),
            "{backend:?}: {err}"
        );
        assert!(
            err.to_string().starts_with("agent_id"),
            "{backend:?}: {err}"
        );
        // Long text in a field no filter indexes is fine.
        t.stores
            .put(
                Kind::Decision,
                &json!({"decision_id": "d", "target": "x".repeat(3_200)}),
            )
            .await
            .unwrap();
        t.stores.close().await.unwrap();
    }
}
