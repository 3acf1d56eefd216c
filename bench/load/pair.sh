#!/usr/bin/env bash
# One setting's or one change's cost, A against B: two PromptVault servers side by side, their wrk runs alternated, so
# that both see the same machine (on a shared one, runs a minute apart differ by a fifth; docs/benchmarks.md, stop 27).
#
#   B_ENV='Logging__LogLevel__PromptVault.Requests=Warning' bench/load/pair.sh
#   A_REV=HEAD~1 bench/load/pair.sh          # the last commit's cost: the one before it against the working tree
#
# Builds the server (Release; each side from its revision, when given), starts server A and server B, each on its own
# temporary database with its own environment added (A_ENV, B_ENV), seeds each like run.sh (customer-support, a running
# 50/25/25 experiment), warms each up, then runs wrk on A, then on B, ROUNDS times. Prints each round's req/s and server
# CPU per request (utime+stime from /proc), each server's median CPU per request, and the median of B ÷ A taken round by
# round.
#
# Needs: .NET 10 SDK, wrk (Debian: apt-get install wrk), node, curl.
# Settings (environment variables):
#   A_ENV, B_ENV  NAME=value pairs, space-separated, added to each server's environment (default: none)
#   A_REV, B_REV  a git revision (commit, branch, HEAD~1) to build that side from, in a worktree of its own (default: the
#                 working tree as it is, uncommitted changes included)
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

# build_side NAME REV: the server of one side into $WORK/bin-NAME, from REV or (no REV) from the working tree.
build_side() {
  local name="$1" rev="$2" source="$REPO"
  if [[ -n "$rev" ]]; then
    source="$WORK/src-$name"
    git -C "$REPO" rev-parse --verify --quiet "$rev^{commit}" >/dev/null || fail "$name's revision '$rev' is not a commit of $REPO."
    git -C "$REPO" worktree add --detach --quiet "$source" "$rev"
    WORKTREES+=("$source")
  fi
  echo "Building $name (Release, ${rev:-the working tree})..." >&2
  dotnet build -c Release "$source/src/PromptVault.Cli" -o "$WORK/bin-$name" -v quiet -nologo >"$WORK/build-$name.log" 2>&1 ||
    { cat "$WORK/build-$name.log" >&2; fail "building $name failed."; }
}
WORKTREES=()
trap 'for tree in "${WORKTREES[@]}"; do git -C "$REPO" worktree remove --force "$tree"; done; remove_work' EXIT
build_side A "${A_REV:-}"
if [[ "${B_REV:-}" == "${A_REV:-}" ]]; then ln -s "$WORK/bin-A" "$WORK/bin-B"; else build_side B "${B_REV:-}"; fi

source "$LOAD_DIR/seed.sh"

declare -A URL PID_OF KEY_OF
# start NAME PORT ENV: a seeded, warmed-up server.
start() {
  local name="$1" port="$2" settings="$3"
  PV="http://127.0.0.1:$port"
  # shellcheck disable=SC2086 # the settings are NAME=value words
  env $settings dotnet "$WORK/bin-$name/promptvault.dll" serve --db "$WORK/$name.db" --urls "$PV" >"$WORK/$name.log" 2>&1 &
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

# side NAME REV ENV: what a side runs, for the heading.
side() {
  local commit
  commit="$(git -C "$REPO" rev-parse --short "${2:-HEAD}" 2>/dev/null || echo '?')"
  [[ -z "$2" && -n "$(git -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null)" ]] && commit="$commit with uncommitted changes"
  echo "$commit, ${3:-no settings}"
}

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
echo "PromptVault, A ($(side A "${A_REV:-}" "${A_ENV:-}")) against B ($(side B "${B_REV:-}" "${B_ENV:-}")); $MODE renders, $CONNECTIONS connections, wrk -t$THREADS, ${DURATION}s per run, $(date -u +%Y-%m-%dT%H:%MZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
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
