//! Several instances sharing one PostgreSQL database, as several API
//! servers do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use cavra_store::{Kind, Stores, plan_at};
use common::Backend;
use serde_json::json;

/// Regression: each instance read the session at READ COMMITTED, added its
/// decision to the count it read and upserted the result, so concurrent
/// decisions of one session from two instances lost counts (5 + 1 + 1 = 6).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_never_lose_a_session_count() {
    let dir = tempfile::tempdir().unwrap();
    let (locs, _) = common::locations(Backend::Postgres, dir.path()).await;
    let a = Stores::open(plan_at(&locs, "a")).await.unwrap();
    let b = Stores::open(plan_at(&locs, "b")).await.unwrap();
    const WRITERS: usize = 8;
    const EACH: usize = 25;
    let mut tasks = Vec::new();
    for (i, st) in [a.clone(), b.clone()].into_iter().enumerate() {
        for w in 0..WRITERS {
            let st = st.clone();
            tasks.push(tokio::spawn(async move {
                for k in 0..EACH {
                    st.put(
                        Kind::Decision,
                        &json!({"decision_id": format!("d{i}-{w}-{k}"), "session_id": "shared",
                                "decision": "block", "severity": "high"}),
                    )
                    .await
                    .unwrap();
                }
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    let total = 2 * WRITERS * EACH;
    assert_eq!(a.count(Kind::Decision).await.unwrap(), total as i64);
    let s = b.get(Kind::Session, "shared").await.unwrap().unwrap();
    assert_eq!(s["decision_count"], total, "{s}");
    assert_eq!(s["blocked_count"], total, "{s}");
    a.close().await.unwrap();
    b.close().await.unwrap();
}
