"""Data plane of evalfleet: what runs inside Ray workers on every node.

Nothing here imports ``orchestrator``; the control plane imports us.
"""

HARNESS_VERSION = "evalfleet-0.1.0"
