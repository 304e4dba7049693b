#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::type_complexity
)]
//! Golden protocol tests: real hook JSON into a real `cavra hook <agent>`
//! child process, exact stdout, stderr and exit code out (insta snapshots),
//! plus a semantic check of each case's gate so a snapshot cannot quietly
//! encode a wrong answer.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cavra_agent::Agent;
use cavra_agent::install::is_block;
use serde::Deserialize;
use serde_json::Value;

const CAVRA: &str = env!("CARGO_BIN_EXE_cavra");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    gate: String,
    #[serde(default)]
    input: Option<Value>,
    #[serde(default)]
    raw: Option<String>,
    #[serde(default)]
    raw_hex: Option<String>,
    #[serde(default)]
    args: Vec<String>,
}

struct Repo {
    _dir: tempfile::TempDir,
    root: PathBuf,
    spool: PathBuf,
}

fn repo() -> Repo {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap().join("repo");
    std::fs::create_dir_all(root.join(".git")).unwrap();
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(root.join("src/main.rs"), "fn main() {}\n").unwrap();
    let spool = dir.path().canonicalize().unwrap().join("spool.jsonl");
    Repo {
        _dir: dir,
        root,
        spool,
    }
}

fn hook_cmd(repo: &Repo, agent: &str, args: &[String]) -> Command {
    let mut c = Command::new(CAVRA);
    c.arg("hook")
        .arg(agent)
        .args(args)
        .current_dir(&repo.root)
        .env("CAVRA_HOOK_SPOOL", &repo.spool)
        // The pack cache stays in the scratch directory, not the user's.
        .env(
            "XDG_CACHE_HOME",
            repo.spool.parent().unwrap_or(&repo.root).join("cache"),
        )
        .env_remove("CAVRA_POLICY")
        .env_remove("CAVRA_POLICY_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

fn run_hook(repo: &Repo, agent: &str, args: &[String], input: &[u8]) -> (String, String, i32) {
    let mut child = hook_cmd(repo, agent, args).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.code().unwrap_or(-1),
    )
}

fn normalize(s: &str, root: &Path) -> String {
    let s = s.replace(&root.display().to_string(), "ROOT");
    let mut out = String::new();
    let mut rest = s.as_str();
    while let Some(i) = rest.find("dec_") {
        out.push_str(&rest[..i + 4]);
        rest = &rest[i + 4..];
        let n = rest.bytes().take_while(u8::is_ascii_hexdigit).count();
        out.push_str(if n > 0 { "ID" } else { "" });
        rest = &rest[n..];
    }
    out.push_str(rest);
    out
}

fn input_bytes(c: &Case, root: &Path) -> Vec<u8> {
    if let Some(r) = &c.raw {
        return r.as_bytes().to_vec();
    }
    if let Some(h) = &c.raw_hex {
        return (0..h.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
            .collect();
    }
    let text = c.input.as_ref().expect("input, raw or raw_hex").to_string();
    text.replace("ROOT", &root.display().to_string())
        .into_bytes()
}

fn asks(agent: Agent, stdout: &str) -> bool {
    let Ok(v) = serde_json::from_str::<Value>(stdout.trim()) else {
        return false;
    };
    let s = |p: &str| v.pointer(p).and_then(Value::as_str);
    match agent {
        Agent::ClaudeCode | Agent::Codex => {
            s("/hookSpecificOutput/permissionDecision") == Some("ask")
        }
        Agent::Cursor => s("/permission") == Some("ask"),
        Agent::CopilotCli => s("/permissionDecision") == Some("ask"),
        Agent::GeminiCli => false,
    }
}

fn golden(agent_name: &str) {
    let agent = Agent::parse(agent_name).unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{agent_name}.yaml"));
    let cases: Vec<Case> =
        serde_saphyr::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(cases.len() >= 7, "{agent_name}: too few cases");
    let repo = repo();
    let mut snap = String::new();
    for c in &cases {
        let input = input_bytes(c, &repo.root);
        let (stdout, stderr, code) = run_hook(&repo, agent_name, &c.args, &input);
        let ctx = format!(
            "{agent_name} / {}: exit {code}, stdout {stdout:?}, stderr {stderr:?}",
            c.name
        );
        let blocked = is_block(agent, &stdout, Some(code));
        match c.gate.as_str() {
            "allow" => {
                assert_eq!(code, 0, "{ctx}");
                assert!(!blocked && !asks(agent, &stdout), "{ctx}");
            }
            "deny" => {
                assert!(blocked, "{ctx}");
                assert!(!stdout.contains("fail closed"), "{ctx}");
            }
            "ask" => assert!(asks(agent, &stdout), "{ctx}"),
            "fail_closed" => {
                assert!(blocked, "{ctx}");
                assert!(
                    stdout.contains("fail closed") || stderr.contains("fail closed"),
                    "{ctx}"
                );
            }
            g => panic!("{ctx}: unknown gate {g}"),
        }
        // Codex accepts no unknown fields: exactly the documented three.
        if agent == Agent::Codex && !stdout.is_empty() {
            let v: Value = serde_json::from_str(&stdout).unwrap();
            let o = v.as_object().unwrap();
            assert_eq!(o.len(), 1, "{ctx}");
            let h = o["hookSpecificOutput"].as_object().unwrap();
            let mut keys: Vec<&str> = h.keys().map(String::as_str).collect();
            keys.sort_unstable();
            assert!(
                keys == [
                    "hookEventName",
                    "permissionDecision",
                    "permissionDecisionReason"
                ] || keys == ["decision", "hookEventName"],
                "{ctx}"
            );
        }
        if !stdout.is_empty() {
            assert!(stdout.ends_with('\n'), "{ctx}");
            serde_json::from_str::<Value>(&stdout)
                .unwrap_or_else(|e| panic!("{ctx}: stdout is not one JSON document: {e}"));
        }
        snap.push_str(&format!(
            "## {}\nexit: {code}\nstdout: {}stderr: {}\n",
            c.name,
            if stdout.is_empty() {
                "\n".to_string()
            } else {
                normalize(&stdout, &repo.root)
            },
            if stderr.is_empty() {
                "\n".to_string()
            } else {
                normalize(&stderr, &repo.root)
            },
        ));
    }
    insta::assert_snapshot!(format!("golden_{}", agent_name.replace('-', "_")), snap);
}

#[test]
fn golden_claude_code() {
    golden("claude-code");
}

#[test]
fn golden_codex() {
    golden("codex");
}

#[test]
fn golden_gemini_cli() {
    golden("gemini-cli");
}

#[test]
fn golden_cursor() {
    golden("cursor");
}

#[test]
fn golden_copilot_cli() {
    golden("copilot-cli");
}

#[test]
fn hook_decisions_are_recorded_in_the_spool() {
    let repo = repo();
    let input = format!(
        r#"{{"session_id":"sess-42","cwd":"{}","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{{"command":"rm -rf /"}}}}"#,
        repo.root.display()
    );
    let (_, _, code) = run_hook(&repo, "claude-code", &[], input.as_bytes());
    assert_eq!(code, 0);
    let text = std::fs::read_to_string(&repo.spool).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["session_id"], "sess-42");
    assert_eq!(lines[0]["agent_id"], "claude-code");
    assert_eq!(lines[0]["decision"], "block");
    assert_eq!(lines[0]["target"], "rm -rf /");
}

#[test]
fn unwritable_spool_fails_closed() {
    let repo = repo();
    let mut cmd = hook_cmd(&repo, "claude-code", &[]);
    cmd.env(
        "CAVRA_HOOK_SPOOL",
        "/proc/cavra-cannot-write-here/spool.jsonl",
    );
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(
            br#"{"session_id":"s","cwd":"/tmp","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"ls"}}"#,
        )
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("could not be recorded"), "{err}");
}

/// Regression: the spool lock was waited for without limit, so a process
/// holding it (a stuck ingest) hung every hook past the agent's timeout.
#[test]
fn spool_lock_held_elsewhere_fails_closed_at_the_deadline() {
    let repo = repo();
    let held = std::fs::File::create(&repo.spool).unwrap();
    held.lock().unwrap();
    let mut cmd = hook_cmd(&repo, "claude-code", &[]);
    cmd.env("CAVRA_HOOK_TIMEOUT_MS", "300");
    let start = Instant::now();
    let (stdout, stderr, code) = {
        let mut child = cmd.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(br#"{"session_id":"s","cwd":"/tmp","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"ls"}}"#)
            .unwrap();
        let out = child.wait_with_output().unwrap();
        (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
            out.status.code().unwrap_or(-1),
        )
    };
    assert!(start.elapsed() < Duration::from_secs(10), "hook hung");
    assert_eq!(code, 2, "{stdout} {stderr}");
    assert!(stderr.contains("could not be recorded"), "{stderr}");
    assert!(stderr.contains("spool lock"), "{stderr}");
    drop(held);
    // Once the lock is free the same call is answered and recorded.
    let input = br#"{"session_id":"s","cwd":"/tmp","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"ls"}}"#;
    let (_, stderr, code) = run_hook(&repo, "claude-code", &[], input);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        std::fs::read_to_string(&repo.spool)
            .unwrap()
            .contains("\"session_id\":\"s\"")
    );
}

/// A policy path that is a FIFO would block the hook on open; it is refused
/// as not a regular file.
#[test]
fn policy_that_is_not_a_regular_file_fails_closed() {
    let repo = repo();
    let fifo = repo.root.join("policy.fifo");
    let st = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(st.success());
    let args = vec!["--policy".to_string(), fifo.display().to_string()];
    let input = br#"{"session_id":"s","cwd":"/tmp","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"ls"}}"#;
    let start = Instant::now();
    let (stdout, stderr, code) = run_hook(&repo, "claude-code", &args, input);
    assert!(start.elapsed() < Duration::from_secs(10), "hook hung");
    assert_eq!(code, 2, "{stdout} {stderr}");
    assert!(stderr.contains("not a regular file"), "{stderr}");
}

#[test]
fn oversized_input_fails_closed_quickly() {
    let repo = repo();
    let start = Instant::now();
    let mut big = br#"{"session_id":"s","hook_event_name":"PreToolUse","tool_name":"Write","tool_input":{"file_path":"/tmp/x","content":""#.to_vec();
    big.resize(10 * 1024 * 1024, b'a');
    big.extend_from_slice(br#""}}"#);
    let (stdout, stderr, code) = run_hook(&repo, "claude-code", &[], &big);
    assert_eq!(code, 2, "{stdout} {stderr}");
    assert!(stderr.contains("larger than 8 MiB"), "{stderr}");
    assert!(start.elapsed() < Duration::from_secs(20));
}

#[test]
fn stdin_that_never_closes_fails_closed_at_the_deadline() {
    let repo = repo();
    let mut cmd = hook_cmd(&repo, "claude-code", &[]);
    cmd.env("CAVRA_HOOK_TIMEOUT_MS", "300");
    let start = Instant::now();
    let mut child = cmd.spawn().unwrap();
    let stdin = child.stdin.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "hook hung");
        std::thread::sleep(Duration::from_millis(10));
    };
    drop(stdin);
    let mut err = String::new();
    stderr.read_to_string(&mut err).unwrap();
    assert_eq!(status.code(), Some(2));
    assert!(err.contains("no decision within 300 ms"), "{err}");
}

/// A minimal agent loop: ask the hook, run the Bash command only when the
/// hook lets it proceed.
fn agent_runs(repo: &Repo, policy: &Path, command: &str) -> bool {
    let input = serde_json::json!({
        "session_id": "e2e", "cwd": repo.root, "hook_event_name": "PreToolUse",
        "tool_name": "Bash", "tool_input": {"command": command}});
    let args = vec!["--policy".to_string(), policy.display().to_string()];
    let (stdout, _, code) = run_hook(repo, "claude-code", &args, input.to_string().as_bytes());
    if code == 2 || is_block(Agent::ClaudeCode, &stdout, Some(code)) || !stdout.is_empty() {
        return false;
    }
    let st = Command::new("bash")
        .arg("-c")
        .arg(command)
        .current_dir(&repo.root)
        .status()
        .unwrap();
    assert!(st.success());
    true
}

#[test]
fn end_to_end_destructive_call_leaves_the_repository_untouched() {
    let repo = repo();
    let pack_dir = repo.root.parent().unwrap().join("pack");
    std::fs::create_dir_all(&pack_dir).unwrap();
    let policy = pack_dir.join("policy.yaml");
    std::fs::write(
        &policy,
        "metadata: {id: cavra-e2e, title: e2e, description: e2e, version: '1'}\n\
         commands:\n  block: ['rm -rf *', 'rm -r *', 'find * -delete']\n  allow: ['touch *', 'ls*']\n",
    )
    .unwrap();
    let before = std::fs::read_to_string(repo.root.join("src/main.rs")).unwrap();
    for destructive in [
        "rm -rf src",
        "r''m -rf src",
        "sh -c 'rm -rf src'",
        "D=src; rm -rf $D",
        "find src -delete",
        "ls && rm -r src",
    ] {
        assert!(!agent_runs(&repo, &policy, destructive), "{destructive}");
        assert_eq!(
            std::fs::read_to_string(repo.root.join("src/main.rs")).unwrap(),
            before,
            "{destructive} changed the repository"
        );
    }
    assert!(agent_runs(&repo, &policy, "touch created.txt"));
    assert!(repo.root.join("created.txt").exists());
}

fn cavra(dir: &Path, args: &[&str]) -> (String, String, i32) {
    let out = Command::new(CAVRA)
        .args(args)
        .current_dir(dir)
        .env("HOME", dir.join("home"))
        .env("CAVRA_HOOK_SPOOL", dir.join("spool.jsonl"))
        .env_remove("CAVRA_POLICY")
        .env_remove("CAVRA_POLICY_DIR")
        .output()
        .unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn install_is_idempotent_keeps_other_settings_and_doctor_proves_enforcement() {
    let repo = repo();
    let root = &repo.root;
    std::fs::create_dir_all(root.join("home")).unwrap();
    std::fs::create_dir_all(root.join(".claude")).unwrap();
    std::fs::write(
        root.join(".claude/settings.json"),
        r#"{"permissions": {"deny": ["Read(./.env)"]}, "hooks": {"PostToolUse": [{"matcher": "*", "hooks": [{"type": "command", "command": "logger"}]}]}}"#,
    )
    .unwrap();
    // Dry run writes nothing.
    let (out, _, code) = cavra(root, &["install", "claude-code", "--dry-run"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("would change"), "{out}");
    assert!(out.contains("+ "), "{out}");
    assert!(
        !std::fs::read_to_string(root.join(".claude/settings.json"))
            .unwrap()
            .contains("PreToolUse")
    );
    for agent in [
        "claude-code",
        "codex",
        "gemini-cli",
        "cursor",
        "copilot-cli",
    ] {
        let (out, err, code) = cavra(root, &["install", agent]);
        assert_eq!(code, 0, "{agent}: {out} {err}");
        // Idempotent: a second install changes nothing.
        let (again, _, code) = cavra(root, &["install", agent]);
        assert_eq!(code, 0);
        assert!(again.contains("already installed"), "{agent}: {again}");
    }
    let settings: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join(".claude/settings.json")).unwrap())
            .unwrap();
    assert_eq!(settings["permissions"]["deny"][0], "Read(./.env)");
    assert_eq!(
        settings["hooks"]["PostToolUse"][0]["hooks"][0]["command"],
        "logger"
    );
    let h = &settings["hooks"]["PreToolUse"][0]["hooks"][0];
    assert_eq!(
        h["args"],
        serde_json::json!(["hook", "claude-code", "--event", "PreToolUse"])
    );
    let p = &settings["hooks"]["PermissionRequest"][0]["hooks"][0];
    assert_eq!(
        p["args"],
        serde_json::json!(["hook", "claude-code", "--event", "PermissionRequest"])
    );
    assert!(Path::new(h["command"].as_str().unwrap()).is_absolute());
    assert_eq!(settings["hooks"]["PreToolUse"].as_array().unwrap().len(), 1);
    for f in [
        ".codex/hooks.json",
        ".gemini/settings.json",
        ".cursor/hooks.json",
        ".github/hooks/cavra.json",
    ] {
        assert!(root.join(f).exists(), "{f}");
    }
    let (out, err, code) = cavra(root, &["doctor", "--json"]);
    assert_eq!(code, 0, "{out} {err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let agents = report["agents"].as_array().unwrap();
    let project: Vec<&Value> = agents.iter().filter(|a| a["scope"] == "project").collect();
    assert_eq!(project.len(), 5);
    for a in project {
        assert_eq!(a["installed"], true, "{a}");
        assert_eq!(a["enforcing"], true, "{a}");
    }
    // A hook pointing at a program that lets everything through is caught.
    let fake = root.join("home/fake-cavra");
    std::fs::write(&fake, "#!/bin/sh\ncat >/dev/null\nexit 0\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let text = std::fs::read_to_string(root.join(".claude/settings.json")).unwrap();
    let exe = h["command"].as_str().unwrap().to_string();
    std::fs::write(
        root.join(".claude/settings.json"),
        text.replace(
            &exe,
            &fake.display().to_string().replace("fake-cavra", "cavra"),
        ),
    )
    .unwrap();
    std::fs::rename(&fake, root.join("home/cavra")).unwrap();
    let (out, _, code) = cavra(root, &["doctor", "--agent", "claude-code"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("NOT enforcing"), "{out}");
}

#[test]
fn agent_exec_runs_allowed_commands_and_refuses_blocked_ones() {
    let repo = repo();
    let root = &repo.root;
    let (_, _, code) = cavra(root, &["agent", "exec", "--", "touch", "made-by-exec"]);
    assert_eq!(code, 0);
    assert!(root.join("made-by-exec").exists());
    // Exit status passes through.
    let (_, _, code) = cavra(root, &["agent", "exec", "--", "false"]);
    assert_eq!(code, 1);
    let (_, err, code) = cavra(root, &["agent", "exec", "--", "rm", "-rf", "/"]);
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("CAVRA blocked"), "{err}");
    let (_, err, code) = cavra(root, &["agent", "exec", "--", "rm", "-rf", "src"]);
    assert_eq!(code, 3, "{err}");
    assert!(root.join("src/main.rs").exists());
    let spool = std::fs::read_to_string(root.join("spool.jsonl")).unwrap();
    assert_eq!(spool.lines().count(), 4);
}

/// Regression: a patch naming hundreds of thousands of files was judged
/// file by file, a decision and a spool record each, past the agent's hook
/// timeout (which some agents treat as "proceed"). Past 1,000 actions the
/// call is refused whole, in the event's own block shape.
#[test]
fn a_call_with_more_than_1000_actions_fails_closed() {
    let repo = repo();
    let patch = |n: usize| {
        let mut p = String::from("*** Begin Patch\n");
        for i in 0..n {
            p.push_str(&format!("*** Add File: src/f{i}.rs\n+x\n"));
        }
        p.push_str("*** End Patch\n");
        serde_json::json!({
            "session_id": "c1", "turn_id": "u1", "cwd": repo.root.display().to_string(),
            "hook_event_name": "PreToolUse", "tool_name": "apply_patch",
            "tool_input": {"command": p},
        })
        .to_string()
    };
    let (stdout, stderr, code) = run_hook(&repo, "codex", &[], patch(1_001).as_bytes());
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["hookSpecificOutput"]["permissionDecision"], "deny", "{v}");
    let reason = v["hookSpecificOutput"]["permissionDecisionReason"]
        .as_str()
        .unwrap();
    assert!(reason.contains("1001 actions"), "{reason}");
    let (stdout, stderr, code) = run_hook(&repo, "codex", &[], patch(1_000).as_bytes());
    assert_eq!(code, 0, "{stderr}");
    assert!(!stdout.contains("deny"), "{stdout}");
}

/// Regression: hook arguments the parser refused (an empty `CAVRA_POLICY`,
/// `--policy` next to `--policy-pack`) ended in a usage error's bare exit
/// 2, which Copilot CLI and Codex do not read as a deny. For a known agent
/// they are now its block, in the event's shape.
#[test]
fn refused_hook_arguments_are_the_agents_block() {
    let repo = repo();
    let input = br#"{"toolName":"bash","toolArgs":"{\"command\":\"ls\"}"}"#;
    let mut child = hook_cmd(&repo, "copilot-cli", &[])
        .env("CAVRA_POLICY", "")
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let v: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["permissionDecision"], "deny", "{v}");
    assert!(
        v["permissionDecisionReason"]
            .as_str()
            .unwrap()
            .contains("fail closed")
    );

    let args: Vec<String> = [
        "--event",
        "PreToolUse",
        "--policy",
        "a.yaml",
        "--policy-pack",
        "b",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (stdout, stderr, code) = run_hook(&repo, "codex", &args, b"{}");
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["hookSpecificOutput"]["permissionDecision"], "deny", "{v}");
    // --help is still help, and an unknown agent still a usage error.
    let (stdout, _, code) = run_hook(&repo, "--help", &[], b"");
    assert_eq!(code, 0);
    assert!(stdout.contains("Usage: cavra hook"), "{stdout}");
    let (_, _, code) = run_hook(&repo, "nosuch", &["--bogus".to_string()], b"{}");
    assert_eq!(code, 2);
}

/// Regressions: `install` replaced a 0600 settings file with a 0644 one and
/// a symlinked settings file with a regular file; it accepted a hook
/// command that cannot run (which an agent may treat as "allow").
#[test]
fn install_keeps_permissions_and_links_and_refuses_a_command_that_cannot_run() {
    use std::os::unix::fs::PermissionsExt;
    let repo = repo();
    let root = &repo.root;
    std::fs::create_dir_all(root.join("home/.claude")).unwrap();
    std::fs::create_dir_all(root.join(".claude")).unwrap();
    std::fs::create_dir_all(root.join("dotfiles")).unwrap();
    let real = root.join("dotfiles/claude-settings.json");
    std::fs::write(&real, r#"{"env": {"API_KEY": "k"}}"#).unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::os::unix::fs::symlink(&real, root.join("home/.claude/settings.json")).unwrap();
    for bad in ["/nonexistent/cavra", "/tmp"] {
        let (out, err, code) = cavra(
            root,
            &[
                "install",
                "claude-code",
                "--scope",
                "user",
                "--command",
                bad,
            ],
        );
        assert_eq!(code, 2, "{bad}: {out}{err}");
        assert!(err.contains("hook command"), "{err}");
    }
    assert!(
        !std::fs::read_to_string(&real)
            .unwrap()
            .contains("PreToolUse")
    );
    // A project's settings link (a repository could ship one) is refused.
    std::os::unix::fs::symlink(&real, root.join(".claude/settings.json")).unwrap();
    let (out, err, code) = cavra(root, &["install", "claude-code"]);
    assert_ne!(code, 0, "{out}{err}");
    assert!(err.contains("symbolic link"), "{err}");
    assert!(
        !std::fs::read_to_string(&real)
            .unwrap()
            .contains("PreToolUse")
    );
    // The user's dotfiles link is followed.
    let (out, err, code) = cavra(root, &["install", "claude-code", "--scope", "user"]);
    assert_eq!(code, 0, "{out}{err}");
    let link = std::fs::symlink_metadata(root.join("home/.claude/settings.json")).unwrap();
    assert!(link.file_type().is_symlink(), "the link stays a link");
    let text = std::fs::read_to_string(&real).unwrap();
    assert!(
        text.contains("PreToolUse") && text.contains("API_KEY"),
        "{text}"
    );
    let mode = std::fs::metadata(&real).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

/// Regression: a hook created directories at whatever absolute `cwd` its
/// input named, and recorded the decision there.
#[test]
fn a_hook_never_creates_the_directory_its_input_names() {
    let repo = repo();
    let ghost = repo.root.join("ghost/deeper");
    let input = serde_json::json!({"session_id": "s", "cwd": ghost, "hook_event_name": "PreToolUse",
                                   "tool_name": "Bash", "tool_input": {"command": "ls"}});
    let mut cmd = hook_cmd(&repo, "claude-code", &[]);
    cmd.env_remove("CAVRA_HOOK_SPOOL");
    let out = feed(cmd, input.to_string().as_bytes());
    assert!(out.status.success(), "{out:?}");
    assert!(!repo.root.join("ghost").exists());
    assert!(repo.root.join(".cavra/api/hook-spool.jsonl").exists());
}

/// Regression: an exported `CAVRA_POLICY` made `--policy-pack` a usage
/// error (and every hook installed with it a block): a flag on the command
/// line wins over the environment.
#[test]
fn a_policy_pack_flag_wins_over_cavra_policy() {
    let repo = repo();
    let input = br#"{"toolName":"bash","toolArgs":"{\"command\":\"ls\"}"}"#;
    let mut cmd = hook_cmd(
        &repo,
        "copilot-cli",
        &[
            "--policy-pack".to_string(),
            "cavra-ai-agent-baseline".to_string(),
        ],
    );
    cmd.env("CAVRA_POLICY", repo.root.join("missing.yaml"));
    let stdout = String::from_utf8(feed(cmd, input).stdout).unwrap();
    assert!(!stdout.contains("deny"), "{stdout}");
    let out = Command::new(CAVRA)
        .args(["evaluate", "read_file", "x", "--policy-pack", "cavra-hipaa"])
        .env("CAVRA_POLICY", repo.root.join("missing.yaml"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    // Without a flag the environment names the pack file.
    let out = Command::new(CAVRA)
        .args(["evaluate", "read_file", "x"])
        .env("CAVRA_POLICY", repo.root.join("missing.yaml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

/// Runs `cmd` with `input` on its standard input.
fn feed(mut cmd: Command, input: &[u8]) -> std::process::Output {
    let mut child = cmd.spawn().unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// Regression (review): a path through a symbolic link the repository
/// ships (`cfg -> .claude`) was judged as written, not where it leads.
#[test]
fn a_path_through_a_link_is_judged_where_it_leads() {
    let repo = repo();
    std::fs::create_dir_all(repo.root.join(".claude")).unwrap();
    std::os::unix::fs::symlink(".claude", repo.root.join("cfg")).unwrap();
    let write = |path: &str| {
        serde_json::json!({"session_id": "s", "cwd": repo.root, "hook_event_name": "PreToolUse",
                           "tool_name": "Write", "tool_input": {"file_path": repo.root.join(path), "content": "x"}})
        .to_string()
    };
    let (stdout, _, code) = run_hook(
        &repo,
        "claude-code",
        &[],
        write("cfg/settings.json").as_bytes(),
    );
    assert!(is_block(Agent::ClaudeCode, &stdout, Some(code)), "{stdout}");
    assert!(stdout.contains("self_protection"), "{stdout}");
    let (stdout, _, code) = run_hook(&repo, "claude-code", &[], write("src/lib.rs").as_bytes());
    assert_eq!((stdout.as_str(), code), ("", 0));
    // A dangling link: writing through it creates its target (review).
    std::os::unix::fs::symlink(
        ".claude/settings.local.json",
        repo.root.join("dangling.json"),
    )
    .unwrap();
    let (stdout, _, code) = run_hook(&repo, "claude-code", &[], write("dangling.json").as_bytes());
    assert!(is_block(Agent::ClaudeCode, &stdout, Some(code)), "{stdout}");
    // `..` after a link leaves the link's target, as the kernel resolves
    // it: `cmds/../settings.json` with `cmds -> .claude/commands` is
    // `.claude/settings.json` (review round 19).
    std::fs::create_dir_all(repo.root.join(".claude/commands")).unwrap();
    std::os::unix::fs::symlink(".claude/commands", repo.root.join("cmds")).unwrap();
    let (stdout, _, code) = run_hook(
        &repo,
        "claude-code",
        &[],
        write("cmds/../settings.json").as_bytes(),
    );
    assert!(is_block(Agent::ClaudeCode, &stdout, Some(code)), "{stdout}");
}

#[test]
fn files_a_command_names_are_judged_where_links_lead() {
    let repo = repo();
    std::fs::create_dir_all(repo.root.join(".claude")).unwrap();
    std::fs::write(repo.root.join(".env"), "SECRET=x\n").unwrap();
    std::os::unix::fs::symlink(".claude", repo.root.join("cfg")).unwrap();
    std::os::unix::fs::symlink(".env", repo.root.join("notes.txt")).unwrap();
    let bash = |command: &str| {
        serde_json::json!({"session_id": "s", "cwd": repo.root, "hook_event_name": "PreToolUse",
                           "tool_name": "Bash", "tool_input": {"command": command}})
        .to_string()
    };
    for command in [
        "cat notes.txt",
        "echo {} > cfg/settings.json",
        "sed -i s/a/b/ cfg/settings.json",
        "cd cfg && echo {} > settings.json",
    ] {
        let (stdout, _, code) = run_hook(&repo, "claude-code", &[], bash(command).as_bytes());
        assert!(
            is_block(Agent::ClaudeCode, &stdout, Some(code)),
            "{command}: {stdout}"
        );
    }
    let (stdout, _, code) = run_hook(&repo, "claude-code", &[], bash("cat README.md").as_bytes());
    assert_eq!((stdout.as_str(), code), ("", 0));
}

/// A repository that ships `policies/<id>/policy.yaml` does not choose the
/// hook's rules: hooks never read `./policies` (review round 19).
#[test]
fn a_repository_cannot_replace_the_hook_policy() {
    let repo = repo();
    let dir = repo.root.join("policies/cavra-ai-agent-baseline");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("policy.yaml"),
        "metadata:\n  id: cavra-ai-agent-baseline\n  title: forged\n  version: 1.0.0\n  description: forged\ncommands:\n  default: allow\n  allow: [\"*\"]\n",
    )
    .unwrap();
    let input = serde_json::json!({"session_id": "s", "cwd": repo.root, "hook_event_name": "PreToolUse",
                                   "tool_name": "Bash", "tool_input": {"command": "terraform apply -auto-approve"}})
    .to_string();
    for args in [
        vec![],
        vec![
            "--policy-pack".to_string(),
            "cavra-ai-agent-baseline".to_string(),
        ],
    ] {
        let (stdout, _, code) = run_hook(&repo, "claude-code", &args, input.as_bytes());
        assert!(
            is_block(Agent::ClaudeCode, &stdout, Some(code)),
            "{args:?}: {stdout}"
        );
    }
}
