//! Decision vocabulary: outcomes, severities, modes, actions and the decision
//! record.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The outcome of a decision.
///
/// Outcomes are totally ordered by restrictiveness. When several rules or
/// several sub-commands apply, the most restrictive outcome wins:
/// `block` > `require_approval` > `warn` > `audit_only` > `allow_with_attestation` > `allow`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Allow,
    AllowWithAttestation,
    AuditOnly,
    Warn,
    RequireApproval,
    Block,
}

impl Outcome {
    pub const ALL: [Outcome; 6] = [
        Outcome::Allow,
        Outcome::AllowWithAttestation,
        Outcome::AuditOnly,
        Outcome::Warn,
        Outcome::RequireApproval,
        Outcome::Block,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allow => "allow",
            Outcome::AllowWithAttestation => "allow_with_attestation",
            Outcome::AuditOnly => "audit_only",
            Outcome::Warn => "warn",
            Outcome::RequireApproval => "require_approval",
            Outcome::Block => "block",
        }
    }

    /// Whether the action may proceed without a human.
    pub fn proceeds(self) -> bool {
        matches!(
            self,
            Outcome::Allow | Outcome::AllowWithAttestation | Outcome::AuditOnly | Outcome::Warn
        )
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Outcome {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Outcome::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown decision `{s}`, expected one of allow, block, require_approval, warn, audit_only, allow_with_attestation"
                )
            })
    }
}

/// Severity, an ordered scale: `low < medium < high < critical`.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    #[default]
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Severity::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| {
                format!("unknown severity `{s}`, expected one of low, medium, high, critical")
            })
    }
}

/// Runtime policy mode, applied as a layer over the base decision.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    #[default]
    Enforce,
    #[serde(alias = "shadow")]
    AuditOnly,
    #[serde(alias = "strict_regulated")]
    Strict,
    BreakGlass,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::AuditOnly => "audit_only",
            Mode::Strict => "strict",
            Mode::BreakGlass => "break_glass",
        }
    }
}

impl FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "enforce" => Ok(Mode::Enforce),
            "audit_only" | "shadow" => Ok(Mode::AuditOnly),
            "strict" | "strict_regulated" => Ok(Mode::Strict),
            "break_glass" => Ok(Mode::BreakGlass),
            _ => Err(format!(
                "unknown policy mode `{s}`, expected one of enforce, audit_only, strict, strict_regulated, break_glass"
            )),
        }
    }
}

/// The kind of action an agent wants to take.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ActionType {
    ReadFile,
    WriteFile,
    ExecuteCommand,
    GitOperation,
    McpToolCall,
    PullRequest,
    /// A non-coding action from the generic taxonomy (`identity.grant_role`).
    Generic(String),
}

impl ActionType {
    pub fn as_str(&self) -> &str {
        match self {
            ActionType::ReadFile => "read_file",
            ActionType::WriteFile => "write_file",
            ActionType::ExecuteCommand => "execute_command",
            ActionType::GitOperation => "git_operation",
            ActionType::McpToolCall => "mcp_tool_call",
            ActionType::PullRequest => "pull_request",
            ActionType::Generic(s) => s,
        }
    }

    /// Parse an action type. Generic types are `domain.verb` in lower case.
    pub fn parse(s: &str) -> Result<ActionType, String> {
        Ok(match s {
            "read_file" => ActionType::ReadFile,
            "write_file" => ActionType::WriteFile,
            "execute_command" => ActionType::ExecuteCommand,
            "git_operation" => ActionType::GitOperation,
            "mcp_tool_call" => ActionType::McpToolCall,
            "pull_request" => ActionType::PullRequest,
            _ if is_generic_name(s) => ActionType::Generic(s.to_string()),
            _ => {
                return Err(format!(
                    "unknown action type `{s}`, expected one of read_file, write_file, execute_command, git_operation, mcp_tool_call, pull_request or a generic `domain.action` type such as `crm.update_record`"
                ));
            }
        })
    }
}

fn is_generic_name(s: &str) -> bool {
    let mut parts = s.split('.');
    let ok = |p: &str| {
        !p.is_empty()
            && p.len() <= 64
            && p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
    };
    matches!((parts.next(), parts.next(), parts.next()), (Some(a), Some(b), None) if ok(a) && ok(b))
}

impl fmt::Display for ActionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ActionType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ActionType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ActionType::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for ActionType {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ActionType".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "read_file, write_file, execute_command, git_operation, mcp_tool_call, pull_request, or a generic `domain.action` type",
            "pattern": "^(read_file|write_file|execute_command|git_operation|mcp_tool_call|pull_request|[a-z0-9_-]+\\.[a-z0-9_-]+)$"
        })
    }
}

/// An action an agent wants to take: the input of evaluation.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Action {
    pub action_type: ActionType,
    /// Path, command line, git target, `server:tool` or generic resource.
    pub target: String,
    /// Git operation (`push`, default), pull-request operation (`create`,
    /// `merge`), MCP capability, or `glob` for a file action whose target
    /// is a glob (a search tool's file filter): a read is gated when the
    /// filter is aimed at a protected path, a write when it could match
    /// one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capability: Option<String>,
    /// MCP tool-call arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// Working directory the agent acts in (absolute).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    /// Repository root (absolute); paths inside it are matched relative to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo_root: Option<String>,
    /// Current git branch, used when a push names no destination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
}

impl Action {
    pub fn new(action_type: ActionType, target: impl Into<String>) -> Action {
        Action {
            action_type,
            target: target.into(),
            operation: None,
            server: None,
            tool: None,
            capability: None,
            arguments: None,
            session_id: None,
            agent_id: None,
            actor: None,
            repository: None,
            cwd: None,
            repo_root: None,
            branch: None,
        }
    }
}

/// One rule or check that contributed to a decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Match {
    pub rule_id: String,
    pub decision: Outcome,
    pub severity: Severity,
    /// The pattern that matched, when the rule has patterns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// What was matched: a normalised path, one sub-command, `server:tool`.
    pub subject: String,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver_group: Option<String>,
}

/// Why a decision came out as it did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    /// Every rule that matched, most restrictive first.
    pub matches: Vec<Match>,
    /// The target after normalisation (path relative to the repository root).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalized_target: Option<String>,
    /// Simple commands found in a command line, as argument vectors joined by spaces.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sub_commands: Vec<String>,
    /// What the command analysis could not see through.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub analysis_issues: Vec<String>,
    /// Compliance frameworks the pack maps to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub compliance: Vec<String>,
    /// Evidence level requested by the winning rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_level: Option<String>,
    /// Pack digest the decision was made under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_digest: Option<String>,
}

/// The result of evaluation before identifiers and time are attached.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub action_type: String,
    pub target: String,
    pub requested_operation: String,
    pub policy_pack: String,
    pub rule_id: String,
    pub decision: Outcome,
    pub severity: Severity,
    pub reason: String,
    pub approver_group: Option<String>,
    /// The group the pack routes this action to when a policy mode (strict)
    /// turns it into `require_approval`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode_approver_group: Option<String>,
    pub explanation: Explanation,
    /// Whether the pack asks for evidence on this decision.
    pub evidence_required: bool,
}

/// The decision record: every documented field plus the mode layer and an
/// explanation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub decision_id: String,
    pub session_id: String,
    pub agent_id: String,
    pub actor: String,
    pub action_type: String,
    pub target: String,
    pub requested_operation: String,
    pub policy_pack: String,
    pub policy_id: String,
    pub rule_id: String,
    /// The effective decision (after the policy mode).
    pub decision: Outcome,
    pub severity: Severity,
    pub reason: String,
    pub evidence_refs: Vec<String>,
    pub approver_group: Option<String>,
    pub timestamp: String,
    pub correlation_id: String,
    /// The engine's decision before the policy mode was applied.
    pub base_decision: Outcome,
    pub policy_mode: Mode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode_reason: Option<String>,
    pub evidence_required: bool,
    pub explanation: Explanation,
}
