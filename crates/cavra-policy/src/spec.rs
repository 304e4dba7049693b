//! The policy pack format as written in `policy.yaml`.
//!
//! Two shapes are accepted and may be mixed: the *section* shape (`metadata`,
//! `filesystem`, `commands`, `git`, `mcp`, `compliance`, `approvals`,
//! `evidence`) and the *rules* shape (`id`, `version`, `mode`, `defaults`,
//! `actors`, ordered `rules`, `mcp_trust`, `approval_routes`). Both compile to
//! one model. Every field has an effect; unknown fields are errors.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::{ActionType, Mode, Outcome, Severity};

/// A policy pack.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PackSpec {
    /// Section shape: identity and inheritance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filesystem: Option<Filesystem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commands: Option<Commands>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<Git>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp: Option<Mcp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compliance: Option<Compliance>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approvals: Option<Approvals>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,

    /// Rules shape: pack id (`cavra-…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Pack mode: `enforce` or `shadow` (= `audit_only`), or any policy mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defaults: Option<Defaults>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actors: Option<Actors>,
    /// Rules of the rules shape. When several match, the most restrictive
    /// decision wins; use `unless` to carve exceptions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<RuleSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_trust: Option<McpTrust>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub approval_routes: BTreeMap<String, ApprovalRoute>,

    /// Embedded test cases, run by `cavra policy test`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tests: Vec<TestCase>,
}

/// A string or a list of strings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// `cavra-` followed by lower-case letters, digits and dashes.
    pub id: String,
    pub title: String,
    pub description: String,
    pub version: String,
    /// Parent packs, folded left to right before this pack.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inherits: Option<OneOrMany>,
    /// Default policy mode when the caller gives none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
}

/// Path rules. Patterns follow gitignore conventions: a pattern without `/`
/// matches that name at any depth, `**/` matches zero or more directories, a
/// pattern matches everything below a directory it matches.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Filesystem {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub block_read: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub block_write: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub require_approval_read: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub require_approval_write: Vec<String>,
    /// Absolute paths outside the repository root that may be used without
    /// approval (`/tmp/**`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_outside_root: Vec<String>,
    /// Paths of CAVRA's own configuration that this pack lets agents write.
    /// Self-protection is on by default; listing a path here is the only way
    /// to loosen it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unprotect: Vec<String>,
}

/// Command rules. Patterns are matched token by token against each simple
/// command after parsing: `*` alone matches any number of arguments, a final
/// token ending in `*` matches further arguments, ` | ` separates pipeline
/// stages.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Commands {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub block: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub require_approval: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warn: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<String>,
    /// Decision for a command no rule matches (default `require_approval`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Outcome>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Git {
    /// Branch globs that are protected (default `main`, `master`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub protected_branches: Vec<String>,
    /// Pushing to a protected branch needs a pull request: without
    /// `block_direct_push_to_protected_branch` such a push requires approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_pull_request: Option<bool>,
    /// Block direct pushes to protected branches (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_direct_push_to_protected_branch: Option<bool>,
    /// Merging a pull request requires a human approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_human_reviewer: Option<bool>,
    /// Creating a pull request is `allow_with_attestation` (default true),
    /// otherwise `allow`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_ai_attestation: Option<bool>,
    /// Block force pushes to any branch (default: warn on unprotected
    /// branches; protected branches are always blocked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_force_push: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Mcp {
    /// Only listed servers are trusted (default true). When false, servers
    /// that are not blocked get `warn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowlist_enabled: Option<bool>,
    /// Unknown servers are blocked (default true); when false they require
    /// approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_unknown_servers: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_servers: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocked_servers: Vec<String>,
    /// Servers whose calls always require approval.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approval_required_servers: Vec<String>,
    /// Severity per server; `critical` servers require approval.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub risk_scoring: BTreeMap<String, Severity>,
    /// Tool globs each server may use; others require approval.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub allowed_tools: BTreeMap<String, Vec<String>>,
    /// Tool globs blocked per server (`*` for every server).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub blocked_tools: BTreeMap<String, Vec<String>>,
    /// Capabilities each server may use; others require approval.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub allowed_capabilities: BTreeMap<String, Vec<String>>,
    /// Rules on tool-call arguments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub argument_rules: Vec<ArgumentRule>,
}

/// A rule on an MCP tool-call argument.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ArgumentRule {
    pub id: String,
    /// Server glob (default `*`).
    #[serde(default = "star")]
    pub server: String,
    /// Tool glob (default `*`).
    #[serde(default = "star")]
    pub tool: String,
    /// Argument name, or a JSON pointer such as `/options/path`.
    pub argument: String,
    /// Globs over the argument's string value (numbers and booleans as text).
    pub patterns: Vec<String>,
    /// Treat the argument as a path (normalised, gitignore-style globs).
    #[serde(default)]
    pub path: bool,
    pub decision: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

fn star() -> String {
    "*".to_string()
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Compliance {
    /// Frameworks and controls this pack supports; reported on every decision.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub maps_to: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Approvals {
    /// Approver group when no route and no rule names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_group: Option<String>,
    /// Hours an approval request stays open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_hours: Option<u32>,
    /// First route whose prefix and substring match picks the approver group.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<ApprovalRouting>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRouting {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_id_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_contains: Option<String>,
    pub approver_group: String,
}

/// Decision fields an action must carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequiredField {
    SessionId,
    AgentId,
    Actor,
    Repository,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// Pull requests are `allow_with_attestation`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_pr_attestation: Option<bool>,
    /// Actions missing one of these fields require approval.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required_fields: Vec<RequiredField>,
    /// Days evidence of this pack's decisions is retained; reported on
    /// every decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u32>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// Decision when no rule of the rules shape matches an action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<RuleDecision>,
    /// Every decision of this pack requires evidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_required: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Actors {
    /// Agents (by `agent_id`) this pack admits; others are blocked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_agent_profiles: Vec<String>,
    /// Default approver group when a rule names none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub human_approvers: Vec<String>,
}

/// Decision vocabulary of the rules shape; the documented aliases `deny`,
/// `requires_approval`, `shadow` and `break_glass` are accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleDecision {
    Allow,
    #[serde(alias = "deny")]
    Block,
    #[serde(alias = "requires_approval")]
    RequireApproval,
    Warn,
    #[serde(alias = "shadow")]
    AuditOnly,
    AllowWithAttestation,
    /// Allowed only through break-glass: requires approval by the Change
    /// Advisory Board.
    BreakGlass,
}

impl RuleDecision {
    pub fn outcome(self) -> Outcome {
        match self {
            RuleDecision::Allow => Outcome::Allow,
            RuleDecision::Block => Outcome::Block,
            RuleDecision::RequireApproval | RuleDecision::BreakGlass => Outcome::RequireApproval,
            RuleDecision::Warn => Outcome::Warn,
            RuleDecision::AuditOnly => Outcome::AuditOnly,
            RuleDecision::AllowWithAttestation => Outcome::AllowWithAttestation,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: String,
    /// Action type this rule applies to, or `*`.
    pub action: String,
    /// Path globs (files), branch globs (git), `server:tool` globs (MCP) or
    /// resource globs (generic actions).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    /// Command patterns (commands).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command_patterns: Vec<String>,
    /// Exceptions: the rule does not apply to subjects matching these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unless: Vec<String>,
    pub decision: RuleDecision,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Name of an entry of `approval_routes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_route: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<RuleEvidence>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceLevel {
    Standard,
    Signed,
    DeliveryAudit,
    Retained,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleEvidence {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<EvidenceLevel>,
    /// An allowed action becomes `allow_with_attestation`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attest_pr: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct McpTrust {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_servers: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approval_required: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocked_servers: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRoute {
    /// Approvals needed (reported with the decision).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_approvers: Option<u32>,
    /// Approver identities or groups; the route name is the approver group.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approvers: Vec<String>,
    /// Lifetime of an approval, such as `8h`, `30m` or `2d`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_after: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_reason: Option<bool>,
}

/// A test case: an action and the decision it must get.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestCase {
    pub name: String,
    pub action: ActionType,
    pub target: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capability: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo_root: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub break_glass_actor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub break_glass_reason: Option<String>,
    /// Registry records for the MCP registry ladder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<Vec<crate::mcp::RegistryServer>>,
    pub expect: Expect,
}

/// Expected result: a decision, or a decision with rule, severity and group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Expect {
    Decision(Outcome),
    Full(ExpectFull),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectFull {
    pub decision: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// Expected approver group; `null` means none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver_group: Option<String>,
    /// Base decision before the policy mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_decision: Option<Outcome>,
}

impl Expect {
    pub fn decision(&self) -> Outcome {
        match self {
            Expect::Decision(d) => *d,
            Expect::Full(f) => f.decision,
        }
    }
}

impl PackSpec {
    /// The pack id from either shape.
    pub fn pack_id(&self) -> Option<&str> {
        self.metadata
            .as_ref()
            .map(|m| m.id.as_str())
            .or(self.id.as_deref())
    }

    pub fn inherits(&self) -> Vec<String> {
        self.metadata
            .as_ref()
            .and_then(|m| m.inherits.as_ref())
            .map(OneOrMany::to_vec)
            .unwrap_or_default()
    }

    pub fn title(&self) -> &str {
        self.metadata
            .as_ref()
            .map(|m| m.title.as_str())
            .or(self.title.as_deref())
            .unwrap_or("")
    }

    pub fn description(&self) -> &str {
        self.metadata
            .as_ref()
            .map(|m| m.description.as_str())
            .or(self.description.as_deref())
            .unwrap_or("")
    }

    pub fn version(&self) -> &str {
        self.metadata
            .as_ref()
            .map(|m| m.version.as_str())
            .or(self.version.as_deref())
            .unwrap_or("")
    }

    pub fn default_mode(&self) -> Option<Mode> {
        self.metadata.as_ref().and_then(|m| m.mode).or(self.mode)
    }
}

/// Parse a rule's `action` field.
pub fn rule_action(action: &str) -> Result<Option<ActionType>, String> {
    if action == "*" {
        Ok(None)
    } else {
        ActionType::parse(action).map(Some)
    }
}
