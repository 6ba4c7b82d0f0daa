"""Images named rather than built: a v5 row's ``image``, or ``pull_template`` expanded for the instance."""

from __future__ import annotations

import threading
import time
from typing import Any

import structlog

from workers.images.locks import EnsureResult, tag_lock
from workers.images.options import ImageOptions, lock_dir, state_dir
from workers.images.pull import local_image_id, pull_ref, try_pull
from workers.images.state import touch
from workers.models import Instance

log = structlog.get_logger(__name__)

PULL_RETRY_AFTER_S = 300.0
_failed_pulls: dict[str, float] = {}  # ref -> when its pull failed in this process: not retried for a while
_failed_guard = threading.Lock()


def prebuilt_ref(instance: Instance, options: ImageOptions) -> str | None:
    """The image an instance names (its own ``image`` first, then the pull template), or None."""
    if instance.image:
        return instance.image
    if options.pull_template:
        return pull_ref(options.pull_template, instance.instance_id)
    return None


def ensure_prebuilt(client: Any, ref: str, options: ImageOptions) -> EnsureResult | None:
    """The local or pulled image ``ref``; None when it is neither local nor pullable."""
    image_id = local_image_id(client, ref)
    if image_id:
        touch(state_dir(options), ref, image_id)
        return EnsureResult(layer="prebuilt", tag=ref, image_id=image_id, built=False)
    with _failed_guard:
        if not options.pull_prebuilt or time.monotonic() - _failed_pulls.get(ref, -1e9) < PULL_RETRY_AFTER_S:
            return None
    with tag_lock(ref, lock_dir(options), options.pull_timeout_s + 60) as waited:
        t0 = time.monotonic()
        image_id = local_image_id(client, ref) or try_pull(client, ref, timeout_s=options.pull_timeout_s)
        if not image_id:
            with _failed_guard:
                _failed_pulls[ref] = time.monotonic()
            return None
    touch(state_dir(options), ref, image_id)
    return EnsureResult(
        layer="prebuilt",
        tag=ref,
        image_id=image_id,
        built=True,
        waited_s=waited,
        build_s=time.monotonic() - t0,
    )
