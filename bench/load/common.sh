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

# build_promptvault: the server (Release) into $WORK/bin.
build_promptvault() {
  echo "Building PromptVault (Release)..." >&2
  dotnet build -c Release "$REPO/src/PromptVault.Cli" -o "$WORK/bin" -v quiet -nologo >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log" >&2; fail "build failed."; }
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
