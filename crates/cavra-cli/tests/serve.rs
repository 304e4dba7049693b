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

/// Regression: the server compiled a pack once and served it until restart,
/// so a tightened pack under `CAVRA_POLICY_DIR` was not enforced. An edit now
/// takes effect within a second, and a pack edited into a broken state
/// answers an error, never a decision on the old or no policy.
#[test]
fn edited_pack_takes_effect_without_restart() {
    let dir = tempfile::tempdir().unwrap();
    let packs = dir.path().join("packs");
    let pack = packs.join("cavra-live");
    std::fs::create_dir_all(&pack).unwrap();
    let write = |commands: &str| {
        // Through a rename, as editors and deploy tools replace files.
        let tmp = pack.join("policy.yaml.tmp");
        std::fs::write(
            &tmp,
            format!(
                "metadata: {{id: cavra-live, title: live, description: live, version: '1'}}\n{commands}"
            ),
        )
        .unwrap();
        std::fs::rename(&tmp, pack.join("policy.yaml")).unwrap();
    };
    write("commands:\n  allow: ['make *']\n");
    let mut child = Command::new(env!("CARGO_BIN_EXE_cavra"))
        .args(["serve", "--port", "0"])
        .current_dir(dir.path())
        .env("RUST_LOG", "warn")
        .env("CAVRA_POLICY_DIR", &packs)
        .env_remove("CAVRA_DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("server exited").unwrap();
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.trim().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let body =
        r#"{"action_type":"execute_command","target":"make deploy","policy_pack":"cavra-live"}"#;
    let decision = |resp: &str| -> String {
        let json = resp.split("\r\n\r\n").nth(1).unwrap_or("");
        let v: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
        v["decision"].as_str().unwrap_or("").to_string()
    };
    let first = post(&addr, "/decisions", body);
    assert_eq!(decision(&first), "allow", "{first}");

    write("commands:\n  block: ['make deploy*']\n  allow: ['make *']\n");
    let mut now = String::new();
    for _ in 0..40 {
        std::thread::sleep(Duration::from_millis(100));
        now = post(&addr, "/decisions", body);
        if decision(&now) == "block" {
            break;
        }
    }
    assert_eq!(decision(&now), "block", "edit not picked up: {now}");

    write("commands:\n  blok: ['make *']\n");
    let mut broken = String::new();
    for _ in 0..40 {
        std::thread::sleep(Duration::from_millis(100));
        broken = post(&addr, "/decisions", body);
        if broken.starts_with("HTTP/1.1 5") {
            break;
        }
    }
    assert!(broken.starts_with("HTTP/1.1 500"), "{broken}");
    assert!(broken.contains("cavra-live"), "{broken}");
    child.kill().unwrap();
    let _ = child.wait();
}
