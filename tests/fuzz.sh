#!/usr/bin/env bash
# The fuzz targets of fuzz/ (libFuzzer, coverage-guided), built on stable Rust with the
# sanitizer-coverage flags cargo-fuzz uses (`--sanitizer none`) and run each for a short
# bounded time from the committed seeds (fuzz/seeds/<target>) plus seeds made from Skaffold's
# conformance corpus (shared/conformance/skaffold, found above the repository, or at
# $DEVLOOP_CONFORMANCE_DIR). A crash, a panic, a broken invariant or a hang fails the run and
# leaves the input under <target dir>/fuzz/artifacts/<target>/.
#
#   tests/fuzz.sh [target...]      every target when none is named
#   FUZZ_SECONDS=600 tests/fuzz.sh config   a longer run of one target
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${FUZZ_SECONDS:-10}
out="${CARGO_TARGET_DIR:-$root/target}/fuzz"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(config template json_patch dockerignore sync_plan image_reference sync_tar)
fi

# The instrumentation applies to the fuzz targets and every crate they link, but not to build
# scripts and proc macros: those are built for the host without RUSTFLAGS because the target
# is named explicitly.
triple=$(rustc -vV | sed -n 's/^host: //p')
export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cllvm-args=-simplifycfg-branch-fold-threshold=0"
echo "==> cargo fmt --check of the fuzz crate (a workspace of its own)"
cargo fmt --manifest-path fuzz/Cargo.toml --check
echo "==> building the fuzz targets ($triple, release, coverage-instrumented)"
start=$SECONDS
# The fuzz crate builds with the versions the project's own lock file pins (copied, not
# kept beside it, so it never falls out of step); only libFuzzer's crates are added to it.
cp Cargo.lock fuzz/Cargo.lock
cargo build --manifest-path fuzz/Cargo.toml --release --target "$triple" \
  --target-dir "$out" $(printf -- '--bin %s ' "${targets[@]}")
echo "built in $((SECONDS - start)) s"
bin="$out/$triple/release"

conformance=${DEVLOOP_CONFORMANCE_DIR:-}
if [ -z "$conformance" ]; then
  dir=$root
  while [ "$dir" != / ]; do
    if [ -d "$dir/shared/conformance/skaffold" ]; then
      conformance=$dir/shared/conformance/skaffold
      break
    fi
    dir=$(dirname "$dir")
  done
fi

# One seed file per input, named by its checksum.
seed() { # dir, then the content on stdin
  local tmp
  tmp=$(mktemp "$1/.seed.XXXXXX")
  cat > "$tmp"
  mv "$tmp" "$1/$(cksum < "$tmp" | cut -d' ' -f1)"
}

# Seeds for one target from the conformance corpus (none when it is not there).
conformance_seeds() { # target, dir
  local target=$1 dir=$2 f
  [ -n "$conformance" ] || return 0
  case $target in
  config)
    find "$conformance" -type f \( -name '*.yaml' -o -name '*.yml' \) -size -64k |
      while IFS= read -r f; do seed "$dir" < "$f"; done ;;
  template)
    grep -rh '{{' "$conformance" --include='*.yaml' --include='*.yml' | sed 's/^[^:]*: *//' |
      sort -u | while IFS= read -r line; do printf '%s' "$line" | seed "$dir"; done ;;
  json_patch)
    find "$conformance" -type f -name '*.json' -size -64k | while IFS= read -r f; do
      { printf '['; cat "$f"; printf ',{"op":"add","path":"/devloop","value":[1]},{"op":"remove","path":"/devloop/0"}]'; } |
        seed "$dir"
    done ;;
  dockerignore)
    find "$conformance" -type f \( -name '.dockerignore' -o -name '*.dockerignore' -o -name '.helmignore' \) |
      while IFS= read -r f; do
        { cat "$f"; printf '\0'; (cd "$(dirname "$f")" && find . -type f | sed 's|^\./||' | head -50); } | seed "$dir"
      done ;;
  sync_plan)
    find "$conformance" -type f -name 'Dockerfile*' | while IFS= read -r f; do
      { cat "$f"; printf '\0**/*|/app|\nsrc/**|dest|src\n\0**\n\0'
        (cd "$(dirname "$f")" && find . -type f | sed 's|^\./||' | head -50); } | seed "$dir"
    done ;;
  image_reference)
    grep -rhoE '^\s*-?\s*image: *[^ ]+' "$conformance" --include='*.yaml' |
      sed -E 's/^\s*-?\s*image: *//; s/^"(.*)"$/\1/' | sort -u |
      while IFS= read -r image; do printf '%s' "$image" | seed "$dir"; done ;;
  sync_tar)
    find "$conformance/examples" -mindepth 1 -maxdepth 1 -type d | while IFS= read -r d; do
      (cd "$d" && find . -type f -size -2k | head -20 | while IFS= read -r f; do
        printf '/app/%s\n' "${f#./}"; head -c 200 "$f"; printf '\0'
      done) | seed "$dir"
    done ;;
  esac
}

status=0
for target in "${targets[@]}"; do
  corpus="$out/corpus/$target"          # what the runs learn; kept between runs
  from_conformance="$out/conformance/$target"
  artifacts="$out/artifacts/$target"
  mkdir -p "$corpus" "$artifacts"
  rm -rf "$from_conformance" && mkdir -p "$from_conformance"
  conformance_seeds "$target" "$from_conformance"
  echo "==> $target: ${seconds} s from $(ls fuzz/seeds/$target | wc -l) seeds and $(ls "$from_conformance" | wc -l) conformance inputs"
  if ! "$bin/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" \
    "$corpus" "fuzz/seeds/$target" "$from_conformance" 2> "$out/$target.log"; then
    tail -n 40 "$out/$target.log"
    echo "FAIL: fuzz target $target (the input is in $artifacts/)"
    status=1
  else
    grep -E '^stat::number_of_executed_units|^Done ' "$out/$target.log" | tail -n 2
  fi
done
exit "$status"
