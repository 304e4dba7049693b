//! The server as a whole: the committed OpenAPI document, CORS, slow
//! clients, graceful shutdown.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::type_complexity
)]

mod common;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use common::Backend;
use serde_json::{Value, json};

fn committed_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../openapi/cavra-api.openapi.json")
}

#[test]
fn committed_openapi_matches_the_code() {
    let generated = cavra_api::openapi::document();
    let path = committed_path();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        let mut text = serde_json::to_string_pretty(&generated).unwrap();
        text.push('\n');
        std::fs::write(&path, text).unwrap();
    }
    let committed: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(
        committed, generated,
        "openapi/cavra-api.openapi.json is stale: run `UPDATE_OPENAPI=1 cargo test -p cavra-api --test server` \
         or `cavra serve --print-openapi > openapi/cavra-api.openapi.json`"
    );
    assert_eq!(committed["openapi"], "3.1.0");
}

/// Every documented path of the issue is in the committed document.
#[test]
fn documented_paths_are_present() {
    let committed: Value =
        serde_json::from_slice(&std::fs::read(committed_path()).unwrap()).unwrap();
    let paths = committed["paths"].as_object().unwrap();
    let want: &[(&str, &[&str])] = &[
        ("/health", &["get"]),
        ("/version", &["get"]),
        ("/policy-packs", &["get"]),
        ("/policies", &["get"]),
        ("/risk/events", &["get"]),
        ("/sessions", &["get", "post"]),
        ("/sessions/{session_id}", &["get"]),
        ("/decisions", &["get", "post"]),
        ("/decisions/{decision_id}", &["get"]),
        ("/agents", &["get", "post"]),
        ("/agents/{agent_id}", &["get"]),
        ("/agents/profiles", &["get"]),
        ("/mcp/servers", &["get", "post"]),
        ("/mcp/servers/{server_id}", &["get"]),
        ("/mcp/tool-classifications", &["get"]),
        ("/mcp/trust", &["get"]),
        ("/repositories", &["get", "post"]),
        ("/repositories/{repository_id}", &["get"]),
        ("/policy-rollouts", &["get", "post"]),
        ("/policy-rollouts/{rollout_id}", &["get"]),
        ("/policy-rollouts/change-plan", &["post"]),
        ("/policy-rollouts/apply-change", &["post"]),
        ("/policy-rollout-details/{rollout_id}", &["get"]),
        ("/policy-pack-catalog", &["get"]),
        ("/policy-packs/draft", &["post"]),
        ("/policy-packs/publish-plan", &["post"]),
        ("/integrations", &["get", "post"]),
        ("/integrations/{integration_id}", &["get"]),
        ("/evidence", &["get", "post"]),
        ("/evidence/{session_id}", &["get"]),
        ("/console/config", &["get"]),
        ("/console/security-boundary", &["get"]),
        ("/operations/stores", &["get"]),
        ("/operations/retention-plan", &["get"]),
        ("/deployment/production-readiness", &["get"]),
        ("/openapi.json", &["get"]),
        ("/metrics", &["get"]),
    ];
    for (path, methods) in want {
        let item = paths
            .get(*path)
            .unwrap_or_else(|| panic!("{path} missing from the OpenAPI document"));
        for m in *methods {
            assert!(item.get(*m).is_some(), "{m} {path} missing");
        }
    }
    // List routes document their filters.
    let params: Vec<&str> = paths["/decisions"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for f in [
        "session_id",
        "agent_id",
        "repository",
        "policy_pack",
        "decision",
        "severity",
        "action_type",
        "limit",
        "offset",
    ] {
        assert!(params.contains(&f), "{f} not documented on GET /decisions");
    }
}

/// Every route in the committed document answers on a real server: no
/// 404 for a missing route, no 405, no 5xx.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_route_answers() {
    let t = common::start(Backend::Sqlite).await;
    let committed: Value =
        serde_json::from_slice(&std::fs::read(committed_path()).unwrap()).unwrap();
    let mut checked = 0;
    for (path, item) in committed["paths"].as_object().unwrap() {
        let concrete = path
            .replace("{session_id}", "s-1")
            .replace("{decision_id}", "dec_1")
            .replace("{agent_id}", "a-1")
            .replace("{server_id}", "m-1")
            .replace("{repository_id}", "org/repo")
            .replace("{rollout_id}", "org/repo:p")
            .replace("{integration_id}", "i-1");
        for method in item.as_object().unwrap().keys() {
            let req = match method.as_str() {
                "get" => t.client.get(t.url(&concrete)),
                "post" => t.client.post(t.url(&concrete)).json(&json!({})),
                other => panic!("unexpected method {other}"),
            };
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            let body = r.text().await.unwrap();
            assert!(
                status != 405 && status < 500,
                "{method} {concrete}: {status} {body}"
            );
            if status == 404 {
                assert!(
                    !body.contains("no route"),
                    "{method} {concrete} is documented but not routed: {body}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 45, "only {checked} operations checked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_only_for_configured_origins() {
    let t = common::start_with(Backend::Json, |k| {
        (k == "CAVRA_CORS_ORIGINS")
            .then(|| "https://console.example, http://localhost:5173".to_string())
    })
    .await;
    let preflight = |origin: &str| {
        t.client
            .request(reqwest::Method::OPTIONS, t.url("/decisions"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let r = preflight("https://console.example").await.unwrap();
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://console.example"
    );
    let methods = r.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        methods.contains("POST") && methods.contains("GET"),
        "{methods}"
    );
    assert!(
        r.headers()
            .get("access-control-allow-credentials")
            .is_none()
    );
    let r = preflight("https://evil.example").await.unwrap();
    assert!(
        !r.headers()
            .keys()
            .any(|k| k.as_str().starts_with("access-control-")),
        "{:?}",
        r.headers()
    );
    let r = t
        .client
        .get(t.url("/health"))
        .header("origin", "http://localhost:5173")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "http://localhost:5173"
    );
    let (_, c) = t.get("/console/config").await;
    assert_eq!(
        c["cors_origins"],
        json!(["https://console.example", "http://localhost:5173"])
    );

    // Unset: no CORS headers at all.
    let plain = common::start(Backend::Json).await;
    let r = plain
        .client
        .get(plain.url("/health"))
        .header("origin", "https://console.example")
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
    let r = plain
        .client
        .request(reqwest::Method::OPTIONS, plain.url("/decisions"))
        .header("origin", "https://console.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

/// A client that sends half its headers, or announces a body and never
/// sends it, is cut off; other requests are served meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_off_without_stalling_others() {
    let t = common::start_with(Backend::Json, |k| match k {
        "CAVRA_HEADER_TIMEOUT_SECONDS" => Some("1".into()),
        "CAVRA_REQUEST_TIMEOUT_SECONDS" => Some("1".into()),
        _ => None,
    })
    .await;
    let addr = t.base.trim_start_matches("http://").to_string();
    // Slow headers.
    let a = addr.clone();
    let slow_headers = std::thread::spawn(move || {
        let mut s = std::net::TcpStream::connect(&a).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n").unwrap();
        let start = Instant::now();
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        (start.elapsed(), String::from_utf8_lossy(&buf).to_string())
    });
    // Slow body.
    let a = addr.clone();
    let slow_body = std::thread::spawn(move || {
        let mut s = std::net::TcpStream::connect(&a).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(b"POST /sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"session_id\"").unwrap();
        let start = Instant::now();
        let mut buf = [0u8; 4096];
        let n = s.read(&mut buf).unwrap_or(0);
        (
            start.elapsed(),
            String::from_utf8_lossy(&buf[..n]).to_string(),
        )
    });
    // Meanwhile, normal traffic is served promptly.
    for i in 0..20 {
        let start = Instant::now();
        let (s, _) = t
            .post("/sessions", json!({"session_id": format!("ok-{i}")}))
            .await;
        assert_eq!(s, 200);
        assert!(
            start.elapsed() < Duration::from_millis(900),
            "a normal request waited {:?}",
            start.elapsed()
        );
    }
    let (took, _) = slow_headers.join().unwrap();
    assert!(
        took < Duration::from_secs(5),
        "slow headers held the connection for {took:?}"
    );
    let (took, resp) = slow_body.join().unwrap();
    assert!(
        took < Duration::from_secs(5),
        "slow body held the request for {took:?}"
    );
    assert!(resp.starts_with("HTTP/1.1 408"), "{resp}");
    assert!(resp.contains("\"detail\""), "{resp}");
    let (_, l) = t.get("/sessions").await;
    assert_eq!(l["total"], 20, "the cut-off request stored nothing");
}

/// Stopping the server finishes in-flight work and leaves the JSON store
/// file complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_stop_flushes_the_json_store() {
    let mut t = common::start(Backend::Json).await;
    let mut handles = Vec::new();
    for i in 0..30 {
        let client = t.client.clone();
        let url = t.url("/decisions");
        handles.push(tokio::spawn(async move {
            client
                .post(url)
                .json(&json!({"action_type": "read_file", "target": format!("f{i}.txt"), "session_id": "g"}))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for h in handles {
        assert_eq!(h.await.unwrap(), 200);
    }
    t.stop().await;
    let doc: Value =
        serde_json::from_slice(&std::fs::read(t.dir.path().join("activity.json")).unwrap())
            .unwrap();
    assert_eq!(doc["decisions"].as_array().unwrap().len(), 30);
    assert_eq!(doc["sessions"][0]["decision_count"], 30);
    let wal = t.dir.path().join("activity.json.wal");
    assert_eq!(std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0), 0);
}

/// Regression: with OIDC or RBAC configured the documentation requires a
/// verified actor for rollout changes and break-glass actions, yet any
/// self-asserted `actor` was accepted while `/console/security-boundary`
/// said mutations required one. Until tokens can be verified they are
/// refused, and nothing is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verified_actor_mutations_are_refused_when_identity_is_configured() {
    let t = common::start_with(Backend::Json, |k| {
        (k == "CAVRA_APPROVAL_OIDC_CONFIG").then(|| "/etc/cavra/oidc.json".to_string())
    })
    .await;
    let (s, v) = t
        .post(
            "/policy-rollouts/apply-change",
            json!({"actor": "anyone", "changes": {"repository": "payments/api", "policy_pack": "cavra-iso27001", "mode": "break_glass"}}),
        )
        .await;
    assert_eq!(s, 403, "{v}");
    let d = v["detail"].as_str().unwrap();
    assert!(
        d.contains("CAVRA_APPROVAL_OIDC_CONFIG") && d.contains("verified actor"),
        "{d}"
    );
    assert_eq!(t.get("/policy-rollouts").await.1["total"], 0);
    // Nor through the plain upsert of the same record (review).
    let (s, v) = t
        .post(
            "/policy-rollouts",
            json!({"repository": "payments/api", "policy_pack": "cavra-iso27001", "mode": "break_glass"}),
        )
        .await;
    assert_eq!(s, 403, "{v}");
    assert_eq!(t.get("/policy-rollouts").await.1["total"], 0);
    let (s, v) = t
        .post(
            "/decisions",
            json!({"action_type": "execute_command", "target": "terraform destroy",
                   "policy_mode": "break_glass", "break_glass_actor": "x", "break_glass_reason": "y"}),
        )
        .await;
    assert_eq!(s, 403, "{v}");
    assert_eq!(t.get("/decisions").await.1["total"], 0);
    // Nor may a caller loosen the pack's mode to audit_only (review round
    // 19: a block came back as an unenforced `audit_only`).
    let (s, v) = t
        .post(
            "/decisions",
            json!({"action_type": "execute_command", "target": "rm -rf /", "policy_mode": "audit_only"}),
        )
        .await;
    assert_eq!(s, 403, "{v}");
    // Tightening it is anyone's right.
    let (s, v) = t
        .post(
            "/decisions",
            json!({"action_type": "execute_command", "target": "ls", "policy_mode": "strict"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(t.get("/decisions").await.1["total"], 1);
    // Ordinary decisions are unaffected.
    let (s, v) = t
        .post(
            "/decisions",
            json!({"action_type": "execute_command", "target": "ls"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(t.get("/decisions").await.1["total"], 2);
    let (_, b) = t.get("/console/security-boundary").await;
    assert_eq!(
        b["browser_permissions"]["verified_actor_mutations"],
        "refused_until_verification_available"
    );

    // Without identity configured the API is local: the change applies.
    let plain = common::start(Backend::Json).await;
    let (s, v) = plain
        .post(
            "/policy-rollouts/apply-change",
            json!({"actor": "alice", "changes": {"repository": "payments/api", "policy_pack": "cavra-iso27001"}}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    // Regression: apply-change skipped the guard POST /policy-rollouts has
    // for ids a fixed route shadows.
    let (s, v) = plain
        .post(
            "/policy-rollouts/apply-change",
            json!({"actor": "alice", "rollout_id": "change-plan",
                   "changes": {"repository": "r", "policy_pack": "cavra-ai-agent-baseline"}}),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    assert!(
        v["detail"].as_str().unwrap().starts_with("rollout_id"),
        "{v}"
    );
    assert_eq!(plain.get("/policy-rollouts").await.1["total"], 1);
    // Regression: a limit past i64 was refused instead of clamped.
    let (s, v) = plain.get("/decisions?limit=99999999999999999999").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["limit"], 500);
    assert_eq!(plain.get("/decisions?limit=9x").await.0, 400);
    // Leading zeros do not make a number huge (review).
    let (_, v) = plain.get("/decisions?limit=0000000000000000000001").await;
    assert_eq!(v["limit"], 1);
    // Any integer is clamped alike, however negative (review round 19).
    let (s, v) = plain.get("/decisions?limit=-99999999999999999999999").await;
    assert_eq!((s, v["limit"].clone()), (200, json!(1)), "{v}");
    let (s, v) = plain.get("/decisions?offset=99999999999999999999").await;
    assert_eq!(s, 400);
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("larger than the maximum"),
        "{v}"
    );
}

/// Review round 19: a key given twice, a near-miss of a field name, and a
/// publish plan for an id that is no directory name are refused or
/// answered without a path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ambiguous_and_misspelt_input_is_refused() {
    let t = common::start(Backend::Json).await;
    let (s, v) = t
        .post_raw(
            "/decisions",
            r#"{"action_type":"read_file","action_type":"execute_command","target":"rm -rf /"}"#,
        )
        .await;
    assert_eq!(s, 400, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("action_type"), "{v}");
    assert_eq!(t.get("/decisions").await.1["total"], 0);
    let (s, v) = t
        .post(
            "/mcp/servers",
            json!({"server_id": "evil-srv", "trust-tier": "blocked"}),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("trust_tier"), "{v}");
    let (s, v) = t
        .post(
            "/agents",
            json!({"agent_id": "rogue", "Status": "disabled"}),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = t
        .post(
            "/policy-packs/publish-plan",
            json!({"id": "../../etc/x", "title": "t", "description": "d"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["valid"], false);
    assert!(v["target_path"].is_null(), "{v}");
}

/// Review round 19: a connection that never sends a byte is closed after
/// the header timeout; `*` in CAVRA_CORS_ORIGINS means any origin instead
/// of a server that stops accepting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_close_and_a_wildcard_origin_serves() {
    let t = common::start_with(Backend::Json, |k| match k {
        "CAVRA_HEADER_TIMEOUT_SECONDS" => Some("1".into()),
        "CAVRA_CORS_ORIGINS" => Some("*".into()),
        _ => None,
    })
    .await;
    let addr = t.base.trim_start_matches("http://").to_string();
    let idle = std::thread::spawn(move || {
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let start = Instant::now();
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        start.elapsed()
    });
    let r = t
        .client
        .get(t.url("/health"))
        .header("origin", "https://anywhere.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    let took = idle.join().unwrap();
    assert!(
        took < Duration::from_secs(5),
        "an idle connection stayed {took:?}"
    );
}

/// Regression: the readiness check for persistent stores passed for stores
/// that did not exist; the documentation asks for their presence.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_checks_that_stores_exist() {
    let check = |r: &Value| {
        r["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == "persistent_stores")
            .unwrap()
            .clone()
    };
    let t = common::start(Backend::Json).await;
    let c = check(&t.get("/deployment/production-readiness").await.1);
    assert_eq!(c["passed"], false, "{c}");
    assert!(
        c["detail"].as_str().unwrap().contains("do not exist"),
        "{c}"
    );
    let t = common::start(Backend::Sqlite).await;
    let c = check(&t.get("/deployment/production-readiness").await.1);
    assert_eq!(c["passed"], true, "{c}");
}

/// Regression: a request timeout too large for a Duration panicked at
/// start-up.
#[test]
fn a_huge_timeout_falls_back_to_the_default() {
    let c = cavra_api::Config::from_lookup(|k| {
        (k == "CAVRA_REQUEST_TIMEOUT_SECONDS").then(|| "1e20".to_string())
    });
    let d = cavra_api::Config::from_lookup(|_| None);
    assert_eq!(c.request_timeout, d.request_timeout);
}
