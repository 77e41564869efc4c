#!/usr/bin/env bash
# The whole test suite, with its own set-up. Idempotent; prints each stage's duration.
# Usage: ./scripts/test.sh
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
# Stop background servers, then print the summary (both, whatever the exit status).
trap 'stop_bg; print_stage_summary' EXIT
set -e

stage setup-rust setup_rust
stage setup-python setup_python
stage setup-debian setup_debian
stage fmt cargo fmt --all -- --check
stage clippy cargo clippy --workspace --all-targets --locked -- -D warnings
# The model crate is what the WASM dashboard shares: it must build for the browser target.
stage wasm-model cargo build --locked -p balance-alert-model --target wasm32-unknown-unknown
# One moto_server for the DynamoDB store's tests (each test makes its own table on it).
MOTO_PORT=$(free_port)
stage moto start_moto "$MOTO_PORT"
export BALANCE_ALERT_TEST_DYNAMODB_ENDPOINT="http://127.0.0.1:$MOTO_PORT"
# The three functions' release bootstraps, built once as SAM builds them (cargo-lambda, zig from
# the venv) and run as Lambda runs them by shared/lambda/tests/bootstrap.rs.
stage lambda-build env PATH="$PWD/.venv/bin:$PATH" cargo lambda build --release --locked \
  -p checker -p api -p notifier
export BALANCE_ALERT_FUNCTIONS_DIR="$CARGO_TARGET_DIR/lambda"
stage test cargo test --workspace --locked
# The API integration tests once more, on the DynamoDB store instead of SQLite (--workspace:
# the same feature set as the test stage, so nothing is rebuilt).
stage test-api-dynamodb env BALANCE_ALERT_TEST_BACKEND=dynamodb \
  cargo test --workspace --locked --test integration api::
# A live server fuzzed from its own OpenAPI document: any 5xx fails the run.
stage schemathesis env SCHEMATHESIS_REUSE_BIN=1 ./scripts/schemathesis.sh
# The dashboard: one release wasm build into dist/ (prints the gzipped size, fails over budget),
# then the release server built after it (it embeds dist/), then the browser tests in headless
# Chromium against it (pages end to end, and the 1,000-project overview timed).
stage spa-build ./scripts/build-spa.sh
stage browser-build cargo build --release --locked -p balance-alert -p fake-providers --bins
stage browser tests/browser/run.sh "$CARGO_TARGET_DIR/release"
