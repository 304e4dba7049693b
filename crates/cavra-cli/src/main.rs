//! `cavra`: evaluate actions, manage policy packs, run the demo.
//!
//! Exit codes: 0 success; 1 a failure the command reports (invalid pack,
//! failing test, bad signature); 2 bad usage or input (unknown action type,
//! unreadable file). With `evaluate --exit-code` the decision maps onto the
//! status: 0 proceed (allow, allow_with_attestation, warn, audit_only),
//! 3 requires approval, 4 blocked.

mod agent_cmd;
mod mcp_cmd;
mod ops_cmd;
mod policy_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use cavra_policy::load::{PackFile, resolve, resolve_file};
use cavra_policy::{
    Action, ActionType, BreakGlass, CompiledPolicy, Decision, EvalContext, Mode, Outcome,
};
use clap::{Parser, Subcommand};

pub const DEFAULT_PACK: &str = "cavra-ai-agent-baseline";

#[derive(Parser)]
#[command(name = "cavra", version, about = "Before the agent acts, CAVRA decides.", long_about = None)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Print the version
    Version,
    /// Evaluate one action against a policy pack
    Evaluate(Box<EvalArgs>),
    /// Manage, test and sign policy packs
    #[command(subcommand)]
    Policy(policy_cmd::PolicyCmd),
    /// Run a scripted demonstration
    #[command(subcommand)]
    Demo(DemoCmd),
    /// Persistent stores: status, backup, restore, retention plan, migration
    #[command(subcommand)]
    Ops(ops_cmd::OpsCmd),
    /// Answer an agent's hook: JSON on stdin, the agent's decision format on stdout
    Hook(agent_cmd::HookArgs),
    /// Install the CAVRA hook into an agent's configuration
    Install(agent_cmd::InstallArgs),
    /// Check which agents have the hook installed and prove it blocks a canary action
    Doctor(agent_cmd::DoctorArgs),
    /// Run commands under the policy
    #[command(subcommand)]
    Agent(agent_cmd::AgentCmd),
    /// MCP: CAVRA as an MCP server, a governing MCP gateway, tool pins
    #[command(subcommand)]
    Mcp(mcp_cmd::McpCmd),
    /// Run the HTTP API (stores from CAVRA_*_STORE / CAVRA_*_DB / CAVRA_DATABASE_URL)
    Serve {
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        #[arg(long, default_value_t = 8000)]
        port: u16,
        /// Print the OpenAPI document and exit
        #[arg(long)]
        print_openapi: bool,
    },
}

#[derive(Subcommand)]
enum DemoCmd {
    /// The flagship seven-step scenario: what CAVRA decides before an agent acts
    BeforeTheAgentActs {
        #[arg(long)]
        policy_pack: Option<String>,
        /// Print every decision as JSON
        #[arg(long)]
        json: bool,
    },
}

/// Which pack to use.
#[derive(clap::Args, Clone, Default)]
pub struct PackArgs {
    /// Pack id under the policy root (CAVRA_POLICY_DIR, ./policies or builtin)
    #[arg(long, conflicts_with = "policy")]
    pub policy_pack: Option<String>,
    /// A policy.yaml file [env: CAVRA_POLICY, used when neither --policy nor
    /// --policy-pack is given]
    #[arg(long)]
    pub policy: Option<PathBuf>,
}

impl PackArgs {
    /// The pack file to use: `--policy`, else `CAVRA_POLICY` unless
    /// `--policy-pack` names a pack. A flag given on the command line
    /// always wins over the environment (an exported `CAVRA_POLICY` made
    /// `--policy-pack` and `policy test --all` refuse to run).
    pub fn policy_file(&self) -> Option<PathBuf> {
        if self.policy.is_some() || self.policy_pack.is_some() {
            return self.policy.clone();
        }
        // An empty value stays a (missing) file, so a hook refuses it
        // rather than falling back to the default pack.
        std::env::var_os("CAVRA_POLICY").map(PathBuf::from)
    }
}

#[derive(clap::Args)]
pub struct EvalArgs {
    /// read_file, write_file, execute_command, git_operation, mcp_tool_call, pull_request, or a generic type such as crm.update_record
    pub action: String,
    /// Path, command line, git target (origin/main), MCP server or server:tool, resource
    pub target: String,
    #[command(flatten)]
    pub pack: PackArgs,
    /// enforce, audit_only, strict (strict_regulated) or break_glass; default: the pack's mode
    #[arg(long)]
    pub policy_mode: Option<String>,
    #[arg(long)]
    pub break_glass_actor: Option<String>,
    #[arg(long)]
    pub break_glass_reason: Option<String>,
    /// Git operation (push), pull-request operation (create, merge)
    #[arg(long)]
    pub operation: Option<String>,
    #[arg(long)]
    pub server: Option<String>,
    #[arg(long)]
    pub tool: Option<String>,
    #[arg(long)]
    pub capability: Option<String>,
    /// MCP tool-call arguments as JSON
    #[arg(long)]
    pub arguments: Option<String>,
    #[arg(long)]
    pub session_id: Option<String>,
    #[arg(long)]
    pub agent_id: Option<String>,
    #[arg(long)]
    pub actor: Option<String>,
    /// Repository root; paths inside it are matched relative to it (default: the current directory)
    #[arg(long)]
    pub repo_root: Option<PathBuf>,
    /// Current git branch, for pushes that name none
    #[arg(long)]
    pub branch: Option<String>,
    /// Print the full decision as JSON
    #[arg(long)]
    pub json: bool,
    /// Map the decision onto the exit status (0 proceed, 3 approval, 4 block)
    #[arg(long)]
    pub exit_code: bool,
}

/// An error whose exit status is 2 (bad usage or input).
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn main() -> ExitCode {
    // Hooks run once per agent tool call: skip building the full parser.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "hook")
        && let Some(h) = agent_cmd::fast_hook_args(args.get(2..).unwrap_or_default())
    {
        return agent_cmd::hook(&h);
    }
    let cli = match Cli::try_parse_from(&args) {
        Ok(c) => c,
        Err(e) => {
            if args.get(1).is_some_and(|a| a == "hook")
                && e.use_stderr()
                && let Some(code) =
                    agent_cmd::hook_usage_block(args.get(2..).unwrap_or_default(), &e.to_string())
            {
                return code;
            }
            e.exit()
        }
    };
    // `println!` panics when the reader of stdout has gone away
    // (`cavra policy list | head -1`); such a command ends quietly and
    // successfully, as other Unix tools do, instead of with a panic.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !stdout_gone(info.payload()) {
            default_hook(info);
        }
    }));
    let result = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(cli))) {
        Ok(r) => r,
        Err(payload) if stdout_gone(payload.as_ref()) => return ExitCode::SUCCESS,
        Err(payload) => std::panic::resume_unwind(payload),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {e:#}");
            if e.downcast_ref::<UsageError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

/// Whether a panic is `println!` failing on a closed stdout.
fn stdout_gone(payload: &(dyn std::any::Any + Send)) -> bool {
    let text = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("");
    text.starts_with("failed printing to stdout") && text.contains("Broken pipe")
}

/// Whether `e` is a write to a closed pipe, however it was wrapped.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<serde_json::Error>()
                .is_some_and(|j| j.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe))
    })
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.cmd {
        Cmd::Version => {
            println!("cavra {}", env!("CARGO_PKG_VERSION"));
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Evaluate(a) => evaluate_cmd(&a),
        Cmd::Policy(p) => policy_cmd::run(p),
        Cmd::Demo(DemoCmd::BeforeTheAgentActs { policy_pack, json }) => demo(policy_pack, json),
        Cmd::Ops(o) => ops_cmd::run(o),
        Cmd::Hook(h) => Ok(agent_cmd::hook(&h)),
        Cmd::Install(i) => agent_cmd::install(&i),
        Cmd::Doctor(d) => agent_cmd::doctor(&d),
        Cmd::Agent(a) => agent_cmd::agent(a),
        Cmd::Mcp(m) => mcp_cmd::run(m),
        Cmd::Serve {
            host,
            port,
            print_openapi,
        } => {
            if print_openapi {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&cavra_api::openapi::document())?
                );
                return Ok(ExitCode::SUCCESS);
            }
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")?;
            rt.block_on(cavra_api::run(&host, port))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Load and compile the pack the arguments name (default: the baseline).
pub fn load_pack(p: &PackArgs) -> Result<CompiledPolicy> {
    load_pack_from(&cavra_packs::default_source(), p)
}

/// [`load_pack`] for commands an agent runs in the project it works on
/// (`cavra agent exec`, `cavra mcp`): never from the project's
/// `./policies` ([`cavra_packs::agent_source`]).
pub fn load_agent_pack(p: &PackArgs) -> Result<CompiledPolicy> {
    load_pack_from(&cavra_packs::agent_source(), p)
}

fn load_pack_from(source: &cavra_packs::Layered, p: &PackArgs) -> Result<CompiledPolicy> {
    let resolved = match (&p.policy_pack, &p.policy_file()) {
        (Some(id), _) => resolve(source, id).map_err(|e| anyhow::anyhow!("{e}"))?,
        (None, Some(file)) => {
            let pf = pack_file(file)?;
            resolve_file(source, &pf, &[]).map_err(|e| anyhow::anyhow!("{e}"))?
        }
        (None, None) => resolve(source, DEFAULT_PACK).map_err(|e| anyhow::anyhow!("{e}"))?,
    };
    resolved.compile().map_err(|e| anyhow::anyhow!("{e}"))
}

/// [`load_agent_pack`], reusing a cached resolution under `cache` (hooks).
pub fn load_pack_cached(p: &PackArgs, cache: Option<&std::path::Path>) -> Result<CompiledPolicy> {
    use cavra_policy::PackSource;
    let source = cavra_packs::agent_source();
    let get = |id: &str| {
        source.get(id).ok_or_else(|| match source.problem(id) {
            Some(why) => anyhow::anyhow!("policy pack `{id}` cannot be read: {why}"),
            None => anyhow::anyhow!("policy pack `{id}` not found"),
        })
    };
    let file = match (&p.policy_pack, &p.policy_file()) {
        (Some(id), _) => get(id)?,
        (None, Some(file)) => pack_file(file)?,
        (None, None) => get(DEFAULT_PACK)?,
    };
    let resolved = cavra_packs::resolve_file_cached(&source, &file, cache)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    resolved.compile().map_err(|e| anyhow::anyhow!("{e}"))
}

pub fn pack_file(file: &std::path::Path) -> Result<PackFile> {
    let text = cavra_packs::read_policy_file(file).map_err(UsageError)?;
    let id = file
        .parent()
        .and_then(|d| d.file_name())
        .filter(|_| file.file_name().is_some_and(|n| n == "policy.yaml"))
        .or_else(|| file.file_stem())
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "policy".into());
    Ok(PackFile {
        id,
        path: file.display().to_string(),
        text,
    })
}

pub fn parse_mode(m: Option<&str>) -> Result<Option<Mode>> {
    m.map(|m| {
        m.parse::<Mode>()
            .map_err(|e| anyhow::Error::new(UsageError(e)))
    })
    .transpose()
}

pub fn build_action(a: &EvalArgs) -> Result<Action> {
    let action_type = ActionType::parse(&a.action).map_err(UsageError)?;
    let mut action = Action::new(action_type.clone(), a.target.clone());
    if action_type == ActionType::McpToolCall {
        let (server, tool) =
            cavra_policy::mcp::server_and_tool(&a.target, a.server.as_deref(), a.tool.as_deref());
        action.server = Some(server);
        action.tool = Some(tool);
        action.capability = a.capability.clone().or(Some("filesystem".into()));
    } else {
        action.server.clone_from(&a.server);
        action.tool.clone_from(&a.tool);
        action.capability.clone_from(&a.capability);
    }
    action.operation.clone_from(&a.operation);
    if let Some(args) = &a.arguments {
        action.arguments = Some(
            serde_json::from_str(args)
                .map_err(|e| UsageError(format!("--arguments is not JSON: {e}")))?,
        );
    }
    action.session_id.clone_from(&a.session_id);
    action.agent_id.clone_from(&a.agent_id);
    action.actor.clone_from(&a.actor);
    action.branch.clone_from(&a.branch);
    let root = match &a.repo_root {
        Some(r) => Some(r.clone()),
        None => std::env::current_dir().ok(),
    };
    if let Some(r) = root {
        let r = r.display().to_string();
        action.cwd = Some(r.clone());
        action.repo_root = Some(r);
    }
    Ok(action)
}

fn evaluate_cmd(a: &EvalArgs) -> Result<ExitCode> {
    let action = build_action(a)?;
    let mode = parse_mode(a.policy_mode.as_deref())?;
    let policy = load_pack(&a.pack)?;
    let bg = BreakGlass {
        actor: a.break_glass_actor.clone(),
        reason: a.break_glass_reason.clone(),
    };
    let d = cavra_policy::decide_now(&policy, &action, &EvalContext::default(), mode, &bg);
    print_decision(&d, a.json)?;
    Ok(if a.exit_code {
        decision_exit(d.decision)
    } else {
        ExitCode::SUCCESS
    })
}

pub fn decision_exit(d: Outcome) -> ExitCode {
    match d {
        Outcome::Block => ExitCode::from(4),
        Outcome::RequireApproval => ExitCode::from(3),
        _ => ExitCode::SUCCESS,
    }
}

pub fn print_decision(d: &Decision, json: bool) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, d)?;
        writeln!(out)?;
    } else {
        let mut line = format!(
            "{}: {} [{}, {}",
            d.decision, d.reason, d.rule_id, d.severity
        );
        if let Some(g) = &d.approver_group {
            line.push_str(&format!(", approver: {g}"));
        }
        line.push(']');
        if let Some(m) = &d.mode_reason {
            line.push_str(&format!(" ({m})"));
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// The flagship scenario of the documentation.
pub fn flagship_actions() -> Vec<Action> {
    let mut steps = Vec::new();
    let mut push = |t: ActionType, target: &str, f: &dyn Fn(&mut Action)| {
        let mut a = Action::new(t, target);
        a.session_id = Some("local".into());
        a.agent_id = Some("demo-agent".into());
        a.actor = Some("simulated-ai-agent".into());
        f(&mut a);
        steps.push(a);
    };
    push(ActionType::ReadFile, ".env", &|_| {});
    push(ActionType::WriteFile, "iam/admin-role.tf", &|_| {});
    push(ActionType::ExecuteCommand, "terraform plan", &|_| {});
    push(
        ActionType::ExecuteCommand,
        "terraform apply -auto-approve",
        &|_| {},
    );
    push(ActionType::McpToolCall, "unknown-filesystem", &|a| {
        a.server = Some("unknown-filesystem".into());
        a.tool = Some("read_file".into());
        a.capability = Some("filesystem".into());
    });
    push(ActionType::GitOperation, "origin/main", &|a| {
        a.operation = Some("push".into())
    });
    push(ActionType::PullRequest, "create PR", &|a| {
        a.operation = Some("create".into())
    });
    steps
}

fn demo(pack: Option<String>, json: bool) -> Result<ExitCode> {
    let policy = load_pack(&PackArgs {
        policy_pack: Some(pack.unwrap_or_else(|| DEFAULT_PACK.into())),
        policy: None,
    })?;
    let mut decisions = Vec::new();
    if !json {
        println!(
            "Before the agent acts, CAVRA decides. (policy pack: {})\n",
            policy.name
        );
    }
    for (i, a) in flagship_actions().iter().enumerate() {
        let d = cavra_policy::decide_now(
            &policy,
            a,
            &EvalContext::default(),
            None,
            &BreakGlass::default(),
        );
        if !json {
            println!(
                "{}. {} {}: {} - {}",
                i + 1,
                d.action_type,
                d.target,
                d.decision,
                d.reason
            );
        }
        decisions.push(d);
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&decisions)?);
    } else {
        let allowed = decisions
            .iter()
            .filter(|d| matches!(d.decision, Outcome::Allow | Outcome::AllowWithAttestation))
            .count();
        let blocked = decisions
            .iter()
            .filter(|d| d.decision == Outcome::Block)
            .count();
        let approval = decisions
            .iter()
            .filter(|d| d.decision == Outcome::RequireApproval)
            .count();
        println!("\n{allowed} allowed, {blocked} blocked, {approval} require approval");
    }
    if decisions.is_empty() {
        bail!("the demo produced no decisions");
    }
    Ok(ExitCode::SUCCESS)
}

/// Read a file for a subcommand, naming it in errors.
pub fn read_text(path: &std::path::Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}
