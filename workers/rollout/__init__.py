"""Rollouts: an agent (scaffold) generates the patch a work item then evaluates (docs/rollouts.md)."""
