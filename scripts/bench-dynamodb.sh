#!/usr/bin/env bash
# What a check run and an /api/credits request cost on DynamoDB: `balance-alert check --table`
# on moto_server (the local emulator) behind scripts/dynamodb_counting_proxy.py, which counts
# every DynamoDB call and the capacity units on-demand DynamoDB bills for it (from the request
# and response bodies: independent of the code under test). For each project count: the first
# run, an unchanged run, a run where 10 % of the projects cross their threshold; then one
# `GET /api/credits` through the api function (its bootstrap under cargo-lambda's emulator).
# Figures go in docs/benchmarks.md and the README's cost table.
# Usage: ./scripts/bench-dynamodb.sh                 (100 and 1,000 projects)
#        BENCH_PROJECTS=100 ./scripts/bench-dynamodb.sh
# BENCH_BIN_DIR: take balance-alert, fake-providers and api from there (e.g. a debug build)
# instead of building release binaries.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
setup_python
bench_bin
if [ -z "${BENCH_BIN_DIR:-}" ]; then
  cargo build --release --locked -p api
fi
WORK=$(mktemp -d)
trap 'stop_bg; rm -rf "$WORK"' EXIT

FAKE_PORT=$(free_port)
start_fake "$BIN" "$FAKE_PORT"
MOTO_PORT=$(free_port)
start_moto "$MOTO_PORT" "$WORK/moto.log"
PROXY_PORT=$(free_port)
start_bg .venv/bin/python scripts/dynamodb_counting_proxy.py --port "$PROXY_PORT" \
  --upstream "http://127.0.0.1:$MOTO_PORT"
wait_http "http://127.0.0.1:$PROXY_PORT/__counts"
PROXY=http://127.0.0.1:$PROXY_PORT
export AWS_ENDPOINT_URL=$PROXY AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
       AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_EC2_METADATA_DISABLED=true

# config N LOW_EVERY [INTERVAL]: N projects over the four providers, balances 15–34 above a
# threshold of 10; with LOW_EVERY > 0 every LOW_EVERY-th project reads 5 (a LOW transition and
# its alert). INTERVAL: balance_refresh_interval_seconds (default 3600).
config() {
  .venv/bin/python - "$WORK/config.json" "http://127.0.0.1:$FAKE_PORT" "$1" "$2" "${3:-3600}" <<'PY'
import json, sys
out, url, n, low, every = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
providers = ["openrouter", "deepseek", "moonshot", "siliconflow"]
projects = [{"name": f"p{i}", "provider": providers[i % 4],
             "api_key": "bal:5" if low and i % low == 0 else f"bal:{15 + i % 20}",
             "threshold": 10, "base_url": url} for i in range(n)]
settings = {"max_concurrent_checks": 100, "max_retries": 0,
            "balance_refresh_interval_seconds": every, "min_refresh_interval_seconds": min(every, 60)}
json.dump({"settings": settings, "projects": projects}, open(out, "w"))
PY
}
reset() { curl -sS -X POST "$PROXY/__reset"; }
# report LABEL N: the counts since the last reset, in total and per project.
report() {
  curl -sS "$PROXY/__counts" | .venv/bin/python -c '
import json, sys
label, n = sys.argv[1], int(sys.argv[2])
c = json.load(sys.stdin)
t = {k: sum(op[k] for op in c.values()) for k in ("calls", "wcu", "index_wcu", "rcu")}
ops = ", ".join("%s %d" % (op, v["calls"]) for op, v in sorted(c.items()))
print("| %s | %d | %d | %g | %g | %g | %.2f | %.2f | %s |" % (label, n, t["calls"], t["wcu"],
      t["index_wcu"], t["rcu"], t["wcu"] / n, t["rcu"] / n, ops))
' "$1" "$2"
}
run() {  # run LABEL N: one check run, counted
  reset
  "$BIN/balance-alert" check --table "bench$2" >/dev/null 2>&1 || true
  report "$1" "$2"
}

echo "| run | projects | calls | WCU | index WCU | RCU | WCU/project | RCU/project | calls by operation |"
echo "|---|---|---|---|---|---|---|---|---|"
for n in ${BENCH_PROJECTS:-100 1000}; do
  "$BIN/balance-alert" table create --table "bench$n" >/dev/null
  config "$n" 0
  "$BIN/balance-alert" config push --table "bench$n" --config "$WORK/config.json" >/dev/null 2>&1
  run "check, first run" "$n"
  run "check, unchanged" "$n"
  run "check, unchanged again" "$n"
  config "$n" 10
  "$BIN/balance-alert" config push --table "bench$n" --config "$WORK/config.json" >/dev/null 2>&1
  run "check, 10 % go LOW" "$n"
done

# The functions under cargo-lambda's emulator: the checker as the schedule invokes it (due
# projects, claimed), and one GET /api/credits through the api's function URL.
FUNCTIONS=${BENCH_BIN_DIR:-$CARGO_TARGET_DIR/release}
n=${BENCH_PROJECTS:-100 1000}; n=${n##* }
SECRET_ARN=$(.venv/bin/python -c "import boto3; print(boto3.client('secretsmanager').create_secret(Name='bench-api-key', SecretString='bench-key-0123456789')['ARN'])")
LAMBDA_PORT=$(free_port)
start_bg .venv/bin/cargo-lambda lambda watch --only-lambda-apis --ignore-changes \
  --invoke-address 127.0.0.1 --invoke-port "$LAMBDA_PORT" >"$WORK/watch.log" 2>&1
for _ in $(seq 300); do (exec 3<>/dev/tcp/127.0.0.1/"$LAMBDA_PORT") 2>/dev/null && break; sleep 0.1; done
function_up() {  # function_up NAME TABLE: its bootstrap polling the emulator
  start_bg env AWS_LAMBDA_RUNTIME_API="http://127.0.0.1:$LAMBDA_PORT/.rt/$1" \
    AWS_LAMBDA_FUNCTION_NAME="$1" AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256 \
    AWS_LAMBDA_FUNCTION_VERSION='$LATEST' TABLE_NAME="$2" HISTORY_RETENTION_DAYS=90 \
    API_KEY_SECRET_ARN="$SECRET_ARN" "$FUNCTIONS/$1" >"$WORK/$1.log" 2>&1
}

# The checker on a table of its own whose projects are due every 20 s (the unchanged runs wait
# for that): first run, unchanged runs (claim, check, schedule), a run with 10 % going LOW.
"$BIN/balance-alert" table create --table "benchfn$n" >/dev/null
config "$n" 0 20
"$BIN/balance-alert" config push --table "benchfn$n" --config "$WORK/config.json" >/dev/null 2>&1
function_up checker "benchfn$n"
LOG_NOTES=()
scheduled() {  # scheduled LABEL: one scheduled invocation, counted (and the log bytes it wrote)
  reset
  local before; before=$(stat -c %s "$WORK/checker.log")
  .venv/bin/cargo-lambda lambda invoke checker --invoke-address 127.0.0.1 \
    --invoke-port "$LAMBDA_PORT" --data-file shared/lambda/tests/fixtures/scheduled-event.json >/dev/null
  report "$1" "$n"
  LOG_NOTES+=("$1: $(( $(stat -c %s "$WORK/checker.log") - before )) bytes of log (CloudWatch Logs ingests them)")
}
scheduled "checker function, first run"
sleep 21; scheduled "checker function, unchanged"
sleep 21; scheduled "checker function, unchanged again"
config "$n" 10 20
"$BIN/balance-alert" config push --table "benchfn$n" --config "$WORK/config.json" >/dev/null 2>&1
sleep 21; scheduled "checker function, 10 % go LOW"

function_up api "bench$n"
URL=http://127.0.0.1:$LAMBDA_PORT/lambda-url/api
curl -sS -o /dev/null "$URL/health"   # the cold start's own reads (config, secret) done first
sleep 1.1                             # past the api's one-second config-version memo
reset
curl -sS --fail -o /dev/null -H "X-API-Key: bench-key-0123456789" "$URL/api/credits" \
  || { tail -20 "$WORK/api.log"; exit 1; }
report "GET /api/credits (api function, warm)" "$n"
printf '\n'
printf '%s\n' "${LOG_NOTES[@]}"
