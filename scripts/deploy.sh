#!/usr/bin/env bash
# Deploys Balance Alert to your AWS account: `sam build` (the three functions for the template's
# Architecture, arm64 by default), `sam deploy` (the first time with --guided: answers in the
# README), then, when given, the config pushed to the stack's table, and the dashboard built and
# uploaded to the stack's bucket, pointed at the stack's API. Needs AWS credentials (the
# standard environment or `aws configure`); sets up its own tools (Rust target, cargo-lambda, the
# SAM CLI in .venv-sam).
# Usage: ./scripts/deploy.sh --guided [--config config.json]    first deploy
#        ./scripts/deploy.sh [--config config.json]             later ones (samconfig.toml)
#        ./scripts/deploy.sh --dashboard-only                   just rebuild and upload the dashboard
# STACK (default: samconfig.toml's stack_name, balance-alert) names the stack.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

GUIDED=() CONFIG="" DASHBOARD_ONLY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --guided) GUIDED=(--guided) ;;
    --config) CONFIG=${2:?--config needs a file}; shift ;;
    --dashboard-only) DASHBOARD_ONLY=1 ;;
    *) echo "unknown argument $1 (see the usage at the top of $0)" >&2; exit 2 ;;
  esac
  shift
done
[ -z "$CONFIG" ] || [ -f "$CONFIG" ] || { echo "--config $CONFIG: no such file" >&2; exit 2; }
STACK=${STACK:-$(sed -n 's/^stack_name *= *"\(.*\)"/\1/p' samconfig.toml | head -1)}
# ARCHITECTURE=x86_64 builds and deploys for x86_64 (the template's Architecture parameter);
# otherwise the template's default (arm64) or what samconfig.toml saved.
OVERRIDES=()
[ -n "${ARCHITECTURE:-}" ] && OVERRIDES=(--parameter-overrides "Architecture=$ARCHITECTURE")

setup_rust
setup_python
setup_sam
outputs() { # KEY: one of the stack's outputs
  .venv-sam/bin/python -c 'import boto3, sys
s = boto3.client("cloudformation").describe_stacks(StackName=sys.argv[1])["Stacks"][0]
print({o["OutputKey"]: o["OutputValue"] for o in s.get("Outputs", [])}[sys.argv[2]])' "$STACK" "$1"
}

if [ "$DASHBOARD_ONLY" = 0 ]; then
  [ "${ARCHITECTURE:-arm64}" = arm64 ] && rustup target add aarch64-unknown-linux-gnu >/dev/null
  sam build --beta-features "${OVERRIDES[@]}"
  sam deploy "${GUIDED[@]}" --stack-name "$STACK" "${OVERRIDES[@]}"
  if [ -n "$CONFIG" ]; then
    cargo build --release --locked -p balance-alert
    "$CARGO_TARGET_DIR/release/balance-alert" config push --table "$(outputs TableName)" --config "$CONFIG"
  fi
fi
./scripts/build-spa.sh
.venv-sam/bin/python scripts/deploy_dashboard.py --stack "$STACK"
echo "dashboard: $(outputs DashboardUrl)   API: $(outputs ApiUrl)"
echo "API key: .venv-sam/bin/python -c \"import boto3; print(boto3.client('secretsmanager').get_secret_value(SecretId='$(outputs ApiKeySecretArn)')['SecretString'])\""
