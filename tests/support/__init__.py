"""Helpers the tests share: local services they start and stop themselves."""
