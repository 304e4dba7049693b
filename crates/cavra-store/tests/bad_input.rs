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

async fn corrupt_case(content: &[u8], expect: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("activity.json");
    std::fs::write(&file, content).unwrap();
    let stores = Stores::open(plan_at(&json_plans(dir.path()), "test"))
        .await
        .unwrap();
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
    let stores = Stores::open(plan_at(&json_plans(dir.path()), "test"))
        .await
        .unwrap();
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
    let stores = Stores::open(plan_at(&json_plans(dir.path()), "test"))
        .await
        .unwrap();
    stores
        .put(Kind::Decision, &json!({"decision_id": "d1"}))
        .await
        .unwrap();
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
    stores
        .put(
            Kind::Decision,
            &json!({"decision_id": "d1", "agent_id": "a"}),
        )
        .await
        .unwrap();
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

#[tokio::test]
async fn full_disk_fails_the_write_and_keeps_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("activity.json");
    let stores = Stores::open(plan_at(&json_plans(dir.path()), "test"))
        .await
        .unwrap();
    stores
        .put(Kind::Decision, &json!({"decision_id": "before"}))
        .await
        .unwrap();
    stores.flush().await.unwrap();
    let before = std::fs::read(&file).unwrap();
    // The journal now points at a device that is always full (ENOSPC).
    let wal = cavra_store::json_journal(&file);
    std::fs::remove_file(&wal).unwrap();
    std::os::unix::fs::symlink("/dev/full", &wal).unwrap();
    let err = stores
        .put(Kind::Decision, &json!({"decision_id": "lost"}))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("activity.json.wal"), "{err}");
    assert!(err.to_lowercase().contains("space"), "{err}");
    // The failed write is not visible, the file is untouched.
    std::fs::remove_file(&wal).unwrap();
    assert!(stores.get(Kind::Decision, "lost").await.unwrap().is_none());
    assert!(
        stores
            .get(Kind::Decision, "before")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(std::fs::read(&file).unwrap(), before);
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
    let stores = Stores::open(plan_at(&json_plans(&dir), "test"))
        .await
        .unwrap();
    // Reading an empty read-only store works.
    assert_eq!(stores.count(Kind::Decision).await.unwrap(), 0);
    let err = stores
        .put(Kind::Decision, &json!({"decision_id": "d"}))
        .await
        .unwrap_err()
        .to_string();
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
