//! `cavra install` and `cavra doctor`: writing each agent's hook
//! configuration, and proving an installed hook enforces.
//!
//! Entries are written in exec form where the agent has one (Claude Code and
//! Codex: `command` + `args`, no shell). Gemini CLI, Cursor and Copilot CLI
//! only take a command string; CAVRA writes the absolute path, quoted, and
//! fixed arguments, with no other shell syntax. Installing is idempotent:
//! CAVRA's own entries (recognised by `hook <agent>` after a `cavra`
//! program) are replaced, everything else in the file is kept.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use crate::protocol::{Agent, shell_quote};

/// Where the configuration goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Project,
    User,
}

impl Scope {
    pub fn parse(s: &str) -> Result<Scope, String> {
        match s {
            "project" => Ok(Scope::Project),
            "user" => Ok(Scope::User),
            o => Err(format!("unknown scope {o:?}; expected project or user")),
        }
    }
}

/// The configuration file of `agent` for `scope`.
pub fn config_path(agent: Agent, scope: Scope, project: &Path, home: &Path) -> PathBuf {
    let base = match scope {
        Scope::Project => project,
        Scope::User => home,
    };
    match agent {
        Agent::ClaudeCode => base.join(".claude/settings.json"),
        Agent::Codex => base.join(".codex/hooks.json"),
        Agent::GeminiCli => base.join(".gemini/settings.json"),
        Agent::Cursor => base.join(".cursor/hooks.json"),
        Agent::CopilotCli => match scope {
            Scope::Project => base.join(".github/hooks/cavra.json"),
            Scope::User => base.join(".copilot/hooks/cavra.json"),
        },
    }
}

/// Timeout CAVRA asks the agent to give the hook, in seconds.
const TIMEOUT_S: u64 = 30;

fn string_command(exe: &str, agent: Agent, event: Option<&str>) -> String {
    let mut s = format!("{} hook {}", shell_quote(exe), agent.name());
    if let Some(e) = event {
        s.push_str(&format!(" --event {e}"));
    }
    s
}

/// The hook entries CAVRA installs, per event.
pub fn entries(agent: Agent, exe: &str) -> Vec<(&'static str, Value)> {
    match agent {
        Agent::ClaudeCode | Agent::Codex => ["PreToolUse", "PermissionRequest"]
            .into_iter()
            .map(|ev| {
                (
                    ev,
                    // Each event's entry names its event, so input the hook
                    // cannot decode is still refused in that event's shape
                    // (a PermissionRequest ignores a bare exit 2, and Codex
                    // documents its JSON deny for PreToolUse).
                    json!({"matcher": "*", "hooks": [{
                        "type": "command",
                        "command": exe,
                        "args": ["hook", agent.name(), "--event", ev],
                        "timeout": TIMEOUT_S}]}),
                )
            })
            .collect(),
        Agent::GeminiCli => vec![(
            "BeforeTool",
            json!({"matcher": ".*", "hooks": [{
                "type": "command",
                "name": "cavra",
                "command": string_command(exe, agent, None),
                "timeout": TIMEOUT_S * 1000,
                "description": "CAVRA policy gate"}]}),
        )],
        Agent::Cursor => [
            "preToolUse",
            "beforeShellExecution",
            "beforeMCPExecution",
            "beforeReadFile",
        ]
        .into_iter()
        .map(|ev| (ev, json!({"command": string_command(exe, agent, None)})))
        .collect(),
        Agent::CopilotCli => vec![(
            "preToolUse",
            json!({"type": "command",
                   "bash": string_command(exe, agent, Some("preToolUse")),
                   "timeoutSec": TIMEOUT_S}),
        )],
    }
}

/// Whether a configured hook entry is CAVRA's.
fn is_ours(entry: &Value, agent: Agent) -> bool {
    let text = entry.to_string();
    let needle = format!("hook {}", agent.name());
    let args_form = format!("[\"hook\",\"{}\"", agent.name());
    text.contains("cavra") && (text.contains(&needle) || text.contains(&args_form))
}

/// The result of planning an install.
#[derive(Clone, Debug)]
pub struct InstallPlan {
    pub path: PathBuf,
    pub before: Option<String>,
    pub after: String,
}

impl InstallPlan {
    pub fn changes(&self) -> bool {
        self.before.as_deref() != Some(self.after.as_str())
    }

    /// A line diff of the change (`-`/`+`), for display.
    pub fn diff(&self) -> String {
        let before: Vec<&str> = self.before.as_deref().unwrap_or("").lines().collect();
        let after: Vec<&str> = self.after.lines().collect();
        let mut out = String::new();
        let (mut i, mut j) = (0, 0);
        while i < before.len() || j < after.len() {
            match (before.get(i), after.get(j)) {
                (Some(a), Some(b)) if a == b => {
                    out.push_str(&format!("  {a}\n"));
                    i += 1;
                    j += 1;
                }
                (Some(a), Some(_)) if !after.get(j..).unwrap_or_default().contains(a) => {
                    out.push_str(&format!("- {a}\n"));
                    i += 1;
                }
                (_, Some(b)) => {
                    out.push_str(&format!("+ {b}\n"));
                    j += 1;
                }
                (Some(a), None) => {
                    out.push_str(&format!("- {a}\n"));
                    i += 1;
                }
                (None, None) => break,
            }
        }
        out
    }
}

/// Plans writing CAVRA's entries into `path`, keeping everything else.
pub fn plan(agent: Agent, path: &Path, exe: &str) -> Result<InstallPlan, String> {
    let before = match std::fs::read_to_string(path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let mut root = match before.as_deref().map(str::trim) {
        None | Some("") => Map::new(),
        Some(t) => match serde_json::from_str::<Value>(t) {
            Ok(Value::Object(m)) => m,
            Ok(_) => return Err(format!("{} does not hold a JSON object", path.display())),
            Err(e) => return Err(format!("{} is not valid JSON: {e}", path.display())),
        },
    };
    if matches!(agent, Agent::Cursor | Agent::CopilotCli) {
        root.entry("version").or_insert(json!(1));
    }
    let hooks = root
        .entry("hooks")
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(hooks) = hooks else {
        return Err(format!("`hooks` in {} is not an object", path.display()));
    };
    for (event, entry) in entries(agent, exe) {
        let list = hooks
            .entry(event)
            .or_insert_with(|| Value::Array(Vec::new()));
        let Value::Array(list) = list else {
            return Err(format!(
                "`hooks.{event}` in {} is not an array",
                path.display()
            ));
        };
        list.retain(|e| !is_ours(e, agent));
        list.push(entry);
    }
    let mut after = serde_json::to_string_pretty(&Value::Object(root))
        .map_err(|e| format!("cannot render {}: {e}", path.display()))?;
    after.push('\n');
    // Keep a file that already holds exactly this content byte for byte.
    if let Some(b) = &before
        && same_json(b, &after)
    {
        after = b.clone();
    }
    Ok(InstallPlan {
        path: path.to_path_buf(),
        before,
        after,
    })
}

fn same_json(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<Value>(a),
        serde_json::from_str::<Value>(b),
    ) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// Writes a plan: temporary file, fsync, rename. The file keeps its
/// permissions (settings may hold keys and be 0600), and a new one is
/// private to the user. A user settings file that is a symbolic link (a
/// dotfiles setup) is updated at its target, so the link stays
/// (`follow_links`); a project's is refused, since a cloned repository
/// could ship `.claude/settings.json -> ~/anything`.
pub fn apply(plan: &InstallPlan, follow_links: bool) -> Result<(), String> {
    if !plan.changes() {
        return Ok(());
    }
    let is_link = std::fs::symlink_metadata(&plan.path).is_ok_and(|m| m.file_type().is_symlink());
    if is_link && !follow_links {
        return Err(format!(
            "{} is a symbolic link; refusing to write through it in a project \
             (replace it with a file, or install with --scope user)",
            plan.path.display()
        ));
    }
    let target = if is_link {
        std::fs::canonicalize(&plan.path).map_err(|e| {
            format!(
                "{} is a symbolic link whose target cannot be used: {e}",
                plan.path.display()
            )
        })?
    } else {
        plan.path.clone()
    };
    let dir = target
        .parent()
        .ok_or_else(|| format!("{} has no parent directory", target.display()))?;
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mode = cavra_store::fsx::existing_mode(&target, 0o600);
    cavra_store::fsx::replace_file(&target, plan.after.as_bytes(), mode, true)
        .map_err(|(p, e)| format!("cannot write {}: {e}", p.display()))
}

/// The state `doctor` reports for one agent and scope.
#[derive(Clone, Debug, serde::Serialize)]
pub struct AgentState {
    pub agent: String,
    pub scope: String,
    pub config: String,
    pub installed: bool,
    /// The command the configuration runs, as an argument vector.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// Whether the canary action was blocked by the installed hook.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enforcing: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub canary_ms: Option<f64>,
    pub detail: String,
}

/// The argument vector of CAVRA's installed entry for `agent`, if any.
pub fn installed_command(agent: Agent, config: &Value) -> Option<Vec<String>> {
    let hooks = config.get("hooks")?.as_object()?;
    let (event, _) = entries(agent, "cavra").into_iter().next()?;
    let list = hooks.get(event)?.as_array()?;
    let ours = list.iter().find(|e| is_ours(e, agent))?;
    let handler = ours
        .get("hooks")
        .and_then(Value::as_array)
        .and_then(|h| h.iter().find(|h| is_ours(h, agent)))
        .unwrap_or(ours);
    if let Some(cmd) = handler.get("command").and_then(Value::as_str)
        && let Some(args) = handler.get("args").and_then(Value::as_array)
    {
        let mut v = vec![cmd.to_string()];
        v.extend(args.iter().filter_map(Value::as_str).map(str::to_string));
        return Some(v);
    }
    let line = handler
        .get("command")
        .or_else(|| handler.get("bash"))
        .and_then(Value::as_str)?;
    let a = cavra_shell::analyze(line);
    let mut commands = a.commands.iter().filter(|c| !c.wrapper);
    let (Some(c), None) = (commands.next(), commands.next()) else {
        return None;
    };
    if !a.is_clean() {
        return None;
    }
    let mut v = vec![c.program.clone()];
    v.extend(c.argv.iter().skip(1).cloned());
    Some(v)
}

/// The canary: a write to CAVRA's own directory, which self-protection
/// blocks under every pack that does not explicitly unprotect it.
pub fn canary_input(agent: Agent, cwd: &Path) -> Value {
    let cwd = cwd.display().to_string();
    let path = format!("{cwd}/.cavra/doctor-canary");
    match agent {
        Agent::ClaudeCode | Agent::Codex => json!({
            "session_id": "cavra-doctor", "cwd": cwd, "hook_event_name": "PreToolUse",
            "tool_name": "Write", "tool_input": {"file_path": path, "content": "canary"}}),
        Agent::GeminiCli => json!({
            "session_id": "cavra-doctor", "cwd": cwd, "hook_event_name": "BeforeTool",
            "tool_name": "write_file", "tool_input": {"file_path": path, "content": "canary"}}),
        Agent::Cursor => json!({
            "conversation_id": "cavra-doctor", "workspace_roots": [cwd],
            "hook_event_name": "preToolUse", "tool_name": "Write",
            "tool_input": {"file_path": path}}),
        Agent::CopilotCli => json!({
            "sessionId": "cavra-doctor", "cwd": cwd, "toolName": "create",
            "toolArgs": json!({"path": path, "file_text": "canary"}).to_string()}),
    }
}

/// Whether an agent's hook answer is a block.
pub fn is_block(agent: Agent, stdout: &str, exit: Option<i32>) -> bool {
    if exit == Some(2) && agent != Agent::CopilotCli {
        return true;
    }
    let v: Value = match serde_json::from_str(stdout.trim()) {
        Ok(v) => v,
        Err(_) => return false,
    };
    let s = |p: &str| v.pointer(p).and_then(Value::as_str);
    match agent {
        Agent::ClaudeCode | Agent::Codex => {
            s("/hookSpecificOutput/permissionDecision") == Some("deny")
                || s("/hookSpecificOutput/decision/behavior") == Some("deny")
        }
        Agent::GeminiCli => matches!(s("/decision"), Some("deny" | "block")),
        Agent::Cursor => s("/permission") == Some("deny"),
        Agent::CopilotCli => s("/permissionDecision") == Some("deny"),
    }
}

/// Runs `argv` with `input` on stdin, with a deadline. Returns stdout and
/// the exit code.
pub fn run_hook_process(
    argv: &[String],
    input: &[u8],
    cwd: &Path,
    deadline: Duration,
) -> Result<(String, Option<i32>, Duration), String> {
    use std::io::{Read, Write};
    let (prog, args) = argv.split_first().ok_or("empty hook command")?;
    let start = Instant::now();
    let mut child = Command::new(prog)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run {prog}: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A hook that exits without reading is its own answer.
        let _ = stdin.write_all(input);
    }
    let mut stdout = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(o) = stdout.as_mut() {
            let _ = o.read_to_string(&mut s);
        }
        s
    });
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                let out = reader.join().unwrap_or_default();
                return Ok((out, status.code(), start.elapsed()));
            }
            Ok(None) if start.elapsed() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{prog} did not answer within {deadline:?}"));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => return Err(format!("waiting for {prog}: {e}")),
        }
    }
}

/// Checks one agent and scope: installed, and enforcing the canary.
pub fn check(agent: Agent, scope: Scope, project: &Path, home: &Path) -> AgentState {
    let path = config_path(agent, scope, project, home);
    let mut st = AgentState {
        agent: agent.name().into(),
        scope: match scope {
            Scope::Project => "project".into(),
            Scope::User => "user".into(),
        },
        config: path.display().to_string(),
        installed: false,
        command: None,
        enforcing: None,
        canary_ms: None,
        detail: String::new(),
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            st.detail = "not installed (no configuration file)".into();
            return st;
        }
        Err(e) => {
            st.detail = format!("cannot read the configuration: {e}");
            return st;
        }
    };
    let config: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            st.detail = format!("the configuration is not valid JSON: {e}");
            return st;
        }
    };
    let Some(argv) = installed_command(agent, &config) else {
        st.detail = "not installed (no CAVRA hook entry)".into();
        return st;
    };
    st.installed = true;
    st.command = Some(argv.clone());
    let input = canary_input(agent, project).to_string();
    match run_hook_process(&argv, input.as_bytes(), project, Duration::from_secs(10)) {
        Ok((out, code, took)) => {
            let blocked = is_block(agent, &out, code);
            st.enforcing = Some(blocked);
            st.canary_ms = Some((took.as_secs_f64() * 1e5).round() / 100.0);
            st.detail = if blocked {
                "installed and enforcing: the canary write to .cavra/ was blocked".into()
            } else {
                format!(
                    "installed but NOT enforcing: the canary was not blocked (exit {code:?}, output {:?})",
                    out.trim()
                )
            };
        }
        Err(e) => {
            st.enforcing = Some(false);
            st.detail = format!("installed but the hook does not run: {e}");
        }
    }
    st
}
