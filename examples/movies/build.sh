#!/bin/sh
# Custom build step of one service (its directory is the first argument): compile the shared
# server statically with the service's name and version, then build the FROM-scratch image
# devloop asked for ($IMAGE) and push it when told to ($PUSH_IMAGE).
set -eu
service=$1
version=$(cat "$service/VERSION")
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
gcc -Os -static -DSERVICE="\"$service\"" -DVERSION="\"$version\"" -o "$out/server" server.c
printf 'FROM scratch\nCOPY server /server\nEXPOSE 8080\nENTRYPOINT ["/server"]\n' > "$out/Dockerfile"
docker build -q -t "$IMAGE" "$out" >/dev/null
if [ "${PUSH_IMAGE:-false}" = "true" ]; then
  docker push "$IMAGE" >/dev/null
fi
