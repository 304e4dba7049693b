#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
//! The MCP gateway against a small real stdio MCP server
//! (`tests/fixture/mcp_fixture.rs`, spawned as a child process), with an
//! rmcp client on the agent's side: allowed call, blocked call,
//! argument-level block, tool-definition drift with `list_changed`, pin
//! approval, a server that crashes and one that sends malformed JSON-RPC.
//! Plus `cavra mcp serve`'s tools in process.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cavra_agent::mcp::{pins, proxy, server};
use cavra_policy::CompiledPolicy;
use cavra_policy::load::{PackFile, resolve_file};
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};

const FIXTURE: &str = env!("CARGO_BIN_EXE_cavra-mcp-fixture");

const PACK: &str = r#"
metadata: {id: cavra-mcp-test, title: MCP test, description: gateway test pack, version: "1"}
mcp:
  allowlist_enabled: true
  allowed_servers: [fixture]
  blocked_tools:
    fixture: [delete_all]
  argument_rules:
    - id: no-secrets
      server: fixture
      tool: read_file
      argument: path
      path: true
      patterns: [".env", "*.pem"]
      decision: block
      reason: Secrets may not be read through MCP.
"#;

fn policy() -> CompiledPolicy {
    let pf = PackFile {
        id: "cavra-mcp-test".into(),
        path: "cavra-mcp-test/policy.yaml".into(),
        text: PACK.into(),
    };
    resolve_file(&cavra_packs_source(), &pf, &[])
        .unwrap()
        .compile()
        .unwrap()
}

struct NoPacks;
impl cavra_policy::load::PackSource for NoPacks {
    fn get(&self, _id: &str) -> Option<PackFile> {
        None
    }
    fn ids(&self) -> Vec<String> {
        Vec::new()
    }
}
fn cavra_packs_source() -> NoPacks {
    NoPacks
}

struct Rig {
    client: RunningService<RoleClient, ()>,
    _upstream: RunningService<RoleClient, proxy::Upstream>,
    log: std::path::PathBuf,
    pins: std::path::PathBuf,
    spool: std::path::PathBuf,
}

async fn rig(dir: &Path, timeout: Duration) -> Rig {
    rig_with(dir, timeout, &[]).await
}

async fn rig_with(dir: &Path, timeout: Duration, env: &[&str]) -> Rig {
    let log = dir.join("fixture.log");
    let pins = dir.join("pins.json");
    let spool = dir.join("spool.jsonl");
    // The fixture reads FIXTURE_LOG (and its modes) from its environment.
    let mut cmd = vec![
        "/usr/bin/env".to_string(),
        format!("FIXTURE_LOG={}", log.display()),
    ];
    cmd.extend(env.iter().map(|e| e.to_string()));
    cmd.push(FIXTURE.to_string());
    let cfg = proxy::ProxyConfig {
        server: "fixture".into(),
        pins: pins.clone(),
        spool: Some(spool.clone()),
        session_id: "mcp-test".into(),
        call_timeout: timeout,
    };
    let (p, upstream) = proxy::connect(policy(), cfg, &cmd).await.unwrap();
    let (a, b) = tokio::io::duplex(1 << 16);
    tokio::spawn(async move {
        if let Ok(s) = p.serve(a).await {
            let _ = s.waiting().await;
        }
    });
    let client = ().serve(b).await.unwrap();
    Rig {
        client,
        _upstream: upstream,
        log,
        pins,
        spool,
    }
}

async fn call(r: &Rig, name: &str, args: Value) -> CallToolResult {
    let mut p = CallToolRequestParams::new(name.to_string());
    p.arguments = args.as_object().cloned();
    r.client.call_tool(p).await.unwrap()
}

fn text(r: &CallToolResult) -> String {
    let v = serde_json::to_value(r).unwrap();
    v["content"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["text"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_error(r: &CallToolResult) -> bool {
    r.is_error == Some(true)
}

fn reached(log: &Path) -> Vec<Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

async fn names(r: &Rig) -> Vec<String> {
    let mut v: Vec<String> = r
        .client
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_allows_blocks_and_pins() {
    let dir = tempfile::tempdir().unwrap();
    let r = rig(dir.path(), Duration::from_secs(5)).await;

    // The blocked tool is not listed.
    let listed = names(&r).await;
    assert!(listed.contains(&"read_file".to_string()), "{listed:?}");
    assert!(!listed.contains(&"delete_all".to_string()), "{listed:?}");

    // Allowed call reaches the server.
    let ok = call(&r, "read_file", json!({"path": "README.md"})).await;
    assert!(!is_error(&ok), "{}", text(&ok));
    assert_eq!(text(&ok), "read_file ok README.md");

    // Blocked tool: an isError result the model can read; never forwarded.
    let blocked = call(&r, "delete_all", json!({})).await;
    assert!(is_error(&blocked));
    assert!(
        text(&blocked).contains("CAVRA blocked"),
        "{}",
        text(&blocked)
    );

    // Argument-level block.
    let secret = call(&r, "read_file", json!({"path": "config/.env"})).await;
    assert!(is_error(&secret));
    assert!(
        text(&secret).contains("Secrets may not be read"),
        "{}",
        text(&secret)
    );

    let seen = reached(&r.log);
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0]["arguments"]["path"], "README.md");

    // Drift: the server changes read_file's description and says so.
    let m = call(&r, "mutate", json!({})).await;
    assert!(!is_error(&m), "{}", text(&m));
    let start = Instant::now();
    loop {
        if !names(&r).await.contains(&"read_file".to_string()) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "drift not detected"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let drifted = call(&r, "read_file", json!({"path": "README.md"})).await;
    assert!(is_error(&drifted));
    assert!(
        text(&drifted).contains("definition changed"),
        "{}",
        text(&drifted)
    );
    assert!(text(&drifted).contains("cavra mcp pins approve"));
    let pending = pins::load(&r.pins).unwrap();
    assert!(pending.servers["fixture"].pending.contains_key("read_file"));

    // A human approves; the new definition is trusted.
    let approved = pins::approve(&r.pins, Some("fixture"), Some("read_file")).unwrap();
    assert_eq!(approved.len(), 1);
    let after = call(&r, "read_file", json!({"path": "src/lib.rs"})).await;
    assert!(!is_error(&after), "{}", text(&after));

    // Every decision was recorded.
    let spooled = std::fs::read_to_string(&r.spool).unwrap();
    assert!(spooled.lines().count() >= 5);
    assert!(spooled.contains("\"agent_id\":\"mcp-proxy\""));
    // Regression: the drifted call was recorded as the policy's `allow`
    // although the gateway refused it for its pin; the record now says
    // what happened.
    let records: Vec<Value> = spooled
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .collect();
    let pin_blocks: Vec<&Value> = records
        .iter()
        .filter(|d| d["rule_id"] == "mcp.pin.changed")
        .collect();
    assert_eq!(pin_blocks.len(), 1, "{spooled}");
    assert_eq!(pin_blocks[0]["decision"], "block", "{spooled}");
    assert_eq!(pin_blocks[0]["target"], "fixture:read_file", "{spooled}");
    // An unknown tool is refused and recorded as such, not as `allow`.
    let before = records.len();
    let unknown = r
        .client
        .call_tool(CallToolRequestParams::new("no_such_tool"))
        .await;
    assert!(unknown.is_err(), "{unknown:?}");
    let spooled = std::fs::read_to_string(&r.spool).unwrap();
    let last: Value = serde_json::from_str(spooled.lines().last().unwrap()).unwrap();
    assert_eq!(spooled.lines().count(), before + 1);
    assert_eq!(last["rule_id"], "mcp.tool.unknown", "{last}");
    assert_eq!(last["decision"], "block", "{last}");
}

/// A server whose tool list never ends is refused after a bounded number
/// of pages (it was read until the timeout, holding every page), and no
/// call reaches it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_tool_list_is_refused_in_bounded_pages() {
    let dir = tempfile::tempdir().unwrap();
    let r = rig_with(
        dir.path(),
        Duration::from_secs(30),
        &["FIXTURE_ENDLESS_PAGES=1"],
    )
    .await;
    let start = Instant::now();
    let res = call(&r, "read_file", json!({"path": "README.md"})).await;
    assert!(is_error(&res), "{}", text(&res));
    assert!(text(&res).contains("more than"), "{}", text(&res));
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "read until the timeout"
    );
    assert!(reached(&r.log).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashing_server_fails_closed_in_bounded_time() {
    let dir = tempfile::tempdir().unwrap();
    let r = rig(dir.path(), Duration::from_secs(3)).await;
    let start = Instant::now();
    let crash = call(&r, "crash", json!({})).await;
    assert!(is_error(&crash), "{}", text(&crash));
    let again = call(&r, "read_file", json!({"path": "README.md"})).await;
    assert!(is_error(&again), "{}", text(&again));
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_rpc_fails_closed_in_bounded_time() {
    let dir = tempfile::tempdir().unwrap();
    let r = rig(dir.path(), Duration::from_millis(800)).await;
    let start = Instant::now();
    let g = call(&r, "garbage", json!({})).await;
    assert!(is_error(&g), "{}", text(&g));
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cavra_mcp_serve_tools_work() {
    let dir = tempfile::tempdir().unwrap();
    let spool = dir.path().join("spool.jsonl");
    struct One;
    impl cavra_policy::load::PackSource for One {
        fn get(&self, id: &str) -> Option<PackFile> {
            (id == "cavra-mcp-test").then(|| PackFile {
                id: id.into(),
                path: "cavra-mcp-test/policy.yaml".into(),
                text: format!(
                    "{PACK}\ncommands:\n  block: ['rm -rf *']\n  allow: ['ls*']\nfilesystem:\n  block_read: [.env]\n"
                ),
            })
        }
        fn ids(&self) -> Vec<String> {
            vec!["cavra-mcp-test".into()]
        }
    }
    let srv = server::CavraServer::new(
        server::ServeConfig {
            default_pack: "cavra-mcp-test".into(),
            spool: Some(spool.clone()),
        },
        Arc::new(One),
    );
    let (a, b) = tokio::io::duplex(1 << 16);
    tokio::spawn(async move {
        if let Ok(s) = srv.serve(a).await {
            let _ = s.waiting().await;
        }
    });
    let client = ().serve(b).await.unwrap();
    let tools: Vec<String> = client
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    for t in [
        "evaluate_action",
        "explain_decision",
        "list_policy_packs",
        "validate_policy_pack",
        "start_session",
        "summarize_session",
        "pr_attestation",
    ] {
        assert!(tools.contains(&t.to_string()), "{t} missing: {tools:?}");
    }
    let c = |name: &str, args: Value| {
        let mut p = CallToolRequestParams::new(name.to_string());
        p.arguments = args.as_object().cloned();
        let client = &client;
        async move {
            let r = client.call_tool(p).await.unwrap();
            let t = text(&r);
            (is_error(&r), t)
        }
    };
    let (err, s) = c(
        "start_session",
        json!({"agent_id": "claude-code", "repository": "payments/api"}),
    )
    .await;
    assert!(!err, "{s}");
    let sid = serde_json::from_str::<Value>(&s).unwrap()["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (err, d) = c(
        "evaluate_action",
        json!({"action_type": "execute_command", "target": "sudo rm -rf build", "session_id": sid}),
    )
    .await;
    assert!(!err, "{d}");
    assert_eq!(
        serde_json::from_str::<Value>(&d).unwrap()["decision"],
        "block"
    );
    let (_, d) = c(
        "evaluate_action",
        json!({"action_type": "read_file", "target": "src/lib.rs", "session_id": sid, "repo_root": "/repo"}),
    )
    .await;
    assert_eq!(
        serde_json::from_str::<Value>(&d).unwrap()["decision"],
        "allow"
    );
    let (_, e) = c(
        "explain_decision",
        json!({"action_type": "execute_command", "target": "ls && rm -rf x", "session_id": sid}),
    )
    .await;
    assert!(e.contains("sub-command: rm -rf x"), "{e}");
    let (_, sum) = c("summarize_session", json!({"session_id": sid})).await;
    let sum: Value = serde_json::from_str(&sum).unwrap();
    assert_eq!(sum["decisions"], 3);
    assert_eq!(sum["by_decision"]["block"], 2);
    let (_, att) = c(
        "pr_attestation",
        json!({"session_id": sid, "repository": "payments/api", "pull_request": "42"}),
    )
    .await;
    let att: Value = serde_json::from_str(&att).unwrap();
    assert_eq!(att["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(att["subject"][0]["name"], "payments/api#42");
    assert_eq!(att["predicate"]["verdict"], "needs_review");
    assert_eq!(att["predicate"]["summary"]["blocked"], 2);
    let (_, packs) = c("list_policy_packs", json!({})).await;
    assert!(packs.contains("sha256:"), "{packs}");
    let (_, bad) = c("validate_policy_pack", json!({"yaml": "metadata: {id: cavra-x, title: x, description: x, version: '1'}\nfrobnicate: true\n"})).await;
    let bad: Value = serde_json::from_str(&bad).unwrap();
    assert_eq!(bad["valid"], false);
    assert!(bad["errors"].to_string().contains("frobnicate"), "{bad}");
    let (err, msg) = c("summarize_session", json!({"session_id": "nope"})).await;
    assert!(err && msg.contains("no session"), "{msg}");
    assert_eq!(std::fs::read_to_string(&spool).unwrap().lines().count(), 3);
}
