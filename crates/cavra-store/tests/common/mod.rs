//! Opens a fresh set of stores on a real backend for one test.
#![allow(dead_code)]

use std::collections::BTreeMap;

use cavra_store::{Location, StoreName, Stores, plan_at};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Json,
    Sqlite,
    Postgres,
}

/// The PostgreSQL server the suite uses. `scripts/test.sh` exports it
/// (starting a private server when none runs on 127.0.0.1:5432).
pub fn pg_url() -> String {
    std::env::var("CAVRA_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

pub struct TestStores {
    pub stores: Stores,
    pub dir: tempfile::TempDir,
    pub locations: BTreeMap<StoreName, Location>,
    pub schema: Option<String>,
}

pub async fn fresh_schema() -> String {
    let schema = format!("cavra_t_{}", cavra_policy::random_hex(12));
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&pg_url())
        .await
        .unwrap_or_else(|e| {
            panic!(
                "PostgreSQL at {} is not reachable ({e}); run the suite with scripts/test.sh, \
                 which starts one, or set CAVRA_TEST_DATABASE_URL",
                pg_url()
            )
        });
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    schema
}

pub async fn locations(
    backend: Backend,
    dir: &std::path::Path,
) -> (BTreeMap<StoreName, Location>, Option<String>) {
    let mut out = BTreeMap::new();
    let mut schema = None;
    for name in StoreName::ALL {
        let loc = match backend {
            Backend::Json => Location::Json(dir.join(name.default_file())),
            Backend::Sqlite => Location::Sqlite(dir.join(format!("{}.db", name.as_str()))),
            Backend::Postgres => {
                if schema.is_none() {
                    schema = Some(fresh_schema().await);
                }
                Location::Postgres {
                    url: pg_url(),
                    schema: schema.clone(),
                }
            }
        };
        out.insert(name, loc);
    }
    (out, schema)
}

pub async fn open(backend: Backend) -> TestStores {
    let dir = tempfile::tempdir().unwrap();
    let (locations, schema) = locations(backend, dir.path()).await;
    let stores = Stores::open(plan_at(&locations, "test")).await.unwrap();
    TestStores {
        stores,
        dir,
        locations,
        schema,
    }
}

impl TestStores {
    /// Opens the same stores again (a restart).
    pub async fn reopen(&self) -> Stores {
        Stores::open(plan_at(&self.locations, "test"))
            .await
            .unwrap()
    }
}
