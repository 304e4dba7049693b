//! A real server on 127.0.0.1:0 over real stores, for one test.
#![allow(dead_code)]

use std::collections::BTreeMap;

use cavra_api::{AppState, Config, Server};
use cavra_store::{Location, StoreName, Stores, plan_at};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Json,
    Sqlite,
    Postgres,
}

pub fn pg_url() -> String {
    std::env::var("CAVRA_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

async fn fresh_schema() -> String {
    let schema = format!("cavra_t_{}", cavra_policy::random_hex(12));
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&pg_url())
        .await
        .unwrap_or_else(|e| {
            panic!(
                "PostgreSQL at {} is not reachable ({e}); run scripts/test.sh",
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

pub struct TestServer {
    pub base: String,
    pub client: reqwest::Client,
    pub server: Option<Server>,
    pub dir: tempfile::TempDir,
    pub locations: BTreeMap<StoreName, Location>,
}

pub async fn start(backend: Backend) -> TestServer {
    start_with(backend, |_| None).await
}

pub async fn start_with(backend: Backend, env: impl Fn(&str) -> Option<String>) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let schema = if backend == Backend::Postgres {
        Some(fresh_schema().await)
    } else {
        None
    };
    let locations: BTreeMap<StoreName, Location> = StoreName::ALL
        .into_iter()
        .map(|n| {
            let loc = match backend {
                Backend::Json => Location::Json(dir.path().join(n.default_file())),
                Backend::Sqlite => Location::Sqlite(dir.path().join("cavra.db")),
                Backend::Postgres => Location::Postgres {
                    url: pg_url(),
                    schema: schema.clone(),
                },
            };
            (n, loc)
        })
        .collect();
    let stores = Stores::open(plan_at(&locations, "test")).await.unwrap();
    let state = AppState::new(stores, Config::from_lookup(env));
    let server = cavra_api::start("127.0.0.1:0".parse().unwrap(), state)
        .await
        .unwrap();
    TestServer {
        base: format!("http://{}", server.addr),
        client: reqwest::Client::new(),
        server: Some(server),
        dir,
        locations,
    }
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let r = self.client.get(self.url(path)).send().await.unwrap();
        let status = r.status().as_u16();
        let body = r.json().await.unwrap_or(serde_json::Value::Null);
        (status, body)
    }

    pub async fn post(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        let r = self
            .client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body = r.json().await.unwrap_or(serde_json::Value::Null);
        (status, body)
    }

    /// POST a body as written (for input `json!` cannot express).
    pub async fn post_raw(&self, path: &str, body: &str) -> (u16, serde_json::Value) {
        let r = self
            .client
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body = r.json().await.unwrap_or(serde_json::Value::Null);
        (status, body)
    }

    pub async fn stop(&mut self) {
        if let Some(s) = self.server.take() {
            s.stop().await.unwrap();
        }
    }
}
