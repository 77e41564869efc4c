# Shared helpers for scripts/*.sh: stage timing and idempotent set-up.
# shellcheck shell=bash

SCRIPT_START=$(date +%s)

# One absolute target directory for every script and every test they start, with or without the
# variable set (default: the repository's target/). Tests run in their crate's directory, so a
# relative path would point somewhere else there.
CARGO_TARGET_DIR=$(realpath -m "${CARGO_TARGET_DIR:-$PWD/target}")
export CARGO_TARGET_DIR
STAGES=()

# stage NAME CMD...: runs CMD, prints its duration, records it for the summary.
stage() {
  local name=$1; shift
  local t0=$(date +%s)
  echo "==> [$name] $*" >&2
  local rc=0
  "$@" || rc=$?
  local dt=$(( $(date +%s) - t0 ))
  STAGES+=("$(printf '%-28s %5ss' "$name" "$dt")")
  echo "<== [$name] ${dt}s (exit $rc)" >&2
  return $rc
}

print_stage_summary() {
  echo "---- stage durations ----" >&2
  for s in "${STAGES[@]}"; do echo "$s" >&2; done
  echo "total $(( $(date +%s) - SCRIPT_START ))s" >&2
}

# The Rust targets and components the build needs (seconds when already present).
setup_rust() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    rustup target add wasm32-unknown-unknown
  fi
  for c in rustfmt clippy; do
    rustup component list --installed | grep -q "^$c" || rustup component add "$c"
  done
}

# Debian packages the tests run: Dovecot (the mailbox scan's IMAP server, started per test),
# openssl (its throwaway certificate), zip and Prometheus with promtool (the metrics tests).
# Installed once; instant when present.
setup_debian() {
  local missing=()
  command -v dovecot >/dev/null || missing+=(dovecot-imapd)
  command -v openssl >/dev/null || missing+=(openssl)
  # zip: the bootstraps' size as Lambda takes them (scripts/bench-bootstraps.sh).
  command -v zip >/dev/null || missing+=(zip)
  # promtool, for the rules in infra/prometheus (tests/rules.rs); Debian ships it with the server.
  command -v promtool >/dev/null || missing+=(prometheus)
  # The dashboard's browser test (tests/browser) drives Debian's Chromium.
  command -v chromium >/dev/null || missing+=(chromium)
  # Chinese glyphs for its screenshots (the dashboard's default language).
  [ -d /usr/share/fonts/opentype/noto ] || missing+=(fonts-noto-cjk)
  if [ ${#missing[@]} -gt 0 ]; then
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
  fi
}

# Node.js with npm: runs wasm-opt (npm binaryen) and the browser tests. Debian's packages when
# missing (seconds when present).
setup_node() {
  command -v node >/dev/null && command -v npm >/dev/null && return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "installing Node.js and npm (Debian packages) for the dashboard build" >&2
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nodejs npm
}

# The dashboard's build tools, cached outside the repo (seconds when present):
# wasm-bindgen-cli at exactly the version Cargo.lock pins for the wasm-bindgen crate (the two
# must match), and wasm-opt from npm `binaryen` (Debian's is too old for today's wasm).
# Sets WASM_BINDGEN and WASM_OPT_JS.
setup_spa_tools() {
  setup_node
  local cache=${BALANCE_ALERT_CACHE:-$HOME/.cache/balance-alert}
  local wb_version
  wb_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
  local wb_root=$cache/tools/wasm-bindgen-$wb_version
  WASM_BINDGEN=$wb_root/bin/wasm-bindgen
  if [ ! -x "$WASM_BINDGEN" ]; then
    # Not --locked: the CLI's own lockfile pins a crate version the registry here lacks.
    local lock=()
    [ -z "${BUILD_LOCK:-}" ] || lock=(flock "$BUILD_LOCK")
    "${lock[@]}" cargo install --quiet --root "$wb_root" wasm-bindgen-cli --version "=$wb_version"
  fi
  local npm_dir=$cache/npm
  WASM_OPT_JS=$npm_dir/node_modules/binaryen/bin/wasm-opt
  if [ ! -f "$WASM_OPT_JS" ] || [ "$(node -p "require('$npm_dir/node_modules/binaryen/package.json').version" 2>/dev/null)" != "${BINARYEN_VERSION:-132.0.0}" ]; then
    mkdir -p "$npm_dir"
    npm_install "$npm_dir" "binaryen@${BINARYEN_VERSION:-132.0.0}"
  fi
}

# npm_install DIR PACKAGE@VERSION: installs one npm package under DIR, retrying a registry
# hiccup twice; says what failed instead of exiting silently.
npm_install() {
  local dir=$1 pkg=$2 try
  # Node trusts only its own CA list; a registry reached through a TLS-inspecting proxy needs
  # the system's bundle too (curl and pip read it already).
  if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
  fi
  for try in 1 2 3; do
    npm install --no-audit --no-fund --loglevel=error --prefix "$dir" "$pkg" && return 0
    echo "npm install $pkg failed (attempt $try of 3)" >&2
    sleep $((try * 5))
  done
  echo "error: cannot install $pkg from the npm registry into $dir" >&2
  return 1
}

# The browser test's driver: npm playwright-core (no browser download; Debian's chromium is
# used), installed locally under the cache dir. Sets PLAYWRIGHT_DIR (its node_modules parent).
PLAYWRIGHT_VERSION=1.65.1
setup_playwright() {
  setup_node
  PLAYWRIGHT_DIR=${BALANCE_ALERT_CACHE:-$HOME/.cache/balance-alert}/npm
  if [ "$(node -p "require('$PLAYWRIGHT_DIR/node_modules/playwright-core/package.json').version" 2>/dev/null)" != "$PLAYWRIGHT_VERSION" ]; then
    mkdir -p "$PLAYWRIGHT_DIR"
    npm_install "$PLAYWRIGHT_DIR" "playwright-core@$PLAYWRIGHT_VERSION"
  fi
}

# The Python test tools in .venv at the repo root (created on first use; seconds when present).
MOTO_VERSION=5.2.5
CFN_LINT_VERSION=1.58.0
SAM_TRANSLATOR_VERSION=1.115.0
CARGO_LAMBDA_VERSION=1.9.2
setup_python() {
  [ -x .venv/bin/python ] || python3 -m venv .venv
  if ! .venv/bin/python -c "import importlib.metadata as m, sys; sys.exit(m.version('moto') != '$MOTO_VERSION' or m.version('cfn-lint') != '$CFN_LINT_VERSION' or m.version('aws-sam-translator') != '$SAM_TRANSLATOR_VERSION' or m.version('cargo-lambda') != '$CARGO_LAMBDA_VERSION')" 2>/dev/null \
     || [ ! -x .venv/bin/moto_server ]; then
    .venv/bin/pip install -q "moto[server]==$MOTO_VERSION" "cfn-lint==$CFN_LINT_VERSION" \
      "aws-sam-translator==$SAM_TRANSLATOR_VERSION" "cargo-lambda==$CARGO_LAMBDA_VERSION"
  fi
}

# The SAM CLI in its own venv (.venv-sam: its pins clash with moto's), for `sam build` and
# `sam validate --lint`. About a minute the first time, a second when present.
SAM_CLI_VERSION=1.170.0
setup_sam() {
  [ -x .venv-sam/bin/python ] || python3 -m venv .venv-sam
  if ! .venv-sam/bin/python -c "import importlib.metadata as m, sys; sys.exit(m.version('aws-sam-cli') != '$SAM_CLI_VERSION')" 2>/dev/null; then
    .venv-sam/bin/pip install -q "aws-sam-cli==$SAM_CLI_VERSION"
  fi
}

# sam [ARGS]: the SAM CLI, offline (no telemetry, no instance-metadata probe), with cargo-lambda
# and its zig from .venv on PATH (the rust-cargolambda build method runs `cargo lambda build`).
sam() {
  env SAM_CLI_TELEMETRY=0 AWS_EC2_METADATA_DISABLED=true AWS_REGION="${AWS_REGION:-us-east-1}" \
    PATH="$PWD/.venv/bin:$PATH" .venv-sam/bin/sam "$@"
}

# The functions' architecture for this machine (the template's Architecture parameter).
lambda_arch() {
  case "$(uname -m)" in
    aarch64 | arm64) echo arm64 ;;
    *) echo x86_64 ;;
  esac
}

# sam_build: `sam build` on template.yaml as shipped, for this machine's architecture, into
# .aws-sam/build/<Function>/bootstrap (what the serverless tests run). Cargo's target directory
# is $CARGO_TARGET_DIR, so the three builds share one compilation.
sam_build() {
  sam build --beta-features --no-cached --parameter-overrides "Architecture=$(lambda_arch)"
}

# free_port: prints a free loopback TCP port.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_http URL [TRIES]: waits until URL answers.
wait_http() {
  local url=$1 tries=${2:-100}
  for _ in $(seq "$tries"); do
    curl -sf -o /dev/null "$url" && return 0
    sleep 0.1
  done
  echo "timed out waiting for $url" >&2
  return 1
}

# Background processes started through start_bg are stopped by stop_bg (call it from an EXIT trap).
BG_PIDS=()
start_bg() { "$@" & BG_PIDS+=($!); }
stop_bg() { for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }

# start_moto PORT [LOG]: starts .venv's moto_server (DynamoDB and friends) on 127.0.0.1:PORT,
# serving one request at a time (see scripts/moto_server_serial.py), and waits until it answers
# (a cold start imports a lot of Python: up to 30 s).
start_moto() {
  start_bg .venv/bin/python scripts/moto_server_serial.py -H 127.0.0.1 -p "$1" >"${2:-/dev/null}" 2>&1
  wait_http "http://127.0.0.1:$1/moto-api/" 300
}

# start_fake BIN_DIR PORT [LOG]: starts the fake provider server on 127.0.0.1:PORT, waits for it.
start_fake() {
  start_bg "$1/fake-providers" --listen "127.0.0.1:$2" >"${3:-/dev/null}" 2>&1
  wait_http "http://127.0.0.1:$2/_health"
}

# bench_bin: sets BIN to the release binaries of balance-alert and the fake server: those in
# BENCH_BIN_DIR when set (built elsewhere, e.g. an older commit), else freshly built here.
bench_bin() {
  if [ -n "${BENCH_BIN_DIR:-}" ]; then
    BIN=$BENCH_BIN_DIR
  else
    cargo build --release --locked -p balance-alert -p fake-providers --bins
    BIN=$CARGO_TARGET_DIR/release
  fi
}
