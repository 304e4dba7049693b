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

/// The definition of the session agent filter index.
async fn session_agent_index(pool: &Pool) -> String {
    index_def(pool, "activity_sessions_agent_id_idx").await
}

/// What identifies the decision agent index's current incarnation: a
/// dropped and recreated index gets a new one.
async fn decision_index_identity(pool: &Pool) -> i64 {
    match pool {
        Pool::Sqlite(p) => sqlx::query_scalar(
            "SELECT rowid FROM sqlite_master WHERE name = 'activity_decisions_agent_id_idx'",
        )
        .fetch_one(p)
        .await
        .unwrap(),
        Pool::Postgres(p) => sqlx::query_scalar(
            "SELECT CAST(c.oid AS BIGINT) FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relname = 'activity_decisions_agent_id_idx' AND n.nspname = current_schema()",
        )
        .fetch_one(p)
        .await
        .unwrap(),
    }
}

/// Schema 2 kept a session's `updated_at` in its filter indexes, so every
/// decision moved its session's entry in each of them. Migrating to 3
/// rebuilds those indexes and nothing else: the decision indexes and the
/// counts table stay as they are (a million rows need not be reindexed).
async fn version_2_database_loses_session_sort_columns(backend: Backend) {
    let t = common::open(backend).await;
    for i in 0..12 {
        t.stores
            .put(
                Kind::Decision,
                &json!({
                    "decision_id": format!("v{i:02}"),
                    "session_id": format!("s{}", i % 4),
                    "agent_id": format!("agent-{}", i % 2),
                    "timestamp": format!("2026-03-01T00:00:{i:02}Z"),
                }),
            )
            .await
            .unwrap();
    }
    let pool = t.stores.sql_pool(StoreName::Activity).unwrap().clone();
    let v2_index = match pool {
        Pool::Sqlite(_) => {
            "CREATE INDEX activity_sessions_agent_id_idx ON activity_sessions \
             (\"agent_id\", \"updated_at\" DESC, \"session_id\" ASC)"
        }
        Pool::Postgres(_) => {
            "CREATE INDEX activity_sessions_agent_id_idx ON activity_sessions \
             (\"agent_id\", \"updated_at\" DESC NULLS LAST, \"session_id\" ASC NULLS FIRST)"
        }
    };
    // A counts row no query matches: a rebuild of the counts would drop it.
    exec_all(
        &pool,
        &[
            "DROP INDEX activity_sessions_agent_id_idx",
            v2_index,
            "INSERT INTO activity_decisions_counts \
             (facet, agent_id, repository, policy_pack, action_type, decision, severity, n) \
             VALUES ('marker', 'zz', 'zz', 'zz', 'zz', 'zz', 'zz', 7)",
            "UPDATE cavra_migrations SET version = 2",
        ],
    )
    .await;
    assert!(session_agent_index(&pool).await.contains("updated_at"));
    let decision_index = decision_index_identity(&pool).await;
    t.stores.close().await.unwrap();

    let s = t.reopen().await;
    let pool = s.sql_pool(StoreName::Activity).unwrap();
    assert!(
        !session_agent_index(pool).await.contains("updated_at"),
        "the session filter index lost its sort columns"
    );
    assert_eq!(
        decision_index_identity(pool).await,
        decision_index,
        "the decision filter index was not rebuilt"
    );
    assert_eq!(total(&s, &[("agent_id", "zz")]).await, 7, "counts kept");
    // Sessions still list newest first when filtered by agent.
    let q = Query::from_params(Kind::Session, [("agent_id", "agent-1")]).unwrap();
    let ids: Vec<String> = s
        .list(q)
        .await
        .unwrap()
        .items
        .iter()
        .map(|r| r["session_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["s3", "s1"]);
    s.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_version_2_database_loses_session_sort_columns() {
    version_2_database_loses_session_sort_columns(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_version_2_database_loses_session_sort_columns() {
    version_2_database_loses_session_sort_columns(Backend::Postgres).await;
}
