//! MCP: CAVRA as a stdio MCP server ([`server`]) and as a governing
//! gateway in front of another server ([`proxy`]), with tool pinning
//! ([`pins`]). Built on rmcp.

pub mod pins;
pub mod proxy;
pub mod server;
