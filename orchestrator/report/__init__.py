"""Reports aggregated from storage: SWE-bench-compatible run reports and evalfleet's extended report."""
