#!/usr/bin/env bash
# The quick start, on a fresh Debian bookworm machine as root: installs what is needed, starts
# the local test ground (a real single-node Kubernetes with its own Docker engine and registry),
# builds kubectl-devloop, puts it on PATH for kubectl, and runs `kubectl devloop run` on the
# embedded example (examples/movies: three services built offline and deployed).
set -euo pipefail
cd "$(dirname "$0")/.."
ground=tests/cluster/ground

$ground setup
eval "$($ground up | grep '^export ')"

cargo build -p kubectl-devloop
bin_dir=$(cd "${CARGO_TARGET_DIR:-target}/debug" && pwd)
export PATH=$bin_dir:$PATH

echo "+ kubectl devloop version"
kubectl devloop version
echo "+ (cd examples/movies && kubectl devloop run)"
(cd examples/movies && kubectl devloop run)

cat <<EOT

The movies example is running on the test ground. To look at it and clean up:
  eval "\$(tests/cluster/ground env)"; export PATH=$bin_dir:\$PATH
  kubectl get deployments,pods
  (cd examples/movies && kubectl devloop dev)      # edit movie/VERSION and watch it rebuild
  (cd examples/movies && kubectl devloop delete)
  tests/cluster/ground down
EOT
