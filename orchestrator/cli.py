"""`evalfleet`: the command line. Heavy modules are imported inside commands, so --help starts fast."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from orchestrator.commands import images as images_cmd
from workers.errors import UserInputError

app = typer.Typer(
    name="evalfleet",
    help=(
        "Distributed evaluation of coding-model candidates (SWE-bench compatible).\n\n"
        "A sweep is one config file: a dataset, runs of candidate patches, and how to execute them. "
        "Results are committed to a store (file:// or s3://) the moment they exist, so any sweep can resume."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(images_cmd.app, name="images")

SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", "-s", help="Override a config value: KEY.PATH=VALUE (repeatable), e.g. repeats=3."),
]
StoreOpt = Annotated[
    str | None, typer.Option("--store", help="Result store URL (file://DIR or s3://BUCKET/PREFIX).")
]
FlaggedOpt = Annotated[
    bool | None,
    typer.Option(
        "--flagged-as-unresolved/--no-flagged-as-unresolved",
        help="Headline counts hardened verdicts (integrity-flagged results unresolved) or official "
        "ones (default: the sweep's execution.flagged_as_unresolved).",
    ),
]


@app.command()
def run(
    config: Annotated[Path, typer.Argument(help="Sweep config (YAML), e.g. configs/demo.yaml.")],
    set_: SetOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan; run nothing.")] = False,
    resume: Annotated[
        str | None, typer.Option("--resume", help="Continue sweep SWEEP: plan only uncommitted items.")
    ] = None,
    run_id: Annotated[
        str | None,
        typer.Option(
            "--run-id",
            help="One run of a series: the sweep is NAME-RUN_ID (a scheduled run passes its schedule time; "
            "the same run id continues that sweep).",
        ),
    ] = None,
) -> None:
    """Run a sweep from a config file (the main job; `make demo` runs configs/demo.yaml)."""
    from orchestrator.commands.run import run_command

    run_command(config, set_ or [], dry_run=dry_run, resume=resume, run_id=run_id)


@app.command(name="eval")
def eval_(
    dataset: Annotated[
        str, typer.Option("--dataset", "-d", help="Dataset file (.json/.jsonl/.parquet) or HF name.")
    ],
    predictions: Annotated[
        Path, typer.Option("--predictions", "-p", help="Predictions (JSON list/dict or JSONL).")
    ],
    split: Annotated[str, typer.Option(help="Split, for a Hugging Face dataset.")] = "test",
    run_id: Annotated[
        str, typer.Option("--run-id", help="Name of this evaluation (SWE-bench's run_id).")
    ] = "eval",
    instance_ids: Annotated[
        list[str] | None, typer.Option("--instance-id", "-i", help="Only these instances (repeatable).")
    ] = None,
    repo: Annotated[
        list[str] | None,
        typer.Option("--repo", help="Local source of a repository: NAME=PATH|BUNDLE (repeatable)."),
    ] = None,
    specs: Annotated[list[str] | None, typer.Option("--specs", help="Spec directory (repeatable).")] = None,
    store: StoreOpt = None,
    set_: SetOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate inputs and print the plan; run nothing.")
    ] = False,
) -> None:
    """Evaluate predictions on a dataset: a drop-in for the official harness's run_evaluation."""
    from orchestrator.commands.run import eval_command

    eval_command(
        dataset=dataset,
        predictions=predictions,
        split=split,
        run_id=run_id,
        instance_ids=instance_ids or [],
        repos=repo or [],
        specs=specs or [],
        store=store,
        overrides=set_ or [],
        dry_run=dry_run,
    )


@app.command()
def status(
    sweep: Annotated[str, typer.Argument(help="Sweep id.")],
    store: StoreOpt = None,
) -> None:
    """Show how far a sweep got: planned, committed, verdict tallies."""
    from orchestrator.commands.status import status_command

    status_command(sweep, store)


@app.command()
def report(
    sweep: Annotated[str, typer.Argument(help="Sweep id.")],
    store: StoreOpt = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Also write report.html to this local file.")
    ] = None,
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", min=100, help="Bootstrap resamples for the intervals (fixed seed).")
    ] = 2000,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the bootstrap (reports are reproducible).")
    ] = 0,
    external: Annotated[
        list[Path] | None,
        typer.Option(
            "--external",
            help="A run evaluated elsewhere, compared with the sweep's runs on instance ids: an official "
            "run report ({model}.{run_id}.json) or a results file with a 'resolved' list (repeatable).",
        ),
    ] = None,
    flagged_as_unresolved: FlaggedOpt = None,
) -> None:
    """Aggregate a sweep's results from storage: run reports (SWE-bench compatible), report.json with
    intervals and paired comparisons, and a self-contained report.html."""
    from orchestrator.commands.report import report_command
    from orchestrator.report.stats import StatsSettings

    report_command(
        sweep,
        store,
        out=out,
        settings=StatsSettings(bootstrap=bootstrap, seed=seed),
        external=external or [],
        flagged_as_unresolved=flagged_as_unresolved,
    )


@app.command()
def compare(
    a: Annotated[
        str,
        typer.Argument(
            help="First run (A, the baseline): SWEEP:RUN (or SWEEP with one run), or a JSON file of a run "
            "evaluated elsewhere (official run report, or results file with a 'resolved' list)."
        ),
    ],
    b: Annotated[str, typer.Argument(help="Second run (B): SWEEP:RUN or a JSON file, as A.")],
    store: StoreOpt = None,
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", min=100, help="Bootstrap resamples for the intervals (fixed seed).")
    ] = 2000,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the bootstrap (reports are reproducible).")
    ] = 0,
    flagged_as_unresolved: FlaggedOpt = None,
) -> None:
    """Compare two runs on their common instances: B - A with a paired bootstrap interval, McNemar's exact
    test; with the same patches in both (a re-evaluation), the instances and tests that changed."""
    from orchestrator.commands.report import compare_command
    from orchestrator.report.stats import StatsSettings

    compare_command(a, b, store, StatsSettings(bootstrap=bootstrap, seed=seed), flagged_as_unresolved)


@app.command()
def trend(
    series: Annotated[
        str, typer.Argument(help="Series: the config 'name' shared by the sweeps (e.g. scheduled re-runs).")
    ],
    store: StoreOpt = None,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write a self-contained HTML page with a chart here.")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the numbers, flips and rot as JSON here.")
    ] = None,
) -> None:
    """A series of sweeps over time (every sweep whose config name is SERIES, oldest first): the resolve
    rate of each run per sweep with Wilson intervals, verdicts that flipped between consecutive sweeps, and
    environment rot (a gold or previously stable instance that stopped resolving)."""
    from orchestrator.commands.trend import trend_command

    trend_command(series, store, html=html, json_out=json_out)


@app.command()
def regrade(
    sweep: Annotated[str | None, typer.Argument(help="Sweep id to re-grade from its stored logs.")] = None,
    dataset: Annotated[str | None, typer.Option("--dataset", help="Dataset, to grade external logs.")] = None,
    logs: Annotated[
        Path | None,
        typer.Option("--logs", help="Directory of external logs: DIR/<instance_id>/test_output.txt."),
    ] = None,
    specs: Annotated[list[str] | None, typer.Option("--specs", help="Spec directory (repeatable).")] = None,
    store: StoreOpt = None,
) -> None:
    """Re-grade test logs without containers: a sweep's stored logs, or external logs (--dataset --logs)."""
    from orchestrator.commands.regrade import regrade_command

    regrade_command(sweep, dataset=dataset, logs=logs, specs=specs or [], store=store)


@app.command()
def validate(
    target: Annotated[
        str, typer.Argument(help="Sweep config (YAML), or a dataset (.json/.jsonl/.parquet file or HF name).")
    ],
    repeats: Annotated[int, typer.Option("--repeats", "-n", min=2, help="Evaluations per instance.")] = 5,
    gold: Annotated[bool, typer.Option("--gold/--no-gold", help="Run the gold patches.")] = True,
    empty: Annotated[
        bool,
        typer.Option("--empty/--no-empty", help="Also run a baseline: the unchanged code with the tests."),
    ] = False,
    repo: Annotated[
        list[str] | None,
        typer.Option("--repo", help="Local source of a repository: NAME=PATH|BUNDLE (repeatable)."),
    ] = None,
    specs: Annotated[list[str] | None, typer.Option("--specs", help="Spec directory (repeatable).")] = None,
    split: Annotated[str, typer.Option(help="Split, for a Hugging Face dataset.")] = "test",
    exclude_out: Annotated[
        Path,
        typer.Option("--exclude-out", help="Where to write the exclusion list (one instance id a line)."),
    ] = Path("flaky-exclude.txt"),
    store: StoreOpt = None,
    set_: SetOpt = None,
) -> None:
    """Run gold (and baseline) patches N times; report instances and tests whose outcome varies, write
    reports/flaky.json and an exclusion list for `dataset.exclude_file`."""
    from orchestrator.commands.validate import ValidateOptions, validate_command

    options = ValidateOptions(
        repeats=repeats,
        gold=gold,
        baseline=empty,
        repos=repo or [],
        specs=specs or [],
        split=split,
        store=store,
        overrides=set_ or [],
        exclude_out=exclude_out,
    )
    validate_command(target, options)


@app.command()
def clean(
    sweep: Annotated[str | None, typer.Option("--sweep", help="Only this sweep's sandboxes.")] = None,
    older_than: Annotated[
        str | None, typer.Option("--older-than", help="Only sandboxes older than this (90s, 30m, 2h, 1d).")
    ] = None,
    ray_address: Annotated[
        str | None,
        typer.Option("--ray-address", help="Clean every node of this Ray cluster (default: this host)."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Also sandboxes whose owner still runs (a live sweep's).")
    ] = False,
) -> None:
    """Remove sandboxes left by drivers or workers that died: those whose owner process is gone or whose
    lifetime ran out (their labels say both), on this host or on every node of a Ray cluster."""
    from orchestrator.commands.clean import clean_command

    clean_command(sweep=sweep, older_than=older_than, ray_address=ray_address, force=force)


def main() -> None:
    """Entry point: user mistakes print one line and exit 2; a sweep that could not finish prints one line
    per cause and exits 3; anything else prints one line and exits 1. Never a traceback on the console:
    tracebacks go to the log file (.evalfleet/logs/)."""
    from orchestrator.errors import SweepFailure

    try:
        app()
    except UserInputError as exc:
        print(f"evalfleet: error: {exc.one_line()}", file=sys.stderr)
        raise SystemExit(exc.exit_code) from None
    except SweepFailure as exc:
        for line in exc.lines():
            print(f"evalfleet: error: {line}" if not line.startswith(" ") else line, file=sys.stderr)
        raise SystemExit(exc.exit_code) from None
    except KeyboardInterrupt:
        print("evalfleet: interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    except Exception as exc:
        print(f"evalfleet: error: {_crash(exc)}", file=sys.stderr)
        raise SystemExit(1) from None


def _crash(exc: Exception) -> str:
    """One line for an unexpected error; its traceback goes to .evalfleet/logs/evalfleet-crash.log."""
    import time
    import traceback

    from orchestrator.errors import describe_failure

    path = Path(".evalfleet/logs/evalfleet-crash.log")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')} {' '.join(sys.argv)}\n")
            fh.write("".join(traceback.format_exception(exc)))
        where = f" (traceback: {path})"
    except OSError:
        where = ""
    return f"{describe_failure(exc)}{where}"


if __name__ == "__main__":
    main()
