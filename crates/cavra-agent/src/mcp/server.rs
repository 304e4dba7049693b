//! `cavra mcp serve`: CAVRA itself as a stdio MCP server.
//!
//! Tools: `evaluate_action`, `explain_decision`, `list_policy_packs`,
//! `validate_policy_pack`, `start_session`, `summarize_session` and
//! `pr_attestation`. Every one does its job against the real engine and
//! packs; decisions made through it are recorded in the hook spool and in
//! the server's session table (for summaries and attestations).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use cavra_policy::load::{PackFile, PackSource, resolve, resolve_file};
use cavra_policy::{Action, ActionType, BreakGlass, Decision, EvalContext, Outcome};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock as Content,
    Implementation, InitializeResult, ListToolsResult, PaginatedRequestParams, ServerCapabilities,
    Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

use super::pins::canonical;

/// Settings of the server.
pub struct ServeConfig {
    /// The pack used when a call names none.
    pub default_pack: String,
    pub spool: Option<PathBuf>,
}

#[derive(Default)]
struct Session {
    agent_id: String,
    repository: Option<String>,
    started_at: String,
    decisions: Vec<Decision>,
    /// Decisions no longer kept (see [`MAX_KEPT_DECISIONS`]): all, blocked,
    /// waiting for approval. Summaries and attestations count them.
    dropped: [usize; 3],
}

/// Decisions the server keeps in memory for summaries and attestations,
/// over all sessions (every decision is also in the spool). Past it the
/// oldest other session is forgotten; a single session past it drops its
/// oldest decisions and says so.
const MAX_KEPT_DECISIONS: usize = 50_000;
/// Sessions the server keeps; past it the oldest other one is forgotten.
const MAX_KEPT_SESSIONS: usize = 10_000;

/// Bounds what `sessions` keeps (see [`MAX_KEPT_DECISIONS`]), never
/// forgetting `current` while another session can go.
fn bound(sessions: &mut BTreeMap<String, Session>, current: &str) {
    let mut total: usize = sessions.values().map(|s| s.decisions.len()).sum();
    while total > MAX_KEPT_DECISIONS || sessions.len() > MAX_KEPT_SESSIONS {
        let oldest = sessions
            .iter()
            .filter(|(k, _)| k.as_str() != current)
            .min_by(|a, b| a.1.started_at.cmp(&b.1.started_at))
            .map(|(k, _)| k.clone());
        if let Some(k) = oldest {
            if let Some(gone) = sessions.remove(&k) {
                total -= gone.decisions.len();
            }
            continue;
        }
        if let Some(sess) = sessions.get_mut(current) {
            let n = total
                .saturating_sub(MAX_KEPT_DECISIONS)
                .min(sess.decisions.len());
            for d in sess.decisions.drain(..n) {
                sess.dropped[0] += 1;
                sess.dropped[1] += usize::from(d.decision == Outcome::Block);
                sess.dropped[2] += usize::from(d.decision == Outcome::RequireApproval);
            }
        }
        break;
    }
}

/// The MCP server.
#[derive(Clone)]
pub struct CavraServer {
    cfg: Arc<ServeConfig>,
    source: Arc<dyn PackSource + Send + Sync>,
    sessions: Arc<Mutex<BTreeMap<String, Session>>>,
}

impl CavraServer {
    pub fn new(cfg: ServeConfig, source: Arc<dyn PackSource + Send + Sync>) -> CavraServer {
        CavraServer {
            cfg: Arc::new(cfg),
            source,
            sessions: Arc::new(Mutex::new(BTreeMap::new())),
        }
    }
}

fn tool(name: &str, description: &str, schema: Value) -> Option<Tool> {
    serde_json::from_value(json!({
        "name": name,
        "description": description,
        "inputSchema": schema,
    }))
    .ok()
}

fn action_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "action_type": {"type": "string", "description": "read_file, write_file, execute_command, git_operation, mcp_tool_call, pull_request, or a generic type such as crm.update_record"},
            "target": {"type": "string", "description": "Path, command line, git target (origin/main), server:tool, or resource"},
            "operation": {"type": "string"},
            "server": {"type": "string"},
            "tool": {"type": "string"},
            "capability": {"type": "string"},
            "arguments": {"type": "object", "description": "MCP tool-call arguments"},
            "repo_root": {"type": "string", "description": "Absolute repository root; paths are matched relative to it"},
            "branch": {"type": "string"},
            "session_id": {"type": "string"},
            "agent_id": {"type": "string"},
            "policy_pack": {"type": "string"}
        },
        "required": ["action_type", "target"],
        "additionalProperties": false
    })
}

/// The tool list of the server.
pub fn tools() -> Vec<Tool> {
    [
        tool(
            "evaluate_action",
            "Evaluate an action an agent wants to take against a CAVRA policy pack and return the decision record.",
            action_schema(),
        ),
        tool(
            "explain_decision",
            "Evaluate an action and explain the decision: every rule that matched, the sub-commands found, what the analysis could not see through.",
            action_schema(),
        ),
        tool(
            "list_policy_packs",
            "List the policy packs available (CAVRA_POLICY_DIR, ./policies, built in) with title, version and digest.",
            json!({"type": "object", "properties": {}, "additionalProperties": false}),
        ),
        tool(
            "validate_policy_pack",
            "Validate a policy pack by id, or pack YAML text, and return its digest or the located errors.",
            json!({"type": "object", "properties": {
                "pack_id": {"type": "string"},
                "yaml": {"type": "string", "description": "policy.yaml text"}
            }, "additionalProperties": false}),
        ),
        tool(
            "start_session",
            "Start an agent session; decisions evaluated with its session_id are collected for summaries and attestations.",
            json!({"type": "object", "properties": {
                "agent_id": {"type": "string"},
                "repository": {"type": "string"}
            }, "additionalProperties": false}),
        ),
        tool(
            "summarize_session",
            "Summarise a session: decisions by outcome, blocked actions, actions waiting for approval.",
            json!({"type": "object", "properties": {"session_id": {"type": "string"}},
                   "required": ["session_id"], "additionalProperties": false}),
        ),
        tool(
            "pr_attestation",
            "Produce an in-toto Statement v1 attesting the CAVRA decisions of a session for a pull request.",
            json!({"type": "object", "properties": {
                "session_id": {"type": "string"},
                "repository": {"type": "string"},
                "pull_request": {"type": "string"},
                "commit": {"type": "string", "description": "Head commit sha of the pull request"}
            }, "required": ["session_id", "repository"], "additionalProperties": false}),
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn text_result(v: &Value) -> CallToolResult {
    let text = serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string());
    CallToolResult::success(vec![Content::text(text)])
}

fn error_result(msg: impl Into<String>) -> CallToolResult {
    CallToolResult::error(vec![Content::text(msg.into())])
}

fn s<'a>(args: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    args.get(k).and_then(Value::as_str)
}

impl CavraServer {
    fn policy(&self, pack: Option<&str>) -> Result<cavra_policy::CompiledPolicy, String> {
        let id = pack.unwrap_or(&self.cfg.default_pack);
        resolve(self.source.as_ref(), id)
            .and_then(|r| r.compile())
            .map_err(|e| e.to_string())
    }

    fn action(args: &Map<String, Value>) -> Result<Action, String> {
        let at = s(args, "action_type").ok_or("`action_type` is required")?;
        let target = s(args, "target").ok_or("`target` is required")?;
        let t = ActionType::parse(at)?;
        let mut a = Action::new(t.clone(), target);
        if t == ActionType::McpToolCall {
            let (server, tool) =
                cavra_policy::mcp::server_and_tool(target, s(args, "server"), s(args, "tool"));
            a.server = Some(server);
            a.tool = Some(tool);
            a.capability = Some(s(args, "capability").unwrap_or("tool").to_string());
        }
        a.operation = s(args, "operation").map(str::to_string);
        a.arguments = args.get("arguments").cloned();
        a.branch = s(args, "branch").map(str::to_string);
        a.session_id = Some(s(args, "session_id").unwrap_or("mcp").to_string());
        a.agent_id = Some(s(args, "agent_id").unwrap_or("mcp-client").to_string());
        a.actor = Some(format!(
            "ai-agent:{}",
            s(args, "agent_id").unwrap_or("mcp-client")
        ));
        if let Some(r) = s(args, "repo_root") {
            a.repo_root = Some(r.to_string());
            a.cwd = Some(r.to_string());
        }
        Ok(a)
    }

    async fn evaluate(&self, args: &Map<String, Value>) -> Result<Decision, String> {
        let action = Self::action(args)?;
        let policy = self.policy(s(args, "policy_pack"))?;
        let d = cavra_policy::decide_now(
            &policy,
            &action,
            &EvalContext::default(),
            None,
            &BreakGlass::default(),
        );
        if let Some(spool) = self.cfg.spool.clone() {
            let v = serde_json::to_value(&d).map_err(|e| e.to_string())?;
            tokio::task::spawn_blocking(move || cavra_store::spool::append(&spool, &[v], true))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| format!("the decision could not be recorded: {e}"))?;
        }
        let mut sessions = self.sessions.lock().await;
        let sess = sessions
            .entry(d.session_id.clone())
            .or_insert_with(|| Session {
                agent_id: d.agent_id.clone(),
                started_at: d.timestamp.clone(),
                ..Session::default()
            });
        sess.decisions.push(d.clone());
        bound(&mut sessions, &d.session_id);
        Ok(d)
    }

    async fn dispatch(&self, name: &str, args: Map<String, Value>) -> Result<Value, String> {
        match name {
            "evaluate_action" => {
                Ok(serde_json::to_value(self.evaluate(&args).await?).map_err(|e| e.to_string())?)
            }
            "explain_decision" => {
                let d = self.evaluate(&args).await?;
                let mut lines = vec![format!(
                    "{} {} `{}`: {} (rule {}, severity {}, pack {})",
                    d.decision,
                    d.action_type,
                    d.target,
                    d.reason,
                    d.rule_id,
                    d.severity,
                    d.policy_pack
                )];
                if let Some(n) = &d.explanation.normalized_target {
                    lines.push(format!("normalised target: {n}"));
                }
                for c in &d.explanation.sub_commands {
                    lines.push(format!("sub-command: {c}"));
                }
                for i in &d.explanation.analysis_issues {
                    lines.push(format!("analysis could not see through: {i}"));
                }
                for m in &d.explanation.matches {
                    lines.push(format!(
                        "matched {} -> {} ({}){}: {}",
                        m.rule_id,
                        m.decision,
                        m.severity,
                        m.pattern
                            .as_deref()
                            .map(|p| format!(" pattern `{p}`"))
                            .unwrap_or_default(),
                        m.subject
                    ));
                }
                if let Some(mr) = &d.mode_reason {
                    lines.push(format!("policy mode {}: {mr}", d.policy_mode.as_str()));
                }
                Ok(
                    json!({"decision": d.decision, "explanation": lines, "decision_id": d.decision_id}),
                )
            }
            "list_policy_packs" => {
                let mut out = Vec::new();
                for id in self.source.ids() {
                    match resolve(self.source.as_ref(), &id).and_then(|r| r.compile()) {
                        Ok(p) => out.push(json!({"id": id, "title": p.title, "version": p.version,
                                                 "digest": p.digest, "mode": p.default_mode})),
                        Err(e) => out.push(json!({"id": id, "error": e.to_string()})),
                    }
                }
                Ok(json!({"packs": out}))
            }
            "validate_policy_pack" => {
                let r = match (s(&args, "pack_id"), s(&args, "yaml")) {
                    (_, Some(y)) => {
                        let pf = PackFile {
                            id: "submitted".into(),
                            path: "submitted/policy.yaml".into(),
                            text: y.to_string(),
                        };
                        resolve_file(self.source.as_ref(), &pf, &[]).and_then(|r| r.compile())
                    }
                    (Some(id), None) => resolve(self.source.as_ref(), id).and_then(|r| r.compile()),
                    (None, None) => return Err("give `pack_id` or `yaml`".into()),
                };
                Ok(match r {
                    Ok(p) => json!({"valid": true, "id": p.pack_id, "digest": p.digest}),
                    Err(e) => {
                        json!({"valid": false, "errors": e.diagnostics.iter().map(ToString::to_string).collect::<Vec<_>>()})
                    }
                })
            }
            "start_session" => {
                let id = format!("sess_{}", cavra_policy::random_hex(12));
                let sess = Session {
                    agent_id: s(&args, "agent_id").unwrap_or("mcp-client").to_string(),
                    repository: s(&args, "repository").map(str::to_string),
                    started_at: cavra_policy::now_rfc3339(),
                    ..Session::default()
                };
                let out = json!({"session_id": id, "agent_id": sess.agent_id,
                                 "repository": sess.repository, "started_at": sess.started_at});
                let mut sessions = self.sessions.lock().await;
                sessions.insert(id.clone(), sess);
                bound(&mut sessions, &id);
                Ok(out)
            }
            "summarize_session" => {
                let id = s(&args, "session_id").ok_or("`session_id` is required")?;
                let sessions = self.sessions.lock().await;
                let sess = sessions
                    .get(id)
                    .ok_or_else(|| format!("no session {id:?} in this server"))?;
                Ok(summary(id, sess))
            }
            "pr_attestation" => {
                let id = s(&args, "session_id").ok_or("`session_id` is required")?;
                let repo = s(&args, "repository").ok_or("`repository` is required")?;
                let sessions = self.sessions.lock().await;
                let sess = sessions
                    .get(id)
                    .ok_or_else(|| format!("no session {id:?} in this server"))?;
                Ok(attestation(
                    id,
                    sess,
                    repo,
                    s(&args, "pull_request"),
                    s(&args, "commit"),
                ))
            }
            other => Err(format!("unknown tool {other:?}")),
        }
    }
}

fn summary(id: &str, sess: &Session) -> Value {
    let mut by: BTreeMap<&str, usize> = BTreeMap::new();
    for d in &sess.decisions {
        *by.entry(d.decision.as_str()).or_default() += 1;
    }
    let list = |o: Outcome| {
        sess.decisions
            .iter()
            .filter(|d| d.decision == o)
            .map(|d| json!({"action_type": d.action_type, "target": d.target, "rule_id": d.rule_id, "reason": d.reason}))
            .collect::<Vec<_>>()
    };
    json!({
        "session_id": id,
        "agent_id": sess.agent_id,
        "repository": sess.repository,
        "started_at": sess.started_at,
        "decisions": sess.decisions.len() + sess.dropped[0],
        "decisions_not_kept": sess.dropped[0],
        "by_decision": by,
        "blocked": list(Outcome::Block),
        "approval_required": list(Outcome::RequireApproval),
    })
}

fn attestation(
    id: &str,
    sess: &Session,
    repo: &str,
    pr: Option<&str>,
    commit: Option<&str>,
) -> Value {
    let decisions: Vec<Value> = sess
        .decisions
        .iter()
        .map(|d| {
            json!({"decision_id": d.decision_id, "action_type": d.action_type, "target": d.target,
                   "decision": d.decision, "rule_id": d.rule_id, "policy_pack": d.policy_pack,
                   "policy_digest": d.explanation.policy_digest, "timestamp": d.timestamp})
        })
        .collect();
    let digests: Vec<&str> = sess
        .decisions
        .iter()
        .filter_map(|d| d.explanation.policy_digest.as_deref())
        .collect();
    let blocked = sess
        .decisions
        .iter()
        .filter(|d| d.decision == Outcome::Block)
        .count()
        + sess.dropped[1];
    let pending = sess
        .decisions
        .iter()
        .filter(|d| d.decision == Outcome::RequireApproval)
        .count()
        + sess.dropped[2];
    let predicate = json!({
        "session_id": id,
        "agent_id": sess.agent_id,
        "repository": repo,
        "pull_request": pr,
        "policy_digests": digests,
        "decisions": decisions,
        "summary": {"total": sess.decisions.len() + sess.dropped[0], "blocked": blocked,
                    "approval_required": pending, "decisions_not_kept": sess.dropped[0]},
        // A session whose oldest decisions were not kept cannot be attested
        // clean from what is left.
        "verdict": if blocked > 0 || pending > 0 { "needs_review" } else if sess.dropped[0] > 0 { "incomplete" } else { "clean" },
        "generated_at": cavra_policy::now_rfc3339(),
    });
    let subject_name = match pr {
        Some(p) => format!("{repo}#{p}"),
        None => repo.to_string(),
    };
    let digest = match commit {
        Some(c) => json!({"gitCommit": c}),
        None => json!({"sha256": hex::encode(Sha256::digest(canonical(&predicate).as_bytes()))}),
    };
    json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": subject_name, "digest": digest}],
        "predicateType": "https://cavra.dev/attestation/agent-session/v1",
        "predicate": predicate,
    })
}

impl ServerHandler for CavraServer {
    fn get_info(&self) -> InitializeResult {
        InitializeResult::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("cavra", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "CAVRA: evaluate agent actions against policy packs before taking them.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult {
            tools: tools(),
            ..Default::default()
        })
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let name = request.name.to_string();
        if !tools().iter().any(|t| t.name == name) {
            return Err(McpError::invalid_params(
                format!("Unknown tool: {name}"),
                None,
            ));
        }
        let args = request.arguments.unwrap_or_default();
        Ok(match self.dispatch(&name, args).await {
            Ok(v) => text_result(&v),
            Err(e) => error_result(e),
        }
        .into())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn decision(session: &str, i: usize, outcome: &str) -> Decision {
        serde_json::from_value(json!({
            "decision_id": format!("dec_{i:012}"), "session_id": session,
            "agent_id": "a", "actor": "ai-agent", "action_type": "read_file",
            "target": "x", "requested_operation": "", "policy_pack": "p", "policy_id": "p",
            "rule_id": "r", "decision": outcome, "severity": "low", "reason": "",
            "evidence_refs": [], "approver_group": null, "timestamp": "2026-01-01T00:00:00Z",
            "correlation_id": "c", "base_decision": outcome, "policy_mode": "enforce",
            "evidence_required": false, "explanation": {"matches": []},
        }))
        .unwrap()
    }

    /// Regression: every session and decision stayed in memory for the
    /// server's life. The oldest other session goes first; a session alone
    /// past the bound drops its oldest decisions, and its attestation
    /// still counts their blocks and is never "clean".
    #[test]
    fn kept_decisions_are_bounded_and_dropped_ones_still_count() {
        let mut sessions = BTreeMap::new();
        for (id, started) in [("old", "2026-01-01"), ("new", "2026-02-01")] {
            sessions.insert(
                id.to_string(),
                Session {
                    started_at: started.into(),
                    decisions: (0..MAX_KEPT_DECISIONS / 2)
                        .map(|i| decision(id, i, "allow"))
                        .collect(),
                    ..Session::default()
                },
            );
        }
        let cur = sessions.get_mut("new").unwrap();
        cur.decisions.insert(0, decision("new", 0, "block"));
        bound(&mut sessions, "new");
        assert!(!sessions.contains_key("old"));
        assert_eq!(sessions["new"].dropped, [0, 0, 0]);

        let cur = sessions.get_mut("new").unwrap();
        cur.decisions
            .extend((0..MAX_KEPT_DECISIONS).map(|i| decision("new", i, "allow")));
        bound(&mut sessions, "new");
        let s = &sessions["new"];
        assert_eq!(s.decisions.len(), MAX_KEPT_DECISIONS);
        assert_eq!(s.dropped[0], MAX_KEPT_DECISIONS / 2 + 1);
        assert_eq!(s.dropped[1], 1);
        let a = attestation("new", s, "org/repo", None, None);
        let p = &a["predicate"];
        assert_eq!(p["summary"]["blocked"], 1, "{p}");
        assert_eq!(p["summary"]["total"], MAX_KEPT_DECISIONS * 3 / 2 + 1);
        assert_eq!(p["verdict"], "needs_review");
        let sum = summary("new", s);
        assert_eq!(sum["decisions_not_kept"], MAX_KEPT_DECISIONS / 2 + 1);
    }
}
