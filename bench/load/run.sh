#!/usr/bin/env bash
# HTTP load on PromptVault's hot routes, side by side with the reference implementation's HTTP peer, in one run.
#
#   bench/load/run.sh
#
# Builds the server (Release), starts it on a temporary database, creates the customer-support prompt (10 previous
# messages in every request), promotes it, starts a 50/25/25 experiment on it, and drives it with wrk (2 threads) at
# each connection count:
#   render-label       POST /api/prompts/customer-support/render, production label (no unit)
#   render-experiment  the same with a new unitId per request: the running experiment serves a variant, records an exposure
#   metrics-500        POST /api/metrics, batches of 500 events (events/s = req/s x 500); PromptVault only
# The two render scenarios also run against the reference peer (node SEED_BENCH/http-peer.mjs), right after
# PromptVault's run of the same scenario. Prints req/s, p50/p99/p99.9 latency, server CPU per request (utime+stime
# of the server process from /proc) and PromptVault's req/s as a multiple of the reference's.
#
# Needs: .NET 10 SDK, wrk (Debian: apt-get install wrk), node 20+, curl; the reference's folder with `npm ci` done.
# Settings (environment variables):
#   SEED_BENCH   the reference's folder (default: ../shared/seed-bench next to the repository)
#   DURATION     seconds per run (default 10)      WARMUP   seconds of warm-up per server (default 5)
#   CONNECTIONS  connection counts (default "16 64 256")      THREADS  wrk threads (default 2)
#   SCENARIOS    which to run (default "render-label render-experiment metrics-500")
#   REFERENCE    0 to skip the reference peer (default 1)
#   PORT, REF_PORT  ports on 127.0.0.1 (default 19380, 19480)
set -euo pipefail

LOAD_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$LOAD_DIR/../.." && pwd)"
SEED_BENCH="${SEED_BENCH:-$REPO/../shared/seed-bench}"
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-5}"
CONNECTIONS="${CONNECTIONS:-16 64 256}"
THREADS="${THREADS:-2}"
SCENARIOS="${SCENARIOS:-render-label render-experiment metrics-500}"
REFERENCE="${REFERENCE:-1}"
PORT="${PORT:-19380}"
REF_PORT="${REF_PORT:-19480}"
export LOAD_DIR

fail() { echo "error: $*" >&2; exit 2; }
for tool in dotnet wrk node curl; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (wrk: apt-get install wrk)."
done
if [[ "$REFERENCE" == 1 ]]; then
  [[ -f "$SEED_BENCH/http-peer.mjs" ]] || fail "no reference peer at $SEED_BENCH/http-peer.mjs: set SEED_BENCH=DIR, or REFERENCE=0."
  [[ -d "$SEED_BENCH/node_modules" ]] || fail "run 'npm ci' in $SEED_BENCH first."
fi

WORK="$(mktemp -d -t promptvault-load-XXXXXX)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "Building PromptVault (Release)..." >&2
dotnet build -c Release "$REPO/src/PromptVault.Cli" -o "$WORK/bin" -v quiet -nologo >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log" >&2; fail "build failed."; }

# Waits until the file holds a line matching the pattern (a server's start-up line).
wait_for() {
  local file="$1" pattern="$2"
  for _ in $(seq 1 300); do
    grep -q "$pattern" "$file" 2>/dev/null && return 0
    sleep 0.1
  done
  cat "$file" >&2
  fail "timed out waiting for '$pattern' in $file."
}

PV="http://127.0.0.1:$PORT"
dotnet "$WORK/bin/promptvault.dll" serve --db "$WORK/promptvault.db" --urls "$PV" >"$WORK/server.log" 2>&1 &
PV_PID=$!
PIDS+=("$PV_PID")
wait_for "$WORK/server.log" "is listening on"
KEY="$(sed -n 's/.*store it now): //p' "$WORK/server.log")"
[[ -n "$KEY" ]] || fail "the server printed no admin key (see $WORK/server.log)."

REF="http://127.0.0.1:$REF_PORT"
if [[ "$REFERENCE" == 1 ]]; then
  (cd "$SEED_BENCH" && exec node http-peer.mjs "$REF_PORT") >"$WORK/reference.log" 2>&1 &
  REF_PID=$!
  PIDS+=("$REF_PID")
  wait_for "$WORK/reference.log" "reference peer on"
fi

# --- The prompt, its challengers and the experiment (the templates of `promptvault demo`) ---
api() {
  local method="$1" path="$2" body="${3:-}"
  curl -sS --fail-with-body -X "$method" "$PV$path" -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" ${body:+-d "$body"}
}
json_field() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s)[process.argv[1]]))' "$1"; }
json_string() { node -p 'JSON.stringify(process.argv[1])' "$1"; }

CONTROL='You are a helpful customer support agent for {{company_name}}.
{{#if customer_name}}The customer'"'"'s name is {{customer_name}}.{{/if}}
Previous messages:
{{#each previous_messages}}{{role}}: {{content}}
{{/each}}'
CASUAL='Hey! You'"'"'re chatting for {{company_name}} support. Keep it friendly and relaxed, like a helpful friend.
{{#if customer_name}}Say hi to {{customer_name}} by name.{{/if}}
What'"'"'s been said so far:
{{#each previous_messages}}{{role}}: {{content}}
{{/each}}'
STRUCTURED='Role: customer support agent for {{company_name}}.
{{#if customer_name}}Customer: {{customer_name}}.{{/if}}
Answer in three parts: 1. what happened, 2. what we will do, 3. what the customer can do now.
Conversation so far:
{{#each previous_messages}}{{role}}: {{content}}
{{/each}}'

echo "Seeding customer-support..." >&2
api POST /api/prompts '{"name":"customer-support","type":"system","description":"System prompt for the support assistant",
  "content":'"$(json_string "$CONTROL")"',
  "variables":[{"name":"company_name","type":"string","required":true},{"name":"customer_name","type":"string"},{"name":"previous_messages","type":"array"}],
  "metadata":{"model":"gpt-4o-mini","temperature":0.3,"maxTokens":500}}' >/dev/null
CONTROL_ID="$(api PUT /api/prompts/customer-support/labels/production '{"version":"1.0.0"}' | json_field id)"
CASUAL_ID="$(api POST /api/prompts/customer-support/versions '{"content":'"$(json_string "$CASUAL")"',"changeDescription":"casual tone"}' | json_field id)"
STRUCTURED_ID="$(api POST /api/prompts/customer-support/versions '{"content":'"$(json_string "$STRUCTURED")"',"changeDescription":"structured tone"}' | json_field id)"
EXPERIMENT_ID="$(api POST /api/experiments '{"name":"load","prompt":"customer-support","targetMetric":"conversionRate","variants":[
  {"name":"control","versionId":"'"$CONTROL_ID"'","weight":50},{"name":"casual","versionId":"'"$CASUAL_ID"'","weight":25},
  {"name":"structured","versionId":"'"$STRUCTURED_ID"'","weight":25}]}' | json_field id)"
api POST "/api/experiments/$EXPERIMENT_ID/start" >/dev/null

# --- Load ---
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
TICKS_PER_SECOND="$(getconf CLK_TCK)"

# run NAME SERVER_LABEL URL PID SCRIPT ARGS... : one wrk run; prints one table row and sets RPS.
run() {
  local scenario="$1" server="$2" url="$3" pid="$4" connections="$5" script="$6"; shift 6
  local before after out
  before="$(cpu_ticks "$pid")"
  out="$(wrk -t"$THREADS" -c"$connections" -d"${DURATION}s" --timeout 10s -s "$LOAD_DIR/$script" "$url" -- "$@")"
  after="$(cpu_ticks "$pid")"
  read -r requests seconds p50 p99 p999 errors <<<"$(grep '^RESULT' <<<"$out" | cut -d' ' -f2-)"
  RPS="$(awk -v r="$requests" -v s="$seconds" 'BEGIN { printf "%.0f", r / s }')"
  local cpu
  cpu="$(awk -v t=$((after - before)) -v hz="$TICKS_PER_SECOND" -v r="$requests" 'BEGIN { printf "%.0f", r ? t / hz * 1e6 / r : 0 }')"
  printf '| %-17s | %4s | %-11s | %9s | %8s | %8s | %8s | %8s | %6s |' "$scenario" "$connections" "$server" "$RPS" \
    "$(awk -v u="$p50" 'BEGIN { printf "%.2f", u / 1000 }')" "$(awk -v u="$p99" 'BEGIN { printf "%.2f", u / 1000 }')" \
    "$(awk -v u="$p999" 'BEGIN { printf "%.2f", u / 1000 }')" "$cpu" "$errors"
}

render_mode() { [[ "$1" == render-experiment ]] && echo unit || echo label; }

echo "Warming up (${WARMUP}s per server)..." >&2
wrk -t"$THREADS" -c16 -d"${WARMUP}s" -s "$LOAD_DIR/render.lua" "$PV" -- "$KEY" unit >/dev/null
wrk -t"$THREADS" -c16 -d"${WARMUP}s" -s "$LOAD_DIR/metrics.lua" "$PV" -- "$KEY" "$CONTROL_ID" >/dev/null
[[ "$REFERENCE" == 1 ]] && wrk -t"$THREADS" -c16 -d"${WARMUP}s" -s "$LOAD_DIR/render.lua" "$REF" -- "" unit >/dev/null

echo
echo "PromptVault $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?') against the reference peer; $(nproc) cores, wrk -t$THREADS, ${DURATION}s per run, $(date -u +%Y-%m-%dT%H:%MZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| scenario          | conn | server      |     req/s |  p50 ms |  p99 ms | p99.9 ms | CPU µs/req | errors | PromptVault ÷ reference, or events/s |"
echo "|-------------------|-----:|-------------|----------:|--------:|--------:|---------:|-----------:|-------:|-------------------------------------:|"
# Scenario by scenario, so a backlog of slow metric batches never spills into a render run.
for scenario in $SCENARIOS; do
  for connections in $CONNECTIONS; do
    case "$scenario" in
      render-label|render-experiment)
        mode="$(render_mode "$scenario")"
        run "$scenario" promptvault "$PV" "$PV_PID" "$connections" render.lua "$KEY" "$mode"
        pv_rps="$RPS"
        echo " |"
        if [[ "$REFERENCE" == 1 ]]; then
          run "$scenario" reference "$REF" "$REF_PID" "$connections" render.lua "" "$mode"
          echo " $(awk -v a="$pv_rps" -v b="$RPS" 'BEGIN { printf "%.2f×", b ? a / b : 0 }') |"
        fi
        ;;
      metrics-500)
        run "$scenario" promptvault "$PV" "$PV_PID" "$connections" metrics.lua "$KEY" "$CONTROL_ID"
        echo " $((RPS * 500)) events/s |"
        ;;
      *) fail "unknown scenario '$scenario'." ;;
    esac
  done
done
