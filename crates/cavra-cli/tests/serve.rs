//! `cavra serve` as a real process: it listens, answers, and on SIGTERM or
//! SIGINT finishes and flushes its stores before exiting 0.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn start(dir: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cavra"))
        .args(["serve", "--port", "0"])
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .env_remove("CAVRA_DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("server exited before listening")
            .unwrap();
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.trim().to_string();
        }
    };
    // Keep draining stderr so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, addr)
}

fn post(addr: &str, path: &str, body: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

fn stop_with(signal: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, addr) = start(dir.path());
    for i in 0..10 {
        let resp = post(
            &addr,
            "/decisions",
            &format!(r#"{{"action_type":"read_file","target":"src/f{i}.rs","session_id":"sig"}}"#),
        );
        assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    }
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut waited = 0;
    let exit = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        std::thread::sleep(Duration::from_millis(50));
        waited += 1;
        assert!(
            waited < 200,
            "the server did not stop within 10 s of {signal}"
        );
    };
    assert!(exit.success(), "exit status {exit}");
    // Flushed: the store file alone holds everything, the journal is empty.
    let doc: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join(".cavra/api/activity.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(doc["decisions"].as_array().unwrap().len(), 10);
    assert_eq!(doc["sessions"][0]["decision_count"], 10);
    let wal = dir.path().join(".cavra/api/activity.json.wal");
    assert_eq!(std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0), 0);
}

#[test]
fn sigterm_flushes_and_exits_cleanly() {
    stop_with("-TERM");
}

#[test]
fn sigint_flushes_and_exits_cleanly() {
    stop_with("-INT");
}

#[test]
fn bad_store_configuration_fails_at_start_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cavra"))
        .args(["serve", "--port", "0"])
        .current_dir(dir.path())
        .env("CAVRA_DATABASE_URL", "mysql://nope")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("CAVRA_DATABASE_URL"), "{err}");
}
