//! One hook invocation: input bytes in, the agent's answer and the decisions
//! to record out. Every failure path is a block.

use std::path::{Path, PathBuf};

use cavra_policy::{BreakGlass, CompiledPolicy, Decision, EvalContext, Mode, Outcome};

use crate::protocol::{self, Agent, Call, Event, Gate, Response};

/// The result of one invocation.
#[derive(Debug)]
pub struct HookRun {
    pub response: Response,
    /// The mapped call, when the input could be mapped.
    pub call: Option<Call>,
    /// One decision per action of the call.
    pub decisions: Vec<Decision>,
}

/// The most actions one tool call may take (files of a patch, paths of a
/// multi-file read). Each is a decision and a spool record; a call naming
/// hundreds of thousands (an 8 MiB patch of one-line file headers) would
/// run past the agent's hook timeout, which some agents treat as "proceed".
pub const MAX_ACTIONS: usize = 1_000;

/// The repository root: the nearest ancestor of `cwd` holding `.git`.
pub fn find_repo_root(cwd: &Path) -> Option<PathBuf> {
    cwd.ancestors()
        .take(64)
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}

/// Loads the policy; given the repository root when the input names one.
pub type Loader<'a> = &'a dyn Fn(Option<&Path>) -> Result<CompiledPolicy, String>;

/// Runs one hook invocation. `load` compiles the policy; it is only called
/// for calls that take actions.
pub fn run(
    agent: Agent,
    event_override: Option<Event>,
    input: &[u8],
    mode: Option<Mode>,
    load: Loader<'_>,
) -> HookRun {
    let guarded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run_inner(agent, event_override, input, mode, load)
    }));
    match guarded {
        Ok(r) => r,
        Err(_) => HookRun {
            response: protocol::fail_closed(agent, event_override, "internal error in CAVRA"),
            call: None,
            decisions: Vec::new(),
        },
    }
}

fn run_inner(
    agent: Agent,
    event_override: Option<Event>,
    input: &[u8],
    mode: Option<Mode>,
    load: Loader<'_>,
) -> HookRun {
    let fail = |event: Option<Event>, why: &str| HookRun {
        response: protocol::fail_closed(agent, event, why),
        call: None,
        decisions: Vec::new(),
    };
    let map = match protocol::decode(input) {
        Ok(m) => m,
        Err(e) => return fail(event_override, &e.0),
    };
    let mut call = match protocol::map_call(agent, event_override, &map) {
        Ok(c) => c,
        Err(e) => {
            // Name the event when the input names one CAVRA knows, so the
            // block takes the event's own shape.
            let ev = event_override.or_else(|| {
                map.get("hook_event_name")
                    .and_then(|v| v.as_str())
                    .and_then(|n| Event::for_agent(agent, n))
            });
            return fail(ev, &e.0);
        }
    };
    if call.actions.len() > MAX_ACTIONS {
        return fail(
            Some(call.event),
            &format!(
                "the tool call takes {} actions; CAVRA judges at most {MAX_ACTIONS} in one call: split it",
                call.actions.len()
            ),
        );
    }
    if call.actions.is_empty() {
        return HookRun {
            response: protocol::respond(agent, call.event, &Gate::Allow),
            call: Some(call),
            decisions: Vec::new(),
        };
    }
    let root_path = call
        .cwd
        .as_deref()
        .map(Path::new)
        .filter(|p| p.is_absolute())
        .and_then(find_repo_root);
    let policy = match load(root_path.as_deref()) {
        Ok(p) => p,
        Err(e) => return fail(Some(call.event), &format!("the policy did not load: {e}")),
    };
    let root = root_path
        .map(|p| p.display().to_string())
        .or_else(|| call.cwd.clone());
    call.repo_root.clone_from(&root);
    let mut decisions = Vec::with_capacity(call.actions.len());
    for a in &mut call.actions {
        a.session_id = Some(call.session_id.clone());
        a.agent_id = Some(agent.name().to_string());
        a.actor = Some(format!("ai-agent:{}", agent.name()));
        // A tool's own working directory (relative to the session's, `~`
        // for the home directory) overrides the session's.
        a.cwd = match a.cwd.take() {
            Some(d) if d.starts_with('/') => Some(d),
            Some(d) if d == "~" || d.starts_with("~/") => {
                match std::env::var("HOME").ok().filter(|h| h.starts_with('/')) {
                    Some(h) => Some(format!("{h}{}", d.trim_start_matches('~'))),
                    None => Some(d),
                }
            }
            Some(d) => call
                .cwd
                .as_deref()
                .map(|c| format!("{}/{d}", c.trim_end_matches('/')))
                .or(Some(d)),
            None => call.cwd.clone(),
        };
        a.repo_root.clone_from(&root);
        // The branch checked out where the session runs, for pushes that
        // name none or `HEAD` (`git push -u origin HEAD`).
        if a.branch.is_none()
            && matches!(
                a.action_type,
                cavra_policy::ActionType::ExecuteCommand | cavra_policy::ActionType::GitOperation
            )
        {
            a.branch = root.as_deref().and_then(|r| current_branch(Path::new(r)));
        }
        if a.action_type == cavra_policy::ActionType::McpToolCall {
            a.capability = Some(a.capability.clone().unwrap_or_else(|| "tool".into()));
        }
        decisions.push(cavra_policy::decide_now(
            &policy,
            a,
            &EvalContext::default(),
            mode,
            &BreakGlass::default(),
        ));
        // A file reached through a symbolic link that already exists (a
        // repository may ship `cfg -> .claude`) is judged where it leads
        // too; the worse decision wins.
        // Shell commands likewise, for each file they name (`cat notes.txt`
        // with `notes.txt -> ~/.ssh/id_rsa`).
        let files = match a.action_type {
            cavra_policy::ActionType::ReadFile | cavra_policy::ActionType::WriteFile => {
                vec![a.clone()]
            }
            cavra_policy::ActionType::ExecuteCommand => command_file_actions(a),
            _ => Vec::new(),
        };
        for f in files {
            if let Some(target) = resolved_target(&f) {
                let mut through = f;
                through.target = target;
                decisions.push(cavra_policy::decide_now(
                    &policy,
                    &through,
                    &EvalContext::default(),
                    mode,
                    &BreakGlass::default(),
                ));
            }
        }
    }
    let gate = gate_for(&decisions);
    HookRun {
        response: protocol::respond(agent, call.event, &gate),
        call: Some(call),
        decisions,
    }
}

/// The most restrictive decision of several, as a gate with its reason.
pub fn gate_for(decisions: &[Decision]) -> Gate {
    let Some(worst) = decisions.iter().max_by_key(|d| d.decision) else {
        return Gate::Deny("CAVRA blocked this action (fail closed): no decision".into());
    };
    let what = format!("{} `{}`", worst.action_type, worst.target);
    let tail = format!(
        "(rule {}, severity {}, policy {}, decision {})",
        worst.rule_id, worst.severity, worst.policy_pack, worst.decision_id
    );
    match worst.decision {
        Outcome::Block => Gate::Deny(format!("CAVRA blocked {what}: {} {tail}", worst.reason)),
        Outcome::RequireApproval => {
            let group = worst
                .approver_group
                .as_deref()
                .map(|g| format!(" from {g}"))
                .unwrap_or_default();
            Gate::Ask(format!(
                "CAVRA requires approval{group} for {what}: {} {tail}",
                worst.reason
            ))
        }
        Outcome::Warn => Gate::Notice(format!("CAVRA warning for {what}: {} {tail}", worst.reason)),
        Outcome::Allow | Outcome::AllowWithAttestation | Outcome::AuditOnly => Gate::Allow,
    }
}

/// Where a file action's path leads through symbolic links that exist now,
/// when that differs from the path as written: resolved the way the kernel
/// resolves it (component by component, a `..` after a link leaving the
/// link's target, not the link: `cfg/../settings.json` with `cfg ->
/// .claude` is `.claude/settings.json`), mapped back under the repository
/// root as the action names it (so a root below a linked directory, such
/// as macOS's `/tmp`, changes nothing). A dangling link is followed to
/// where it points (writing through it creates its target). A path outside
/// the root that leads outside it too is left to the outside-root rules as
/// written (`/tmp` is `/private/tmp` on macOS). `None` when nothing on the
/// way is a link.
fn resolved_target(a: &cavra_policy::Action) -> Option<String> {
    let raw = a.target.as_str();
    if raw.starts_with('~') {
        return None;
    }
    let abs = if raw.starts_with('/') {
        PathBuf::from(raw)
    } else {
        Path::new(a.cwd.as_deref()?).join(raw)
    };
    let written = lexical(&abs);
    let mut hops = 0;
    let resolved = physical(&abs, &mut hops)?;
    let root = Path::new(a.repo_root.as_deref()?);
    let croot = physical(root, &mut 0);
    let mapped = match croot
        .as_ref()
        .and_then(|c| resolved.strip_prefix(c).ok().map(|rel| root.join(rel)))
    {
        Some(p) => p,
        None if !written.starts_with(root) => return None,
        None => resolved,
    };
    (mapped != written).then(|| mapped.display().to_string())
}

/// The branch checked out in the repository at `root` (`ref:
/// refs/heads/NAME` in `.git/HEAD`, or in the directory a `.git` file
/// names); `None` when detached or unreadable.
fn current_branch(root: &Path) -> Option<String> {
    let dot_git = root.join(".git");
    let git_dir = if dot_git.is_dir() {
        dot_git
    } else {
        let text = std::fs::read_to_string(&dot_git).ok()?;
        let dir = text.lines().next()?.strip_prefix("gitdir:")?.trim();
        root.join(dir)
    };
    let head = std::fs::read_to_string(git_dir.join("HEAD")).ok()?;
    let name = head
        .lines()
        .next()?
        .strip_prefix("ref: refs/heads/")?
        .trim();
    (!name.is_empty()).then(|| name.to_string())
}

/// `p` with `.` and `..` removed as text.
fn lexical(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// An absolute path resolved component by component through the links
/// that exist (dangling ones too), as the kernel would; components that
/// do not exist are kept as written. `None` past 40 links (a loop).
fn physical(p: &Path, hops: &mut usize) -> Option<PathBuf> {
    use std::path::Component;
    let mut cur = PathBuf::from("/");
    for c in p.components() {
        match c {
            Component::RootDir | Component::Prefix(_) => cur = PathBuf::from("/"),
            Component::CurDir => {}
            Component::ParentDir => {
                cur.pop();
            }
            Component::Normal(name) => {
                let next = cur.join(name);
                match std::fs::symlink_metadata(&next) {
                    Ok(m) if m.file_type().is_symlink() => {
                        *hops += 1;
                        if *hops > 40 {
                            return None;
                        }
                        let target = std::fs::read_link(&next).ok()?;
                        let joined = if target.is_absolute() {
                            target
                        } else {
                            cur.join(target)
                        };
                        cur = physical(&joined, hops)?;
                    }
                    _ => cur = next,
                }
            }
        }
    }
    Some(cur)
}

/// The literal files a command line reads and writes (below the directory
/// an earlier `cd` went to), as file actions (at most 256), for judging
/// where links lead.
fn command_file_actions(a: &cavra_policy::Action) -> Vec<cavra_policy::Action> {
    use cavra_policy::ActionType;
    let analysis = cavra_shell::analyze(&a.target);
    let mut out = Vec::new();
    for cmd in &analysis.commands {
        for fa in cavra_shell::file_accesses(cmd) {
            if !fa.literal || fa.glob || fa.path.starts_with(cavra_shell::UNKNOWN_CWD) {
                continue;
            }
            let mut f = a.clone();
            f.action_type = match fa.mode {
                cavra_shell::FileMode::Read => ActionType::ReadFile,
                cavra_shell::FileMode::Write => ActionType::WriteFile,
            };
            // Already below the directory an earlier `cd` went to.
            f.target = fa.path;
            out.push(f);
            if out.len() >= 256 {
                return out;
            }
        }
    }
    out
}
