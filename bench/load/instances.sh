#!/usr/bin/env bash
# Render and ingest rates of one and of two PromptVault servers sharing one PostgreSQL database, beside one server on
# SQLite, in one run (docs/deployment.md, docs/benchmarks.md).
#
#   bench/load/instances.sh
#
# Builds the server (Release), starts a throwaway PostgreSQL (initdb/pg_ctl in a temporary folder, as user postgres when
# run as root; default durability settings) and three set-ups, one after the other:
#   sqlite-1     one server on a SQLite file                 (serve --db)
#   postgres-1   one server on the PostgreSQL database       (serve --postgres)
#   postgres-2   two servers on one PostgreSQL database; wrk drives each with half the connections, both at once
#                (req/s summed; latency percentiles the worse of the two; CPU is both servers' per request)
# Each is seeded like run.sh (customer-support, two challengers, a running 50/25/25 experiment) and driven with the
# scenarios render-label, render-experiment and metrics-500 of run.sh (UNIT_IDS=random as there). After each metrics
# run it checks that every acknowledged event is counted by the metrics API (of either server), and after each
# render-experiment run that every answered render's unit is stored as exposed; it fails the script if not.
#
# Needs: .NET 10 SDK, wrk, node, curl, PostgreSQL's server binaries (Debian: apt-get install postgresql wrk).
# Settings: DURATION (10), WARMUP (5), CONNECTIONS ("64"), THREADS (2, per wrk), SCENARIOS ("render-label
#   render-experiment metrics-500"), SETUPS ("sqlite-1 postgres-1 postgres-2"), PORT (19580; the second server PORT+1,
#   PostgreSQL PORT+2).
set -euo pipefail

LOAD_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$LOAD_DIR/common.sh" "64" 19580
SETUPS="${SETUPS:-sqlite-1 postgres-1 postgres-2}"
PG_PORT=$((PORT + 2))

PG_BIN="$(dirname "$(command -v pg_ctl 2>/dev/null || compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' | sort -V | tail -n 1)")"
[[ -x "$PG_BIN/initdb" ]] || fail "PostgreSQL's initdb/pg_ctl are not installed (apt-get install postgresql)."

WORK="$(mktemp -d -t promptvault-instances-XXXXXX)"
chmod 755 "$WORK"
PIDS=()
as_postgres() { if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
stop_servers() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  PIDS=()
}
cleanup() {
  stop_servers
  [[ -d "$WORK/pg" ]] && as_postgres "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

build_promptvault

echo "Starting PostgreSQL on 127.0.0.1:$PG_PORT..." >&2
mkdir -p "$WORK/pg"
[[ "$(id -u)" == 0 ]] && chown postgres: "$WORK/pg"
as_postgres "$PG_BIN/initdb" -D "$WORK/pg/data" -U postgres -A trust -E UTF8 --locale=C >"$WORK/initdb.log" 2>&1 || { cat "$WORK/initdb.log" >&2; fail "initdb failed."; }
as_postgres "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $WORK/pg -c max_connections=300" start >/dev/null
PG="Host=127.0.0.1;Port=$PG_PORT;Username=postgres"
PSQL="$(command -v psql || echo "$PG_BIN/psql")"

# start_servers SETUP: starts its servers; sets URLS, SERVER_PIDS, KEY, and PV (the first server's, which api calls).
start_servers() {
  local setup="$1" count=1 storage
  [[ "$setup" == *-2 ]] && count=2
  if [[ "$setup" == sqlite-* ]]; then
    storage=(--db "$WORK/$setup.db")
  else
    "$PSQL" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE \"$setup\"" postgres
    storage=(--postgres "$PG;Database=$setup")
  fi
  URLS=(); SERVER_PIDS=()
  for i in $(seq 0 $((count - 1))); do
    local url="http://127.0.0.1:$((PORT + i))"
    dotnet "$WORK/bin/promptvault.dll" serve "${storage[@]}" --urls "$url" >"$WORK/$setup-$i.log" 2>&1 &
    PIDS+=("$!"); SERVER_PIDS+=("$!"); URLS+=("$url")
    # One after the other: the first creates the schema and prints the first admin key.
    wait_for "$WORK/$setup-$i.log" "is listening on"
  done
  KEY="$(sed -n 's/.*store it now): //p' "$WORK/$setup-0.log")"
  [[ -n "$KEY" ]] || fail "the server printed no admin key (see $WORK/$setup-0.log)."
  PV="${URLS[0]}"
}

source "$LOAD_DIR/seed.sh"

# run SETUP SCENARIO CONNECTIONS SCRIPT ARGS...: wrk on every server at once, the connections split between them.
run() {
  local setup="$1" scenario="$2" connections="$3" script="$4"; shift 4
  local each=$((connections / ${#URLS[@]})) before after i
  before="$(cpu_ticks "${SERVER_PIDS[@]}")"
  local wrks=()
  for i in "${!URLS[@]}"; do
    wrk -t"$THREADS" -c"$each" -d"${DURATION}s" --timeout 10s -s "$LOAD_DIR/$script" "${URLS[$i]}" -- "$@" >"$WORK/wrk-$i.out" &
    wrks+=("$!")
  done
  wait "${wrks[@]}"
  after="$(cpu_ticks "${SERVER_PIDS[@]}")"
  read -r requests seconds p50 p99 p999 errors non2xx <<<"$(cat "$WORK"/wrk-*.out | grep '^RESULT' | awk '
    { r += $2; s = ($3 > s ? $3 : s); p50 = ($4 > p50 ? $4 : p50); p99 = ($5 > p99 ? $5 : p99); p999 = ($6 > p999 ? $6 : p999); e += $7; n += $8 }
    END { print r, s, p50, p99, p999, e, n }')"
  rm -f "$WORK"/wrk-*.out
  RPS="$(awk -v r="$requests" -v s="$seconds" 'BEGIN { printf "%.0f", r / s }')"
  ACKNOWLEDGED=$((requests - non2xx))
  printf '| %-10s | %-17s | %4s | %9s | %8s | %8s | %8s | %10s | %6s |' "$setup" "$scenario" "$connections" "$RPS" \
    "$(awk -v u="$p50" 'BEGIN { printf "%.2f", u / 1000 }')" "$(awk -v u="$p99" 'BEGIN { printf "%.2f", u / 1000 }')" \
    "$(awk -v u="$p999" 'BEGIN { printf "%.2f", u / 1000 }')" \
    "$(cpu_per_request $((after - before)) "$requests")" "$errors"
}

CHECKS=()
CHECK_FAILED=0

echo
echo "PromptVault $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?'): one and two servers on one PostgreSQL ($("$PG_BIN/postgres" --version | awk '{ print $3 }')), one on SQLite; $(nproc) cores, wrk -t$THREADS per server, ${DURATION}s per run, $(date -u +%Y-%m-%dT%H:%MZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| setup      | scenario          | conn |     req/s |  p50 ms |  p99 ms | p99.9 ms | CPU µs/req | errors | events/s |"
echo "|------------|-------------------|-----:|----------:|--------:|--------:|---------:|-----------:|-------:|---------:|"
for setup in $SETUPS; do
  start_servers "$setup"
  seed_customer_support
  for url in "${URLS[@]}"; do
    wrk -t"$THREADS" -c16 -d"${WARMUP}s" -s "$LOAD_DIR/render.lua" "$url" -- "$KEY" unit >/dev/null
    wrk -t"$THREADS" -c16 -d"${WARMUP}s" -s "$LOAD_DIR/metrics.lua" "$url" -- "$KEY" "$CONTROL_ID" >/dev/null
  done
  for scenario in $SCENARIOS; do
    for connections in $CONNECTIONS; do
      case "$scenario" in
        render-label|render-experiment)
          mode=label; [[ "$scenario" == render-experiment ]] && mode=unit
          [[ "$mode" == unit ]] && before="$(exposed_units "${URLS[@]}")"
          run "$setup" "$scenario" "$connections" render.lua "$KEY" "$mode"
          echo "          |"
          [[ "$mode" == unit ]] && check_exposures "$connections" "$before" "$setup $scenario" "${URLS[@]}"
          ;;
        metrics-500)
          before="$(settled_events)"
          run "$setup" "$scenario" "$connections" metrics.lua "$KEY" "$CONTROL_ID"
          echo " $(printf '%8s' $((RPS * 500))) |"
          counted="$(settled_events)"
          acknowledged=$((ACKNOWLEDGED * 500)); new=$((counted - before)); verdict=ok
          (( new >= acknowledged && new <= acknowledged + connections * 500 )) || { verdict=FAILED; CHECK_FAILED=1; }
          CHECKS+=("$setup $scenario, $connections connections: $acknowledged events acknowledged, $new counted: $verdict")
          ;;
        *) fail "unknown scenario '$scenario'." ;;
      esac
    done
  done
  stop_servers
done
echo
printf -- '- %s\n' "${CHECKS[@]}"
exit "$CHECK_FAILED"
