#!/usr/bin/env bash
# Fuzzes the live local server with schemathesis (PyPI) from its own OpenAPI document and
# fails on any 5xx. Starts the fake provider and `balance-alert serve` on free loopback ports,
# on a temp copy of the demo config, and stops them at exit.
# Usage: ./scripts/schemathesis.sh   (uses CARGO_TARGET_DIR when set)
# One worker and a fixed seed (SCHEMATHESIS_SEED overrides): CI runs are reproducible, and
# schemathesis 4.32 on CPython 3.11 was seen to crash internally ("AST constructor recursion
# depth mismatch") when generating in two threads.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

SCHEMATHESIS_VERSION=4.32.5
if ! .venv/bin/schemathesis --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  python3 -m venv .venv
  .venv/bin/pip install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi
BIN=$CARGO_TARGET_DIR/debug
# test.sh has just built balance-alert for the integration tests (CARGO_BIN_EXE): reuse it
# rather than building it again with other features (which rebuilds the AWS SDK).
if [ -n "${SCHEMATHESIS_REUSE_BIN:-}" ] && [ -x "$BIN/balance-alert" ]; then
  cargo build --locked -p fake-providers --bins
else
  cargo build --locked -p balance-alert -p fake-providers --bins
fi

WORK=$(mktemp -d)
trap 'stop_bg; rm -rf "$WORK"' EXIT

FAKE_PORT=$(free_port)
start_fake "$BIN" "$FAKE_PORT" "$WORK/fake.log"

API_PORT=$(free_port)
METRICS_PORT=$(free_port)
cp examples/config.json "$WORK/config.json"
FAKE_URL="http://127.0.0.1:$FAKE_PORT" DATABASE_PATH="$WORK/state.db" RATE_LIMIT_PER_MINUTE=0 \
  start_bg "$BIN/balance-alert" serve --config "$WORK/config.json" \
  --listen "127.0.0.1:$API_PORT" --metrics-listen "127.0.0.1:$METRICS_PORT" >"$WORK/serve.log" 2>&1
wait_http "http://127.0.0.1:$API_PORT/live"

set +e
.venv/bin/schemathesis run "http://127.0.0.1:$API_PORT/api/openapi.json" \
  --url "http://127.0.0.1:$API_PORT" \
  --checks not_a_server_error \
  --max-examples 25 \
  --request-timeout 10 \
  --seed "${SCHEMATHESIS_SEED:-20261126}" \
  --workers 1
rc=$?
set -e
if [ $rc -ne 0 ]; then
  echo "---- server log ----" >&2
  tail -n 50 "$WORK/serve.log" >&2
fi
exit $rc
