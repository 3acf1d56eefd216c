#!/usr/bin/env bash
# HTTP load on PromptVault's hot routes, side by side with the reference implementation's HTTP peer, in one run.
#
#   bench/load/run.sh
#
# Builds the server (Release), starts it on a temporary database, creates the customer-support prompt (10 previous
# messages in every request), promotes it, starts a 50/25/25 experiment on it, and drives it with wrk (2 threads) at
# each connection count:
#   render-label       POST /api/prompts/customer-support/render, production label (no unit)
#   render-experiment  the same with a new unitId per request: the running experiment serves a variant, records an exposure.
#                      After each run it checks that every answered render's unit was stored as exposed (the
#                      experiment's results count it), and fails the script if not.
#   metrics-500        POST /api/metrics, batches of 500 events (events/s = req/s x 500); PromptVault only. After each
#                      run it checks that every acknowledged event (2xx batches x 500) is counted by the metrics API and
#                      stored in the database (sqlite3, when installed), and fails the script if not.
#   metrics-experiment opt-in: metrics-500 with every event also naming the running experiment's control variant and
#                      one of 500 units (the same 500 in every batch), so the writer also updates unit-level analysis.
#   metrics-soak       opt-in: the metrics-500 load (metrics-experiment's with SOAK_EXPERIMENT=1) for SOAK_MINUTES at
#                      SOAK_CONNECTIONS, printing the server's resident memory (VmRSS) every minute, minute 1 against the
#                      last, and the same check.
#   floor              opt-in: the platform's floor, what any server on this machine pays before doing any work. Kestrel
#                      alone (bench/PromptVault.Floor) and a plain node http server (floor-peer.mjs) read the render
#                      request and answer with a fixed reply of a render's size; same wrk script, unit mode.
#     SCENARIOS="floor render-experiment" bench/load/run.sh
# The two render scenarios also run against the reference peer (node SEED_BENCH/http-peer.mjs), right after
# PromptVault's run of the same scenario. Prints req/s, p50/p99/p99.9 latency, server CPU per request (utime+stime
# of the server process from /proc), the share of the machine's time that its hypervisor gave to other guests during
# the run (steal, from /proc/stat: where it is more than a few percent, the run is slower than the machine) and
# PromptVault's req/s as a multiple of the reference's.
#
# Needs: .NET 10 SDK, wrk (Debian: apt-get install wrk), node 20+, curl; the reference's folder with `npm ci` done.
# Settings (environment variables):
#   SEED_BENCH   the reference's folder (default: ../shared/seed-bench next to the repository)
#   DURATION     seconds per run (default 10)      WARMUP   seconds of warm-up per server (default 5)
#   CONNECTIONS  connection counts (default "16 64 256")      THREADS  wrk threads (default 2)
#   SCENARIOS    which to run (default "render-label render-experiment metrics-500")
#   REFERENCE    0 to skip the reference peer (default 1)
#   ROUNDS       times to run each scenario's connection counts (default 1); with more than one, ends with each ratio's
#                median, since on a shared machine two identical runs differ by a fifth
#   UNIT_IDS     random: render-experiment sends random UUIDs as unit ids, as SDKs do (default: a counter per wrk
#                thread, ids that sort near each other, which SQLite stores in fewer pages)
#   PORT, REF_PORT  ports on 127.0.0.1 (default 19380, 19480; the floor's PORT+1 and REF_PORT+1)
#   SOAK_MINUTES, SOAK_CONNECTIONS, SOAK_EXPERIMENT  the metrics-soak run (default 10 minutes, 64 connections, 0):
#     SCENARIOS=metrics-soak REFERENCE=0 bench/load/run.sh
set -euo pipefail

LOAD_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$LOAD_DIR/common.sh" "16 64 256" 19380
SEED_BENCH="${SEED_BENCH:-$REPO/../shared/seed-bench}"
REFERENCE="${REFERENCE:-1}"
SOAK_MINUTES="${SOAK_MINUTES:-10}"
SOAK_CONNECTIONS="${SOAK_CONNECTIONS:-64}"
SOAK_EXPERIMENT="${SOAK_EXPERIMENT:-0}"
ROUNDS="${ROUNDS:-1}"
REF_PORT="${REF_PORT:-19480}"

if [[ "$REFERENCE" == 1 ]]; then
  [[ -f "$SEED_BENCH/http-peer.mjs" ]] || fail "no reference peer at $SEED_BENCH/http-peer.mjs: set SEED_BENCH=DIR, or REFERENCE=0."
  [[ -d "$SEED_BENCH/node_modules" ]] || fail "run 'npm ci' in $SEED_BENCH first."
fi

make_work promptvault-load

build_promptvault

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

if [[ " $SCENARIOS " == *" floor "* ]]; then
  echo "Building the Kestrel floor (Release)..." >&2
  dotnet build -c Release "$REPO/bench/PromptVault.Floor" -o "$WORK/floor" -v quiet -nologo >"$WORK/floor-build.log" 2>&1 || { cat "$WORK/floor-build.log" >&2; fail "build failed."; }
  FLOOR="http://127.0.0.1:$((PORT + 1))"
  dotnet "$WORK/floor/PromptVault.Floor.dll" --urls "$FLOOR" >"$WORK/floor.log" 2>&1 &
  FLOOR_PID=$!
  NODE_FLOOR="http://127.0.0.1:$((REF_PORT + 1))"
  node "$LOAD_DIR/floor-peer.mjs" "$((REF_PORT + 1))" >"$WORK/node-floor.log" 2>&1 &
  NODE_FLOOR_PID=$!
  PIDS+=("$FLOOR_PID" "$NODE_FLOOR_PID")
  wait_for "$WORK/floor.log" "floor peer listening"
  wait_for "$WORK/node-floor.log" "floor peer listening"
  wrk -t"$THREADS" -c16 -d"${WARMUP}s" -s "$LOAD_DIR/render.lua" "$FLOOR" -- "" unit >/dev/null
  wrk -t"$THREADS" -c16 -d"${WARMUP}s" -s "$LOAD_DIR/render.lua" "$NODE_FLOOR" -- "" unit >/dev/null
fi

# --- The prompt, its challengers and the experiment (the templates of `promptvault demo`) ---
source "$LOAD_DIR/seed.sh"
seed_customer_support

# --- Load ---
# The machine's stolen and total time so far, in ticks.
machine_ticks() { awk '/^cpu / { print $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }

# run NAME SERVER_LABEL URL PID SCRIPT ARGS... : one wrk run; prints one table row and sets RPS.
run() {
  local scenario="$1" server="$2" url="$3" pid="$4" connections="$5" script="$6"; shift 6
  local before after out machine_before machine_after
  before="$(cpu_ticks "$pid")"
  machine_before="$(machine_ticks)"
  out="$(wrk -t"$THREADS" -c"$connections" -d"${DURATION}s" --timeout 10s -s "$LOAD_DIR/$script" "$url" -- "$@")"
  after="$(cpu_ticks "$pid")"
  machine_after="$(machine_ticks)"
  read -r requests seconds p50 p99 p999 errors non2xx <<<"$(grep '^RESULT' <<<"$out" | cut -d' ' -f2-)"
  RPS="$(awk -v r="$requests" -v s="$seconds" 'BEGIN { printf "%.0f", r / s }')"
  ACKNOWLEDGED=$((requests - non2xx))
  local cpu
  cpu="$(cpu_per_request $((after - before)) "$requests")"
  local stolen
  stolen="$(awk -v b="$machine_before" -v a="$machine_after" 'BEGIN { split(b, x, " "); split(a, y, " ");
    printf "%.1f", (y[2] > x[2] ? 100 * (y[1] - x[1]) / (y[2] - x[2]) : 0) }')"
  printf '| %-18s | %4s | %-11s | %9s | %8s | %8s | %8s | %8s | %6s | %8s |' "$scenario" "$connections" "$server" "$RPS" \
    "$(awk -v u="$p50" 'BEGIN { printf "%.2f", u / 1000 }')" "$(awk -v u="$p99" 'BEGIN { printf "%.2f", u / 1000 }')" \
    "$(awk -v u="$p999" 'BEGIN { printf "%.2f", u / 1000 }')" "$cpu" "$errors" "$stolen"
}

# The events of the load's version: counted (the metrics API's all-time count) and stored (rows, read with sqlite3).
stored_events() { sqlite3 "$WORK/promptvault.db" "SELECT COUNT(*) FROM metric_events WHERE version_id = '$CONTROL_ID'"; }
CHECKS=()
CHECK_FAILED=0
# Each "scenario connections" pair's ratios over the rounds, in the order first run.
RATIO_KEYS=()
declare -A RATIOS=()

# ratio SCENARIO CONNECTIONS A B: prints A ÷ B as the table's last cell and keeps it for the medians.
ratio() {
  local key="$1 $2" value
  value="$(awk -v a="$3" -v b="$4" 'BEGIN { printf "%.2f", b ? a / b : 0 }')"
  [[ -v RATIOS[$key] ]] || RATIO_KEYS+=("$key")
  RATIOS[$key]+="$value "
  echo " $value× |"
}

# check_events SCENARIO CONNECTIONS COUNTED_BEFORE: after a metrics run, once the batches still in flight have settled,
# every acknowledged event (2xx batches x 500) must be counted, counted at most the batches in flight more, and stored.
check_events() {
  local scenario="$1" connections="$2" before="$3" counted
  counted="$(settled_events)"
  local acknowledged=$((ACKNOWLEDGED * 500)) new=$((counted - before)) stored="n/a (no sqlite3)" verdict=ok
  (( new >= acknowledged && new <= acknowledged + connections * 500 )) || verdict=FAILED
  if command -v sqlite3 >/dev/null; then
    stored="$(stored_events)"
    [[ "$stored" == "$counted" ]] || verdict=FAILED
  fi
  [[ "$verdict" == ok ]] || CHECK_FAILED=1
  CHECKS+=("$scenario, $connections connections: $acknowledged events acknowledged, $new counted ($((new - acknowledged)) more from batches in flight when wrk stopped); $counted counted in all, $stored stored: $verdict")
}

rss_mb() { awk '/^VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$PV_PID/status"; }

render_mode() { [[ "$1" == render-experiment ]] && echo unit || echo label; }

echo "Warming up (${WARMUP}s per server)..." >&2
wrk -t"$THREADS" -c16 -d"${WARMUP}s" -s "$LOAD_DIR/render.lua" "$PV" -- "$KEY" unit >/dev/null
wrk -t"$THREADS" -c16 -d"${WARMUP}s" -s "$LOAD_DIR/metrics.lua" "$PV" -- "$KEY" "$CONTROL_ID" >/dev/null
[[ "$REFERENCE" == 1 ]] && wrk -t"$THREADS" -c16 -d"${WARMUP}s" -s "$LOAD_DIR/render.lua" "$REF" -- "" unit >/dev/null

echo
echo "PromptVault $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?') against the reference peer; $(nproc) cores, wrk -t$THREADS, ${DURATION}s per run, $(date -u +%Y-%m-%dT%H:%MZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| scenario           | conn | server      |     req/s |  p50 ms |  p99 ms | p99.9 ms | CPU µs/req | errors | stolen % | PromptVault ÷ reference, or events/s |"
echo "|--------------------|-----:|-------------|----------:|--------:|--------:|---------:|-----------:|-------:|---------:|-------------------------------------:|"
# Scenario by scenario, so a backlog of slow metric batches never spills into a render run.
for scenario in $SCENARIOS; do
  experiment=()
  if [[ "$scenario" == metrics-experiment || ( "$scenario" == metrics-soak && "$SOAK_EXPERIMENT" == 1 ) ]]; then
    experiment=("$EXPERIMENT_ID" "$CONTROL_VARIANT_ID")
  fi
  if [[ "$scenario" == metrics-soak ]]; then
    before="$(counted_events)"
    # The server's resident memory a little before each minute's end, in the background while wrk runs.
    (for minute in $(seq 1 "$SOAK_MINUTES"); do sleep $((minute == 1 ? 58 : 60)); echo "$minute $(rss_mb)"; done) >"$WORK/rss" &
    sampler=$!
    DURATION=$((SOAK_MINUTES * 60)) run "$scenario" promptvault "$PV" "$PV_PID" "$SOAK_CONNECTIONS" metrics.lua "$KEY" "$CONTROL_ID" "${experiment[@]}"
    echo " $((RPS * 500)) events/s |"
    wait "$sampler" || true
    check_events "$scenario" "$SOAK_CONNECTIONS" "$before"
    first="$(awk '$1 == 1 { print $2 }' "$WORK/rss")"
    last="$(awk -v m="$SOAK_MINUTES" '$1 == m { print $2 }' "$WORK/rss")"
    CHECKS+=("$scenario: server RSS by minute (MB): $(awk '{ printf "%s%s", (NR > 1 ? ", " : ""), $2 }' "$WORK/rss"); minute $SOAK_MINUTES ÷ minute 1 = $(awk -v a="$last" -v b="$first" 'BEGIN { printf "%.2f", b ? a / b : 0 }')")
    continue
  fi
  # Every connection count once per round.
  for connections in $(for _ in $(seq 1 "$ROUNDS"); do echo "$CONNECTIONS"; done); do
    case "$scenario" in
      render-label|render-experiment)
        mode="$(render_mode "$scenario")"
        [[ "$mode" == unit ]] && before="$(exposed_units "$PV")"
        run "$scenario" promptvault "$PV" "$PV_PID" "$connections" render.lua "$KEY" "$mode"
        pv_rps="$RPS"
        echo " |"
        [[ "$mode" == unit ]] && check_exposures "$connections" "$before" render-experiment "$PV"
        if [[ "$REFERENCE" == 1 ]]; then
          run "$scenario" reference "$REF" "$REF_PID" "$connections" render.lua "" "$mode"
          ratio "$scenario" "$connections" "$pv_rps" "$RPS"
        fi
        ;;
      floor)
        run "$scenario" kestrel "$FLOOR" "$FLOOR_PID" "$connections" render.lua "" unit
        kestrel_rps="$RPS"
        echo " |"
        run "$scenario" node "$NODE_FLOOR" "$NODE_FLOOR_PID" "$connections" render.lua "" unit
        ratio "$scenario" "$connections" "$kestrel_rps" "$RPS"
        ;;
      metrics-500|metrics-experiment)
        before="$(counted_events)"
        run "$scenario" promptvault "$PV" "$PV_PID" "$connections" metrics.lua "$KEY" "$CONTROL_ID" "${experiment[@]}"
        echo " $((RPS * 500)) events/s |"
        check_events "$scenario" "$connections" "$before"
        ;;
      *) fail "unknown scenario '$scenario'." ;;
    esac
  done
done
if (( ROUNDS > 1 && ${#RATIO_KEYS[@]} > 0 )); then
  echo
  echo "Median ratio over $ROUNDS rounds (the rounds' ratios in brackets):"
  for key in "${RATIO_KEYS[@]}"; do
    median="$(median ${RATIOS[$key]})"
    echo "- $key connections: ${median}× [${RATIOS[$key]% }]"
  done
fi
if (( ${#CHECKS[@]} > 0 )); then
  echo
  printf -- '- %s\n' "${CHECKS[@]}"
fi
exit "$CHECK_FAILED"
