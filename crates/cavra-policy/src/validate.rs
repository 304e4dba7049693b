//! Semantic validation of a parsed pack. Each problem names the field, the
//! offending value and, where it can be found in the source, line and column.

use std::collections::BTreeSet;

use crate::load::Diagnostic;
use crate::pattern::{CommandPattern, PathPatterns};
use crate::spec::{PackSpec, RuleSpec, rule_action};

struct V<'a> {
    file: &'a str,
    text: &'a str,
    out: Vec<Diagnostic>,
}

impl V<'_> {
    fn err(&mut self, field: impl Into<String>, needle: &str, message: impl Into<String>) {
        let (line, column) = locate(self.text, needle);
        self.out.push(Diagnostic {
            file: self.file.to_string(),
            line,
            column,
            field: Some(field.into()),
            message: message.into(),
        });
    }

    fn paths(&mut self, field: &str, list: &[String]) {
        self.unique(field, list);
        if let Err((i, msg)) = PathPatterns::new(list) {
            let bad = list.get(i).map(String::as_str).unwrap_or("");
            self.err(format!("{field}[{i}]"), bad, msg);
        }
    }

    fn commands(&mut self, field: &str, list: &[String]) {
        self.unique(field, list);
        for (i, p) in list.iter().enumerate() {
            if let Err(msg) = CommandPattern::new(p) {
                self.err(format!("{field}[{i}]"), p, msg);
            }
        }
    }

    fn unique(&mut self, field: &str, list: &[String]) {
        let mut seen = BTreeSet::new();
        for (i, p) in list.iter().enumerate() {
            if p.trim().is_empty() {
                self.err(format!("{field}[{i}]"), &format!("{field}:"), "empty value");
            } else if !seen.insert(p.as_str()) {
                self.err(format!("{field}[{i}]"), p, format!("duplicate value `{p}`"));
            }
        }
    }

    fn non_empty(&mut self, field: &str, value: &str) {
        if value.trim().is_empty() {
            let key = field.rsplit('.').next().unwrap_or(field);
            self.err(field, &format!("{key}:"), "must not be empty");
        }
    }
}

/// Locate the first occurrence of `needle` in `text` (1-based line and
/// column), preferring a quoted or list-item occurrence.
pub fn locate(text: &str, needle: &str) -> (Option<u64>, Option<u64>) {
    if needle.is_empty() {
        return (None, None);
    }
    let candidates = [
        format!("\"{needle}\""),
        format!("'{needle}'"),
        format!("- {needle}"),
        needle.to_string(),
    ];
    for c in &candidates {
        for (ln, line) in text.lines().enumerate() {
            if let Some(col) = line.find(c.as_str()) {
                let col = if c.starts_with("- ") { col + 2 } else { col };
                let col = line.get(..col).map(|s| s.chars().count()).unwrap_or(col);
                return (Some(ln as u64 + 1), Some(col as u64 + 1));
            }
        }
    }
    (None, None)
}

fn is_pack_id(s: &str) -> bool {
    s.strip_prefix("cavra-").is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    })
}

pub fn validate(spec: &PackSpec, file: &str, text: &str) -> Vec<Diagnostic> {
    let mut v = V {
        file,
        text,
        out: Vec::new(),
    };
    match (&spec.metadata, &spec.id) {
        (Some(_), Some(id)) => v.err("id", id, "give the pack id either in `metadata.id` or in `id`, not both"),
        (None, None) => v.out.push(Diagnostic {
            file: file.to_string(),
            line: Some(1),
            column: Some(1),
            field: Some("<root>".into()),
            message: "missing pack identity: add a `metadata` section (id, title, description, version) or top-level `id` and `version`".into(),
        }),
        (Some(m), None) => {
            if !is_pack_id(&m.id) {
                v.err("metadata.id", &m.id, format!("`{}` is not a pack id: use `cavra-` followed by lower-case letters, digits and dashes", m.id));
            }
            v.non_empty("metadata.title", &m.title);
            v.non_empty("metadata.description", &m.description);
            v.non_empty("metadata.version", &m.version);
            let parents = spec.inherits();
            if matches!(&m.inherits, Some(crate::spec::OneOrMany::Many(l)) if l.is_empty()) {
                v.err("metadata.inherits", "inherits:", "must not be an empty list");
            }
            v.unique("metadata.inherits", &parents);
            for p in &parents {
                if p == &m.id {
                    v.err("metadata.inherits", p, format!("pack `{p}` inherits from itself"));
                }
            }
        }
        (None, Some(id)) => {
            if !is_pack_id(id) {
                v.err("id", id, format!("`{id}` is not a pack id: use `cavra-` followed by lower-case letters, digits and dashes"));
            }
            if spec.version.as_deref().is_none_or(|s| s.trim().is_empty()) {
                v.err("version", "id:", "missing `version` (required with a top-level `id`)");
            }
        }
    }
    if let Some(fs) = &spec.filesystem {
        v.paths("filesystem.block_read", &fs.block_read);
        v.paths("filesystem.block_write", &fs.block_write);
        v.paths(
            "filesystem.require_approval_read",
            &fs.require_approval_read,
        );
        v.paths(
            "filesystem.require_approval_write",
            &fs.require_approval_write,
        );
        v.paths("filesystem.allow_outside_root", &fs.allow_outside_root);
        v.paths("filesystem.unprotect", &fs.unprotect);
        for (i, p) in fs.allow_outside_root.iter().enumerate() {
            if !p.starts_with('/') && !p.starts_with('~') {
                v.err(
                    format!("filesystem.allow_outside_root[{i}]"),
                    p,
                    format!("`{p}` must be an absolute or `~/` path"),
                );
            }
        }
    }
    if let Some(c) = &spec.commands {
        v.commands("commands.block", &c.block);
        v.commands("commands.require_approval", &c.require_approval);
        v.commands("commands.warn", &c.warn);
        v.commands("commands.allow", &c.allow);
    }
    if let Some(g) = &spec.git {
        v.unique("git.protected_branches", &g.protected_branches);
    }
    if let Some(m) = &spec.mcp {
        v.unique("mcp.allowed_servers", &m.allowed_servers);
        v.unique("mcp.blocked_servers", &m.blocked_servers);
        v.unique(
            "mcp.approval_required_servers",
            &m.approval_required_servers,
        );
        for s in &m.allowed_servers {
            if m.blocked_servers.contains(s) {
                v.err(
                    "mcp.blocked_servers",
                    s,
                    format!("server `{s}` is both allowed and blocked"),
                );
            }
        }
        if m.allowlist_enabled == Some(false) {
            if !m.allowed_servers.is_empty() {
                v.err(
                    "mcp.allowed_servers",
                    "allowed_servers:",
                    "has no effect when `allowlist_enabled` is false; remove one of them",
                );
            }
            if m.block_unknown_servers.is_some() {
                v.err(
                    "mcp.block_unknown_servers",
                    "block_unknown_servers:",
                    "has no effect when `allowlist_enabled` is false; remove one of them",
                );
            }
        }
        for (i, r) in m.argument_rules.iter().enumerate() {
            let field = format!("mcp.argument_rules[{i}]");
            if r.argument.trim().is_empty() {
                v.err(format!("{field}.argument"), &r.id, "must not be empty");
            }
            if r.patterns.is_empty() {
                v.err(
                    format!("{field}.patterns"),
                    &r.id,
                    "needs at least one pattern",
                );
            }
            if r.path
                && let Err((j, msg)) = PathPatterns::new(&r.patterns)
            {
                v.err(
                    format!("{field}.patterns[{j}]"),
                    r.patterns.get(j).map(String::as_str).unwrap_or(""),
                    msg,
                );
            }
        }
    }
    if let Some(a) = &spec.approvals {
        if a.ttl_hours == Some(0) {
            v.err("approvals.ttl_hours", "ttl_hours:", "must be at least 1");
        }
        for (i, r) in a.routes.iter().enumerate() {
            if r.approver_group.trim().is_empty() {
                v.err(
                    format!("approvals.routes[{i}].approver_group"),
                    "approver_group:",
                    "must not be empty",
                );
            }
        }
    }
    if let Some(e) = &spec.evidence
        && e.retention_days == Some(0)
    {
        v.err(
            "evidence.retention_days",
            "retention_days:",
            "must be at least 1",
        );
    }
    let mut ids = BTreeSet::new();
    for (i, r) in spec.rules.iter().enumerate() {
        rule(&mut v, spec, i, r);
        if !ids.insert(r.id.as_str()) {
            v.err(
                format!("rules[{i}].id"),
                &r.id,
                format!("duplicate rule id `{}`", r.id),
            );
        }
    }
    for (name, route) in &spec.approval_routes {
        if let Some(e) = &route.expires_after
            && parse_duration_hours(e).is_none()
        {
            v.err(
                format!("approval_routes.{name}.expires_after"),
                e,
                format!("`{e}` is not a duration: use a number followed by m, h or d (`8h`)"),
            );
        }
        if route.required_approvers == Some(0) {
            v.err(
                format!("approval_routes.{name}.required_approvers"),
                name,
                "must be at least 1",
            );
        }
    }
    if let Some(t) = &spec.mcp_trust {
        v.unique("mcp_trust.allowed_servers", &t.allowed_servers);
        v.unique("mcp_trust.blocked_servers", &t.blocked_servers);
        v.unique("mcp_trust.approval_required", &t.approval_required);
    }
    let mut names = BTreeSet::new();
    for (i, t) in spec.tests.iter().enumerate() {
        if t.name.trim().is_empty() {
            v.err(format!("tests[{i}].name"), "name:", "must not be empty");
        } else if !names.insert(t.name.as_str()) {
            v.err(
                format!("tests[{i}].name"),
                &t.name,
                format!("duplicate test name `{}`", t.name),
            );
        }
        if t.target.trim().is_empty() {
            v.err(format!("tests[{i}].target"), &t.name, "must not be empty");
        }
    }
    v.out
}

fn rule(v: &mut V<'_>, spec: &PackSpec, i: usize, r: &RuleSpec) {
    let field = format!("rules[{i}]");
    if r.id.trim().is_empty() {
        v.err(format!("{field}.id"), "id:", "must not be empty");
    }
    let action = match rule_action(&r.action) {
        Ok(a) => a,
        Err(msg) => {
            v.err(format!("{field}.action"), &r.action, msg);
            return;
        }
    };
    let is_command = matches!(action, Some(crate::model::ActionType::ExecuteCommand));
    if is_command {
        if r.command_patterns.is_empty() {
            v.err(
                format!("{field}.command_patterns"),
                &r.id,
                format!(
                    "rule `{}` on execute_command needs `command_patterns`",
                    r.id
                ),
            );
        }
        if !r.resources.is_empty() {
            v.err(
                format!("{field}.resources"),
                &r.id,
                format!(
                    "rule `{}` on execute_command takes `command_patterns`, not `resources`",
                    r.id
                ),
            );
        }
        v.commands(&format!("{field}.command_patterns"), &r.command_patterns);
        v.commands(&format!("{field}.unless"), &r.unless);
    } else {
        if !r.command_patterns.is_empty() {
            v.err(
                format!("{field}.command_patterns"),
                &r.id,
                format!(
                    "`command_patterns` apply only to execute_command rules (rule `{}`)",
                    r.id
                ),
            );
        }
        if r.resources.is_empty() {
            v.err(
                format!("{field}.resources"),
                &r.id,
                format!(
                    "rule `{}` needs `resources` (use [\"**\"] for everything)",
                    r.id
                ),
            );
        }
        if matches!(
            action,
            Some(crate::model::ActionType::ReadFile | crate::model::ActionType::WriteFile)
        ) {
            v.paths(&format!("{field}.resources"), &r.resources);
            v.paths(&format!("{field}.unless"), &r.unless);
        }
    }
    // A pack that inherits may name a route its parents define: that is
    // checked on the merged pack ([`undefined_routes`]).
    if let Some(route) = &r.approval_route
        && spec.inherits().is_empty()
        && !spec.approval_routes.contains_key(route)
    {
        v.err(
            format!("{field}.approval_route"),
            route,
            format!("approval route `{route}` is not defined in `approval_routes`"),
        );
    }
}

/// Approval routes that rules of a merged pack name but neither the pack
/// nor its parents define, located in the pack's own file.
pub fn undefined_routes(spec: &PackSpec, file: &str, text: &str) -> Vec<Diagnostic> {
    spec.rules
        .iter()
        .filter_map(|r| {
            let route = r.approval_route.as_ref()?;
            if spec.approval_routes.contains_key(route) {
                return None;
            }
            let (line, column) = locate(text, route);
            Some(Diagnostic {
                file: file.to_string(),
                line,
                column,
                field: Some(format!("rules.{}.approval_route", r.id)),
                message: format!(
                    "approval route `{route}` is not defined in `approval_routes` of this pack or the packs it inherits"
                ),
            })
        })
        .collect()
}

/// Parse `8h`, `30m`, `2d` into hours (fractions rounded up).
pub fn parse_duration_hours(s: &str) -> Option<u32> {
    let s = s.trim();
    // Split before the last character, not the last byte: `8é` must be
    // refused, not split inside the `é`.
    let (at, _) = s.char_indices().next_back()?;
    let (num, unit) = s.split_at(at);
    let n: u32 = num.parse().ok()?;
    if n == 0 {
        return None;
    }
    match unit {
        "m" => Some(n.div_ceil(60)),
        "h" => Some(n),
        "d" => n.checked_mul(24),
        _ => None,
    }
}
