#!/usr/bin/env bash
# Regenerates crates/cavra-cli/hook-symbols.txt: the functions of the
# `cavra` binary that hook calls run, which release builds place next to
# each other (see crates/cavra-cli/build.rs). Run it after changing the hook
# path, a dependency or the toolchain, then rebuild and run bench/hooks.sh.
#
#   bash bench/hook-symbols.sh        # needs valgrind and python3
#
# Every agent's shell, file, search, patch and MCP calls run once under
# callgrind (allowed, blocked and approval-gated ones, on the builtin pack
# and on a pack file, with the pack cache warm as in steady state); the
# cavra functions they ran are written, those most calls run first.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 is not installed" >&2; exit 1; }
OUT="crates/cavra-cli/hook-symbols.txt"
# Build without the current list so the names are those of a plain build.
CAVRA_SYMBOL_ORDER=/nonexistent cargo build --release -q -p cavra-cli
BIN="$PWD/target/release/cavra"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
R="$WORK/repo"
mkdir -p "$R/.git" "$R/src" "$WORK/pack"
export CAVRA_HOOK_SPOOL="$WORK/spool.jsonl" XDG_CACHE_HOME="$WORK/cache"
cat > "$WORK/pack/policy.yaml" <<'YAML'
metadata: {id: bench-pack, title: bench, description: hook symbol order, version: "1"}
filesystem: {block_read: [".env"], block_write: [".github/workflows/**"]}
commands: {block: ["rm -rf /"], require_approval: ["git push *"]}
YAML

cases=()
SEP=$'\x1f'
add() { cases+=("$1$SEP$2$SEP$3"); }
cc() { echo "{\"session_id\":\"s\",\"cwd\":\"$R\",\"hook_event_name\":\"PreToolUse\",\"tool_name\":\"$1\",\"tool_input\":$2}"; }
for cmd in "git status" "rm -rf /" "npm publish" "sudo sh -c 'terraform apply -auto-approve'" "cat config/.env" \
           "cd src && grep -rn TODO . | head -5" "echo x > .github/workflows/ci.yml" "git push origin main" \
           "for f in *.rs; do cat \"\$f\"; done" "python -c 'import os; os.system(\"rm -rf /\")'"; do
  add claude-code "" "$(cc Bash "$(python3 -c 'import json,sys; print(json.dumps({"command": sys.argv[1]}))' "$cmd")")"
done
add claude-code "" "$(cc Write "{\"file_path\":\"$R/.github/workflows/ci.yml\",\"content\":\"x\"}")"
add claude-code "" "$(cc Edit "{\"file_path\":\"$R/src/main.rs\",\"old_string\":\"a\",\"new_string\":\"b\"}")"
add claude-code "" "$(cc Read "{\"file_path\":\"$R/.env\"}")"
add claude-code "" "$(cc Grep "{\"pattern\":\"key\",\"path\":\"$R\",\"glob\":\"*.env\"}")"
add claude-code "" "$(cc mcp__github__create_issue "{\"title\":\"t\"}")"
add claude-code "--policy $WORK/pack/policy.yaml" "$(cc Bash '{"command":"git push origin main"}')"
add codex "" "$(cc Bash '{"command":"git push origin main"}')"
add codex "" "$(cc apply_patch '{"command":"*** Begin Patch\n*** Add File: src/a.rs\n+fn a() {}\n*** End Patch\n"}')"
add gemini-cli "" "{\"session_id\":\"s\",\"cwd\":\"$R\",\"hook_event_name\":\"BeforeTool\",\"tool_name\":\"run_shell_command\",\"tool_input\":{\"command\":\"git push origin main\"}}"
add gemini-cli "" "{\"session_id\":\"s\",\"cwd\":\"$R\",\"hook_event_name\":\"BeforeTool\",\"tool_name\":\"write_file\",\"tool_input\":{\"file_path\":\"$R/src/a.rs\",\"content\":\"x\"}}"
add cursor "" "{\"conversation_id\":\"c\",\"hook_event_name\":\"beforeShellExecution\",\"command\":\"git push origin main\",\"cwd\":\"$R\",\"workspace_roots\":[\"$R\"]}"
add cursor "" "{\"conversation_id\":\"c\",\"hook_event_name\":\"beforeReadFile\",\"file_path\":\"$R/.env\",\"content\":\"x\",\"workspace_roots\":[\"$R\"]}"
add copilot-cli "" "{\"timestamp\":1,\"cwd\":\"$R\",\"toolName\":\"bash\",\"toolArgs\":\"{\\\"command\\\":\\\"git push origin main\\\"}\"}"
add copilot-cli "" "{\"timestamp\":1,\"cwd\":\"$R\",\"toolName\":\"edit\",\"toolArgs\":\"{\\\"path\\\":\\\"$R/src/a.rs\\\"}\"}"

cd "$R"
n=0
for c in "${cases[@]}"; do
  IFS="$SEP" read -r agent args input <<<"$c"
  # Once to warm the pack cache, once measured.
  # shellcheck disable=SC2086
  "$BIN" hook "$agent" $args <<<"$input" >/dev/null 2>&1 || true
  n=$((n + 1))
  # shellcheck disable=SC2086
  valgrind -q --tool=callgrind --demangle=no --callgrind-out-file="$WORK/cg.$n" \
    "$BIN" hook "$agent" $args <<<"$input" >/dev/null 2>&1 || true
done
cd - >/dev/null
nm "$BIN" | awk 'NF == 3 && ($2 == "t" || $2 == "T") { print $3 }' > "$WORK/defined"
python3 - "$BIN" "$OUT" "$WORK/defined" "$WORK"/cg.* <<'PY'
import re, sys
binary, out, defined, files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
defined = set(open(defined).read().split())
counts = {}
line_re = re.compile(r'^(c?)(ob|fn)=\((\d+)\)(?: (.*))?$')
for f in files:
    names = set()
    obs, fns, ob, cob = {}, {}, None, None
    for line in open(f, errors='replace'):
        m = line_re.match(line.rstrip('\n'))
        if not m:
            continue
        called, kind, i, name = m.groups()
        table = obs if kind == 'ob' else fns
        if name:
            table[i] = name
        if kind == 'ob':
            if called:
                cob = obs.get(i)
            else:
                ob = obs.get(i)
            continue
        owner = cob if called else ob
        # callgrind marks recursion levels as NAME'2.
        fn = re.sub(r"'\d+$", '', fns.get(i) or '')
        if owner == binary and fn in defined:
            names.add(fn)
    for n in names:
        counts[n] = counts.get(n, 0) + 1
# Functions every call runs first, so that one call touches as few pages as
# possible; ties by name, so the file diffs well.
order = sorted(counts, key=lambda n: (-counts[n], n))
with open(out, 'w') as o:
    o.write('\n'.join(order) + '\n')
common = sum(1 for n in order if counts[n] == len(files))
print(f"{out}: {len(order)} functions from {len(files)} hook calls, {common} run by every call")
PY
