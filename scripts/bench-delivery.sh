#!/usr/bin/env bash
# Delivery benchmark: `balance-alert check` on 1,000 projects that are all LOW, each alert sent
# to a webhook channel on the local fake receiver (storm guard off, so 1,000 messages), then the
# same with the storm guard on (one summary). Prints wall time and peak memory of each run.
# Usage: ./scripts/bench-delivery.sh   (BENCH_BIN_DIR=/path/to/release to use prebuilt binaries)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
bench_bin
WORK=$(mktemp -d)
trap 'stop_bg; rm -rf "$WORK"' EXIT
FAKE_PORT=$(free_port)
start_fake "$BIN" "$FAKE_PORT"
for storm in 10000 5; do
  python3 - "$WORK/config.json" "http://127.0.0.1:$FAKE_PORT" "$storm" <<'PY'
import json, sys
providers = ["openrouter", "deepseek", "moonshot", "siliconflow"]
projects = [{"name": f"p{i}", "provider": providers[i % 4], "api_key": "bal:1",
             "threshold": 10, "base_url": sys.argv[2]} for i in range(1000)]
json.dump({"settings": {"max_concurrent_checks": 1000, "storm_threshold": int(sys.argv[3]),
                        "delivery_timeout_seconds": 600, "forecast_alert_days": 0},
           "channels": [{"name": "bench", "type": "webhook", "url": f"{sys.argv[2]}/hooks/bench"}],
           "projects": projects}, open(sys.argv[1], "w"))
PY
  rm -f "$WORK/state.db"*
  echo "== check, 1,000 LOW projects, storm_threshold $storm"
  /usr/bin/time -f "wall %e s, peak RSS %M KB" env DATABASE_PATH="$WORK/state.db" \
    "$BIN/balance-alert" check --config "$WORK/config.json" 2>&1 >"$WORK/out" | tail -1 || true
  grep -q "delivery:" "$WORK/out" || { cat "$WORK/out"; exit 1; }
  grep "delivery:" "$WORK/out"
done
