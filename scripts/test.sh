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
# The deploy path itself: the SAM CLI lints the template, then `sam build` builds the three
# functions from template.yaml as shipped (cargo-lambda, zig from .venv) for this machine's
# architecture; the serverless tests run the bootstraps it made (what is tested is what deploys).
stage setup-sam setup_sam
stage sam-validate sam validate --lint
stage sam-build sam_build
export BALANCE_ALERT_FUNCTIONS_DIR="$PWD/.aws-sam/build"
# What deploys stays small: each bootstrap zipped under the guard (5.2 MB today; the goal is 3 MB,
# see docs/benchmarks.md "The functions' bootstraps").
stage bootstrap-size env BOOTSTRAP_ZIP_LIMIT=5500000 \
  ./scripts/bench-bootstraps.sh --check "$BALANCE_ALERT_FUNCTIONS_DIR"
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
# The dashboard upload the deploy script runs, against moto's S3 and CloudFormation.
stage deploy-dashboard env AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT" \
  .venv-sam/bin/python scripts/test_deploy_dashboard.py
# The README's local serverless round: the bootstraps sam build made, the emulator, moto.
stage local-serverless ./scripts/local-serverless.sh --check
# Every command block of the README, run as written (or covered where its comment says).
stage readme .venv/bin/python scripts/readme_blocks.py "$CARGO_TARGET_DIR/release"
