#!/usr/bin/env bash
# Runs Balance Alert locally: the server (API, scheduler, dashboard) on the embedded SQLite
# store, with the demo config. No real API key is needed: the demo's projects point at the
# bundled fake provider server on 127.0.0.1:18080, which this script starts.
# Usage: ./scripts/run.sh            (Ctrl-C stops both)
#        CONFIG_FILE=my.json ./scripts/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
setup_rust
# The dashboard is embedded in the release binary: build it first, once (see README "Dashboard").
[ -f dist/index.html ] || ./scripts/build-spa.sh
cargo build --release --locked -p balance-alert -p fake-providers --bins
BIN=$CARGO_TARGET_DIR/release

trap stop_bg EXIT
if ! curl -sf -o /dev/null http://127.0.0.1:18080/_health; then
  start_fake "$BIN" 18080
fi

# The demo edits (threshold, subscriptions) go to a copy, not the committed example.
CONFIG=${CONFIG_FILE:-}
if [ -z "$CONFIG" ]; then
  mkdir -p data
  [ -f data/demo-config.json ] || cp examples/config.json data/demo-config.json
  CONFIG=data/demo-config.json
fi
LISTEN=${LISTEN:-127.0.0.1:8080} METRICS_LISTEN=${METRICS_LISTEN:-127.0.0.1:9100}
echo "config: $CONFIG — open the dashboard at http://$LISTEN/ (API docs at /docs, metrics at http://$METRICS_LISTEN/metrics); alerts arrive at http://127.0.0.1:18080/hooks"
"$BIN/balance-alert" serve --config "$CONFIG" --listen "$LISTEN" --metrics-listen "$METRICS_LISTEN"
