#!/usr/bin/env bash
# A 1,000-project `check` on DynamoDB (moto_server, the local emulator) beside the same run on
# SQLite: wall time of the whole process and the number of DynamoDB requests it made (moto's
# request log). Figures go in docs/benchmarks.md.
# Usage: ./scripts/bench-dynamodb.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
setup_python
bench_bin
WORK=$(mktemp -d)
trap 'stop_bg; rm -rf "$WORK"' EXIT

FAKE_PORT=$(free_port)
start_fake "$BIN" "$FAKE_PORT"
MOTO_PORT=$(free_port)
start_moto "$MOTO_PORT" "$WORK/moto.log"
export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT" AWS_REGION=us-east-1 \
       AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
python3 - "$WORK/config.json" "http://127.0.0.1:$FAKE_PORT" <<'PY'
import json, sys
providers = ["openrouter", "deepseek", "moonshot", "siliconflow"]
projects = [{"name": f"p{i}", "provider": providers[i % 4], "api_key": f"bal:{5 + i % 20}",
             "threshold": 10, "base_url": sys.argv[2]} for i in range(1000)]
json.dump({"settings": {"max_concurrent_checks": 1000, "max_retries": 0}, "projects": projects},
          open(sys.argv[1], "w"))
PY
requests() { grep -c '"POST / HTTP' "$WORK/moto.log" || true; }
timed() {  # timed LABEL CMD...: runs CMD, prints its wall time and the DynamoDB requests it made
  local label=$1; shift
  local before; before=$(requests)
  local t0; t0=$(date +%s.%N)
  "$@" >/dev/null || true
  local t1; t1=$(date +%s.%N)
  printf '%-44s %6.2f s  %5d DynamoDB requests\n' "$label" "$(echo "$t1 - $t0" | bc)" $(( $(requests) - before ))
}
"$BIN/balance-alert" table create --table bench >/dev/null
"$BIN/balance-alert" config push --table bench --config "$WORK/config.json" >/dev/null
timed "check --table, first run (1,000 new states)" "$BIN/balance-alert" check --table bench
timed "check --table, second run (1,000 updates)" "$BIN/balance-alert" check --table bench
timed "check --table, third run" "$BIN/balance-alert" check --table bench
export DATABASE_PATH="$WORK/state.db"
timed "check on SQLite, first run" "$BIN/balance-alert" check --config "$WORK/config.json"
timed "check on SQLite, second run" "$BIN/balance-alert" check --config "$WORK/config.json"
