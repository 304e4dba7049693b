//! The record kinds, the store each lives in, and each kind's typed schema:
//! fields with types, defaults and enums; the upsert key; indexed columns;
//! filters; ordering. Every backend reads these tables, so behaviour cannot
//! drift between JSON files, SQLite and PostgreSQL.

/// The six persistent stores, as the documentation names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StoreName {
    EvidenceMetadata,
    Approvals,
    Registry,
    Activity,
    Inventory,
    Integrations,
}

impl StoreName {
    pub const ALL: [StoreName; 6] = [
        StoreName::EvidenceMetadata,
        StoreName::Approvals,
        StoreName::Registry,
        StoreName::Activity,
        StoreName::Inventory,
        StoreName::Integrations,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StoreName::EvidenceMetadata => "evidence_metadata",
            StoreName::Approvals => "approvals",
            StoreName::Registry => "registry",
            StoreName::Activity => "activity",
            StoreName::Inventory => "inventory",
            StoreName::Integrations => "integrations",
        }
    }

    pub fn parse(s: &str) -> Option<StoreName> {
        StoreName::ALL.into_iter().find(|n| n.as_str() == s)
    }

    /// The `X` in `CAVRA_X_STORE` / `CAVRA_X_DB`.
    pub fn env_stem(self) -> &'static str {
        match self {
            StoreName::EvidenceMetadata => "EVIDENCE_METADATA",
            StoreName::Approvals => "APPROVAL",
            StoreName::Registry => "REGISTRY",
            StoreName::Activity => "ACTIVITY",
            StoreName::Inventory => "INVENTORY",
            StoreName::Integrations => "INTEGRATION",
        }
    }

    /// The documented default JSON file name under `.cavra/api/`.
    pub fn default_file(self) -> &'static str {
        match self {
            StoreName::EvidenceMetadata => "evidence-metadata.json",
            StoreName::Approvals => "approvals.json",
            StoreName::Registry => "registry.json",
            StoreName::Activity => "activity.json",
            StoreName::Inventory => "inventory.json",
            StoreName::Integrations => "integrations.json",
        }
    }

    /// The `/console/config` key reporting this store's mode.
    pub fn mode_key(self) -> &'static str {
        match self {
            StoreName::EvidenceMetadata => "metadata_mode",
            StoreName::Approvals => "approval_mode",
            StoreName::Registry => "registry_mode",
            StoreName::Activity => "activity_mode",
            StoreName::Inventory => "inventory_mode",
            StoreName::Integrations => "integration_mode",
        }
    }

    pub fn kinds(self) -> &'static [Kind] {
        match self {
            StoreName::EvidenceMetadata => &[Kind::Evidence],
            StoreName::Approvals => &[Kind::Approval],
            StoreName::Registry => &[Kind::Agent, Kind::McpServer],
            StoreName::Activity => &[Kind::Session, Kind::Decision],
            StoreName::Inventory => &[Kind::Repository, Kind::Rollout],
            StoreName::Integrations => &[Kind::Integration],
        }
    }
}

/// One record kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Session,
    Decision,
    Repository,
    Rollout,
    Integration,
    Agent,
    McpServer,
    Evidence,
    Approval,
}

impl Kind {
    pub const ALL: [Kind; 9] = [
        Kind::Session,
        Kind::Decision,
        Kind::Repository,
        Kind::Rollout,
        Kind::Integration,
        Kind::Agent,
        Kind::McpServer,
        Kind::Evidence,
        Kind::Approval,
    ];

    pub fn spec(self) -> &'static KindSpec {
        match self {
            Kind::Session => &SESSION,
            Kind::Decision => &DECISION,
            Kind::Repository => &REPOSITORY,
            Kind::Rollout => &ROLLOUT,
            Kind::Integration => &INTEGRATION,
            Kind::Agent => &AGENT,
            Kind::McpServer => &MCP_SERVER,
            Kind::Evidence => &EVIDENCE,
            Kind::Approval => &APPROVAL,
        }
    }

    pub fn store(self) -> StoreName {
        self.spec().store
    }

    pub fn as_str(self) -> &'static str {
        self.spec().name
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The type of a record field.
#[derive(Clone, Copy, Debug)]
pub enum FieldType {
    /// A string; `default` when absent (`None`: the field stays null).
    Str(Option<&'static str>),
    /// One of `values`; `default` when absent.
    Enum {
        values: &'static [&'static str],
        default: Option<&'static str>,
    },
    /// A list of strings. Accepts a string, a list of strings or null.
    List(&'static [&'static str]),
    /// A non-negative integer (counts).
    Count,
    /// A number in `min..=max`.
    Number {
        min: f64,
        max: f64,
        default: f64,
    },
    /// An ISO-8601 timestamp, stored as UTC `YYYY-MM-DDTHH:MM:SS.ffffff+00:00`.
    Timestamp,
    Bool,
    /// Any JSON object.
    Object,
    /// Any JSON array.
    Array,
}

#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub name: &'static str,
    pub ty: FieldType,
    /// Other input names read when `name` is absent (first present wins).
    pub aliases: &'static [&'static str],
}

const fn f(name: &'static str, ty: FieldType) -> Field {
    Field {
        name,
        ty,
        aliases: &[],
    }
}

const fn fa(name: &'static str, ty: FieldType, aliases: &'static [&'static str]) -> Field {
    Field { name, ty, aliases }
}

const fn s(default: &'static str) -> FieldType {
    FieldType::Str(Some(default))
}

const OPT: FieldType = FieldType::Str(None);
const LIST: FieldType = FieldType::List(&[]);

const fn e(values: &'static [&'static str], default: &'static str) -> FieldType {
    FieldType::Enum {
        values,
        default: Some(default),
    }
}

const fn eo(values: &'static [&'static str]) -> FieldType {
    FieldType::Enum {
        values,
        default: None,
    }
}

pub const OUTCOMES: &[&str] = &[
    "allow",
    "block",
    "require_approval",
    "warn",
    "audit_only",
    "allow_with_attestation",
];
pub const SEVERITIES: &[&str] = &["low", "medium", "high", "critical"];
pub const SESSION_STATES: &[&str] = &["active", "completed", "failed", "archived"];
pub const REPO_STATUSES: &[&str] = &["active", "archived", "disabled"];
pub const ROLLOUT_MODES: &[&str] = &["audit_only", "enforce", "strict", "break_glass"];
pub const ROLLOUT_STATES: &[&str] = &["planned", "active", "paused", "retired"];
pub const INTEGRATION_CATEGORIES: &[&str] = &[
    "source_control",
    "ci_cd",
    "siem",
    "itsm",
    "chatops",
    "identity",
    "cloud",
    "storage",
    "security",
    "observability",
];
pub const INTEGRATION_STATUSES: &[&str] =
    &["planned", "configured", "active", "paused", "disabled"];
pub const HEALTH_STATUSES: &[&str] = &["unknown", "healthy", "degraded", "failed", "not_checked"];
pub const AGENT_STATUSES: &[&str] = &["active", "disabled", "retired"];
pub const TRUST_TIERS: &[&str] = &["trusted", "approved", "experimental", "blocked", "unknown"];
pub const MCP_APPROVAL_STATES: &[&str] = &["approved", "pending", "denied", "not_required"];
pub const APPROVAL_STATES: &[&str] = &["pending", "approved", "denied", "expired", "break_glass"];

/// Column types of the SQL backends (and the JSON backend's comparisons).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColType {
    Text,
    Int,
}

#[derive(Clone, Copy, Debug)]
pub struct Column {
    pub name: &'static str,
    pub ty: ColType,
}

const fn ct(name: &'static str) -> Column {
    Column {
        name,
        ty: ColType::Text,
    }
}

const fn ci(name: &'static str) -> Column {
    Column {
        name,
        ty: ColType::Int,
    }
}

/// How a query parameter filters records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterOp {
    /// Column equals the value.
    Eq,
    /// Column contains the value as a substring (case-sensitive).
    Contains,
    /// Integer column is at least the value.
    Min,
    /// `true`: integer column > 0; `false`: column = 0.
    Positive,
    /// The value is a member of the record's list field.
    Member,
    /// Timestamp column at or after the value.
    Since,
    /// Timestamp column at or before the value.
    Until,
    /// Severity column at or above the value (`low < medium < high < critical`).
    MinSeverity,
    /// `true`: a risk event — blocked, approval-gated, or high/critical severity.
    Risky,
}

#[derive(Clone, Copy, Debug)]
pub struct FilterDef {
    /// The query parameter.
    pub param: &'static str,
    /// The column (or, for `Member`, the list field).
    pub field: &'static str,
    pub op: FilterOp,
    /// Allowed values for enum filters (`None`: any string).
    pub values: Option<&'static [&'static str]>,
}

const fn eq(param: &'static str) -> FilterDef {
    FilterDef {
        param,
        field: param,
        op: FilterOp::Eq,
        values: None,
    }
}

const fn eqe(param: &'static str, values: &'static [&'static str]) -> FilterDef {
    FilterDef {
        param,
        field: param,
        op: FilterOp::Eq,
        values: Some(values),
    }
}

/// Everything the backends need to know about one kind.
#[derive(Debug)]
pub struct KindSpec {
    pub kind: Kind,
    /// Plural name used in URLs, the CLI and errors.
    pub name: &'static str,
    pub store: StoreName,
    /// The array's key inside the JSON store file.
    pub collection: &'static str,
    /// The SQL table.
    pub table: &'static str,
    pub schema_version: &'static str,
    /// The upsert key.
    pub key: &'static str,
    /// `GET` by id also matches this field (repository name, provider, MCP server name).
    pub alt_key: Option<&'static str>,
    pub fields: &'static [Field],
    /// Whether fields not in `fields` are kept (generic payloads).
    pub keep_unknown: bool,
    /// Indexed scalar columns (the key first).
    pub columns: &'static [Column],
    pub filters: &'static [FilterDef],
    /// Sort order: (column, descending). The key ascending breaks ties.
    pub order: &'static [(&'static str, bool)],
    /// Whether records carry `created_at`/`updated_at` kept across upserts.
    pub timestamps: bool,
    /// Columns whose value combinations the SQL backends count as records
    /// are written (`{table}_counts`, kept by triggers), so the exact total
    /// of a page filtered only on them is a sum over the combinations, not
    /// a scan of every matching row.
    pub facets: &'static [&'static str],
}

impl KindSpec {
    pub fn column(&self, name: &str) -> Option<&'static Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

static DECISION: KindSpec = KindSpec {
    kind: Kind::Decision,
    name: "decisions",
    store: StoreName::Activity,
    collection: "decisions",
    table: "activity_decisions",
    schema_version: "cavra.decision.v1",
    key: "decision_id",
    alt_key: None,
    fields: &[
        f("decision_id", OPT),
        f("session_id", s("local")),
        f("agent_id", s("unknown-agent")),
        f("actor", s("ai-agent")),
        f("repository", s("local")),
        f("action_type", s("unknown")),
        f("target", s("")),
        f("requested_operation", s("")),
        f("policy_pack", s("cavra-ai-agent-baseline")),
        f("policy_id", OPT),
        f("rule_id", s("runtime.default")),
        f("decision", e(OUTCOMES, "audit_only")),
        f("severity", e(SEVERITIES, "low")),
        f("reason", s("")),
        f("evidence_refs", LIST),
        f("approver_group", OPT),
        f("timestamp", FieldType::Timestamp),
        f("correlation_id", OPT),
        // What the Rust engine adds so a decision stays explainable.
        f("base_decision", eo(OUTCOMES)),
        f("policy_mode", OPT),
        f("mode_reason", OPT),
        f("evidence_required", FieldType::Bool),
        f("explanation", FieldType::Object),
    ],
    keep_unknown: false,
    columns: &[
        ct("decision_id"),
        ct("session_id"),
        ct("agent_id"),
        ct("actor"),
        ct("repository"),
        ct("policy_pack"),
        ct("action_type"),
        ct("target"),
        ct("rule_id"),
        ct("decision"),
        ct("severity"),
        ct("timestamp"),
        ct("correlation_id"),
    ],
    filters: &[
        eq("session_id"),
        eq("agent_id"),
        eq("repository"),
        eq("policy_pack"),
        eqe("decision", OUTCOMES),
        eqe("severity", SEVERITIES),
        eq("action_type"),
        FilterDef {
            param: "since",
            field: "timestamp",
            op: FilterOp::Since,
            values: None,
        },
        FilterDef {
            param: "until",
            field: "timestamp",
            op: FilterOp::Until,
            values: None,
        },
        FilterDef {
            param: "min_severity",
            field: "severity",
            op: FilterOp::MinSeverity,
            values: Some(SEVERITIES),
        },
        FilterDef {
            param: "risky",
            field: "risky",
            op: FilterOp::Risky,
            values: None,
        },
    ],
    order: &[("timestamp", true)],
    timestamps: false,
    facets: &[
        "agent_id",
        "repository",
        "policy_pack",
        "action_type",
        "decision",
        "severity",
    ],
};

static SESSION: KindSpec = KindSpec {
    kind: Kind::Session,
    name: "sessions",
    store: StoreName::Activity,
    collection: "sessions",
    table: "activity_sessions",
    schema_version: "cavra.session.v1",
    key: "session_id",
    alt_key: None,
    fields: &[
        f("session_id", OPT),
        f("agent_id", OPT),
        f("actor", OPT),
        f("repository", OPT),
        f("policy_pack", OPT),
        fa("state", eo(SESSION_STATES), &["status"]),
        f("started_at", FieldType::Timestamp),
        f("updated_at", FieldType::Timestamp),
        f("decision_count", FieldType::Count),
        f("blocked_count", FieldType::Count),
        f("approval_required_count", FieldType::Count),
        f("evidence_refs", FieldType::Array),
    ],
    keep_unknown: false,
    columns: &[
        ct("session_id"),
        ct("agent_id"),
        ct("actor"),
        ct("repository"),
        ct("policy_pack"),
        ct("state"),
        ct("started_at"),
        ct("updated_at"),
        ci("decision_count"),
        ci("blocked_count"),
        ci("approval_required_count"),
    ],
    filters: &[
        eq("agent_id"),
        eq("repository"),
        eq("policy_pack"),
        eqe("state", SESSION_STATES),
    ],
    order: &[("updated_at", true)],
    timestamps: false,
    facets: &[],
};

static REPOSITORY: KindSpec = KindSpec {
    kind: Kind::Repository,
    name: "repositories",
    store: StoreName::Inventory,
    collection: "repositories",
    table: "inventory_repositories",
    schema_version: "cavra.repository.v1",
    key: "repository_id",
    alt_key: Some("repository"),
    fields: &[
        f("repository_id", OPT),
        fa("repository", OPT, &["name", "repository_id"]),
        f("provider", s("github")),
        f("default_branch", s("main")),
        f("owner", s("unassigned")),
        f("business_unit", s("engineering")),
        f("environment", s("development")),
        f("policy_pack", s("cavra-ai-agent-baseline")),
        f("risk_tier", e(SEVERITIES, "medium")),
        f("status", e(REPO_STATUSES, "active")),
        f("protected_branches", FieldType::List(&["main"])),
        f("required_checks", LIST),
        f("evidence_refs", LIST),
        f("created_at", FieldType::Timestamp),
        f("updated_at", FieldType::Timestamp),
    ],
    keep_unknown: false,
    columns: &[
        ct("repository_id"),
        ct("repository"),
        ct("provider"),
        ct("owner"),
        ct("policy_pack"),
        ct("status"),
        ct("risk_tier"),
    ],
    filters: &[
        eq("provider"),
        eq("owner"),
        eq("policy_pack"),
        eqe("status", REPO_STATUSES),
        eqe("risk_tier", SEVERITIES),
    ],
    order: &[],
    timestamps: true,
    facets: &[],
};

static ROLLOUT: KindSpec = KindSpec {
    kind: Kind::Rollout,
    name: "policy_rollouts",
    store: StoreName::Inventory,
    collection: "policy_rollouts",
    table: "inventory_policy_rollouts",
    schema_version: "cavra.policy_rollout.v1",
    key: "rollout_id",
    alt_key: None,
    fields: &[
        f("rollout_id", OPT),
        f("repository", OPT),
        f("policy_pack", OPT),
        f("policy_version", s("latest")),
        f("mode", e(ROLLOUT_MODES, "enforce")),
        f("state", e(ROLLOUT_STATES, "planned")),
        f("owner", s("platform-security")),
        f(
            "coverage_percent",
            FieldType::Number {
                min: 0.0,
                max: 100.0,
                default: 0.0,
            },
        ),
        f("last_evaluated_at", FieldType::Timestamp),
        f("evidence_refs", LIST),
        f("created_at", FieldType::Timestamp),
        f("updated_at", FieldType::Timestamp),
    ],
    keep_unknown: false,
    columns: &[
        ct("rollout_id"),
        ct("repository"),
        ct("policy_pack"),
        ct("state"),
        ct("mode"),
        ct("owner"),
    ],
    filters: &[
        eq("repository"),
        eq("policy_pack"),
        eqe("state", ROLLOUT_STATES),
        eqe("mode", ROLLOUT_MODES),
        eq("owner"),
    ],
    order: &[],
    timestamps: true,
    facets: &[],
};

static INTEGRATION: KindSpec = KindSpec {
    kind: Kind::Integration,
    name: "integrations",
    store: StoreName::Integrations,
    collection: "integrations",
    table: "integrations",
    schema_version: "cavra.integration.v1",
    key: "integration_id",
    alt_key: Some("provider"),
    fields: &[
        f("integration_id", OPT),
        f("name", OPT),
        f("provider", OPT),
        f("category", e(INTEGRATION_CATEGORIES, "security")),
        f("status", e(INTEGRATION_STATUSES, "planned")),
        f("health_status", e(HEALTH_STATUSES, "not_checked")),
        f("owner", s("unassigned")),
        f("environment", s("global")),
        f("auth_mode", s("not_configured")),
        f("endpoint_ref", OPT),
        f("capabilities", LIST),
        f("repositories", LIST),
        f("last_checked_at", FieldType::Timestamp),
        f("tenant_id", OPT),
        f("workspace_id", OPT),
        f("created_at", FieldType::Timestamp),
        f("updated_at", FieldType::Timestamp),
    ],
    keep_unknown: false,
    columns: &[
        ct("integration_id"),
        ct("provider"),
        ct("category"),
        ct("status"),
        ct("health_status"),
        ct("owner"),
        ct("environment"),
        ct("auth_mode"),
    ],
    filters: &[
        eq("provider"),
        eqe("category", INTEGRATION_CATEGORIES),
        eqe("status", INTEGRATION_STATUSES),
        eqe("health_status", HEALTH_STATUSES),
        eq("owner"),
        eq("environment"),
        eq("auth_mode"),
    ],
    order: &[],
    timestamps: true,
    facets: &[],
};

static AGENT: KindSpec = KindSpec {
    kind: Kind::Agent,
    name: "agents",
    store: StoreName::Registry,
    collection: "agents",
    table: "registry_agents",
    schema_version: "cavra.agent.v1",
    key: "agent_id",
    alt_key: None,
    fields: &[
        f("agent_id", OPT),
        f("type", s("coding-agent")),
        f("vendor", s("")),
        f("version", s("")),
        f("capabilities", LIST),
        f("scopes", LIST),
        f("allowed_repositories", LIST),
        f("allowed_tools", LIST),
        f("risk_tier", e(SEVERITIES, "medium")),
        f("owner", s("unassigned")),
        f("status", e(AGENT_STATUSES, "active")),
        f("last_seen", FieldType::Timestamp),
        f("created_at", FieldType::Timestamp),
        f("updated_at", FieldType::Timestamp),
    ],
    keep_unknown: false,
    columns: &[ct("agent_id"), ct("status"), ct("owner"), ct("risk_tier")],
    filters: &[
        eqe("status", AGENT_STATUSES),
        eq("owner"),
        eqe("risk_tier", SEVERITIES),
    ],
    order: &[],
    timestamps: true,
    facets: &[],
};

static MCP_SERVER: KindSpec = KindSpec {
    kind: Kind::McpServer,
    name: "mcp_servers",
    store: StoreName::Registry,
    collection: "mcp_servers",
    table: "registry_mcp_servers",
    schema_version: "cavra.mcp_server.v1",
    key: "server_id",
    alt_key: Some("name"),
    fields: &[
        fa("server_id", OPT, &["id", "name"]),
        f("name", OPT),
        f("trust_tier", e(TRUST_TIERS, "unknown")),
        f("approval_state", eo(MCP_APPROVAL_STATES)),
        f("capabilities", LIST),
        f("owner", s("unassigned")),
        f("allowed_tools", LIST),
        f("created_at", FieldType::Timestamp),
        f("updated_at", FieldType::Timestamp),
    ],
    keep_unknown: false,
    columns: &[
        ct("server_id"),
        ct("name"),
        ct("trust_tier"),
        ct("approval_state"),
    ],
    filters: &[
        eqe("trust_tier", TRUST_TIERS),
        eqe("approval_state", MCP_APPROVAL_STATES),
        FilterDef {
            param: "capability",
            field: "capabilities",
            op: FilterOp::Member,
            values: None,
        },
    ],
    order: &[],
    timestamps: true,
    facets: &[],
};

static EVIDENCE: KindSpec = KindSpec {
    kind: Kind::Evidence,
    name: "evidence",
    store: StoreName::EvidenceMetadata,
    collection: "items",
    table: "evidence_metadata",
    schema_version: "cavra.evidence.metadata.v1",
    key: "session_id",
    alt_key: None,
    fields: &[
        f("session_id", OPT),
        f("product", s("CAVRA")),
        f("created_at", FieldType::Timestamp),
        f("signer", s("local")),
        f("decision_count", FieldType::Count),
        f("blocked_count", FieldType::Count),
        f("approval_required_count", FieldType::Count),
        f("metadata_kind", OPT),
        f("deployment_target", LIST),
    ],
    keep_unknown: true,
    columns: &[
        ct("session_id"),
        ct("created_at"),
        ct("signer"),
        ci("decision_count"),
        ci("blocked_count"),
        ci("approval_required_count"),
        ct("metadata_kind"),
        ct("rollout_status"),
        ct("environment"),
        ct("target_ring"),
        ct("approval_state"),
        ct("promotion_execution_status"),
        ct("rollback_execution_status"),
    ],
    filters: &[
        FilterDef {
            param: "session_id",
            field: "session_id",
            op: FilterOp::Contains,
            values: None,
        },
        eq("signer"),
        FilterDef {
            param: "min_blocked",
            field: "blocked_count",
            op: FilterOp::Min,
            values: None,
        },
        FilterDef {
            param: "has_approvals",
            field: "approval_required_count",
            op: FilterOp::Positive,
            values: None,
        },
        eq("metadata_kind"),
        eq("rollout_status"),
        eq("environment"),
        eq("target_ring"),
        eq("approval_state"),
        eq("promotion_execution_status"),
        eq("rollback_execution_status"),
        FilterDef {
            param: "deployment_target",
            field: "deployment_target",
            op: FilterOp::Member,
            values: None,
        },
    ],
    order: &[("created_at", true)],
    timestamps: false,
    facets: &[],
};

static APPROVAL: KindSpec = KindSpec {
    kind: Kind::Approval,
    name: "approvals",
    store: StoreName::Approvals,
    collection: "items",
    table: "approvals",
    schema_version: "cavra.approval.v1",
    key: "approval_id",
    alt_key: None,
    fields: &[
        f("approval_id", OPT),
        f("decision_id", OPT),
        f("session_id", OPT),
        f("correlation_id", OPT),
        f("state", e(APPROVAL_STATES, "pending")),
        f("approver_group", OPT),
        f("requested_by", s("ai-agent")),
        f("requested_at", FieldType::Timestamp),
        f("expires_at", FieldType::Timestamp),
        f("decision", FieldType::Object),
        f("history", FieldType::Array),
        f("evidence_refs", LIST),
        f("decided_by", OPT),
        f("decided_at", FieldType::Timestamp),
        f("decision_reason", OPT),
        f("external_ref", OPT),
        f("break_glass", FieldType::Bool),
        f("break_glass_reason", OPT),
    ],
    keep_unknown: true,
    columns: &[
        ct("approval_id"),
        ct("decision_id"),
        ct("session_id"),
        ct("state"),
        ct("approver_group"),
        ct("requested_at"),
    ],
    filters: &[
        eqe("state", APPROVAL_STATES),
        eq("approver_group"),
        eq("decision_id"),
        eq("session_id"),
    ],
    order: &[("requested_at", true)],
    timestamps: false,
    facets: &[],
};
