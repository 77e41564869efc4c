#!/usr/bin/env bash
# Runs Balance Alert locally on the embedded store with the demo config (no real API key
# needed: the demo's projects point at the bundled fake provider server on 127.0.0.1:18080).
# Usage: ./scripts/run.sh [extra balance-alert check args]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
setup_rust
cargo build --release --locked -p balance-alert -p fake-providers --bins
BIN=${CARGO_TARGET_DIR:-target}/release

FAKE_PID=
cleanup() { [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null || true; }
trap cleanup EXIT
if ! curl -sf -o /dev/null http://127.0.0.1:18080/_health; then
  "$BIN/fake-providers" --listen 127.0.0.1:18080 >/dev/null &
  FAKE_PID=$!
  wait_http http://127.0.0.1:18080/_health
fi

CONFIG=${CONFIG_FILE:-examples/config.json}
echo "config: $CONFIG (the fake provider answers on 127.0.0.1:18080)"
set +e
"$BIN/balance-alert" check --config "$CONFIG" "$@"
code=$?
echo "exit code: $code (0 = all OK, 1 = something needs attention, 2 = usage/config error)"
exit $code
