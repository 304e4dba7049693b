//! Running test cases (a pack's embedded `tests:` or a `--cases` file).

use crate::compile::CompiledPolicy;
use crate::eval::{EvalContext, evaluate};
use crate::mode::{BreakGlass, apply_mode};
use crate::model::{Action, Outcome};
use crate::spec::{Expect, TestCase};

/// The outcome of one case.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CaseResult {
    pub name: String,
    pub passed: bool,
    /// What differed, empty when passed.
    pub failures: Vec<String>,
    pub decision: Outcome,
    pub rule_id: String,
}

pub fn case_action(case: &TestCase) -> Action {
    let mut a = Action::new(case.action.clone(), case.target.clone());
    a.operation.clone_from(&case.operation);
    a.server.clone_from(&case.server);
    a.tool.clone_from(&case.tool);
    a.capability.clone_from(&case.capability);
    a.arguments.clone_from(&case.arguments);
    a.agent_id.clone_from(&case.agent_id);
    a.session_id.clone_from(&case.session_id);
    a.actor.clone_from(&case.actor);
    a.repository.clone_from(&case.repository);
    a.cwd.clone_from(&case.cwd);
    a.repo_root.clone_from(&case.repo_root);
    a.branch.clone_from(&case.branch);
    a
}

/// Evaluate one case and compare with its expectation.
pub fn run_case(policy: &CompiledPolicy, case: &TestCase) -> CaseResult {
    let action = case_action(case);
    let ctx = EvalContext {
        registry: case.registry.as_deref(),
    };
    let v = evaluate(policy, &action, &ctx);
    let mode = case.mode.unwrap_or(policy.default_mode);
    let bg = BreakGlass {
        actor: case.break_glass_actor.clone(),
        reason: case.break_glass_reason.clone(),
    };
    let (effective, _) = apply_mode(v.decision, crate::mode::fixed_block(&v), mode, &bg);
    let group = match effective {
        Outcome::RequireApproval => v
            .approver_group
            .clone()
            .or_else(|| v.mode_approver_group.clone())
            .or_else(|| Some("Repository Owners".into())),
        _ if effective == v.decision => v.approver_group.clone(),
        _ => None,
    };
    let mut failures = Vec::new();
    let want = case.expect.decision();
    if effective != want {
        failures.push(format!(
            "decision: expected {want}, got {effective} ({}: {})",
            v.rule_id, v.reason
        ));
    }
    if let Expect::Full(f) = &case.expect {
        if let Some(r) = &f.rule_id
            && *r != v.rule_id
        {
            failures.push(format!("rule_id: expected {r}, got {}", v.rule_id));
        }
        if let Some(s) = f.severity
            && s != v.severity
        {
            failures.push(format!("severity: expected {s}, got {}", v.severity));
        }
        if let Some(g) = &f.approver_group
            && Some(g) != group.as_ref()
        {
            failures.push(format!(
                "approver_group: expected {g}, got {}",
                group.as_deref().unwrap_or("none")
            ));
        }
        if let Some(b) = f.base_decision
            && b != v.decision
        {
            failures.push(format!("base_decision: expected {b}, got {}", v.decision));
        }
    }
    CaseResult {
        name: case.name.clone(),
        passed: failures.is_empty(),
        failures,
        decision: effective,
        rule_id: v.rule_id,
    }
}

/// A file of cases: a list, or `{pack, cases}`.
#[derive(Clone, Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum CaseFile {
    List(Vec<TestCase>),
    WithPack(CaseFileWithPack),
}

#[derive(Clone, Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseFileWithPack {
    /// Pack the cases run against.
    pub pack: String,
    pub cases: Vec<TestCase>,
}

impl CaseFile {
    /// Parses a case file. A file that fits neither shape is reported by
    /// the shape it starts with (a list, or `pack:`/`cases:`), so the
    /// error names the line and the field rather than the two shapes.
    pub fn parse(file: &str, text: &str) -> Result<CaseFile, crate::LoadError> {
        crate::load::parse_yaml::<CaseFile>(file, text).map_err(|untagged| {
            let first = text
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty() && !l.starts_with('#') && *l != "---");
            let precise = match first {
                Some(l) if l.starts_with('-') || l.starts_with('[') => {
                    crate::load::parse_yaml::<Vec<TestCase>>(file, text).err()
                }
                Some(_) => crate::load::parse_yaml::<CaseFileWithPack>(file, text).err(),
                None => None,
            };
            precise.unwrap_or(untagged)
        })
    }

    pub fn pack(&self) -> Option<&str> {
        match self {
            CaseFile::List(_) => None,
            CaseFile::WithPack(w) => Some(&w.pack),
        }
    }
    pub fn cases(&self) -> &[TestCase] {
        match self {
            CaseFile::List(c) => c,
            CaseFile::WithPack(w) => &w.cases,
        }
    }
}
