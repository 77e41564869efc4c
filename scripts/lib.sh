# Shared helpers for scripts/*.sh: stage timing and idempotent set-up.
# shellcheck shell=bash

SCRIPT_START=$(date +%s)
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
