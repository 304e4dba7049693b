//! MCP trust: the registry ladder over registry records.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::{Outcome, Severity};

/// The registry fields the ladder reads (the store keeps more).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RegistryServer {
    pub server_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// trusted, approved, experimental, blocked, unknown
    #[serde(default = "unknown")]
    pub trust_tier: String,
    /// approved, pending, denied, not_required
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_state: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_tools: Vec<String>,
}

fn unknown() -> String {
    "unknown".to_string()
}

impl RegistryServer {
    /// The approval state, defaulting by tier as documented.
    pub fn effective_state(&self) -> &str {
        match self.approval_state.as_deref() {
            Some(s) => s,
            None if matches!(self.trust_tier.as_str(), "unknown" | "experimental") => "pending",
            None => "approved",
        }
    }
}

/// One step of the ladder's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LadderResult {
    pub decision: Outcome,
    pub rule_id: &'static str,
    pub severity: Severity,
    pub reason: String,
    pub approver_group: Option<String>,
}

/// The registry ladder: unknown → block; blocked tier or denied → block;
/// pending, unknown or experimental tier → require_approval; tool or
/// capability out of scope → require_approval; else allow.
pub fn registry_ladder(
    records: &[RegistryServer],
    server: &str,
    tool: &str,
    capability: Option<&str>,
) -> LadderResult {
    // Every record the name can refer to (its id, or its display name) is
    // judged and the most restrictive answer wins: a second record that
    // merely shares a name cannot unblock a blocked server.
    let results = records
        .iter()
        .filter(|r| r.server_id == server || r.name.as_deref() == Some(server))
        .map(|rec| ladder_for(rec, server, tool, capability));
    results
        .max_by_key(|r| (r.decision, r.severity))
        .unwrap_or_else(|| LadderResult {
            decision: Outcome::Block,
            rule_id: "mcp.registry.unknown",
            severity: Severity::High,
            reason: format!("MCP server `{server}` is not registered."),
            approver_group: None,
        })
}

/// The ladder for one registry record.
fn ladder_for(
    rec: &RegistryServer,
    server: &str,
    tool: &str,
    capability: Option<&str>,
) -> LadderResult {
    let gov = Some("AI Governance".to_string());
    let state = rec.effective_state().trim().to_ascii_lowercase();
    let state = state.as_str();
    let tier = rec.trust_tier.trim().to_ascii_lowercase();
    let known_tier = matches!(
        tier.as_str(),
        "trusted" | "approved" | "experimental" | "blocked" | "unknown"
    );
    let known_state = matches!(state, "approved" | "pending" | "denied" | "not_required");
    if tier == "blocked" || state == "denied" {
        return LadderResult {
            decision: Outcome::Block,
            rule_id: "mcp.registry.blocked",
            severity: Severity::High,
            reason: format!(
                "MCP server `{server}` is blocked (tier {}, state {state}).",
                rec.trust_tier
            ),
            approver_group: None,
        };
    }
    if !known_tier
        || !known_state
        || state == "pending"
        || matches!(tier.as_str(), "unknown" | "experimental")
    {
        return LadderResult {
            decision: Outcome::RequireApproval,
            rule_id: "mcp.registry.requires_approval",
            severity: Severity::Medium,
            reason: format!(
                "MCP server `{server}` is {} and {state}; approval required.",
                rec.trust_tier
            ),
            approver_group: gov,
        };
    }
    if !rec.allowed_tools.is_empty()
        && !rec
            .allowed_tools
            .iter()
            .any(|t| crate::pattern::wildcard(t, tool))
    {
        return LadderResult {
            decision: Outcome::RequireApproval,
            rule_id: "mcp.registry.tool_scope",
            severity: Severity::Medium,
            reason: format!("Tool `{tool}` is outside the approved tools of `{server}`."),
            approver_group: gov,
        };
    }
    if let Some(cap) = capability.filter(|c| !c.is_empty())
        && !rec.capabilities.is_empty()
        && !rec.capabilities.iter().any(|c| c == cap)
    {
        return LadderResult {
            decision: Outcome::RequireApproval,
            rule_id: "mcp.registry.capability_scope",
            severity: Severity::Medium,
            reason: format!(
                "Capability `{cap}` is outside the approved capabilities of `{server}`."
            ),
            approver_group: gov,
        };
    }
    LadderResult {
        decision: Outcome::Allow,
        rule_id: "mcp.registry.allow",
        severity: Severity::Low,
        reason: format!("MCP server `{server}` is registered and approved for `{tool}`."),
        approver_group: None,
    }
}

/// The server and tool of an MCP call: explicit `server`/`tool` win,
/// else `target` is read as `server:tool`; a missing tool is `unknown`.
pub fn server_and_tool(target: &str, server: Option<&str>, tool: Option<&str>) -> (String, String) {
    let split = target.split_once(':');
    let srv = match (server, split) {
        (Some(s), _) => s.to_string(),
        (None, Some((s, _))) => s.to_string(),
        (None, None) => target.to_string(),
    };
    let tl = tool
        .map(str::to_string)
        .or_else(|| split.map(|(_, t)| t.to_string()))
        .unwrap_or_else(|| "unknown".to_string());
    (srv, tl)
}

#[cfg(test)]
mod ladder_tests {
    use super::*;

    fn rec(id: &str, name: Option<&str>, tier: &str) -> RegistryServer {
        serde_json::from_value(serde_json::json!({
            "server_id": id, "name": name, "trust_tier": tier, "approval_state": "approved"
        }))
        .unwrap()
    }

    #[test]
    fn a_record_sharing_a_blocked_servers_name_does_not_unblock_it() {
        // Regression: the first record matching id or name decided, in id
        // order, so `alias-evil` named `evil` (trusted) hid `evil` (blocked).
        let records = vec![
            rec("alias-evil", Some("evil"), "trusted"),
            rec("evil", None, "blocked"),
        ];
        let r = registry_ladder(&records, "evil", "x", None);
        assert_eq!(r.decision, Outcome::Block);
        assert_eq!(r.rule_id, "mcp.registry.blocked");
        let records = vec![
            rec("a", Some("dup"), "blocked"),
            rec("b", Some("dup"), "trusted"),
        ];
        assert_eq!(
            registry_ladder(&records, "dup", "x", None).decision,
            Outcome::Block
        );
        let records = vec![rec("ok", None, "trusted")];
        assert_eq!(
            registry_ladder(&records, "ok", "x", None).decision,
            Outcome::Allow
        );
    }
}
