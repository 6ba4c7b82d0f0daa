#!/usr/bin/env bash
# Make evalfleet's base images on this host, once: debootstrap (needs root) -> docker import -> base layer.
# Usage: sudo scripts/build-base-image.sh [NAME ...]   (names from workers/images/base.py; default bookworm)
# Env: PYTHON (interpreter with evalfleet's deps, default python3), EVALFLEET_APT_MIRROR (Debian mirror).
# Idempotent: an existing image is found in well under a second.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ "$#" -gt 0 ] || set -- bookworm
for name in "$@"; do
  PYTHONPATH=. "$PY" - "$name" <<'PYEOF'
import os
import sys

from workers.errors import ImageBuildError
from workers.images import ImageOptions, ensure_base_image

mirror = os.environ.get("EVALFLEET_APT_MIRROR")
options = ImageOptions(**({"apt_mirror": mirror} if mirror else {}))
try:
    ref = ensure_base_image(sys.argv[1], options)
except ImageBuildError as exc:
    sys.exit(f"build-base-image: {exc}")
print(f"{ref.tag} ({ref.source}, {ref.seconds:.1f}s)")
PYEOF
done
