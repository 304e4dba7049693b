//! Durability across real OS processes: two writers appending to one store,
//! and writers killed with SIGKILL at random points. The child processes
//! are this test binary re-run on the `child_writer` entry point.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::type_complexity
)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cavra_store::{Kind, Location, Query, StoreName, Stores, plan_at};
use common::Backend;
use rand::Rng;
use serde_json::json;

const CHILD_ENV: &str = "CAVRA_STORE_TEST_CHILD";

fn backend_name(b: Backend) -> &'static str {
    match b {
        Backend::Json => "json",
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }
}

fn child_locations(
    backend: &str,
    dir: &Path,
    schema: Option<String>,
) -> std::collections::BTreeMap<StoreName, Location> {
    StoreName::ALL
        .into_iter()
        .map(|name| {
            let loc = match backend {
                "json" => Location::Json(dir.join(name.default_file())),
                "sqlite" => Location::Sqlite(dir.join(format!("{}.db", name.as_str()))),
                _ => Location::Postgres {
                    url: common::pg_url(),
                    schema: schema.clone(),
                },
            };
            (name, loc)
        })
        .collect()
}

/// The child process: `append` writes COUNT decisions and exits; `stream`
/// writes until killed, printing `ACK <id>` after each acknowledged write.
#[test]
fn child_writer() {
    let Ok(mode) = std::env::var(CHILD_ENV) else {
        return; // not a child: nothing to do
    };
    let backend = std::env::var("CHILD_BACKEND").unwrap();
    let dir = std::path::PathBuf::from(std::env::var("CHILD_DIR").unwrap());
    let schema = std::env::var("CHILD_SCHEMA").ok();
    let prefix = std::env::var("CHILD_PREFIX").unwrap();
    let count: usize = std::env::var("CHILD_COUNT")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(usize::MAX);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let stores = Stores::open(plan_at(&child_locations(&backend, &dir, schema), "test"))
            .await
            .unwrap();
        match mode.as_str() {
            "append" => {
                for i in 0..count {
                    stores
                        .put(
                            Kind::Decision,
                            &json!({"decision_id": format!("{prefix}-{i:05}"), "session_id": "shared", "decision": if i % 3 == 0 { "block" } else { "allow" }}),
                        )
                        .await
                        .unwrap();
                }
            }
            _ => {
                // Four concurrent writers, so writes are also grouped.
                let mut tasks = Vec::new();
                for w in 0..4 {
                    let stores = stores.clone();
                    let prefix = prefix.clone();
                    tasks.push(tokio::spawn(async move {
                        for i in 0.. {
                            let id = format!("{prefix}-w{w}-{i:06}");
                            stores
                                .put(
                                    Kind::Decision,
                                    &json!({"decision_id": id, "session_id": format!("crash-{w}"), "decision": "block", "reason": "x".repeat(200)}),
                                )
                                .await
                                .unwrap();
                            let mut out = std::io::stdout().lock();
                            writeln!(out, "ACK {id}").unwrap();
                            out.flush().unwrap();
                        }
                    }));
                }
                for t in tasks {
                    t.await.unwrap();
                }
            }
        }
    });
}

fn spawn_child(
    mode: &str,
    backend: &str,
    dir: &Path,
    schema: Option<&str>,
    prefix: &str,
    count: Option<usize>,
) -> Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["child_writer", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, mode)
        .env("CHILD_BACKEND", backend)
        .env("CHILD_DIR", dir)
        .env("CHILD_PREFIX", prefix)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(s) = schema {
        cmd.env("CHILD_SCHEMA", s);
    }
    if let Some(c) = count {
        cmd.env("CHILD_COUNT", c.to_string());
    }
    cmd.spawn().unwrap()
}

async fn cross_process(backend: Backend) {
    let t = common::open(backend).await;
    let name = backend_name(backend);
    let children: Vec<Child> = ["p1", "p2"]
        .iter()
        .map(|p| {
            spawn_child(
                "append",
                name,
                t.dir.path(),
                t.schema.as_deref(),
                p,
                Some(5000),
            )
        })
        .collect();
    for mut c in children {
        let status = c.wait().unwrap();
        assert!(status.success(), "child failed: {status}");
    }
    let stores = t.reopen().await;
    let page = stores.list(Query::new(Kind::Decision)).await.unwrap();
    assert_eq!(
        page.total, 10_000,
        "every decision of both processes is stored"
    );
    for p in ["p1", "p2"] {
        let q = Query::new(Kind::Decision);
        let _ = q;
        for i in [0, 1, 2499, 4999] {
            assert!(
                stores
                    .get(Kind::Decision, &format!("{p}-{i:05}"))
                    .await
                    .unwrap()
                    .is_some(),
                "{p}-{i:05} missing"
            );
        }
    }
    let shared = stores.get(Kind::Session, "shared").await.unwrap().unwrap();
    assert_eq!(
        shared["decision_count"], 10_000,
        "session counts merged across processes"
    );
    assert_eq!(shared["blocked_count"], 2 * 1667);
    stores.close().await.unwrap();
    if backend == Backend::Json {
        // After the final flush the store file alone holds everything.
        let doc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(t.dir.path().join("activity.json")).unwrap())
                .unwrap();
        assert_eq!(doc["decisions"].as_array().unwrap().len(), 10_000);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_process_json_two_writers_5000_each() {
    cross_process(Backend::Json).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_process_sqlite_two_writers_5000_each() {
    cross_process(Backend::Sqlite).await;
}

/// Kills a streaming writer with SIGKILL at a random point, `rounds` times
/// over the same store, and checks every acknowledged write survived.
async fn crash_rounds(backend: Backend, rounds: usize) {
    let t = common::open(backend).await;
    t.stores.close().await.unwrap();
    let name = backend_name(backend);
    let mut acked: Vec<String> = Vec::new();
    let mut rng = rand::thread_rng();
    for round in 0..rounds {
        let mut child = spawn_child(
            "stream",
            name,
            t.dir.path(),
            t.schema.as_deref(),
            &format!("r{round:02}"),
            None,
        );
        let stdout = child.stdout.take().unwrap();
        let wanted: usize = rng.gen_range(1..400);
        let extra_delay = Duration::from_micros(rng.gen_range(0..20_000));
        let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = seen.clone();
        let reader = std::thread::spawn(move || {
            let mut lines = Vec::new();
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                if let Some(id) = line.trim().strip_prefix("ACK ") {
                    lines.push(id.to_string());
                    counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                line.clear();
            }
            lines
        });
        // Wait until `wanted` writes were acknowledged, then kill. Counting
        // acknowledgements rather than time keeps the kill inside the write
        // stream on a loaded machine, where a child may take longer than a
        // fixed wait just to connect; the bound only stops a stuck child.
        let start = Instant::now();
        while seen.load(std::sync::atomic::Ordering::Relaxed) < wanted
            && start.elapsed() < Duration::from_secs(20)
        {
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(extra_delay);
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let got = reader.join().unwrap();
        acked.extend(got);

        // The store reopens cleanly and holds every acknowledged write.
        let stores = Stores::open(plan_at(&t.locations, "test")).await.unwrap();
        for id in &acked {
            assert!(
                stores.get(Kind::Decision, id).await.unwrap().is_some(),
                "round {round}: acknowledged {id} lost"
            );
        }
        let total = stores.count(Kind::Decision).await.unwrap();
        assert!(total >= acked.len() as i64);
        if backend == Backend::Json {
            let main = t.dir.path().join("activity.json");
            if main.exists() {
                let bytes = std::fs::read(&main).unwrap();
                serde_json::from_slice::<serde_json::Value>(&bytes)
                    .unwrap_or_else(|e| panic!("round {round}: store file half-written: {e}"));
            }
        }
        stores.close().await.unwrap();
    }
    assert!(
        !acked.is_empty(),
        "the children acknowledged no writes at all"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_json_20_rounds() {
    crash_rounds(Backend::Json, 20).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_sqlite_20_rounds() {
    crash_rounds(Backend::Sqlite, 20).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_postgres_20_rounds() {
    crash_rounds(Backend::Postgres, 20).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_torn_journal_tail_is_ignored_and_cut() {
    let t = common::open(Backend::Json).await;
    t.stores
        .put(Kind::Decision, &json!({"decision_id": "kept"}))
        .await
        .unwrap();
    let wal = cavra_store::json_journal(&t.dir.path().join("activity.json"));
    // A writer died mid-append: half a line, no newline.
    let mut f = std::fs::OpenOptions::new().append(true).open(&wal).unwrap();
    f.write_all(br#"{"w":[["decisions",{"decision_id":"torn""#)
        .unwrap();
    drop(f);
    let stores = t.reopen().await;
    assert!(stores.get(Kind::Decision, "kept").await.unwrap().is_some());
    assert!(stores.get(Kind::Decision, "torn").await.unwrap().is_none());
    stores
        .put(Kind::Decision, &json!({"decision_id": "after"}))
        .await
        .unwrap();
    let again = t.reopen().await;
    assert!(again.get(Kind::Decision, "after").await.unwrap().is_some());
    assert_eq!(again.count(Kind::Decision).await.unwrap(), 2);
}
