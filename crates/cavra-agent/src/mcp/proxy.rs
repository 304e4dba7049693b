//! `cavra mcp proxy`: a governing stdio gateway between an MCP client and
//! one real MCP server (spawned as a child process).
//!
//! - `tools/list`: the upstream list, minus tools the policy blocks and
//!   tools whose definitions are not pinned (changed, or new since the
//!   server was pinned).
//! - `tools/call`: evaluated as an `mcp_tool_call` (server, tool and the
//!   arguments, so argument-level rules apply); a block, an approval gate, a
//!   pin violation, an upstream failure or a timeout comes back as an
//!   `isError` result whose text the model can read. Only an allowed call
//!   reaches the server.
//! - `notifications/tools/list_changed` from the server: the definitions
//!   are re-fetched and re-checked against the pins, and the client is told.
//!
//! Every decision is appended to the hook spool like a hook decision.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use cavra_policy::{
    Action, ActionType, BreakGlass, CompiledPolicy, Decision, EvalContext, Outcome,
};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock as Content,
    Implementation, InitializeResult, ListToolsResult, PaginatedRequestParams, ServerCapabilities,
    Tool,
};
use rmcp::service::{NotificationContext, RequestContext, RunningService};
use rmcp::{ClientHandler, ErrorData as McpError, Peer, RoleClient, RoleServer, ServerHandler};
use serde_json::Value;
use tokio::sync::Mutex;

use super::pins::{self, PinState};

/// The most tools one governed server may list.
pub const MAX_TOOLS: usize = 10_000;
/// The most pages a server's tool list may take.
pub const MAX_TOOL_PAGES: usize = 100;

/// Settings of one proxy.
#[derive(Clone, Debug)]
pub struct ProxyConfig {
    /// The server's name in policy (`mcp.allowed_servers`, `server:tool`).
    pub server: String,
    pub pins: PathBuf,
    /// Where decisions are recorded (`None`: not recorded).
    pub spool: Option<PathBuf>,
    pub session_id: String,
    pub call_timeout: Duration,
}

/// Pin states, with the pin file's modification time they were read at and
/// the hash of the tool definitions they were computed for.
type PinSnapshot = (
    Option<std::time::SystemTime>,
    String,
    Arc<BTreeMap<String, PinState>>,
);

/// A fetched tool list with its canonical definitions and their hash,
/// computed once per list (not once per call).
struct ToolList {
    tools: Vec<Tool>,
    defs: Vec<Value>,
    hash: String,
}

struct Shared {
    policy: CompiledPolicy,
    cfg: ProxyConfig,
    /// The client (downstream) peer, once it has spoken.
    downstream: Mutex<Option<Peer<RoleServer>>>,
    /// The last tool list.
    tools: Mutex<Option<Arc<ToolList>>>,
    /// Pin states of that list, with the pin file's modification time they
    /// were read at (an approval by `cavra mcp pins approve` changes it, so
    /// it takes effect at the next call).
    states: Mutex<Option<PinSnapshot>>,
}

/// The upstream side: a client of the real server.
#[derive(Clone)]
pub struct Upstream {
    shared: Arc<Shared>,
}

impl ClientHandler for Upstream {
    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        // Forget the list; the next tools/list re-fetches and re-pins.
        *self.shared.tools.lock().await = None;
        *self.shared.states.lock().await = None;
        let peer = self.shared.downstream.lock().await.clone();
        if let Some(p) = peer {
            let _ = p.notify_tool_list_changed().await;
        }
    }
}

/// The downstream side: the server the agent talks to.
#[derive(Clone)]
pub struct Proxy {
    shared: Arc<Shared>,
    upstream: Peer<RoleClient>,
}

/// Starts the upstream server and returns the proxy and the running client
/// service (keep it alive for as long as the proxy runs).
pub async fn connect(
    policy: CompiledPolicy,
    cfg: ProxyConfig,
    command: &[String],
) -> Result<(Proxy, RunningService<RoleClient, Upstream>), String> {
    use rmcp::ServiceExt;
    let (prog, args) = command
        .split_first()
        .ok_or("no MCP server command given after --")?;
    let mut cmd = tokio::process::Command::new(prog);
    cmd.args(args);
    let transport = rmcp::transport::TokioChildProcess::new(cmd)
        .map_err(|e| format!("cannot start the MCP server {prog}: {e}"))?;
    let shared = Arc::new(Shared {
        policy,
        cfg,
        downstream: Mutex::new(None),
        tools: Mutex::new(None),
        states: Mutex::new(None),
    });
    let upstream = Upstream {
        shared: shared.clone(),
    };
    let running = upstream
        .serve(transport)
        .await
        .map_err(|e| format!("the MCP server {prog} did not initialise: {e}"))?;
    let proxy = Proxy {
        shared,
        upstream: running.peer().clone(),
    };
    Ok((proxy, running))
}

fn tool_json(t: &Tool) -> Value {
    serde_json::to_value(t).unwrap_or(Value::Null)
}

fn blocked_result(text: String) -> CallToolResult {
    CallToolResult::error(vec![Content::text(text)])
}

impl Proxy {
    async fn remember_peer(&self, peer: &Peer<RoleServer>) {
        let mut d = self.shared.downstream.lock().await;
        if d.is_none() {
            *d = Some(peer.clone());
        }
    }

    /// Every tool the server lists, page by page, at most [`MAX_TOOLS`]
    /// tools in [`MAX_TOOL_PAGES`] pages: a server that keeps answering
    /// with a next page is refused rather than held in memory until the
    /// timeout.
    async fn list_upstream(&self) -> Result<Vec<Tool>, String> {
        let mut tools = Vec::new();
        let mut cursor = None;
        for _ in 0..MAX_TOOL_PAGES {
            let page = self
                .upstream
                .list_tools(Some(PaginatedRequestParams::default().with_cursor(cursor)))
                .await
                .map_err(|e| format!("the MCP server failed to list its tools: {e}"))?;
            tools.extend(page.tools);
            if tools.len() > MAX_TOOLS {
                return Err(format!(
                    "the MCP server lists more than {MAX_TOOLS} tools; CAVRA governs at most that many"
                ));
            }
            cursor = page.next_cursor;
            if cursor.is_none() {
                return Ok(tools);
            }
        }
        Err(format!(
            "the MCP server lists its tools in more than {MAX_TOOL_PAGES} pages; CAVRA reads at most that many"
        ))
    }

    /// The upstream tools (fetched when unknown) and their pin states.
    async fn tools(&self) -> Result<(Arc<ToolList>, Arc<BTreeMap<String, PinState>>), String> {
        let cached = self.shared.tools.lock().await.clone();
        let list = match cached {
            Some(t) => t,
            None => {
                let tools =
                    tokio::time::timeout(self.shared.cfg.call_timeout, self.list_upstream())
                        .await
                        .map_err(|_| {
                            "the MCP server did not list its tools in time".to_string()
                        })??;
                let defs: Vec<Value> = tools.iter().map(tool_json).collect();
                let hash =
                    pins::tool_hash(&serde_json::json!({"name": Value::Array(defs.clone())}));
                let list = Arc::new(ToolList { tools, defs, hash });
                *self.shared.tools.lock().await = Some(list.clone());
                list
            }
        };
        let mtime = std::fs::metadata(&self.shared.cfg.pins)
            .and_then(|m| m.modified())
            .ok();
        if let Some((seen, h, states)) = self.shared.states.lock().await.clone()
            && seen.is_some()
            && seen == mtime
            && h == list.hash
        {
            return Ok((list, states));
        }
        let path = self.shared.cfg.pins.clone();
        let server = self.shared.cfg.server.clone();
        let defs = list.defs.clone();
        // The time is read under the pin file's lock: an approval written
        // between the check and a later read would otherwise be cached as
        // already seen, with the states from before it.
        let (states, mtime) =
            tokio::task::spawn_blocking(move || pins::check_stamped(&path, &server, &defs))
                .await
                .map_err(|e| format!("pin check failed: {e}"))??;
        let states = Arc::new(states);
        *self.shared.states.lock().await = Some((mtime, list.hash.clone(), states.clone()));
        Ok((list, states))
    }

    fn evaluate(&self, tool: &str, arguments: Option<Value>) -> Decision {
        let server = &self.shared.cfg.server;
        let mut a = Action::new(ActionType::McpToolCall, format!("{server}:{tool}"));
        a.server = Some(server.clone());
        a.tool = Some(tool.to_string());
        a.capability = Some("tool".into());
        a.arguments = arguments;
        a.session_id = Some(self.shared.cfg.session_id.clone());
        a.agent_id = Some("mcp-proxy".into());
        a.actor = Some("ai-agent:mcp-proxy".into());
        cavra_policy::decide_now(
            &self.shared.policy,
            &a,
            &EvalContext::default(),
            None,
            &BreakGlass::default(),
        )
    }

    async fn record(&self, d: &Decision) -> Result<(), String> {
        let Some(spool) = self.shared.cfg.spool.clone() else {
            return Ok(());
        };
        let v = serde_json::to_value(d).map_err(|e| e.to_string())?;
        if !cavra_store::spool::sync_from_env(|k| std::env::var(k).ok()) {
            // One short append: cheaper inline than a hand-off.
            return cavra_store_spool_append(&spool, &v);
        }
        tokio::task::spawn_blocking(move || cavra_store_spool_append(&spool, &v))
            .await
            .map_err(|e| e.to_string())?
    }
}

/// Appends one record to the hook spool.
fn cavra_store_spool_append(path: &std::path::Path, v: &Value) -> Result<(), String> {
    let sync = cavra_store::spool::sync_from_env(|k| std::env::var(k).ok());
    cavra_store::spool::append(path, std::slice::from_ref(v), sync).map_err(|e| e.to_string())
}

impl ServerHandler for Proxy {
    fn get_info(&self) -> InitializeResult {
        InitializeResult::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_tool_list_changed()
                .build(),
        )
        .with_server_info(Implementation::new(
            format!("cavra-mcp-proxy/{}", self.shared.cfg.server),
            env!("CARGO_PKG_VERSION"),
        ))
        .with_instructions(format!(
            "Tools of the MCP server `{}`, governed by CAVRA: blocked calls return an error explaining why.",
            self.shared.cfg.server
        ))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        self.remember_peer(&context.peer).await;
        let (tools, states) = self
            .tools()
            .await
            .map_err(|e| McpError::internal_error(e, None))?;
        let visible: Vec<Tool> = tools
            .tools
            .iter()
            .filter(|t| states.get(t.name.as_ref()) == Some(&PinState::Trusted))
            .filter(|t| {
                // A tool the policy blocks outright is hidden; tools whose
                // verdict depends on arguments stay visible.
                let d = self.evaluate(&t.name, None);
                d.decision != Outcome::Block || d.rule_id.starts_with("mcp.argument")
            })
            .cloned()
            .collect();
        Ok(ListToolsResult {
            tools: visible,
            ..Default::default()
        })
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        self.remember_peer(&context.peer).await;
        let name = request.name.to_string();
        let args = request.arguments.clone().map(Value::Object);
        let mut d = self.evaluate(&name, args);
        // The pins are checked before anything is recorded, so the record
        // says what happened: a tool the gateway refuses for its pin (or
        // does not know) is recorded as that block, not as the policy's
        // verdict on a call that never went out.
        let refused = match self.tools().await {
            Err(e) => Some((
                "mcp.gateway.tools_unavailable",
                format!("the server's tools could not be listed: {e}"),
            )),
            Ok((_, states)) => match states.get(&name) {
                Some(PinState::Trusted) => None,
                Some(PinState::Changed) => Some((
                    "mcp.pin.changed",
                    format!(
                        "its definition changed since it was pinned. A human must review it and run `cavra mcp pins approve --server {} --tool {name}`",
                        self.shared.cfg.server
                    ),
                )),
                Some(_) => Some((
                    "mcp.pin.new",
                    format!(
                        "it appeared after the server's tools were pinned. A human must review it and run `cavra mcp pins approve --server {} --tool {name}`",
                        self.shared.cfg.server
                    ),
                )),
                None => Some((
                    "mcp.tool.unknown",
                    "the server has no such tool".to_string(),
                )),
            },
        };
        if let Some((rule, why)) = refused
            && d.decision < Outcome::Block
        {
            d.decision = Outcome::Block;
            d.rule_id = rule.to_string();
            d.severity = cavra_policy::Severity::High;
            d.reason = why;
            d.approver_group = None;
        }
        if let Err(e) = self.record(&d).await {
            return Ok(blocked_result(format!(
                "CAVRA blocked `{}:{name}` (fail closed): the decision could not be recorded: {e}",
                self.shared.cfg.server
            ))
            .into());
        }
        // A refusal above made the decision a block, so only allowed calls
        // to trusted tools get past this.
        if d.decision >= Outcome::RequireApproval {
            if d.rule_id == "mcp.tool.unknown" {
                return Err(McpError::invalid_params(
                    format!("Unknown tool: {name}"),
                    None,
                ));
            }
            let what = if d.decision == Outcome::Block {
                "blocked".to_string()
            } else {
                format!(
                    "requires approval{} for",
                    d.approver_group
                        .as_deref()
                        .map(|g| format!(" from {g}"))
                        .unwrap_or_default()
                )
            };
            return Ok(blocked_result(format!(
                "CAVRA {what} the MCP tool call `{}`: {} (rule {}, decision {})",
                d.target, d.reason, d.rule_id, d.decision_id
            ))
            .into());
        }
        let mut fwd = CallToolRequestParams::new(Cow::Owned(name.clone()));
        fwd.arguments = request.arguments;
        match tokio::time::timeout(self.shared.cfg.call_timeout, self.upstream.call_tool(fwd)).await
        {
            Ok(Ok(r)) => Ok(r.into()),
            Ok(Err(e)) => Ok(blocked_result(format!(
                "The MCP server `{}` failed on `{name}`: {e}",
                self.shared.cfg.server
            ))
            .into()),
            Err(_) => Ok(blocked_result(format!(
                "The MCP server `{}` did not answer `{name}` within {} ms.",
                self.shared.cfg.server,
                self.shared.cfg.call_timeout.as_millis()
            ))
            .into()),
        }
    }
}
