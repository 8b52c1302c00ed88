#!/usr/bin/env bash
# The whole test suite, on a fresh Debian bookworm machine as root: installs what is needed,
# builds and starts the test ground, then runs formatting and lint checks, the unit tests, the
# end-to-end tests against the real ground and a short run of every fuzz target. A ground this
# script started is stopped at the end, and the host is checked to be exactly as it was before.
set -euo pipefail
cd "$(dirname "$0")/.."
ground=tests/cluster/ground
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

section() { printf '\n==> %s\n' "$*"; }

section "set-up: Debian packages, Kubernetes binaries (cached), helm and kubectl"
$ground setup
rustup component add rustfmt clippy
rustup target add wasm32-wasip2   # the WebAssembly plugins and their tests

started_here=false
if ! $ground is-up; then
  started_here=true
  tests/cluster/host-state > /tmp/devloop-host-state.before
fi
section "the test ground"
eval "$($ground up | grep '^export ')"

section "cargo fmt --check"
cargo fmt --all --check
section "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
section "cargo build"
cargo build --workspace --all-targets
section "cargo test (unit and end-to-end)"
status=0
cargo test --workspace --no-fail-fast || status=$?
section "fuzzing: a short run of every fuzz target (fuzz/)"
tests/fuzz.sh || status=1

if $started_here; then
  section "the test ground: down, and the host as it was"
  $ground down
  tests/cluster/host-state > /tmp/devloop-host-state.after
  if ! diff -u /tmp/devloop-host-state.before /tmp/devloop-host-state.after; then
    echo "FAIL: the host differs after 'ground down' (see the diff above)"
    status=1
  else
    echo "ok: the host is as it was before the ground came up"
  fi
fi
exit "$status"
