#!/usr/bin/env bash
# API load benchmark: `balance-alert serve` with 1,000 projects (against the local fake
# provider), then GET /api/credits under load with oha. Also reports start-to-ready and
# start-to-first-data times. Figures go in docs/benchmarks.md.
# Usage: ./scripts/bench-api.sh   (installs oha with cargo on first use)
#        BENCH_BIN_DIR=/path/to/release ./scripts/bench-api.sh   (binaries built elsewhere, e.g.
#        an older commit, to compare under the same conditions)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
command -v oha >/dev/null || cargo install oha --locked
bench_bin

WORK=$(mktemp -d)
trap 'stop_bg; rm -rf "$WORK"' EXIT

FAKE_PORT=$(free_port)
start_fake "$BIN" "$FAKE_PORT"
python3 - "$WORK/config.json" "http://127.0.0.1:$FAKE_PORT" <<'PY'
import json, sys
providers = ["openrouter", "deepseek", "moonshot", "siliconflow"]
projects = [{"name": f"p{i}", "provider": providers[i % 4], "api_key": f"bal:{100 + i}",
             "threshold": 10, "base_url": sys.argv[2]} for i in range(1000)]
json.dump({"settings": {"max_concurrent_checks": 1000}, "projects": projects}, open(sys.argv[1], "w"))
PY

API_PORT=$(free_port)
METRICS_PORT=$(free_port)
# Python starts the server itself so the clock starts at spawn, not before the poller loads.
python3 - "$BIN/balance-alert" "$WORK" "$API_PORT" "$METRICS_PORT" <<'PY' &
import json, os, signal, subprocess, sys, time, urllib.request
binary, work, port, mport = sys.argv[1:5]
env = dict(os.environ, DATABASE_PATH=f"{work}/state.db", RATE_LIMIT_PER_MINUTE="0")
start = time.monotonic()
proc = subprocess.Popen([binary, "serve", "--config", f"{work}/config.json", "--listen", f"127.0.0.1:{port}",
                         "--metrics-listen", f"127.0.0.1:{mport}"], env=env,
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
signal.signal(signal.SIGTERM, lambda *_: (proc.terminate(), sys.exit(0)))
ready = data = None
while data is None and time.monotonic() - start < 30:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/live", timeout=1):
            ready = ready or time.monotonic()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/credits", timeout=5) as c:
            if json.load(c)["summary"]["success"] == 1000:
                data = time.monotonic()
    except Exception:
        time.sleep(0.002)
if data is None:
    print("the server did not produce data within 30 s", flush=True)
    open(f"{work}/failed", "w").close()
    proc.terminate()
    sys.exit(1)
print(f"start to ready (/live answers): {(ready - start) * 1000:.0f} ms", flush=True)
print(f"start to first data (1,000 projects checked): {(data - start) * 1000:.0f} ms", flush=True)
open(f"{work}/pid", "w").write(str(proc.pid))
open(f"{work}/ready", "w").close()
proc.wait()
PY
BG_PIDS+=($!)
until [ -f "$WORK/ready" ]; do
  [ -f "$WORK/failed" ] && exit 1
  sleep 0.1
done
SERVE_PID=$(cat "$WORK/pid")
rss() { awk -v k="$1" '$1 == k":" {printf "%.1f MB", $2 / 1024}' "/proc/$SERVE_PID/status"; }
echo "memory after first data: RSS $(rss VmRSS)"
URL="http://127.0.0.1:$API_PORT/api/credits"
echo "== GET /api/credits at a fixed 1,000 req/s for 10 s (50 connections)"
oha -z 10s -q 1000 -c 50 --no-tui "$URL" | grep -E "Requests/sec|Success rate|50.00%|90.00%|99.00%|99.90%|Slowest|Fastest|Average|\[200\]"
echo "== GET /api/credits, as fast as possible for 10 s (50 connections)"
oha -z 10s -c 50 --no-tui "$URL" | grep -E "Requests/sec|Success rate|50.00%|99.00%|\[200\]"
echo "== response size: $(curl -s "$URL" | wc -c) bytes"
echo "memory after load: RSS $(rss VmRSS), peak $(rss VmHWM)"
# /health answers from memory: polling it must neither be slow nor slow the other endpoints.
HEALTH="http://127.0.0.1:$API_PORT/health"
HISTORY="http://127.0.0.1:$API_PORT/api/history/balance?project_id=openrouter:p0&limit=100"
echo "== GET /health, as fast as possible for 10 s (50 connections)"
oha -z 10s -c 50 --no-tui "$HEALTH" | grep -E "Requests/sec|Success rate|50.00%|99.00%|\[200\]|\[503\]"
echo "== GET /api/history/balance at 100 req/s alone, then while /health is loaded"
oha -z 10s -q 100 -c 4 --no-tui "$HISTORY" | grep -E "Requests/sec|50.00%|99.00%"
oha -z 12s -c 50 --no-tui "$HEALTH" >/dev/null &
HEALTH_LOAD=$!
sleep 1
oha -z 10s -q 100 -c 4 --no-tui "$HISTORY" | grep -E "Requests/sec|50.00%|99.00%"
wait "$HEALTH_LOAD" || true
METRICS="http://127.0.0.1:$METRICS_PORT/metrics"
echo "== GET /metrics (1,000 projects: state-derived series read from the store per scrape), 4 connections, 10 s"
oha -z 10s -c 4 --no-tui "$METRICS" | grep -E "Requests/sec|50.00%|99.00%|\[200\]"
echo "== /metrics size: $(curl -s "$METRICS" | wc -c) bytes, $(curl -s "$METRICS" | grep -vc '^#') samples"
echo "== GET /api/history/balance?limit=100 (every project's newest readings), 4 connections, 5 s"
oha -z 5s -c 4 --no-tui "http://127.0.0.1:$API_PORT/api/history/balance?limit=100" | grep -E "Requests/sec|50.00%|99.00%"
