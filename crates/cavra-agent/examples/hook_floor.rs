//! The floor a hook cannot beat: a std-only binary doing the same I/O as
//! `cavra hook` (read all of stdin, write one JSON line, exit 0).
use std::io::{Read, Write};

fn main() {
    let mut input = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut input);
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(b"{\"hookSpecificOutput\":{\"hookEventName\":\"PreToolUse\",\"permissionDecision\":\"deny\",\"permissionDecisionReason\":\"floor\"}}\n");
}
