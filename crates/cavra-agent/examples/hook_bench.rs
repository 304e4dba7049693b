//! Hook round-trip measurement for `bench/hooks.sh`.
//!
//! `hook_bench round-trip RUNS INPUT_FILE -- CMD…`: spawn CMD, write the
//! input, read stdout to the end, wait; RUNS times. Prints one JSON line
//! with the median, p90 and p99 in microseconds.
//!
//! `hook_bench corpus CORPUS.jsonl -- CMD…`: run every corpus command as a
//! Claude Code `PreToolUse` Bash call; count how many CMD denies (exit 2 or
//! a `deny` decision) and the median latency.
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::Instant;

fn once(cmd: &[String], input: &[u8]) -> (u128, String, i32) {
    let start = Instant::now();
    let Some((prog, args)) = cmd.split_first() else {
        return (0, String::new(), -1);
    };
    let Ok(mut child) = Command::new(prog)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    else {
        return (0, String::new(), -1);
    };
    if let Some(mut i) = child.stdin.take() {
        let _ = i.write_all(input);
    }
    let mut out = String::new();
    if let Some(mut o) = child.stdout.take() {
        let _ = o.read_to_string(&mut out);
    }
    let code = child.wait().ok().and_then(|s| s.code()).unwrap_or(-1);
    (start.elapsed().as_micros(), out, code)
}

fn pct(v: &mut [u128], p: f64) -> u128 {
    v.sort_unstable();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v.get(i).copied().unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(sep) = args.iter().position(|a| a == "--") else {
        eprintln!(
            "usage: hook_bench round-trip RUNS INPUT -- CMD… | hook_bench corpus FILE -- CMD…"
        );
        std::process::exit(2);
    };
    let cmd = args.get(sep + 1..).unwrap_or_default();
    match args.get(1).map(String::as_str) {
        Some("round-trip") => {
            let runs: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(200);
            let input =
                std::fs::read(args.get(3).map(String::as_str).unwrap_or("")).unwrap_or_default();
            for _ in 0..10 {
                once(cmd, &input);
            }
            let mut t: Vec<u128> = (0..runs).map(|_| once(cmd, &input).0).collect();
            let (p50, p90, p99) = (pct(&mut t, 0.5), pct(&mut t, 0.9), pct(&mut t, 0.99));
            println!("{{\"runs\":{runs},\"median_us\":{p50},\"p90_us\":{p90},\"p99_us\":{p99}}}");
        }
        Some("corpus") => {
            let text = std::fs::read_to_string(args.get(2).map(String::as_str).unwrap_or(""))
                .unwrap_or_default();
            let mut denied = 0;
            let mut cases = 0;
            let mut t = Vec::new();
            for line in text.lines() {
                let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                    continue;
                };
                let Some(c) = v.get("cmd").and_then(|c| c.as_str()) else {
                    continue;
                };
                let input = serde_json::json!({"session_id": "bench", "cwd": "/tmp", "hook_event_name": "PreToolUse",
                    "tool_name": "Bash", "tool_input": {"command": c}});
                let (us, out, code) = once(cmd, input.to_string().as_bytes());
                cases += 1;
                t.push(us);
                if code == 2 || out.contains("\"deny\"") || out.contains("\"ask\"") {
                    denied += 1;
                }
            }
            let p50 = pct(&mut t, 0.5);
            println!("{{\"cases\":{cases},\"not_allowed\":{denied},\"median_us\":{p50}}}");
        }
        _ => {
            eprintln!("unknown mode");
            std::process::exit(2);
        }
    }
}
