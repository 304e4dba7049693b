#!/usr/bin/env bash
# Hook and MCP gateway benchmarks (issue: agent enforcement).
#
#   bash bench/hooks.sh            # RUNS=300 MCP_RUNS=3000 by default
#
# 1. Hook round trip (spawn, write stdin, read stdout, wait) of
#    `cavra hook <agent>` for each agent, against a std-only Rust binary
#    doing the same I/O (examples/hook_floor.rs) measured in the same run.
#    Target: median <= 2x the floor.
# 2. Peak RSS of one hook call (GNU time). Target: <= 15 MB.
# 3. MCP gateway overhead: tools/call p50/p99 direct to a stdio server vs
#    through `cavra mcp proxy`. Target: <= 1 ms added at p99.
# 4. When destructive_command_guard (`dcg`) is on PATH, both tools run the
#    bypass corpus as Claude Code hooks: detection and median latency.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-300}"
MCP_RUNS="${MCP_RUNS:-3000}"

# The measuring tools first, then `cavra` alone, so that the binary measured
# is the one `cargo build --release -p cavra-cli` makes (building examples in
# the same invocation would unify dev-dependency features into it).
cargo build --release -q -p cavra-agent --bins --examples
cargo build --release -q -p cavra-cli
REPO="$PWD"
BIN="$PWD/target/release"
if command -v nm >/dev/null 2>&1; then
  listed=$(sort -u crates/cavra-cli/hook-symbols.txt | wc -l)
  found=$(nm "$BIN/cavra" | awk 'NF == 3 { print $3 }' | sort -u \
    | comm -12 - <(sort -u crates/cavra-cli/hook-symbols.txt) | wc -l)
  echo "== hook symbol order: $found of $listed listed functions are in the binary" \
    "(regenerate with bash bench/hook-symbols.sh when this drops)"
fi
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/repo/.git"
export CAVRA_HOOK_SPOOL="$WORK/spool.jsonl"
cd "$WORK/repo"

input() {
  case "$1" in
    claude-code|codex) echo "{\"session_id\":\"b\",\"cwd\":\"$WORK/repo\",\"hook_event_name\":\"PreToolUse\",\"tool_name\":\"Bash\",\"tool_input\":{\"command\":\"git push origin main\"}}" ;;
    gemini-cli) echo "{\"session_id\":\"b\",\"cwd\":\"$WORK/repo\",\"hook_event_name\":\"BeforeTool\",\"tool_name\":\"run_shell_command\",\"tool_input\":{\"command\":\"git push origin main\"}}" ;;
    cursor) echo "{\"conversation_id\":\"b\",\"hook_event_name\":\"beforeShellExecution\",\"command\":\"git push origin main\",\"cwd\":\"$WORK/repo\",\"workspace_roots\":[\"$WORK/repo\"]}" ;;
    copilot-cli) echo "{\"timestamp\":1,\"cwd\":\"$WORK/repo\",\"toolName\":\"bash\",\"toolArgs\":\"{\\\"command\\\":\\\"git push origin main\\\"}\"}" ;;
  esac
}

echo "== hook round trip ($RUNS runs each; median, p90, p99 in µs)"
# The floor is measured before and after the agents (the machine is shared
# and noisy); ratios are against the mean of the two.
input claude-code > "$WORK/in.json"
floor1=$("$BIN/examples/hook_bench" round-trip "$RUNS" "$WORK/in.json" -- "$BIN/examples/hook_floor")
declare -A result
for agent in claude-code codex gemini-cli cursor copilot-cli; do
  input "$agent" > "$WORK/in.json"
  result[$agent]=$("$BIN/examples/hook_bench" round-trip "$RUNS" "$WORK/in.json" -- "$BIN/cavra" hook "$agent")
done
input claude-code > "$WORK/in.json"
floor2=$("$BIN/examples/hook_bench" round-trip "$RUNS" "$WORK/in.json" -- "$BIN/examples/hook_floor")
median_of() { sed -E 's/.*"median_us":([0-9]+).*/\1/' <<<"$1"; }
floor_med=$(( ($(median_of "$floor1") + $(median_of "$floor2")) / 2 ))
printf '%-12s %s\n' "std floor" "$floor1 (before)"
printf '%-12s %s\n' "std floor" "$floor2 (after); mean median ${floor_med} µs"
for agent in claude-code codex gemini-cli cursor copilot-cli; do
  r=${result[$agent]}
  ratio=$(awk -v a="$(median_of "$r")" -v b="$floor_med" 'BEGIN { printf "%.2f", a / b }')
  printf '%-12s %s  ratio to floor: %sx (target <= 2x)\n' "$agent" "$r" "$ratio"
done

echo "== peak memory of one hook call"
if ! command -v /usr/bin/time >/dev/null 2>&1; then
  echo "GNU time is not installed (apt-get install time); skipping"
else
  input claude-code > "$WORK/in.json"
  kb=$(/usr/bin/time -f %M "$BIN/cavra" hook claude-code < "$WORK/in.json" 2>&1 >/dev/null | tail -1)
  fkb=$(/usr/bin/time -f %M "$BIN/examples/hook_floor" < "$WORK/in.json" 2>&1 >/dev/null | tail -1)
  echo "cavra hook claude-code: max RSS ${kb} KB (target <= 15360 KB); std floor: ${fkb} KB"
fi

echo "== MCP gateway overhead ($MCP_RUNS tools/call; p50, p99 in µs)"
mkdir -p "$WORK/pack"
cat > "$WORK/pack/policy.yaml" <<'EOF'
metadata: {id: cavra-bench-mcp, title: bench, description: MCP gateway benchmark, version: "1"}
mcp:
  allowlist_enabled: true
  allowed_servers: [fixture]
  argument_rules:
    - {id: no-secrets, server: fixture, tool: read_file, argument: path, path: true, patterns: [".env"], decision: block}
EOF
export CAVRA_MCP_PINS="$WORK/pins.json"
# Three interleaved rounds (direct, then through the gateway): the p99 of
# one round on a shared 2-core machine moves by hundreds of microseconds
# with the neighbours, so each round's overhead is reported against the
# direct run just before it, and the median round is the result.
added50=()
added99=()
for round in 1 2 3; do
  direct=$("$BIN/examples/mcp_bench" "$MCP_RUNS" -- "$BIN/cavra-mcp-fixture")
  proxied=$("$BIN/examples/mcp_bench" "$MCP_RUNS" -- "$BIN/cavra" mcp proxy --policy "$WORK/pack/policy.yaml" --server fixture -- "$BIN/cavra-mcp-fixture")
  d50=$(sed -E 's/.*"p50_us":([0-9]+).*/\1/' <<<"$direct")
  d99=$(sed -E 's/.*"p99_us":([0-9]+).*/\1/' <<<"$direct")
  p50=$(sed -E 's/.*"p50_us":([0-9]+).*/\1/' <<<"$proxied")
  p99=$(sed -E 's/.*"p99_us":([0-9]+).*/\1/' <<<"$proxied")
  added50+=($((p50 - d50)))
  added99+=($((p99 - d99)))
  echo "round $round: direct $direct  proxied $proxied  added p50 $((p50 - d50)) µs, p99 $((p99 - d99)) µs"
done
med() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
echo "added by the gateway (median of 3 rounds): p50 $(med "${added50[@]}") µs, p99 $(med "${added99[@]}") µs (target <= 1000 µs at p99)"

echo "== destructive_command_guard comparison"
DCG="$(command -v dcg || command -v destructive_command_guard || true)"
corpus_dir="$REPO/tests/corpus"
if [[ -z "$DCG" ]]; then
  echo "dcg is not installed (cargo install destructive_command_guard); skipping the side-by-side run"
else
  for f in must_not_allow benign; do
    c=$("$BIN/examples/hook_bench" corpus "$corpus_dir/$f.jsonl" -- "$BIN/cavra" hook claude-code --policy "$corpus_dir/reference/policy.yaml")
    d=$("$BIN/examples/hook_bench" corpus "$corpus_dir/$f.jsonl" -- "$DCG")
    echo "$f: cavra $c"
    echo "$f: dcg   $d"
  done
fi
