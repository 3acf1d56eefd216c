#!/usr/bin/env bash
# One setting's cost, A against B: two PromptVault servers side by side, their wrk runs alternated, so that both see the
# same machine (on a shared one, runs a minute apart differ by a fifth; docs/benchmarks.md, stop 27).
#
#   B_ENV='Logging__LogLevel__PromptVault.Requests=Warning' bench/load/pair.sh
#
# Builds the server (Release), starts server A and server B, each on its own temporary database with its own
# environment added (A_ENV, B_ENV), seeds each like run.sh (customer-support, a running 50/25/25 experiment), warms each
# up, then runs wrk on A, then on B, ROUNDS times. Prints each round's req/s and server CPU per request (utime+stime
# from /proc), each server's median CPU per request, and the median of B ÷ A taken round by round.
#
# Needs: .NET 10 SDK, wrk (Debian: apt-get install wrk), node, curl.
# Settings (environment variables):
#   A_ENV, B_ENV  NAME=value pairs, space-separated, added to each server's environment (default: none)
#   MODE          label (production label) or unit (the experiment, a new unit per request; default)
#   CONNECTIONS   one connection count (default 64)     DURATION  seconds per run (default 5)
#   WARMUP        seconds of warm-up per server (default 40)    ROUNDS  alternations (default 6)
#   THREADS       wrk threads (default 2)               PORT      server A's port (default 19680; B's is PORT+1)
set -euo pipefail

LOAD_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DURATION="${DURATION:-5}"
WARMUP="${WARMUP:-40}"
source "$LOAD_DIR/common.sh" "64" 19680
MODE="${MODE:-unit}"
ROUNDS="${ROUNDS:-6}"
[[ "$MODE" == label || "$MODE" == unit ]] || fail "MODE must be label or unit, not '$MODE'."
[[ "$CONNECTIONS" =~ ^[0-9]+$ ]] || fail "CONNECTIONS must be one number, not '$CONNECTIONS'."

make_work promptvault-pair

build_promptvault

source "$LOAD_DIR/seed.sh"

declare -A URL PID_OF KEY_OF
# start NAME PORT ENV: a seeded, warmed-up server.
start() {
  local name="$1" port="$2" settings="$3"
  PV="http://127.0.0.1:$port"
  # shellcheck disable=SC2086 # the settings are NAME=value words
  env $settings dotnet "$WORK/bin/promptvault.dll" serve --db "$WORK/$name.db" --urls "$PV" >"$WORK/$name.log" 2>&1 &
  PIDS+=("$!")
  PID_OF[$name]=$!
  wait_for "$WORK/$name.log" "is listening on"
  KEY="$(sed -n 's/.*store it now): //p' "$WORK/$name.log")"
  [[ -n "$KEY" ]] || fail "server $name printed no admin key (see $WORK/$name.log)."
  seed_customer_support
  URL[$name]="$PV"
  KEY_OF[$name]="$KEY"
  echo "Warming up $name (${WARMUP}s)..." >&2
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -s "$LOAD_DIR/render.lua" "$PV" -- "$KEY" "$MODE" >/dev/null
}
start A "$PORT" "${A_ENV:-}"
start B "$((PORT + 1))" "${B_ENV:-}"

# measure NAME: one wrk run; sets RPS and CPU.
measure() {
  local name="$1" before after out requests seconds
  before="$(cpu_ticks "${PID_OF[$name]}")"
  out="$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s -s "$LOAD_DIR/render.lua" "${URL[$name]}" -- "${KEY_OF[$name]}" "$MODE")"
  after="$(cpu_ticks "${PID_OF[$name]}")"
  read -r requests seconds _ <<<"$(grep '^RESULT' <<<"$out" | cut -d' ' -f2-)"
  RPS="$(awk -v r="$requests" -v s="$seconds" 'BEGIN { printf "%.0f", r / s }')"
  CPU="$(cpu_per_request $((after - before)) "$requests" 1)"
}

echo
echo "PromptVault $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?'), A (${A_ENV:-no settings}) against B (${B_ENV:-no settings}); $MODE renders, $CONNECTIONS connections, wrk -t$THREADS, ${DURATION}s per run, $(date -u +%Y-%m-%dT%H:%MZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| round | A req/s | A CPU µs/req | B req/s | B CPU µs/req | B ÷ A (CPU) |"
echo "|------:|--------:|-------------:|--------:|-------------:|------------:|"
cpu_a=(); cpu_b=(); ratios=()
for round in $(seq 1 "$ROUNDS"); do
  measure A; rps_a="$RPS"; cpu_a+=("$CPU")
  measure B; rps_b="$RPS"; cpu_b+=("$CPU")
  ratios+=("$(awk -v a="${cpu_a[-1]}" -v b="$CPU" 'BEGIN { printf "%.3f", (a > 0 ? b / a : 0) }')")
  printf '| %5s | %7s | %12s | %7s | %12s | %11s |\n' "$round" "$rps_a" "${cpu_a[-1]}" "$rps_b" "$CPU" "${ratios[-1]}"
done
echo
echo "- median CPU a request: A $(median "${cpu_a[@]}") µs, B $(median "${cpu_b[@]}") µs"
echo "- median of B ÷ A, round by round: $(median "${ratios[@]}")"
