# Makes the repository root importable when pytest is started as `pytest` (not `python -m pytest`).
