#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
//! The packs shipped in the binary: all documented packs exist, validate,
//! carry at least ten embedded tests, and pass them.

use cavra_packs::Builtin;
use cavra_policy::load::{PackSource, resolve};
use cavra_policy::testrun::run_case;

const DOCUMENTED: &[&str] = &[
    "cavra-ai-agent-baseline",
    "cavra-banking-baseline",
    "cavra-cloud-iam",
    "cavra-eu-ai-act",
    "cavra-github-enterprise",
    "cavra-gitlab-enterprise",
    "cavra-hipaa",
    "cavra-iso27001",
    "cavra-kubernetes-prod",
    "cavra-mcp-enterprise",
    "cavra-nist-ssdf",
    "cavra-owasp-llm-agentic",
    "cavra-pci-dss",
    "cavra-sox-change-control",
    "cavra-terraform-prod",
    "cavra-agentic-delivery",
];

#[test]
fn every_documented_pack_is_shipped_tested_and_passing() {
    let ids = Builtin.ids();
    let mut failures = Vec::new();
    for id in DOCUMENTED {
        assert!(ids.iter().any(|i| i == id), "pack {id} is not shipped");
        let policy = match resolve(&Builtin, id).and_then(|r| r.compile()) {
            Ok(p) => p,
            Err(e) => {
                failures.push(format!("{id}: {e}"));
                continue;
            }
        };
        assert_eq!(policy.pack_id, *id, "directory and metadata.id differ");
        if policy.tests.len() < 10 {
            failures.push(format!("{id}: only {} embedded tests", policy.tests.len()));
        }
        for case in &policy.tests {
            let r = run_case(&policy, case);
            if !r.passed {
                failures.push(format!("{id}: {}: {}", r.name, r.failures.join("; ")));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
