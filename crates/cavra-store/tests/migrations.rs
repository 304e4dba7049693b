//! Schema migrations on the SQL backends: a database made by schema
//! version 1 (no decision counts table) is brought to the current version
//! on open, with its counts rebuilt from the decisions already stored.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use cavra_store::sql::Pool;
use cavra_store::{Kind, Query, StoreName, Stores};
use common::Backend;
use serde_json::json;

async fn total(s: &Stores, params: &[(&str, &str)]) -> i64 {
    let q = Query::from_params(Kind::Decision, params.iter().copied()).unwrap();
    s.list(q).await.unwrap().total
}

/// Runs `statements` in order on one connection (another connection of
/// the pool may still hold the schema from before a `DROP`).
async fn exec_all(pool: &Pool, statements: &[&str]) {
    macro_rules! run_on {
        ($p:expr) => {{
            let mut c = $p.acquire().await.unwrap();
            for sql in statements {
                sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
                    .execute(&mut *c)
                    .await
                    .unwrap();
            }
        }};
    }
    match pool {
        Pool::Sqlite(p) => run_on!(p),
        Pool::Postgres(p) => run_on!(p),
    }
}

/// The definition of the index `name` in the current schema.
async fn index_def(pool: &Pool, name: &str) -> String {
    match pool {
        Pool::Sqlite(p) => sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE name = $1")
            .bind(name)
            .fetch_one(p)
            .await
            .unwrap(),
        Pool::Postgres(p) => sqlx::query_scalar(
            "SELECT indexdef FROM pg_indexes WHERE indexname = $1 \
             AND schemaname = current_schema()",
        )
        .bind(name)
        .fetch_one(p)
        .await
        .unwrap(),
    }
}

/// The definition of the decision agent filter index.
async fn agent_index(pool: &Pool) -> String {
    index_def(pool, "activity_decisions_agent_id_idx").await
}

/// Turns the activity store back into what schema version 1 made.
async fn downgrade_to_v1(pool: &Pool) {
    let drops: &[&str] = match pool {
        Pool::Sqlite(_) => &[
            "DROP TRIGGER activity_decisions_counts_insert",
            "DROP TRIGGER activity_decisions_counts_delete",
            "DROP TRIGGER activity_decisions_counts_update",
            "DROP TABLE activity_decisions_counts",
        ],
        Pool::Postgres(_) => &[
            "DROP TRIGGER activity_decisions_counts_keep ON activity_decisions",
            "DROP FUNCTION activity_decisions_counts_keep()",
            "DROP TABLE activity_decisions_counts",
        ],
    };
    let mut all: Vec<&str> = drops.to_vec();
    // Version 1's filter indexes ended with the sort columns.
    all.extend([
        "DROP INDEX activity_decisions_agent_id_idx",
        "CREATE INDEX activity_decisions_agent_id_idx ON activity_decisions \
         (\"agent_id\", \"timestamp\" DESC, \"decision_id\")",
        "UPDATE cavra_migrations SET version = 1",
    ]);
    exec_all(pool, &all).await;
}

async fn version_1_database_gets_exact_counts(backend: Backend) {
    let t = common::open(backend).await;
    for i in 0..30 {
        t.stores
            .put(
                Kind::Decision,
                &json!({
                    "decision_id": format!("m{i:02}"),
                    "agent_id": format!("agent-{}", i % 3),
                    "decision": if i % 2 == 0 { "block" } else { "allow" },
                }),
            )
            .await
            .unwrap();
    }
    downgrade_to_v1(t.stores.sql_pool(StoreName::Activity).unwrap()).await;
    t.stores.close().await.unwrap();

    let s = t.reopen().await;
    assert!(
        agent_index(s.sql_pool(StoreName::Activity).unwrap())
            .await
            .contains("severity"),
        "the filter index carries the enumerated facets after migration"
    );
    assert_eq!(total(&s, &[("decision", "block")]).await, 15);
    assert_eq!(total(&s, &[("agent_id", "agent-1")]).await, 10);
    assert_eq!(
        total(&s, &[("agent_id", "agent-0"), ("decision", "block")]).await,
        5
    );
    // And they are kept from then on.
    s.put(
        Kind::Decision,
        &json!({"decision_id": "m01", "agent_id": "agent-1", "decision": "block"}),
    )
    .await
    .unwrap();
    assert_eq!(total(&s, &[("decision", "block")]).await, 16);
    assert_eq!(total(&s, &[("decision", "allow")]).await, 14);
    assert_eq!(total(&s, &[]).await, 30);
    s.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_version_1_database_gets_exact_counts() {
    version_1_database_gets_exact_counts(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_version_1_database_gets_exact_counts() {
    version_1_database_gets_exact_counts(Backend::Postgres).await;
}

/// A store that was closed refuses writes with a clear error instead of
/// losing them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_sqlite_store_refuses_writes() {
    let t = common::open(Backend::Sqlite).await;
    t.stores
        .put(Kind::Decision, &json!({"decision_id": "before"}))
        .await
        .unwrap();
    t.stores.close().await.unwrap();
    let err = t
        .stores
        .put(Kind::Decision, &json!({"decision_id": "after"}))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("activity"), "{err}");
    let s = t.reopen().await;
    assert!(s.get(Kind::Decision, "before").await.unwrap().is_some());
    assert!(s.get(Kind::Decision, "after").await.unwrap().is_none());
}
