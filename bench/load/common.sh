# Sourced first by run.sh and instances.sh (after they set LOAD_DIR): the settings both take with their defaults, and
# the helpers both use.
#   source "$LOAD_DIR/common.sh" CONNECTIONS_DEFAULT PORT_DEFAULT

REPO="$(cd "$LOAD_DIR/../.." && pwd)"
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-5}"
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-$1}"
PORT="${PORT:-$2}"
SCENARIOS="${SCENARIOS:-render-label render-experiment metrics-500}"
export LOAD_DIR

fail() { echo "error: $*" >&2; exit 2; }
for tool in dotnet wrk node curl; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (apt-get install wrk nodejs curl)."
done

# make_work PREFIX: a temporary folder in WORK; at exit, every process in PIDS is stopped and the folder removed.
make_work() {
  WORK="$(mktemp -d -t "$1-XXXXXX")"
  PIDS=()
  trap remove_work EXIT
}
remove_work() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}

# build_promptvault: the server (Release) into $WORK/bin.
build_promptvault() {
  echo "Building PromptVault (Release)..." >&2
  dotnet build -c Release "$REPO/src/PromptVault.Cli" -o "$WORK/bin" -v quiet -nologo >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log" >&2; fail "build failed."; }
}

# cpu_ticks PID...: the processes' CPU time so far (user + system), in ticks of TICKS_PER_SECOND.
cpu_ticks() { local t=0 pid; for pid in "$@"; do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$pid/stat"))); done; echo "$t"; }
TICKS_PER_SECOND="$(getconf CLK_TCK)"

# cpu_per_request TICKS REQUESTS [DIGITS]: µs of CPU a request, rounded to DIGITS decimals (default 0).
cpu_per_request() { awk -v t="$1" -v hz="$TICKS_PER_SECOND" -v r="$2" -v d="${3:-0}" 'BEGIN { printf "%.*f", d, r ? t / hz * 1e6 / r : 0 }'; }

# median NUMBER...: their median.
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# api METHOD PATH [BODY]: the API of the server at $PV, with the key $KEY; fails on an error status.
api() {
  local method="$1" path="$2" body="${3:-}"
  curl -sS --fail-with-body -X "$method" "$PV$path" -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" ${body:+-d "$body"}
}

# wait_for FILE PATTERN: waits until the file holds a line matching the pattern (a server's start-up line).
wait_for() {
  local file="$1" pattern="$2"
  for _ in $(seq 1 300); do
    grep -q "$pattern" "$file" 2>/dev/null && return 0
    sleep 0.1
  done
  cat "$file" >&2
  fail "timed out waiting for '$pattern' in $file."
}

# exposed_units URL...: the running experiment's (EXPERIMENT_ID) exposed units, from its results read on each server in
# turn. A results read first waits for the render exposures queued on its own server, so the last read counts them all.
exposed_units() {
  local url exposed
  for url in "$@"; do
    exposed="$(curl -sS --fail-with-body "$url/api/experiments/$EXPERIMENT_ID/results" -H "Authorization: Bearer $KEY" |
      node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).variants.reduce((n,v)=>n+v.exposures,0)))')"
  done
  echo "$exposed"
}

# check_exposures CONNECTIONS EXPOSED_BEFORE LABEL URL...: after an experiment render run (ACKNOWLEDGED renders answered),
# every answered render named a new unit, so each must have added one exposed unit, and at most the renders in flight
# when wrk stopped one more. One missing was dropped (the render exposures' queue full) or lost (docs/reliability.md).
# Adds a line to CHECKS, and sets CHECK_FAILED when one is missing.
check_exposures() {
  local connections="$1" before="$2" label="$3" exposed new verdict=ok
  shift 3
  exposed="$(exposed_units "$@")"
  new=$((exposed - before))
  if (( new < ACKNOWLEDGED || new > ACKNOWLEDGED + connections )); then verdict=FAILED; CHECK_FAILED=1; fi
  CHECKS+=("$label, $connections connections: $ACKNOWLEDGED renders answered, $new units stored as exposed ($((new - ACKNOWLEDGED)) more from renders in flight when wrk stopped): $verdict")
}
