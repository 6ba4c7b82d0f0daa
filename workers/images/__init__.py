"""Layered images: rootfs -> base -> env -> instance, tagged by content hash, built once under locks.

See docs/images.md. Nothing here imports ``docker`` until an image is actually needed.
"""

from workers.images.base import BASE_CATALOG, BaseImage
from workers.images.build import LayerBuildError
from workers.images.ensure import ImageRef, ensure_base_image, ensure_instance_image
from workers.images.layer_plan import PlannedImage, plan_images
from workers.images.layers import LayerPlan, build_chain
from workers.images.locks import EnsureResult
from workers.images.manage import ImageInfo, list_images, prune
from workers.images.options import ImageOptions
from workers.images.pull import pull_ref, swebench_image_name
from workers.images.state import BuildRecord, build_history

__all__ = [
    "BASE_CATALOG",
    "BaseImage",
    "BuildRecord",
    "EnsureResult",
    "ImageInfo",
    "ImageOptions",
    "ImageRef",
    "LayerBuildError",
    "LayerPlan",
    "PlannedImage",
    "build_chain",
    "build_history",
    "ensure_base_image",
    "ensure_instance_image",
    "list_images",
    "plan_images",
    "prune",
    "pull_ref",
    "swebench_image_name",
]
