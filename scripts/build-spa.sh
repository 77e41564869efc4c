#!/usr/bin/env bash
# Builds the dashboard (frontend/, Leptos → WASM) into dist/: one release wasm build,
# wasm-bindgen (exactly Cargo.lock's version, installed once into a cache dir), wasm-opt from
# npm binaryen (installed once, locally), content-hashed assets under dist/assets/, index.html
# and a default config.json. Prints the gzipped sizes and fails over the budget.
# Idempotent; when the tools are cached it takes one wasm build (~2-4 min cold, less warm).
# Usage: ./scripts/build-spa.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

CACHE=${BALANCE_ALERT_CACHE:-$HOME/.cache/balance-alert}
BINARYEN_VERSION=132.0.0
BUDGET_KB=${SPA_BUDGET_KB:-300}
TARGET_DIR=$CARGO_TARGET_DIR
# BUILD_LOCK=/path: hold that flock(1) lock around each heavy step (a shared build machine).
locked() { if [ -n "${BUILD_LOCK:-}" ]; then flock "$BUILD_LOCK" "$@"; else "$@"; fi; }
# Leptos boxes each component's view instead of nesting their types: much less code per page.
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="--cfg erase_components"

setup_rust
setup_spa_tools

WASM=$TARGET_DIR/wasm32-unknown-unknown/wasm-release/balance-alert-frontend.wasm
locked cargo build --locked --profile wasm-release --target wasm32-unknown-unknown -p balance-alert-frontend

OUT=$(mktemp -d "${TMPDIR:-/tmp}/ba-spa.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
locked "$WASM_BINDGEN" --target web --no-typescript --out-dir "$OUT/bg" "$WASM"
locked node "$WASM_OPT_JS" -Oz --strip-debug --strip-producers --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
  "$OUT/bg/balance-alert-frontend_bg.wasm" -o "$OUT/app.wasm"

hash() { sha256sum "$1" | cut -c1-16; }
mkdir -p "$OUT/dist/assets"
H_WASM=$(hash "$OUT/app.wasm");                   WASM_NAME=app-$H_WASM.wasm
H_JS=$(hash "$OUT/bg/balance-alert-frontend.js"); JS_NAME=app-$H_JS.js
H_CSS=$(hash frontend/static/style.css);          CSS_NAME=style-$H_CSS.css
cp "$OUT/app.wasm" "$OUT/dist/assets/$WASM_NAME"
cp "$OUT/bg/balance-alert-frontend.js" "$OUT/dist/assets/$JS_NAME"
cp frontend/static/style.css "$OUT/dist/assets/$CSS_NAME"
sed -e "s/{{WASM}}/$WASM_NAME/g" -e "s/{{JS}}/$JS_NAME/g" -e "s/{{CSS}}/$CSS_NAME/g" \
  frontend/static/index.html > "$OUT/dist/index.html"
# Where the SPA finds the API: empty = same origin (the local server). A deployment writes
# its API Gateway URL here (see README "Dashboard"); the build stays the same.
printf '{"api_base": ""}\n' > "$OUT/dist/config.json"

# Replace dist/'s content in one go (keeping the tracked .gitkeep).
mkdir -p dist
find dist -mindepth 1 ! -name .gitkeep -exec rm -rf {} +
cp -R "$OUT/dist/." dist/

gz() { gzip -9 -c "$1" | wc -c; }
W=$(gz "dist/assets/$WASM_NAME"); J=$(gz "dist/assets/$JS_NAME"); C=$(gz "dist/assets/$CSS_NAME")
TOTAL=$((W + J))
printf 'dist/assets/%s  %7d bytes, %6d gzipped\n' "$WASM_NAME" "$(stat -c %s "dist/assets/$WASM_NAME")" "$W"
printf 'dist/assets/%s    %7d bytes, %6d gzipped\n' "$JS_NAME" "$(stat -c %s "dist/assets/$JS_NAME")" "$J"
printf 'dist/assets/%s %7d bytes, %6d gzipped\n' "$CSS_NAME" "$(stat -c %s "dist/assets/$CSS_NAME")" "$C"
printf 'wasm + js gzipped: %d bytes (%d KB; budget %d KB)\n' "$TOTAL" $((TOTAL / 1024)) "$BUDGET_KB"
if [ "$TOTAL" -gt $((BUDGET_KB * 1024)) ]; then
  echo "error: the dashboard is over its size budget of $BUDGET_KB KB gzipped" >&2
  exit 1
fi
