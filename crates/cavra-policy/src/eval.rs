//! Evaluation: one total function from an action to a verdict. Every path
//! ends in a decision; anything not understood is never `allow`.

use cavra_shell::{Analysis, FileMode, Issue, SimpleCommand};

use crate::compile::{CompiledPolicy, Matcher, Rule};
use crate::git::{self, Push};
use crate::mcp::{RegistryServer, registry_ladder};
use crate::model::{Action, ActionType, Explanation, Match, Outcome, Severity, Verdict};
use crate::pattern::{NormPath, PathPatterns, normalize_path, wildcard};
use crate::spec::RequiredField;

/// Context the caller supplies beyond the pack.
#[derive(Clone, Copy, Debug, Default)]
pub struct EvalContext<'a> {
    /// MCP registry records; when given, MCP calls use the registry ladder.
    pub registry: Option<&'a [RegistryServer]>,
}

/// Collected rule hits for one action.
#[derive(Default)]
struct Hits {
    v: Vec<Match>,
    evidence_level: Option<String>,
    attest: bool,
}

impl Hits {
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        rule_id: impl Into<String>,
        decision: Outcome,
        severity: Severity,
        pattern: Option<&str>,
        subject: &str,
        reason: impl Into<String>,
        group: Option<String>,
    ) {
        self.v.push(Match {
            rule_id: rule_id.into(),
            decision,
            severity,
            pattern: pattern.map(str::to_string),
            subject: subject.to_string(),
            reason: reason.into(),
            approver_group: group,
        });
    }

    fn rule(&mut self, r: &Rule, subject: &str, pattern: Option<&str>, default_sev: Severity) {
        if r.attest {
            self.attest = true;
        }
        if r.evidence_level.is_some() {
            self.evidence_level.clone_from(&r.evidence_level);
        }
        let reason = r.reason.clone().unwrap_or_else(|| match pattern {
            Some(p) => format!("Matched rule `{}`: {p}", r.id),
            None => format!("Matched rule `{}`.", r.id),
        });
        let sev = r.severity.unwrap_or(match r.decision {
            Outcome::Block => Severity::High,
            Outcome::RequireApproval | Outcome::Warn => Severity::Medium,
            _ => default_sev,
        });
        self.add(
            r.id.clone(),
            r.decision,
            sev,
            pattern,
            subject,
            reason,
            r.approver_group.clone(),
        );
    }
}

/// Evaluate `action` under `policy`.
pub fn evaluate(policy: &CompiledPolicy, action: &Action, ctx: &EvalContext<'_>) -> Verdict {
    let mut hits = Hits::default();
    let mut ex = Explanation {
        compliance: policy.compliance.clone(),
        policy_digest: Some(policy.digest.clone()).filter(|d| !d.is_empty()),
        ..Explanation::default()
    };
    // Only what a shell treats as blanks is trimmed: trimming Unicode
    // whitespace (a form feed, say) would evaluate a different string from
    // the one bash runs (found by the command_analyser fuzz target).
    let mut target = action
        .target
        .trim_matches(|c: char| matches!(c, ' ' | '\t' | '\n'))
        .to_string();
    let mut operation = action.operation.clone().unwrap_or_default();

    if target.is_empty() && !matches!(action.action_type, ActionType::McpToolCall) {
        hits.add(
            "input.invalid",
            Outcome::Block,
            Severity::High,
            None,
            "",
            "The action has an empty target.",
            None,
        );
    } else if target.contains('\0') {
        hits.add(
            "input.invalid",
            Outcome::Block,
            Severity::High,
            None,
            "",
            "The target contains a NUL byte.",
            None,
        );
    } else {
        match &action.action_type {
            ActionType::ReadFile | ActionType::WriteFile => {
                let mode = if action.action_type == ActionType::ReadFile {
                    FileMode::Read
                } else {
                    FileMode::Write
                };
                // `operation: glob`: the target is a glob (a search tool's
                // file filter), judged by `eval_search_filter` as well.
                let glob = action.operation.as_deref() == Some("glob");
                operation = mode_name(mode).to_string();
                if let Some(n) = eval_path(policy, &mut hits, mode, &target, action, false) {
                    ex.normalized_target = Some(n.display);
                }
                if glob {
                    eval_search_filter(policy, &mut hits, mode, &target, action);
                }
            }
            ActionType::ExecuteCommand => {
                operation = "command".into();
                eval_command(policy, &mut hits, &mut ex, &target, action);
            }
            ActionType::GitOperation => {
                operation = operation.trim().to_ascii_lowercase();
                if operation.is_empty() {
                    operation = "push".into();
                }
                eval_git_operation(policy, &mut hits, &operation, &target, action);
            }
            ActionType::McpToolCall => {
                let server = action
                    .server
                    .clone()
                    .or_else(|| target.split_once(':').map(|(s, _)| s.to_string()))
                    .unwrap_or_else(|| target.clone());
                let tool = action
                    .tool
                    .clone()
                    .or_else(|| target.split_once(':').map(|(_, t)| t.to_string()))
                    .unwrap_or_else(|| "unknown".into());
                target = format!("{server}:{tool}");
                operation = action
                    .capability
                    .clone()
                    .filter(|c| !c.is_empty())
                    .unwrap_or_else(|| tool.clone());
                eval_mcp(policy, &mut hits, &server, &tool, action, ctx);
            }
            ActionType::PullRequest => {
                if operation.is_empty() {
                    operation = "create".into();
                }
                eval_pull_request(policy, &mut hits, &operation, &target);
            }
            ActionType::Generic(t) => {
                if operation.is_empty() {
                    operation = t.split('.').nth(1).unwrap_or("").to_string();
                }
                let (rule_id, d, sev, group, reason) = crate::generic::evaluate_generic(t);
                let mut own = Hits::default();
                rules_of(policy, &action.action_type, &target, &mut own);
                if own.v.is_empty() {
                    hits.add(rule_id, d, sev, None, &target, reason, group);
                } else {
                    hits.v.extend(own.v);
                }
            }
        }
    }
    // Cross-cutting checks.
    if !policy.allowed_agents.is_empty() {
        let agent = action.agent_id.as_deref().unwrap_or("unknown-agent");
        if !policy.allowed_agents.iter().any(|a| wildcard(a, agent)) {
            hits.add(
                "actors.agent_not_allowed",
                Outcome::Block,
                Severity::High,
                None,
                agent,
                format!("Agent `{agent}` is not among the agents this pack admits."),
                None,
            );
        }
    }
    for f in &policy.required_fields {
        let (name, present) = match f {
            RequiredField::SessionId => ("session_id", action.session_id.is_some()),
            RequiredField::AgentId => ("agent_id", action.agent_id.is_some()),
            RequiredField::Actor => ("actor", action.actor.is_some()),
            RequiredField::Repository => ("repository", action.repository.is_some()),
        };
        if !present {
            hits.add(
                "evidence.required_fields.missing",
                Outcome::RequireApproval,
                Severity::Medium,
                None,
                name,
                format!(
                    "The action does not carry `{name}`, which this pack requires for evidence."
                ),
                None,
            );
        }
    }
    finish(policy, hits, ex, action, target, operation)
}

fn mode_name(m: FileMode) -> &'static str {
    match m {
        FileMode::Read => "read",
        FileMode::Write => "write",
    }
}

fn finish(
    policy: &CompiledPolicy,
    mut hits: Hits,
    mut ex: Explanation,
    action: &Action,
    target: String,
    operation: String,
) -> Verdict {
    // Most restrictive first; ties keep the first hit.
    hits.v
        .sort_by_key(|m| std::cmp::Reverse((m.decision, m.severity)));
    let winner = hits.v.first().cloned().unwrap_or_else(|| Match {
        rule_id: "engine.no_decision".into(),
        decision: Outcome::Block,
        severity: Severity::High,
        pattern: None,
        subject: target.clone(),
        reason: "No rule produced a decision; failing closed.".into(),
        approver_group: None,
    });
    let mut decision = winner.decision;
    let mut rule_id = winner.rule_id.clone();
    let mut reason = winner.reason.clone();
    if decision == Outcome::Allow && hits.attest {
        decision = Outcome::AllowWithAttestation;
        reason = format!("{reason} Attestation required by the rule.");
    }
    let sub_count = ex.sub_commands.len();
    if sub_count > 1 && !winner.subject.is_empty() && decision != Outcome::Allow {
        reason = format!("{reason} (in `{}`)", winner.subject);
    }
    let approver_group = match decision {
        Outcome::RequireApproval => Some(route_group(policy, &winner, &target)),
        _ => winner.approver_group.clone(),
    };
    let mode_approver_group =
        (decision != Outcome::RequireApproval).then(|| route_group(policy, &winner, &target));
    if rule_id.is_empty() {
        rule_id = "engine.unnamed".into();
    }
    ex.matches = hits.v;
    ex.evidence_level = hits.evidence_level;
    let _ = action;
    Verdict {
        action_type: action.action_type.as_str().to_string(),
        target,
        requested_operation: operation,
        policy_pack: policy.name.clone(),
        rule_id,
        decision,
        severity: winner.severity,
        reason,
        approver_group,
        mode_approver_group,
        explanation: ex,
        evidence_required: policy.evidence_required,
    }
}

/// Approver group for a require_approval decision: pack routes, then the
/// rule's group, then the pack default, then Repository Owners.
fn route_group(policy: &CompiledPolicy, winner: &Match, target: &str) -> String {
    for r in &policy.routes {
        let prefix_ok = r
            .rule_id_prefix
            .as_deref()
            .is_none_or(|p| winner.rule_id.starts_with(p));
        // Routes look at what matched, normalised (`infra/../.github/x` is
        // `.github/x`), and at the raw target only when nothing did.
        let subject = if winner.subject.is_empty() {
            target
        } else {
            winner.subject.as_str()
        };
        let target_ok = r
            .target_contains
            .as_deref()
            .is_none_or(|t| subject.contains(t));
        if prefix_ok && target_ok {
            return r.approver_group.clone();
        }
    }
    winner
        .approver_group
        .clone()
        .or_else(|| policy.default_group.clone())
        .unwrap_or_else(|| "Repository Owners".into())
}

/// Rules of the rules shape that apply to `subject`.
fn rules_of(policy: &CompiledPolicy, action: &ActionType, subject: &str, hits: &mut Hits) {
    for r in &policy.rules {
        if r.action.as_ref().is_some_and(|a| a != action) {
            continue;
        }
        let m = match &r.matcher {
            Matcher::Resources(globs) => globs.iter().find(|g| wildcard(g, subject)).cloned(),
            Matcher::Paths(p) => normalize_path(subject, None, None)
                .ok()
                .and_then(|n| p.first_match(&n).map(str::to_string)),
            Matcher::Commands(_) => None,
        };
        let Some(pattern) = m else { continue };
        let excepted = match &r.unless {
            Some(Matcher::Resources(globs)) => globs.iter().any(|g| wildcard(g, subject)),
            Some(Matcher::Paths(p)) => normalize_path(subject, None, None)
                .ok()
                .is_some_and(|n| p.first_match(&n).is_some()),
            _ => false,
        };
        if !excepted {
            hits.rule(r, subject, Some(&pattern), Severity::Low);
        }
    }
}

fn path_rules(
    policy: &CompiledPolicy,
    mode: FileMode,
    path: &NormPath,
    hits: &mut Hits,
    allow_hits: bool,
) -> bool {
    let mut ruled = false;
    let action = match mode {
        FileMode::Read => ActionType::ReadFile,
        FileMode::Write => ActionType::WriteFile,
    };
    // (rule, pattern) of every matching rule, first pattern per rule, in
    // rule order; rules that do not allow match without regard to case.
    let mut matched: Vec<(usize, &str)> = Vec::new();
    for (index, owner) in [&policy.restrictive_rule_paths, &policy.rule_paths] {
        for pi in index.all_matches(path) {
            let Some(&ri) = owner.get(pi) else { continue };
            if matched.iter().all(|(r, _)| *r != ri) {
                let pattern = index.patterns.get(pi).map(String::as_str).unwrap_or("");
                matched.push((ri, pattern));
            }
        }
    }
    matched.sort_by_key(|(ri, _)| *ri);
    for (ri, pattern) in matched {
        let Some(r) = policy.rules.get(ri) else {
            continue;
        };
        if r.action.as_ref().is_some_and(|a| *a != action) {
            continue;
        }
        if let Some(Matcher::Paths(u)) = &r.unless
            && u.first_match(path).is_some()
        {
            continue;
        }
        ruled = true;
        if allow_hits || !r.decision.proceeds() {
            hits.rule(r, &path.display, Some(pattern), Severity::Low);
        }
    }
    // Rules for every action type (`action: "*"`) use resource globs.
    let starred = star_rules(policy, &path.subject, &path.display, hits, |d| {
        allow_hits || !d.proceeds()
    });
    ruled || starred
}

/// The rules for every action type (`action: "*"`) whose resource globs
/// match `subject` and whose `unless` does not, for which `applies` holds
/// of the rule's decision. Returns whether any such rule's globs matched,
/// applying or not.
fn star_rules(
    policy: &CompiledPolicy,
    subject: &str,
    display: &str,
    hits: &mut Hits,
    applies: impl Fn(Outcome) -> bool,
) -> bool {
    let mut matched = false;
    for r in policy.rules.iter().filter(|r| r.action.is_none()) {
        if let Matcher::Resources(globs) = &r.matcher
            && let Some(g) = globs.iter().find(|g| wildcard(g, subject))
        {
            matched = true;
            if !applies(r.decision) {
                continue;
            }
            let excepted = matches!(&r.unless, Some(Matcher::Resources(u)) if u.iter().any(|g| wildcard(g, subject)));
            if !excepted {
                hits.rule(r, display, Some(g), Severity::Low);
            }
        }
    }
    matched
}

/// Whether an `action: "*"` rule applies to a command line or an MCP tool
/// call: only when it restricts. A glob over a whole command line is no
/// way to allow one (`*` would allow `rm -rf /`), so there the commands'
/// own rules decide what proceeds.
fn star_restricts(d: Outcome) -> bool {
    !matches!(d, Outcome::Allow | Outcome::AllowWithAttestation)
}

/// Evaluate one file access. `from_command` accesses add no `allow` hits:
/// the command decides those.
/// `raw` normalised against the action's working directory and repository
/// root (the root defaults to the working directory).
fn normalize_for(action: &Action, raw: &str) -> Result<NormPath, String> {
    let root = action.repo_root.as_deref().or(action.cwd.as_deref());
    normalize_path(raw, action.cwd.as_deref(), root)
}

fn eval_path(
    policy: &CompiledPolicy,
    hits: &mut Hits,
    mode: FileMode,
    raw: &str,
    action: &Action,
    from_command: bool,
) -> Option<NormPath> {
    let m = mode_name(mode);
    let path = match normalize_for(action, raw) {
        Ok(p) => p,
        Err(e) => {
            hits.add(
                "input.invalid_path",
                Outcome::Block,
                Severity::High,
                None,
                raw,
                format!("Invalid path: {e}."),
                None,
            );
            return None;
        }
    };
    let before = hits.v.len();
    // The built-in write lists, unless the pack exempts the path.
    let guarded = mode == FileMode::Write && policy.fs.unprotect.first_match(&path).is_none();
    if guarded && let Some(p) = policy.fs.self_protected.first_match(&path) {
        hits.add(
            "self_protection.write.block",
            Outcome::Block,
            Severity::Critical,
            Some(p),
            &path.display,
            format!("Agents may not modify CAVRA or agent hook configuration: {p}"),
            None,
        );
    }
    if guarded && let Some(p) = policy.fs.git_control.first_match(&path) {
        hits.add(
            "filesystem.write.git_control",
            Outcome::RequireApproval,
            Severity::High,
            Some(p),
            &path.display,
            format!(
                "Writing git's own configuration or hooks changes what later git commands run: {p}"
            ),
            Some("Platform Security".into()),
        );
    }
    let (block, approve) = match mode {
        FileMode::Read => (&policy.fs.block_read, &policy.fs.approve_read),
        FileMode::Write => (&policy.fs.block_write, &policy.fs.approve_write),
    };
    if let Some(p) = block.first_match(&path) {
        hits.add(
            format!("filesystem.{m}.block"),
            Outcome::Block,
            Severity::High,
            Some(p),
            &path.display,
            format!("Matched sensitive path policy: {p}"),
            None,
        );
    }
    if let Some(p) = approve.first_match(&path) {
        hits.add(
            format!("filesystem.{m}.require_approval"),
            Outcome::RequireApproval,
            Severity::High,
            Some(p),
            &path.display,
            format!("Matched approval-required path policy: {p}"),
            Some("Platform Security".into()),
        );
    }
    if path.outside_root && policy.fs.allow_outside_root.first_match(&path).is_none() {
        hits.add(
            format!("filesystem.{m}.outside_root"),
            Outcome::RequireApproval,
            Severity::High,
            None,
            &path.display,
            format!("Path `{}` is outside the repository root.", path.display),
            Some("Platform Security".into()),
        );
    }
    let ruled = path_rules(policy, mode, &path, hits, !from_command);
    // The pack default holds for a file a command touches as for a file
    // action (`cat config/db-password.txt` under `defaults: deny`), when it
    // restricts; an allowing default leaves the command's own rules to
    // decide. A pack of the rules shape with no rules at all still has its
    // default.
    if hits.v.len() == before && !ruled {
        match policy.rules_default {
            Some(d) if !from_command || !d.proceeds() => hits.add(
                "defaults.decision",
                d,
                if d == Outcome::Block {
                    Severity::High
                } else {
                    Severity::Low
                },
                None,
                &path.display,
                "No rule matched; the pack default applies.",
                None,
            ),
            None if !from_command => hits.add(
                format!("filesystem.{m}.allow"),
                Outcome::Allow,
                Severity::Low,
                None,
                &path.display,
                "No sensitive path policy matched.",
                None,
            ),
            _ => {}
        }
    }
    Some(path)
}

/// A shell glob operand (`cat .e*`) that could expand to a protected path.
fn eval_glob_operand(
    policy: &CompiledPolicy,
    hits: &mut Hits,
    mode: FileMode,
    operand: &str,
    action: &Action,
) {
    let m = mode_name(mode);
    let Ok(norm) = normalize_for(action, operand) else {
        eval_path(policy, hits, mode, operand, action, true);
        return;
    };
    let lists: Vec<&PathPatterns> = match mode {
        FileMode::Read => vec![&policy.fs.block_read, &policy.fs.approve_read],
        FileMode::Write => vec![
            &policy.fs.block_write,
            &policy.fs.approve_write,
            &policy.fs.self_protected,
            &policy.fs.git_control,
        ],
    };
    for l in lists {
        if let Some(p) = l.glob_could_match(&norm) {
            hits.add(
                format!("filesystem.{m}.glob_operand"),
                Outcome::RequireApproval,
                Severity::High,
                Some(p),
                operand,
                format!("Glob `{operand}` may expand to a path matching `{p}`."),
                Some("Platform Security".into()),
            );
            return;
        }
    }
}

/// A file action whose target is a glob (`operation: glob`). A read is a
/// search tool's file filter: approval when the filter is aimed at a
/// protected path (see `PathPatterns::search_could_target`). A write
/// needs approval when the glob could match a protected path at all.
fn eval_search_filter(
    policy: &CompiledPolicy,
    hits: &mut Hits,
    mode: FileMode,
    glob: &str,
    action: &Action,
) {
    if mode == FileMode::Write {
        // Nothing argues for leniency on writes: every path the glob could
        // match counts.
        eval_glob_operand(policy, hits, mode, glob, action);
        return;
    }
    let m = mode_name(mode);
    let Ok(norm) = normalize_for(action, glob) else {
        return;
    };
    for l in [&policy.fs.block_read, &policy.fs.approve_read] {
        if let Some(p) = l.search_could_target(&norm) {
            hits.add(
                format!("filesystem.{m}.search_filter"),
                Outcome::RequireApproval,
                Severity::High,
                Some(p),
                glob,
                format!("The file filter `{glob}` is aimed at paths matching `{p}`."),
                Some("Platform Security".into()),
            );
            return;
        }
    }
}

/// A command acting on everything below a directory (`rm -r DIR`, `mv DIR`,
/// `cp -r DIR`, `tar`): what the directory holds is not known, so a
/// protected path that could lie below it needs approval, and CAVRA's own
/// files are never removed that way.
fn eval_tree(policy: &CompiledPolicy, hits: &mut Hits, mode: FileMode, dir: &NormPath, via: &str) {
    let m = mode_name(mode);
    if mode == FileMode::Write
        && policy.fs.unprotect.first_match(dir).is_none()
        && let Some(p) = policy.fs.self_protected.tree_could_match(dir)
    {
        hits.add(
            "self_protection.write.tree",
            Outcome::Block,
            Severity::High,
            Some(p),
            &dir.display,
            format!(
                "`{via}` acts on everything below `{}`, which holds CAVRA or agent hook configuration ({p}).",
                dir.display
            ),
            None,
        );
        return;
    }
    let lists = match mode {
        FileMode::Read => [&policy.fs.block_read, &policy.fs.approve_read],
        FileMode::Write => [&policy.fs.block_write, &policy.fs.approve_write],
    };
    // Names protected at any depth (`.env`) are not judged below every
    // directory, but the repository root and the home directory are where
    // such dotfiles live: reading everything below them (`grep -r KEY .`,
    // `tar czf /tmp/x.tgz .`) reads those files too.
    let top = matches!(dir.subject.as_str(), "" | "." | "~")
        || dir.outside_root
        || dir.home_alias.as_deref() == Some("~");
    let d = &dir.display;
    let found = lists
        .iter()
        .find_map(|l| l.tree_could_match(dir))
        .map(|p| {
            let why = format!("`{via}` {m}s everything below `{d}`, which may include paths matching `{p}`.");
            (p, why)
        })
        .or_else(|| {
            let p = lists
                .iter()
                .filter(|_| mode == FileMode::Read && top)
                .find_map(|l| l.hidden_name())?;
            let why = format!(
                "`{via}` reads everything below `{d}`, including the hidden files at its top, such as paths matching `{p}`."
            );
            Some((p, why))
        });
    if let Some((p, why)) = found {
        hits.add(
            format!("filesystem.{m}.tree"),
            Outcome::RequireApproval,
            Severity::High,
            Some(p),
            d,
            why,
            Some("Platform Security".into()),
        );
    }
}

fn block_severity(argv: &[String]) -> Severity {
    if argv.iter().any(|a| {
        let a = a.to_ascii_lowercase();
        a.contains("apply") || a.contains("delete") || a.contains("destroy")
    }) {
        Severity::Critical
    } else {
        Severity::High
    }
}

fn eval_command(
    policy: &CompiledPolicy,
    hits: &mut Hits,
    ex: &mut Explanation,
    line: &str,
    action: &Action,
) {
    let analysis: Analysis = cavra_shell::analyze(line);
    ex.sub_commands = analysis
        .commands
        .iter()
        .filter(|c| !c.argv.is_empty() && !c.wrapper)
        .map(SimpleCommand::line)
        .collect();
    ex.analysis_issues = analysis.issues.iter().map(Issue::describe).collect();
    // A git command that may change the checked-out branch makes the
    // action's branch unknown for every push on the line
    // (`git checkout main && git push`).
    let switches = analysis.commands.iter().any(|c| {
        c.argv.first().map(String::as_str) == Some("git")
            && git::subcommand(&c.argv).is_some_and(|(sub, args)| match sub {
                "checkout" | "switch" | "worktree" | "symbolic-ref" | "rebase" | "stash" => true,
                "branch" => args.iter().any(|a| {
                    a.starts_with('-')
                        && !a.starts_with("--")
                        && a.contains(['m', 'M', 'c', 'C', 'u'])
                        || matches!(a.as_str(), "--move" | "--copy" | "--set-upstream-to")
                        || a.starts_with("--set-upstream-to=")
                }),
                "update-ref" => args.iter().any(|a| a == "HEAD"),
                _ => false,
            })
    });
    let unknown_branch;
    let action = if switches && action.branch.is_some() {
        unknown_branch = Action {
            branch: None,
            ..action.clone()
        };
        &unknown_branch
    } else {
        action
    };
    for cmd in &analysis.commands {
        eval_simple(policy, hits, cmd, action);
    }
    // Pipeline patterns.
    for (k, stages) in analysis.pipelines.iter().enumerate() {
        // A stage reading `/dev/fd/N` (`bash <(curl …)`) reads the stream:
        // it is matched as if the stream came on standard input.
        let stream = |a: &String| a.starts_with("/dev/fd/");
        let argv_of = |i: &usize| -> Option<std::borrow::Cow<'_, [String]>> {
            let c = analysis.commands.get(*i)?;
            Some(if c.argv.iter().any(stream) {
                c.argv.iter().filter(|a| !stream(a)).cloned().collect()
            } else {
                std::borrow::Cow::Borrowed(c.argv.as_slice())
            })
        };
        let members: Vec<Vec<std::borrow::Cow<'_, [String]>>> =
            match analysis.pipeline_members.get(k) {
                Some(m) => m
                    .iter()
                    .map(|stage| stage.iter().filter_map(argv_of).collect())
                    .collect(),
                None => stages
                    .iter()
                    .map(|i| argv_of(i).into_iter().collect())
                    .collect(),
            };
        let sets: Vec<Vec<&[String]>> = members
            .iter()
            .map(|stage| stage.iter().map(AsRef::as_ref).collect())
            .collect();
        // Any shell reading its script from standard input as `sh`.
        let other_shell = sets
            .iter()
            .flatten()
            .any(|c| cavra_shell::shell_reads_stdin(c) && *c != ["sh"]);
        let subject: Vec<String> = sets
            .iter()
            .filter_map(|s| s.first().map(|a| a.join(" ")))
            .collect();
        let subject = subject.join(" | ");
        for (list, rule, decision) in [
            (&policy.cmd.block, "commands.block", Outcome::Block),
            (
                &policy.cmd.require_approval,
                "commands.require_approval",
                Outcome::RequireApproval,
            ),
            (&policy.cmd.warn, "commands.warn", Outcome::Warn),
        ] {
            if let Some(p) = list
                .iter()
                .find(|p| p.is_pipeline() && p.matches_stages(&sets, false))
                .or_else(|| {
                    list.iter()
                        .find(|p| other_shell && p.is_pipeline() && p.matches_stages(&sets, true))
                })
            {
                let sev = if decision == Outcome::Block {
                    Severity::High
                } else {
                    Severity::Medium
                };
                hits.add(
                    rule,
                    decision,
                    sev,
                    Some(&p.raw),
                    &subject,
                    format!(
                        "Matched {} command policy: {}",
                        policy_word(decision),
                        p.raw
                    ),
                    None,
                );
            }
        }
    }
    for issue in &analysis.issues {
        let (kind, decision) = match issue {
            Issue::Unparseable { .. } => ("unparseable", Outcome::Block),
            Issue::TooLong { .. } => ("too_long", Outcome::Block),
            Issue::TooDeep { .. } => ("too_deep", Outcome::Block),
            Issue::TooManyCommands { .. } => ("too_many_commands", Outcome::Block),
            Issue::RecursionLimit { .. } => ("recursion_limit", Outcome::Block),
            Issue::NonLiteralCommand { .. } => ("non_literal_command", Outcome::RequireApproval),
            Issue::UnknownScript { .. } => ("unknown_script", Outcome::RequireApproval),
            Issue::Opaque { .. } => ("opaque", Outcome::RequireApproval),
        };
        hits.add(
            format!("commands.analysis.{kind}"),
            decision,
            Severity::High,
            None,
            line,
            format!("Command analysis: {}.", issue.describe()),
            None,
        );
    }
    if analysis.commands.is_empty() && analysis.issues.is_empty() {
        // Only tests, arithmetic and assignments (`[[ -f package.json ]]`,
        // `x=1`) run no program; a blank or comment-only line is no input.
        let blank = line
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'));
        if blank {
            hits.add(
                "input.invalid",
                Outcome::Block,
                Severity::High,
                None,
                line,
                "The command line contains no command.",
                None,
            );
        } else {
            hits.add(
                "commands.no_program",
                Outcome::Allow,
                Severity::Low,
                None,
                line,
                "The line runs no program: only tests, arithmetic or assignments.",
                None,
            );
        }
    }
    // Matched per command as the analysis sees it (quotes removed,
    // comments dropped), not against the raw line: `pr''od` is `prod`,
    // and `# prod-sandbox` is no exception.
    for cmd in analysis.commands.iter().filter(|c| !c.argv.is_empty()) {
        let l = cmd.line();
        let _ = star_rules(policy, &l, &l, hits, star_restricts);
    }
}

fn policy_word(d: Outcome) -> &'static str {
    match d {
        Outcome::Block => "blocked",
        Outcome::RequireApproval => "approval-required",
        Outcome::Warn => "warned",
        _ => "allowed",
    }
}

const UNTRUSTED: &str = "commands.untrusted_program";

/// The permissive pattern of `list` that matches `cmd` and vouches for
/// its program. A pattern vouches for a program by its name only when the
/// name is looked up in the system directories
/// ([`SimpleCommand::trusted_name`]); a program run from elsewhere
/// (`./gradlew`, `/tmp/x/ls`) needs a pattern that writes that very path,
/// and none does after `PATH`, `hash -p` or `alias` changed what names
/// run. A pattern that matches without vouching is recorded in `own` as
/// [`UNTRUSTED`], which needs review and leaves the pack default in force.
fn permitted<'p>(
    list: &'p [crate::pattern::CommandPattern],
    cmd: &SimpleCommand,
    matches: &dyn Fn(&crate::pattern::CommandPattern) -> bool,
    own: &mut Hits,
    line: &str,
) -> Option<&'p crate::pattern::CommandPattern> {
    let vouches = |p: &crate::pattern::CommandPattern| {
        cmd.trusted_name() || (!cmd.lookup_changed && p.names_program_path(&cmd.program))
    };
    if let Some(p) = list.iter().find(|p| matches(p) && vouches(p)) {
        return Some(p);
    }
    if let Some(p) = list.iter().find(|p| matches(p)) {
        own.add(
            UNTRUSTED,
            Outcome::RequireApproval,
            Severity::High,
            Some(&p.raw),
            line,
            format!(
                "`{}` may not be the program `{}` names (run from a path outside the system directories, or after PATH, hash -p or alias changed lookup); review required.",
                cmd.program, p.raw
            ),
            Some("Repository Owners".into()),
        );
    }
    None
}

/// The files `cmd` reads or writes, and the protected paths given to a
/// program CAVRA does not model.
fn eval_files(policy: &CompiledPolicy, own: &mut Hits, cmd: &SimpleCommand, action: &Action) {
    // Files the command reads or writes.
    for fa in cavra_shell::file_accesses(cmd) {
        if !fa.literal {
            let m = mode_name(fa.mode);
            own.add(
                format!("filesystem.{m}.dynamic_operand"),
                Outcome::RequireApproval,
                Severity::Medium,
                None,
                &fa.path,
                format!(
                    "`{}` {m}s a path that is not statically known: `{}`.",
                    if fa.via == "redirect" {
                        "A redirection"
                    } else {
                        fa.via.as_str()
                    },
                    fa.path
                ),
                None,
            );
            // Only the directory an earlier `cd` went to is unknown (`cd
            // "$D" && cat id_rsa`): a pattern that matches the rest of the
            // path below any directory still blocks it.
            if !fa.glob && fa.path.starts_with(cavra_shell::UNKNOWN_CWD) {
                let mut below = Hits::default();
                eval_path(policy, &mut below, fa.mode, &fa.path, action, true);
                own.v
                    .extend(below.v.into_iter().filter(|m| m.decision == Outcome::Block));
            }
            continue;
        }
        if fa.filter {
            eval_search_filter(policy, own, fa.mode, &fa.path, action);
            continue;
        }
        if fa.glob {
            eval_glob_operand(policy, own, fa.mode, &fa.path, action);
            if fa.tree {
                // `rm -rf inf*` acts on everything below what the glob names.
                let below = format!("{}/**", fa.path.trim_end_matches('/'));
                eval_glob_operand(policy, own, fa.mode, &below, action);
            }
            continue;
        }
        let path = eval_path(policy, own, fa.mode, &fa.path, action, true);
        if let Some(dir) = path.filter(|_| fa.tree) {
            eval_tree(policy, own, fa.mode, &dir, &fa.via);
        }
    }
    // A program CAVRA does not model, given a protected read path
    // (`python3 upload.py .env`, `date -f .env`): it may read it. Given a
    // path no agent may write (`terraform plan -out=.github/workflows/ci.yml`,
    // `go build -o .claude/settings.json`): it may write it.
    let words = cavra_shell::unmodelled_path_words(cmd);
    // Only for programs CAVRA does not model (those have path words).
    let outputs = if words.is_empty() {
        Vec::new()
    } else {
        output_values(cmd)
    };
    for word in &outputs {
        // The value as a file, and as a directory written into
        // (`--outDir .github/workflows`, `--target-dir .cavra`).
        let mut probe = Hits::default();
        let inside = format!("{}/cavra-probe", word.trim_end_matches('/'));
        for p in [word.as_str(), inside.as_str()] {
            let _ = eval_path(policy, &mut probe, FileMode::Write, p, action, true);
        }
        if let Some(m) = probe.v.iter().find(|m| m.decision == Outcome::Block) {
            own.add(
                "filesystem.write.unmodelled_operand",
                Outcome::RequireApproval,
                Severity::High,
                m.pattern.as_deref(),
                &m.subject,
                format!(
                    "`{}` is given `{word}`, which no agent may write ({}); CAVRA does not know whether it writes it.",
                    cmd.name(),
                    m.rule_id
                ),
                Some("Platform Security".into()),
            );
            break;
        }
    }
    for word in words {
        let Ok(path) = normalize_for(action, &word) else {
            continue;
        };
        let hit = policy
            .fs
            .block_read
            .first_match(&path)
            .or_else(|| policy.fs.approve_read.first_match(&path));
        if let Some(p) = hit {
            own.add(
            "filesystem.read.unmodelled_operand",
            Outcome::RequireApproval,
            Severity::High,
            Some(p),
            &path.display,
            format!(
                "`{}` is given `{word}`, which matches `{p}`; CAVRA does not know whether it reads it.",
                cmd.name()
            ),
            Some("Platform Security".into()),
        );
            break;
        }
    }
}

/// The values of a command's output-like options (`-o X`, `-out=X`,
/// `--outDir X`, `--target-dir=X`, `-coverprofile=X`, `--logfile X`), for
/// a program CAVRA does not model: where it may write. Other words are
/// not probed as writes (`pytest -k phi`, `terraform fmt modules/`).
fn output_values(cmd: &SimpleCommand) -> Vec<String> {
    let outputish = |name: &str| {
        let n = name.trim_start_matches('-').to_ascii_lowercase();
        n == "o"
            || n.starts_with("out")
            || n.ends_with("out")
            || n.contains("target-dir")
            || n.contains("profile")
            || n.contains("logfile")
            || n.contains("log-file")
            || n.starts_with("dest")
            || n.contains("output")
    };
    let mut out = Vec::new();
    let mut words = cmd.argv.iter().skip(1).peekable();
    while let Some(w) = words.next() {
        if !w.starts_with('-') || w == "-" || w == "--" {
            continue;
        }
        match w.split_once('=') {
            Some((name, value)) if outputish(name) && !value.is_empty() => {
                out.push(value.to_string());
            }
            None if outputish(w) => {
                if let Some(v) = words.peek().filter(|v| !v.starts_with('-')) {
                    out.push((*v).clone());
                }
            }
            _ => {}
        }
    }
    out
}

/// Programs whose options can run code, delete, write or push elsewhere,
/// so an argument not known here (it may be an option) needs approval.
const OPTION_SENSITIVE: &[&str] = &[
    "git",
    "find",
    "tar",
    "rsync",
    "sed",
    "xargs",
    "curl",
    "wget",
    "make",
    "go",
    "cargo",
    "npm",
    "terraform",
    "tofu",
    "kubectl",
    "helm",
    "docker",
];

fn eval_simple(policy: &CompiledPolicy, hits: &mut Hits, cmd: &SimpleCommand, action: &Action) {
    let mut own = Hits::default();
    // A wrapper run from outside the system directories (`./nohup ls`)
    // may be any program: it is judged as an ordinary command.
    let wrapper = cmd.wrapper && cmd.trusted_name();
    let line = cmd.line();
    if !cmd.argv.is_empty() {
        let argv = &cmd.argv;
        // `git -c k=v -C dir log` is matched both as written and as
        // `git log` (`terraform -chdir=DIR plan` as `terraform plan`), so
        // global options neither dodge a rule nor need one.
        let canonical = crate::globals::canonical_form(argv);
        let matches = |p: &crate::pattern::CommandPattern| {
            p.matches_argv(argv) || canonical.as_ref().is_some_and(|c| p.matches_argv(c))
        };
        let allows = |p: &crate::pattern::CommandPattern| p.names_whole_program(argv) && matches(p);
        // Block, approval and warn rules also match the line without the
        // tool's global options (`terraform -chdir=infra apply`); allow
        // rules only as written ([`crate::globals`]).
        let globals = crate::globals::without_globals(argv);
        // Restrictive rules also match without regard to case: programs
        // such as kubectl fold resource names (`get SECRETS` is `get
        // secrets`), and a respelling may only tighten a decision.
        let lower = |v: &[String]| -> Vec<String> { v.iter().map(|a| a.to_lowercase()).collect() };
        let lowered: Vec<Vec<String>> = if argv.iter().any(|a| a.chars().any(char::is_uppercase)) {
            std::iter::once(argv.as_slice())
                .chain(canonical.as_deref())
                .chain(globals.iter().map(Vec::as_slice))
                .map(lower)
                .collect()
        } else {
            Vec::new()
        };
        let restricts = |p: &&crate::pattern::CommandPattern| {
            matches(p)
                || globals.iter().any(|g| p.matches_argv(g))
                || lowered.iter().any(|l| p.matches_argv(l))
        };
        // Restrictive rules also match the options in any spelling
        // (`rm -Rf /`, `rm -r -f -- /` are `rm -rf /`); allow rules only as
        // written.
        let form = crate::pattern::OptionForm::of(argv);
        let by_options = |p: &&crate::pattern::CommandPattern| {
            form.as_ref().is_some_and(|f| p.matches_options(f))
        };
        for (list, rule, decision) in [
            (&policy.cmd.block, "commands.block", Outcome::Block),
            (
                &policy.cmd.require_approval,
                "commands.require_approval",
                Outcome::RequireApproval,
            ),
            (&policy.cmd.warn, "commands.warn", Outcome::Warn),
            (&policy.cmd.allow, "commands.allow", Outcome::Allow),
        ] {
            if wrapper && decision == Outcome::Allow {
                continue;
            }
            // A pattern matching as written is named before one matching
            // only by the options' meaning.
            let found = if decision == Outcome::Allow {
                permitted(list, cmd, &allows, &mut own, &line)
            } else {
                list.iter()
                    .find(restricts)
                    .or_else(|| list.iter().find(by_options))
            };
            if let Some(p) = found {
                let sev = match decision {
                    Outcome::Block => block_severity(argv),
                    Outcome::RequireApproval => Severity::High,
                    Outcome::Warn => Severity::Medium,
                    _ => Severity::Low,
                };
                let group =
                    (decision == Outcome::RequireApproval).then(|| "Repository Owners".to_string());
                own.add(
                    rule,
                    decision,
                    sev,
                    Some(&p.raw),
                    &line,
                    format!(
                        "Matched {} command policy: {}",
                        policy_word(decision),
                        p.raw
                    ),
                    group,
                );
            }
        }
        for r in &policy.rules {
            if !matches!(r.action, Some(ActionType::ExecuteCommand)) {
                continue;
            }
            let Matcher::Commands(pats) = &r.matcher else {
                continue;
            };
            let restrictive = matches!(
                r.decision,
                Outcome::Block | Outcome::RequireApproval | Outcome::Warn
            );
            if wrapper && !restrictive {
                continue;
            }
            let found = if restrictive {
                pats.iter()
                    .find(restricts)
                    .or_else(|| pats.iter().find(by_options))
            } else {
                permitted(pats, cmd, &allows, &mut own, &line)
            };
            let Some(p) = found else {
                continue;
            };
            // An exception narrows a restriction only as written, but
            // narrows an allow however the command is spelled: an allow
            // rule's `unless: [terraform apply*]` holds for
            // `terraform -chdir=x apply` and `git -C . push` alike.
            if let Some(Matcher::Commands(u)) = &r.unless {
                let excepted = if restrictive {
                    u.iter().any(|p| p.matches_argv(argv))
                } else {
                    u.iter().any(|p| restricts(&p) || by_options(&p))
                };
                if excepted {
                    continue;
                }
            }
            own.rule(r, &line, Some(&p.raw), Severity::Low);
        }
        // An argument not known here may be an option, and these programs
        // have options that change what they do (`find / ${x:--delete}`,
        // `git push ${x:---mirror}`, `git fetch "${x:---upload-pack=…}"`):
        // matched as text, `${x}` would pass for a harmless operand.
        // Any word holding an expansion counts (`HEAD:${B:-main}`,
        // `-${x:-delete}`), and so do the words `xargs` appends. The rule id
        // is outside `commands.`, so the pack default still applies (a
        // pack whose commands default to block keeps blocking).
        // A commit message stays text however it expands, when it stays
        // one word (`git commit -m "$(cat <<'EOF' … EOF)"`, as Claude Code
        // writes it; not `-m $MSG`, which may split into options).
        let messages = if cmd.dynamic_args && cmd.name() == "git" {
            crate::git::commit_message_words(argv)
        } else {
            Vec::new()
        };
        let text_only =
            |i: usize| messages.contains(&i) && cmd.single_words.get(i).copied().unwrap_or(false);
        if !wrapper
            && cmd.dynamic_args
            && OPTION_SENSITIVE.contains(&cmd.name())
            && (argv
                .iter()
                .enumerate()
                .skip(1)
                .any(|(i, a)| a.contains(['$', '`']) && !text_only(i))
                || cmd.via.iter().any(|v| v == "xargs"))
        {
            own.add(
                "arguments.dynamic",
                Outcome::RequireApproval,
                Severity::Medium,
                None,
                &line,
                format!(
                    "An argument of `{}` is not known here and may be an option that changes what it does.",
                    cmd.name()
                ),
                Some("Repository Owners".into()),
            );
        }
        if !wrapper
            && argv.first().map(String::as_str) == Some("git")
            && let Some(("push", args)) = git::subcommand(argv)
        {
            let push = git::parse_push_args(args);
            // The action's branch is the checkout's at the line's start: a
            // push after `cd`, or naming another repository (`-C`,
            // `--git-dir`, `--work-tree`), may be from another branch.
            let elsewhere = !cmd.cwd.is_empty()
                || cmd.cwd_unknown
                || argv
                    .iter()
                    .skip(1)
                    .take(argv.len().saturating_sub(args.len() + 2))
                    .any(|a| {
                        a == "-C" || a.starts_with("--git-dir") || a.starts_with("--work-tree")
                    });
            let branch = action.branch.as_deref().filter(|_| !elsewhere);
            eval_push(policy, &mut own, &push, &line, branch);
        }
        if !wrapper
            && argv.first().map(String::as_str) == Some("git")
            && let Some(location) = git::fetch_location(argv)
        {
            own.add(
                "git.fetch.location",
                Outcome::RequireApproval,
                Severity::High,
                None,
                &line,
                format!(
                    "`{location}` is not a configured remote: what this brings in (hook settings, CI workflows, policies) comes from anywhere."
                ),
                Some("Repository Owners".into()),
            );
        }
        // A finding that an allow rule does not apply to an untrusted
        // program leaves the pack default in force.
        let has_command_rule = own.v.iter().any(|m| {
            (m.rule_id.starts_with("commands.") && m.rule_id != UNTRUSTED)
                || policy.rules.iter().any(|r| r.id == m.rule_id)
        });
        if !has_command_rule && !cmd.speculative && !wrapper {
            let d = policy.cmd.default;
            let sev = match d {
                Outcome::Block => Severity::High,
                Outcome::Allow | Outcome::AllowWithAttestation => Severity::Low,
                _ => Severity::Medium,
            };
            let group = (d == Outcome::RequireApproval).then(|| "Repository Owners".to_string());
            let reason = if d == Outcome::RequireApproval {
                "No allow rule matched; review required.".to_string()
            } else {
                format!("No command rule matched; the pack default is {d}.")
            };
            own.add(
                format!("commands.default.{d}"),
                d,
                sev,
                None,
                &line,
                reason,
                group,
            );
        }
    }
    // A wrapper is judged by its command rules only: what it runs, and the
    // files that touches, are judged as commands of their own.
    if !wrapper {
        eval_files(policy, &mut own, cmd, action);
    }
    if cmd.argv.is_empty() && own.v.is_empty() {
        own.add(
            "commands.redirect.allow",
            Outcome::Allow,
            Severity::Low,
            None,
            &line,
            "Redirection to an unrestricted path.",
            None,
        );
    }
    if cmd.speculative {
        // Commands found in code of another language may or may not run:
        // anything the pack gates needs approval at least.
        for m in &mut own.v {
            if matches!(m.decision, Outcome::Block | Outcome::RequireApproval) {
                m.decision = Outcome::RequireApproval;
                m.reason = format!("Inline code may run `{line}`: {}", m.reason);
            }
        }
        own.v.retain(|m| m.decision == Outcome::RequireApproval);
    }
    hits.attest |= own.attest;
    if own.evidence_level.is_some() {
        hits.evidence_level = own.evidence_level;
    }
    hits.v.extend(own.v);
}

/// Whether pushing `branch` may update a protected branch. A destination
/// with `*` (`refs/heads/*`, `refs/heads/m*`, the matching refspec `:`)
/// updates every branch it matches, so it is protected when it and a
/// protected pattern can name the same branch.
fn is_protected(policy: &CompiledPolicy, branch: &str) -> bool {
    policy.git.protected_branches.iter().any(|p| {
        wildcard(p, branch) || (branch.contains('*') && (wildcard(branch, p) || p.contains('*')))
    })
}

/// Git operations that change no remote branch: evaluated as allowed.
/// Anything else that is not a push is not understood and needs review.
const LOCAL_GIT_OPERATIONS: &[&str] = &[
    "fetch",
    "pull",
    "clone",
    "status",
    "log",
    "diff",
    "show",
    "commit",
    "add",
    "checkout",
    "switch",
    "branch",
    "merge",
    "rebase",
    "tag",
    "stash",
    "init",
    "blame",
    "grep",
    "ls-files",
    "rev-parse",
    "describe",
    "shortlog",
    "remote",
    "restore",
    "cherry-pick",
    "revert",
];

fn eval_git_operation(
    policy: &CompiledPolicy,
    hits: &mut Hits,
    operation: &str,
    target: &str,
    action: &Action,
) {
    // `force-push`, `push --force`, `push_delete`…: a push, with the
    // flags the operation names.
    let words: Vec<&str> = operation
        .split(|c: char| c.is_whitespace() || c == '-' || c == '_')
        .filter(|w| !w.is_empty())
        .collect();
    let is_push = words.contains(&"push") || words == ["delete"];
    if is_push {
        let force = words.iter().any(|w| matches!(*w, "force" | "f"));
        let delete = words.contains(&"delete");
        if target.contains(['$', '`']) {
            hits.add(
                "git.push.unknown_destination",
                Outcome::RequireApproval,
                Severity::Medium,
                None,
                target,
                "The push destination is not statically known.",
                Some("Repository Owners".into()),
            );
            return;
        }
        let mut push = git::parse_target(target);
        push.force |= force;
        for u in &mut push.updates {
            u.force |= force;
            u.delete |= delete;
        }
        eval_push(policy, hits, &push, target, action.branch.as_deref());
    } else if !LOCAL_GIT_OPERATIONS.contains(&operation) {
        hits.add(
            "git.operation.unknown",
            Outcome::RequireApproval,
            Severity::Medium,
            None,
            target,
            format!("Git operation `{operation}` is not one CAVRA knows; review required."),
            Some("Repository Owners".into()),
        );
    } else {
        hits.add(
            "git.allow",
            Outcome::Allow,
            Severity::Low,
            None,
            target,
            format!("Git operation `{operation}` is not restricted."),
            None,
        );
    }
    rules_of(policy, &ActionType::GitOperation, target, hits);
}

/// A push whose destination branch is not known here: review.
fn unknown_destination(hits: &mut Hits, subject: &str, why: &str) {
    hits.add(
        "git.push.unknown_destination",
        Outcome::RequireApproval,
        Severity::Medium,
        None,
        subject,
        why,
        Some("Repository Owners".into()),
    );
}

fn eval_push(
    policy: &CompiledPolicy,
    hits: &mut Hits,
    push: &Push,
    subject: &str,
    current_branch: Option<&str>,
) {
    let g = &policy.git;
    let before = hits.v.len();
    if push.all_branches {
        let what = if push.mirror { "--mirror" } else { "--all" };
        hits.add(
            "git.protected_branch.block_bulk_push",
            Outcome::Block,
            Severity::Critical,
            None,
            subject,
            format!("`git push {what}` updates every branch, protected ones included."),
            None,
        );
        return;
    }
    let mut updates = push.updates.clone();
    if push.implicit {
        match current_branch {
            Some(b) => updates.push(git::RefUpdate {
                branch: b.to_string(),
                force: push.force,
                delete: false,
                tag: false,
            }),
            None => {
                unknown_destination(
                    hits,
                    subject,
                    "The push names no branch and the current branch is unknown.",
                );
                return;
            }
        }
    }
    for u in &updates {
        let b = u.branch.as_str();
        if b.is_empty() {
            unknown_destination(hits, subject, "The push names an empty branch.");
            continue;
        }
        if u.tag {
            hits.add(
                "git.push.tag",
                Outcome::Allow,
                Severity::Low,
                None,
                b,
                "Pushing tags is not restricted.",
                None,
            );
            continue;
        }
        // `HEAD` is the current branch: when that is not known, review.
        if b == "HEAD" && current_branch.is_none() && !u.delete && !u.force {
            unknown_destination(
                hits,
                subject,
                "The push names HEAD and the current branch is unknown.",
            );
            continue;
        }
        let protected = b == "HEAD" && current_branch.is_none_or(|c| is_protected(policy, c))
            || is_protected(policy, b);
        if protected {
            if u.delete {
                hits.add(
                    "git.protected_branch.block_delete",
                    Outcome::Block,
                    Severity::Critical,
                    None,
                    b,
                    format!("Deleting protected branch `{b}` is prohibited."),
                    None,
                );
            } else if u.force {
                hits.add(
                    "git.protected_branch.block_force_push",
                    Outcome::Block,
                    Severity::Critical,
                    None,
                    b,
                    format!("Force push to protected branch `{b}` is prohibited."),
                    None,
                );
            } else if g.block_direct_push {
                hits.add(
                    "git.protected_branch.block_direct_push",
                    Outcome::Block,
                    Severity::High,
                    None,
                    b,
                    "Direct push to protected branch is prohibited.",
                    None,
                );
            } else if g.require_pull_request {
                hits.add(
                    "git.protected_branch.require_pull_request",
                    Outcome::RequireApproval,
                    Severity::Medium,
                    None,
                    b,
                    format!("Changes to protected branch `{b}` go through a pull request."),
                    Some("Repository Owners".into()),
                );
            } else {
                hits.add(
                    "git.protected_branch.allow",
                    Outcome::Allow,
                    Severity::Low,
                    None,
                    b,
                    "The pack allows direct pushes to protected branches.",
                    None,
                );
            }
        } else if u.force {
            if g.block_force_push {
                hits.add(
                    "git.force_push.block",
                    Outcome::Block,
                    Severity::High,
                    None,
                    b,
                    format!("Force push to `{b}` is prohibited by this pack."),
                    None,
                );
            } else {
                hits.add(
                    "git.force_push.warn",
                    Outcome::Warn,
                    Severity::Medium,
                    None,
                    b,
                    format!("Force push to unprotected branch `{b}` rewrites history."),
                    None,
                );
            }
        } else if u.delete {
            hits.add(
                "git.branch_delete.warn",
                Outcome::Warn,
                Severity::Medium,
                None,
                b,
                format!("Deleting branch `{b}`."),
                None,
            );
        } else {
            hits.add(
                "git.allow",
                Outcome::Allow,
                Severity::Low,
                None,
                b,
                format!("Push to unprotected branch `{b}`."),
                None,
            );
        }
        for r in &policy.rules {
            if matches!(r.action, Some(ActionType::GitOperation))
                && let Matcher::Resources(globs) = &r.matcher
                && let Some(p) = globs.iter().find(|p| wildcard(p, b))
            {
                hits.rule(r, b, Some(p), Severity::Low);
            }
        }
    }
    if hits.v.len() == before {
        unknown_destination(
            hits,
            subject,
            "The push destination could not be determined.",
        );
    }
}

/// Pull request operations that change nothing a reviewer guards.
const PR_OPERATIONS: &[&str] = &[
    "create",
    "open",
    "update",
    "edit",
    "comment",
    "draft",
    "ready",
    "label",
    "assign",
    "request_review",
    "close",
    "reopen",
    "view",
    "list",
];

fn eval_pull_request(policy: &CompiledPolicy, hits: &mut Hits, operation: &str, target: &str) {
    let g = &policy.git;
    // Operations are matched in any case and spelling: `MERGE`,
    // `squash-merge` and `auto-merge` merge; one not known here (`approve`,
    // `delete`) needs review rather than passing as a `create`.
    let op = operation.trim().to_lowercase();
    let merge = op.contains("merge");
    if !merge && !PR_OPERATIONS.contains(&op.as_str()) {
        hits.add(
            "git.pull_request.unknown_operation",
            Outcome::RequireApproval,
            Severity::Medium,
            None,
            target,
            format!(
                "Pull request operation `{operation}` is not one CAVRA knows; review required."
            ),
            Some("Repository Owners".into()),
        );
    }
    if merge && g.require_human_reviewer {
        hits.add(
            "git.pull_request.require_human_reviewer",
            Outcome::RequireApproval,
            Severity::Medium,
            None,
            target,
            "Merging a pull request requires a human reviewer.",
            Some("Repository Owners".into()),
        );
    }
    let attest = policy
        .require_pr_attestation
        .unwrap_or(g.require_ai_attestation);
    if attest {
        hits.add(
            "git.pull_request.allow_with_attestation",
            Outcome::AllowWithAttestation,
            Severity::Medium,
            None,
            target,
            "Pull requests are allowed with an AI attestation.",
            None,
        );
    } else {
        hits.add(
            "git.pull_request.allow",
            Outcome::Allow,
            Severity::Low,
            None,
            target,
            "Pull requests are allowed.",
            None,
        );
    }
    rules_of(policy, &ActionType::PullRequest, target, hits);
}

/// The entry of a per-server map that applies to `server`: its own key,
/// else the matching glob with the most literal characters (`github-*`
/// before `*`), the first of equals. Map order alone let `*`, which sorts
/// first, shadow every server's own entry.
fn per_server<'m, V>(
    map: &'m std::collections::BTreeMap<String, V>,
    server: &str,
) -> Option<&'m V> {
    if let Some(v) = map.get(server) {
        return Some(v);
    }
    let literal = |k: &str| k.chars().filter(|c| !matches!(c, '*' | '?')).count();
    let mut best: Option<(usize, &V)> = None;
    for (k, v) in map {
        if wildcard(k, server) && best.is_none_or(|(n, _)| literal(k) > n) {
            best = Some((literal(k), v));
        }
    }
    best.map(|(_, v)| v)
}

fn in_list(list: &[String], server: &str) -> bool {
    list.iter().any(|s| wildcard(s, server))
}

/// [`wildcard`] without regard to case, for lists that block or gate: a
/// server or tool spelt `Delete_Repo` is the one the list names, and so is
/// an argument `PASSWORD`.
fn wildcard_folded(pat: &str, text: &str) -> bool {
    wildcard(&pat.to_lowercase(), &text.to_lowercase())
}

/// [`in_list`] without regard to case.
fn in_list_folded(list: &[String], server: &str) -> bool {
    list.iter().any(|s| wildcard_folded(s, server))
}

fn eval_mcp(
    policy: &CompiledPolicy,
    hits: &mut Hits,
    server: &str,
    tool: &str,
    action: &Action,
    ctx: &EvalContext<'_>,
) {
    let m = &policy.mcp;
    let subject = format!("{server}:{tool}");
    if server.is_empty() {
        hits.add(
            "input.invalid",
            Outcome::Block,
            Severity::High,
            None,
            &subject,
            "The MCP call names no server.",
            None,
        );
        return;
    }
    let capability = action.capability.as_deref();
    if in_list_folded(&m.blocked_servers, server) {
        hits.add(
            "mcp.server.blocked",
            Outcome::Block,
            Severity::High,
            None,
            &subject,
            format!("MCP server `{server}` is blocked by policy."),
            None,
        );
    }
    for (srv, tools) in &m.blocked_tools {
        if wildcard_folded(srv, server)
            && let Some(t) = tools.iter().find(|t| wildcard_folded(t, tool))
        {
            hits.add(
                "mcp.tool.blocked",
                Outcome::Block,
                Severity::High,
                Some(t),
                &subject,
                format!("Tool `{tool}` of `{server}` is blocked by policy."),
                None,
            );
        }
    }
    for (rule, paths) in &m.argument_rules {
        // A rule that blocks or gates matches names and values in any case
        // and any element of an array (`{"paths": [".env"]}`); one that
        // allows matches as written, and only when every value does.
        let restrictive = !matches!(
            rule.decision,
            Outcome::Allow | Outcome::AllowWithAttestation
        );
        let names = |p: &str, t: &str| {
            if restrictive {
                wildcard_folded(p, t)
            } else {
                wildcard(p, t)
            }
        };
        if !names(&rule.server, server) || !names(&rule.tool, tool) {
            continue;
        }
        let values = argument_values(action.arguments.as_ref(), &rule.argument);
        let one = |value: &str| match paths {
            Some(pp) => normalize_for(action, value)
                .ok()
                .and_then(|n| pp.first_match(&n).map(str::to_string)),
            None => rule.patterns.iter().find(|p| names(p, value)).cloned(),
        };
        let matched = if restrictive {
            values.iter().find_map(|v| one(v))
        } else {
            let each: Vec<Option<String>> = values.iter().map(|v| one(v)).collect();
            if each.iter().all(Option::is_some) {
                each.into_iter().flatten().next()
            } else {
                None
            }
        };
        if let Some(p) = matched {
            let sev = rule.severity.unwrap_or(if rule.decision == Outcome::Block {
                Severity::High
            } else {
                Severity::Medium
            });
            let reason = rule.reason.clone().unwrap_or_else(|| {
                format!("Argument `{}` of `{tool}` matched `{p}`.", rule.argument)
            });
            hits.add(
                format!("mcp.argument.{}", rule.id),
                rule.decision,
                sev,
                Some(&p),
                &subject,
                reason,
                None,
            );
        }
    }
    let gov = Some("AI Governance".to_string());
    if let Some(records) = ctx.registry {
        let r = registry_ladder(records, server, tool, capability);
        hits.add(
            r.rule_id,
            r.decision,
            r.severity,
            None,
            &subject,
            r.reason,
            r.approver_group,
        );
        // The registry vets servers; what the pack says of a server it
        // lists (approval, tool and capability scope, a critical score)
        // still holds.
        if in_list(&m.allowed_servers, server) || in_list(&m.approval_required_servers, server) {
            listed_server_limits(m, hits, server, tool, capability, &subject);
        }
    } else if !m.allowlist_enabled {
        if !in_list(&m.blocked_servers, server) {
            hits.add(
                "mcp.server.allowlist_disabled.warn",
                Outcome::Warn,
                Severity::Medium,
                None,
                &subject,
                format!("The MCP allowlist is disabled; `{server}` is not vetted."),
                None,
            );
        }
    } else if in_list(&m.allowed_servers, server) || in_list(&m.approval_required_servers, server) {
        let risk = listed_server_limits(m, hits, server, tool, capability, &subject);
        hits.add(
            "mcp.server.trust.allow",
            Outcome::Allow,
            risk.unwrap_or(Severity::Low),
            None,
            &subject,
            format!("MCP server `{server}` is trusted by policy."),
            None,
        );
    } else if m.block_unknown_servers {
        hits.add(
            "mcp.server.trust.block_unknown",
            Outcome::Block,
            Severity::High,
            None,
            &subject,
            "Untrusted MCP server with filesystem/tool capability is not approved.",
            None,
        );
    } else {
        hits.add(
            "mcp.server.trust.unknown.require_approval",
            Outcome::RequireApproval,
            Severity::Medium,
            None,
            &subject,
            format!("MCP server `{server}` is not on the allowlist; approval required."),
            gov,
        );
    }
    for r in &policy.rules {
        if matches!(r.action, Some(ActionType::McpToolCall))
            && let Matcher::Resources(globs) = &r.matcher
            && let Some(p) = globs.iter().find(|p| wildcard(p, &subject))
        {
            let excepted = matches!(&r.unless, Some(Matcher::Resources(u)) if u.iter().any(|g| wildcard(g, &subject)));
            if !excepted {
                hits.rule(r, &subject, Some(p), Severity::Low);
            }
        }
    }
    let _ = star_rules(policy, &subject, &subject, hits, star_restricts);
}

/// The limits a pack puts on a server it lists: approval for the server,
/// its tool and capability scopes, a critical risk score. Returns the
/// server's score.
fn listed_server_limits(
    m: &crate::compile::McpRules,
    hits: &mut Hits,
    server: &str,
    tool: &str,
    capability: Option<&str>,
    subject: &str,
) -> Option<Severity> {
    let gov = Some("AI Governance".to_string());
    if in_list(&m.approval_required_servers, server) {
        hits.add(
            "mcp.server.approval_required",
            Outcome::RequireApproval,
            Severity::Medium,
            None,
            subject,
            format!("Calls to MCP server `{server}` require approval."),
            gov.clone(),
        );
    }
    if let Some(tools) = per_server(&m.allowed_tools, server)
        && !tools.is_empty()
        && !tools.iter().any(|t| wildcard(t, tool))
    {
        hits.add(
            "mcp.tool_scope",
            Outcome::RequireApproval,
            Severity::Medium,
            None,
            subject,
            format!("Tool `{tool}` is outside the tools allowed for `{server}`."),
            gov.clone(),
        );
    }
    if let (Some(cap), Some(caps)) = (
        capability.filter(|c| !c.is_empty()),
        per_server(&m.allowed_capabilities, server),
    ) && !caps.is_empty()
        && !caps.iter().any(|c| c == cap)
    {
        hits.add(
            "mcp.capability_scope",
            Outcome::RequireApproval,
            Severity::Medium,
            None,
            subject,
            format!("Capability `{cap}` is outside the capabilities allowed for `{server}`."),
            gov.clone(),
        );
    }
    let risk = per_server(&m.risk_scoring, server).copied();
    if risk == Some(Severity::Critical) {
        hits.add(
            "mcp.server.risk.critical",
            Outcome::RequireApproval,
            Severity::Critical,
            None,
            subject,
            format!("MCP server `{server}` is scored critical; approval required."),
            gov.clone(),
        );
    }
    risk
}

/// The values an argument rule judges: the argument itself (a string as
/// is, anything else as JSON) and every string, number or boolean inside
/// an array or object it holds (`["x", ".env"]` is also `x` and `.env`).
/// Empty when the argument is absent.
fn argument_values(args: Option<&serde_json::Value>, key: &str) -> Vec<String> {
    fn leaves(v: &serde_json::Value, out: &mut Vec<String>, depth: usize) {
        match v {
            serde_json::Value::String(s) => out.push(s.clone()),
            serde_json::Value::Array(a) if depth < 32 => {
                for x in a {
                    leaves(x, out, depth + 1);
                }
            }
            serde_json::Value::Object(o) if depth < 32 => {
                for x in o.values() {
                    leaves(x, out, depth + 1);
                }
            }
            serde_json::Value::Null => {}
            other => out.push(other.to_string()),
        }
    }
    let Some(args) = args else {
        return Vec::new();
    };
    let found = if key.starts_with('/') {
        args.pointer(key)
    } else {
        args.get(key)
    };
    let Some(v) = found else {
        return Vec::new();
    };
    let mut out = Vec::new();
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        other => {
            out.push(other.to_string());
            leaves(other, &mut out, 0);
        }
    }
    out
}
