#!/bin/sh
# Custom build step: compile the server statically, then build the image devloop asked for
# ($IMAGE) and push it when told to ($PUSH_IMAGE).
set -eu
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
gcc -Os -static -o "$out/teacher" server.c
cp Dockerfile "$out/Dockerfile"
docker build -q -t "$IMAGE" "$out"
if [ "$PUSH_IMAGE" = "true" ]; then
  docker push "$IMAGE"
fi
