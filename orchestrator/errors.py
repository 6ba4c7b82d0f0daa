"""Exceptions of the control plane for bad user input: each is shown as one line, exit code 2."""

from __future__ import annotations

from workers.errors import UserInputError


class ConfigError(UserInputError):
    """A sweep config (YAML file or ``--set`` override) is invalid."""


class DatasetError(UserInputError):
    """A dataset file, or one of its rows, is invalid."""


class PredictionsError(UserInputError):
    """A predictions file, or one of its predictions, is invalid."""
