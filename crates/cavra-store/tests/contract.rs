//! The store contract: one suite, run unchanged against JSON files, SQLite
//! and PostgreSQL. Every kind, every filter, ordering, paging, upsert and
//! merge semantics.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::type_complexity
)]

mod common;

use cavra_store::{Kind, Query, StoreError, Stores};
use common::Backend;
use serde_json::{Value, json};

/// Generates one test per backend for each contract function.
macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod json_backend { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(super::common::open(super::Backend::Json).await.stores).await } )* }
        mod sqlite_backend { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(super::common::open(super::Backend::Sqlite).await.stores).await } )* }
        mod postgres_backend { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(super::common::open(super::Backend::Postgres).await.stores).await } )* }
    };
}

contract!(
    decision_defaults_and_validation,
    decision_filters_order_paging,
    session_rebuilt_from_decisions,
    session_upsert_merges,
    session_filters_and_order,
    repositories,
    policy_rollouts,
    integrations,
    agents,
    mcp_servers,
    evidence_metadata,
    approvals,
    import_export_roundtrip,
    concurrent_writes_all_land,
    query_validation,
    filtered_totals_stay_exact,
);

async fn list(s: &Stores, kind: Kind, params: &[(&str, &str)]) -> (Vec<Value>, i64) {
    let q = Query::from_params(kind, params.iter().copied()).unwrap();
    let page = s.list(q).await.unwrap();
    (page.items, page.total)
}

fn ids(items: &[Value], key: &str) -> Vec<String> {
    items
        .iter()
        .map(|v| v[key].as_str().unwrap().to_string())
        .collect()
}

fn invalid_field(r: Result<Value, StoreError>) -> String {
    match r {
        Err(StoreError::Invalid { field, .. }) => field,
        other => panic!("expected a field error, got {other:?}"),
    }
}

async fn decision_defaults_and_validation(s: Stores) {
    let d = s.put(Kind::Decision, &json!({"extra": 1})).await.unwrap();
    assert!(d["decision_id"].as_str().unwrap().starts_with("dec_"));
    assert_eq!(d["decision_id"].as_str().unwrap().len(), 16);
    assert!(d["correlation_id"].as_str().unwrap().starts_with("corr_"));
    assert_eq!(d["session_id"], "local");
    assert_eq!(d["agent_id"], "unknown-agent");
    assert_eq!(d["actor"], "ai-agent");
    assert_eq!(d["repository"], "local");
    assert_eq!(d["action_type"], "unknown");
    assert_eq!(d["policy_pack"], "cavra-ai-agent-baseline");
    assert_eq!(d["policy_id"], "cavra-ai-agent-baseline");
    assert_eq!(d["rule_id"], "runtime.default");
    assert_eq!(d["decision"], "audit_only");
    assert_eq!(d["severity"], "low");
    assert_eq!(d["schema_version"], "cavra.decision.v1");
    assert_eq!(d["evidence_refs"], json!([]));
    assert!(d.get("extra").is_none(), "unknown fields are not kept");
    let ts = d["timestamp"].as_str().unwrap();
    assert!(ts.ends_with("+00:00") && ts.len() == 32, "{ts}");

    let id = d["decision_id"].as_str().unwrap();
    assert_eq!(s.get(Kind::Decision, id).await.unwrap().unwrap(), d);
    assert!(
        s.get(Kind::Decision, "dec_missing")
            .await
            .unwrap()
            .is_none()
    );

    // Timestamps in any offset are stored in UTC.
    let d = s
        .put(
            Kind::Decision,
            &json!({"decision_id": "dec_tz", "timestamp": "2026-01-02T05:04:05+02:00", "decision": "BLOCK", "severity": "High"}),
        )
        .await
        .unwrap();
    assert_eq!(d["timestamp"], "2026-01-02T03:04:05.000000+00:00");
    assert_eq!(d["decision"], "block");
    assert_eq!(d["severity"], "high");

    for (body, field) in [
        (json!({"decision": "maybe"}), "decision"),
        (json!({"severity": "extreme"}), "severity"),
        (json!({"timestamp": "yesterday"}), "timestamp"),
        (json!({"agent_id": {"a": 1}}), "agent_id"),
        (json!({"evidence_refs": [1]}), "evidence_refs[0]"),
        (json!({"decision_id": "../../etc/passwd"}), "decision_id"),
        (json!({"decision_id": "x".repeat(300)}), "decision_id"),
        (json!({"explanation": "text"}), "explanation"),
    ] {
        assert_eq!(
            invalid_field(s.put(Kind::Decision, &body).await),
            field,
            "{body}"
        );
    }
    assert_eq!(
        invalid_field(s.put(Kind::Decision, &json!([1])).await),
        "body"
    );
    // Nothing from the rejected bodies was stored.
    let (_, total) = list(&s, Kind::Decision, &[]).await;
    assert_eq!(total, 2);
}

fn decision(id: &str, ts: &str, extra: Value) -> Value {
    let mut d = json!({"decision_id": id, "timestamp": ts});
    for (k, v) in extra.as_object().unwrap() {
        d[k] = v.clone();
    }
    d
}

async fn decision_filters_order_paging(s: Stores) {
    let rows = [
        (
            "dec_a",
            "2026-01-01T00:00:01Z",
            json!({"session_id": "s1", "agent_id": "claude-code", "repository": "payments/api", "policy_pack": "p1", "decision": "block", "severity": "high", "action_type": "execute_command"}),
        ),
        (
            "dec_b",
            "2026-01-01T00:00:03Z",
            json!({"session_id": "s1", "agent_id": "codex", "repository": "payments/api", "policy_pack": "p2", "decision": "allow", "severity": "low", "action_type": "read_file"}),
        ),
        (
            "dec_c",
            "2026-01-01T00:00:02Z",
            json!({"session_id": "s2", "agent_id": "claude-code", "repository": "web", "policy_pack": "p1", "decision": "require_approval", "severity": "medium", "action_type": "write_file"}),
        ),
        (
            "dec_d",
            "2026-01-01T00:00:02Z",
            json!({"session_id": "s2", "agent_id": "claude-code", "repository": "web", "policy_pack": "p1", "decision": "block", "severity": "critical", "action_type": "execute_command"}),
        ),
    ];
    for (id, ts, extra) in rows {
        s.put(Kind::Decision, &decision(id, ts, extra))
            .await
            .unwrap();
    }
    let (items, total) = list(&s, Kind::Decision, &[]).await;
    assert_eq!(total, 4);
    // Newest first; equal timestamps by id.
    assert_eq!(
        ids(&items, "decision_id"),
        ["dec_b", "dec_c", "dec_d", "dec_a"]
    );

    let cases: &[(&[(&str, &str)], &[&str])] = &[
        (&[("session_id", "s1")], &["dec_b", "dec_a"]),
        (&[("agent_id", "claude-code")], &["dec_c", "dec_d", "dec_a"]),
        (&[("repository", "payments/api")], &["dec_b", "dec_a"]),
        (&[("policy_pack", "p2")], &["dec_b"]),
        (&[("decision", "block")], &["dec_d", "dec_a"]),
        (&[("severity", "critical")], &["dec_d"]),
        (&[("action_type", "execute_command")], &["dec_d", "dec_a"]),
        (
            &[
                ("agent_id", "claude-code"),
                ("decision", "block"),
                ("session_id", "s2"),
            ],
            &["dec_d"],
        ),
        (&[("agent_id", "nobody")], &[]),
        (
            &[("since", "2026-01-01T00:00:02Z")],
            &["dec_b", "dec_c", "dec_d"],
        ),
        (
            &[("until", "2026-01-01T00:00:02+00:00")],
            &["dec_c", "dec_d", "dec_a"],
        ),
        (
            &[
                ("since", "2026-01-01T00:00:02Z"),
                ("until", "2026-01-01T00:00:02Z"),
            ],
            &["dec_c", "dec_d"],
        ),
        (&[("min_severity", "high")], &["dec_d", "dec_a"]),
        (&[("min_severity", "medium")], &["dec_c", "dec_d", "dec_a"]),
        (&[("risky", "true")], &["dec_c", "dec_d", "dec_a"]),
        (&[("risky", "false")], &["dec_b"]),
    ];
    for (params, want) in cases {
        let (items, total) = list(&s, Kind::Decision, params).await;
        assert_eq!(ids(&items, "decision_id"), *want, "{params:?}");
        assert_eq!(total, want.len() as i64, "{params:?}");
    }
    // Paging: total counts every match, items only the page.
    let q = Query::from_params(Kind::Decision, [("limit", "2"), ("offset", "1")]).unwrap();
    let page = s.list(q).await.unwrap();
    assert_eq!(ids(&page.items, "decision_id"), ["dec_c", "dec_d"]);
    assert_eq!((page.total, page.limit, page.offset), (4, 2, 1));
    let q = Query::from_params(Kind::Decision, [("offset", "10")]).unwrap();
    let page = s.list(q).await.unwrap();
    assert!(page.items.is_empty());
    assert_eq!(page.total, 4);
    // Limits are clamped to 1..=500.
    for (raw, want) in [("0", 1), ("-5", 1), ("100000", 500), ("7", 7)] {
        let q = Query::from_params(Kind::Decision, [("limit", raw)]).unwrap();
        assert_eq!(s.list(q).await.unwrap().limit, want);
    }
    // Upsert replaces the whole decision.
    s.put(
        Kind::Decision,
        &decision(
            "dec_b",
            "2026-01-01T00:00:03Z",
            json!({"session_id": "s1", "decision": "warn"}),
        ),
    )
    .await
    .unwrap();
    let b = s.get(Kind::Decision, "dec_b").await.unwrap().unwrap();
    assert_eq!(b["decision"], "warn");
    assert_eq!(b["agent_id"], "unknown-agent");
    assert_eq!(list(&s, Kind::Decision, &[]).await.1, 4);
}

async fn session_rebuilt_from_decisions(s: Stores) {
    let put = |id: &str, sid: &str, outcome: &str, ts: &str| {
        json!({"decision_id": id, "session_id": sid, "decision": outcome, "timestamp": ts,
               "agent_id": "claude-code", "repository": "payments/api", "evidence_refs": [format!("evidence://{sid}/{id}")]})
    };
    s.put(
        Kind::Decision,
        &put("d1", "sess", "block", "2026-02-01T00:00:05Z"),
    )
    .await
    .unwrap();
    s.put(
        Kind::Decision,
        &put("d2", "sess", "require_approval", "2026-02-01T00:00:01Z"),
    )
    .await
    .unwrap();
    s.put(
        Kind::Decision,
        &put("d3", "sess", "allow", "2026-02-01T00:00:09Z"),
    )
    .await
    .unwrap();
    let sess = s.get(Kind::Session, "sess").await.unwrap().unwrap();
    assert_eq!(sess["decision_count"], 3);
    assert_eq!(sess["blocked_count"], 1);
    assert_eq!(sess["approval_required_count"], 1);
    assert_eq!(sess["agent_id"], "claude-code");
    assert_eq!(sess["repository"], "payments/api");
    assert_eq!(sess["state"], "active");
    assert_eq!(sess["started_at"], "2026-02-01T00:00:01.000000+00:00");
    assert_eq!(sess["updated_at"], "2026-02-01T00:00:09.000000+00:00");
    assert_eq!(sess["evidence_refs"].as_array().unwrap().len(), 3);
    assert_eq!(sess["schema_version"], "cavra.session.v1");

    // Replacing a decision moves the counts, it does not add to them.
    s.put(
        Kind::Decision,
        &put("d1", "sess", "allow", "2026-02-01T00:00:05Z"),
    )
    .await
    .unwrap();
    let sess = s.get(Kind::Session, "sess").await.unwrap().unwrap();
    assert_eq!(
        (
            sess["decision_count"].clone(),
            sess["blocked_count"].clone()
        ),
        (json!(3), json!(0))
    );

    // A decision moved to another session leaves the first.
    s.put(
        Kind::Decision,
        &put("d2", "other", "require_approval", "2026-02-01T00:00:01Z"),
    )
    .await
    .unwrap();
    let sess = s.get(Kind::Session, "sess").await.unwrap().unwrap();
    assert_eq!(sess["decision_count"], 2);
    assert_eq!(sess["approval_required_count"], 0);
    let other = s.get(Kind::Session, "other").await.unwrap().unwrap();
    assert_eq!(other["decision_count"], 1);
    assert_eq!(other["approval_required_count"], 1);

    // Many decisions: counts stay exact.
    for i in 0..40 {
        let outcome = if i % 4 == 0 { "block" } else { "allow" };
        s.put(
            Kind::Decision,
            &put(&format!("m{i:02}"), "many", outcome, "2026-02-02T00:00:00Z"),
        )
        .await
        .unwrap();
    }
    let many = s.get(Kind::Session, "many").await.unwrap().unwrap();
    assert_eq!(many["decision_count"], 40);
    assert_eq!(many["blocked_count"], 10);
    assert!(
        many["evidence_refs"].as_array().unwrap().len() <= cavra_store::records::MAX_SESSION_REFS
    );
}

async fn session_upsert_merges(s: Stores) {
    // Without decisions the payload's counts are kept.
    let a = s
        .put(Kind::Session, &json!({"session_id": "a", "agent_id": "codex", "status": "completed", "decision_count": 7}))
        .await
        .unwrap();
    assert_eq!(a["state"], "completed");
    assert_eq!(a["decision_count"], 7);
    assert_eq!(a["blocked_count"], 0);
    assert_eq!(a["actor"], "ai-agent");
    assert_eq!(a["policy_pack"], "cavra-ai-agent-baseline");
    // A second upsert merges: fields not given are kept.
    let a = s
        .put(
            Kind::Session,
            &json!({"session_id": "a", "repository": "web"}),
        )
        .await
        .unwrap();
    assert_eq!(a["agent_id"], "codex");
    assert_eq!(a["state"], "completed");
    assert_eq!(a["repository"], "web");
    // Once decisions exist, counts come from them.
    s.put(
        Kind::Decision,
        &json!({"decision_id": "x1", "session_id": "a", "decision": "block"}),
    )
    .await
    .unwrap();
    let a = s.get(Kind::Session, "a").await.unwrap().unwrap();
    assert_eq!(
        (a["decision_count"].clone(), a["blocked_count"].clone()),
        (json!(1), json!(1))
    );
    let a = s
        .put(
            Kind::Session,
            &json!({"session_id": "a", "decision_count": 99, "state": "archived"}),
        )
        .await
        .unwrap();
    assert_eq!(a["decision_count"], 1);
    assert_eq!(a["state"], "archived");
    assert_eq!(a["agent_id"], "codex", "identity kept over the decision's");

    assert_eq!(
        invalid_field(s.put(Kind::Session, &json!({"agent_id": "x"})).await),
        "session_id"
    );
    assert_eq!(
        invalid_field(
            s.put(
                Kind::Session,
                &json!({"session_id": "b", "state": "sleeping"})
            )
            .await
        ),
        "state"
    );
    assert_eq!(
        invalid_field(
            s.put(
                Kind::Session,
                &json!({"session_id": "b", "decision_count": -1})
            )
            .await
        ),
        "decision_count"
    );
}

async fn session_filters_and_order(s: Stores) {
    for (id, agent, repo, pack, state, updated) in [
        ("s1", "codex", "web", "p1", "active", "2026-03-01T00:00:01Z"),
        (
            "s2",
            "claude-code",
            "web",
            "p2",
            "completed",
            "2026-03-01T00:00:03Z",
        ),
        (
            "s3",
            "claude-code",
            "api",
            "p1",
            "failed",
            "2026-03-01T00:00:02Z",
        ),
    ] {
        s.put(Kind::Session, &json!({"session_id": id, "agent_id": agent, "repository": repo, "policy_pack": pack, "state": state, "updated_at": updated}))
            .await
            .unwrap();
    }
    let (items, _) = list(&s, Kind::Session, &[]).await;
    assert_eq!(ids(&items, "session_id"), ["s2", "s3", "s1"]);
    for (params, want) in [
        (vec![("agent_id", "claude-code")], vec!["s2", "s3"]),
        (vec![("repository", "web")], vec!["s2", "s1"]),
        (vec![("policy_pack", "p1")], vec!["s3", "s1"]),
        (vec![("state", "failed")], vec!["s3"]),
    ] {
        let (items, total) = list(&s, Kind::Session, &params).await;
        assert_eq!(ids(&items, "session_id"), want, "{params:?}");
        assert_eq!(total, want.len() as i64);
    }
}

async fn repositories(s: Stores) {
    let r = s
        .put(
            Kind::Repository,
            &json!({"name": "payments/api", "owner": "team-pay"}),
        )
        .await
        .unwrap();
    assert_eq!(r["repository_id"], "payments/api");
    assert_eq!(r["repository"], "payments/api");
    assert_eq!(r["provider"], "github");
    assert_eq!(r["default_branch"], "main");
    assert_eq!(r["business_unit"], "engineering");
    assert_eq!(r["environment"], "development");
    assert_eq!(r["risk_tier"], "medium");
    assert_eq!(r["status"], "active");
    assert_eq!(r["protected_branches"], json!(["main"]));
    assert_eq!(r["schema_version"], "cavra.repository.v1");
    let created = r["created_at"].clone();
    assert!(created.is_string());
    s.put(Kind::Repository, &json!({"repository_id": "repo-2", "repository": "org/web", "provider": "gitlab", "status": "archived", "risk_tier": "high", "policy_pack": "p2"})).await.unwrap();
    s.put(
        Kind::Repository,
        &json!({"repository": "org/infra", "required_checks": "ci"}),
    )
    .await
    .unwrap();
    // GET by id or by name; ids may contain slashes.
    assert_eq!(
        s.get(Kind::Repository, "payments/api")
            .await
            .unwrap()
            .unwrap()["owner"],
        "team-pay"
    );
    assert_eq!(
        s.get(Kind::Repository, "org/web").await.unwrap().unwrap()["repository_id"],
        "repo-2"
    );
    assert_eq!(
        s.get(Kind::Repository, "org/infra").await.unwrap().unwrap()["required_checks"],
        json!(["ci"])
    );
    // Upsert replaces but keeps created_at.
    let r2 = s
        .put(
            Kind::Repository,
            &json!({"repository": "payments/api", "owner": "team-b"}),
        )
        .await
        .unwrap();
    assert_eq!(r2["created_at"], created);
    assert_eq!(r2["owner"], "team-b");
    let (items, total) = list(&s, Kind::Repository, &[]).await;
    assert_eq!(total, 3);
    assert_eq!(
        ids(&items, "repository_id"),
        ["org/infra", "payments/api", "repo-2"]
    );
    for (params, want) in [
        (vec![("provider", "gitlab")], vec!["repo-2"]),
        (vec![("owner", "team-b")], vec!["payments/api"]),
        (vec![("policy_pack", "p2")], vec!["repo-2"]),
        (vec![("status", "archived")], vec!["repo-2"]),
        (
            vec![("risk_tier", "medium")],
            vec!["org/infra", "payments/api"],
        ),
    ] {
        let (items, _) = list(&s, Kind::Repository, &params).await;
        assert_eq!(ids(&items, "repository_id"), want, "{params:?}");
    }
    assert_eq!(
        invalid_field(s.put(Kind::Repository, &json!({"owner": "x"})).await),
        "repository"
    );
    assert_eq!(
        invalid_field(
            s.put(
                Kind::Repository,
                &json!({"repository": "a", "status": "gone"})
            )
            .await
        ),
        "status"
    );
}

async fn policy_rollouts(s: Stores) {
    let r = s
        .put(
            Kind::Rollout,
            &json!({"repository": "payments/api", "policy_pack": "cavra-soc2"}),
        )
        .await
        .unwrap();
    assert_eq!(r["rollout_id"], "payments/api:cavra-soc2");
    assert_eq!(r["mode"], "enforce");
    assert_eq!(r["state"], "planned");
    assert_eq!(r["owner"], "platform-security");
    assert_eq!(r["policy_version"], "latest");
    assert_eq!(r["coverage_percent"].as_f64(), Some(0.0));
    s.put(Kind::Rollout, &json!({"rollout_id": "r2", "repository": "web", "policy_pack": "p", "mode": "audit_only", "state": "active", "owner": "sec", "coverage_percent": 85.5})).await.unwrap();
    assert_eq!(
        s.get(Kind::Rollout, "payments/api:cavra-soc2")
            .await
            .unwrap()
            .unwrap()["mode"],
        "enforce"
    );
    for (params, want) in [
        (vec![("repository", "web")], vec!["r2"]),
        (
            vec![("policy_pack", "cavra-soc2")],
            vec!["payments/api:cavra-soc2"],
        ),
        (vec![("state", "active")], vec!["r2"]),
        (vec![("mode", "enforce")], vec!["payments/api:cavra-soc2"]),
        (vec![("owner", "sec")], vec!["r2"]),
    ] {
        let (items, _) = list(&s, Kind::Rollout, &params).await;
        assert_eq!(ids(&items, "rollout_id"), want, "{params:?}");
    }
    assert_eq!(
        invalid_field(s.put(Kind::Rollout, &json!({"repository": "a"})).await),
        "policy_pack"
    );
    assert_eq!(
        invalid_field(
            s.put(
                Kind::Rollout,
                &json!({"repository": "a", "policy_pack": "b", "mode": "yolo"})
            )
            .await
        ),
        "mode"
    );
    assert_eq!(
        invalid_field(
            s.put(
                Kind::Rollout,
                &json!({"repository": "a", "policy_pack": "b", "coverage_percent": 140})
            )
            .await
        ),
        "coverage_percent"
    );
}

async fn integrations(s: Stores) {
    let i = s
        .put(
            Kind::Integration,
            &json!({"provider": "Splunk HEC", "environment": "prod", "category": "siem"}),
        )
        .await
        .unwrap();
    assert_eq!(i["integration_id"], "splunk-hec-prod");
    assert_eq!(i["name"], "Splunk HEC");
    assert_eq!(i["status"], "planned");
    assert_eq!(i["health_status"], "not_checked");
    assert_eq!(i["auth_mode"], "not_configured");
    let d = s
        .put(Kind::Integration, &json!({"provider": "github"}))
        .await
        .unwrap();
    assert_eq!(d["integration_id"], "github-global");
    assert_eq!(d["category"], "security");
    s.put(Kind::Integration, &json!({"integration_id": "jira", "provider": "jira", "category": "itsm", "status": "active", "health_status": "healthy", "owner": "ops", "auth_mode": "oauth"})).await.unwrap();
    assert_eq!(
        s.get(Kind::Integration, "Splunk HEC")
            .await
            .unwrap()
            .unwrap()["integration_id"],
        "splunk-hec-prod"
    );
    for (params, want) in [
        (vec![("provider", "jira")], vec!["jira"]),
        (vec![("category", "siem")], vec!["splunk-hec-prod"]),
        (vec![("status", "active")], vec!["jira"]),
        (
            vec![("health_status", "not_checked")],
            vec!["github-global", "splunk-hec-prod"],
        ),
        (vec![("owner", "ops")], vec!["jira"]),
        (vec![("environment", "prod")], vec!["splunk-hec-prod"]),
        (vec![("auth_mode", "oauth")], vec!["jira"]),
    ] {
        let (items, _) = list(&s, Kind::Integration, &params).await;
        assert_eq!(ids(&items, "integration_id"), want, "{params:?}");
    }
    assert_eq!(
        invalid_field(s.put(Kind::Integration, &json!({"name": "x"})).await),
        "provider"
    );
    assert_eq!(
        invalid_field(
            s.put(
                Kind::Integration,
                &json!({"provider": "x", "category": "toys"})
            )
            .await
        ),
        "category"
    );
    assert_eq!(
        invalid_field(
            s.put(
                Kind::Integration,
                &json!({"provider": "x", "health_status": "sick"})
            )
            .await
        ),
        "health_status"
    );
}

async fn agents(s: Stores) {
    let a = s
        .put(
            Kind::Agent,
            &json!({"agent_id": "claude-code", "capabilities": "shell", "owner": "dev"}),
        )
        .await
        .unwrap();
    assert_eq!(a["type"], "coding-agent");
    assert_eq!(a["status"], "active");
    assert_eq!(a["risk_tier"], "medium");
    assert_eq!(a["capabilities"], json!(["shell"]));
    s.put(
        Kind::Agent,
        &json!({"agent_id": "codex", "status": "disabled"}),
    )
    .await
    .unwrap();
    let (items, _) = list(&s, Kind::Agent, &[("status", "disabled")]).await;
    assert_eq!(ids(&items, "agent_id"), ["codex"]);
    let (items, _) = list(&s, Kind::Agent, &[("owner", "dev")]).await;
    assert_eq!(ids(&items, "agent_id"), ["claude-code"]);
    assert_eq!(
        invalid_field(s.put(Kind::Agent, &json!({"vendor": "x"})).await),
        "agent_id"
    );
    assert_eq!(
        invalid_field(
            s.put(Kind::Agent, &json!({"agent_id": "x", "status": "sleeping"}))
                .await
        ),
        "status"
    );
}

async fn mcp_servers(s: Stores) {
    let m = s.put(Kind::McpServer, &json!({"name": "github-mcp", "trust_tier": "trusted", "capabilities": ["repository", "network"]})).await.unwrap();
    assert_eq!(m["server_id"], "github-mcp");
    assert_eq!(m["approval_state"], "approved");
    let u = s
        .put(
            Kind::McpServer,
            &json!({"id": "random", "name": "Random Server"}),
        )
        .await
        .unwrap();
    assert_eq!(u["server_id"], "random");
    assert_eq!(u["trust_tier"], "unknown");
    assert_eq!(u["approval_state"], "pending");
    s.put(Kind::McpServer, &json!({"server_id": "db", "trust_tier": "experimental", "approval_state": "denied", "capabilities": ["database"]})).await.unwrap();
    assert_eq!(
        s.get(Kind::McpServer, "Random Server")
            .await
            .unwrap()
            .unwrap()["server_id"],
        "random"
    );
    for (params, want) in [
        (vec![("trust_tier", "trusted")], vec!["github-mcp"]),
        (vec![("approval_state", "pending")], vec!["random"]),
        (vec![("capability", "database")], vec!["db"]),
        (vec![("capability", "network")], vec!["github-mcp"]),
        (vec![("capability", "netw")], vec![]),
    ] {
        let (items, _) = list(&s, Kind::McpServer, &params).await;
        assert_eq!(ids(&items, "server_id"), want, "{params:?}");
    }
    // Regression: two servers sharing a name. Every backend answers with
    // the one whose key sorts first, whatever the order they were stored
    // in (the JSON backend used to answer with the first stored).
    for id in ["shared-z", "shared-a"] {
        s.put(
            Kind::McpServer,
            &json!({"server_id": id, "name": "Shared Server"}),
        )
        .await
        .unwrap();
    }
    assert_eq!(
        s.get(Kind::McpServer, "Shared Server")
            .await
            .unwrap()
            .unwrap()["server_id"],
        "shared-a"
    );
    assert_eq!(
        invalid_field(
            s.put(Kind::McpServer, &json!({"trust_tier": "trusted"}))
                .await
        ),
        "server_id"
    );
    assert_eq!(
        invalid_field(
            s.put(
                Kind::McpServer,
                &json!({"server_id": "x", "trust_tier": "sketchy"})
            )
            .await
        ),
        "trust_tier"
    );
}

async fn evidence_metadata(s: Stores) {
    let e = s
        .put(Kind::Evidence, &json!({"session_id": "sess-alpha", "created_at": "2026-04-01T00:00:01Z", "signer": "ci", "blocked_count": 2, "approval_required_count": 1, "metadata_kind": "session", "manifest_signature": {"alg": "ed25519"}, "deployment_target": ["linux", "macos"], "environment": "prod"}))
        .await
        .unwrap();
    assert_eq!(e["schema_version"], "cavra.evidence.metadata.v1");
    assert_eq!(e["product"], "CAVRA");
    assert_eq!(e["manifest_signature"]["alg"], "ed25519", "payload kept");
    s.put(Kind::Evidence, &json!({"session_id": "sess-beta", "created_at": "2026-04-01T00:00:03Z", "metadata_kind": "rollout", "rollout_status": "active", "target_ring": "canary", "approval_state": "approved", "promotion_execution_status": "done", "rollback_execution_status": "none"}))
        .await
        .unwrap();
    s.put(Kind::Evidence, &json!({"session_id": "gamma", "created_at": "2026-04-01T00:00:02Z", "blocked_count": 5, "deployment_target": "windows"}))
        .await
        .unwrap();
    let (items, _) = list(&s, Kind::Evidence, &[]).await;
    assert_eq!(
        ids(&items, "session_id"),
        ["sess-beta", "gamma", "sess-alpha"]
    );
    for (params, want) in [
        (
            vec![("session_id", "sess")],
            vec!["sess-beta", "sess-alpha"],
        ),
        (vec![("signer", "ci")], vec!["sess-alpha"]),
        (vec![("signer", "local")], vec!["sess-beta", "gamma"]),
        (vec![("min_blocked", "2")], vec!["gamma", "sess-alpha"]),
        (vec![("min_blocked", "3")], vec!["gamma"]),
        (vec![("has_approvals", "true")], vec!["sess-alpha"]),
        (vec![("has_approvals", "false")], vec!["sess-beta", "gamma"]),
        (vec![("metadata_kind", "rollout")], vec!["sess-beta"]),
        (vec![("rollout_status", "active")], vec!["sess-beta"]),
        (vec![("environment", "prod")], vec!["sess-alpha"]),
        (vec![("target_ring", "canary")], vec!["sess-beta"]),
        (vec![("approval_state", "approved")], vec!["sess-beta"]),
        (
            vec![("promotion_execution_status", "done")],
            vec!["sess-beta"],
        ),
        (
            vec![("rollback_execution_status", "none")],
            vec!["sess-beta"],
        ),
        (vec![("deployment_target", "macos")], vec!["sess-alpha"]),
        (vec![("deployment_target", "windows")], vec!["gamma"]),
    ] {
        let (items, total) = list(&s, Kind::Evidence, &params).await;
        assert_eq!(ids(&items, "session_id"), want, "{params:?}");
        assert_eq!(total, want.len() as i64);
    }
    // Upsert by session_id replaces the record.
    s.put(
        Kind::Evidence,
        &json!({"session_id": "gamma", "signer": "release"}),
    )
    .await
    .unwrap();
    let g = s.get(Kind::Evidence, "gamma").await.unwrap().unwrap();
    assert_eq!(g["signer"], "release");
    assert_eq!(g["blocked_count"], 0);
    assert_eq!(list(&s, Kind::Evidence, &[]).await.1, 3);
    assert_eq!(
        invalid_field(s.put(Kind::Evidence, &json!({"signer": "x"})).await),
        "session_id"
    );
    assert_eq!(
        invalid_field(
            s.put(
                Kind::Evidence,
                &json!({"session_id": "x", "metadata_kind": ["a"]})
            )
            .await
        ),
        "metadata_kind"
    );
}

async fn approvals(s: Stores) {
    let a = s
        .put(Kind::Approval, &json!({"decision": {"decision_id": "dec_1", "session_id": "s1", "approver_group": "Platform Security"}, "requested_at": "2026-05-01T00:00:00Z"}))
        .await
        .unwrap();
    assert!(a["approval_id"].as_str().unwrap().starts_with("apr_"));
    assert_eq!(a["decision_id"], "dec_1");
    assert_eq!(a["session_id"], "s1");
    assert_eq!(a["approver_group"], "Platform Security");
    assert_eq!(a["state"], "pending");
    assert_eq!(a["requested_by"], "ai-agent");
    assert_eq!(a["expires_at"], "2026-05-02T00:00:00.000000+00:00");
    assert_eq!(a["history"], json!([]));
    let b = s
        .put(Kind::Approval, &json!({"approval_id": "apr_b", "decision_id": "dec_2", "approver_group": "IAM", "state": "approved", "requested_at": "2026-05-01T00:00:02Z", "ttl_hours": 0.1}))
        .await
        .unwrap();
    assert_eq!(
        b["expires_at"], "2026-05-01T01:00:02.000000+00:00",
        "TTL is at least one hour"
    );
    let (items, _) = list(&s, Kind::Approval, &[]).await;
    assert_eq!(items[0]["approval_id"], "apr_b", "newest request first");
    let (items, _) = list(&s, Kind::Approval, &[("state", "approved")]).await;
    assert_eq!(ids(&items, "approval_id"), ["apr_b"]);
    let (items, _) = list(
        &s,
        Kind::Approval,
        &[("approver_group", "Platform Security")],
    )
    .await;
    assert_eq!(items.len(), 1);
    assert_eq!(
        invalid_field(s.put(Kind::Approval, &json!({"state": "pending"})).await),
        "decision_id"
    );
    assert_eq!(
        invalid_field(
            s.put(
                Kind::Approval,
                &json!({"decision_id": "d", "state": "maybe"})
            )
            .await
        ),
        "state"
    );
}

async fn import_export_roundtrip(s: Stores) {
    for i in 0..25 {
        s.put(
            Kind::Decision,
            &json!({"decision_id": format!("d{i:02}"), "session_id": format!("s{}", i % 3)}),
        )
        .await
        .unwrap();
    }
    let mut all = cavra_store::Collect::default();
    s.export(Kind::Decision, 7, &mut all).await.unwrap();
    assert_eq!(all.0.len(), 25);
    let mut sessions = cavra_store::Collect::default();
    s.export(Kind::Session, 2, &mut sessions).await.unwrap();
    assert_eq!(sessions.0.len(), 3);
    // Raw import keeps records exactly (no merge, no defaults).
    let raw =
        serde_json::from_value(json!({"decision_id": "raw1", "session_id": "s0", "custom": true}))
            .unwrap();
    s.import(Kind::Decision, vec![raw]).await.unwrap();
    let got = s.get(Kind::Decision, "raw1").await.unwrap().unwrap();
    assert_eq!(got["custom"], true);
    assert_eq!(
        s.get(Kind::Session, "s0").await.unwrap().unwrap()["decision_count"],
        9
    );
}

async fn concurrent_writes_all_land(s: Stores) {
    let mut tasks = Vec::new();
    for i in 0..200 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.put(Kind::Decision, &json!({"decision_id": format!("c{i:03}"), "session_id": "conc", "decision": if i % 2 == 0 { "block" } else { "allow" }}))
                .await
                .unwrap()
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(list(&s, Kind::Decision, &[]).await.1, 200);
    let sess = s.get(Kind::Session, "conc").await.unwrap().unwrap();
    assert_eq!(sess["decision_count"], 200);
    assert_eq!(sess["blocked_count"], 100);
}

async fn query_validation(s: Stores) {
    let err = |kind: Kind, p: &[(&str, &str)]| match Query::from_params(kind, p.iter().copied()) {
        Err(StoreError::Invalid { field, .. }) => field,
        other => panic!("expected an error for {p:?}, got {other:?}"),
    };
    assert_eq!(err(Kind::Decision, &[("decision", "maybe")]), "decision");
    assert_eq!(err(Kind::Decision, &[("limit", "ten")]), "limit");
    assert_eq!(
        err(Kind::Decision, &[("offset", "99999999999999")]),
        "offset"
    );
    assert_eq!(err(Kind::Decision, &[("colour", "red")]), "colour");
    assert_eq!(err(Kind::Evidence, &[("min_blocked", "x")]), "min_blocked");
    assert_eq!(
        err(Kind::Evidence, &[("has_approvals", "perhaps")]),
        "has_approvals"
    );
    assert_eq!(err(Kind::Session, &[("state", "asleep")]), "state");
    // A SQL-looking value is just a value.
    let (items, total) = list(&s, Kind::Decision, &[("agent_id", "x' OR '1'='1")]).await;
    assert!(items.is_empty());
    assert_eq!(total, 0);
}

/// Totals of filtered pages stay exact while decisions move between the
/// values they are filtered on: upserts that change an outcome, a
/// severity, an agent; raw imports with fields missing; a cleared store.
/// (SQL backends sum them from a counts table kept by triggers.)
async fn filtered_totals_stay_exact(s: Stores) {
    let outcomes = ["allow", "block", "require_approval", "warn"];
    let severities = ["low", "medium", "high", "critical"];
    let make = |i: usize, shift: usize| {
        json!({
            "decision_id": format!("t{i:03}"),
            "session_id": format!("s{}", i % 4),
            "agent_id": format!("agent-{}", (i + shift) % 3),
            "repository": format!("org/r{}", i % 2),
            "action_type": if i.is_multiple_of(5) { "read_file" } else { "execute_command" },
            "decision": outcomes[(i + shift) % 4],
            "severity": severities[(i / 2 + shift) % 4],
            "timestamp": format!("2026-03-01T00:00:{:02}Z", i % 60),
        })
    };
    let mut current: Vec<Value> = Vec::new();
    for i in 0..60 {
        current.push(s.put(Kind::Decision, &make(i, 0)).await.unwrap());
    }
    // Every third decision changes outcome, severity and agent.
    for i in (0..60).step_by(3) {
        current[i] = s.put(Kind::Decision, &make(i, 1)).await.unwrap();
    }
    // A raw import with no agent, outcome or severity replaces one.
    let raw: cavra_store::Record =
        serde_json::from_value(json!({"decision_id": "t007", "session_id": "s3"})).unwrap();
    s.import(Kind::Decision, vec![raw.clone()]).await.unwrap();
    current[7] = Value::Object(raw);

    let rank = |v: &Value| severities.iter().position(|x| v == x);
    let checks: Vec<(Vec<(&str, &str)>, Box<dyn Fn(&Value) -> bool>)> = vec![
        (vec![], Box::new(|_| true)),
        (
            vec![("decision", "block")],
            Box::new(|d| d["decision"] == "block"),
        ),
        (
            vec![("severity", "high")],
            Box::new(|d| d["severity"] == "high"),
        ),
        (
            vec![("agent_id", "agent-1")],
            Box::new(|d| d["agent_id"] == "agent-1"),
        ),
        (
            vec![
                ("agent_id", "agent-2"),
                ("decision", "warn"),
                ("severity", "medium"),
            ],
            Box::new(|d| {
                d["agent_id"] == "agent-2" && d["decision"] == "warn" && d["severity"] == "medium"
            }),
        ),
        (
            vec![("repository", "org/r1"), ("action_type", "read_file")],
            Box::new(|d| d["repository"] == "org/r1" && d["action_type"] == "read_file"),
        ),
        (
            vec![("min_severity", "high")],
            Box::new(move |d| rank(&d["severity"]).is_some_and(|r| r >= 2)),
        ),
        (
            vec![("risky", "true")],
            Box::new(|d| {
                d["decision"] == "block"
                    || d["decision"] == "require_approval"
                    || d["severity"] == "high"
                    || d["severity"] == "critical"
            }),
        ),
        (
            vec![("risky", "false")],
            // A record with no outcome or severity is not a risk event.
            Box::new(|d| {
                !(d["decision"] == "block"
                    || d["decision"] == "require_approval"
                    || d["severity"] == "high"
                    || d["severity"] == "critical")
            }),
        ),
        (
            vec![("session_id", "s1"), ("decision", "allow")],
            Box::new(|d| d["session_id"] == "s1" && d["decision"] == "allow"),
        ),
        (
            vec![
                ("session_id", "s1"),
                ("agent_id", "agent-1"),
                ("severity", "low"),
            ],
            Box::new(|d| {
                d["session_id"] == "s1" && d["agent_id"] == "agent-1" && d["severity"] == "low"
            }),
        ),
        (vec![("agent_id", "nobody")], Box::new(|_| false)),
    ];
    for (params, keep) in &checks {
        let want = current.iter().filter(|d| keep(d)).count() as i64;
        let mut p = params.clone();
        p.push(("limit", "500"));
        let (items, total) = list(&s, Kind::Decision, &p).await;
        assert_eq!(total, want, "total for {params:?}");
        assert_eq!(items.len() as i64, want, "items for {params:?}");
        // A page past the end is empty and still tells the total.
        let mut p = params.clone();
        p.push(("offset", "100"));
        let (items, total) = list(&s, Kind::Decision, &p).await;
        assert!(items.is_empty());
        assert_eq!(total, want, "total past the end for {params:?}");
    }
    if s.mode(cavra_store::StoreName::Activity) != "json" {
        s.clear(cavra_store::StoreName::Activity).await.unwrap();
        for (params, _) in &checks {
            assert_eq!(list(&s, Kind::Decision, params).await.1, 0, "{params:?}");
        }
        s.put(Kind::Decision, &make(1, 0)).await.unwrap();
        assert_eq!(
            list(&s, Kind::Decision, &[("agent_id", "agent-1")]).await.1,
            1
        );
        assert_eq!(
            list(&s, Kind::Decision, &[("agent_id", "agent-0")]).await.1,
            0
        );
    }
}
