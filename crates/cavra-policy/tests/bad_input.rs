#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
//! Bad input: clear errors or fail-closed decisions, never a panic.

use cavra_policy::load::{PackFile, PackSource, parse_pack, resolve, resolve_file};
use cavra_policy::{Action, ActionType, EvalContext, Outcome, evaluate};
use rand::{Rng, SeedableRng};

struct Mem(Vec<(&'static str, String)>);
impl PackSource for Mem {
    fn get(&self, id: &str) -> Option<PackFile> {
        self.0
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(i, t)| PackFile {
                id: i.to_string(),
                path: format!("{i}/policy.yaml"),
                text: t.clone(),
            })
    }
    fn ids(&self) -> Vec<String> {
        self.0.iter().map(|(i, _)| i.to_string()).collect()
    }
}

fn pack(id: &str, extra: &str) -> String {
    format!("metadata:\n  id: {id}\n  title: T\n  description: D\n  version: \"1\"\n{extra}")
}

fn err(text: &str) -> String {
    parse_pack("p.yaml", text).unwrap_err().to_string()
}

#[test]
fn malformed_yaml_names_file_line_and_column() {
    let e = err("metadata:\n  id: [\n");
    assert!(e.starts_with("p.yaml:"), "{e}");
    assert!(e.contains(":2:") || e.contains(":3:"), "{e}");
}

#[test]
fn unknown_fields_are_errors_with_location() {
    let e = err(&pack("cavra-x", "filesystem:\n  block_reads: [.env]\n"));
    assert!(e.contains("p.yaml:7:3"), "{e}");
    assert!(e.contains("unknown field `block_reads`"), "{e}");
    let e = err(&pack("cavra-x", "surprise: 1\n"));
    assert!(e.contains("unknown field `surprise`"), "{e}");
}

#[test]
fn wrong_types_and_values_are_named() {
    let e = err(&pack("cavra-x", "git:\n  require_pull_request: maybe\n"));
    assert!(e.contains("p.yaml:7"), "{e}");
    let e = err(&pack(
        "cavra-x",
        "mcp:\n  risk_scoring: {github: extreme}\n",
    ));
    assert!(e.contains("extreme"), "{e}");
    let e = err(&pack("Bad_Id", ""));
    assert!(
        e.contains("metadata.id") && e.contains("`Bad_Id`") && e.contains("p.yaml:2:"),
        "{e}"
    );
    let e = err(&pack("cavra-x", "filesystem:\n  block_read: [\"!x\"]\n"));
    assert!(
        e.contains("filesystem.block_read[0]") && e.contains("`!x`"),
        "{e}"
    );
    let e = err(&pack("cavra-x", "commands:\n  default: maybe\n"));
    assert!(e.contains("maybe"), "{e}");
}

#[test]
fn inheritance_cycles_are_detected() {
    let src = Mem(vec![
        (
            "cavra-a",
            pack("cavra-a", "")
                .replace("version: \"1\"\n", "version: \"1\"\n  inherits: cavra-b\n"),
        ),
        (
            "cavra-b",
            pack("cavra-b", "").replace(
                "version: \"1\"\n",
                "version: \"1\"\n  inherits: [cavra-c]\n",
            ),
        ),
        (
            "cavra-c",
            pack("cavra-c", "").replace(
                "version: \"1\"\n",
                "version: \"1\"\n  inherits: [cavra-a]\n",
            ),
        ),
    ]);
    let e = resolve(&src, "cavra-a").unwrap_err().to_string();
    assert!(
        e.contains("inheritance cycle: cavra-a -> cavra-b -> cavra-c -> cavra-a"),
        "{e}"
    );
    let missing = Mem(vec![(
        "cavra-a",
        pack("cavra-a", "").replace(
            "version: \"1\"\n",
            "version: \"1\"\n  inherits: cavra-nope\n",
        ),
    )]);
    let e = resolve(&missing, "cavra-a").unwrap_err().to_string();
    assert!(
        e.contains("`cavra-nope` not found") && e.contains("policy.yaml:6:13"),
        "{e}"
    );
}

#[test]
fn inheritance_merges_and_normalises() {
    let src = Mem(vec![
        ("cavra-parent", pack("cavra-parent", "filesystem:\n  block_read: [.env]\ngit:\n  require_pull_request: false\n")),
        ("cavra-child", pack("cavra-child", "filesystem:\n  block_read: [\"**/secrets.*\"]\ngit:\n  require_pull_request: true\n").replace("version: \"1\"\n", "version: \"1\"\n  inherits: cavra-parent\n")),
    ]);
    let r = resolve(&src, "cavra-child").unwrap();
    assert_eq!(
        r.spec.filesystem.as_ref().unwrap().block_read,
        vec!["**/secrets.*", ".env"]
    );
    assert_eq!(
        r.spec.git.as_ref().unwrap().require_pull_request,
        Some(true)
    );
    let parent = resolve(&src, "cavra-parent").unwrap();
    let d = cavra_policy::load::diff(&parent.spec, &r.spec);
    assert!(d.changed.contains(&"metadata.id".to_string()), "{d:?}");
    assert!(
        d.changed.contains(&"git.require_pull_request".to_string()),
        "{d:?}"
    );
    // Digest is stable and order-insensitive for pattern lists.
    let a = resolve_file(
        &src,
        &PackFile {
            id: "x".into(),
            path: "x".into(),
            text: pack("cavra-x", "filesystem:\n  block_read: [a, b]\n"),
        },
        &[],
    )
    .unwrap();
    let b = resolve_file(
        &src,
        &PackFile {
            id: "x".into(),
            path: "x".into(),
            text: pack("cavra-x", "filesystem:\n  block_read: [b, a]\n"),
        },
        &[],
    )
    .unwrap();
    assert_eq!(a.digest(), b.digest());
    assert!(a.digest().starts_with("sha256:"));
}

fn allow_all() -> cavra_policy::CompiledPolicy {
    let text = "id: cavra-allow-all\nversion: \"1\"\ncommands:\n  allow: [\"*\"]\n";
    resolve_file(
        &Mem(vec![]),
        &PackFile {
            id: "a".into(),
            path: "a".into(),
            text: text.into(),
        },
        &[],
    )
    .unwrap()
    .compile()
    .unwrap()
}

#[test]
fn hostile_commands_fail_closed() {
    let p = allow_all();
    let ctx = EvalContext::default();
    let eval = |c: &str| evaluate(&p, &Action::new(ActionType::ExecuteCommand, c), &ctx).decision;
    assert_eq!(eval("ls -la"), Outcome::Allow);
    assert_eq!(
        eval(&("echo ".to_string() + &"a".repeat(1 << 20))),
        Outcome::Block
    );
    assert_eq!(
        eval(&("(".repeat(10_000) + &")".repeat(10_000))),
        Outcome::Block
    );
    assert_eq!(eval(&"$(".repeat(10_000)), Outcome::Block);
    assert_eq!(eval("echo 'unterminated"), Outcome::Block);
    assert_eq!(eval(""), Outcome::Block);
    assert_eq!(eval("$X apply"), Outcome::RequireApproval);
    assert_eq!(
        evaluate(&p, &Action::new(ActionType::ReadFile, "a\0b"), &ctx).decision,
        Outcome::Block
    );
    assert!(ActionType::parse("delete_everything").is_err());
}

#[test]
fn random_command_lines_never_panic_and_issues_never_allow() {
    let p = allow_all();
    let ctx = EvalContext::default();
    let atoms = [
        "rm",
        " ",
        "-rf",
        "/",
        "'",
        "\"",
        "$",
        "(",
        ")",
        "{",
        "}",
        "`",
        ";",
        "&&",
        "|",
        "<",
        ">",
        "<<",
        "EOF\n",
        "\\",
        "$'\\x72'",
        "sh -c ",
        "eval ",
        "sudo ",
        "x=",
        "${",
        "*",
        "\n",
        "#",
        "!",
        "[[",
        "]]",
        "for i in a; do ",
        "done",
        "$((",
        "))",
    ];
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    for _ in 0..3000 {
        let n = rng.gen_range(1..24);
        let s: String = (0..n)
            .map(|_| atoms[rng.gen_range(0..atoms.len())])
            .collect();
        let a = cavra_shell::analyze(&s);
        let v = evaluate(
            &p,
            &Action::new(ActionType::ExecuteCommand, s.clone()),
            &ctx,
        );
        if !a.is_clean() {
            assert_ne!(v.decision, Outcome::Allow, "{s:?}: {:?}", a.issues);
        }
    }
}

#[test]
fn random_pack_mutations_never_panic() {
    let base = include_str!("../../../policies/cavra-ai-agent-baseline/policy.yaml");
    let lines: Vec<&str> = base.lines().collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    for _ in 0..300 {
        let mut l = lines.clone();
        for _ in 0..rng.gen_range(1..4) {
            let i = rng.gen_range(0..l.len());
            match rng.gen_range(0..3) {
                0 => {
                    l.remove(i);
                }
                1 => l.insert(i, lines[rng.gen_range(0..lines.len())]),
                _ => l[i] = &l[i][..rng.gen_range(0..=l[i].len()).min(l[i].len())],
            }
        }
        let _ = parse_pack("m.yaml", &l.join("\n"));
    }
}

/// Found by the command_analyser fuzz target: `"\x0c(-)"` has analysis
/// issues, but the engine trimmed the form feed away (Unicode whitespace)
/// and allowed the clean remainder under `commands.allow: ["*"]`.
#[test]
fn fuzz_form_feed_prefix_is_not_trimmed_into_an_allow() {
    let p = allow_all();
    for cmd in [
        "\u{c}(-)",
        "\u{b}ls",
        "\u{a0}rm -rf /",
        "ls\u{c}",
        "\r(functAon def$nit);\n",
    ] {
        let a = cavra_shell::analyze(cmd);
        let v = evaluate(
            &p,
            &Action::new(ActionType::ExecuteCommand, cmd),
            &EvalContext::default(),
        );
        if !a.is_clean() {
            assert_ne!(v.decision, Outcome::Allow, "{cmd:?}: {:?}", a.issues);
        }
    }
    // Shell blanks around a command are still trimmed.
    let v = evaluate(
        &p,
        &Action::new(ActionType::ExecuteCommand, " \tls\n"),
        &EvalContext::default(),
    );
    assert_eq!(v.decision, Outcome::Allow);
}

/// Found by the command_analyser fuzz target: an IO number too large for
/// an int (`99999999999>x`) panicked inside brush-parser. The analysis now
/// survives it and reports the input as unparseable, which blocks.
#[test]
fn fuzz_huge_io_number_does_not_panic_and_is_not_allowed() {
    let p = allow_all();
    for cmd in [
        "99999999999>x",
        "ls 4294967296<in",
        "echo $(cat 99999999999999999999>&2)",
    ] {
        let a = cavra_shell::analyze(cmd);
        assert!(!a.is_clean(), "{cmd:?}");
        let v = evaluate(
            &p,
            &Action::new(ActionType::ExecuteCommand, cmd),
            &EvalContext::default(),
        );
        assert_ne!(v.decision, Outcome::Allow, "{cmd:?}");
    }
}

/// Regression: parents were resolved again on every path that reached
/// them, so a ladder of packs each inheriting the next two took 2^depth
/// parses and a hook never answered.
#[test]
fn inheritance_ladder_resolves_each_pack_once() {
    const LEVELS: usize = 28;
    let mut packs = Vec::new();
    for k in 0..LEVELS {
        for side in ["x", "y"] {
            let id: &'static str = Box::leak(format!("cavra-{side}{k}").into_boxed_str());
            let inherits = if k + 1 < LEVELS {
                format!("  inherits: [cavra-x{}, cavra-y{}]\n", k + 1, k + 1)
            } else {
                String::new()
            };
            let text = pack(
                id,
                &format!("filesystem:\n  block_read: [\"{side}{k}.txt\"]\n"),
            )
            .replace("version: \"1\"\n", &format!("version: \"1\"\n{inherits}"));
            packs.push((id, text));
        }
    }
    let r = resolve(&Mem(packs), "cavra-x0").unwrap();
    let reads = &r.spec.filesystem.as_ref().unwrap().block_read;
    assert_eq!(reads.len(), 2 * LEVELS - 1, "{reads:?}");
    assert_eq!(r.files.len(), 2 * LEVELS - 1);
}

/// Regression: a duration ending in a multi-byte character was split inside
/// it, and validation panicked.
#[test]
fn non_ascii_duration_is_an_error_not_a_panic() {
    let e = err(&pack(
        "cavra-x",
        "approval_routes:\n  cab:\n    expires_after: \"8é\"\n",
    ));
    assert!(e.contains("expires_after"), "{e}");
}

/// Regression: an overlay's `metadata.inherits` was silently ignored.
#[test]
fn an_overlay_that_inherits_is_an_error() {
    let src = Mem(vec![("cavra-p", pack("cavra-p", ""))]);
    let base = PackFile {
        id: "b".into(),
        path: "b.yaml".into(),
        text: pack("cavra-b", ""),
    };
    let overlay = PackFile {
        id: "o".into(),
        path: "o.yaml".into(),
        text: pack("cavra-o", "")
            .replace("version: \"1\"\n", "version: \"1\"\n  inherits: cavra-p\n"),
    };
    let e = resolve_file(&src, &base, &[overlay])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("o.yaml:6") && e.contains("overlay cannot inherit"),
        "{e}"
    );
}

/// Regression: each file was validated alone, so a child's rule naming an
/// approval route its parent defines was refused; a route defined nowhere
/// is still an error, located in the child.
#[test]
fn a_child_may_name_its_parents_approval_route() {
    let rule = |route: &str| {
        format!(
            "rules:\n  - id: r\n    action: write_file\n    resources: [\"iam/**\"]\n    decision: require_approval\n    approval_route: {route}\n"
        )
    };
    let parent = pack(
        "cavra-parent",
        "approval_routes:\n  cab:\n    approvers: [Change Advisory Board]\n",
    );
    let child = |route: &str| {
        pack("cavra-child", &rule(route)).replace(
            "version: \"1\"\n",
            "version: \"1\"\n  inherits: cavra-parent\n",
        )
    };
    let src = Mem(vec![
        ("cavra-parent", parent.clone()),
        ("cavra-child", child("cab")),
    ]);
    let r = resolve(&src, "cavra-child").unwrap();
    assert!(r.spec.approval_routes.contains_key("cab"));
    let src = Mem(vec![
        ("cavra-parent", parent),
        ("cavra-child", child("nowhere")),
    ]);
    let e = resolve(&src, "cavra-child").unwrap_err().to_string();
    assert!(
        e.contains("cavra-child/policy.yaml:") && e.contains("`nowhere` is not defined"),
        "{e}"
    );
}
