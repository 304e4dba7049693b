//! The generic (non-coding) action taxonomy.

use crate::model::{Outcome, Severity};

/// One taxonomy entry: action type, domain, effect, risk, default.
pub struct TaxonomyEntry {
    pub action_type: &'static str,
    pub domain: &'static str,
    pub effect: &'static str,
    pub risk: Severity,
    pub default: Outcome,
}

pub const TAXONOMY: &[TaxonomyEntry] = &[
    TaxonomyEntry {
        action_type: "knowledge.search",
        domain: "data",
        effect: "read",
        risk: Severity::Low,
        default: Outcome::Allow,
    },
    TaxonomyEntry {
        action_type: "ticket.summarize",
        domain: "support",
        effect: "read",
        risk: Severity::Low,
        default: Outcome::Allow,
    },
    TaxonomyEntry {
        action_type: "crm.update_record",
        domain: "sales",
        effect: "write",
        risk: Severity::Medium,
        default: Outcome::RequireApproval,
    },
    TaxonomyEntry {
        action_type: "customer.email_send",
        domain: "communications",
        effect: "send",
        risk: Severity::Medium,
        default: Outcome::RequireApproval,
    },
    TaxonomyEntry {
        action_type: "data.export_dataset",
        domain: "data",
        effect: "export",
        risk: Severity::High,
        default: Outcome::RequireApproval,
    },
    TaxonomyEntry {
        action_type: "model.promote",
        domain: "model_governance",
        effect: "promote",
        risk: Severity::High,
        default: Outcome::RequireApproval,
    },
    TaxonomyEntry {
        action_type: "identity.grant_role",
        domain: "identity",
        effect: "grant",
        risk: Severity::Critical,
        default: Outcome::Block,
    },
    TaxonomyEntry {
        action_type: "finance.release_payment",
        domain: "finance",
        effect: "approve",
        risk: Severity::Critical,
        default: Outcome::Block,
    },
    TaxonomyEntry {
        action_type: "workflow.close_control",
        domain: "workflow",
        effect: "approve",
        risk: Severity::High,
        default: Outcome::RequireApproval,
    },
];

/// The built-in decision for a generic action type: rule id, outcome,
/// severity, approver group and reason.
pub fn evaluate_generic(action_type: &str) -> (String, Outcome, Severity, Option<String>, String) {
    let Some(e) = TAXONOMY.iter().find(|e| e.action_type == action_type) else {
        return (
            "generic_adapter.taxonomy.unknown.require_approval".into(),
            Outcome::RequireApproval,
            Severity::Medium,
            Some("Generic Adapter Owners".into()),
            format!("Action type `{action_type}` is not in the taxonomy; review required."),
        );
    };
    if e.default == Outcome::Block {
        return (
            format!("generic_adapter.{}.critical.block", e.effect),
            Outcome::Block,
            Severity::Critical,
            Some("Security Operations".into()),
            format!(
                "`{action_type}` is a critical {} action and is blocked.",
                e.effect
            ),
        );
    }
    let sensitive = matches!(
        e.effect,
        "write" | "delete" | "approve" | "grant" | "export" | "promote" | "send" | "execute"
    );
    if e.default == Outcome::Allow && e.risk == Severity::Low && !sensitive {
        return (
            format!("generic_adapter.{}.allow", e.effect),
            Outcome::Allow,
            Severity::Low,
            None,
            format!("`{action_type}` is a low-risk {} action.", e.effect),
        );
    }
    let group = match e.domain {
        "data" => "Data Governance",
        "finance" => "Finance Operations",
        "identity" => "Identity Security",
        "model_governance" => "Model Risk Governance",
        "sales" => "Revenue Operations",
        "support" => "Support Operations",
        "communications" => "Customer Communications",
        "workflow" => "Workflow Owners",
        _ => "Generic Adapter Owners",
    };
    (
        format!("generic_adapter.{}.require_approval", e.effect),
        Outcome::RequireApproval,
        e.risk,
        Some(group.into()),
        format!(
            "`{action_type}` is a {} action in {}; approval required.",
            e.effect, e.domain
        ),
    )
}
