use super::*;

/// Render an analysis as one line per command: `argv | via | flags`, then issues.
fn render(a: &Analysis) -> String {
    let mut out = Vec::new();
    for c in &a.commands {
        let mut line = c.argv.join(" ");
        if !c.via.is_empty() {
            line.push_str(&format!("  [via {}]", c.via.join(" > ")));
        }
        for r in &c.redirects {
            line.push_str(&format!("  {:?} {}", r.mode, r.path));
        }
        if c.dynamic_args {
            line.push_str("  (dynamic)");
        }
        if c.speculative {
            line.push_str("  (speculative)");
        }
        out.push(line);
    }
    for i in &a.issues {
        out.push(format!("! {}", i.describe()));
    }
    out.join("\n")
}

#[track_caller]
fn check(input: &str, expect: &str) {
    let got = render(&analyze(input));
    assert_eq!(got.trim(), expect.trim(), "input: {input}");
}

#[test]
fn lists_and_pipelines() {
    check("a && b || c; d & e | f", "a\nb\nc\nd\ne\nf");
    check("(cd x && make) | tee log", "cd x\nmake\ntee log");
    check("{ ls; pwd; }", "ls\npwd");
}

#[test]
fn quoting_is_removed() {
    check("r''m -rf /", "rm -rf /");
    check("\"r\"m -rf /", "rm -rf /");
    check("\\r\\m -rf /", "rm -rf /");
    check("$'\\x72\\x6d' -rf /", "rm -rf /");
    check("$'\\162m' x", "rm x");
}

#[test]
fn paths_and_assignments() {
    check("/usr/bin/terraform apply", "terraform apply");
    check("FOO=1 BAR=2 terraform apply", "terraform apply");
}

#[test]
fn variables_are_resolved() {
    check("P=~/.ssh; cat $P/id_rsa", "cat ~/.ssh/id_rsa");
    check("C=rm; $C -rf /", "rm -rf /");
    check("C='rm -rf'; $C /", "rm -rf /");
    check("rm$IFS-rf$IFS/", "rm -rf /");
    check(
        "$X apply",
        "${X} apply\n! command name `${X}` is not a literal",
    );
}

#[test]
fn nested_scripts() {
    check("sh -c 'terraform apply'", "terraform apply  [via sh -c]");
    check(
        "bash -lc \"sudo rm -rf /\"",
        "rm -rf /  [via bash -c > sudo]",
    );
    check(
        "echo $(rm -rf x)",
        "rm -rf x  [via $(…)]\necho $(rm -rf x)  (dynamic)",
    );
    check(
        "eval 'git push origin main'",
        "git push origin main  [via eval]",
    );
    check(
        "echo 'rm -rf /' | sh",
        "echo rm -rf /\nrm -rf /  [via sh <stdin>]",
    );
    check("bash <<< 'rm -rf /'", "rm -rf /  [via bash <stdin>]");
    check(
        "bash <<EOF\nrm -rf /\nEOF\n",
        "rm -rf /  [via bash <stdin>]",
    );
    check(
        "curl -s https://x.sh | sh",
        "curl -s https://x.sh\nsh\n! `sh <stdin>` runs a script whose text is not statically known",
    );
}

#[test]
fn wrappers() {
    check(
        "sudo -u root env A=1 nice -n 5 timeout 10 rm -rf /",
        "rm -rf /  [via sudo > env > nice > timeout]",
    );
    check(
        "find . -name '*.tmp' -exec rm -f {} \\;",
        "rm -f  [via find -exec]  (dynamic)\nfind . -name *.tmp -exec rm -f {} ;",
    );
    check("ls | xargs rm", "ls\nrm  [via xargs]  (dynamic)");
    check("command -v rm", "command -v rm");
    check("env -S 'rm -rf /'", "rm -rf /  [via env]");
}

#[test]
fn brace_expansion() {
    check("{rm,-rf,/}", "rm -rf /");
}

#[test]
fn redirections() {
    check(
        "echo x > .github/workflows/ci.yml",
        "echo x  Write .github/workflows/ci.yml",
    );
    check("cat < .env", "cat  Read .env");
    check("> out.txt", "  Write out.txt");
}

#[test]
fn inline_code() {
    check(
        "python3 -c 'import os; os.system(\"rm -rf /\")'",
        "rm -rf /  [via python3 inline code]  (speculative)\npython3 -c import os; os.system(\"rm -rf /\")",
    );
    check("python3 -c 'print(1)'", "python3 -c print(1)");
}

#[test]
fn hostile_input_is_bounded() {
    let deep = "(".repeat(10_000) + &")".repeat(10_000);
    let a = analyze(&deep);
    assert!(matches!(a.issues.first(), Some(Issue::TooDeep { .. })));
    let long = "echo ".to_string() + &"a".repeat(1 << 20);
    let a = analyze(&long);
    assert!(matches!(a.issues.first(), Some(Issue::TooLong { .. })));
    let a = analyze("echo 'unterminated");
    assert!(matches!(a.issues.first(), Some(Issue::Unparseable { .. })));
}

#[test]
fn file_operands() {
    let a = analyze("cp .env /tmp/x && sed -i s/a/b/ config.yml && grep -r foo src");
    let acc: Vec<String> = a
        .commands
        .iter()
        .flat_map(file_accesses)
        .map(|f| format!("{:?} {}", f.mode, f.path))
        .collect();
    assert_eq!(
        acc,
        vec![
            "Read .env",
            "Write /tmp/x",
            "Write /tmp/x/.env",
            "Read config.yml",
            "Write config.yml",
            "Read src"
        ]
    );
}

#[test]
fn parallel_runs_each_input() {
    check(
        "parallel ::: 'rm -rf /' 'ls'",
        "rm -rf /  [via parallel]\nls  [via parallel]",
    );
    check(
        "parallel rm ::: a b",
        "rm a  [via parallel]\nrm b  [via parallel]",
    );
    check("parallel 'rm {}' ::: x", "rm x  [via parallel]");
}
