"""Evaluation integrity: a candidate patch must not be able to fake its own verdict.

- ``policy``: the per-spec policy (``EnvSpec.integrity``): strict or permissive, allowed paths.
- ``diff`` / ``paths`` / ``sections``: read a patch, classify the paths it touches (test files,
  conftest.py, runner configuration, startup hooks, bytecode, shadowing modules).
- ``restore``: bring the test infrastructure back to the base commit after the candidate patch.
- ``detector``: static suspicion rules over the candidate patch.
- ``summaries`` / ``structured`` / ``evidence``: grading evidence the candidate cannot easily forge
  (the runner's own counts, a structured report written outside the repository).
- ``flags``: the stable wording of ``Result.flags`` and how to read a flag's kind back.

See docs/integrity.md.
"""
