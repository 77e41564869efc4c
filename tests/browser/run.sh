#!/usr/bin/env bash
# The dashboard's browser tests: headless Chromium (Debian `chromium`) driven by npm
# playwright-core against real `balance-alert serve` processes on the fake providers, on free
# loopback ports, in a temp dir. Needs the release binaries built after the SPA
# (./scripts/build-spa.sh, then cargo build --release -p balance-alert -p fake-providers).
#   1. release checks: index.html embedded, .wasm type, cache headers, deep-link fallback;
#   2. tests/browser/dashboard.mjs: the pages end to end (demo config, with an API key);
#   3. tests/browser/bench.mjs: 1,000 projects, first render and filter keystrokes timed.
# Screenshots go to a temp dir (paths printed). Usage: tests/browser/run.sh [BIN_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh
BIN=$(realpath "${1:-$CARGO_TARGET_DIR/release}")
setup_playwright
export PLAYWRIGHT_DIR
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ba-browser.XXXXXX")
export SHOTS_DIR=$WORK/screenshots
mkdir -p "$SHOTS_DIR" "$WORK/demo" "$WORK/bench" "$WORK/tmp"
# Chromium profiles go under the work dir too. On success only the screenshots stay; after a
# failure everything stays (server logs, databases) for a look.
export TMPDIR=$WORK/tmp
finish() {
  local rc=$?
  stop_bg
  wait "${BG_PIDS[@]}" 2>/dev/null || true
  if [ "$rc" -eq 0 ]; then
    find "$WORK" -mindepth 1 -maxdepth 1 ! -name screenshots -exec rm -rf {} +
  else
    echo "browser tests failed: logs and data kept in $WORK" >&2
  fi
}
trap finish EXIT
echo "work dir: $WORK"

FAKE_PORT=$(free_port)
start_fake "$BIN" "$FAKE_PORT" "$WORK/fake.log"
FAKE_URL=http://127.0.0.1:$FAKE_PORT

# serve DIR PORT [ENV...]: balance-alert serve on DIR/config.json, data in DIR.
serve() {
  local dir=$1 port=$2; shift 2
  start_bg env -C "$dir" FAKE_URL="$FAKE_URL" RATE_LIMIT_PER_MINUTE=0 "$@" \
    "$BIN/balance-alert" serve --config config.json --listen "127.0.0.1:$port" \
    --metrics-listen "127.0.0.1:$(free_port)" >"$dir/serve.log" 2>&1
  wait_http "http://127.0.0.1:$port/ready" 600
}

# --- 1. The release binary carries the dashboard, served with the right headers. ---
cp examples/config.json "$WORK/demo/config.json"
API_KEY=browser-test-key-$RANDOM$RANDOM
PORT=$(free_port)
serve "$WORK/demo" "$PORT" WEB_API_KEY="$API_KEY"
BASE=http://127.0.0.1:$PORT
fail() { echo "FAIL $*" >&2; exit 1; }
INDEX=$(curl -sf "$BASE/")
grep -q '<script type="module">' <<<"$INDEX" \
  || fail "index.html is not embedded in $BIN/balance-alert: run ./scripts/build-spa.sh, then rebuild the release binary"
echo "ok   / serves the embedded dashboard"
WASM_PATH=$(grep -o '/assets/app-[0-9a-f]*\.wasm' <<<"$INDEX" | head -1)
HEADERS=$(curl -sfI "$BASE$WASM_PATH")
grep -qi '^content-type: application/wasm' <<<"$HEADERS" || fail ".wasm is not application/wasm: $HEADERS"
grep -qi '^cache-control: public, max-age=31536000, immutable' <<<"$HEADERS" || fail "hashed asset not cached long: $HEADERS"
echo "ok   hashed .wasm served as application/wasm, cached for a year"
curl -sfI "$BASE/" | grep -qi '^cache-control: no-cache' || fail "index.html must not be cached"
curl -sf "$BASE/projects/0123456789abcdef0123456789abcdef" | grep -q '<script type="module">' || fail "deep link does not fall back to index.html"
curl -sf "$BASE/config.json" | grep -q api_base || fail "config.json is not served"
[ "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$BASE/api/nope")" = "404 application/json" ] \
  || fail "/api/nope must stay the API's JSON 404"
echo "ok   deep links get index.html (no-cache), config.json served, /api stays the API"

# --- 2. The pages end to end. ---
# Thirty days of earlier readings for the chart and the sparklines, written straight into the
# server's SQLite store (a test cannot wait a month): DeepSeek-CN falls, is topped up on day
# -12 and falls again towards its current 35.50; the others drift. The newest reading stays
# the server's own.
python3 - "$WORK/demo/data/demo.db" <<'PY'
import hashlib, math, sqlite3, sys, time
now = int(time.time())
db = sqlite3.connect(sys.argv[1], timeout=30)
def pid(provider, name): return hashlib.md5(f"{provider}:{name}".encode()).hexdigest()
def deepseek(day):  # day < 0: days ago
    return 150 - (150 - 60) * (day + 30) / 18 if day < -12 else 95 - (95 - 36) * (day + 12) / 12
series = {
    ("deepseek", "DeepSeek-CN", "CNY", 100): deepseek,
    ("openrouter", "OpenRouter-Main", "USD", 50): lambda d: 182.4 - 1.2 * d + 3 * math.sin(d),
    ("moonshot", "Moonshot", "CNY", 100): lambda d: 420 - 0.4 * d,
    ("siliconflow", "SiliconFlow", "CNY", 20): lambda d: 88.88 + 2 * math.sin(d / 2),
}
rows = []
for (provider, name, currency, threshold), f in series.items():
    for h in range(30 * 24, 2, -3):
        d = -h / 24
        rows.append((pid(provider, name), name, provider, round(f(d), 2), threshold, currency, now - h * 3600))
db.executemany("INSERT INTO balance_history (project_id, project_name, provider, balance, threshold, currency, timestamp) VALUES (?,?,?,?,?,?,?)", rows)
db.commit()
print(f"seeded {len(rows)} readings")
PY
BASE_URL=$BASE API_KEY=$API_KEY CONFIG_PATH=$WORK/demo/config.json node tests/browser/dashboard.mjs

# --- 3. 1,000 projects: first render and filter keystrokes. ---
python3 - "$WORK/bench/config.json" <<'PY'
import json, sys
providers = ["openrouter", "deepseek", "moonshot", "siliconflow"]
projects = []
for i in range(1000):
    key = "status:401" if i % 97 == 0 else f"bal:{(i * 37) % 600 + 0.5:.2f}"
    projects.append({"name": f"proj-{i:04d}", "owner_project": f"team-{i % 10}",
                     "provider": providers[i % 4], "api_key": key, "threshold": 100,
                     "critical_threshold": 20, "base_url": "${FAKE_URL}", "enabled": True})
json.dump({"settings": {"balance_refresh_interval_seconds": 3600, "max_concurrent_checks": 200,
                        "max_retries": 0, "database_path": "data/bench.db"},
           "projects": projects, "subscriptions": []}, open(sys.argv[1], "w"), indent=1)
PY
BENCH_PORT=$(free_port)
serve "$WORK/bench" "$BENCH_PORT"
BASE_URL=http://127.0.0.1:$BENCH_PORT PROJECTS=1000 node tests/browser/bench.mjs
echo "screenshots: $SHOTS_DIR"
