#!/usr/bin/env bash
# The quick start, on a fresh Debian bookworm machine as root: installs what is needed, starts
# the local test ground (a real single-node Kubernetes with its own Docker engine and registry),
# builds kubectl-devloop, puts it on PATH for kubectl, and runs it on the embedded example.
set -euo pipefail
cd "$(dirname "$0")/.."
ground=tests/cluster/ground

$ground setup
eval "$($ground up | grep '^export ')"

cargo build --release -p kubectl-devloop
bin_dir=$(cd "${CARGO_TARGET_DIR:-target}/release" && pwd)
export PATH=$bin_dir:$PATH

echo "+ kubectl devloop version"
kubectl devloop version
