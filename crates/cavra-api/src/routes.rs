//! Every route: the table (path, method, summary, query, body) that builds
//! both the router and the OpenAPI document, and the handlers.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{MethodRouter, get, post};
use cavra_policy::load::{PackFile, PackSource, resolve, resolve_file};
use cavra_policy::mcp::{RegistryServer, registry_ladder};
use cavra_policy::{Action, ActionType, BreakGlass, EvalContext, Mode};
use cavra_store::records::check_id;
use cavra_store::{Kind, Query, StoreName, ops};
use serde_json::{Map, Value, json};

use crate::error::{ApiError, ApiResult, JsonBody, Params, PathId, at, body_object, body_str, set};
use crate::{AppState, static_data};

/// How a route's query string is documented.
#[derive(Clone, Copy, Debug)]
pub enum QueryDoc {
    None,
    /// The filters of a record kind, plus `limit` and `offset`.
    Kind(Kind),
    /// Fixed parameters: (name, type, description).
    Fixed(&'static [(&'static str, &'static str, &'static str)]),
}

/// One documented route.
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub method: &'static str,
    /// The OpenAPI path template.
    pub path: &'static str,
    pub summary: &'static str,
    pub tag: &'static str,
    pub query: QueryDoc,
    /// Whether the route takes a JSON body.
    pub body: bool,
    /// The last path parameter may contain slashes (`payments/api`).
    pub wildcard: bool,
}

impl Endpoint {
    /// The axum route path (`{*id}` for slash-carrying ids).
    pub fn axum_path(&self) -> String {
        if !self.wildcard {
            return self.path.to_string();
        }
        match self.path.rfind('{') {
            Some(i) => {
                let (head, tail) = self.path.split_at(i);
                format!("{head}{{*{}", tail.trim_start_matches('{'))
            }
            None => self.path.to_string(),
        }
    }
}

const fn ep(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    tag: &'static str,
    query: QueryDoc,
) -> Endpoint {
    Endpoint {
        method,
        path,
        summary,
        tag,
        query,
        body: matches!(method.as_bytes(), b"POST"),
        wildcard: false,
    }
}

const fn wild(mut e: Endpoint) -> Endpoint {
    e.wildcard = true;
    e
}

const RISK_PARAMS: &[(&str, &str, &str)] = &[
    ("agent_id", "string", "Only events of this agent"),
    ("repository", "string", "Only events in this repository"),
    (
        "severity",
        "string",
        "Exact severity: low, medium, high, critical",
    ),
    (
        "min_severity",
        "string",
        "Severity at or above: low, medium, high, critical",
    ),
    ("since", "string", "ISO-8601 time; events at or after it"),
    ("until", "string", "ISO-8601 time; events at or before it"),
    (
        "limit",
        "integer",
        "Page size, clamped to 1..500 (default 50)",
    ),
    ("offset", "integer", "Records to skip (default 0)"),
];
const CAPABILITY_PARAM: &[(&str, &str, &str)] = &[(
    "capability",
    "string",
    "One capability class; unknown ones are 404",
)];
const TRUST_PARAMS: &[(&str, &str, &str)] = &[
    ("server", "string", "MCP server id or name (required)"),
    ("tool", "string", "Tool name (default: unknown)"),
    ("capability", "string", "Capability class of the call"),
];
const RETENTION_PARAMS: &[(&str, &str, &str)] = &[
    (
        "retention_days",
        "integer",
        "Retention in days (default 2555)",
    ),
    (
        "classification",
        "string",
        "Data classification (default regulated-sdlc)",
    ),
    ("legal_hold", "boolean", "Legal hold (default false)"),
];

/// The route table. The router and `/openapi.json` are both built from it.
pub fn endpoints() -> Vec<(Endpoint, MethodRouter<AppState>)> {
    use QueryDoc as Q;
    vec![
        (
            ep("GET", "/health", "Liveness", "system", Q::None),
            get(health),
        ),
        (
            ep("GET", "/version", "Server version", "system", Q::None),
            get(version),
        ),
        (
            ep(
                "GET",
                "/policy-packs",
                "Installed policy packs",
                "policy",
                Q::None,
            ),
            get(policy_packs),
        ),
        (
            ep(
                "GET",
                "/policies",
                "Alias of /policy-packs",
                "policy",
                Q::None,
            ),
            get(policy_packs),
        ),
        (
            ep(
                "GET",
                "/risk/events",
                "Risk events derived from stored decisions (blocks, approval gates, high or critical severity), newest first",
                "activity",
                Q::Fixed(RISK_PARAMS),
            ),
            get(risk_events),
        ),
        (
            ep(
                "GET",
                "/sessions",
                "List sessions",
                "activity",
                Q::Kind(Kind::Session),
            ),
            get(list_sessions),
        ),
        (
            ep(
                "POST",
                "/sessions",
                "Create or update a session summary",
                "activity",
                Q::None,
            ),
            post(post_session),
        ),
        (
            ep(
                "GET",
                "/sessions/{session_id}",
                "One session",
                "activity",
                Q::None,
            ),
            get(get_session),
        ),
        (
            ep(
                "GET",
                "/decisions",
                "List decisions",
                "activity",
                Q::Kind(Kind::Decision),
            ),
            get(list_decisions),
        ),
        (
            ep(
                "POST",
                "/decisions",
                "Evaluate an action with the policy engine and persist the decision and its session",
                "activity",
                Q::None,
            ),
            post(post_decision),
        ),
        (
            ep(
                "GET",
                "/decisions/{decision_id}",
                "One decision",
                "activity",
                Q::None,
            ),
            get(get_decision),
        ),
        (
            ep(
                "GET",
                "/agents",
                "List agents",
                "registry",
                Q::Kind(Kind::Agent),
            ),
            get(list_agents),
        ),
        (
            ep(
                "POST",
                "/agents",
                "Create or update an agent identity",
                "registry",
                Q::None,
            ),
            post(post_agent),
        ),
        (
            ep(
                "GET",
                "/agents/profiles",
                "The six predefined agent profiles",
                "registry",
                Q::None,
            ),
            get(agent_profiles),
        ),
        (
            ep(
                "GET",
                "/agents/{agent_id}",
                "One agent",
                "registry",
                Q::None,
            ),
            get(get_agent),
        ),
        (
            ep(
                "GET",
                "/mcp/servers",
                "List MCP server trust records",
                "registry",
                Q::Kind(Kind::McpServer),
            ),
            get(list_mcp),
        ),
        (
            ep(
                "POST",
                "/mcp/servers",
                "Create or update an MCP server trust record",
                "registry",
                Q::None,
            ),
            post(post_mcp),
        ),
        (
            ep(
                "GET",
                "/mcp/servers/{server_id}",
                "One MCP server",
                "registry",
                Q::None,
            ),
            get(get_mcp),
        ),
        (
            ep(
                "GET",
                "/mcp/tool-classifications",
                "MCP capability classes",
                "registry",
                Q::Fixed(CAPABILITY_PARAM),
            ),
            get(tool_classifications),
        ),
        (
            ep(
                "GET",
                "/mcp/trust",
                "Evaluate a server, tool and capability against the MCP trust registry",
                "registry",
                Q::Fixed(TRUST_PARAMS),
            ),
            get(mcp_trust),
        ),
        (
            ep(
                "GET",
                "/repositories",
                "List repositories",
                "inventory",
                Q::Kind(Kind::Repository),
            ),
            get(list_repositories),
        ),
        (
            ep(
                "POST",
                "/repositories",
                "Create or update a repository",
                "inventory",
                Q::None,
            ),
            post(post_repository),
        ),
        (
            wild(ep(
                "GET",
                "/repositories/{repository_id}",
                "One repository (ids may contain slashes)",
                "inventory",
                Q::None,
            )),
            get(get_repository),
        ),
        (
            ep(
                "GET",
                "/policy-rollouts",
                "List policy rollouts",
                "inventory",
                Q::Kind(Kind::Rollout),
            ),
            get(list_rollouts),
        ),
        (
            ep(
                "POST",
                "/policy-rollouts",
                "Create or update a policy rollout",
                "inventory",
                Q::None,
            ),
            post(post_rollout),
        ),
        (
            ep(
                "POST",
                "/policy-rollouts/change-plan",
                "Preview a rollout change: before, after, risk, approval requirement",
                "inventory",
                Q::None,
            ),
            post(change_plan),
        ),
        (
            ep(
                "POST",
                "/policy-rollouts/apply-change",
                "Persist a rollout change (actor required)",
                "inventory",
                Q::None,
            ),
            post(apply_change),
        ),
        (
            wild(ep(
                "GET",
                "/policy-rollouts/{rollout_id}",
                "One policy rollout (ids may contain slashes)",
                "inventory",
                Q::None,
            )),
            get(get_rollout),
        ),
        (
            wild(ep(
                "GET",
                "/policy-rollout-details/{rollout_id}",
                "A rollout with repository, pack, activity and integration context and readiness checks",
                "inventory",
                Q::None,
            )),
            get(rollout_details),
        ),
        (
            ep(
                "GET",
                "/policy-pack-catalog",
                "Installed packs with rule-count summaries",
                "policy",
                Q::None,
            ),
            get(pack_catalog),
        ),
        (
            ep(
                "POST",
                "/policy-packs/draft",
                "Build and validate a pack draft without writing it",
                "policy",
                Q::None,
            ),
            post(pack_draft),
        ),
        (
            ep(
                "POST",
                "/policy-packs/publish-plan",
                "Preview publishing a draft: risk, diff, target path, digest, approval",
                "policy",
                Q::None,
            ),
            post(publish_plan),
        ),
        (
            ep(
                "GET",
                "/integrations",
                "List integrations",
                "integrations",
                Q::Kind(Kind::Integration),
            ),
            get(list_integrations),
        ),
        (
            ep(
                "POST",
                "/integrations",
                "Create or update an integration",
                "integrations",
                Q::None,
            ),
            post(post_integration),
        ),
        (
            ep(
                "GET",
                "/integrations/{integration_id}",
                "One integration (by id or provider)",
                "integrations",
                Q::None,
            ),
            get(get_integration),
        ),
        (
            ep(
                "GET",
                "/evidence",
                "Search evidence metadata",
                "evidence",
                Q::Kind(Kind::Evidence),
            ),
            get(list_evidence),
        ),
        (
            ep(
                "POST",
                "/evidence",
                "Upsert evidence metadata by session_id",
                "evidence",
                Q::None,
            ),
            post(post_evidence),
        ),
        (
            ep(
                "GET",
                "/evidence/{session_id}",
                "One evidence metadata record",
                "evidence",
                Q::None,
            ),
            get(get_evidence),
        ),
        (
            ep(
                "GET",
                "/console/config",
                "Console configuration: API base URL, CORS origins, store modes, endpoint map",
                "console",
                Q::None,
            ),
            get(console_config),
        ),
        (
            ep(
                "GET",
                "/console/security-boundary",
                "OIDC, RBAC and CORS status",
                "console",
                Q::None,
            ),
            get(security_boundary),
        ),
        (
            ep(
                "GET",
                "/operations/stores",
                "Each store's kind, path, configuration source, existence and size",
                "operations",
                Q::None,
            ),
            get(operations_stores),
        ),
        (
            ep(
                "GET",
                "/operations/retention-plan",
                "Retention, backup and restore-test plan",
                "operations",
                Q::Fixed(RETENTION_PARAMS),
            ),
            get(retention_plan),
        ),
        (
            ep(
                "GET",
                "/deployment/production-readiness",
                "Checks the production controls that exist and names the missing ones",
                "operations",
                Q::None,
            ),
            get(production_readiness),
        ),
    ]
}

// ---------- helpers ----------

fn id_param(field: &str, id: &str) -> Result<(), ApiError> {
    check_id(field, id).map_err(ApiError::from)
}

/// A list page, sent as the store's JSON text (no copy through `Value`).
async fn list_kind(
    state: &AppState,
    kind: Kind,
    params: &Params,
) -> ApiResult<Json<cavra_store::RawPage>> {
    let q = Query::from_params(kind, params.pairs())?;
    Ok(Json(state.stores.list_raw(q).await?))
}

async fn get_kind(state: &AppState, kind: Kind, what: &str, field: &str, id: &str) -> ApiResult {
    id_param(field, id)?;
    match state.stores.get(kind, id).await? {
        Some(v) => Ok(Json(v)),
        None => Err(ApiError::not_found(what, id)),
    }
}

async fn put_kind(state: &AppState, kind: Kind, body: &Value) -> ApiResult {
    // A rollout stored directly changes the same record apply-change does
    // (its mode, break_glass included): the same verified actor applies.
    if kind == Kind::Rollout {
        require_verified_actor(state, "changing a policy rollout")?;
    }
    body_object(body)?;
    let key = kind.spec().key;
    let siblings = fixed_siblings(key);
    // Only kinds with such routes (agents, rollouts) pay for learning the
    // id the store will give the record before it is stored.
    if !siblings.is_empty()
        && let Some(id) =
            cavra_store::records::text(&cavra_store::records::normalize(kind, body)?, key)
        && let Some(path) = siblings
            .iter()
            .find(|p| p.rsplit('/').next() == Some(id.as_str()))
    {
        return Err(ApiError::field(
            key,
            format!("{id:?} cannot name a record: GET {path} is another route"),
        ));
    }
    Ok(Json(state.stores.put(kind, body).await?))
}

/// The fixed routes beside `GET …/{key}`, which a record whose id is their
/// last segment could never be read through: `GET /agents/profiles` is the
/// profile list, never the agent `profiles`, and `change-plan` under
/// `/policy-rollouts/` is a route of its own. Found in the route table.
fn fixed_siblings(key: &str) -> &'static [String] {
    static SIBLINGS: std::sync::LazyLock<BTreeMap<String, Vec<String>>> =
        std::sync::LazyLock::new(|| {
            let paths: Vec<Endpoint> = endpoints().into_iter().map(|(e, _)| e).collect();
            let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for e in paths.iter().filter(|e| e.method == "GET") {
                let Some(open) = e.path.rfind('{') else {
                    continue;
                };
                let (prefix, param) = e.path.split_at(open);
                let key = param.trim_start_matches('{').trim_end_matches('}');
                for other in &paths {
                    if let Some(rest) = other.path.strip_prefix(prefix)
                        && !rest.is_empty()
                        && !rest.contains(['{', '/'])
                    {
                        out.entry(key.to_string())
                            .or_default()
                            .push(format!("{prefix}{rest}"));
                    }
                }
            }
            out
        });
    SIBLINGS.get(key).map_or(&[], Vec::as_slice)
}

/// The list, upsert and get handlers of one record kind.
macro_rules! record_handlers {
    ($list:ident, $post:ident, $get:ident, $kind:expr, $what:literal, $field:literal) => {
        async fn $list(
            State(s): State<AppState>,
            p: Params,
        ) -> ApiResult<Json<cavra_store::RawPage>> {
            list_kind(&s, $kind, &p).await
        }
        async fn $post(State(s): State<AppState>, JsonBody(b): JsonBody) -> ApiResult {
            put_kind(&s, $kind, &b).await
        }
        async fn $get(State(s): State<AppState>, PathId(id): PathId) -> ApiResult {
            get_kind(&s, $kind, $what, $field, &id).await
        }
    };
}

// ---------- system ----------

async fn health() -> Json<Value> {
    Json(json!({"status": "ok", "product": "CAVRA"}))
}

async fn version() -> Json<Value> {
    Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "name": "CAVRA Runtime Server",
        "api_contract": "cavra.api.v1",
    }))
}

fn pack_rows() -> Vec<(String, Result<cavra_policy::ResolvedPack, String>)> {
    let source = cavra_packs::default_source();
    source
        .ids()
        .into_iter()
        .map(|id| {
            let r = resolve(&source, &id).map_err(|e| e.to_string());
            (id, r)
        })
        .collect()
}

async fn policy_packs() -> Json<Value> {
    let rows: Vec<Value> = pack_rows()
        .into_iter()
        .map(|(id, r)| match r {
            Ok(p) => json!({
                "id": id,
                "title": p.spec.title(),
                "description": p.spec.description(),
                "version": p.spec.version(),
                "policy_digest": p.digest(),
                "policy": p.spec,
            }),
            Err(e) => json!({"id": id, "valid": false, "error": e}),
        })
        .collect();
    Json(Value::Array(rows))
}

async fn risk_events(State(state): State<AppState>, params: Params) -> ApiResult {
    params.only(&[
        "agent_id",
        "repository",
        "severity",
        "min_severity",
        "since",
        "until",
        "limit",
        "offset",
    ])?;
    let q = Query::from_params(Kind::Decision, params.pairs())?.with("risky", "true")?;
    let page = state.stores.list(q).await?;
    let items: Vec<Value> = page
        .items
        .iter()
        .map(|d| {
            let decision = at(d, "decision").as_str().unwrap_or("");
            let event_type = match decision {
                "block" => "decision.blocked",
                "require_approval" => "decision.approval_required",
                _ => "decision.high_severity",
            };
            json!({
                "event_id": format!("risk_{}", at(d, "decision_id").as_str().unwrap_or("")),
                "event_type": event_type,
                "timestamp": at(d, "timestamp"),
                "severity": at(d, "severity"),
                "decision": at(d, "decision"),
                "decision_id": at(d, "decision_id"),
                "session_id": at(d, "session_id"),
                "agent_id": at(d, "agent_id"),
                "repository": at(d, "repository"),
                "action_type": at(d, "action_type"),
                "target": at(d, "target"),
                "rule_id": at(d, "rule_id"),
                "reason": at(d, "reason"),
                "policy_pack": at(d, "policy_pack"),
                "approver_group": d.get("approver_group").cloned().unwrap_or(Value::Null),
                "evidence_refs": at(d, "evidence_refs"),
            })
        })
        .collect();
    Ok(Json(json!({
        "items": items,
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
    })))
}

// ---------- activity ----------

record_handlers!(
    list_sessions,
    post_session,
    get_session,
    Kind::Session,
    "session",
    "session_id"
);
async fn list_decisions(
    State(s): State<AppState>,
    p: Params,
) -> ApiResult<Json<cavra_store::RawPage>> {
    list_kind(&s, Kind::Decision, &p).await
}
async fn get_decision(State(s): State<AppState>, PathId(id): PathId) -> ApiResult {
    get_kind(&s, Kind::Decision, "decision", "decision_id", &id).await
}

pub(crate) const DECISION_FIELDS: &[&str] = &[
    "policy_pack",
    "session_id",
    "agent_id",
    "actor",
    "action_type",
    "target",
    "operation",
    "server",
    "tool",
    "capability",
    "repository",
    "arguments",
    "policy_mode",
    "break_glass_actor",
    "break_glass_reason",
    "branch",
];

/// The registry's MCP servers, when it holds any.
async fn registry(state: &AppState) -> Result<Option<Vec<RegistryServer>>, ApiError> {
    let mut all = cavra_store::Collect::default();
    state.stores.export(Kind::McpServer, 500, &mut all).await?;
    if all.0.is_empty() {
        return Ok(None);
    }
    let mut servers: Vec<RegistryServer> = all
        .0
        .into_iter()
        .filter_map(|r| serde_json::from_value::<RegistryServer>(Value::Object(r)).ok())
        .collect();
    // The ladder takes the first record matching by id or name: key order.
    servers.sort_by(|a, b| a.server_id.cmp(&b.server_id));
    Ok(Some(servers))
}

async fn post_decision(State(state): State<AppState>, JsonBody(body): JsonBody) -> ApiResult {
    let obj = body_object(&body)?;
    for k in obj.keys() {
        if !DECISION_FIELDS.contains(&k.as_str()) {
            return Err(ApiError::field(
                k,
                format!("unknown field; known: {}", DECISION_FIELDS.join(", ")),
            ));
        }
    }
    let raw_type = body_str(&body, "action_type")?
        .ok_or_else(|| ApiError::field("action_type", "is required"))?;
    let action_type = ActionType::parse(raw_type).map_err(|e| ApiError::field("action_type", e))?;
    let target = body_str(&body, "target")?.unwrap_or("").to_string();
    let server = body_str(&body, "server")?.map(str::to_string);
    let tool = body_str(&body, "tool")?.map(str::to_string);
    if target.is_empty() && !(action_type == ActionType::McpToolCall && server.is_some()) {
        return Err(ApiError::field("target", "is required"));
    }
    let mut action = Action::new(action_type.clone(), target.clone());
    if action_type == ActionType::McpToolCall {
        let (srv, tl) =
            cavra_policy::mcp::server_and_tool(&target, server.as_deref(), tool.as_deref());
        if action.target.is_empty() {
            action.target = format!("{srv}:{tl}");
        }
        action.server = Some(srv);
        action.tool = Some(tl);
        action.capability = body_str(&body, "capability")?.map(str::to_string);
    } else {
        action.server = server;
        action.tool = tool;
        action.capability = body_str(&body, "capability")?.map(str::to_string);
    }
    action.operation = body_str(&body, "operation")?.map(str::to_string);
    if action_type == ActionType::GitOperation && action.operation.is_none() {
        action.operation = Some("push".into());
    }
    action.session_id = body_str(&body, "session_id")?.map(str::to_string);
    action.agent_id = body_str(&body, "agent_id")?.map(str::to_string);
    action.actor = body_str(&body, "actor")?.map(str::to_string);
    action.repository = body_str(&body, "repository")?.map(str::to_string);
    action.branch = body_str(&body, "branch")?.map(str::to_string);
    if let Some(args) = body.get("arguments").filter(|a| !a.is_null()) {
        action.arguments = Some(args.clone());
    }
    if let Some(sid) = &action.session_id {
        id_param("session_id", sid)?;
    }
    let mode = match body_str(&body, "policy_mode")? {
        Some(m) => Some(
            m.parse::<Mode>()
                .map_err(|e| ApiError::field("policy_mode", e))?,
        ),
        None => None,
    };
    let bg = BreakGlass {
        actor: body_str(&body, "break_glass_actor")?.map(str::to_string),
        reason: body_str(&body, "break_glass_reason")?.map(str::to_string),
    };
    let pack_id = body_str(&body, "policy_pack")?.unwrap_or("cavra-ai-agent-baseline");
    let policy = state.pack(pack_id)?;
    if mode.unwrap_or(policy.default_mode) == Mode::BreakGlass {
        require_verified_actor(&state, "a break-glass decision")?;
    }
    // A caller may tighten the pack's mode, never loosen it without the
    // verified actor break-glass needs (`audit_only` records a block
    // without enforcing it).
    let strength = |m: Mode| match m {
        Mode::AuditOnly | Mode::BreakGlass => 0,
        Mode::Enforce => 1,
        Mode::Strict => 2,
    };
    if let Some(m) = mode
        && strength(m) < strength(policy.default_mode)
        && m != Mode::BreakGlass
    {
        require_verified_actor(&state, "a policy mode weaker than the pack's")?;
    }
    let servers = if action_type == ActionType::McpToolCall {
        registry(&state).await?
    } else {
        None
    };
    let ctx = EvalContext {
        registry: servers.as_deref(),
    };
    let decision = cavra_policy::decide_now(&policy, &action, &ctx, mode, &bg);
    let mut record = serde_json::to_value(&decision).unwrap_or_default();
    let sid = decision.session_id.clone();
    set(
        &mut record,
        "repository",
        json!(action.repository.clone().unwrap_or_else(|| "local".into())),
    );
    set(&mut record, "policy_pack", json!(pack_id));
    set(
        &mut record,
        "evidence_refs",
        json!([format!("evidence://{sid}/{}", decision.decision_id)]),
    );
    set(
        &mut record,
        "policy_mode",
        json!(decision.policy_mode.as_str()),
    );
    let stored = state.stores.put(Kind::Decision, &record).await?;
    state.metrics.decision(decision.decision.as_str());
    Ok(Json(stored))
}

// ---------- registry ----------

record_handlers!(
    list_agents,
    post_agent,
    get_agent,
    Kind::Agent,
    "agent",
    "agent_id"
);
async fn agent_profiles() -> Json<Value> {
    let items = static_data::agent_profiles();
    Json(json!({"total": items.len(), "items": items}))
}
record_handlers!(
    list_mcp,
    post_mcp,
    get_mcp,
    Kind::McpServer,
    "MCP server",
    "server_id"
);

async fn tool_classifications(params: Params) -> ApiResult {
    params.only(&["capability"])?;
    let all = static_data::tool_classifications();
    match params.get("capability") {
        None => Ok(Json(json!({"total": all.len(), "items": all}))),
        Some(cap) => {
            let cap_l = cap.trim().to_ascii_lowercase();
            match all
                .into_iter()
                .find(|c| at(c, "capability") == cap_l.as_str())
            {
                Some(c) => Ok(Json(c)),
                None => Err(ApiError::not_found("MCP capability class", cap)),
            }
        }
    }
}

async fn mcp_trust(State(state): State<AppState>, params: Params) -> ApiResult {
    params.only(&["server", "tool", "capability"])?;
    let server = params
        .get("server")
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| ApiError::field("server", "is required"))?;
    let tool = params.get("tool").unwrap_or("unknown");
    let capability = params.get("capability");
    let servers = registry(&state).await?.unwrap_or_default();
    let r = registry_ladder(&servers, server, tool, capability);
    Ok(Json(json!({
        "server": server,
        "tool": tool,
        "capability": capability,
        "decision": r.decision.as_str(),
        "reason": r.reason,
        "rule_id": r.rule_id,
        "severity": r.severity.as_str(),
        "approver_group": r.approver_group,
    })))
}

// ---------- inventory ----------

record_handlers!(
    list_repositories,
    post_repository,
    get_repository,
    Kind::Repository,
    "repository",
    "repository_id"
);
record_handlers!(
    list_rollouts,
    post_rollout,
    get_rollout,
    Kind::Rollout,
    "policy rollout",
    "rollout_id"
);

/// The rollout change plan: before, after, field changes, risk, approval.
async fn plan_change(state: &AppState, body: &Value) -> Result<Value, ApiError> {
    let obj = body_object(body)?;
    let changes = match obj.get("changes") {
        Some(Value::Object(c)) => c.clone(),
        None | Some(Value::Null) => Map::new(),
        Some(other) => {
            return Err(ApiError::field(
                "changes",
                format!("must be an object, got {other}"),
            ));
        }
    };
    // The rollout is named by `rollout_id` or by `changes.rollout_id`; a
    // change cannot rename it (that would write a second record while the
    // plan reports an update of the first).
    let changed_id = match changes.get("rollout_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(other) => {
            return Err(ApiError::field(
                "changes.rollout_id",
                format!("must be a string, got {other}"),
            ));
        }
    };
    let rollout_id = match (body_str(body, "rollout_id")?, changed_id) {
        (Some(a), Some(b)) if a != b => {
            return Err(ApiError::field(
                "changes.rollout_id",
                format!("{b:?} differs from rollout_id {a:?}: a rollout's id cannot be changed"),
            ));
        }
        (a, b) => a.or(b).map(str::to_string),
    };
    // Without an id the store names the rollout `repository:policy_pack`:
    // look that one up, so a change to an existing rollout is planned (and
    // applied) as its update, never as a "create" that replaces it.
    let rollout_id = match rollout_id {
        Some(id) => Some(id),
        None => {
            let probe =
                cavra_store::records::normalize(Kind::Rollout, &Value::Object(changes.clone()))?;
            cavra_store::records::text(&probe, "rollout_id")
        }
    };
    let rollout_id = rollout_id.as_deref();
    let before = match rollout_id {
        Some(id) => {
            id_param("rollout_id", id)?;
            state.stores.get(Kind::Rollout, id).await?
        }
        None => None,
    };
    let mut after_input = before.clone().unwrap_or_else(|| json!({}));
    // Applying the change is an update now: the store stamps `updated_at`.
    if let Value::Object(m) = &mut after_input {
        m.remove("updated_at");
    }
    if let Some(id) = rollout_id {
        set(&mut after_input, "rollout_id", json!(id));
    }
    for (k, v) in &changes {
        if matches!(k.as_str(), "schema_version" | "created_at" | "updated_at") {
            continue;
        }
        set(&mut after_input, k.as_str(), v.clone());
    }
    // Validate the result exactly as the store will.
    let after = cavra_store::records::normalize(Kind::Rollout, &after_input)?;
    let after = Value::Object(after);
    let mut field_changes = Vec::new();
    let keys: std::collections::BTreeSet<&String> = changes.keys().collect();
    for k in keys {
        let b = before
            .as_ref()
            .and_then(|b| b.get(k))
            .cloned()
            .unwrap_or(Value::Null);
        let a = after.get(k).cloned().unwrap_or(Value::Null);
        if a != b {
            field_changes.push(json!({"field": k, "before": b, "after": a}));
        }
    }
    let before_mode = before
        .as_ref()
        .and_then(|b| at(b, "mode").as_str())
        .unwrap_or("");
    let after_mode = at(&after, "mode").as_str().unwrap_or("");
    let after_state = at(&after, "state").as_str().unwrap_or("");
    let mode_changed = before.is_none() || before_mode != after_mode;
    let risk = if after_mode == "break_glass" && mode_changed {
        "critical"
    } else if before_mode == "audit_only" && matches!(after_mode, "enforce" | "strict") {
        "high"
    } else if (after_mode == "strict" && mode_changed)
        || (after_state == "active"
            && before.as_ref().and_then(|b| at(b, "state").as_str()) != Some("active"))
        || field_changes.len() > 3
    {
        "medium"
    } else {
        "low"
    };
    let approval_required =
        matches!(risk, "high" | "critical") || matches!(after_mode, "strict" | "break_glass");
    Ok(json!({
        "operation": if before.is_some() { "update" } else { "create" },
        "rollout_id": at(&after, "rollout_id"),
        "risk": risk,
        "approval_required": approval_required,
        "before": before,
        "after": after,
        "changes": field_changes,
    }))
}

async fn change_plan(State(state): State<AppState>, JsonBody(body): JsonBody) -> ApiResult {
    Ok(Json(plan_change(&state, &body).await?))
}

/// Refuses a mutation the documentation reserves for a verified actor when
/// OIDC or RBAC is configured: this build cannot verify an actor token yet
/// (that comes with the approvals and identity work), so it cannot accept
/// a self-asserted `actor` in its place. Without either configured the API
/// is local or demo, as `/console/security-boundary` reports.
fn require_verified_actor(state: &AppState, what: &str) -> Result<(), ApiError> {
    let c = &state.config;
    let configured: Vec<&str> = [
        c.oidc_config.as_ref().map(|_| "CAVRA_APPROVAL_OIDC_CONFIG"),
        c.rbac_file.as_ref().map(|_| "CAVRA_APPROVAL_RBAC_FILE"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if configured.is_empty() {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        format!(
            "{what} requires a verified actor when {} is configured, and this build cannot \
             verify actor tokens yet; refusing rather than trusting a self-asserted actor",
            configured.join(" and ")
        ),
    ))
}

async fn apply_change(State(state): State<AppState>, JsonBody(body): JsonBody) -> ApiResult {
    require_verified_actor(&state, "applying a rollout change")?;
    let actor = body_str(&body, "actor")?
        .filter(|a| !a.trim().is_empty())
        .ok_or_else(|| ApiError::field("actor", "is required to apply a rollout change"))?
        .to_string();
    let plan = plan_change(&state, &body).await?;
    // Through the same guard as POST /policy-rollouts: an id a fixed route
    // shadows (`change-plan`) could be stored but never read back.
    let Json(rollout) = put_kind(&state, Kind::Rollout, at(&plan, "after")).await?;
    Ok(Json(
        json!({"actor": actor, "plan": plan, "rollout": rollout}),
    ))
}

fn rule_counts(spec: &cavra_policy::PackSpec) -> BTreeMap<String, usize> {
    let v = serde_json::to_value(spec).unwrap_or_default();
    let mut out = BTreeMap::new();
    if let Some(obj) = v.as_object() {
        for (section, body) in obj {
            if matches!(
                section.as_str(),
                "metadata" | "id" | "title" | "version" | "description" | "mode" | "tests"
            ) {
                continue;
            }
            let n = match body {
                Value::Object(m) => m
                    .values()
                    .map(|x| match x {
                        Value::Array(a) => a.len(),
                        Value::Object(o) => o.len(),
                        _ => 1,
                    })
                    .sum(),
                Value::Array(a) => a.len(),
                _ => 1,
            };
            out.insert(section.clone(), n);
        }
    }
    out
}

fn pack_summary(id: &str, p: &cavra_policy::ResolvedPack) -> Value {
    let inherits: Vec<String> = p
        .spec
        .metadata
        .as_ref()
        .and_then(|m| m.inherits.as_ref())
        .map(|i| {
            serde_json::from_value(serde_json::to_value(i).unwrap_or_default())
                .unwrap_or_else(|_| Vec::new())
        })
        .unwrap_or_default();
    let mode = p
        .spec
        .metadata
        .as_ref()
        .and_then(|m| m.mode)
        .map_or("enforce", |m| m.as_str());
    json!({
        "policy_id": id,
        "version": p.spec.version(),
        "inherits": inherits,
        "mode": mode,
        "rule_counts": rule_counts(&p.spec),
        "policy_digest": p.digest(),
    })
}

async fn rollout_details(State(state): State<AppState>, PathId(id): PathId) -> ApiResult {
    id_param("rollout_id", &id)?;
    let rollout = state
        .stores
        .get(Kind::Rollout, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("policy rollout", &id))?;
    let repo_name = at(&rollout, "repository")
        .as_str()
        .unwrap_or("")
        .to_string();
    let pack_id = at(&rollout, "policy_pack")
        .as_str()
        .unwrap_or("")
        .to_string();
    let repository = if repo_name.is_empty() {
        None
    } else {
        state.stores.get(Kind::Repository, &repo_name).await?
    };
    let source = cavra_packs::default_source();
    let policy_pack = match resolve(&source, &pack_id) {
        Ok(p) => json!({
            "id": pack_id,
            "installed": true,
            "title": p.spec.title(),
            "description": p.spec.description(),
            "summary": pack_summary(&pack_id, &p),
        }),
        Err(e) => json!({"id": pack_id, "installed": false, "error": e.to_string()}),
    };
    // Activity in this repository under this pack: at most 100 decisions.
    let q = Query::from_params(
        Kind::Decision,
        [
            ("repository", repo_name.as_str()),
            ("policy_pack", pack_id.as_str()),
            ("limit", "100"),
        ],
    )?;
    let page = state.stores.list(q).await?;
    let mut by_outcome: BTreeMap<String, i64> = BTreeMap::new();
    let mut by_severity: BTreeMap<String, i64> = BTreeMap::new();
    for d in &page.items {
        *by_outcome
            .entry(at(d, "decision").as_str().unwrap_or("").to_string())
            .or_default() += 1;
        *by_severity
            .entry(at(d, "severity").as_str().unwrap_or("").to_string())
            .or_default() += 1;
    }
    let recent: Vec<Value> = page.items.iter().take(10).cloned().collect();
    // Every integration, not one page: with more than a page the
    // readiness checks would miss a category registered past it.
    let mut integrations = cavra_store::Collect::default();
    state
        .stores
        .export(Kind::Integration, 500, &mut integrations)
        .await?;
    let mut by_category: BTreeMap<String, i64> = BTreeMap::new();
    let mut by_health: BTreeMap<String, i64> = BTreeMap::new();
    for i in &integrations.0 {
        *by_category
            .entry(
                i.get("category")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            )
            .or_default() += 1;
        *by_health
            .entry(
                i.get("health_status")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            )
            .or_default() += 1;
    }
    let coverage = at(&rollout, "coverage_percent").as_f64().unwrap_or(0.0);
    let has_cat = |c: &str| by_category.get(c).copied().unwrap_or(0) > 0;
    let checks = vec![
        json!({"check": "repository_registered", "passed": repository.is_some(),
               "detail": if repository.is_some() { "repository is in the inventory".to_string() } else { format!("repository {repo_name:?} is not registered") }}),
        json!({"check": "coverage_at_least_80", "passed": coverage >= 80.0,
               "detail": format!("coverage is {coverage}%")}),
        json!({"check": "source_control_integration", "passed": has_cat("source_control"),
               "detail": "a source_control integration is registered"}),
        json!({"check": "siem_or_storage_integration", "passed": has_cat("siem") || has_cat("storage"),
               "detail": "a siem or storage integration is registered"}),
    ];
    let ready = checks.iter().all(|c| at(c, "passed") == true);
    Ok(Json(json!({
        "rollout": rollout,
        "repository": repository,
        "policy_pack": policy_pack,
        "activity_summary": {
            "decision_count": page.total,
            "sampled": page.items.len(),
            "by_decision": by_outcome,
            "by_severity": by_severity,
            "recent_decisions": recent,
        },
        "integration_summary": {
            "total": integrations.0.len(),
            "by_category": by_category,
            "by_health": by_health,
        },
        "readiness": {
            "status": if ready { "ready" } else { "needs_attention" },
            "checks": checks,
        },
    })))
}

// ---------- policy authoring ----------

async fn pack_catalog() -> Json<Value> {
    let items: Vec<Value> = pack_rows()
        .into_iter()
        .map(|(id, r)| match r {
            Ok(p) => json!({
                "id": id,
                "title": p.spec.title(),
                "description": p.spec.description(),
                "version": p.spec.version(),
                "valid": true,
                "summary": pack_summary(&id, &p),
            }),
            Err(e) => json!({"id": id, "valid": false, "error": e}),
        })
        .collect();
    Json(json!({"total": items.len(), "items": items}))
}

struct Draft {
    id: String,
    valid: bool,
    errors: Vec<Value>,
    pack: Value,
    resolved: Option<cavra_policy::ResolvedPack>,
}

/// Builds a pack from a draft body: `{"policy": {...}}` or the pack itself;
/// id, title and description may sit at the top level or under `metadata`.
fn build_draft(body: &Value) -> Result<Draft, ApiError> {
    let obj = body_object(body)?;
    let mut pack = match obj.get("policy") {
        Some(Value::Object(p)) => p.clone(),
        Some(other) => {
            return Err(ApiError::field(
                "policy",
                format!("must be an object, got {other}"),
            ));
        }
        None => obj.clone(),
    };
    let is_rules_shape = pack.contains_key("rules");
    if !is_rules_shape {
        let mut meta = match pack.remove("metadata") {
            Some(Value::Object(m)) => m,
            Some(other) => {
                return Err(ApiError::field(
                    "metadata",
                    format!("must be an object, got {other}"),
                ));
            }
            None => Map::new(),
        };
        for k in ["id", "title", "description", "version", "inherits", "mode"] {
            if let Some(v) = pack.remove(k) {
                meta.entry(k.to_string()).or_insert(v);
            }
        }
        meta.entry("version".to_string()).or_insert(json!("0.1.0"));
        pack.insert("metadata".into(), Value::Object(meta));
    }
    let id = pack
        .get("metadata")
        .and_then(|m| m.get("id"))
        .or_else(|| pack.get("id"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let mut errors = Vec::new();
    for field in ["id", "title", "description"] {
        let present = pack
            .get("metadata")
            .and_then(|m| m.get(field))
            .or_else(|| pack.get(field))
            .and_then(Value::as_str)
            .is_some_and(|s| !s.trim().is_empty());
        if !present {
            errors.push(json!({"field": field, "message": format!("{field} is required")}));
        }
    }
    if !id.is_empty()
        && !id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        errors.push(json!({"field": "id", "message": "must be a plain name: lower-case letters, digits and dashes"}));
    }
    let pack_value = Value::Object(pack);
    let mut resolved = None;
    if errors.is_empty() {
        let text = serde_json::to_string_pretty(&pack_value).unwrap_or_default();
        let file = PackFile {
            id: id.clone(),
            path: format!("draft:{id}"),
            text,
        };
        let source = cavra_packs::default_source();
        match resolve_file(&source, &file, &[]).and_then(|r| r.compile().map(|_| r)) {
            Ok(r) => resolved = Some(r),
            Err(e) => {
                for d in &e.diagnostics {
                    errors.push(json!({"field": d.field, "message": d.message, "line": d.line, "column": d.column}));
                }
                if e.diagnostics.is_empty() {
                    errors.push(json!({"field": null, "message": e.to_string()}));
                }
            }
        }
    }
    Ok(Draft {
        valid: errors.is_empty(),
        id,
        errors,
        pack: pack_value,
        resolved,
    })
}

async fn pack_draft(JsonBody(body): JsonBody) -> ApiResult {
    let d = build_draft(&body)?;
    let summary = d.resolved.as_ref().map(|r| pack_summary(&d.id, r));
    Ok(Json(json!({
        "valid": d.valid,
        "errors": d.errors,
        "policy_pack": d.pack,
        "summary": summary,
        "notes": [
            "drafts are validated against the pack schema and compiled; nothing is written",
            "publishing needs an approved publish request (approvals API)",
        ],
    })))
}

/// Whether `id` can be a pack directory name: letters, digits, `-`, `_`,
/// `.` (not `.` or `..`), at most 128 bytes.
fn pack_dir_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id != "."
        && id != ".."
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

async fn publish_plan(JsonBody(body): JsonBody) -> ApiResult {
    let d = build_draft(&body)?;
    let source = cavra_packs::default_source();
    let existing = if d.id.is_empty() {
        None
    } else {
        source.get(&d.id).and_then(|_| resolve(&source, &d.id).ok())
    };
    let (diff, risk) = match (&existing, &d.resolved) {
        (Some(old), Some(new)) => {
            let diff = cavra_policy::load::diff(&old.spec, &new.spec);
            let sensitive = ["approvals", "git", "mcp", "evidence", "compliance"];
            let touches = |paths: &[String]| {
                paths.iter().any(|p| {
                    sensitive
                        .iter()
                        .any(|s| p == s || p.starts_with(&format!("{s}.")))
                })
            };
            let risk = if !diff.removed.is_empty() {
                "critical"
            } else if touches(&diff.added) || touches(&diff.changed) {
                "high"
            } else if !diff.is_empty() {
                "medium"
            } else {
                "low"
            };
            (serde_json::to_value(&diff).unwrap_or_default(), risk)
        }
        (None, Some(new)) => {
            let flat =
                cavra_policy::load::flatten(&serde_json::to_value(&new.spec).unwrap_or_default());
            (
                json!({"added": flat.keys().collect::<Vec<_>>(), "removed": [], "changed": []}),
                "high",
            )
        }
        (_, None) => (json!({"added": [], "removed": [], "changed": []}), "high"),
    };
    let digest = d.resolved.as_ref().map(|r| r.digest());
    Ok(Json(json!({
        "operation": if existing.is_some() { "update" } else { "create" },
        "policy_id": d.id,
        "valid": d.valid,
        "errors": d.errors,
        "approval_required": true,
        "risk": risk,
        "policy_digest": digest,
        // Only an id that can name a directory gives a path (never
        // `policies/../../etc/x/policy.yaml`).
        "target_path": pack_dir_id(&d.id).then(|| format!("policies/{}/policy.yaml", d.id)),
        "diff": diff,
    })))
}

// ---------- integrations & evidence ----------

record_handlers!(
    list_integrations,
    post_integration,
    get_integration,
    Kind::Integration,
    "integration",
    "integration_id"
);
record_handlers!(
    list_evidence,
    post_evidence,
    get_evidence,
    Kind::Evidence,
    "evidence metadata",
    "session_id"
);

// ---------- console & operations ----------

fn configured(v: &Option<String>) -> &'static str {
    if v.is_some() {
        "configured"
    } else {
        "disabled"
    }
}

async fn console_config(State(state): State<AppState>) -> Json<Value> {
    let c = &state.config;
    let mut out = json!({
        "product": "CAVRA",
        "api_base_url": c.api_base_url,
        "pilot_intake_mode": "json",
        "approval_provider_delivery": configured(&c.approval_provider_config),
        "connector_delivery": configured(&c.connector_config),
        "approval_oidc": configured(&c.oidc_config),
        "approval_rbac": configured(&c.rbac_file),
        "evidence_artifacts": configured(&c.artifact_root),
        "cors_origins": c.cors_origins,
    });
    let mut modes = Map::new();
    for plan in state.stores.plans() {
        set(&mut out, plan.name.mode_key(), json!(plan.location.mode()));
        modes.insert(plan.name.as_str().into(), json!(plan.location.mode()));
        if plan.name == StoreName::Registry {
            set(&mut out, "registry_store", json!(plan.location.display()));
        }
    }
    set(&mut out, "store_modes", Value::Object(modes));
    let mut map = Map::new();
    for (e, _) in endpoints() {
        let name = format!(
            "{}_{}",
            e.method.to_ascii_lowercase(),
            e.path
                .trim_start_matches('/')
                .replace(['/', '-'], "_")
                .replace(['{', '}'], "")
        );
        map.insert(name, json!(e.path));
    }
    set(&mut out, "endpoints", Value::Object(map));
    Json(out)
}

async fn security_boundary(State(state): State<AppState>) -> Json<Value> {
    let c = &state.config;
    let oidc = c.oidc_config.is_some();
    let rbac = c.rbac_file.is_some();
    let cors = !c.cors_origins.is_empty();
    Json(json!({
        "mode": if oidc && rbac { "oidc_rbac_ready" } else { "local_or_demo" },
        "oidc": {
            "configured": oidc,
            "status": if oidc { "configured" } else { "not_configured" },
            "supported_algorithms": ["RS256"],
            "env": "CAVRA_APPROVAL_OIDC_CONFIG",
        },
        "rbac": {
            "configured": rbac,
            "status": if rbac { "configured" } else { "not_configured" },
            "env": "CAVRA_APPROVAL_RBAC_FILE",
        },
        "cors": {
            "configured": cors,
            "status": if cors { "configured" } else { "not_configured" },
            "origins": c.cors_origins,
            "env": "CAVRA_CORS_ORIGINS",
        },
        "browser_permissions": {
            // Until actor tokens can be verified, those mutations are
            // refused outright (403) when OIDC or RBAC is configured.
            "mutations_require_verified_actor": oidc || rbac,
            "verified_actor_mutations": if oidc || rbac { "refused_until_verification_available" } else { "not_required" },
            "backup_and_restore": "cli_only",
        },
        "notes": [
            "OIDC identity and repository RBAC are not verified by this build until the approvals and identity work lands; while either is configured, rollout changes and break-glass decisions are refused (403) rather than trusted on a self-asserted actor; otherwise treat the API as local or demo and keep it on loopback",
            "CORS headers are sent only for the exact origins in CAVRA_CORS_ORIGINS",
            "backup and restore run only through `cavra ops`; the API has no restore authority",
        ],
    }))
}

async fn operations_stores(State(state): State<AppState>) -> ApiResult {
    let status = state.stores.status().await?;
    Ok(Json(json!({"stores": status})))
}

async fn retention_plan(State(state): State<AppState>, params: Params) -> ApiResult {
    params.only(&["retention_days", "classification", "legal_hold"])?;
    let days = match params.get("retention_days") {
        Some(v) => v
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|d| (1..=36_500).contains(d))
            .ok_or_else(|| {
                ApiError::field(
                    "retention_days",
                    format!("{v:?} is not a number of days from 1 to 36500"),
                )
            })?,
        None => 2555,
    };
    let classification = params.get("classification").unwrap_or("regulated-sdlc");
    let legal_hold = match params.get("legal_hold") {
        None => false,
        Some(v) => match v.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => true,
            "false" | "0" | "no" => false,
            _ => {
                return Err(ApiError::field(
                    "legal_hold",
                    format!("{v:?} is not a boolean"),
                ));
            }
        },
    };
    Ok(Json(
        ops::retention_plan(&state.stores, days, classification, legal_hold).await?,
    ))
}

async fn production_readiness(State(state): State<AppState>) -> ApiResult {
    let c = &state.config;
    let mut checks = Vec::new();
    let mut add = |name: &str, passed: bool, detail: String, missing: bool| {
        checks.push(json!({
            "check": name,
            "status": if passed { "passed" } else if missing { "missing" } else { "failed" },
            "passed": passed,
            "detail": detail,
        }));
    };
    add(
        "oidc",
        false,
        if c.oidc_config.is_some() {
            "CAVRA_APPROVAL_OIDC_CONFIG is set, but this build does not verify OIDC tokens yet"
                .into()
        } else {
            "OIDC token verification is not available in this build (CAVRA_APPROVAL_OIDC_CONFIG)"
                .into()
        },
        true,
    );
    add(
        "rbac",
        false,
        "repository RBAC for approvals is not available in this build (CAVRA_APPROVAL_RBAC_FILE)"
            .into(),
        true,
    );
    add(
        "cors",
        !c.cors_origins.is_empty(),
        if c.cors_origins.is_empty() {
            "CAVRA_CORS_ORIGINS is not set; the console must be served from the API's origin".into()
        } else {
            format!("exact origins: {}", c.cors_origins.join(", "))
        },
        false,
    );
    add(
        "evidence_artifact_root",
        c.artifact_root.is_some(),
        match &c.artifact_root {
            Some(r) => format!("CAVRA_EVIDENCE_ARTIFACT_ROOT = {r}"),
            None => "CAVRA_EVIDENCE_ARTIFACT_ROOT is not set".into(),
        },
        false,
    );
    let packs = pack_rows();
    let bad: Vec<String> = packs
        .iter()
        .filter(|(_, r)| r.is_err())
        .map(|(id, _)| id.clone())
        .collect();
    add(
        "policy_catalog",
        !packs.is_empty() && bad.is_empty(),
        if bad.is_empty() {
            format!("{} packs load and compile", packs.len())
        } else {
            format!("packs that do not load: {}", bad.join(", "))
        },
        false,
    );
    let status = state.stores.status().await;
    let (stores_ok, detail) = match &status {
        Ok(list) => {
            let default_json: Vec<&str> = list
                .iter()
                .filter(|s| s.configured_by == "default")
                .map(|s| s.name.as_str())
                .collect();
            // Presence, as documented: a configured store that does not
            // exist yet (a typo in CAVRA_ACTIVITY_STORE) is not ready.
            let absent: Vec<String> = list
                .iter()
                .filter(|s| !s.exists)
                .map(|s| format!("{} ({})", s.name, s.path))
                .collect();
            if !default_json.is_empty() {
                (
                    false,
                    format!(
                        "stores on the default local JSON files: {} (set CAVRA_DATABASE_URL or CAVRA_*_DB for production)",
                        default_json.join(", ")
                    ),
                )
            } else if !absent.is_empty() {
                (
                    false,
                    format!(
                        "configured stores that do not exist yet: {}",
                        absent.join(", ")
                    ),
                )
            } else {
                (
                    true,
                    "every store is explicitly configured, present and readable".to_string(),
                )
            }
        }
        Err(e) => (false, format!("a store cannot be read: {e}")),
    };
    add("persistent_stores", stores_ok, detail, false);
    let ready = checks.iter().all(|c| at(c, "passed") == true);
    let missing: Vec<Value> = checks
        .iter()
        .filter(|c| at(c, "status") == "missing")
        .map(|c| at(c, "check").clone())
        .collect();
    Ok(Json(json!({
        "status": if ready { "ready" } else { "needs_attention" },
        "checks": checks,
        "missing_controls": missing,
    })))
}
