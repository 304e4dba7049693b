//! Fixed reference data: the six agent profiles and the seven MCP
//! capability classes. Informational; the engine never reads them.

use serde_json::{Value, json};

/// id, display name, vendor, capabilities, scopes, tools, risk, controls.
type Profile = (
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
    &'static str,
    &'static [&'static str],
);
/// capability, category, risk, default decision, approval for, examples, objective.
type Class = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static str,
);

pub fn agent_profiles() -> Vec<Value> {
    let rows: [Profile; 6] = [
        (
            "claude-code",
            "Claude Code",
            "Anthropic",
            &[
                "code_edit",
                "test",
                "shell",
                "mcp_tool_call",
                "pull_request_attestation",
            ],
            &["repository", "filesystem", "shell", "mcp"],
            &["Read", "Edit", "Write", "Bash", "mcp__*"],
            "high",
            &[
                "mcp_trust_registry",
                "command_policy",
                "evidence_attestation",
                "approval_router",
            ],
        ),
        (
            "codex",
            "OpenAI Codex",
            "OpenAI",
            &[
                "code_edit",
                "test",
                "shell",
                "git_operation",
                "pull_request_attestation",
            ],
            &["repository", "filesystem", "shell", "git"],
            &["shell", "apply_patch", "read_file"],
            "high",
            &[
                "agent_registry",
                "protected_branch_policy",
                "evidence_attestation",
                "approval_router",
            ],
        ),
        (
            "github-copilot",
            "GitHub Copilot",
            "GitHub",
            &["code_edit", "test", "pull_request", "workflow_assistance"],
            &["repository", "git", "ci"],
            &["edit", "terminal", "pull_request"],
            "medium",
            &[
                "protected_branch_policy",
                "workflow_change_approval",
                "pr_attestation",
            ],
        ),
        (
            "cursor",
            "Cursor",
            "Cursor",
            &["code_edit", "test", "shell", "repository_search"],
            &["repository", "filesystem", "shell"],
            &[
                "read_file",
                "edit_file",
                "run_terminal_cmd",
                "codebase_search",
            ],
            "medium",
            &[
                "filesystem_policy",
                "command_policy",
                "evidence_attestation",
            ],
        ),
        (
            "gemini-cli",
            "Gemini CLI",
            "Google",
            &["code_edit", "test", "shell", "cloud_assistance"],
            &["repository", "filesystem", "shell", "cloud"],
            &["read_file", "write_file", "replace", "run_shell_command"],
            "high",
            &[
                "cloud_iam_policy",
                "command_policy",
                "approval_router",
                "evidence_attestation",
            ],
        ),
        (
            "aws-q-developer",
            "Amazon Q Developer",
            "AWS",
            &[
                "code_edit",
                "test",
                "shell",
                "cloud_assistance",
                "iam_review",
            ],
            &["repository", "filesystem", "shell", "aws"],
            &["fs_read", "fs_write", "execute_bash", "use_aws"],
            "high",
            &[
                "cloud_iam_policy",
                "terraform_policy",
                "approval_router",
                "evidence_attestation",
            ],
        ),
    ];
    rows.iter()
        .map(|(id, name, vendor, caps, scopes, tools, risk, controls)| {
            json!({
                "profile_id": id,
                "display_name": name,
                "vendor": vendor,
                "type": "coding-agent",
                "default_capabilities": caps,
                "default_scopes": scopes,
                "recommended_tools": tools,
                "risk_tier": risk,
                "enterprise_controls": controls,
            })
        })
        .collect()
}

pub fn tool_classifications() -> Vec<Value> {
    let rows: [Class; 7] = [
        (
            "cloud",
            "infrastructure",
            "critical",
            "require_approval",
            &["iam_change", "production_deploy", "resource_delete"],
            &[
                "aws.iam.put_role_policy",
                "gcloud.deploy",
                "azure.resource.delete",
            ],
            "No agent changes identity, production or cloud resources without a named approver.",
        ),
        (
            "database",
            "data_access",
            "high",
            "require_approval",
            &["write_query", "schema_change", "export_table"],
            &["postgres.query", "mysql.execute", "bigquery.export"],
            "Reads stay scoped; writes, schema changes and exports are approved and recorded.",
        ),
        (
            "filesystem",
            "local_resource",
            "high",
            "block_unknown",
            &["write_file", "delete_file", "read_secret"],
            &[
                "filesystem.read_file",
                "filesystem.write_file",
                "filesystem.delete",
            ],
            "Secrets and protected paths are never read or written by an unregistered server.",
        ),
        (
            "network",
            "egress",
            "medium",
            "require_approval",
            &["external_post", "download_binary", "webhook_call"],
            &["fetch.url", "http.post", "browser.navigate"],
            "Data leaves only to approved destinations; downloads of executables are reviewed.",
        ),
        (
            "repository",
            "source_control",
            "medium",
            "approved_server_scope",
            &[
                "delete_repository",
                "change_branch_protection",
                "workflow_write",
            ],
            &[
                "github.create_pull_request",
                "github.merge",
                "gitlab.update_branch",
            ],
            "Branch protection, workflows and repository lifecycle stay under human control.",
        ),
        (
            "saas",
            "enterprise_workflow",
            "medium",
            "approved_server_scope",
            &["ticket_transition", "user_permission_change", "bulk_export"],
            &[
                "jira.transition_issue",
                "slack.post_message",
                "salesforce.update_record",
            ],
            "Business systems are changed only through approved servers and tools.",
        ),
        (
            "shell",
            "execution",
            "critical",
            "require_approval",
            &["execute_command", "install_package", "spawn_process"],
            &["shell.run", "terminal.exec", "process.spawn"],
            "Commands run by an MCP server pass the same command policy as the agent's own.",
        ),
    ];
    rows.iter()
        .map(
            |(cap, category, risk, default, approval, examples, objective)| {
                json!({
                    "capability": cap,
                    "category": category,
                    "risk_tier": risk,
                    "default_decision": default,
                    "approval_required_for": approval,
                    "example_tools": examples,
                    "control_objective": objective,
                })
            },
        )
        .collect()
}
