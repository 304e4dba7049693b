//! `cavra hook`, `cavra install`, `cavra doctor` and `cavra agent exec`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use cavra_agent::install::{self, Scope};
use cavra_agent::protocol::{self, Agent, Event, Response};
use cavra_agent::{Gate, hook};
use cavra_policy::{Action, ActionType, BreakGlass, Decision, EvalContext};
use clap::{Args, Subcommand};

use crate::{PackArgs, UsageError, load_pack_cached, parse_mode};

#[derive(Args)]
pub struct HookArgs {
    /// claude-code, codex, gemini-cli, cursor or copilot-cli
    pub agent: String,
    /// The hook event, for agents whose input does not name it (Copilot CLI)
    #[arg(long)]
    pub event: Option<String>,
    #[command(flatten)]
    pub pack: PackArgs,
    /// enforce, audit_only, strict or break_glass; default: the pack's mode
    #[arg(long)]
    pub policy_mode: Option<String>,
}

#[derive(Args)]
pub struct InstallArgs {
    /// claude-code, codex, gemini-cli, cursor or copilot-cli
    pub agent: String,
    /// project (this repository) or user (your home directory)
    #[arg(long, default_value = "project")]
    pub scope: String,
    /// Show the change without writing it
    #[arg(long)]
    pub dry_run: bool,
    /// The cavra executable the hook runs (default: this one)
    #[arg(long)]
    pub command: Option<PathBuf>,
    /// Project directory (default: the repository around the current directory)
    #[arg(long)]
    pub project: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct DoctorArgs {
    /// Only this agent
    #[arg(long)]
    pub agent: Option<String>,
    /// Project directory (default: the repository around the current directory)
    #[arg(long)]
    pub project: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum AgentCmd {
    /// Evaluate a command, then run it only when the policy lets it proceed;
    /// the command's exit status is passed through (blocked: 4, needs
    /// approval: 3, with the reason on stderr)
    Exec {
        #[command(flatten)]
        pack: PackArgs,
        #[arg(long)]
        policy_mode: Option<String>,
        #[arg(long, default_value = "local")]
        session_id: String,
        #[arg(long, default_value = "cavra-agent-exec")]
        agent_id: String,
        /// The command and its arguments
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        command: Vec<String>,
    },
}

/// `cavra hook …` arguments read without building the whole command-line
/// parser (that alone costs a hook process a noticeable share of its
/// budget). Anything unusual (`--help`, unknown flags) returns `None` and
/// goes through clap.
pub fn fast_hook_args(args: &[std::ffi::OsString]) -> Option<HookArgs> {
    let mut agent = None;
    let mut event = None;
    let mut policy_pack = None;
    let mut policy = None;
    let mut policy_mode = None;
    let mut it = args.iter().map(|a| a.to_str());
    while let Some(a) = it.next() {
        let a = a?;
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (a, None),
        };
        // Anything clap would treat differently (a missing or dash-led
        // value, a repeated flag) goes to clap.
        let mut value = || {
            let v = inline
                .clone()
                .or_else(|| it.next().flatten().map(str::to_string))?;
            (!v.is_empty() && !v.starts_with('-')).then_some(v)
        };
        let slot = match flag {
            "--event" => &mut event,
            "--policy-pack" => &mut policy_pack,
            "--policy-mode" => &mut policy_mode,
            "--policy" => {
                if policy.is_some() {
                    return None;
                }
                policy = Some(PathBuf::from(value()?));
                continue;
            }
            _ if a.starts_with('-') => return None,
            _ if agent.is_none() => {
                agent = Some(a.to_string());
                continue;
            }
            _ => return None,
        };
        if slot.is_some() {
            return None;
        }
        *slot = Some(value()?);
    }
    // `CAVRA_POLICY` is a default for when the hook names no pack (see
    // `PackArgs::policy_file`); it is read there, not here.
    if policy.is_some() && policy_pack.is_some() {
        return None;
    }
    Some(HookArgs {
        agent: agent?,
        event,
        pack: PackArgs {
            policy_pack,
            policy,
        },
        policy_mode,
    })
}

fn parse_agent(s: &str) -> Result<Agent> {
    Agent::parse(s).map_err(|e| anyhow::Error::new(UsageError(e)))
}

fn deadline() -> Duration {
    std::env::var("CAVRA_HOOK_TIMEOUT_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|v| *v > 0)
        .map_or(Duration::from_secs(10), Duration::from_millis)
}

/// Writes the answer and returns its exit status.
fn answer(r: &Response) -> ExitCode {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(r.stdout.as_bytes());
    let _ = out.flush();
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(r.stderr.as_bytes());
    ExitCode::from(r.exit)
}

/// Reads stdin until end of file, at most `MAX_INPUT + 1` bytes (the
/// decoder reports anything longer), waiting no later than `due`.
/// `Ok(None)`: the deadline passed first.
fn read_stdin(due: Instant) -> std::io::Result<Option<Vec<u8>>> {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    use std::os::fd::AsFd;
    let stdin = std::io::stdin();
    let fd = stdin.as_fd();
    let mut out: Vec<u8> = Vec::with_capacity(8 * 1024);
    while out.len() <= protocol::MAX_INPUT {
        let left = due.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        let timeout = Timespec {
            tv_sec: i64::try_from(left.as_secs()).unwrap_or(i64::MAX),
            tv_nsec: i64::from(left.subsec_nanos()),
        };
        let mut fds = [PollFd::new(&fd, PollFlags::IN)];
        match poll(&mut fds, Some(&timeout)) {
            Ok(0) => continue,
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
        if out.capacity() - out.len() < 4096 {
            out.reserve(out.capacity());
        }
        // Into the spare capacity: no zero-filling of pages the input
        // never reaches.
        match rustix::io::read(fd, rustix::buffer::spare_capacity(&mut out)) {
            Ok(0) => return Ok(Some(out)),
            Ok(_) | Err(rustix::io::Errno::INTR | rustix::io::Errno::AGAIN) => {}
            Err(e) => return Err(e.into()),
        }
    }
    out.truncate(protocol::MAX_INPUT + 1);
    Ok(Some(out))
}

/// Arguments of `cavra hook AGENT …` that the parser refused (a bad
/// `CAVRA_POLICY`, conflicting flags): when AGENT is one CAVRA knows, the
/// refusal is that agent's block, in its event's shape when `--event`
/// names one — a usage error's bare exit 2 lets the action through on
/// agents that want JSON. `None` for an unknown agent. (`--help` never
/// gets here: the caller passes only errors clap prints to stderr.)
pub fn hook_usage_block(args: &[std::ffi::OsString], why: &str) -> Option<ExitCode> {
    let words: Vec<&str> = args.iter().filter_map(|a| a.to_str()).collect();
    let agent = words
        .iter()
        .find(|w| !w.starts_with('-'))
        .and_then(|w| Agent::parse(w).ok())?;
    let event = words
        .iter()
        .position(|w| *w == "--event")
        .and_then(|i| words.get(i + 1))
        .copied()
        .or_else(|| words.iter().find_map(|w| w.strip_prefix("--event=")))
        .and_then(|name| Event::for_agent(agent, name));
    let why = why
        .lines()
        .next()
        .unwrap_or(why)
        .trim_start_matches("error: ");
    Some(answer(&protocol::fail_closed(
        agent,
        event,
        &format!("the hook's arguments are not valid: {why}"),
    )))
}

/// `cavra hook <agent>`: never returns an error; every failure is the
/// agent's block.
///
/// The deadline (`CAVRA_HOOK_TIMEOUT_MS`) is kept without a watchdog
/// thread, which would cost every call a thread start and teardown: stdin
/// is read with `poll` until the deadline, the pack is read only from
/// regular files, command analysis runs under its own execution limits,
/// and the spool lock is only tried until the deadline. A decision that
/// arrives late is still a block.
pub fn hook(a: &HookArgs) -> ExitCode {
    let agent = match Agent::parse(&a.agent) {
        Ok(x) => x,
        Err(e) => {
            // Unknown agent: exit 2 blocks in every agent that honours it.
            eprintln!("CAVRA blocked this action (fail closed): {e}");
            return ExitCode::from(2);
        }
    };
    let event = match a.event.as_deref() {
        None => None,
        Some(name) => match Event::for_agent(agent, name) {
            Some(e) => Some(e),
            None => {
                let r = protocol::fail_closed(
                    agent,
                    None,
                    &format!(
                        "--event {name:?} is not an event CAVRA answers for {}",
                        agent.name()
                    ),
                );
                return answer(&r);
            }
        },
    };
    let limit = deadline();
    let due = Instant::now() + limit;
    let late = |event: Option<Event>| {
        protocol::fail_closed(
            agent,
            event,
            &format!("no decision within {} ms", limit.as_millis()),
        )
    };
    let input = match read_stdin(due) {
        Ok(Some(input)) => input,
        Ok(None) => return answer(&late(event)),
        Err(e) => {
            let r = protocol::fail_closed(agent, event, &format!("cannot read stdin: {e}"));
            return answer(&r);
        }
    };
    let mode = match parse_mode(a.policy_mode.as_deref()) {
        Ok(m) => m,
        Err(e) => return answer(&protocol::fail_closed(agent, event, &e.to_string())),
    };
    let pack = a.pack.clone();
    let load = move |_root: Option<&Path>| {
        load_pack_cached(&pack, pack_cache_dir().as_deref()).map_err(|e| format!("{e:#}"))
    };
    let run = hook::run(agent, event, &input, mode, &load);
    let ev = run.call.as_ref().map(|c| c.event).or(event);
    if Instant::now() > due {
        return answer(&late(ev));
    }
    let mut response = run.response;
    if !run.decisions.is_empty() {
        let base = run
            .call
            .as_ref()
            .and_then(|c| c.repo_root.clone().or_else(|| c.cwd.clone()))
            .map(PathBuf::from)
            // A directory that does not exist is not created on the input's
            // word: the spool relative to where the hook runs is used.
            .filter(|p| p.is_absolute() && p.is_dir());
        if let Err(e) = record(&run.decisions, base.as_deref(), Some(due)) {
            response = protocol::fail_closed(
                agent,
                ev,
                &format!("the decision could not be recorded: {e:#}"),
            );
        }
    }
    answer(&response)
}

/// Where hooks keep resolved packs: the user's cache directory, never the
/// repository (a cloned repository must not be able to ship a cache entry
/// that replaces its policy). Agents are kept from writing there by
/// self-protection (`~/.cache/cavra/`).
fn pack_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
                .map(|h| h.join(".cache"))
        })?;
    Some(base.join("cavra/packs"))
}

/// Appends decisions to the hook spool (see `cavra_store::spool`).
fn record(decisions: &[Decision], base: Option<&Path>, due: Option<Instant>) -> Result<()> {
    let path = cavra_store::spool::spool_path(|k| std::env::var(k).ok(), base);
    let values = decisions
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<Vec<_>, _>>()?;
    let sync = cavra_store::spool::sync_from_env(|k| std::env::var(k).ok());
    cavra_store::spool::append_until(&path, &values, sync, due)
        .with_context(|| format!("{}", path.display()))
}

fn project_dir(p: Option<&PathBuf>) -> Result<PathBuf> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let p = match p {
        Some(p) => cwd.join(p),
        None => hook::find_repo_root(&cwd).unwrap_or(cwd),
    };
    Ok(p)
}

fn home_dir() -> Result<PathBuf> {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .filter(|h| h.is_absolute())
        .ok_or_else(|| anyhow::Error::new(UsageError("HOME is not set to an absolute path".into())))
}

pub fn install(a: &InstallArgs) -> Result<ExitCode> {
    let agent = parse_agent(&a.agent)?;
    let scope = Scope::parse(&a.scope).map_err(UsageError)?;
    let project = project_dir(a.project.as_ref())?;
    let home = if scope == Scope::User {
        home_dir()?
    } else {
        PathBuf::new()
    };
    let exe = match &a.command {
        Some(c) => std::env::current_dir()?.join(c),
        None => std::env::current_exe().context("cannot find the cavra executable")?,
    };
    // The hook must be able to run: a command that is missing, not an
    // executable file, or not a UTF-8 path would be written anyway, and an
    // agent that cannot start its hook may let the action through.
    let exe = exe
        .canonicalize()
        .map_err(|e| UsageError(format!("hook command {}: {e}", exe.display())))?;
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(&exe)
            .map_err(|e| UsageError(format!("hook command {}: {e}", exe.display())))?;
        if !meta.is_file() || meta.permissions().mode() & 0o111 == 0 {
            return Err(UsageError(format!(
                "hook command {} is not an executable file",
                exe.display()
            ))
            .into());
        }
    }
    let exe_text = exe.to_str().ok_or_else(|| {
        UsageError(format!(
            "hook command {} is not a UTF-8 path, which agent settings cannot hold",
            exe.display()
        ))
    })?;
    let path = install::config_path(agent, scope, &project, &home);
    let plan = install::plan(agent, &path, exe_text).map_err(UsageError)?;
    let changed = plan.changes();
    if !a.dry_run {
        install::apply(&plan, scope == Scope::User).map_err(anyhow::Error::msg)?;
    }
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "agent": agent.name(),
                "config": path.display().to_string(),
                "changed": changed,
                "written": changed && !a.dry_run,
                "after": plan.after,
            }))?
        );
    } else if !changed {
        println!(
            "{}: CAVRA hook already installed in {}",
            agent.name(),
            path.display()
        );
    } else {
        let verb = if a.dry_run { "would change" } else { "changed" };
        println!("{}: {verb} {}", agent.name(), path.display());
        print!("{}", plan.diff());
        if !a.dry_run {
            println!("check it with: cavra doctor --agent {}", agent.name());
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn doctor(a: &DoctorArgs) -> Result<ExitCode> {
    let agents = match &a.agent {
        Some(s) => vec![parse_agent(s)?],
        None => Agent::ALL.to_vec(),
    };
    let project = project_dir(a.project.as_ref())?;
    let home = home_dir().ok();
    let mut states = Vec::new();
    for agent in agents {
        states.push(install::check(
            agent,
            Scope::Project,
            &project,
            &home.clone().unwrap_or_default(),
        ));
        if let Some(h) = &home {
            states.push(install::check(agent, Scope::User, &project, h));
        }
    }
    let broken = states
        .iter()
        .any(|s| s.installed && s.enforcing != Some(true));
    let any = states.iter().any(|s| s.installed);
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "project": project.display().to_string(),
                "agents": states,
                "ok": any && !broken,
            }))?
        );
    } else {
        for s in &states {
            let mark = match (s.installed, s.enforcing) {
                (true, Some(true)) => "ok  ",
                (true, _) => "FAIL",
                (false, _) => "--  ",
            };
            let ms = s
                .canary_ms
                .map(|m| format!(" ({m} ms)"))
                .unwrap_or_default();
            println!(
                "{mark} {:<12} {:<7} {}: {}{ms}",
                s.agent, s.scope, s.config, s.detail
            );
        }
        if !any {
            println!("no agent has the CAVRA hook installed; run `cavra install <agent>`");
        }
    }
    Ok(if broken || !any {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

pub fn agent(cmd: AgentCmd) -> Result<ExitCode> {
    match cmd {
        AgentCmd::Exec {
            pack,
            policy_mode,
            session_id,
            agent_id,
            command,
        } => exec(
            &pack,
            policy_mode.as_deref(),
            &session_id,
            &agent_id,
            &command,
        ),
    }
}

fn exec(
    pack: &PackArgs,
    mode: Option<&str>,
    session_id: &str,
    agent_id: &str,
    command: &[String],
) -> Result<ExitCode> {
    let (prog, args) = command
        .split_first()
        .ok_or_else(|| UsageError("no command given after --".into()))?;
    let line = command
        .iter()
        .map(|w| protocol::shell_quote(w))
        .collect::<Vec<_>>()
        .join(" ");
    let mode = parse_mode(mode)?;
    let policy = crate::load_agent_pack(pack)?;
    let mut action = Action::new(ActionType::ExecuteCommand, line);
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let root = hook::find_repo_root(&cwd).unwrap_or_else(|| cwd.clone());
    action.cwd = Some(cwd.display().to_string());
    action.repo_root = Some(root.display().to_string());
    action.session_id = Some(session_id.to_string());
    action.agent_id = Some(agent_id.to_string());
    action.actor = Some(format!("ai-agent:{agent_id}"));
    let d = cavra_policy::decide_now(
        &policy,
        &action,
        &EvalContext::default(),
        mode,
        &BreakGlass::default(),
    );
    record(std::slice::from_ref(&d), Some(&root), None)
        .context("the decision could not be recorded; not running the command")?;
    match hook::gate_for(std::slice::from_ref(&d)) {
        Gate::Deny(r) => {
            eprintln!("{r}");
            return Ok(ExitCode::from(4));
        }
        Gate::Ask(r) => {
            eprintln!("{r}");
            return Ok(ExitCode::from(3));
        }
        Gate::Notice(m) => eprintln!("{m}"),
        Gate::Allow => {}
    }
    let status = std::process::Command::new(prog)
        .args(args)
        .status()
        .map_err(|e| UsageError(format!("cannot run {prog}: {e}")))?;
    if let Some(code) = status.code() {
        return Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)));
    }
    use std::os::unix::process::ExitStatusExt;
    // Killed by a signal: report it the way shells do.
    Ok(ExitCode::from(128u8.saturating_add(
        u8::try_from(status.signal().unwrap_or(1)).unwrap_or(1),
    )))
}
