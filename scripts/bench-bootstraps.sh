#!/usr/bin/env bash
# The functions' bootstraps: size, size zipped (`zip -9`, as Lambda takes them) and init time,
# i.e. from spawn until the bootstrap asks the Lambda Runtime API for its first event
# (`GET /2018-06-01/runtime/invocation/next`), measured against a fake Runtime API on loopback
# (scripts/bench_bootstrap_init.py) that records when that request arrives. Nothing else
# answers: AWS_ENDPOINT_URL points at the same fake, so a bootstrap that reads its table or a
# secret before asking for an event fails instead of being timed. Figures go in
# docs/benchmarks.md ("The functions' bootstraps").
# Usage: ./scripts/bench-bootstraps.sh            builds (cargo lambda build --release, timed),
#                                                 then sizes and init (median of BENCH_SPAWNS=20)
#        ./scripts/bench-bootstraps.sh --arm64    builds for arm64: sizes only (no arm64 here)
#        ./scripts/bench-bootstraps.sh --check DIR
#            sizes of the bootstraps in DIR (`sam build`'s .aws-sam/build, or target/lambda);
#            fails when one zips to more than BOOTSTRAP_ZIP_LIMIT bytes (default: the goal,
#            3,000,000; ./scripts/test.sh sets the guard the bootstraps meet today)
# BENCH_FUNCTIONS_DIR: measure the bootstraps there instead of building.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
FUNCTIONS=(checker api notifier)
LIMIT=${BOOTSTRAP_ZIP_LIMIT:-3000000}

mode=bench arch=x86_64 dir=${BENCH_FUNCTIONS_DIR:-}
case "${1:-}" in
  --arm64) arch=arm64 ;;
  --check) mode=check dir=${2:?--check needs the directory of the bootstraps} ;;
  "") ;;
  *) echo "usage: $0 [--arm64 | --check DIR]" >&2; exit 2 ;;
esac

if [ -z "$dir" ]; then
  flags=(--release)
  [ "$arch" = x86_64 ] || flags+=(--arm64)
  t0=$(date +%s)
  PATH="$PWD/.venv/bin:$PATH" cargo lambda build "${flags[@]}" --locked \
    "${FUNCTIONS[@]/#/--package=}"
  echo "build: $(( $(date +%s) - t0 )) s (cargo lambda build ${flags[*]})"
  dir=$CARGO_TARGET_DIR/lambda
fi

# bootstrap NAME: its path in $dir, as `sam build` (<Name>Function/bootstrap) or
# `cargo lambda build` (<name>/bootstrap) lays it out.
bootstrap() {
  local sam="$dir/${1^}Function/bootstrap"
  if [ -f "$sam" ]; then echo "$sam"; else echo "$dir/$1/bootstrap"; fi
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
over=0
printf '%-9s %12s %12s\n' function bootstrap zipped
for f in "${FUNCTIONS[@]}"; do
  bin=$(bootstrap "$f")
  [ -f "$bin" ] || { echo "$bin is missing" >&2; exit 1; }
  cp "$bin" "$work/bootstrap"
  (cd "$work" && rm -f "$f.zip" && zip -q -9 "$f.zip" bootstrap)
  size=$(stat -c %s "$bin") zipped=$(stat -c %s "$work/$f.zip")
  printf '%-9s %12d %12d\n' "$f" "$size" "$zipped"
  if [ "$zipped" -gt "$LIMIT" ]; then
    echo "$f: $bin zips to $zipped bytes, over $LIMIT (BOOTSTRAP_ZIP_LIMIT); see docs/benchmarks.md \"The functions' bootstraps\" for what takes the space" >&2
    over=1
  fi
done
[ "$mode" = check ] && exit "$over"
if [ "$arch" = x86_64 ]; then
  args=()
  for f in "${FUNCTIONS[@]}"; do args+=("$f=$(bootstrap "$f")"); done
  python3 scripts/bench_bootstrap_init.py --spawns "${BENCH_SPAWNS:-20}" "${args[@]}"
fi
