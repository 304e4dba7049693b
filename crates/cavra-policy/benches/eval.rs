#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! `cargo bench -p cavra-policy`: decision latency for the baseline pack, a
//! 1,000-rule synthetic pack, pack load + compile, and the same requests
//! through an equivalent Cedar policy set in the same run. Times are reported
//! as median and p99 per call, and as a ratio to Cedar.

use std::hint::black_box;
use std::time::{Duration, Instant};

use cavra_policy::load::{PackFile, PackSource, resolve_file};
use cavra_policy::{Action, ActionType, EvalContext, evaluate};
use cedar_policy::{Authorizer, Context, Entities, EntityUid, PolicySet, Request};

const BASELINE: &str = include_str!("../../../policies/cavra-ai-agent-baseline/policy.yaml");

struct None_;
impl PackSource for None_ {
    fn get(&self, _: &str) -> Option<PackFile> {
        None
    }
    fn ids(&self) -> Vec<String> {
        Vec::new()
    }
}

fn load(text: &str) -> cavra_policy::CompiledPolicy {
    let pf = PackFile {
        id: "bench".into(),
        path: "bench.yaml".into(),
        text: text.into(),
    };
    resolve_file(&None_, &pf, &[])
        .and_then(|r| r.compile())
        .expect("pack loads")
}

/// Run `f` for about `budget`, return per-call samples (ns) sorted.
fn sample(budget: Duration, mut f: impl FnMut()) -> Vec<f64> {
    for _ in 0..200 {
        f();
    }
    let mut out = Vec::new();
    let start = Instant::now();
    while start.elapsed() < budget || out.len() < 1000 {
        let t = Instant::now();
        for _ in 0..10 {
            f();
        }
        out.push(t.elapsed().as_nanos() as f64 / 10.0);
        if out.len() > 2_000_000 {
            break;
        }
    }
    out.sort_by(|a, b| a.partial_cmp(b).unwrap());
    out
}

fn pct(s: &[f64], p: f64) -> f64 {
    s[((s.len() as f64 - 1.0) * p) as usize]
}

fn report(name: &str, s: &[f64]) -> (f64, f64) {
    let (m, p99) = (pct(s, 0.5), pct(s, 0.99));
    println!(
        "{name:<44} median {:>9.2} µs   p99 {:>9.2} µs   (n={})",
        m / 1000.0,
        p99 / 1000.0,
        s.len()
    );
    (m, p99)
}

fn cedar_policies() -> PolicySet {
    // The baseline's decisions for these requests, written in Cedar: forbid
    // sensitive paths and blocked commands, permit the allow-listed ones.
    let mut src = String::new();
    for p in [
        "*.env",
        ".env",
        "*/.env",
        "*.pem",
        "*id_rsa",
        "*secrets.*",
        "*.tfstate",
        "*.tfvars",
        "*kubeconfig",
    ] {
        src.push_str(&format!("forbid(principal, action == Action::\"read_file\", resource) when {{ context.path like \"{p}\" }};\n"));
    }
    for p in [
        "terraform apply*",
        "terraform destroy*",
        "kubectl delete*",
        "aws iam *",
        "git push * main",
        "rm -rf /",
    ] {
        src.push_str(&format!("forbid(principal, action == Action::\"execute_command\", resource) when {{ context.command like \"{p}\" }};\n"));
    }
    src.push_str("permit(principal, action == Action::\"read_file\", resource);\n");
    for p in [
        "terraform plan*",
        "terraform fmt*",
        "pytest*",
        "npm test*",
        "cargo test*",
        "ls*",
        "cat*",
        "grep*",
        "echo*",
        "git status*",
    ] {
        src.push_str(&format!("permit(principal, action == Action::\"execute_command\", resource) when {{ context.command like \"{p}\" }};\n"));
    }
    src.parse().expect("cedar policies parse")
}

fn cedar_request(action: &str, key: &str, value: &str) -> Request {
    let principal: EntityUid = r#"Agent::"claude-code""#.parse().unwrap();
    let a: EntityUid = format!("Action::\"{action}\"").parse().unwrap();
    let resource: EntityUid = r#"Target::"t""#.parse().unwrap();
    let ctx = Context::from_json_value(serde_json::json!({ key: value }), None).unwrap();
    Request::new(principal, a, resource, ctx, None).unwrap()
}

fn synthetic_pack(n: usize) -> String {
    let mut y = String::from(
        "id: cavra-bench-synthetic\nversion: \"1\"\ndefaults: {decision: deny}\nrules:\n",
    );
    for i in 0..n {
        match i % 3 {
            0 => y.push_str(&format!("  - {{id: r{i}, action: execute_command, command_patterns: [\"tool{i} sub{i} *\"], decision: deny}}\n")),
            1 => y.push_str(&format!("  - {{id: r{i}, action: read_file, resources: [\"dir{i}/**/*.secret{i}\"], decision: requires_approval}}\n")),
            _ => y.push_str(&format!("  - {{id: r{i}, action: execute_command, command_patterns: [\"app{i} run*\"], decision: allow}}\n")),
        }
    }
    y
}

fn main() {
    let budget = Duration::from_millis(if std::env::args().any(|a| a == "--quick") {
        200
    } else {
        1500
    });
    println!("cavra-policy evaluation benchmark (budget {budget:?} per case)\n");
    let policy = load(BASELINE);
    let ctx = EvalContext::default();
    let file = Action::new(ActionType::ReadFile, "config/.env");
    let cmd = Action::new(ActionType::ExecuteCommand, "terraform plan -out plan.bin");
    let pipeline = Action::new(
        ActionType::ExecuteCommand,
        "cat src/main.rs | grep -n fn | sort | uniq -c | sh -c 'head -n 5'",
    );

    let s_file = sample(budget, || {
        black_box(evaluate(&policy, black_box(&file), &ctx));
    });
    let s_cmd = sample(budget, || {
        black_box(evaluate(&policy, black_box(&cmd), &ctx));
    });
    let s_pipe = sample(budget, || {
        black_box(evaluate(&policy, black_box(&pipeline), &ctx));
    });
    let (f_m, _) = report("baseline: read_file config/.env", &s_file);
    let (c_m, _) = report("baseline: execute_command terraform plan", &s_cmd);
    report("baseline: 5-command pipeline with sh -c", &s_pipe);

    let synth = load(&synthetic_pack(1000));
    let a1 = Action::new(ActionType::ExecuteCommand, "tool999 sub999 --flag");
    let a2 = Action::new(ActionType::ReadFile, "dir1/x/y.secret1");
    let mut flip = false;
    let s_synth = sample(budget, || {
        flip = !flip;
        black_box(evaluate(
            &synth,
            black_box(if flip { &a1 } else { &a2 }),
            &ctx,
        ));
    });
    report("synthetic 1,000-rule pack (cmd + file)", &s_synth);

    let s_load = sample(budget, || {
        black_box(load(black_box(BASELINE)));
    });
    report("baseline: load + compile", &s_load);

    let cedar = cedar_policies();
    let auth = Authorizer::new();
    let entities = Entities::empty();
    let r_file = cedar_request("read_file", "path", "config/.env");
    let r_cmd = cedar_request("execute_command", "command", "terraform plan -out plan.bin");
    let cs_file = sample(budget, || {
        black_box(auth.is_authorized(black_box(&r_file), &cedar, &entities));
    });
    let cs_cmd = sample(budget, || {
        black_box(auth.is_authorized(black_box(&r_cmd), &cedar, &entities));
    });
    let (cf_m, _) = report("cedar: read_file config/.env", &cs_file);
    let (cc_m, _) = report("cedar: execute_command terraform plan", &cs_cmd);
    println!();
    println!(
        "ratio cavra/cedar (median): file {:.2}x, command {:.2}x (below 1 = faster than Cedar; cavra parses the command with a bash grammar, Cedar matches the raw string)",
        f_m / cf_m,
        c_m / cc_m
    );
}
