#!/usr/bin/env bash
# The serverless deployment on this machine, as Lambda runs it: the three bootstraps `sam build`
# made from template.yaml, each polling cargo-lambda's Lambda emulator, on a DynamoDB table in
# moto_server (one request at a time: scripts/moto_server_serial.py), with the example config
# and its fake provider. Then one round as AWS drives it: the schedule invokes the checker, the
# table's stream feeds the new alert records to the notifier (delivered to the fake receiver),
# and the api answers through its function URL with the key from a Secrets Manager secret.
#
# Usage: ./scripts/local-serverless.sh           runs the round, then keeps everything up
#                                                (Ctrl-C stops it) and prints how to poke it
#        ./scripts/local-serverless.sh --check   runs the round and exits (the test suite)
# BALANCE_ALERT_FUNCTIONS_DIR: take the bootstraps from there instead of building them.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
KEEP=1
[ "${1:-}" = --check ] && KEEP=0

setup_rust
setup_python
FUNCTIONS=${BALANCE_ALERT_FUNCTIONS_DIR:-$PWD/.aws-sam/build}
if [ ! -x "$FUNCTIONS/CheckerFunction/bootstrap" ]; then
  setup_sam
  sam_build
  FUNCTIONS=$PWD/.aws-sam/build
fi
cargo build --release --locked -p balance-alert -p fake-providers --bins
BIN=$CARGO_TARGET_DIR/release
WORK=$(mktemp -d)
trap 'stop_bg; rm -rf "$WORK"' EXIT

# The AWS environment every process here uses: moto, fake credentials, no metadata probe.
MOTO_PORT=$(free_port)
start_moto "$MOTO_PORT" "$WORK/moto.log"
export AWS_ENDPOINT_URL=http://127.0.0.1:$MOTO_PORT AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_EC2_METADATA_DISABLED=true
FAKE_PORT=$(free_port)
start_fake "$BIN" "$FAKE_PORT" "$WORK/fake.log"
export FAKE_URL=http://127.0.0.1:$FAKE_PORT    # the example config's ${FAKE_URL:-…}
TABLE=balance-alert
"$BIN/balance-alert" table create --table "$TABLE"
"$BIN/balance-alert" config push --table "$TABLE" --config examples/config.json
# The stack's API key secret (the template's ApiKeySecret), read by the api at run time.
SECRET_ARN=$(.venv/bin/python - <<'EOF'
import secrets, boto3
sm = boto3.client("secretsmanager")
print(sm.create_secret(Name="balance-alert-api-key", SecretString=secrets.token_hex(20))["ARN"])
EOF
)
API_KEY=$(.venv/bin/python -c "import boto3,sys; print(boto3.client('secretsmanager').get_secret_value(SecretId=sys.argv[1])['SecretString'])" "$SECRET_ARN")

# The Lambda emulator (runtime, invoke and function-URL APIs; builds and watches nothing).
LAMBDA_PORT=$(free_port)
start_bg .venv/bin/cargo-lambda lambda watch --only-lambda-apis --ignore-changes \
  --invoke-address 127.0.0.1 --invoke-port "$LAMBDA_PORT" >"$WORK/watch.log" 2>&1
for _ in $(seq 300); do (exec 3<>/dev/tcp/127.0.0.1/"$LAMBDA_PORT") 2>/dev/null && break; sleep 0.1; done
# Each bootstrap polls the emulator under its function's name, with the template's variables.
for f in checker api notifier; do
  logical=$(echo "${f:0:1}" | tr a-z A-Z)${f:1}Function
  start_bg env AWS_LAMBDA_RUNTIME_API="http://127.0.0.1:$LAMBDA_PORT/.rt/$f" \
    AWS_LAMBDA_FUNCTION_NAME="$f" AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256 \
    AWS_LAMBDA_FUNCTION_VERSION='$LATEST' TABLE_NAME="$TABLE" HISTORY_RETENTION_DAYS=90 \
    API_KEY_SECRET_ARN="$SECRET_ARN" RUST_LOG=info \
    "$FUNCTIONS/$logical/bootstrap" >"$WORK/$f.log" 2>&1
done
invoke() { .venv/bin/cargo-lambda lambda invoke "$1" --invoke-address 127.0.0.1 --invoke-port "$LAMBDA_PORT" "${@:2}"; }

echo "== the schedule invokes the checker"
invoke checker --data-file shared/lambda/tests/fixtures/scheduled-event.json | tee "$WORK/checker.json"
echo
echo "== the table's stream feeds each new alert record to the notifier"
.venv/bin/python - "$TABLE" >"$WORK/stream.json" <<'EOF'
import json, sys, boto3
# What Lambda's event source mapping does, with the template's filter (INSERT of ALERT#…).
ddb, streams = boto3.client("dynamodb"), boto3.client("dynamodbstreams")
arn = ddb.describe_table(TableName=sys.argv[1])["Table"]["LatestStreamArn"]
records = []
for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    for r in streams.get_records(ShardIterator=it)["Records"]:
        if r["eventName"] == "INSERT" and r["dynamodb"]["Keys"]["pk"]["S"].startswith("ALERT#"):
            r["dynamodb"].pop("ApproximateCreationDateTime", None)
            records.append(r)
print(json.dumps({"Records": records}, default=str))
EOF
echo "$(.venv/bin/python -c 'import json,sys; print(len(json.load(sys.stdin)["Records"]))' <"$WORK/stream.json") alert record(s)"
invoke notifier --data-file "$WORK/stream.json" | tee "$WORK/notifier.json"
echo
echo "== the api through its function URL"
URL=http://127.0.0.1:$LAMBDA_PORT/lambda-url/api
curl -sS --fail-with-body "$URL/health"; echo
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/credits")
echo "/api/credits without the key: $code"
curl -sS --fail-with-body -H "X-API-Key: $API_KEY" "$URL/api/credits" >"$WORK/credits.json"
echo "/api/credits with the key: $(.venv/bin/python -c 'import json,sys; d=json.load(sys.stdin); print(len(d.get("projects", d)), "projects")' <"$WORK/credits.json")"
delivered=$(curl -sS "$FAKE_URL/hooks" | grep -o '<h3>/hooks/' | wc -l)   # the receiver's page, one heading per message
echo "messages at the fake receiver: $delivered"

# The round is right when: projects were checked and alerts written, the notifier delivered
# every record (no batch item failures), the api refused the request without its key and
# answered with it, and the receiver got the alerts.
.venv/bin/python - "$WORK" "$code" "$delivered" <<'EOF'
import json, sys
work, code, delivered = sys.argv[1], sys.argv[2], int(sys.argv[3])
checker = json.load(open(f"{work}/checker.json"))
notifier = json.load(open(f"{work}/notifier.json"))
problems = []
if not checker.get("checked") or not checker.get("alerts"):
    problems.append(f"the checker checked or alerted nothing: {checker}")
if notifier.get("batchItemFailures"):
    problems.append(f"the notifier reported failures: {notifier}")
if code != "401":
    problems.append(f"/api/credits without the key answered {code}, not 401")
if delivered < 1:
    problems.append("the fake receiver got no message")
if problems:
    sys.exit("local serverless round failed:\n  " + "\n  ".join(problems))
print("local serverless round: ok")
EOF

if [ "$KEEP" = 1 ]; then
  cat <<EOF

Everything stays up until Ctrl-C (logs in $WORK):
  export AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
  .venv/bin/cargo-lambda lambda invoke checker --invoke-address 127.0.0.1 --invoke-port $LAMBDA_PORT --data-file shared/lambda/tests/fixtures/scheduled-event.json
  API_KEY=\$(.venv/bin/python -c "import boto3; print(boto3.client('secretsmanager').get_secret_value(SecretId='$SECRET_ARN')['SecretString'])")
  curl -H "X-API-Key: \$API_KEY" $URL/api/credits
  open $FAKE_URL/hooks for the delivered alerts
EOF
  wait
fi
