//! Policy modes as a layer over the base decision, and the decision record.

use crate::model::{Action, Decision, Mode, Outcome, Verdict};

/// Break-glass context.
#[derive(Clone, Debug, Default)]
pub struct BreakGlass {
    pub actor: Option<String>,
    pub reason: Option<String>,
}

/// The effective decision under `mode`, with the reason for any change.
///
/// - `enforce`: unchanged.
/// - `audit_only`: nothing is stopped; `block`, `require_approval` and `warn`
///   become `audit_only` (recorded, not enforced).
/// - `strict`: `allow`, `allow_with_attestation` and `warn` become
///   `require_approval`.
/// - `break_glass`: without both an actor and a reason the action is blocked;
///   with both it is `allow_with_attestation`.
///
/// Blocks from self-protection, invalid input and unanalysable commands are
/// never loosened by a mode: no mode may turn them into an allowed action.
/// `fixed_block` is such a blocking rule among the verdict's matches (see
/// [`fixed_block`]): it holds even when another rule of the same outcome
/// won the verdict (`terraform apply > .claude/settings.json` is won by the
/// critical command rule, yet the self-protection block must survive
/// `audit_only`).
pub fn apply_mode(
    base: Outcome,
    fixed_block: Option<&str>,
    mode: Mode,
    bg: &BreakGlass,
) -> (Outcome, Option<String>) {
    if let Some(rule_id) = fixed_block.filter(|_| base == Outcome::Block && mode != Mode::Enforce) {
        return (
            base,
            Some(format!("`{rule_id}` blocks in every policy mode")),
        );
    }
    match mode {
        Mode::Enforce => (base, None),
        Mode::AuditOnly => match base {
            Outcome::Block | Outcome::RequireApproval | Outcome::Warn => (
                Outcome::AuditOnly,
                Some(format!(
                    "audit_only mode: the base decision `{base}` is recorded, not enforced"
                )),
            ),
            other => (other, None),
        },
        Mode::Strict => match base {
            Outcome::Allow | Outcome::AllowWithAttestation | Outcome::Warn | Outcome::AuditOnly => {
                (
                    Outcome::RequireApproval,
                    Some(format!("strict mode: `{base}` requires approval")),
                )
            }
            other => (other, None),
        },
        Mode::BreakGlass => {
            let actor = bg.actor.as_deref().map(str::trim).filter(|s| !s.is_empty());
            let reason = bg
                .reason
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty());
            match (actor, reason) {
                (Some(a), Some(r)) => (
                    Outcome::AllowWithAttestation,
                    Some(format!("break_glass by `{a}`: {r}")),
                ),
                _ => (
                    Outcome::Block,
                    Some("break_glass mode requires both an actor and a reason".into()),
                ),
            }
        }
    }
}

/// Rule-id prefixes whose blocks no policy mode loosens.
const FIXED_BLOCKS: [&str; 3] = ["self_protection.", "input.", "commands.analysis."];

/// The first rule of `verdict` that blocks in every policy mode: the
/// winning rule, or any blocking match, since ties between blocks keep the
/// first hit and a self-protection block may lose on severity.
pub fn fixed_block(verdict: &Verdict) -> Option<&str> {
    let fixed = |id: &str| FIXED_BLOCKS.iter().any(|p| id.starts_with(p));
    if verdict.decision != Outcome::Block {
        return None;
    }
    if fixed(&verdict.rule_id) {
        return Some(&verdict.rule_id);
    }
    verdict
        .explanation
        .matches
        .iter()
        .find(|m| m.decision == Outcome::Block && fixed(&m.rule_id))
        .map(|m| m.rule_id.as_str())
}

/// Identifiers and time attached to a verdict.
#[derive(Clone, Debug)]
pub struct Stamp {
    pub decision_id: String,
    pub correlation_id: String,
    pub timestamp: String,
}

impl Stamp {
    /// Fresh random ids and the current UTC time.
    pub fn now() -> Stamp {
        Stamp {
            decision_id: format!("dec_{}", random_hex(12)),
            correlation_id: format!("corr_{}", random_hex(12)),
            timestamp: now_rfc3339(),
        }
    }
}

/// `n` random lower-case hex digits.
pub fn random_hex(n: usize) -> String {
    use rand::RngCore;
    let mut bytes = vec![0u8; n.div_ceil(2)];
    // The OS generator directly: a thread-local ChaCha generator costs a
    // short-lived hook process a CPU feature probe and its seeding.
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let mut s = hex::encode(bytes);
    s.truncate(n);
    s
}

/// The current UTC time as RFC 3339 with microseconds.
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]+00:00"
    );
    now.format(&fmt)
        .unwrap_or_else(|_| "1970-01-01T00:00:00+00:00".into())
}

/// Build the decision record from a verdict.
pub fn decide(
    verdict: Verdict,
    action: &Action,
    mode: Mode,
    bg: &BreakGlass,
    stamp: Stamp,
) -> Decision {
    let fixed = fixed_block(&verdict).map(str::to_string);
    let (effective, mode_reason) = apply_mode(verdict.decision, fixed.as_deref(), mode, bg);
    let session_id = action
        .session_id
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "local".into());
    let approver_group = match effective {
        Outcome::RequireApproval => verdict
            .approver_group
            .clone()
            .or_else(|| verdict.mode_approver_group.clone())
            .or_else(|| Some("Repository Owners".into())),
        _ if effective == verdict.decision => verdict.approver_group.clone(),
        _ => None,
    };
    Decision {
        evidence_refs: vec![format!("evidence://{session_id}/{}", stamp.decision_id)],
        decision_id: stamp.decision_id,
        session_id,
        agent_id: action
            .agent_id
            .clone()
            .unwrap_or_else(|| "unknown-agent".into()),
        actor: action.actor.clone().unwrap_or_else(|| "ai-agent".into()),
        action_type: verdict.action_type,
        target: verdict.target,
        requested_operation: verdict.requested_operation,
        policy_id: verdict.policy_pack.clone(),
        policy_pack: verdict.policy_pack,
        rule_id: verdict.rule_id,
        decision: effective,
        severity: verdict.severity,
        reason: verdict.reason,
        approver_group,
        timestamp: stamp.timestamp,
        correlation_id: stamp.correlation_id,
        base_decision: verdict.decision,
        policy_mode: mode,
        mode_reason,
        evidence_required: verdict.evidence_required || mode != Mode::Enforce,
        explanation: verdict.explanation,
    }
}
