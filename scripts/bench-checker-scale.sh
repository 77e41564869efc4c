#!/usr/bin/env bash
# One scheduled checker invocation on many projects (BENCH_PROJECTS, default 10,000) against
# the fake provider answering every request in 200 ms, on moto_server: the checker's bootstrap
# under cargo-lambda's emulator with 256 MB, as the schedule invokes it. Reports, for the first
# run (every project new) and an unchanged run (every project due again): the invocation's
# wall time, the bootstrap's CPU time and peak memory (VmHWM), and the DynamoDB calls it made.
# moto answers one request at a time in Python, so the wall time here is the emulator's; the
# CPU time and the memory are the function's own, which Lambda bills and limits.
# Usage: ./scripts/bench-checker-scale.sh
#        BENCH_PROJECTS=2000 BENCH_BIN_DIR=$CARGO_TARGET_DIR/debug ./scripts/bench-checker-scale.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
setup_python
bench_bin
if [ -z "${BENCH_BIN_DIR:-}" ]; then
  cargo build --release --locked -p checker
fi
FUNCTIONS=${BENCH_BIN_DIR:-$CARGO_TARGET_DIR/release}
N=${BENCH_PROJECTS:-10000}
WORK=$(mktemp -d)
trap 'stop_bg; rm -rf "$WORK"' EXIT

FAKE_PORT=$(free_port)
start_bg "$BIN/fake-providers" --listen "127.0.0.1:$FAKE_PORT" --latency-ms 200 >/dev/null 2>&1
wait_http "http://127.0.0.1:$FAKE_PORT/_health"
MOTO_PORT=$(free_port)
start_moto "$MOTO_PORT" "$WORK/moto.log"
PROXY_PORT=$(free_port)
start_bg .venv/bin/python scripts/dynamodb_counting_proxy.py --port "$PROXY_PORT" \
  --upstream "http://127.0.0.1:$MOTO_PORT" --no-images
wait_http "http://127.0.0.1:$PROXY_PORT/__counts"
PROXY=http://127.0.0.1:$PROXY_PORT
export AWS_ENDPOINT_URL=http://127.0.0.1:$MOTO_PORT AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
       AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_EC2_METADATA_DISABLED=true

# The config: N projects, due every 60 s, as compact JSON (a local config file may be 1 MiB;
# the table keeps it gzip-compressed).
.venv/bin/python - "$WORK/config.json" "http://127.0.0.1:$FAKE_PORT" "$N" <<'PY'
import json, sys
out, url, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
# Short: two providers with short names, `127.1` for 127.0.0.1, keys `bal:1x`.
url = url.replace("127.0.0.1", "127.1")
providers = ["moonshot", "deepseek"]
projects = [{"name": f"p{i}", "provider": providers[i % 2], "api_key": f"bal:{10 + i % 10}",
             "threshold": 5, "base_url": url} for i in range(n)]
settings = {"max_concurrent_checks": 1000, "max_retries": 0, "balance_refresh_interval_seconds": 60,
            "min_refresh_interval_seconds": 60, "enable_smart_refresh": False}
text = json.dumps({"settings": settings, "projects": projects}, separators=(",", ":"))
assert len(text) <= 1024 * 1024, f"{len(text)} bytes: over the 1 MiB config limit"
open(out, "w").write(text)
PY
echo "config: $N projects, $(stat -c %s "$WORK/config.json") bytes"
"$BIN/balance-alert" table create --table scale >/dev/null
"$BIN/balance-alert" config push --table scale --config "$WORK/config.json" >/dev/null 2>&1

LAMBDA_PORT=$(free_port)
start_bg .venv/bin/cargo-lambda lambda watch --only-lambda-apis --ignore-changes \
  --invoke-address 127.0.0.1 --invoke-port "$LAMBDA_PORT" --timeout 3600 >"$WORK/watch.log" 2>&1
for _ in $(seq 300); do (exec 3<>/dev/tcp/127.0.0.1/"$LAMBDA_PORT") 2>/dev/null && break; sleep 0.1; done
AWS_ENDPOINT_URL=$PROXY start_bg env AWS_LAMBDA_RUNTIME_API="http://127.0.0.1:$LAMBDA_PORT/.rt/checker" \
  AWS_LAMBDA_FUNCTION_NAME=checker AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256 \
  AWS_LAMBDA_FUNCTION_VERSION='$LATEST' TABLE_NAME=scale HISTORY_RETENTION_DAYS=90 \
  DYNAMODB_TIMEOUT_SECONDS=60 "$FUNCTIONS/checker" >"$WORK/checker.log" 2>&1
# The bootstrap itself (start_bg's env execs into it), for its CPU time and peak memory.
checker_pid() { pgrep -f "^$FUNCTIONS/checker" | head -1; }
for _ in $(seq 100); do [ -n "$(checker_pid)" ] && break; sleep 0.1; done
PID=$(checker_pid)
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' "/proc/$PID/stat"; }

invoke() {  # invoke LABEL: one scheduled invocation, measured
  curl -sS -X POST "$PROXY/__reset"
  local cpu0 t0 t1
  cpu0=$(cpu_seconds); t0=$(date +%s.%N)
  .venv/bin/cargo-lambda lambda invoke checker --invoke-address 127.0.0.1 --invoke-port "$LAMBDA_PORT" \
    --data-file shared/lambda/tests/fixtures/scheduled-event.json >"$WORK/out.json"
  t1=$(date +%s.%N)
  local calls
  calls=$(curl -sS "$PROXY/__counts" | .venv/bin/python -c '
import json, sys
c = json.load(sys.stdin)
print(", ".join("%s %d" % (op, v["calls"]) for op, v in sorted(c.items())))')
  printf '| %s | %d | %.1f s | %.1f s | %s MB | %s |\n' "$1" "$N" "$(echo "$t1 - $t0" | bc)" \
    "$(echo "$(cpu_seconds) - $cpu0" | bc)" \
    "$(awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$PID/status")" "$calls"
}

echo "| run | projects | wall (moto) | checker CPU | peak RSS | DynamoDB calls |"
echo "|---|---|---|---|---|---|"
invoke "first run"
sleep 61
invoke "unchanged, every project due again"
grep -c '"project_balance"\|project_balance' "$WORK/checker.log" >/dev/null || true
