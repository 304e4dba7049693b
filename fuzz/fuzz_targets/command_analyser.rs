#![no_main]
//! Any string as a command line: analysis and evaluation must never panic,
//! and an analysis with issues must never be allowed.
use cavra_policy::{Action, ActionType, EvalContext, Outcome};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(cmd) = std::str::from_utf8(data) {
        let a = cavra_shell::analyze(cmd);
        if !a.is_clean() {
            let spec: cavra_policy::PackSpec = Default::default();
            let _ = spec;
        }
        thread_local! {
            static POLICY: cavra_policy::CompiledPolicy = {
                let spec = cavra_policy::PackSpec { id: Some("cavra-fuzz".into()), version: Some("1".into()), commands: Some(cavra_policy::spec::Commands { allow: vec!["*".into()], ..Default::default() }), ..Default::default() };
                cavra_policy::compile::compile(&spec, "cavra-fuzz").expect("fuzz pack compiles")
            };
        }
        POLICY.with(|p| {
            let v = cavra_policy::evaluate(p, &Action::new(ActionType::ExecuteCommand, cmd), &EvalContext::default());
            if !a.is_clean() {
                assert_ne!(v.decision, Outcome::Allow, "{cmd:?} has issues but was allowed");
            }
        });
    }
});
