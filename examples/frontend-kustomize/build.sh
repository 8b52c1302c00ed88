#!/bin/sh
# Custom build step: compile the program of the artifact's directory (the build context)
# statically and build the FROM-scratch image devloop asked for ($IMAGE); push it when told to.
set -eu
name=$(basename "$BUILD_CONTEXT")
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
gcc -Os -static -o "$out/$name" "$BUILD_CONTEXT/$name.c"
printf 'FROM scratch\nCOPY %s /%s\nENTRYPOINT ["/%s"]\n' "$name" "$name" "$name" > "$out/Dockerfile"
docker build -q -t "$IMAGE" "$out" >/dev/null
if [ "${PUSH_IMAGE:-false}" = "true" ]; then
  docker push "$IMAGE" >/dev/null
fi
