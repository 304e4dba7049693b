//! Every route against a real server on 127.0.0.1:0, on the JSON, SQLite
//! and PostgreSQL stores: happy paths, filters, paging, 404s, validation
//! errors and documented defaults.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::type_complexity
)]

mod common;

use common::{Backend, TestServer};
use serde_json::{Value, json};

macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod json_backend { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(super::common::start(super::Backend::Json).await).await } )* }
        mod sqlite_backend { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(super::common::start(super::Backend::Sqlite).await).await } )* }
        mod postgres_backend { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(super::common::start(super::Backend::Postgres).await).await } )* }
    };
}

on_every_backend!(
    system_routes,
    decisions_evaluate_persist_and_list,
    decisions_use_the_registry_ladder,
    decision_validation,
    risk_events_from_stored_decisions,
    sessions,
    agents_and_profiles,
    mcp_servers_classifications_trust,
    repositories_with_slashes,
    rollouts_plan_apply_details,
    policy_authoring,
    integrations,
    evidence_metadata,
    console_and_operations,
    bad_input_is_rejected_cleanly,
);

fn ids(v: &Value, key: &str) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i[key].as_str().unwrap().to_string())
        .collect()
}

fn detail(v: &Value) -> &str {
    v["detail"]
        .as_str()
        .unwrap_or_else(|| panic!("no detail in {v}"))
}

async fn system_routes(t: TestServer) {
    assert_eq!(
        t.get("/health").await,
        (200, json!({"status": "ok", "product": "CAVRA"}))
    );
    let (s, v) = t.get("/version").await;
    assert_eq!(s, 200);
    assert_eq!(v["name"], "CAVRA Runtime Server");
    let (s, packs) = t.get("/policy-packs").await;
    assert_eq!(s, 200);
    let packs = packs.as_array().unwrap().clone();
    assert!(packs.len() >= 16);
    let baseline = packs
        .iter()
        .find(|p| p["id"] == "cavra-ai-agent-baseline")
        .unwrap();
    assert!(baseline["title"].is_string());
    assert!(baseline["policy"]["filesystem"].is_object());
    let (_, alias) = t.get("/policies").await;
    assert_eq!(alias.as_array().unwrap().len(), packs.len());
    let (s, doc) = t.get("/openapi.json").await;
    assert_eq!(s, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    let r = t.client.get(t.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(text.contains("cavra_http_requests_total"), "{text}");
    assert!(text.contains("route=\"/health\""), "{text}");
    // Regression: every made-up method became a label value of its own.
    for i in 0..5 {
        let m = reqwest::Method::from_bytes(format!("MADEUP{i}").as_bytes()).unwrap();
        let _ = t.client.request(m, t.url("/health")).send().await.unwrap();
    }
    let text = t
        .client
        .get(t.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!text.contains("MADEUP"), "{text}");
    assert!(text.contains("method=\"OTHER\""), "{text}");
}

async fn post_decision(t: &TestServer, body: Value) -> Value {
    let (s, v) = t.post("/decisions", body.clone()).await;
    assert_eq!(s, 200, "{body} -> {v}");
    v
}

async fn decisions_evaluate_persist_and_list(t: TestServer) {
    let d = post_decision(&t, json!({"action_type": "read_file", "target": ".env", "session_id": "s1", "agent_id": "claude-code", "repository": "payments/api"})).await;
    assert_eq!(d["decision"], "block");
    assert_eq!(d["rule_id"], "filesystem.read.block");
    assert_eq!(d["schema_version"], "cavra.decision.v1");
    assert_eq!(d["repository"], "payments/api");
    let id = d["decision_id"].as_str().unwrap();
    assert_eq!(d["evidence_refs"], json!([format!("evidence://s1/{id}")]));
    assert!(
        d["explanation"]["matches"].is_array(),
        "the decision stays explainable"
    );
    let a = post_decision(&t, json!({"action_type": "execute_command", "target": "npm test", "session_id": "s1", "agent_id": "claude-code"})).await;
    assert_eq!(a["decision"], "allow");
    let g = post_decision(&t, json!({"action_type": "git_operation", "target": "origin/main", "session_id": "s2", "agent_id": "codex"})).await;
    assert_eq!(g["decision"], "block");
    assert_eq!(g["requested_operation"], "push");
    let (s, got) = t.get(&format!("/decisions/{id}")).await;
    assert_eq!(s, 200);
    assert_eq!(got, d);
    let (s, v) = t.get("/decisions/dec_nope").await;
    assert_eq!(s, 404);
    assert!(detail(&v).contains("dec_nope"));
    let (_, all) = t.get("/decisions").await;
    assert_eq!(all["total"], 3);
    assert_eq!(
        (all["limit"].clone(), all["offset"].clone()),
        (json!(50), json!(0))
    );
    let (_, blocked) = t.get("/decisions?decision=block").await;
    assert_eq!(blocked["total"], 2);
    let (_, by_agent) = t.get("/decisions?agent_id=codex").await;
    assert_eq!(
        ids(&by_agent, "decision_id"),
        [g["decision_id"].as_str().unwrap()]
    );
    let (_, page) = t.get("/decisions?limit=1&offset=1").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["total"], 3);
    let (_, by_type) = t.get("/decisions?action_type=read_file&session_id=s1&repository=payments/api&policy_pack=cavra-ai-agent-baseline&severity=high").await;
    assert_eq!(by_type["total"], 1);
    // The session was persisted with its counts.
    let (s, sess) = t.get("/sessions/s1").await;
    assert_eq!(s, 200);
    assert_eq!(sess["decision_count"], 2);
    assert_eq!(sess["blocked_count"], 1);
    assert_eq!(sess["agent_id"], "claude-code");
    // Policy mode changes the effective decision, never self-protection.
    let audit = post_decision(
        &t,
        json!({"action_type": "read_file", "target": ".env", "policy_mode": "audit_only"}),
    )
    .await;
    assert_eq!(audit["decision"], "audit_only");
    assert_eq!(audit["base_decision"], "block");
    // Another pack.
    let soc2 = post_decision(
        &t,
        json!({"action_type": "read_file", "target": "README.md", "policy_pack": "cavra-iso27001"}),
    )
    .await;
    assert_eq!(soc2["policy_pack"], "cavra-iso27001");
}

async fn decisions_use_the_registry_ladder(t: TestServer) {
    // No registry records: the pack's own MCP rules decide.
    let before = post_decision(&t, json!({"action_type": "mcp_tool_call", "target": "github:create_issue", "capability": "repository"})).await;
    assert_ne!(before["rule_id"], "mcp.registry.unknown");
    // With a registry, unregistered servers are blocked and tool scope applies.
    t.post("/mcp/servers", json!({"server_id": "github", "trust_tier": "trusted", "allowed_tools": ["create_issue"], "capabilities": ["repository"]})).await;
    let unknown = post_decision(
        &t,
        json!({"action_type": "mcp_tool_call", "server": "shady", "tool": "run"}),
    )
    .await;
    assert_eq!(unknown["decision"], "block");
    assert_eq!(unknown["rule_id"], "mcp.registry.unknown");
    let scoped = post_decision(&t, json!({"action_type": "mcp_tool_call", "target": "github:delete_repo", "capability": "repository"})).await;
    assert_eq!(scoped["decision"], "require_approval");
    assert_eq!(scoped["rule_id"], "mcp.registry.tool_scope");
}

async fn decision_validation(t: TestServer) {
    for (body, field) in [
        (json!({"target": "x"}), "action_type"),
        (json!({"action_type": "read_file"}), "target"),
        (
            json!({"action_type": "teleport", "target": "x"}),
            "action_type",
        ),
        (json!({"action_type": "read_file", "target": 5}), "target"),
        (
            json!({"action_type": "read_file", "target": "a", "colour": "red"}),
            "colour",
        ),
        (
            json!({"action_type": "read_file", "target": "a", "policy_pack": "no-such-pack"}),
            "policy_pack",
        ),
        (
            json!({"action_type": "read_file", "target": "a", "policy_mode": "yolo"}),
            "policy_mode",
        ),
        (
            json!({"action_type": "read_file", "target": "a", "session_id": "../../x"}),
            "session_id",
        ),
    ] {
        let (s, v) = t.post("/decisions", body.clone()).await;
        assert_eq!(s, 400, "{body}");
        assert!(detail(&v).starts_with(field), "{body} -> {v}");
    }
    let (_, all) = t.get("/decisions").await;
    assert_eq!(all["total"], 0, "nothing stored from rejected requests");
}

async fn risk_events_from_stored_decisions(t: TestServer) {
    for (target, agent, repo) in [
        (".env", "claude-code", "web"),        // block, high
        ("README.md", "claude-code", "web"),   // allow, low: not an event
        ("terraform apply", "codex", "infra"), // approval or block
    ] {
        let action = if target.contains(' ') {
            "execute_command"
        } else {
            "read_file"
        };
        post_decision(
            &t,
            json!({"action_type": action, "target": target, "agent_id": agent, "repository": repo}),
        )
        .await;
    }
    let (s, ev) = t.get("/risk/events").await;
    assert_eq!(s, 200);
    assert_eq!(ev["total"], 2, "{ev}");
    let items = ev["items"].as_array().unwrap();
    assert_eq!(items[0]["agent_id"], "codex", "newest first");
    assert!(
        items
            .iter()
            .all(|e| e["event_type"].as_str().unwrap().starts_with("decision."))
    );
    let (_, ev) = t.get("/risk/events?agent_id=claude-code").await;
    assert_eq!(ev["total"], 1);
    assert_eq!(ev["items"][0]["target"], ".env");
    assert_eq!(ev["items"][0]["event_type"], "decision.blocked");
    let (_, ev) = t.get("/risk/events?repository=infra").await;
    assert_eq!(ev["total"], 1);
    let (_, ev) = t
        .get("/risk/events?min_severity=critical&repository=web")
        .await;
    assert_eq!(ev["total"], 0);
    let (_, ev) = t
        .get("/risk/events?since=2000-01-01T00:00:00Z&until=2100-01-01T00:00:00Z")
        .await;
    assert_eq!(ev["total"], 2);
    let (_, ev) = t.get("/risk/events?since=2100-01-01T00:00:00Z").await;
    assert_eq!(ev["total"], 0);
    let (s, v) = t.get("/risk/events?since=yesterday").await;
    assert_eq!(s, 400);
    assert!(detail(&v).starts_with("since"));
    // Regression: a valid RFC 3339 time that is year 10000 in UTC panicked
    // the handler, which dropped the connection without an answer.
    for p in [
        "/risk/events?until=9999-12-31T23:59:59-01:00",
        "/decisions?since=9999-12-31T23:59:59-01:00",
    ] {
        let (s, v) = t.get(p).await;
        assert_eq!(s, 400, "{p}: {v}");
        assert!(detail(&v).contains("9999"), "{p}: {v}");
    }
    let (s, v) = t
        .post(
            "/sessions",
            json!({"session_id": "s-late", "started_at": "9999-12-31T23:59:59-01:00"}),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    assert!(detail(&v).starts_with("started_at"), "{v}");
    let (s, _) = t.get("/risk/events?decision=allow").await;
    assert_eq!(s, 400, "only the documented filters");
}

async fn sessions(t: TestServer) {
    let (s, v) = t
        .post(
            "/sessions",
            json!({"session_id": "a", "agent_id": "codex", "status": "completed"}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["state"], "completed");
    assert_eq!(v["schema_version"], "cavra.session.v1");
    t.post(
        "/sessions",
        json!({"session_id": "b", "agent_id": "cursor", "repository": "web"}),
    )
    .await;
    let (_, l) = t.get("/sessions?agent_id=codex").await;
    assert_eq!(ids(&l, "session_id"), ["a"]);
    let (_, l) = t.get("/sessions?state=active").await;
    assert_eq!(ids(&l, "session_id"), ["b"]);
    let (_, l) = t.get("/sessions?repository=web&limit=1").await;
    assert_eq!(l["limit"], 1);
    assert_eq!(t.get("/sessions/zzz").await.0, 404);
    let (s, v) = t.post("/sessions", json!({"agent_id": "x"})).await;
    assert_eq!(s, 400);
    assert!(detail(&v).starts_with("session_id"));
    let (s, v) = t.get("/sessions?state=sleeping").await;
    assert_eq!(s, 400);
    assert!(detail(&v).starts_with("state"));
}

async fn agents_and_profiles(t: TestServer) {
    let (s, a) = t
        .post(
            "/agents",
            json!({"agent_id": "claude-code", "owner": "dev"}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(a["type"], "coding-agent");
    assert_eq!(a["status"], "active");
    t.post(
        "/agents",
        json!({"agent_id": "codex", "status": "disabled"}),
    )
    .await;
    let (_, l) = t.get("/agents?status=disabled").await;
    assert_eq!(ids(&l, "agent_id"), ["codex"]);
    assert_eq!(t.get("/agents/claude-code").await.1["owner"], "dev");
    assert_eq!(t.get("/agents/ghost").await.0, 404);
    let (s, p) = t.get("/agents/profiles").await;
    assert_eq!(s, 200);
    let names: Vec<&str> = p["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["profile_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "claude-code",
            "codex",
            "github-copilot",
            "cursor",
            "gemini-cli",
            "aws-q-developer"
        ]
    );
    assert_eq!(
        t.post("/agents", json!({"agent_id": "x", "status": "asleep"}))
            .await
            .0,
        400
    );
    // Regression: an agent named `profiles` (or a rollout named
    // `change-plan`) was stored, and its GET answered another route.
    let (s, v) = t.post("/agents", json!({"agent_id": "profiles"})).await;
    assert_eq!(s, 400, "{v}");
    assert!(detail(&v).starts_with("agent_id"), "{v}");
    assert!(detail(&v).contains("/agents/profiles"), "{v}");
    let (s, v) = t
        .post(
            "/policy-rollouts",
            json!({"rollout_id": "change-plan", "repository": "r", "policy_pack": "p"}),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    assert!(detail(&v).starts_with("rollout_id"), "{v}");
    assert_eq!(t.get("/policy-rollouts/change-plan").await.0, 405);
    assert_eq!(
        t.post("/agents", json!({"agent_id": "profiles-2"})).await.0,
        200
    );
}

async fn mcp_servers_classifications_trust(t: TestServer) {
    let (s, m) = t.post("/mcp/servers", json!({"name": "github", "trust_tier": "trusted", "capabilities": ["repository"], "allowed_tools": ["create_*"]})).await;
    assert_eq!(s, 200);
    assert_eq!(m["approval_state"], "approved");
    t.post(
        "/mcp/servers",
        json!({"server_id": "random", "capabilities": ["network"]}),
    )
    .await;
    let (_, l) = t.get("/mcp/servers?approval_state=pending").await;
    assert_eq!(ids(&l, "server_id"), ["random"]);
    let (_, l) = t.get("/mcp/servers?capability=repository").await;
    assert_eq!(ids(&l, "server_id"), ["github"]);
    assert_eq!(t.get("/mcp/servers/github").await.0, 200);
    assert_eq!(t.get("/mcp/servers/nope").await.0, 404);
    let (_, c) = t.get("/mcp/tool-classifications").await;
    assert_eq!(c["total"], 7);
    let (s, shell) = t.get("/mcp/tool-classifications?capability=shell").await;
    assert_eq!(s, 200);
    assert_eq!(shell["risk_tier"], "critical");
    assert_eq!(
        t.get("/mcp/tool-classifications?capability=teleport")
            .await
            .0,
        404
    );
    let (_, ok) = t
        .get("/mcp/trust?server=github&tool=create_issue&capability=repository")
        .await;
    assert_eq!(ok["decision"], "allow");
    let (_, scope) = t.get("/mcp/trust?server=github&tool=delete_repo").await;
    assert_eq!(scope["decision"], "require_approval");
    assert_eq!(scope["rule_id"], "mcp.registry.tool_scope");
    let (_, pending) = t.get("/mcp/trust?server=random&tool=fetch").await;
    assert_eq!(pending["decision"], "require_approval");
    assert_eq!(pending["approver_group"], "AI Governance");
    let (_, unknown) = t.get("/mcp/trust?server=ghost&tool=x").await;
    assert_eq!(unknown["decision"], "block");
    let (s, v) = t.get("/mcp/trust?tool=x").await;
    assert_eq!(s, 400);
    assert!(detail(&v).starts_with("server"));
}

async fn repositories_with_slashes(t: TestServer) {
    let (s, r) = t
        .post(
            "/repositories",
            json!({"repository": "payments/api", "owner": "team-pay", "risk_tier": "high"}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(r["repository_id"], "payments/api");
    assert_eq!(r["provider"], "github");
    t.post(
        "/repositories",
        json!({"repository_id": "web-1", "repository": "org/web", "provider": "gitlab"}),
    )
    .await;
    let (s, got) = t.get("/repositories/payments/api").await;
    assert_eq!(s, 200);
    assert_eq!(got["owner"], "team-pay");
    assert_eq!(
        t.get("/repositories/org/web").await.1["repository_id"],
        "web-1"
    );
    assert_eq!(t.get("/repositories/payments%2Fapi").await.0, 200);
    assert_eq!(t.get("/repositories/payments/nothing").await.0, 404);
    let (_, l) = t.get("/repositories?provider=gitlab").await;
    assert_eq!(ids(&l, "repository_id"), ["web-1"]);
    let (_, l) = t.get("/repositories?risk_tier=high&owner=team-pay&status=active&policy_pack=cavra-ai-agent-baseline").await;
    assert_eq!(ids(&l, "repository_id"), ["payments/api"]);
    let (s, v) = t.post("/repositories", json!({"owner": "x"})).await;
    assert_eq!(s, 400);
    assert!(detail(&v).starts_with("repository"));
}

async fn rollouts_plan_apply_details(t: TestServer) {
    t.post("/repositories", json!({"repository": "payments/api"}))
        .await;
    let (s, r) = t.post("/policy-rollouts", json!({"repository": "payments/api", "policy_pack": "cavra-iso27001", "mode": "audit_only"})).await;
    assert_eq!(s, 200);
    let id = r["rollout_id"].as_str().unwrap().to_string();
    assert_eq!(id, "payments/api:cavra-iso27001");
    assert_eq!(t.get(&format!("/policy-rollouts/{id}")).await.0, 200);
    let (_, l) = t
        .get("/policy-rollouts?mode=audit_only&repository=payments/api")
        .await;
    assert_eq!(l["total"], 1);
    // Plans.
    let (s, p) = t
        .post(
            "/policy-rollouts/change-plan",
            json!({"rollout_id": id, "changes": {"mode": "enforce"}}),
        )
        .await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["operation"], "update");
    assert_eq!(p["risk"], "high");
    assert_eq!(p["approval_required"], true);
    assert_eq!(
        p["changes"],
        json!([{"field": "mode", "before": "audit_only", "after": "enforce"}])
    );
    let (_, p) = t
        .post(
            "/policy-rollouts/change-plan",
            json!({"rollout_id": id, "changes": {"mode": "break_glass"}}),
        )
        .await;
    assert_eq!(p["risk"], "critical");
    let (_, p) = t
        .post(
            "/policy-rollouts/change-plan",
            json!({"rollout_id": id, "changes": {"owner": "sec"}}),
        )
        .await;
    assert_eq!(p["risk"], "low");
    assert_eq!(p["approval_required"], false);
    let (_, p) = t
        .post(
            "/policy-rollouts/change-plan",
            json!({"changes": {"repository": "web", "policy_pack": "cavra-hipaa"}}),
        )
        .await;
    assert_eq!(p["operation"], "create");
    let (s, v) = t
        .post(
            "/policy-rollouts/change-plan",
            json!({"rollout_id": id, "changes": {"mode": "yolo"}}),
        )
        .await;
    assert_eq!(s, 400);
    assert!(detail(&v).starts_with("mode"));
    // Apply needs an actor, and persists.
    let (s, v) = t
        .post(
            "/policy-rollouts/apply-change",
            json!({"rollout_id": id, "changes": {"coverage_percent": 90, "state": "active"}}),
        )
        .await;
    assert_eq!(s, 400);
    assert!(detail(&v).starts_with("actor"));
    let (s, v) = t.post("/policy-rollouts/apply-change", json!({"rollout_id": id, "actor": "alice", "changes": {"coverage_percent": 90, "state": "active"}})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["rollout"]["state"], "active");
    assert_eq!(
        t.get(&format!("/policy-rollouts/{id}")).await.1["coverage_percent"].as_f64(),
        Some(90.0)
    );
    // Regression: applying refreshes `updated_at` and keeps `created_at`.
    assert_eq!(v["rollout"]["created_at"], r["created_at"], "{v}");
    assert!(
        v["rollout"]["updated_at"].as_str().unwrap() > r["updated_at"].as_str().unwrap(),
        "{v} after {r}"
    );
    // Regression: `changes.rollout_id` renaming the rollout wrote a second
    // record while reporting an update of the first. It is refused; naming
    // the rollout only there is the same as naming it at the top.
    let (s, v) = t
        .post(
            "/policy-rollouts/apply-change",
            json!({"rollout_id": id, "actor": "alice", "changes": {"rollout_id": "other:x"}}),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    assert!(detail(&v).starts_with("changes.rollout_id"), "{v}");
    let (s, v) = t
        .post(
            "/policy-rollouts/apply-change",
            json!({"actor": "alice", "changes": {"rollout_id": id, "owner": "sec"}}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["plan"]["operation"], "update", "{v}");
    assert_eq!(v["rollout"]["coverage_percent"].as_f64(), Some(90.0), "{v}");
    assert_eq!(t.get("/policy-rollouts").await.1["total"], 1);
    // Regression: a change naming the rollout only by repository and pack
    // was planned as a low-risk "create" and replaced the stored rollout
    // (state, owner, coverage back to their defaults). It is the update of
    // that rollout, rated by its mode change.
    let (s, p) = t
        .post(
            "/policy-rollouts/change-plan",
            json!({"changes": {"repository": "payments/api", "policy_pack": "cavra-iso27001", "mode": "enforce"}}),
        )
        .await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["operation"], "update", "{p}");
    assert_eq!(p["rollout_id"], id.as_str(), "{p}");
    assert_eq!(p["risk"], "high", "{p}");
    assert_eq!(p["approval_required"], true, "{p}");
    let (s, v) = t
        .post(
            "/policy-rollouts/apply-change",
            json!({"actor": "alice", "changes": {"repository": "payments/api", "policy_pack": "cavra-iso27001", "mode": "enforce"}}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["rollout"]["mode"], "enforce", "{v}");
    assert_eq!(v["rollout"]["state"], "active", "{v}");
    assert_eq!(v["rollout"]["owner"], "sec", "{v}");
    assert_eq!(v["rollout"]["coverage_percent"].as_f64(), Some(90.0), "{v}");
    assert_eq!(t.get("/policy-rollouts").await.1["total"], 1);
    // Details with readiness.
    post_decision(&t, json!({"action_type": "read_file", "target": ".env", "repository": "payments/api", "policy_pack": "cavra-iso27001"})).await;
    let (s, d) = t.get(&format!("/policy-rollout-details/{id}")).await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["repository"]["repository_id"], "payments/api");
    assert_eq!(d["policy_pack"]["installed"], true);
    assert!(d["policy_pack"]["summary"]["rule_counts"].is_object());
    assert_eq!(d["activity_summary"]["decision_count"], 1);
    assert_eq!(d["readiness"]["status"], "needs_attention");
    t.post(
        "/integrations",
        json!({"provider": "github", "category": "source_control"}),
    )
    .await;
    t.post(
        "/integrations",
        json!({"provider": "splunk", "category": "siem"}),
    )
    .await;
    let (_, d) = t.get(&format!("/policy-rollout-details/{id}")).await;
    assert_eq!(d["readiness"]["status"], "ready", "{d}");
    assert_eq!(d["integration_summary"]["by_category"]["siem"], 1);
    assert_eq!(t.get("/policy-rollout-details/none:x").await.0, 404);
}

async fn policy_authoring(t: TestServer) {
    let (s, cat) = t.get("/policy-pack-catalog").await;
    assert_eq!(s, 200);
    let base = cat["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "cavra-ai-agent-baseline")
        .unwrap();
    assert!(
        base["summary"]["rule_counts"]["filesystem"]
            .as_u64()
            .unwrap()
            > 0
    );
    let draft = json!({"id": "cavra-team-x", "title": "Team X", "description": "Team X rules", "inherits": "cavra-ai-agent-baseline", "filesystem": {"block_read": ["secrets/**"]}});
    let (s, d) = t.post("/policy-packs/draft", draft.clone()).await;
    assert_eq!(s, 200);
    assert_eq!(d["valid"], true, "{d}");
    assert_eq!(d["policy_pack"]["metadata"]["id"], "cavra-team-x");
    let (_, bad) = t
        .post(
            "/policy-packs/draft",
            json!({"id": "cavra-x", "filesystem": {"block_reed": ["a"]}}),
        )
        .await;
    assert_eq!(bad["valid"], false);
    let messages = bad["errors"].to_string();
    assert!(
        messages.contains("title") && messages.contains("description"),
        "{messages}"
    );
    let (_, bad) = t.post("/policy-packs/draft", json!({"id": "cavra-x", "title": "t", "description": "d", "filesystem": {"block_reed": ["a"]}})).await;
    assert_eq!(bad["valid"], false);
    assert!(bad["errors"].to_string().contains("block_reed"), "{bad}");
    let (s, plan) = t.post("/policy-packs/publish-plan", draft).await;
    assert_eq!(s, 200);
    assert_eq!(plan["operation"], "create");
    assert_eq!(plan["risk"], "high");
    assert_eq!(plan["approval_required"], true);
    assert_eq!(plan["target_path"], "policies/cavra-team-x/policy.yaml");
    assert!(
        plan["policy_digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    // Updating an installed pack: removing rules is critical.
    let (_, packs) = t.get("/policy-packs").await;
    let soc2 = packs
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "cavra-iso27001")
        .unwrap()["policy"]
        .clone();
    let (_, same) = t
        .post(
            "/policy-packs/publish-plan",
            json!({"policy": soc2.clone()}),
        )
        .await;
    assert_eq!(same["operation"], "update");
    assert_eq!(same["risk"], "low", "{same}");
    let mut fewer = soc2.clone();
    fewer["filesystem"] = json!({});
    let (_, cut) = t
        .post("/policy-packs/publish-plan", json!({"policy": fewer}))
        .await;
    assert_eq!(cut["risk"], "critical", "{cut}");
    assert!(!cut["diff"]["removed"].as_array().unwrap().is_empty());
}

async fn integrations(t: TestServer) {
    let (s, i) = t.post("/integrations", json!({"provider": "Splunk", "environment": "prod", "category": "siem", "owner": "soc"})).await;
    assert_eq!(s, 200);
    assert_eq!(i["integration_id"], "splunk-prod");
    t.post(
        "/integrations",
        json!({"provider": "jira", "category": "itsm", "status": "active"}),
    )
    .await;
    assert_eq!(t.get("/integrations/splunk-prod").await.0, 200);
    assert_eq!(t.get("/integrations/jira").await.1["category"], "itsm");
    assert_eq!(t.get("/integrations/none").await.0, 404);
    for (q, want) in [
        ("category=siem", "splunk-prod"),
        ("status=active", "jira-global"),
        ("owner=soc", "splunk-prod"),
        ("environment=prod", "splunk-prod"),
        ("health_status=not_checked&provider=jira", "jira-global"),
    ] {
        let (_, l) = t.get(&format!("/integrations?{q}")).await;
        assert_eq!(ids(&l, "integration_id"), [want], "{q}");
    }
    assert_eq!(
        t.post(
            "/integrations",
            json!({"provider": "x", "category": "toys"})
        )
        .await
        .0,
        400
    );
}

async fn evidence_metadata(t: TestServer) {
    t.post("/evidence", json!({"session_id": "sess-1", "signer": "ci", "blocked_count": 3, "approval_required_count": 1, "metadata_kind": "session", "created_at": "2026-01-01T00:00:00Z"})).await;
    t.post("/evidence", json!({"session_id": "sess-2", "metadata_kind": "rollout", "created_at": "2026-01-02T00:00:00Z"})).await;
    t.post(
        "/evidence",
        json!({"session_id": "other", "blocked_count": 1, "created_at": "2026-01-03T00:00:00Z"}),
    )
    .await;
    let (_, l) = t.get("/evidence").await;
    assert_eq!(ids(&l, "session_id"), ["other", "sess-2", "sess-1"]);
    for (q, want) in [
        ("session_id=sess", vec!["sess-2", "sess-1"]),
        ("signer=ci", vec!["sess-1"]),
        ("min_blocked=1", vec!["other", "sess-1"]),
        ("has_approvals=true", vec!["sess-1"]),
        ("metadata_kind=rollout", vec!["sess-2"]),
        ("limit=1&offset=2", vec!["sess-1"]),
    ] {
        let (_, l) = t.get(&format!("/evidence?{q}")).await;
        assert_eq!(ids(&l, "session_id"), want, "{q}");
    }
    let (s, e) = t.get("/evidence/sess-1").await;
    assert_eq!(s, 200);
    assert_eq!(e["schema_version"], "cavra.evidence.metadata.v1");
    assert_eq!(t.get("/evidence/nothing").await.0, 404);
    let (s, v) = t.get("/evidence?min_blocked=many").await;
    assert_eq!(s, 400);
    assert!(detail(&v).starts_with("min_blocked"));
}

async fn console_and_operations(t: TestServer) {
    let (s, c) = t.get("/console/config").await;
    assert_eq!(s, 200);
    let mode = c["activity_mode"].as_str().unwrap().to_string();
    assert!(["json", "sqlite", "postgres"].contains(&mode.as_str()));
    for k in [
        "metadata_mode",
        "approval_mode",
        "registry_mode",
        "inventory_mode",
        "integration_mode",
    ] {
        assert_eq!(c[k], mode.as_str(), "{k}");
    }
    assert_eq!(c["cors_origins"], json!([]));
    assert_eq!(c["endpoints"]["get_decisions"], "/decisions");
    assert_eq!(
        c["endpoints"]["get_policy_rollout_details_rollout_id"],
        "/policy-rollout-details/{rollout_id}"
    );
    let (_, b) = t.get("/console/security-boundary").await;
    assert_eq!(b["mode"], "local_or_demo");
    assert_eq!(b["oidc"]["status"], "not_configured");
    assert_eq!(b["rbac"]["status"], "not_configured");
    assert_eq!(b["cors"]["status"], "not_configured");
    assert_eq!(b["oidc"]["supported_algorithms"], json!(["RS256"]));
    post_decision(&t, json!({"action_type": "read_file", "target": "a.txt"})).await;
    let (s, st) = t.get("/operations/stores").await;
    assert_eq!(s, 200);
    let stores = st["stores"].as_array().unwrap();
    assert_eq!(stores.len(), 6);
    let act = stores.iter().find(|s| s["name"] == "activity").unwrap();
    assert_eq!(act["records"]["decisions"], 1);
    assert_eq!(act["kind"], mode.as_str());
    let (_, rp) = t.get("/operations/retention-plan").await;
    assert_eq!(rp["retention_days"], 2555);
    assert_eq!(rp["delete_protection"], true);
    let (_, rp) = t
        .get(
            "/operations/retention-plan?retention_days=30&legal_hold=false&classification=internal",
        )
        .await;
    assert_eq!(rp["delete_protection"], false);
    assert_eq!(rp["classification"], "internal");
    assert_eq!(
        t.get("/operations/retention-plan?retention_days=-1")
            .await
            .0,
        400
    );
    let (_, r) = t.get("/deployment/production-readiness").await;
    assert_eq!(r["status"], "needs_attention");
    let missing = r["missing_controls"].as_array().unwrap();
    assert!(missing.contains(&json!("oidc")) && missing.contains(&json!("rbac")));
    let policy = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "policy_catalog")
        .unwrap();
    assert_eq!(policy["passed"], true);
}

async fn bad_input_is_rejected_cleanly(t: TestServer) {
    let raw = |method: reqwest::Method, path: &str| t.client.request(method, t.url(path));
    // Malformed JSON, wrong content type, wrong types.
    let r = raw(reqwest::Method::POST, "/sessions")
        .header("content-type", "application/json")
        .body("{\"session_id\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(
        r.json::<Value>().await.unwrap()["detail"]
            .as_str()
            .unwrap()
            .contains("malformed JSON")
    );
    let r = raw(reqwest::Method::POST, "/sessions")
        .header("content-type", "text/plain")
        .body("session_id=a")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    assert!(r.json::<Value>().await.unwrap()["detail"].is_string());
    let (s, v) = t.post("/sessions", json!(["a"])).await;
    assert_eq!(s, 400);
    assert!(detail(&v).starts_with("body"));
    let (s, v) = t
        .post(
            "/agents",
            json!({"agent_id": "a", "capabilities": {"x": 1}}),
        )
        .await;
    assert_eq!(s, 400);
    assert!(detail(&v).starts_with("capabilities"));
    // Absurd paging.
    let (s, v) = t.get("/decisions?limit=99999999").await;
    assert_eq!(s, 200);
    assert_eq!(v["limit"], 500);
    let (s, v) = t.get("/decisions?offset=99999999999999999").await;
    assert_eq!(s, 400);
    assert!(detail(&v).starts_with("offset"));
    let (s, _) = t.get("/decisions?limit=-3").await;
    assert_eq!(s, 200);
    // Unknown filters and enum values name the parameter.
    let (s, v) = t.get("/decisions?decision=maybe").await;
    assert_eq!(s, 400);
    assert!(detail(&v).starts_with("decision"));
    let (s, v) = t.get("/agents?colour=blue").await;
    assert_eq!(s, 400);
    assert!(detail(&v).starts_with("colour"));
    // Regression: a repeated parameter was read three ways (a second
    // `agent_id` ANDed, a second `limit` won, a second `retention_days`
    // lost). Every route now refuses it, naming it.
    for p in [
        "/decisions?agent_id=a&agent_id=b",
        "/decisions?limit=5&limit=50",
        "/sessions?state=active&limit=2&state=failed",
        "/operations/retention-plan?retention_days=30&retention_days=1",
        "/risk/events?severity=high&severity=low",
    ] {
        let (s, v) = t.get(p).await;
        assert_eq!(s, 400, "{p}: {v}");
        let name = p
            .split(['?', '&'])
            .nth(1)
            .and_then(|kv| kv.split('=').next());
        let name = name.unwrap_or_default();
        assert!(
            detail(&v).starts_with(name) && detail(&v).contains("more than once"),
            "{p}: {v}"
        );
    }
    // Path traversal in ids.
    for p in [
        "/decisions/..%2F..%2Fetc%2Fpasswd",
        "/repositories/a/../../etc",
        "/evidence/..%2Fx",
    ] {
        let (s, v) = t.get(p).await;
        assert!(s == 400 || s == 404, "{p}: {s}");
        assert!(v["detail"].is_string(), "{p}: {v}");
    }
    // Regression: a NUL in text was stored by JSON and SQLite but was a 500
    // on PostgreSQL. Every backend now answers 400 naming the field, for
    // bodies, query parameters and path ids alike, and stores nothing.
    for (path, body, field) in [
        (
            "/decisions",
            json!({"action_type": "read_file", "target": "a\u{0}b"}),
            "target",
        ),
        (
            "/agents",
            json!({"agent_id": "a", "owner": "x", "metadata": {"notes": ["ok", "b\u{0}"]}}),
            "metadata.notes[1]",
        ),
        (
            "/sessions",
            json!({"session_id": "s-nul", "metadata": {"k\u{0}": 1}}),
            "metadata.k\\u0000",
        ),
    ] {
        let (s, v) = t.post(path, body.clone()).await;
        assert_eq!(s, 400, "{body} -> {v}");
        assert!(detail(&v).starts_with(field), "{body} -> {v}");
        assert!(detail(&v).contains("NUL"), "{body} -> {v}");
    }
    for p in [
        "/decisions?agent_id=a%00",
        "/decisions/a%00b",
        "/repositories/x%00/y",
        "/policy-rollout-details/r%00",
    ] {
        let (s, v) = t.get(p).await;
        assert_eq!(s, 400, "{p}: {v}");
        assert!(detail(&v).contains("NUL"), "{p}: {v}");
    }
    // Regression: an id that is not UTF-8 once decoded answered
    // {"detail": "Bad Request"}, naming nothing.
    for p in ["/sessions/%FF", "/decisions/a%C3", "/repositories/x/%FF"] {
        let (s, v) = t.get(p).await;
        assert_eq!(s, 400, "{p}: {v}");
        assert!(detail(&v).starts_with("path"), "{p}: {v}");
        assert!(detail(&v).contains("UTF-8"), "{p}: {v}");
    }
    let (_, d) = t.get("/decisions").await;
    assert_eq!(d["total"], 0, "{d}");
    let (_, a) = t.get("/agents").await;
    assert!(!a.to_string().contains("\\u0000"), "{a}");
    // Wrong method, unknown route.
    let r = raw(reqwest::Method::DELETE, "/decisions")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert!(r.json::<Value>().await.unwrap()["detail"].is_string());
    let r = raw(reqwest::Method::PUT, "/health").send().await.unwrap();
    assert_eq!(r.status(), 405);
    let (s, v) = t.get("/no/such/route").await;
    assert_eq!(s, 404);
    assert!(v["detail"].is_string());
    // Bodies over the 1 MiB limit: 413, whether announced or streamed.
    // Sent by a client of their own: the server closes the connections it
    // cuts off, and the shared client's pool must not keep one of them
    // for the requests below (reqwest would report an incomplete message).
    let cut = reqwest::Client::new();
    let big = vec![b'x'; 100 * 1024 * 1024];
    let r = cut
        .post(t.url("/evidence"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await;
    // The server answers 413 as soon as it sees the length; the client may
    // still be sending and see the connection close instead.
    if let Ok(r) = r {
        assert_eq!(r.status(), 413);
        assert!(
            r.json::<Value>().await.unwrap()["detail"]
                .as_str()
                .unwrap()
                .contains("limit")
        );
    }
    // A streamed body without a length is cut off at the limit too.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..48).map(|_| Ok(vec![b' '; 64 * 1024])).collect();
    let stream = futures_util::stream::iter(chunks);
    let r = cut
        .post(t.url("/evidence"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await;
    if let Ok(r) = r {
        assert_eq!(r.status(), 413);
        assert!(r.json::<Value>().await.unwrap()["detail"].is_string());
    }
    // The server is still healthy.
    assert_eq!(t.get("/health").await.0, 200);
    // Nothing above reached a store.
    let (_, l) = t.get("/sessions").await;
    assert_eq!(l["total"], 0);
    let (_, l) = t.get("/agents").await;
    assert_eq!(l["total"], 0);
}
