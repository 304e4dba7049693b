//! The CAVRA policy engine: pack model, validation, inheritance,
//! compilation, evaluation, modes, diffs and digests.
//!
//! **Architecture invariant:** this crate does no IO and no async. Pack text
//! arrives through [`load::PackSource`]; evaluation is a total function that
//! always yields a decision and never yields `allow` for input it does not
//! understand.

pub mod compile;
pub mod eval;
pub mod generic;
pub mod git;
pub mod globals;
pub mod load;
pub mod mcp;
pub mod mode;
pub mod model;
pub mod pattern;
pub mod spec;
pub mod testrun;
pub mod validate;

pub use compile::CompiledPolicy;
pub use eval::{EvalContext, evaluate};
pub use load::{Diagnostic, LoadError, PackFile, PackSource, ResolvedPack};
pub use mode::{BreakGlass, Stamp, apply_mode, decide, fixed_block, now_rfc3339, random_hex};
pub use model::{
    Action, ActionType, Decision, Explanation, Match, Mode, Outcome, Severity, Verdict,
};
pub use spec::PackSpec;

/// The JSON Schema of the pack format, for editors.
pub fn pack_json_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(PackSpec);
    serde_json::to_value(schema).unwrap_or(serde_json::Value::Null)
}

/// Evaluate and stamp in one call.
pub fn decide_now(
    policy: &CompiledPolicy,
    action: &Action,
    ctx: &EvalContext<'_>,
    mode: Option<Mode>,
    bg: &BreakGlass,
) -> Decision {
    let verdict = evaluate(policy, action, ctx);
    decide(
        verdict,
        action,
        mode.unwrap_or(policy.default_mode),
        bg,
        Stamp::now(),
    )
}
