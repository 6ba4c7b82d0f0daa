"""evalfleet's performance benchmarks: ``python -m bench all`` (``make bench``) measures every figure of
BENCHMARKS.md; see ``python -m bench --help`` for one benchmark at a time. Not part of the package."""
