//! The five agents' hook protocols: what arrives on stdin, which CAVRA
//! actions a tool call is, and exactly what each agent expects back.
//!
//! Protocol notes (fields, event names, exit codes) are in
//! `../shared/spec/anchors-mission-perf.md` §(c); the golden fixtures under
//! `crates/cavra-agent/tests/golden/` pin every answer byte for byte.

use cavra_policy::{Action, ActionType};
use serde_json::{Map, Value, json};

use crate::patch;

/// Longest hook input accepted. Agents put whole file contents in `Write`
/// calls, so this is generous; anything larger is refused (fail closed).
pub const MAX_INPUT: usize = 8 * 1024 * 1024;

/// Longest reason handed back to an agent (Claude Code caps output strings
/// at 10,000 characters).
pub const MAX_REASON: usize = 9_000;

/// An agent CAVRA hooks into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Agent {
    ClaudeCode,
    Codex,
    GeminiCli,
    Cursor,
    CopilotCli,
}

impl Agent {
    pub const ALL: [Agent; 5] = [
        Agent::ClaudeCode,
        Agent::Codex,
        Agent::GeminiCli,
        Agent::Cursor,
        Agent::CopilotCli,
    ];

    /// The name used on the command line and as `agent_id`.
    pub fn name(self) -> &'static str {
        match self {
            Agent::ClaudeCode => "claude-code",
            Agent::Codex => "codex",
            Agent::GeminiCli => "gemini-cli",
            Agent::Cursor => "cursor",
            Agent::CopilotCli => "copilot-cli",
        }
    }

    pub fn parse(s: &str) -> Result<Agent, String> {
        match s {
            "claude-code" | "claude" => Ok(Agent::ClaudeCode),
            "codex" => Ok(Agent::Codex),
            "gemini-cli" | "gemini" => Ok(Agent::GeminiCli),
            "cursor" => Ok(Agent::Cursor),
            "copilot-cli" | "copilot" => Ok(Agent::CopilotCli),
            other => Err(format!(
                "unknown agent {other:?}; expected one of claude-code, codex, gemini-cli, cursor, copilot-cli"
            )),
        }
    }

    /// The event used when the input does not name one (Copilot CLI never
    /// does; the event comes from the configuration that ran the hook).
    pub fn default_event(self) -> Event {
        match self {
            Agent::ClaudeCode | Agent::Codex => Event::PreToolUse,
            Agent::GeminiCli => Event::BeforeTool,
            Agent::Cursor => Event::PreToolUseCursor,
            Agent::CopilotCli => Event::PreToolUseCopilot,
        }
    }

    /// The gating events CAVRA answers for this agent.
    pub fn events(self) -> &'static [Event] {
        match self {
            Agent::ClaudeCode | Agent::Codex => &[Event::PreToolUse, Event::PermissionRequest],
            Agent::GeminiCli => &[Event::BeforeTool],
            Agent::Cursor => &[
                Event::PreToolUseCursor,
                Event::BeforeShellExecution,
                Event::BeforeMcpExecution,
                Event::BeforeReadFile,
            ],
            Agent::CopilotCli => &[Event::PreToolUseCopilot],
        }
    }
}

/// A hook event CAVRA answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Claude Code and Codex `PreToolUse`.
    PreToolUse,
    /// Claude Code and Codex `PermissionRequest`.
    PermissionRequest,
    /// Gemini CLI `BeforeTool`.
    BeforeTool,
    /// Cursor's generic `preToolUse`.
    PreToolUseCursor,
    BeforeShellExecution,
    BeforeMcpExecution,
    BeforeReadFile,
    /// Copilot CLI `preToolUse`.
    PreToolUseCopilot,
}

impl Event {
    pub fn name(self) -> &'static str {
        match self {
            Event::PreToolUse => "PreToolUse",
            Event::PermissionRequest => "PermissionRequest",
            Event::BeforeTool => "BeforeTool",
            Event::PreToolUseCursor | Event::PreToolUseCopilot => "preToolUse",
            Event::BeforeShellExecution => "beforeShellExecution",
            Event::BeforeMcpExecution => "beforeMCPExecution",
            Event::BeforeReadFile => "beforeReadFile",
        }
    }

    /// The event `name` means for `agent`, if CAVRA answers it.
    pub fn for_agent(agent: Agent, name: &str) -> Option<Event> {
        agent.events().iter().copied().find(|e| e.name() == name)
    }
}

/// What CAVRA tells the agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Gate {
    /// Proceed; the agent's own permission flow still applies.
    Allow,
    /// Proceed, telling the user something (a `warn` decision).
    Notice(String),
    /// A human must approve.
    Ask(String),
    /// Refuse.
    Deny(String),
}

/// Bytes for stdout and stderr, and the exit status.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Response {
    pub stdout: String,
    pub stderr: String,
    pub exit: u8,
}

/// A tool call mapped to CAVRA terms.
#[derive(Clone, Debug)]
pub struct Call {
    pub agent: Agent,
    pub event: Event,
    pub session_id: String,
    pub cwd: Option<String>,
    pub repo_root: Option<String>,
    pub tool: String,
    /// The actions the call would take; empty for tools that take none
    /// (to-do lists, plan mode, asking the user).
    pub actions: Vec<Action>,
}

/// Why a hook input could not be mapped. Every variant fails closed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError(pub String);

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(msg: impl Into<String>) -> Result<T, InputError> {
    Err(InputError(msg.into()))
}

/// Decodes raw stdin: size, UTF-8 and JSON object checks.
pub fn decode(input: &[u8]) -> Result<Map<String, Value>, InputError> {
    if input.len() > MAX_INPUT {
        return err(format!(
            "hook input is larger than {} MiB",
            MAX_INPUT / (1024 * 1024)
        ));
    }
    let text = match std::str::from_utf8(input) {
        Ok(t) => t,
        Err(e) => {
            return err(format!(
                "hook input is not valid UTF-8 (at byte {})",
                e.valid_up_to()
            ));
        }
    };
    if text.trim().is_empty() {
        return err("hook input is empty");
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(other) => err(format!(
            "hook input is JSON {} where an object was expected",
            kind_of(&other)
        )),
        Err(e) => err(format!("hook input is not valid JSON: {e}")),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn str_field<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    m.get(key).and_then(Value::as_str)
}

/// A path or command from the tool input: present, a string, no NUL.
/// Every alias present must say the same: the agent may act on any one of
/// them, so a decoy (`{"file_path": "README.md", "path": ".env"}`) is
/// refused rather than the first one judged.
fn text_arg(input: &Map<String, Value>, keys: &[&str], tool: &str) -> Result<String, InputError> {
    let mut found: Option<(&str, &String)> = None;
    for k in keys {
        match input.get(*k) {
            None | Some(Value::Null) => continue,
            Some(Value::String(s)) => {
                if s.contains('\0') {
                    return err(format!("{tool}: `{k}` contains a NUL byte"));
                }
                if s.trim().is_empty() {
                    return err(format!("{tool}: `{k}` is empty"));
                }
                match found {
                    Some((first, v)) if v != s => {
                        return err(format!(
                            "{tool}: `{first}` and `{k}` name different values; which one the tool uses is not known"
                        ));
                    }
                    Some(_) => {}
                    None => found = Some((k, s)),
                }
            }
            Some(other) => {
                return err(format!(
                    "{tool}: `{k}` is a {} where a string was expected",
                    kind_of(other)
                ));
            }
        }
    }
    match found {
        Some((_, v)) => Ok(v.clone()),
        None => err(format!(
            "{tool}: tool input has no `{}`",
            keys.first().copied().unwrap_or("?")
        )),
    }
}

/// A search root: the given path, or the working directory.
fn dir_arg(input: &Map<String, Value>, keys: &[&str], tool: &str) -> Result<String, InputError> {
    if keys
        .iter()
        .all(|k| matches!(input.get(*k), None | Some(Value::Null)))
    {
        return Ok(".".into());
    }
    text_arg(input, keys, tool)
}

/// A shell command: a string, or an argument vector (Codex).
fn command_arg(input: &Map<String, Value>, tool: &str) -> Result<String, InputError> {
    match input.get("command") {
        Some(Value::Array(_)) if !matches!(input.get("cmd"), None | Some(Value::Null)) => err(
            format!("{tool}: both `command` and `cmd` are given; which one runs is not known"),
        ),
        Some(Value::Array(items)) => {
            let mut words = Vec::new();
            for i in items {
                match i.as_str() {
                    Some(s) if !s.contains('\0') => words.push(shell_quote(s)),
                    Some(_) => return err(format!("{tool}: `command` contains a NUL byte")),
                    None => return err(format!("{tool}: `command` holds a non-string item")),
                }
            }
            if words.is_empty() {
                return err(format!("{tool}: `command` is empty"));
            }
            Ok(words.join(" "))
        }
        _ => text_arg(input, &["command", "cmd"], tool),
    }
}

/// The patch of a shell call that is Codex's `apply_patch`: the argument
/// vector `["apply_patch", PATCH]` (or `applypatch`), or a command line
/// `apply_patch <<'EOF' … EOF` whose here-document is the patch.
fn shell_patch(input: &Map<String, Value>) -> Option<String> {
    let is_patch = |w: &str| matches!(w, "apply_patch" | "applypatch");
    match input.get("command") {
        Some(Value::Array(items)) => {
            let first = items.first()?.as_str()?;
            if !is_patch(first) {
                return None;
            }
            items.get(1)?.as_str().map(str::to_string)
        }
        Some(Value::String(line)) => {
            let (head, body) = line.split_once('\n')?;
            let mut words = head.split_whitespace();
            if !is_patch(words.next()?) {
                return None;
            }
            // `<<EOF`, `<<'EOF'`, `<< 'EOF'`, `<<-EOF`.
            let op = words.next()?;
            let marker = match op.strip_prefix("<<")? {
                "" | "-" => words.next()?,
                m => m,
            };
            let marker = marker.trim_start_matches('-').trim_matches(['\'', '"']);
            if marker.is_empty() {
                return None;
            }
            let end = body
                .lines()
                .position(|l| l.trim_end_matches('\r') == marker)
                .unwrap_or(body.lines().count());
            Some(body.lines().take(end).collect::<Vec<_>>().join("\n"))
        }
        _ => None,
    }
}

/// A PowerShell command as the bash analysis should read it. A backslash
/// separates path components there (`.git\config`, `.claude\settings.json`)
/// and escapes nothing, so it becomes `/`; PowerShell's own escape, the
/// backquote, reads as a command substitution to bash, which the analysis
/// never allows.
fn powershell(command: String) -> String {
    command.replace('\\', "/")
}

/// Quotes one word for bash (single quotes, `'\''` for quotes inside).
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn action(t: ActionType, target: String) -> Action {
    Action::new(t, target)
}

/// A content search (`Grep` and its kin): a read of the directory or file it
/// searches, plus, when a file-name filter (`glob`, `include`) narrows it,
/// a read of the glob `DIR/**/FILTER` (a filter without `/` matches at any
/// depth), which needs approval when it is aimed at a protected file.
fn search_actions(
    input: &Map<String, Value>,
    dir_keys: &[&str],
    filter_keys: &[&str],
    tool: &str,
) -> Result<Vec<Action>, InputError> {
    let dir = dir_arg(input, dir_keys, tool)?;
    let mut out = vec![action(ActionType::ReadFile, dir.clone())];
    for k in filter_keys {
        let filter = match input.get(*k) {
            None | Some(Value::Null) => continue,
            Some(Value::String(f)) if f.contains('\0') => {
                return err(format!("{tool}: `{k}` contains a NUL byte"));
            }
            Some(Value::String(f)) => f.trim().to_string(),
            Some(_) => return err(format!("{tool}: `{k}` is not a string")),
        };
        if filter.is_empty() {
            continue;
        }
        // `!GLOB` excludes: what is searched is everything else.
        let filter = if filter.starts_with('!') {
            "*".to_string()
        } else {
            filter
        };
        out.extend(glob_reads(&dir, &filter));
    }
    Ok(out)
}

/// Reads of the files a glob names under `dir`, judged as globs (what they
/// may match), one per `{a,b}` alternative; a glob without `/` matches at
/// any depth.
fn glob_reads(dir: &str, filter: &str) -> Vec<Action> {
    glob_alternatives(filter, 64)
        .into_iter()
        .map(|f| {
            let f = f.trim_start_matches("./");
            let glob = match (f.starts_with('/'), f.contains('/')) {
                (true, _) => f.to_string(),
                (false, true) => format!("{}/{f}", dir.trim_end_matches('/')),
                (false, false) => format!("{}/**/{f}", dir.trim_end_matches('/')),
            };
            let mut a = action(ActionType::ReadFile, glob);
            a.operation = Some("glob".into());
            a
        })
        .collect()
}

/// Whether a path given to a tool that expands globs is one.
fn is_glob(path: &str) -> bool {
    path.contains(['*', '?', '[', '{'])
}

/// The alternatives of a glob's `{a,b}` groups (nested too), at most
/// `limit`; past the limit, or with an unmatched brace, the glob is kept
/// whole with each group widened to `*` (it then matches more, never less).
fn glob_alternatives(glob: &str, limit: usize) -> Vec<String> {
    fn split(glob: &str) -> Option<(&str, Vec<&str>, &str)> {
        let open = glob.find('{')?;
        let mut depth = 0usize;
        let mut parts = Vec::new();
        let mut start = open + 1;
        for (i, c) in glob.char_indices().skip_while(|(i, _)| *i <= open) {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    parts.push(glob.get(start..i)?);
                    return Some((glob.get(..open)?, parts, glob.get(i + 1..)?));
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    parts.push(glob.get(start..i)?);
                    start = i + 1;
                }
                _ => {}
            }
        }
        None
    }
    fn widen(glob: &str) -> String {
        let mut out = String::new();
        let mut depth = 0usize;
        for c in glob.chars() {
            match c {
                '{' => {
                    if depth == 0 {
                        out.push('*');
                    }
                    depth += 1;
                }
                '}' if depth > 0 => depth -= 1,
                _ if depth > 0 => {}
                _ => out.push(c),
            }
        }
        out
    }
    let mut done = Vec::new();
    let mut todo = vec![glob.to_string()];
    while let Some(g) = todo.pop() {
        match split(&g) {
            None if g.contains('{') => return vec![widen(glob)],
            None => done.push(g),
            Some((pre, parts, post)) => {
                // Counted before any alternative is built: each is as long
                // as the glob, so building a hundred thousand of them first
                // would take gigabytes (and a killed hook lets the action
                // through on some agents).
                if done.len() + todo.len() + parts.len() > limit {
                    return vec![widen(glob)];
                }
                for p in parts {
                    todo.push(format!("{pre}{p}{post}"));
                }
            }
        }
        if done.len() + todo.len() > limit {
            return vec![widen(glob)];
        }
    }
    done.reverse();
    done
}

fn mcp_action(server: &str, tool: &str, args: Option<Value>) -> Action {
    let mut a = Action::new(ActionType::McpToolCall, format!("{server}:{tool}"));
    a.server = Some(server.to_string());
    a.tool = Some(tool.to_string());
    a.arguments = args;
    a
}

/// `mcp__server__tool` (also `mcp__plugin_p_server__tool`) → (server, tool).
pub fn split_mcp_name(name: &str) -> Option<(String, String)> {
    mcp_name_splits(name).into_iter().next()
}

/// Every (server, tool) reading of `mcp__…`: a server name may itself hold
/// `__` (Claude Code turns each character it does not allow into `_`), so
/// `mcp__github-enterprise__list__run` may be server `github-enterprise`
/// with tool `list__run`, or server `github-enterprise__list` with tool
/// `run`. A hook judges them all; the most restrictive wins.
pub fn mcp_name_splits(name: &str) -> Vec<(String, String)> {
    let Some(rest) = name.strip_prefix("mcp__") else {
        return Vec::new();
    };
    // Every position of `__`, overlapping ones too (`db___query` may be
    // `db` + `_query` or `db_` + `query`).
    (0..rest.len())
        .filter(|&i| rest.get(i..i + 2) == Some("__"))
        .filter_map(|i| {
            let (server, tool) = (rest.get(..i)?, rest.get(i + 2..)?);
            (!server.is_empty() && !tool.is_empty()).then(|| (server.to_string(), tool.to_string()))
        })
        .collect()
}

/// The object a tool's arguments arrive in (Cursor and Copilot CLI may
/// send them as a JSON string).
fn tool_args(
    m: &Map<String, Value>,
    keys: &[&str],
    tool: &str,
) -> Result<Map<String, Value>, InputError> {
    for k in keys {
        match m.get(*k) {
            None | Some(Value::Null) => continue,
            Some(Value::Object(o)) => return Ok(o.clone()),
            Some(Value::String(s)) => {
                return match serde_json::from_str::<Value>(s) {
                    Ok(Value::Object(o)) => Ok(o),
                    Ok(v) => err(format!(
                        "{tool}: `{k}` holds JSON {} where an object was expected",
                        kind_of(&v)
                    )),
                    Err(e) => err(format!("{tool}: `{k}` is not valid JSON: {e}")),
                };
            }
            Some(other) => {
                return err(format!(
                    "{tool}: `{k}` is a {} where an object was expected",
                    kind_of(other)
                ));
            }
        }
    }
    err(format!(
        "hook input has no `{}`",
        keys.first().copied().unwrap_or("tool_input")
    ))
}

/// Tools that neither run commands, touch files nor call MCP servers.
fn passive(agent: Agent, tool: &str) -> bool {
    let list: &[&str] = match agent {
        Agent::ClaudeCode | Agent::Codex => &[
            "TodoWrite",
            "TodoRead",
            "Task",
            "Agent",
            "ExitPlanMode",
            "EnterPlanMode",
            "AskUserQuestion",
            "BashOutput",
            "KillShell",
            "KillBash",
            "WebSearch",
            "WebFetch",
            "update_plan",
            "web_search",
        ],
        Agent::GeminiCli => &["google_web_search", "web_fetch", "write_todos", "ask_user"],
        Agent::Cursor => &["Task", "TodoWrite", "WebSearch", "WebFetch", "AskQuestion"],
        Agent::CopilotCli => &[
            "report_intent",
            "think",
            "update_todo",
            "web_fetch",
            "web_search",
            "task",
            "read_bash",
            "stop_bash",
        ],
    };
    list.contains(&tool)
}

/// Maps a decoded hook input to a [`Call`].
pub fn map_call(
    agent: Agent,
    event_override: Option<Event>,
    m: &Map<String, Value>,
) -> Result<Call, InputError> {
    let event = match (event_override, event_name(agent, m)) {
        (Some(e), _) => e,
        (None, Some(name)) => match Event::for_agent(agent, name) {
            Some(e) => e,
            None => {
                return err(format!(
                    "{} hook event {name:?} is not one CAVRA answers (expected {})",
                    agent.name(),
                    agent
                        .events()
                        .iter()
                        .map(|e| e.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        },
        (None, None) => match agent {
            Agent::CopilotCli => agent.default_event(),
            _ => return err(format!("{} hook input has no event name", agent.name())),
        },
    };
    let session_id = ["session_id", "conversation_id", "sessionId"]
        .iter()
        .find_map(|k| str_field(m, k))
        .filter(|s| !s.is_empty() && !s.contains('\0'))
        .unwrap_or("local")
        .to_string();
    let cwd = str_field(m, "cwd")
        .map(str::to_string)
        .or_else(|| {
            m.get("workspace_roots")
                .and_then(Value::as_array)
                .and_then(|a| a.first())
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .filter(|c| !c.is_empty());
    if cwd.as_deref().is_some_and(|c| c.contains('\0')) {
        return err("`cwd` contains a NUL byte");
    }
    let (tool, actions) = map_tool(agent, event, m)?;
    Ok(Call {
        agent,
        event,
        session_id,
        cwd,
        repo_root: None,
        tool,
        actions,
    })
}

fn event_name(agent: Agent, m: &Map<String, Value>) -> Option<&str> {
    let _ = agent;
    str_field(m, "hook_event_name").or_else(|| str_field(m, "hookEventName"))
}

fn map_tool(
    agent: Agent,
    event: Event,
    m: &Map<String, Value>,
) -> Result<(String, Vec<Action>), InputError> {
    match event {
        Event::BeforeShellExecution => {
            let c = text_arg(m, &["command"], "beforeShellExecution")?;
            return Ok(("shell".into(), vec![action(ActionType::ExecuteCommand, c)]));
        }
        Event::BeforeReadFile => {
            let p = text_arg(m, &["file_path"], "beforeReadFile")?;
            return Ok(("read".into(), vec![action(ActionType::ReadFile, p)]));
        }
        Event::BeforeMcpExecution => {
            let tool = text_arg(m, &["tool_name"], "beforeMCPExecution")?;
            let args = match m.get("tool_input") {
                None | Some(Value::Null) => None,
                Some(_) => Some(Value::Object(tool_args(
                    m,
                    &["tool_input"],
                    "beforeMCPExecution",
                )?)),
            };
            // The server is who Cursor says it is (name, URL or command);
            // the tool name is the server's own choice and only names a
            // server when nothing else does.
            let explicit = str_field(m, "server_name")
                .or_else(|| str_field(m, "server"))
                .map(str::to_string)
                .or_else(|| str_field(m, "url").map(url_host))
                .or_else(|| str_field(m, "command").map(command_name));
            let (server, t) = match (explicit, split_mcp_name(&tool)) {
                (Some(s), Some((_, t))) => (s, t),
                (Some(s), None) => (s, tool.clone()),
                (None, Some(st)) => st,
                (None, None) => ("unknown".into(), tool.clone()),
            };
            return Ok((tool.clone(), vec![mcp_action(&server, &t, args)]));
        }
        _ => {}
    }
    let (name_keys, input_keys): (&[&str], &[&str]) = match agent {
        Agent::CopilotCli => (&["toolName", "tool_name"], &["toolArgs", "tool_input"]),
        _ => (&["tool_name"], &["tool_input"]),
    };
    let tool = match name_keys.iter().find_map(|k| m.get(*k)) {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(_) => return err("the tool name is not a non-empty string"),
        None => {
            return err(format!(
                "hook input has no `{}`",
                name_keys.first().copied().unwrap_or("tool_name")
            ));
        }
    };
    if tool.contains('\0') {
        return err("the tool name contains a NUL byte");
    }
    let input = tool_args(m, input_keys, &tool)?;
    // Gemini names the server in `mcp_context`; that wins over a tool name
    // the server itself chose (`mcp__github__x` from an untrusted server).
    if agent == Agent::GeminiCli
        && let Some(server) = m
            .get("mcp_context")
            .and_then(|c| c.get("server_name"))
            .and_then(Value::as_str)
    {
        let t = split_mcp_name(&tool).map_or_else(|| tool.clone(), |(_, t)| t);
        return Ok((
            tool.clone(),
            vec![mcp_action(server, &t, Some(Value::Object(input)))],
        ));
    }
    let splits = mcp_name_splits(&tool);
    if !splits.is_empty() {
        let actions = splits
            .iter()
            .map(|(server, t)| mcp_action(server, t, Some(Value::Object(input.clone()))))
            .collect();
        return Ok((tool.clone(), actions));
    }
    if passive(agent, &tool) {
        return Ok((tool, Vec::new()));
    }
    let t = tool.as_str();
    let read = |p: String| action(ActionType::ReadFile, p);
    let write = |p: String| action(ActionType::WriteFile, p);
    let exec = |c: String| action(ActionType::ExecuteCommand, c);
    // A shell tool may run somewhere else than the session's directory.
    let exec_in = |c: String| -> Result<Action, InputError> {
        let mut a = exec(c);
        // Every spelling agents use (Cursor's is `working_directory`);
        // two that disagree are refused.
        for k in [
            "workdir",
            "dir_path",
            "directory",
            "cwd",
            "working_directory",
        ] {
            match input.get(k) {
                None | Some(Value::Null) => {}
                Some(Value::String(d)) if !d.contains('\0') && !d.trim().is_empty() => {
                    if a.cwd.as_ref().is_some_and(|c| c != d) {
                        return err(format!(
                            "{t}: the tool names two different working directories"
                        ));
                    }
                    a.cwd = Some(d.clone());
                }
                Some(_) => return err(format!("{t}: `{k}` is not a usable directory")),
            }
        }
        Ok(a)
    };
    let actions = match (agent, t) {
        (Agent::ClaudeCode | Agent::Codex, "Bash" | "shell" | "exec_command") => {
            let mut actions = vec![exec_in(command_arg(&input, t)?)?];
            // Codex runs `["apply_patch", PATCH]` given to its shell as a
            // patch: the files it writes are judged too.
            if let Some(patch_text) = shell_patch(&input) {
                let changes = patch::parse(&patch_text)
                    .map_err(|e| InputError(format!("{t}: apply_patch: {e}")))?;
                actions.extend(
                    changes
                        .iter()
                        .flat_map(|c| c.paths())
                        .map(|p| write(p.to_string())),
                );
            }
            actions
        }
        (Agent::ClaudeCode | Agent::Codex, "PowerShell") => {
            vec![exec_in(powershell(command_arg(&input, t)?))?]
        }
        (Agent::ClaudeCode | Agent::Codex, "ReadMcpResourceTool" | "ListMcpResourcesTool") => {
            let server = match input.get("server") {
                Some(Value::String(s)) if !s.is_empty() && !s.contains('\0') => s.clone(),
                None | Some(Value::Null) => "unknown".into(),
                Some(_) => return err(format!("{t}: `server` is not a string")),
            };
            let op = if t == "ReadMcpResourceTool" {
                "read_resource"
            } else {
                "list_resources"
            };
            vec![mcp_action(&server, op, Some(Value::Object(input.clone())))]
        }
        (Agent::Codex | Agent::ClaudeCode, "view_image") => {
            vec![read(text_arg(&input, &["path", "file_path"], t)?)]
        }
        (Agent::GeminiCli, "save_memory") => vec![write("~/.gemini/GEMINI.md".into())],
        (Agent::ClaudeCode | Agent::Codex, "Write" | "Edit" | "MultiEdit") => {
            vec![write(text_arg(&input, &["file_path"], t)?)]
        }
        (Agent::ClaudeCode | Agent::Codex, "NotebookEdit") => {
            vec![write(text_arg(&input, &["notebook_path"], t)?)]
        }
        (Agent::ClaudeCode | Agent::Codex, "Read") => {
            vec![read(text_arg(&input, &["file_path"], t)?)]
        }
        (Agent::ClaudeCode | Agent::Codex, "NotebookRead") => {
            vec![read(text_arg(&input, &["notebook_path"], t)?)]
        }
        (Agent::ClaudeCode | Agent::Codex, "Grep") => {
            search_actions(&input, &["path"], &["glob"], t)?
        }
        (Agent::ClaudeCode | Agent::Codex, "Glob" | "LS") => {
            vec![read(dir_arg(&input, &["path"], t)?)]
        }
        (Agent::Codex | Agent::ClaudeCode, "apply_patch") => {
            let text = text_arg(&input, &["command", "input", "patch"], t)?;
            let changes =
                patch::parse(&text).map_err(|e| InputError(format!("apply_patch: {e}")))?;
            changes
                .iter()
                .flat_map(|c| c.paths())
                .map(|p| write(p.to_string()))
                .collect()
        }
        (Agent::GeminiCli, "run_shell_command") => vec![exec_in(command_arg(&input, t)?)?],
        (Agent::GeminiCli, "write_file" | "replace" | "edit") => {
            vec![write(text_arg(&input, &["file_path", "absolute_path"], t)?)]
        }
        (Agent::GeminiCli, "read_file") => {
            vec![read(text_arg(
                &input,
                &["file_path", "absolute_path", "path"],
                t,
            )?)]
        }
        (Agent::GeminiCli, "read_many_files") => {
            // `paths` and `include` both name what is read, as paths or
            // globs; a glob is judged by what it may match (`.env*` as a
            // literal name matched no rule). `exclude` only narrows.
            let mut out = Vec::new();
            for k in ["paths", "include"] {
                let items = match input.get(k) {
                    None | Some(Value::Null) => continue,
                    Some(Value::Array(items)) => items,
                    Some(_) => return err(format!("{t}: `{k}` is not an array")),
                };
                for p in items {
                    match p.as_str() {
                        Some(s) if s.contains('\0') || s.trim().is_empty() => {
                            return err(format!("{t}: `{k}` holds an invalid path"));
                        }
                        Some(s) if is_glob(s) => out.extend(glob_reads(".", s.trim())),
                        Some(s) => out.push(read(s.into())),
                        None => return err(format!("{t}: `{k}` holds a non-string item")),
                    }
                }
            }
            if out.is_empty() {
                return err(format!("{t}: neither `paths` nor `include` names a file"));
            }
            out
        }
        (Agent::GeminiCli, "search_file_content" | "grep" | "grep_search") => {
            search_actions(&input, &["path", "dir_path"], &["include"], t)?
        }
        (Agent::GeminiCli, "glob" | "list_directory" | "ls") => {
            vec![read(dir_arg(&input, &["path", "dir_path"], t)?)]
        }
        (Agent::Cursor, "Shell" | "Terminal" | "run_terminal_cmd") => {
            vec![exec_in(command_arg(&input, t)?)?]
        }
        (Agent::Cursor, "Read" | "read_file") => vec![read(text_arg(
            &input,
            &["file_path", "target_file", "path"],
            t,
        )?)],
        (Agent::Cursor, "Write" | "Edit" | "StrReplace" | "MultiEdit" | "Delete" | "edit_file") => {
            vec![write(text_arg(
                &input,
                &["file_path", "target_file", "path"],
                t,
            )?)]
        }
        (Agent::Cursor, "Grep" | "grep_search") => search_actions(
            &input,
            &["path", "target_directory"],
            &["glob", "include_pattern"],
            t,
        )?,
        (Agent::Cursor, "Glob" | "LS" | "codebase_search") => {
            vec![read(dir_arg(&input, &["path", "target_directory"], t)?)]
        }
        (Agent::CopilotCli, "bash" | "shell") => {
            vec![exec_in(command_arg(&input, t)?)?]
        }
        (Agent::CopilotCli, "powershell") => {
            vec![exec_in(powershell(command_arg(&input, t)?))?]
        }
        (Agent::CopilotCli, "view" | "read") => vec![read(text_arg(&input, &["path"], t)?)],
        (Agent::CopilotCli, "create" | "edit" | "str_replace" | "write") => {
            vec![write(text_arg(&input, &["path"], t)?)]
        }
        (Agent::CopilotCli, "grep") => search_actions(&input, &["path"], &["glob"], t)?,
        (Agent::CopilotCli, "glob") => vec![read(dir_arg(&input, &["path"], t)?)],
        _ => {
            return err(format!(
                "unknown {} tool {t:?}: CAVRA does not know what it does, so it is not allowed",
                agent.name()
            ));
        }
    };
    Ok((tool, actions))
}

fn url_host(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', ':', '?'])
        .next()
        .filter(|h| !h.is_empty())
        .unwrap_or("unknown")
        .to_string()
}

fn command_name(cmd: &str) -> String {
    cmd.split_whitespace()
        .next()
        .map(|w| cavra_shell::basename(w).to_string())
        .filter(|w| !w.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

fn clip(s: &str) -> String {
    if s.len() <= MAX_REASON {
        return s.to_string();
    }
    let mut end = MAX_REASON;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", s.get(..end).unwrap_or_default())
}

fn json_line(v: Value) -> String {
    let mut s = v.to_string();
    s.push('\n');
    s
}

/// The instructions appended when an agent cannot ask the user itself.
pub const APPROVAL_HINT: &str = " This action needs human approval and this agent's hook cannot ask for it: ask the user to review and run it themselves, or to change the policy.";

/// Renders CAVRA's answer the way `agent` expects it for `event`.
pub fn respond(agent: Agent, event: Event, gate: &Gate) -> Response {
    let ok = |stdout: String| Response {
        stdout,
        stderr: String::new(),
        exit: 0,
    };
    let deny_hint = |r: &str| format!("{r}{APPROVAL_HINT}");
    match (agent, event) {
        (Agent::ClaudeCode, Event::PreToolUse) => match gate {
            Gate::Allow => ok(String::new()),
            Gate::Notice(m) => ok(json_line(json!({ "systemMessage": clip(m) }))),
            Gate::Ask(r) => ok(json_line(json!({"hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": "ask",
                "permissionDecisionReason": clip(r)}}))),
            Gate::Deny(r) => ok(json_line(json!({"hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": "deny",
                "permissionDecisionReason": clip(r)}}))),
        },
        (Agent::Codex, Event::PreToolUse) => match gate {
            Gate::Allow | Gate::Notice(_) => ok(String::new()),
            Gate::Ask(r) => ok(json_line(json!({"hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": "deny",
                "permissionDecisionReason": clip(&deny_hint(r))}}))),
            Gate::Deny(r) => ok(json_line(json!({"hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": "deny",
                "permissionDecisionReason": clip(r)}}))),
        },
        (_, Event::PermissionRequest) => match gate {
            // The permission prompt is itself the human approval.
            Gate::Allow | Gate::Notice(_) | Gate::Ask(_) => ok(String::new()),
            Gate::Deny(r) => ok(json_line(json!({"hookSpecificOutput": {
                "hookEventName": "PermissionRequest",
                "decision": {"behavior": "deny", "message": clip(r)}}}))),
        },
        (Agent::GeminiCli, _) => match gate {
            Gate::Allow => ok(json_line(json!({}))),
            Gate::Notice(m) => ok(json_line(json!({ "systemMessage": clip(m) }))),
            Gate::Ask(r) => ok(json_line(
                json!({"decision": "deny", "reason": clip(&deny_hint(r))}),
            )),
            Gate::Deny(r) => ok(json_line(json!({"decision": "deny", "reason": clip(r)}))),
        },
        (Agent::Cursor, _) => match gate {
            Gate::Allow => ok(json_line(json!({"permission": "allow"}))),
            Gate::Notice(m) => ok(json_line(
                json!({"permission": "allow", "user_message": clip(m)}),
            )),
            Gate::Ask(r) if event != Event::BeforeReadFile => ok(json_line(json!({
                "permission": "ask", "user_message": clip(r), "agent_message": clip(r)}))),
            Gate::Ask(r) => {
                let r = deny_hint(r);
                ok(json_line(json!({
                    "permission": "deny", "user_message": clip(&r), "agent_message": clip(&r)})))
            }
            Gate::Deny(r) => ok(json_line(json!({
                "permission": "deny", "user_message": clip(r), "agent_message": clip(r)}))),
        },
        (Agent::CopilotCli, _) => match gate {
            Gate::Allow | Gate::Notice(_) => ok(String::new()),
            Gate::Ask(r) => ok(json_line(
                json!({"permissionDecision": "ask", "permissionDecisionReason": clip(r)}),
            )),
            Gate::Deny(r) => ok(json_line(
                json!({"permissionDecision": "deny", "permissionDecisionReason": clip(r)}),
            )),
        },
        // Claude Code / Codex with another agent's event cannot be built
        // (events are checked per agent); answer with a block regardless.
        _ => fail_closed(
            agent,
            Some(event),
            "internal error: event does not fit the agent",
        ),
    }
}

/// The block an agent gets when CAVRA cannot decide: bad input, unknown
/// event or tool, a policy that does not load, an internal error.
pub fn fail_closed(agent: Agent, event: Option<Event>, why: &str) -> Response {
    let reason = clip(&format!("CAVRA blocked this action (fail closed): {why}"));
    let exit2 = || Response {
        stdout: String::new(),
        stderr: format!("{reason}\n"),
        exit: 2,
    };
    match (agent, event) {
        (Agent::ClaudeCode | Agent::Codex, Some(Event::PermissionRequest)) => Response {
            stderr: String::new(),
            ..respond(agent, Event::PermissionRequest, &Gate::Deny(reason.clone()))
        },
        (Agent::Codex, Some(Event::PreToolUse)) => {
            respond(agent, Event::PreToolUse, &Gate::Deny(reason.clone()))
        }
        (Agent::Cursor, e) => Response {
            exit: 2,
            stderr: format!("{reason}\n"),
            ..respond(
                agent,
                e.unwrap_or(Event::PreToolUseCursor),
                &Gate::Deny(reason.clone()),
            )
        },
        (Agent::CopilotCli, _) => {
            respond(agent, Event::PreToolUseCopilot, &Gate::Deny(reason.clone()))
        }
        _ => exit2(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn glob_alternatives_expand_nested_groups_and_widen_past_the_limit() {
        let mut v = glob_alternatives("{main,lib}.rs", 64);
        v.sort();
        assert_eq!(v, ["lib.rs", "main.rs"]);
        let mut v = glob_alternatives("*.{t{s,sx},js}", 64);
        v.sort();
        assert_eq!(v, ["*.js", "*.ts", "*.tsx"]);
        assert_eq!(glob_alternatives("plain", 64), ["plain"]);
        // An unmatched brace or too many alternatives: one wider glob.
        assert_eq!(glob_alternatives(".env{", 64), [".env*"]);
        assert_eq!(glob_alternatives("{a,b}{c,d}{e,f}", 4), ["***"]);
    }

    #[test]
    fn glob_alternatives_with_many_commas_widen_before_building_any() {
        // A 100 KB prefix and 100,000 alternatives: building them all
        // before checking the limit took about 10 GB.
        let glob = format!("{}{{{}}}", "a".repeat(100_000), ",".repeat(100_000));
        let v = glob_alternatives(&glob, 64);
        assert_eq!(v, [format!("{}*", "a".repeat(100_000))]);
    }

    #[test]
    fn search_filters_become_glob_reads_below_the_searched_directory() {
        let input = |v: Value| v.as_object().cloned().unwrap();
        let a = search_actions(
            &input(serde_json::json!({"path": "src", "glob": "*.{rs,toml}"})),
            &["path"],
            &["glob"],
            "Grep",
        )
        .unwrap();
        let targets: Vec<(&str, Option<&str>)> = a
            .iter()
            .map(|a| (a.target.as_str(), a.operation.as_deref()))
            .collect();
        assert_eq!(
            targets,
            [
                ("src", None),
                ("src/**/*.rs", Some("glob")),
                ("src/**/*.toml", Some("glob"))
            ]
        );
        // A filter with a directory is relative to the searched directory;
        // a negated filter searches everything else.
        let a = search_actions(
            &input(serde_json::json!({"glob": "config/*.yml"})),
            &["path"],
            &["glob"],
            "Grep",
        )
        .unwrap();
        assert_eq!(a[1].target, "./config/*.yml");
        let a = search_actions(
            &input(serde_json::json!({"path": "/r", "glob": "!*.md"})),
            &["path"],
            &["glob"],
            "Grep",
        )
        .unwrap();
        assert_eq!(a[1].target, "/r/**/*");
        assert!(
            search_actions(
                &input(serde_json::json!({"glob": "a\u{0}b"})),
                &["path"],
                &["glob"],
                "Grep"
            )
            .is_err()
        );
    }
}
