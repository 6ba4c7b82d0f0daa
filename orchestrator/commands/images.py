"""`evalfleet images build|list|prune`: the layered image cache (base -> env -> instance)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="Build, list and prune evalfleet's images (base -> env -> instance, tagged by content hash).",
    no_args_is_help=True,
)


@app.command("build")
def build(
    config: Annotated[Path, typer.Argument(help="Sweep config whose instances' images are built.")],
    set_: Annotated[
        list[str] | None, typer.Option("--set", "-s", help="Config override KEY.PATH=VALUE.")
    ] = None,
) -> None:
    """Build every image a sweep needs (before the sweep, e.g. on each node)."""
    from orchestrator.commands.images_work import build_images

    build_images(config, set_ or [])


@app.command("list")
def list_() -> None:
    """List evalfleet images with layer, size and last use."""
    from orchestrator.commands.images_work import list_images_table

    list_images_table()


def _parse_size(text: str) -> int:
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
    t = text.strip().lower().removesuffix("b").removesuffix("i")
    if t and t[-1] in units:
        return int(float(t[:-1]) * units[t[-1]])
    return int(t)


@app.command("prune")
def prune(
    max_age_days: Annotated[
        float | None, typer.Option("--max-age-days", help="Remove images not used for this many days.")
    ] = None,
    budget: Annotated[
        str | None,
        typer.Option("--budget", help="Keep total image size under this (e.g. 50G), oldest use first."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be removed.")] = False,
) -> None:
    """Remove images by age and/or to a disk budget (least recently used first); images in use are kept."""
    from orchestrator.commands.images_work import prune_images

    prune_images(max_age_days=max_age_days, budget=_parse_size(budget) if budget else None, dry_run=dry_run)
