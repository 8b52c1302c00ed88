#!/usr/bin/env bash
# Rebuilds skaffold-schemas.tar.zst from a checkout of Skaffold's repository: the JSON schema
# of every apiVersion devloop reads (SUPPORTED_VERSIONS in host/src/config/upgrade.rs), taken
# unchanged from docs-v2/content/en/schemas/, in one tar (oldest first, no owners or times, so the
# same files give the same bytes) compressed as one zstd frame: the schemas of successive
# versions are nearly the same text, so together they compress to a few tens of kilobytes.
#
#   host/schemas/update.sh /path/to/skaffold
#
# Needs GNU tar and zstd. Record the Skaffold commit in README.md beside this script.
set -euo pipefail
skaffold=${1:?usage: $0 SKAFFOLD_CHECKOUT}
here=$(cd "$(dirname "$0")" && pwd)
src="$skaffold/docs-v2/content/en/schemas"
versions=$(sed -n '/^pub const SUPPORTED_VERSIONS/,/^];/p' "$here/../src/config/upgrade.rs" |
    grep -o '"skaffold/[^"]*"' | tr -d '"' | sed 's|^skaffold/||')
files=()
for v in $versions; do
    [ -f "$src/$v.json" ] || { echo "no schema for skaffold/$v in $src" >&2; exit 1; }
    files+=("$v.json")
done
tar --mtime=@0 --owner=0 --group=0 --numeric-owner --format=ustar \
    -C "$src" -cf - "${files[@]}" | zstd -19 -q -c > "$here/skaffold-schemas.tar.zst"
cp "$skaffold/LICENSE" "$here/LICENSE"
echo "wrote $here/skaffold-schemas.tar.zst (${#files[@]} schemas, $(wc -c < "$here/skaffold-schemas.tar.zst") bytes)"
