#!/usr/bin/env bash
# Config reload behaviour of `balance-alert serve`: reload log lines after ONE change of the
# file (5 s and 20 s later), and RSS after a 10 MB valid config is offered (refused over 1 MiB).
# Usage: ./scripts/bench-reload.sh [path/to/balance-alert]   (default: a release build)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
BIN=${1:-}
if [ -z "$BIN" ]; then
  cargo build --release --locked -p balance-alert --bins
  BIN=$CARGO_TARGET_DIR/release/balance-alert
fi
WORK=$(mktemp -d)
trap 'stop_bg; rm -rf "$WORK"' EXIT
python3 - "$WORK" <<'PY'
import json, sys
w = sys.argv[1]
doc = lambda n: {"settings": {"balance_refresh_interval_seconds": 3600},
                 "projects": [{"name": f"p{i}", "provider": "openrouter", "api_key": "k",
                               "threshold": 1, "base_url": "http://127.0.0.1:9", "enabled": False}
                              for i in range(n)]}
json.dump(doc(1), open(f"{w}/config.json", "w"))
json.dump(doc(2), open(f"{w}/changed.json", "w"))
big = doc(1); big["padding"] = "x" * (10 * 1024 * 1024)
json.dump(big, open(f"{w}/big.json", "w"))
PY
PORT=$(free_port)
RUST_LOG=info DATABASE_PATH="$WORK/state.db" start_bg "$BIN" serve --config "$WORK/config.json" \
  --listen "127.0.0.1:$PORT" --metrics-listen "127.0.0.1:$(free_port)" >/dev/null 2>"$WORK/log"
SERVE_PID=${BG_PIDS[-1]}
wait_http "http://127.0.0.1:$PORT/live"
sleep 2
rss() { awk '$1 == "VmRSS:" {printf "%.1f MB", $2 / 1024}' "/proc/$SERVE_PID/status"; }
echo "RSS before: $(rss)"
cp "$WORK/changed.json" "$WORK/config.json"
sleep 5
echo "'config reloaded' lines 5 s after one change: $(grep -c 'config reloaded' "$WORK/log" || true)"
sleep 15
echo "'config reloaded' lines 20 s after one change: $(grep -c 'config reloaded' "$WORK/log" || true)"
cp "$WORK/big.json" "$WORK/config.json"
sleep 5
echo "after a 10 MB config: RSS $(rss); reload errors logged: $(grep -c 'config reload failed' "$WORK/log" || true)"
sleep 10
echo "15 s later: reload errors logged: $(grep -c 'config reload failed' "$WORK/log" || true)"
