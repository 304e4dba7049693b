#!/usr/bin/env bash
# HTTP load benchmark on loopback with wrk, bounded in time (about 2 min
# plus loading 1,000,000 decisions). Numbers are ratios against a trivial
# route of the same server in the same run.
#
#   bash bench/api.sh            # ROWS=1000000 DURATION=10s by default
#
# 1. GET /health (trivial route) at full speed: the baseline throughput.
# 2. POST /decisions (evaluate + persist, SQLite store) at full speed.
# 3. POST /decisions at half the trivial route's throughput... capped at
#    what the server sustains: p99 latency.
#    Then at half of what POST /decisions itself sustained: p99.
# 4. GET /decisions?limit=50&agent_id=… with ROWS stored decisions: p99 at
#    full speed, then at half of that throughput.
# 5. The server's peak RSS (VmHWM) over all of it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS="${ROWS:-1000000}"
DURATION="${DURATION:-10s}"
CONNS="${CONNS:-16}"
PORT="${PORT:-18765}"
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 2; }
cargo build --release -q -p cavra-cli
cargo build --release -q -p cavra-store --example store_bench
# WORK=DIR keeps the loaded database between runs (loading takes minutes).
if [[ -n "${WORK:-}" ]]; then
  work="$WORK"; mkdir -p "$work"
  trap 'kill "${server:-0}" 2>/dev/null || true' EXIT
else
  work="$(mktemp -d)"
  trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
fi

if [[ ! -f "$work/loaded-$ROWS" ]]; then
  rm -f "$work"/bench.db*
  echo "== loading $ROWS decisions into $work/bench.db" >&2
  target/release/examples/store_bench --backend sqlite --rows "$ROWS" --dir "$work" --load-only >&2
  touch "$work/loaded-$ROWS"
fi

for s in EVIDENCE_METADATA APPROVAL REGISTRY ACTIVITY INVENTORY INTEGRATION; do
  export "CAVRA_${s}_DB=$work/bench.db"
done
RUST_LOG=warn target/release/cavra serve --port "$PORT" >"$work/server.log" 2>&1 &
server=$!
up=""
for _ in $(seq 600); do
  if (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null; then up=1; break; fi
  kill -0 "$server" 2>/dev/null || break
  sleep 0.1
done
if [[ -z "$up" ]]; then
  echo "the server did not start; its log:" >&2
  cat "$work/server.log" >&2
  exit 1
fi

cat >"$work/post.lua" <<'LUA'
local n = 0
request = function()
  n = n + 1
  local body = string.format('{"action_type":"execute_command","target":"terraform plan -var n=%d","agent_id":"agent-%02d","session_id":"load-%d"}', n, n % 50, n % 100)
  return wrk.format("POST", "/decisions", {["Content-Type"] = "application/json"}, body)
end
LUA
cat >"$work/list.lua" <<'LUA'
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", string.format("/decisions?limit=50&agent_id=agent-%02d", n % 50))
end
LUA

rps() { grep -E '^Requests/sec' | awk '{print $2}'; }
p99() { grep -E '^ +99%' | awk '{print $2}'; }

echo "== GET /health" >&2
health_out="$(wrk -t2 -c"$CONNS" -d"$DURATION" --latency "http://127.0.0.1:$PORT/health")"
health_rps="$(echo "$health_out" | rps)"
echo "== POST /decisions (full speed)" >&2
post_out="$(wrk -t2 -c"$CONNS" -d"$DURATION" --latency -s "$work/post.lua" "http://127.0.0.1:$PORT")"
post_rps="$(echo "$post_out" | rps)"

# Half the trivial route's rate, paced per connection with wrk's delay().
half="$(python3 -c "print(max(1.0, float('$health_rps') / 2))")"
paced_conns=8
delay_ms="$(python3 -c "print($paced_conns * 1000.0 / $half)")"
cat >"$work/paced.lua" <<LUA
local n = 0
request = function()
  n = n + 1
  local body = string.format('{"action_type":"read_file","target":"src/file%d.rs","agent_id":"agent-%02d","session_id":"paced-%d"}', n, n % 50, n % 100)
  return wrk.format("POST", "/decisions", {["Content-Type"] = "application/json"}, body)
end
delay = function() return $delay_ms end
LUA
echo "== POST /decisions paced at $half req/s" >&2
paced_out="$(wrk -t2 -c"$paced_conns" -d"$DURATION" --latency -s "$work/paced.lua" "http://127.0.0.1:$PORT")"

# And at half of what POST /decisions itself sustained: its latency under
# a load the store keeps up with.
own_half="$(python3 -c "print(max(1.0, float('$post_rps') / 2))")"
own_delay_ms="$(python3 -c "print($paced_conns * 1000.0 / $own_half)")"
sed "s/^delay = .*/delay = function() return $own_delay_ms end/" "$work/paced.lua" >"$work/paced-own.lua"
echo "== POST /decisions paced at $own_half req/s (half its own throughput)" >&2
paced_own_out="$(wrk -t2 -c"$paced_conns" -d"$DURATION" --latency -s "$work/paced-own.lua" "http://127.0.0.1:$PORT")"

echo "== GET /decisions?limit=50&agent_id=... over $ROWS rows" >&2
list_out="$(wrk -t2 -c"$CONNS" -d"$DURATION" --latency -s "$work/list.lua" "http://127.0.0.1:$PORT")"
list_rps="$(echo "$list_out" | rps)"
# And paced at half of that: the page's latency when requests do not queue.
list_half="$(python3 -c "print(max(1.0, float('$list_rps') / 2))")"
list_delay_ms="$(python3 -c "print($paced_conns * 1000.0 / $list_half)")"
cat >"$work/list-paced.lua" <<LUA
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", string.format("/decisions?limit=50&agent_id=agent-%02d", n % 50))
end
delay = function() return $list_delay_ms end
LUA
echo "== GET /decisions?limit=50&agent_id=... paced at $list_half req/s" >&2
list_paced_out="$(wrk -t2 -c"$paced_conns" -d"$DURATION" --latency -s "$work/list-paced.lua" "http://127.0.0.1:$PORT")"
rss_kb="$(awk '/VmHWM/ {print $2}' "/proc/$server/status")"

python3 - "$health_rps" "$post_rps" "$(echo "$paced_out" | rps)" "$(echo "$paced_out" | p99)" \
  "$(echo "$list_out" | rps)" "$(echo "$list_out" | p99)" "$rss_kb" "$ROWS" "$half" \
  "$own_half" "$(echo "$paced_own_out" | rps)" "$(echo "$paced_own_out" | p99)" \
  "$(echo "$list_paced_out" | rps)" "$(echo "$list_paced_out" | p99)" <<'PY'
import json, sys
def ms(s):
    s = s.strip()
    for unit, f in (("us", 1e-3), ("ms", 1.0), ("s", 1000.0)):
        if s.endswith(unit):
            return float(s[: -len(unit)]) * f
    return float(s)
h, p, pr, pp99, lr, lp99, rss, rows, half, oh, opr, op99, lpr, lpp99 = sys.argv[1:]
print(json.dumps({
    "rows": int(rows),
    "health_rps": float(h),
    "post_decisions_rps": float(p),
    "post_vs_health_ratio": float(p) / float(h),
    "post_decisions_paced_target_rps": float(half),
    "post_decisions_paced_achieved_rps": float(pr),
    "post_decisions_paced_p99_ms": ms(pp99),
    "post_decisions_half_own_target_rps": float(oh),
    "post_decisions_half_own_achieved_rps": float(opr),
    "post_decisions_half_own_p99_ms": ms(op99),
    "get_decisions_filtered_rps": float(lr),
    "get_decisions_filtered_p99_ms": ms(lp99),
    "get_decisions_filtered_half_own_achieved_rps": float(lpr),
    "get_decisions_filtered_half_own_p99_ms": ms(lpp99),
    "server_peak_rss_mb": int(rss) / 1024,
}, indent=2))
PY
