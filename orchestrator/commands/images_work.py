"""The work behind `evalfleet images`: build what a sweep needs, list, prune."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from rich.table import Table

from orchestrator.console import make_console

console = make_console()


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def _age(epoch: float) -> str:
    secs = max(0.0, time.time() - epoch)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs >= size:
            return f"{secs / size:.0f}{unit} ago"
    return f"{secs:.0f}s ago"


def build_images(config_path: Path, overrides: Sequence[str]) -> None:
    """Build every image of a sweep's items, instance by instance, with a progress line per image."""
    from orchestrator.config import load_config
    from orchestrator.execute import eval_settings
    from orchestrator.sweep import plan_sweep
    from workers.images import ensure_instance_image, plan_images

    config = load_config(config_path, overrides)
    plan = plan_sweep(config)
    options = eval_settings(config).images
    unique = {it.instance.instance_id: it for it in plan.items}
    needed = plan_images(((it.instance, it.spec, it.repo_source) for it in unique.values()), options)
    missing = [p for p in needed if not p.present]
    console.print(f"{len(unique)} instances need {len(needed)} images; {len(missing)} missing")
    t0 = time.monotonic()
    for n, it in enumerate(unique.values(), 1):
        ref = ensure_instance_image(it.instance, it.spec, it.repo_source, options)
        built = ", ".join(ref.built_layers) or "cached"
        console.print(
            f"[{n}/{len(unique)}] {it.instance.instance_id}: {ref.tag} ({built}, {ref.seconds:.1f} s)"
        )
    console.print(f"done in {time.monotonic() - t0:.1f} s")


def list_images_table() -> None:
    from workers.images import list_images

    images = list_images()
    table = Table(show_edge=False)
    for col in ("layer", "tag", "repo / instance", "size", "own", "last used", "in use"):
        table.add_column(col)
    for info in images:
        table.add_row(
            info.layer,
            info.tag,
            info.instance or info.repo or "",
            _size(info.size),
            _size(info.own_size),
            _age(info.last_used),
            "yes" if info.in_use else "",
        )
    console.print(table)
    console.print(f"{len(images)} images, {_size(sum(i.own_size for i in images))} in all")


def prune_images(*, max_age_days: float | None, budget: int | None, dry_run: bool) -> None:
    from orchestrator.errors import ConfigError
    from workers.images import prune

    if max_age_days is None and budget is None:
        raise ConfigError(
            "say what to prune", source="evalfleet images prune", fix="give --max-age-days and/or --budget"
        )
    removed = prune(
        max_age_s=max_age_days * 86400 if max_age_days is not None else None,
        disk_budget_bytes=budget,
        dry_run=dry_run,
    )
    verb = "would remove" if dry_run else "removed"
    for info in removed:
        console.print(f"{verb} {info.tag} ({_size(info.own_size)}, last used {_age(info.last_used)})")
    console.print(f"{verb} {len(removed)} images, {_size(sum(i.own_size for i in removed))}")
