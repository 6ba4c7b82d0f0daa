"""Fixtures for every test: result stores, and one S3 server per session, started only when asked for."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.s3server import WEED_MISSING, S3ServerError, SeaweedS3, find_weed, new_bucket_store

from orchestrator.store import FileStore, S3Store


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    """A SeaweedFS S3 server on loopback for the whole session, with boto3's AWS_* env pointed at it."""
    if find_weed() is None:
        pytest.skip(WEED_MISSING)
    server = SeaweedS3(tmp_path_factory.mktemp("seaweedfs"))
    saved = {k: os.environ.get(k) for k in server.env()}
    try:
        server.start()
    except S3ServerError as exc:
        pytest.fail(str(exc))
    os.environ.update(server.env())
    try:
        yield server
    finally:
        server.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture
def s3_store(s3_server: SeaweedS3) -> S3Store:
    """An S3Store on a fresh, empty bucket of the session's server."""
    return new_bucket_store(s3_server)


@pytest.fixture
def file_store(tmp_path: Path) -> FileStore:
    """A FileStore in a fresh temporary directory."""
    return FileStore(tmp_path / "store")
