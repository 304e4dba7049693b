//! The OpenAPI 3.1 document, generated from the route table (so it cannot
//! list a route the server lacks, or miss one it has). A committed copy
//! lives at `openapi/cavra-api.openapi.json`; a test keeps it in sync.

use cavra_store::kinds::FilterOp;
use serde_json::{Value, json};
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{
    ContentBuilder, InfoBuilder, OpenApiBuilder, Paths, Required, ResponseBuilder, ResponsesBuilder,
};

use crate::routes::{QueryDoc, endpoints};

fn schema(ty: &str) -> ObjectBuilder {
    let t = match ty {
        "integer" => Type::Integer,
        "boolean" => Type::Boolean,
        "object" => Type::Object,
        "array" => Type::Array,
        _ => Type::String,
    };
    ObjectBuilder::new().schema_type(t)
}

fn json_content(description: &str) -> utoipa::openapi::Content {
    ContentBuilder::new()
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(Some(description)),
        ))
        .build()
}

fn error_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::Object)
                        .property("detail", schema("string"))
                        .required("detail"),
                ))
                .build(),
        )
        .build()
}

/// The document as JSON (what `/openapi.json` serves).
pub fn document() -> Value {
    let mut paths = Paths::new();
    for (ep, _) in endpoints() {
        let mut op = OperationBuilder::new()
            .summary(Some(ep.summary))
            .tag(ep.tag)
            .operation_id(Some(format!(
                "{}{}",
                ep.method.to_ascii_lowercase(),
                ep.path.replace(['/', '-', '{', '}'], "_")
            )));
        // Path parameters.
        for seg in ep.path.split('/') {
            if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                let desc = if ep.wildcard {
                    "Identifier; may contain slashes (e.g. payments/api)"
                } else {
                    "Identifier"
                };
                op = op.parameter(
                    ParameterBuilder::new()
                        .name(name)
                        .parameter_in(ParameterIn::Path)
                        .required(Required::True)
                        .description(Some(desc))
                        .schema(Some(schema("string"))),
                );
            }
        }
        // Query parameters.
        let mut query: Vec<(String, String, String)> = Vec::new();
        match ep.query {
            QueryDoc::None => {}
            QueryDoc::Fixed(params) => {
                for (n, t, d) in params {
                    query.push(((*n).into(), (*t).into(), (*d).into()));
                }
            }
            QueryDoc::Kind(kind) => {
                for f in kind.spec().filters {
                    let (ty, desc) = match f.op {
                        FilterOp::Eq => ("string", format!("Exact match on {}", f.field)),
                        FilterOp::Contains => ("string", format!("Substring of {}", f.field)),
                        FilterOp::Min => ("integer", format!("{} at least this", f.field)),
                        FilterOp::Positive => ("boolean", format!("{} greater than zero", f.field)),
                        FilterOp::Member => ("string", format!("A member of {}", f.field)),
                        FilterOp::Since => ("string", "ISO-8601 time; at or after".to_string()),
                        FilterOp::Until => ("string", "ISO-8601 time; at or before".to_string()),
                        FilterOp::MinSeverity => ("string", "Severity at or above".to_string()),
                        FilterOp::Risky => (
                            "boolean",
                            "Only blocks, approval gates and high or critical severity".to_string(),
                        ),
                    };
                    let desc = match f.values {
                        Some(v) => format!("{desc}; one of {}", v.join(", ")),
                        None => desc,
                    };
                    query.push((f.param.into(), ty.into(), desc));
                }
                query.push((
                    "limit".into(),
                    "integer".into(),
                    "Page size, clamped to 1..500 (default 50)".into(),
                ));
                query.push((
                    "offset".into(),
                    "integer".into(),
                    "Records to skip (default 0)".into(),
                ));
            }
        }
        for (n, t, d) in query {
            op = op.parameter(
                ParameterBuilder::new()
                    .name(n)
                    .parameter_in(ParameterIn::Query)
                    .required(Required::False)
                    .description(Some(d))
                    .schema(Some(schema(&t))),
            );
        }
        if ep.body {
            op = op.request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(Required::True))
                    .content(
                        "application/json",
                        json_content("A JSON object; at most 1 MiB"),
                    )
                    .build(),
            ));
        }
        let mut responses = ResponsesBuilder::new().response(
            "200",
            ResponseBuilder::new()
                .description("Success")
                .content("application/json", json_content("The result")),
        );
        responses = responses.response(
            "400",
            error_response("Invalid value; the detail names the field"),
        );
        if ep.path.contains('{') {
            responses = responses.response("404", error_response("Unknown id"));
        }
        if ep.body {
            responses = responses
                .response("413", error_response("Body larger than 1 MiB"))
                .response("415", error_response("Body is not JSON"));
        }
        let method = if ep.method == "POST" {
            HttpMethod::Post
        } else {
            HttpMethod::Get
        };
        paths.add_path_operation(
            ep.path,
            vec![method],
            op.responses(responses.build()).build(),
        );
    }
    let doc = OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("CAVRA API")
                .version("1.0.0")
                .description(Some(
                    "Controlled Agentic Verification and Runtime Authority. Errors are {\"detail\": \"...\"}.",
                ))
                .build(),
        )
        .paths(paths)
        .build();
    let mut v = serde_json::to_value(&doc).unwrap_or_default();
    let versioning = json!({
        "contract": "cavra.api.v1",
        "stable": ["/decisions", "/evidence", "/health", "/version", "/console/config"],
        "server_version": env!("CARGO_PKG_VERSION"),
    });
    if let Some(obj) = v.as_object_mut() {
        obj.insert("x-cavra-api-versioning".into(), versioning);
        if let Some(paths) = obj.get_mut("paths").and_then(Value::as_object_mut) {
            paths.insert(
                "/openapi.json".into(),
                json!({"get": {"summary": "This document", "tags": ["system"], "responses": {"200": {"description": "OpenAPI 3.1"}}}}),
            );
            paths.insert(
                "/metrics".into(),
                json!({"get": {"summary": "Prometheus metrics", "tags": ["system"], "responses": {"200": {"description": "Prometheus text format"}}}}),
            );
            refine(paths);
        }
    }
    v
}

/// What the route table does not say: the fields `POST /decisions`
/// accepts (others are refused), the 403 of mutations that need a verified
/// actor once OIDC or RBAC is configured, the 404 of an unknown capability.
fn refine(paths: &mut serde_json::Map<String, Value>) {
    let error = json!({"application/json": {"schema": {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}}});
    let mut properties = serde_json::Map::new();
    for f in crate::routes::DECISION_FIELDS {
        let schema = match *f {
            "arguments" => json!({"type": "object", "description": "MCP tool arguments"}),
            "action_type" => {
                json!({"type": "string", "description": "read_file, write_file, execute_command, git_operation, mcp_tool_call, pull_request, or a generic type such as crm.update_record"})
            }
            "policy_mode" => {
                json!({"type": "string", "enum": ["enforce", "audit_only", "strict", "break_glass"], "description": "A mode weaker than the pack's (audit_only, break_glass) needs a verified actor when OIDC or RBAC is configured"})
            }
            _ => json!({"type": "string"}),
        };
        properties.insert((*f).to_string(), schema);
    }
    if let Some(body) = paths
        .get_mut("/decisions")
        .and_then(|p| p.pointer_mut("/post/requestBody/content/application~1json"))
    {
        *body = json!({"schema": {"type": "object", "required": ["action_type", "target"], "additionalProperties": false, "properties": properties}});
    }
    for path in [
        "/decisions",
        "/policy-rollouts",
        "/policy-rollouts/apply-change",
    ] {
        if let Some(r) = paths
            .get_mut(path)
            .and_then(|p| p.pointer_mut("/post/responses"))
            .and_then(Value::as_object_mut)
        {
            r.insert("403".into(), json!({"description": "Needs a verified actor (OIDC or RBAC is configured)", "content": error}));
        }
    }
    if let Some(r) = paths
        .get_mut("/mcp/tool-classifications")
        .and_then(|p| p.pointer_mut("/get/responses"))
        .and_then(Value::as_object_mut)
    {
        r.insert(
            "404".into(),
            json!({"description": "Unknown capability", "content": error}),
        );
    }
}
