//! Compilation of a resolved pack into matchers.

use std::collections::BTreeMap;

use crate::model::{ActionType, Mode, Outcome, Severity};
use crate::pattern::{CommandPattern, PathPatterns};
use crate::spec::{
    ApprovalRoute, ApprovalRouting, ArgumentRule, PackSpec, RequiredField, TestCase, rule_action,
};

/// Paths agents may never write unless a pack lists them in
/// `filesystem.unprotect`: CAVRA's own configuration, policy, evidence and
/// the agents' hook settings.
pub const SELF_PROTECTED_PATHS: &[&str] = &[
    ".cavra/",
    "cavra.yaml",
    ".claude/settings.json",
    ".claude/settings.local.json",
    ".codex/hooks.json",
    ".codex/config.toml",
    ".gemini/settings.json",
    ".cursor/hooks.json",
    ".github/hooks/",
    // Files that add MCP servers or extensions: code the agent runs later.
    ".mcp.json",
    ".cursor/mcp.json",
    ".vscode/mcp.json",
    ".gemini/extensions/",
    // The same at any depth and in any checkout (these match outside the
    // repository too): an agent started in a package of a monorepo, a
    // submodule or a second workspace root loads the settings found there.
    "**/.cavra/",
    "**/.claude/settings.json",
    "**/.claude/settings.local.json",
    "**/.codex/hooks.json",
    "**/.codex/config.toml",
    "**/.gemini/settings.json",
    "**/.cursor/hooks.json",
    "**/.github/hooks/",
    "**/.mcp.json",
    "**/.cursor/mcp.json",
    "**/.vscode/mcp.json",
    "**/.gemini/extensions/",
    // Scripts hook settings call: they run outside the gate.
    "**/.claude/hooks/",
    "policy.yaml.sig.json",
    // The legacy digest file `policy verify` still reads without a key.
    "policy.yaml.sig",
    "~/.claude/settings.json",
    "~/.claude/hooks/",
    "~/.claude.json",
    "~/.codex/",
    "~/.gemini/settings.json",
    "~/.gemini/extensions/",
    "~/.cursor/hooks.json",
    "~/.cursor/mcp.json",
    "~/.copilot/",
    "~/.config/cavra/",
    "~/.cache/cavra/",
];

/// Paths whose writing changes what later git commands run, so a write
/// needs approval unless a pack lists them in `filesystem.unprotect`: a
/// repository's git directory at any depth (`core.fsmonitor` or
/// `core.pager` in `.git/config`, a script in `.git/hooks/`) and the
/// user's global git configuration. Without this, `echo … >> .git/config`
/// followed by an allowed `git status` runs any command.
pub const GIT_CONTROL_PATHS: &[&str] = &[".git/", "~/.gitconfig", "~/.config/git/"];

/// What a rule of the rules shape matches.
#[derive(Clone, Debug)]
pub enum Matcher {
    Paths(PathPatterns),
    Commands(Vec<CommandPattern>),
    /// Wildcard globs over branch names, `server:tool` or generic resources.
    Resources(Vec<String>),
}

/// A compiled rule of the rules shape.
#[derive(Clone, Debug)]
pub struct Rule {
    pub id: String,
    /// `None` applies to every action type.
    pub action: Option<ActionType>,
    pub matcher: Matcher,
    pub unless: Option<Matcher>,
    pub decision: Outcome,
    pub severity: Option<Severity>,
    pub reason: Option<String>,
    pub approver_group: Option<String>,
    pub evidence_level: Option<String>,
    pub attest: bool,
}

#[derive(Clone, Debug)]
pub struct FsRules {
    pub block_read: PathPatterns,
    pub block_write: PathPatterns,
    pub approve_read: PathPatterns,
    pub approve_write: PathPatterns,
    pub allow_outside_root: PathPatterns,
    pub self_protected: PathPatterns,
    /// [`GIT_CONTROL_PATHS`].
    pub git_control: PathPatterns,
    pub unprotect: PathPatterns,
}

#[derive(Clone, Debug)]
pub struct CmdRules {
    pub block: Vec<CommandPattern>,
    pub require_approval: Vec<CommandPattern>,
    pub warn: Vec<CommandPattern>,
    pub allow: Vec<CommandPattern>,
    pub default: Outcome,
    /// The default came from the pack (`commands.default` or `defaults.decision`).
    pub default_explicit: bool,
}

#[derive(Clone, Debug)]
pub struct GitRules {
    pub protected_branches: Vec<String>,
    pub require_pull_request: bool,
    pub block_direct_push: bool,
    pub require_human_reviewer: bool,
    pub require_ai_attestation: bool,
    pub block_force_push: bool,
}

#[derive(Clone, Debug)]
pub struct McpRules {
    pub allowlist_enabled: bool,
    pub block_unknown_servers: bool,
    pub allowed_servers: Vec<String>,
    pub blocked_servers: Vec<String>,
    pub approval_required_servers: Vec<String>,
    pub risk_scoring: BTreeMap<String, Severity>,
    pub allowed_tools: BTreeMap<String, Vec<String>>,
    pub blocked_tools: BTreeMap<String, Vec<String>>,
    pub allowed_capabilities: BTreeMap<String, Vec<String>>,
    pub argument_rules: Vec<(ArgumentRule, Option<PathPatterns>)>,
}

/// A pack ready for evaluation.
#[derive(Clone, Debug)]
pub struct CompiledPolicy {
    /// The name the pack was requested by (directory name).
    pub name: String,
    /// `metadata.id` / `id`.
    pub pack_id: String,
    pub title: String,
    pub version: String,
    pub digest: String,
    pub default_mode: Mode,
    pub fs: FsRules,
    pub cmd: CmdRules,
    pub git: GitRules,
    pub mcp: McpRules,
    pub rules: Vec<Rule>,
    /// Every path pattern of the rules shape in one matcher, with the rule
    /// each pattern belongs to.
    pub rule_paths: (PathPatterns, Vec<usize>),
    /// The same for the rules that do not allow (`block`,
    /// `require_approval`, `warn`…), matching without regard to case.
    pub restrictive_rule_paths: (PathPatterns, Vec<usize>),
    /// `defaults.decision` of the rules shape.
    pub rules_default: Option<Outcome>,
    pub evidence_required: bool,
    pub allowed_agents: Vec<String>,
    pub default_group: Option<String>,
    pub routes: Vec<ApprovalRouting>,
    pub named_routes: BTreeMap<String, ApprovalRoute>,
    pub compliance: Vec<String>,
    pub required_fields: Vec<RequiredField>,
    pub require_pr_attestation: Option<bool>,
    pub retention_days: Option<u32>,
    pub approval_ttl_hours: u32,
    pub tests: Vec<TestCase>,
}

/// Matchers of a pack that validated: globs are parsed on first use.
fn paths(list: &[String]) -> Result<PathPatterns, String> {
    PathPatterns::lazy(list).map_err(|(_, m)| m)
}

/// Matchers of lists that block or gate: they ignore case (see
/// [`PathPatterns::folding_case`]).
fn folded_paths(list: &[String]) -> Result<PathPatterns, String> {
    paths(list).map(PathPatterns::folding_case)
}

/// Rules that do not allow match paths without regard to case.
fn folds(decision: Outcome) -> bool {
    !matches!(decision, Outcome::Allow | Outcome::AllowWithAttestation)
}

/// The path matcher of a rule deciding `decision`.
fn rule_paths_for(list: &[String], decision: Outcome) -> Result<PathPatterns, String> {
    if folds(decision) {
        folded_paths(list)
    } else {
        paths(list)
    }
}

fn cmds(list: &[String]) -> Result<Vec<CommandPattern>, String> {
    list.iter().map(|p| CommandPattern::new(p)).collect()
}

/// Compile a resolved pack. `name` is the name it was requested by.
pub fn compile(spec: &PackSpec, name: &str) -> Result<CompiledPolicy, String> {
    let fs = spec.filesystem.clone().unwrap_or_default();
    let c = spec.commands.clone().unwrap_or_default();
    let g = spec.git.clone().unwrap_or_default();
    let m = spec.mcp.clone().unwrap_or_default();
    let trust = spec.mcp_trust.clone().unwrap_or_default();
    let defaults = spec.defaults.clone().unwrap_or_default();
    let rules_default = defaults.decision.map(|d| d.outcome());
    let self_protected: Vec<String> = SELF_PROTECTED_PATHS.iter().map(|s| s.to_string()).collect();
    let git_control: Vec<String> = GIT_CONTROL_PATHS.iter().map(|s| s.to_string()).collect();

    let mut allowed_servers = m.allowed_servers.clone();
    allowed_servers.extend(trust.allowed_servers.iter().cloned());
    let mut blocked_servers = m.blocked_servers.clone();
    blocked_servers.extend(trust.blocked_servers.iter().cloned());
    let mut approval_required_servers = m.approval_required_servers.clone();
    approval_required_servers.extend(trust.approval_required.iter().cloned());

    let mut argument_rules = Vec::new();
    for r in &m.argument_rules {
        let pp = if r.path {
            Some(rule_paths_for(&r.patterns, r.decision)?)
        } else {
            None
        };
        argument_rules.push((r.clone(), pp));
    }

    let actors = spec.actors.clone().unwrap_or_default();
    let mut rules = Vec::new();
    for r in &spec.rules {
        let action = rule_action(&r.action)?;
        let path_like = matches!(action, Some(ActionType::ReadFile | ActionType::WriteFile));
        let matcher = match &action {
            Some(ActionType::ExecuteCommand) => Matcher::Commands(cmds(&r.command_patterns)?),
            _ if path_like => Matcher::Paths(rule_paths_for(&r.resources, r.decision.outcome())?),
            _ => Matcher::Resources(r.resources.clone()),
        };
        let unless = if r.unless.is_empty() {
            None
        } else {
            Some(match &matcher {
                Matcher::Commands(_) => Matcher::Commands(cmds(&r.unless)?),
                Matcher::Paths(_) => Matcher::Paths(paths(&r.unless)?),
                Matcher::Resources(_) => Matcher::Resources(r.unless.clone()),
            })
        };
        let approver_group = match r.decision {
            crate::spec::RuleDecision::BreakGlass => Some("Change Advisory Board".to_string()),
            _ => r.approval_route.clone(),
        };
        let evidence = r.evidence.clone().unwrap_or_default();
        rules.push(Rule {
            id: r.id.clone(),
            action,
            matcher,
            unless,
            decision: r.decision.outcome(),
            severity: r.severity,
            reason: r.reason.clone(),
            approver_group,
            evidence_level: evidence.level.map(|l| {
                serde_json::to_value(l)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            }),
            attest: evidence.attest_pr.unwrap_or(false),
        });
    }

    let (mut all_paths, mut path_owner) = (Vec::new(), Vec::new());
    let (mut restrictive_paths, mut restrictive_owner) = (Vec::new(), Vec::new());
    for (i, r) in spec.rules.iter().enumerate() {
        if matches!(rules.get(i).map(|r| &r.matcher), Some(Matcher::Paths(_))) {
            let (list, owner) = if folds(r.decision.outcome()) {
                (&mut restrictive_paths, &mut restrictive_owner)
            } else {
                (&mut all_paths, &mut path_owner)
            };
            for p in &r.resources {
                list.push(p.clone());
                owner.push(i);
            }
        }
    }
    let rule_paths = (paths(&all_paths)?, path_owner);
    let restrictive_rule_paths = (folded_paths(&restrictive_paths)?, restrictive_owner);
    let (cmd_default, default_explicit) = match (c.default, rules_default) {
        (Some(d), _) => (d, true),
        (None, Some(d)) => (d, true),
        (None, None) => (Outcome::RequireApproval, false),
    };
    let approvals = spec.approvals.clone().unwrap_or_default();
    let evidence = spec.evidence.clone().unwrap_or_default();
    let protected = if g.protected_branches.is_empty() {
        vec!["main".to_string(), "master".to_string()]
    } else {
        g.protected_branches.clone()
    };
    Ok(CompiledPolicy {
        name: name.to_string(),
        pack_id: spec.pack_id().unwrap_or(name).to_string(),
        title: spec.title().to_string(),
        version: spec.version().to_string(),
        digest: String::new(),
        default_mode: spec.default_mode().unwrap_or_default(),
        fs: FsRules {
            block_read: folded_paths(&fs.block_read)?,
            block_write: folded_paths(&fs.block_write)?,
            approve_read: folded_paths(&fs.require_approval_read)?,
            approve_write: folded_paths(&fs.require_approval_write)?,
            allow_outside_root: paths(&fs.allow_outside_root)?,
            self_protected: folded_paths(&self_protected)?.anywhere(),
            git_control: folded_paths(&git_control)?,
            unprotect: paths(&fs.unprotect)?,
        },
        cmd: CmdRules {
            block: cmds(&c.block)?,
            require_approval: cmds(&c.require_approval)?,
            warn: cmds(&c.warn)?,
            allow: cmds(&c.allow)?,
            default: cmd_default,
            default_explicit,
        },
        git: GitRules {
            protected_branches: protected,
            require_pull_request: g.require_pull_request.unwrap_or(false),
            block_direct_push: g.block_direct_push_to_protected_branch.unwrap_or(true),
            require_human_reviewer: g.require_human_reviewer.unwrap_or(false),
            require_ai_attestation: g.require_ai_attestation.unwrap_or(true),
            block_force_push: g.block_force_push.unwrap_or(false),
        },
        mcp: McpRules {
            allowlist_enabled: m.allowlist_enabled.unwrap_or(true),
            block_unknown_servers: m.block_unknown_servers.unwrap_or(true),
            allowed_servers,
            blocked_servers,
            approval_required_servers,
            risk_scoring: m.risk_scoring.clone(),
            allowed_tools: m.allowed_tools.clone(),
            blocked_tools: m.blocked_tools.clone(),
            allowed_capabilities: m.allowed_capabilities.clone(),
            argument_rules,
        },
        rules,
        rule_paths,
        restrictive_rule_paths,
        rules_default,
        evidence_required: defaults.evidence_required.unwrap_or(true),
        allowed_agents: actors.allowed_agent_profiles.clone(),
        default_group: approvals
            .default_group
            .clone()
            .or_else(|| actors.human_approvers.first().cloned()),
        routes: approvals.routes.clone(),
        named_routes: spec.approval_routes.clone(),
        compliance: spec.compliance.clone().unwrap_or_default().maps_to,
        required_fields: evidence.required_fields.clone(),
        require_pr_attestation: evidence.require_pr_attestation,
        retention_days: evidence.retention_days,
        approval_ttl_hours: approvals.ttl_hours.unwrap_or(24),
        tests: spec.tests.clone(),
    })
}
