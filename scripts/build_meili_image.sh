#!/usr/bin/env bash
# Build the local image noziri/meilisearch:1.21.0 from the installed, checksum-verified binary.
# FROM scratch: the binary plus the libraries ldd lists. Nothing is pulled from any registry.
# Usage: bash scripts/build_meili_image.sh [TAG]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

TAG="${1:-noziri/meilisearch:1.21.0}"

# Copy one file into the build context at the same absolute path, following symlinks.
copy_into_rootfs() {
    local source="$1" rootfs="$2"
    mkdir -p "$rootfs$(dirname "$source")"
    cp -L "$source" "$rootfs$source"
}

# List the absolute paths of the shared libraries (and loader) a binary needs.
shared_libraries() {
    ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
}

command -v docker >/dev/null || { echo "error: docker is not installed (apt-get install -y docker.io)" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "error: no Docker engine answers: start dockerd first (see .ci/run)" >&2; exit 1; }
ensure_venv
binary="$("$PY" -m search_platform.install --print-path)"

context="$(mktemp -d)"
trap 'rm -rf "$context"' EXIT
cp docker/meilisearch/Dockerfile "$context/"
mkdir -p "$context/rootfs/bin" "$context/rootfs/meili_data" "$context/rootfs/tmp"
chmod 1777 "$context/rootfs/tmp"
cp -L "$binary" "$context/rootfs/bin/meilisearch"
chmod 755 "$context/rootfs/bin/meilisearch"
while read -r library; do
    copy_into_rootfs "$library" "$context/rootfs"
done < <(shared_libraries "$binary")

say "docker build -t $TAG (binary: $binary)"
DOCKER_BUILDKIT=0 docker build --quiet --pull=false -t "$TAG" "$context" >/dev/null
docker run --rm --network none "$TAG" --version
say "built $TAG"
