//! Store benchmark (run by `bench/store.sh`): loads N decisions, then
//! measures acknowledged single inserts (sequential, and from concurrent
//! writers spread over 10,000 sessions or each in a session of its own),
//! batched inserts, and filtered pages of 50. A raw baseline on
//! the same database (or file system) is measured in the same run, and
//! the bytes written per acknowledged decision (SQLite, JSON), which hold
//! still when the machine's speed does not.
//!
//! cargo run --release -p cavra-store --example store_bench -- \
//!     --backend sqlite|postgres|json [--rows 1000000] [--dir DIR] [--url URL]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use cavra_store::sql::Pool;
use cavra_store::{Kind, Location, Query, Record, StoreName, Stores, plan_at};
use serde_json::{Value, json};

/// Query parameters for the k-th query.
type ParamsFor = Box<dyn Fn(usize) -> Vec<(String, String)>>;

const AGENTS: usize = 50;
const SESSIONS: usize = 10_000;
const OUTCOMES: [&str; 6] = [
    "allow",
    "block",
    "require_approval",
    "warn",
    "audit_only",
    "allow_with_attestation",
];
const SEVERITIES: [&str; 4] = ["low", "medium", "high", "critical"];

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn ts(i: usize) -> String {
    // One decision per 10 ms from 2026-01-01.
    let t = time::OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap()
        + time::Duration::milliseconds(i as i64 * 10);
    cavra_store::records::normalize_timestamp(
        "timestamp",
        &t.format(&time::format_description::well_known::Rfc3339)
            .unwrap(),
    )
    .unwrap()
}

fn decision(i: usize, prefix: &str) -> Value {
    json!({
        "decision_id": format!("{prefix}{i:08}"),
        "session_id": format!("sess-{:05}", i % SESSIONS),
        "agent_id": format!("agent-{:02}", i % AGENTS),
        "repository": format!("org/repo-{}", i % 200),
        "action_type": "execute_command",
        "target": format!("terraform plan -var n={i}"),
        "decision": OUTCOMES[i % OUTCOMES.len()],
        "severity": SEVERITIES[(i / 7) % SEVERITIES.len()],
        "rule_id": "commands.default.require_approval",
        "reason": "bench",
        "timestamp": ts(i),
        "evidence_refs": [format!("evidence://sess-{:05}/{prefix}{i:08}", i % SESSIONS)],
    })
}

/// An id prefix unique to this run, so a `--reuse` run inserts new
/// decisions rather than replacing an earlier run's.
fn run(prefix: &str) -> String {
    format!("{prefix}{}-", std::process::id())
}

/// Bytes this process has handed to `write`/`pwrite` so far (`wchar` in
/// `/proc/self/io`): WAL frames, checkpoint copies, journal lines. Unlike a
/// rate it hardly depends on how busy the machine is, so it compares
/// designs across runs; `None` where the file is missing.
fn written_bytes() -> Option<u64> {
    let io = std::fs::read_to_string("/proc/self/io").ok()?;
    io.lines()
        .find_map(|l| l.strip_prefix("wchar:"))
        .and_then(|v| v.trim().parse().ok())
}

/// Bytes written per decision between `before` and now (`None` for
/// PostgreSQL, whose writes happen in the server's processes).
fn per_decision(backend: &str, before: Option<u64>, n: usize) -> Option<f64> {
    if backend == "postgres" || n == 0 {
        return None;
    }
    Some(written_bytes()?.saturating_sub(before?) as f64 / n as f64)
}

fn pct(v: &mut [Duration], p: f64) -> f64 {
    v.sort();
    let idx = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[idx.min(v.len() - 1)].as_secs_f64() * 1e3
}

async fn raw_insert_rate(pool: &Pool, n: usize) -> f64 {
    match pool {
        Pool::Sqlite(p) => {
            sqlx::query(
                "CREATE TABLE IF NOT EXISTS bench_baseline (id TEXT PRIMARY KEY, payload TEXT)",
            )
            .execute(p)
            .await
            .unwrap();
            sqlx::query("DELETE FROM bench_baseline")
                .execute(p)
                .await
                .unwrap();
            let start = Instant::now();
            for i in 0..n {
                sqlx::query("INSERT INTO bench_baseline (id, payload) VALUES ($1, $2)")
                    .bind(format!("b{i}"))
                    .bind(decision(i, "b").to_string())
                    .execute(p)
                    .await
                    .unwrap();
            }
            n as f64 / start.elapsed().as_secs_f64()
        }
        Pool::Postgres(p) => {
            sqlx::query(
                "CREATE TABLE IF NOT EXISTS bench_baseline (id TEXT PRIMARY KEY, payload JSONB)",
            )
            .execute(p)
            .await
            .unwrap();
            sqlx::query("DELETE FROM bench_baseline")
                .execute(p)
                .await
                .unwrap();
            let start = Instant::now();
            for i in 0..n {
                sqlx::query("INSERT INTO bench_baseline (id, payload) VALUES ($1, $2::jsonb)")
                    .bind(format!("b{i}"))
                    .bind(decision(i, "b").to_string())
                    .execute(p)
                    .await
                    .unwrap();
            }
            n as f64 / start.elapsed().as_secs_f64()
        }
    }
}

async fn raw_select_p99(pool: &Pool, n: usize) -> f64 {
    let mut lat = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        match pool {
            Pool::Sqlite(p) => {
                sqlx::query("SELECT 1").execute(p).await.unwrap();
            }
            Pool::Postgres(p) => {
                sqlx::query("SELECT 1").execute(p).await.unwrap();
            }
        }
        lat.push(t.elapsed());
    }
    pct(&mut lat, 0.99)
}

fn raw_fsync_append_rate(dir: &std::path::Path, n: usize) -> f64 {
    let path = dir.join("baseline.log");
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap();
    let line = format!("{}\n", decision(0, "b"));
    let start = Instant::now();
    for _ in 0..n {
        f.write_all(line.as_bytes()).unwrap();
        f.sync_data().unwrap();
    }
    let r = n as f64 / start.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(path);
    r
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let backend = arg("--backend").unwrap_or_else(|| "sqlite".into());
    let rows: usize = arg("--rows")
        .and_then(|r| r.parse().ok())
        .unwrap_or(if backend == "json" { 10_000 } else { 1_000_000 });
    let singles: usize = arg("--singles")
        .and_then(|r| r.parse().ok())
        .unwrap_or(2_000);
    let queries: usize = arg("--queries")
        .and_then(|r| r.parse().ok())
        .unwrap_or(1_000);
    let dir = arg("--dir").map(PathBuf::from).unwrap_or_else(|| {
        std::env::temp_dir().join(format!("cavra-store-bench-{}", std::process::id()))
    });
    std::fs::create_dir_all(&dir).unwrap();
    let mut locations = BTreeMap::new();
    let mut schema = None;
    for name in StoreName::ALL {
        let loc = match backend.as_str() {
            "json" => Location::Json(dir.join(name.default_file())),
            "sqlite" => Location::Sqlite(dir.join("bench.db")),
            "postgres" => {
                let url = arg("--url")
                    .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".into());
                if schema.is_none() {
                    let s = format!("cavra_bench_{}", std::process::id());
                    let pool = sqlx::postgres::PgPoolOptions::new()
                        .max_connections(1)
                        .connect(&url)
                        .await
                        .unwrap();
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "CREATE SCHEMA IF NOT EXISTS {s}"
                    )))
                    .execute(&pool)
                    .await
                    .unwrap();
                    pool.close().await;
                    schema = Some(s);
                }
                Location::Postgres {
                    url,
                    schema: schema.clone(),
                }
            }
            other => panic!("unknown backend {other}"),
        };
        locations.insert(name, loc);
    }
    let stores = Stores::open(plan_at(&locations, "bench")).await.unwrap();
    eprintln!(
        "backend {backend}, {rows} decisions, store at {}",
        locations[&StoreName::Activity].display()
    );

    // 1. Load: batched imports of prepared records (decisions + sessions).
    //    `--reuse` skips it on a database a `--load-only` run filled.
    let reuse = std::env::args().any(|a| a == "--reuse");
    let load_start = Instant::now();
    let batch = 2_000;
    let mut i = if reuse { rows } else { 0 };
    while i < rows {
        let end = (i + batch).min(rows);
        let records: Vec<Record> = (i..end)
            .map(|k| cavra_store::records::normalize(Kind::Decision, &decision(k, "d")).unwrap())
            .collect();
        stores.import(Kind::Decision, records).await.unwrap();
        i = end;
        if i % 100_000 == 0 {
            eprintln!("  loaded {i}");
        }
    }
    let sessions: Vec<Record> = (0..SESSIONS.min(rows))
        .map(|s| {
            cavra_store::records::normalize(
                Kind::Session,
                &json!({"session_id": format!("sess-{s:05}"), "decision_count": rows / SESSIONS}),
            )
            .unwrap()
        })
        .collect();
    if !reuse {
        stores.import(Kind::Session, sessions).await.unwrap();
    }
    let load_secs = load_start.elapsed().as_secs_f64();
    let batched_rate = rows as f64 / load_secs;
    // Steady state after a bulk load: statistics gathered and (PostgreSQL)
    // the visibility map set, as autovacuum would leave them.
    match stores.sql_pool(StoreName::Activity).filter(|_| !reuse) {
        Some(Pool::Postgres(p)) => {
            sqlx::query("VACUUM (ANALYZE) activity_decisions")
                .execute(p)
                .await
                .unwrap();
            sqlx::query("VACUUM (ANALYZE) activity_sessions")
                .execute(p)
                .await
                .unwrap();
        }
        Some(Pool::Sqlite(p)) => {
            sqlx::query("ANALYZE").execute(p).await.unwrap();
        }
        None => {}
    }
    if std::env::args().any(|a| a == "--load-only") {
        stores.close().await.unwrap();
        println!(
            "{}",
            json!({"loaded": rows, "seconds": load_secs, "batched_insert_per_s": batched_rate})
        );
        return;
    }

    // 2. Acknowledged single inserts through the full path (validate,
    //    merge the session, upsert both), one at a time.
    let written = written_bytes();
    let start = Instant::now();
    for k in 0..singles {
        stores
            .put(Kind::Decision, &decision(rows + k, &run("s")))
            .await
            .unwrap();
    }
    let single_rate = singles as f64 / start.elapsed().as_secs_f64();
    let single_bytes = per_decision(&backend, written, singles);

    // 3. The same from concurrent writers (grouped commits). Decision k of
    //    writer w is number k * writers + w: concurrent decisions carry
    //    interleaved timestamps, as decisions made at the same moment do
    //    (each still goes to another of the 10,000 sessions).
    //    Then the same again with each writer in a session of its own, as
    //    an agent's hook calls are.
    let writers: usize = arg("--writers").and_then(|r| r.parse().ok()).unwrap_or(64);
    let mut concurrent = Vec::new();
    let mut concurrent_bytes = Vec::new();
    for own_session in [false, true] {
        let written = written_bytes();
        let start = Instant::now();
        let mut tasks = Vec::new();
        for w in 0..writers {
            let stores = stores.clone();
            tasks.push(tokio::spawn(async move {
                let prefix = run(if own_session { "o" } else { "c" });
                for k in 0..singles / writers {
                    let mut d = decision(rows + singles + k * writers + w, &prefix);
                    if own_session {
                        d["session_id"] = json!(format!("live-{prefix}{w}"));
                    }
                    stores.put(Kind::Decision, &d).await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        concurrent.push((singles / writers * writers) as f64 / start.elapsed().as_secs_f64());
        concurrent_bytes.push(per_decision(&backend, written, singles / writers * writers));
    }
    let concurrent_rate = concurrent[0];
    let own_session_rate = concurrent[1];

    // 4. Filtered pages of 50.
    let mut page_results = BTreeMap::new();
    let filters: Vec<(&str, ParamsFor)> = vec![
        (
            "session",
            Box::new(|k| {
                vec![(
                    "session_id".into(),
                    format!("sess-{:05}", (k * 7919) % SESSIONS),
                )]
            }),
        ),
        (
            "agent",
            Box::new(|k| vec![("agent_id".into(), format!("agent-{:02}", k % AGENTS))]),
        ),
        (
            "decision",
            Box::new(|k| vec![("decision".into(), OUTCOMES[k % 6].to_string())]),
        ),
        (
            "severity",
            Box::new(|k| vec![("severity".into(), SEVERITIES[k % 4].to_string())]),
        ),
        (
            "agent+decision+severity",
            Box::new(|k| {
                vec![
                    ("agent_id".into(), format!("agent-{:02}", k % AGENTS)),
                    ("decision".into(), OUTCOMES[k % 6].to_string()),
                    ("severity".into(), SEVERITIES[k % 4].to_string()),
                ]
            }),
        ),
    ];
    for (label, make) in &filters {
        let mut lat = Vec::with_capacity(queries);
        for k in 0..queries {
            let params = make(k);
            let mut p: Vec<(&str, &str)> = params
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect();
            p.push(("limit", "50"));
            let q = Query::from_params(Kind::Decision, p).unwrap();
            let t = Instant::now();
            let page = stores.list(q).await.unwrap();
            lat.push(t.elapsed());
            assert!(page.items.len() <= 50);
        }
        let p50 = pct(&mut lat, 0.50);
        let p99 = pct(&mut lat, 0.99);
        page_results.insert(label.to_string(), json!({"p50_ms": p50, "p99_ms": p99}));
    }

    // 5. Baselines in the same run.
    let baseline = match stores.sql_pool(StoreName::Activity) {
        Some(pool) => json!({
            "raw_single_insert_per_s": raw_insert_rate(pool, singles).await,
            "raw_select1_p99_ms": raw_select_p99(pool, queries).await,
        }),
        None => json!({"raw_fsync_append_per_s": raw_fsync_append_rate(&dir, singles)}),
    };
    let floor = baseline
        .get("raw_single_insert_per_s")
        .or(baseline.get("raw_fsync_append_per_s"))
        .and_then(Value::as_f64)
        .unwrap_or(1.0);
    let report = json!({
        "backend": backend,
        "rows": rows,
        "batched_insert_per_s": batched_rate,
        "load_seconds": load_secs,
        "single_insert_ack_per_s": single_rate,
        "concurrent_writers": writers,
        "concurrent_insert_ack_per_s": concurrent_rate,
        "concurrent_session_per_writer_ack_per_s": own_session_rate,
        "written_bytes_per_decision": {
            "single": single_bytes,
            "concurrent": concurrent_bytes[0],
            "concurrent_session_per_writer": concurrent_bytes[1],
        },
        "single_vs_raw_baseline": single_rate / floor,
        "concurrent_vs_raw_baseline": concurrent_rate / floor,
        "concurrent_session_per_writer_vs_raw_baseline": own_session_rate / floor,
        "pages_of_50": page_results,
        "baseline": baseline,
    });
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
    stores.close().await.unwrap();
    if let Some(s) = schema {
        let url = arg("--url").unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".into());
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .unwrap();
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {s} CASCADE")))
            .execute(&pool)
            .await;
    }
    if arg("--dir").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
}
