//! CAVRA in front of real agents.
//!
//! - [`protocol`]: the five agents' hook protocols — stdin JSON to CAVRA
//!   actions, decisions to the exact output, event names and exit codes each
//!   agent documents, and the fail-closed answer for everything else.
//! - [`patch`]: Codex `apply_patch` envelopes.
//! - [`hook`]: one hook invocation, end to end and total.
//! - [`install`]: writing hook configuration and proving it enforces.
//!
//! **Architecture invariant:** every path that cannot reach a policy
//! decision (bad input, unknown event or tool, policy load failure, panic)
//! answers with the agent's block.

pub mod hook;
pub mod install;
pub mod mcp;
pub mod patch;
pub mod protocol;

pub use protocol::{Agent, Event, Gate, Response};
