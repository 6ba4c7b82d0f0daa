#!/usr/bin/env bash
# Build the evalfleet image for Kubernetes (k8s/image/Dockerfile) on the evalfleet base image.
#
#   k8s/image/build.sh [TAG]          default TAG: evalfleet/ray:<version in pyproject.toml>
#
# Environment: PYTHON (default .venv/bin/python: the project's virtualenv), BASE_IMAGE (default: the
# bookworm base, made when missing, as `make demo` would), EXTRAS (evalfleet extras, default hf),
# WITH_ROOTFS=1 (ship the cached debootstrapped rootfs tarballs), PUSH=1 (docker push TAG after).
# The site's CA bundle and pip index settings are taken from this host (see k8s/image/context.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-.venv/bin/python}
version=$("$PY" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
tag=${1:-evalfleet/ray:$version}
base=${BASE_IMAGE:-$("$PY" -c '
from orchestrator.logs import configure
configure(None)
from workers.images import ImageOptions, ensure_base_image
print(ensure_base_image("bookworm", ImageOptions()).tag)')}

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
args=(--build-arg "BASE_IMAGE=$base")
while IFS= read -r arg; do
  args+=(--build-arg "$arg")
done < <("$PY" k8s/image/context.py "$ctx" --extras "${EXTRAS-hf}" ${WITH_ROOTFS:+--with-rootfs})

echo "building $tag from $base" >&2
docker build -t "$tag" "${args[@]}" "$ctx"
if [ -n "${PUSH:-}" ]; then
  docker push "$tag"
fi
